//! The emulator's data: one `BTreeMap` of JSON rows per model, keyed by id (so a search in id
//! order is a range scan), and the index partner → its `g2p.reg.id` rows.
//!
//! Rows hold stored values only: a many2one as the related id, never `null` (an empty value is
//! absent or `false`); `id`, `display_name` and `reg_ids` are computed when read.

use super::clock::Stamper;
use super::schema::{Fault, Kind, Model};
use super::validation::Validators;
use omc_core::memory::RegistrantSeed;
use omc_core::time::Clock;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

mod rules;

use rules::TWIN;

pub(crate) type Row = Map<String, Value>;

#[derive(Debug, Default, Clone)]
pub(crate) struct Store {
    tables: [BTreeMap<i64, Row>; 3],
    next_ids: [i64; 3],
    by_partner: HashMap<i64, BTreeSet<i64>>,
    /// `g2p.reg.id` ids by value, as PostgreSQL's index on `g2p_reg_id.value` would find them.
    by_value: HashMap<String, BTreeSet<i64>>,
    validators: Validators,
    extra_partner_fields: BTreeSet<String>,
    stamper: Stamper,
    /// `g2p.reg.id` rows the running call does not see when it checks OpenG2P's one id per
    /// type: those of transactions overlapping it (empty but for held creates).
    pub(crate) unseen: BTreeSet<i64>,
}

