//! Odoo's and OpenG2P's rules on what a row may hold: field kinds and values, mandatory
//! fields, one id per type per registrant, and `id_validation`.

use super::{Row, Store, many2one_id};
use crate::emulator::clock::is_date;
use crate::emulator::schema::{Fault, Kind, Model};
use crate::emulator::validation::Checked;
use serde_json::{Map, Value, json};

/// OpenG2P's refusal of a second id of one type for one registrant.
pub(super) const TWIN: &str = "ID Type must be unique.";

impl Store {
    /// OpenG2P's `id_validation` over `g2p.reg.id` records, in the order Odoo checks them.
    pub(super) fn check_values(&self, model: Model, ids: &[i64]) -> Result<(), Fault> {
        if model != Model::RegId {
            return Ok(());
        }
        let rows: Vec<&Row> = ids.iter().filter_map(|id| self.row(model, *id)).collect();
        self.check_rows(&rows)
    }

    /// OpenG2P's `id_validation` over `g2p.reg.id` rows, in order.
    pub(super) fn check_rows(&self, rows: &[&Row]) -> Result<(), Fault> {
        self.validators.check(rows.iter().map(|row| {
            let type_id = many2one_id(row.get("id_type"));
            let type_name = type_id
                .and_then(|t| self.row(Model::IdType, t))
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Checked {
                type_id,
                type_name,
                value: row.get("value").and_then(Value::as_str),
            }
        }))
    }

    /// Recompiles the `id_validation` of `g2p.id.type` records just written.
    pub(super) fn refresh_validators(&mut self, model: Model, ids: &[i64]) {
        if model != Model::IdType {
            return;
        }
        for id in ids {
            let pattern = self
                .row(model, *id)
                .and_then(|r| r.get("id_validation"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            self.validators.set(*id, pattern.as_deref());
        }
    }

    /// Applies `vals` to `row`, checking every field and value.
    pub(super) fn apply(
        &self,
        model: Model,
        row: &mut Row,
        vals: &Map<String, Value>,
    ) -> Result<(), Fault> {
        for (field, value) in vals {
            let kind = self
                .kind(model, field)
                .ok_or_else(|| Fault::invalid_field(model, field))?;
            let stored = match (kind, value) {
                (Kind::Id | Kind::DisplayName | Kind::One2many(_), _) => {
                    return Err(Fault::value_error(format!(
                        "The emulator does not write the field '{field}' on model '{}'",
                        model.name()
                    )));
                }
                (Kind::Datetime, _) => continue,
                (_, Value::Null | Value::Bool(false)) if kind != Kind::Bool => Value::Bool(false),
                (Kind::Many2one(target), Value::Number(n)) => {
                    let id = n.as_i64().filter(|id| self.row(target, *id).is_some());
                    let id = id.ok_or_else(|| {
                        Fault::validation(format!(
                            "The operation cannot be completed: {}.{field} refers to a {} record that does not exist.",
                            model.name(),
                            target.name()
                        ))
                    })?;
                    json!(id)
                }
                (Kind::Date, Value::String(s)) if is_date(s) => value.clone(),
                (Kind::Bool, Value::Bool(_)) | (Kind::Number, Value::Number(_)) => value.clone(),
                (Kind::Char, Value::String(_) | Value::Number(_)) => value.clone(),
                _ => {
                    return Err(Fault::value_error(format!(
                        "Wrong value for {}.{field}",
                        model.name()
                    )));
                }
            };
            row.insert(field.clone(), stored);
        }
        Ok(())
    }

    /// OpenG2P's rules on a row about to be stored as record `id` (`None` when new).
    pub(super) fn check(&self, model: Model, id: Option<i64>, row: &Row) -> Result<(), Fault> {
        let set = |field: &str| {
            row.get(field)
                .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)))
        };
        let mandatory = |field: &str| {
            if set(field) {
                Ok(())
            } else {
                Err(Fault::validation(format!(
                    "The operation cannot be completed: Create/update: a mandatory field is not set. Model: {}, Field: {field}",
                    model.name()
                )))
            }
        };
        match model {
            Model::IdType => mandatory("name"),
            Model::Partner => Ok(()),
            Model::RegId => {
                mandatory("partner_id")?;
                mandatory("id_type")?;
                let partner = many2one_id(row.get("partner_id"));
                let id_type = many2one_id(row.get("id_type"));
                let twin = partner
                    .into_iter()
                    .flat_map(|p| self.reg_ids_of(p))
                    .filter(|other| Some(*other) != id && !self.unseen.contains(other))
                    .any(|other| {
                        self.row(Model::RegId, other)
                            .is_some_and(|r| many2one_id(r.get("id_type")) == id_type)
                    });
                if twin {
                    return Err(Fault::validation(TWIN));
                }
                Ok(())
            }
        }
    }
}