impl Store {
    /// An empty store stamping rows from `clock`.
    pub(crate) fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            stamper: Stamper::new(clock),
            ..Self::default()
        }
    }

    /// Begins a transaction: every row written until the next one gets its stamp (Odoo stamps
    /// `write_date` with the transaction's start).
    pub(crate) fn begin(&mut self) {
        self.stamper.begin();
    }

    pub(crate) fn table(&self, model: Model) -> &BTreeMap<i64, Row> {
        &self.tables[model.index()]
    }

    pub(crate) fn row(&self, model: Model, id: i64) -> Option<&Row> {
        self.table(model).get(&id)
    }

    /// The kind of a field, or `None` when the model has no such field.
    pub(crate) fn kind(&self, model: Model, field: &str) -> Option<Kind> {
        let known = model.fields().iter().find(|(name, _)| *name == field);
        match known {
            Some((_, kind)) => Some(*kind),
            None if model == Model::Partner && self.extra_partner_fields.contains(field) => {
                Some(Kind::Char)
            }
            None => None,
        }
    }

    /// Every field of a model (for a read without a field list).
    pub(crate) fn all_fields(&self, model: Model) -> Vec<String> {
        let mut fields: Vec<String> = model
            .fields()
            .iter()
            .map(|(f, _)| (*f).to_owned())
            .collect();
        if model == Model::Partner {
            fields.extend(self.extra_partner_fields.iter().cloned());
        }
        fields
    }

    pub(crate) fn reg_ids_of(&self, partner: i64) -> impl Iterator<Item = i64> + '_ {
        self.by_partner.get(&partner).into_iter().flatten().copied()
    }

    /// The `g2p.reg.id` ids holding `value` (of any type).
    pub(crate) fn reg_ids_with_value(&self, value: &str) -> impl Iterator<Item = i64> + '_ {
        self.by_value.get(value).into_iter().flatten().copied()
    }

    fn index(&mut self, reg_id: i64, row: &Row) {
        if let Some(partner) = many2one_id(row.get("partner_id")) {
            self.by_partner.entry(partner).or_default().insert(reg_id);
        }
        if let Some(value) = row.get("value").and_then(Value::as_str) {
            self.by_value
                .entry(value.to_owned())
                .or_default()
                .insert(reg_id);
        }
    }

    /// The id of the `g2p.id.type` named `name`.
    pub(crate) fn id_type_named(&self, name: &str) -> Option<i64> {
        self.table(Model::IdType)
            .iter()
            .find(|(_, row)| row.get("name").and_then(Value::as_str) == Some(name))
            .map(|(id, _)| *id)
    }

    /// The display name of a record (`[id, display name]` of a many2one).
    pub(crate) fn display_name(&self, model: Model, id: i64) -> Value {
        let Some(row) = self.row(model, id) else {
            return Value::Bool(false);
        };
        match model {
            Model::RegId => {
                let type_name = many2one_id(row.get("id_type"))
                    .map(|t| self.display_name(Model::IdType, t))
                    .unwrap_or(Value::Bool(false));
                match type_name {
                    Value::String(name) => Value::String(name),
                    _ => Value::Bool(false),
                }
            }
            _ => match row.get("name") {
                Some(Value::String(name)) => Value::String(name.clone()),
                _ => Value::Bool(false),
            },
        }
    }

    /// Adds an id type (at start-up), with its `id_validation` pattern.
    pub(crate) fn add_id_type(&mut self, name: &str, validation: Option<&str>) {
        let mut row = Row::new();
        row.insert("name".into(), json!(name));
        row.insert(
            "id_validation".into(),
            validation.map_or(Value::Bool(false), |p| json!(p)),
        );
        self.stamper.stamp(&mut row, true);
        let id = self.allocate(Model::IdType);
        self.validators.set(id, validation);
        self.tables[Model::IdType.index()].insert(id, row);
    }

    fn allocate(&mut self, model: Model) -> i64 {
        let next = &mut self.next_ids[model.index()];
        *next = (*next).max(1);
        let id = *next;
        *next += 1;
        id
    }

    /// Seeds a registrant (replacing one with the same id) with its VID and token rows, without
    /// applying the registry's rules: seeds may hold what OpenG2P's rules would now refuse.
    pub(crate) fn seed(
        &mut self,
        seed: RegistrantSeed,
        vid_type: Option<i64>,
        token_type: Option<i64>,
    ) {
        let id = seed.id.0;
        if self.row(Model::Partner, id).is_some() {
            self.unlink_partners(&[id]);
        }
        let mut row = Row::new();
        row.insert("active".into(), Value::Bool(true));
        for (field, value) in seed.fields.into_inner() {
            if field == "id" || field == "reg_ids" {
                continue;
            }
            if self.kind(Model::Partner, &field).is_none() {
                self.extra_partner_fields.insert(field.clone());
            }
            row.insert(
                field,
                if value.is_null() {
                    Value::Bool(false)
                } else {
                    value
                },
            );
        }
        self.stamper.stamp(&mut row, true);
        stored_defaults(&mut row);
        self.tables[Model::Partner.index()].insert(id, row);
        let next = &mut self.next_ids[Model::Partner.index()];
        *next = (*next).max(id + 1);
        let ids = [
            (vid_type, seed.vid.map(|v| v.into_inner())),
            (token_type, seed.token.map(|t| t.into_inner())),
        ];
        for (type_id, value) in ids {
            if let (Some(type_id), Some(value)) = (type_id, value) {
                let mut reg = Row::new();
                reg.insert("partner_id".into(), json!(id));
                reg.insert("id_type".into(), json!(type_id));
                reg.insert("value".into(), json!(value));
                reg.insert("status".into(), json!("valid"));
                self.stamper.stamp(&mut reg, true);
                self.insert(Model::RegId, reg);
            }
        }
    }

    fn insert(&mut self, model: Model, row: Row) -> i64 {
        let id = self.allocate(model);
        if model == Model::RegId {
            self.index(id, &row);
        }
        self.tables[model.index()].insert(id, row);
        id
    }

    /// Creates one record, enforcing Odoo's and OpenG2P's rules.
    pub(crate) fn create(&mut self, model: Model, vals: &Map<String, Value>) -> Result<i64, Fault> {
        let created = self.create_all(model, &[vals])?;
        created
            .first()
            .copied()
            .ok_or_else(|| Fault::exception("nothing was created"))
    }

    /// Creates every record or none (one call is one transaction in Odoo), checking the
    /// values once all are created, as Odoo runs the constraints of a batch.
    pub(crate) fn create_all(
        &mut self,
        model: Model,
        vals: &[&Map<String, Value>],
    ) -> Result<Vec<i64>, Fault> {
        let mut created = Vec::with_capacity(vals.len());
        for v in vals {
            match self.create_one(model, v) {
                Ok(id) => created.push(id),
                Err(fault) => {
                    self.discard(model, &created);
                    return Err(fault);
                }
            }
        }
        if let Err(fault) = self.check_values(model, &created) {
            self.discard(model, &created);
            return Err(fault);
        }
        self.refresh_validators(model, &created);
        Ok(created)
    }

    fn create_one(&mut self, model: Model, vals: &Map<String, Value>) -> Result<i64, Fault> {
        let mut row = Row::new();
        // `is_registrant` and `is_group` have no default: unset, NULL in Odoo.
        if model == Model::Partner {
            row.insert("active".into(), Value::Bool(true));
        }
        self.apply(model, &mut row, vals)?;
        self.check(model, None, &row)?;
        self.stamper.stamp(&mut row, true);
        if model == Model::Partner {
            stored_defaults(&mut row);
        }
        Ok(self.insert(model, row))
    }

    /// Removes records this transaction created and then refused.
    fn discard(&mut self, model: Model, ids: &[i64]) {
        match model {
            Model::Partner => self.unlink_partners(ids),
            _ => {
                for id in ids {
                    if model == Model::RegId {
                        self.unindex(*id);
                    } else {
                        self.validators.remove(*id);
                    }
                    self.tables[model.index()].remove(id);
                }
            }
        }
    }

    /// Writes `vals` on every record of `ids`; nothing changes when one of them fails.
    pub(crate) fn write(
        &mut self,
        model: Model,
        ids: &[i64],
        vals: &Map<String, Value>,
    ) -> Result<(), Fault> {
        let mut updated = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut row = self.row(model, id).cloned().ok_or_else(Fault::missing)?;
            self.apply(model, &mut row, vals)?;
            self.check(model, Some(id), &row)?;
            self.stamper.stamp(&mut row, false);
            updated.push((id, row));
        }
        let moves = vals.contains_key("partner_id") || vals.contains_key("id_type");
        if model == Model::RegId && moves && ids.len() > 1 {
            return Err(Fault::validation(TWIN));
        }
        if model == Model::RegId && vals.contains_key("value") {
            let rows: Vec<&Row> = updated.iter().map(|(_, row)| row).collect();
            self.check_rows(&rows)?;
        }
        for (id, row) in updated {
            if model == Model::RegId {
                self.unindex(id);
                self.index(id, &row);
            }
            self.tables[model.index()].insert(id, row);
        }
        self.refresh_validators(model, ids);
        Ok(())
    }

    /// Deletes every record of `ids`, or none when one of them does not exist.
    pub(crate) fn unlink(&mut self, model: Model, ids: &[i64]) -> Result<(), Fault> {
        if ids.iter().any(|id| self.row(model, *id).is_none()) {
            return Err(Fault::missing());
        }
        match model {
            Model::Partner => self.unlink_partners(ids),
            Model::RegId => {
                for id in ids {
                    self.unindex(*id);
                    self.tables[model.index()].remove(id);
                }
            }
            Model::IdType => {
                let used = self
                    .table(Model::RegId)
                    .values()
                    .any(|row| many2one_id(row.get("id_type")).is_some_and(|t| ids.contains(&t)));
                if used {
                    return Err(Fault::validation(
                        "The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.",
                    ));
                }
                for id in ids {
                    self.validators.remove(*id);
                    self.tables[model.index()].remove(id);
                }
            }
        }
        Ok(())
    }

    fn unlink_partners(&mut self, ids: &[i64]) {
        for id in ids {
            for reg in self.by_partner.remove(id).unwrap_or_default() {
                self.unindex(reg);
                self.tables[Model::RegId.index()].remove(&reg);
            }
            self.tables[Model::Partner.index()].remove(id);
        }
    }

    fn unindex(&mut self, reg_id: i64) {
        let Some(row) = self.row(Model::RegId, reg_id) else {
            return;
        };
        let partner = many2one_id(row.get("partner_id"));
        let value = row.get("value").and_then(Value::as_str).map(str::to_owned);
        if let Some(set) = partner.and_then(|p| self.by_partner.get_mut(&p)) {
            set.remove(&reg_id);
        }
        if let Some(value) = value
            && let Some(set) = self.by_value.get_mut(&value)
        {
            set.remove(&reg_id);
            if set.is_empty() {
                self.by_value.remove(&value);
            }
        }
    }
}

/// What Odoo 17 stores on a new `res.partner` unless given: `registration_date` (OpenG2P's
/// default, the day of the creation) and `company_id` (the user's company, id 1). Call after
/// stamping: the day is the creation's.
fn stored_defaults(row: &mut Row) {
    let today = row
        .get("create_date")
        .and_then(Value::as_str)
        .and_then(|stamp| stamp.get(..10))
        .map(str::to_owned);
    if let Some(today) = today {
        row.entry("registration_date").or_insert(json!(today));
    }
    row.entry("company_id").or_insert(json!(1));
}

/// The id a stored many2one holds.
pub(crate) fn many2one_id(value: Option<&Value>) -> Option<i64> {
    value.and_then(Value::as_i64)
}
