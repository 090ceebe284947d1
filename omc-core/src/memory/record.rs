//! The in-memory registry's rows seen as domain [`Record`]s.

use crate::domain::{FieldModel, FieldType, Record};
use serde_json::{Map, Value};

/// A registrant row.
///
/// Its ids of other types than the VID and token types come from the seed's `reg_ids` field, a
/// list of `{"id_type": "<type name>", "value": "..."}` (as tests and the domain conformance
/// fixture give them); they are seen by domains only.
#[derive(Clone, Default)]
pub(super) struct Partner {
    pub(super) fields: Map<String, Value>,
    /// Its ids of the VID and token types.
    pub(super) ids: Vec<RegId>,
}

/// One id of a registrant: its type's name, its value (`None`: an id with no value) and its
/// `write_date`.
#[derive(Clone)]
pub(super) struct RegId {
    pub(super) id_type: String,
    pub(super) value: Option<String>,
    pub(super) written: String,
}

/// The (type, value) pairs of a seed's `reg_ids` field.
fn other_ids(fields: &Map<String, Value>) -> impl Iterator<Item = (&str, &str)> {
    fields
        .get("reg_ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            Some((
                entry.get("id_type")?.as_str()?,
                entry.get("value")?.as_str()?,
            ))
        })
}

impl Partner {
    /// The value of its id of `id_type`, when it holds one with a value.
    pub(super) fn id_of_type(&self, id_type: &str) -> Option<&str> {
        self.ids
            .iter()
            .find(|r| r.id_type == id_type)
            .and_then(|r| r.value.as_deref())
            .filter(|v| !v.is_empty())
    }

    /// Whether it holds an id of `id_type` (with a value or not).
    pub(super) fn holds_type(&self, id_type: &str) -> bool {
        self.ids.iter().any(|r| r.id_type == id_type)
    }

    /// The latest `write_date` of its ids.
    pub(super) fn ids_written(&self) -> Option<String> {
        self.ids.iter().map(|r| r.written.clone()).max()
    }
}

pub(super) struct PartnerView<'a> {
    pub(super) id: i64,
    pub(super) partner: &'a Partner,
}

struct RegIdView<'a> {
    id: i64,
    owner: &'a PartnerView<'a>,
    id_type: &'a str,
    value: Option<&'a str>,
    written: Option<&'a str>,
}

struct IdTypeView<'a> {
    name: &'a str,
}

impl Record for PartnerView<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn value(&self, field: &str) -> Value {
        if field == "reg_ids" {
            return Value::Null;
        }
        self.partner
            .fields
            .get(field)
            .cloned()
            .unwrap_or(Value::Null)
    }

    fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        (field == "reg_ids").then(|| {
            self.partner
                .ids
                .iter()
                .map(|r| {
                    (
                        r.id_type.as_str(),
                        r.value.as_deref(),
                        Some(r.written.as_str()),
                    )
                })
                .chain(other_ids(&self.partner.fields).map(|(t, v)| (t, Some(v), None)))
                .enumerate()
                .map(|(i, (t, v, w))| {
                    Box::new(RegIdView {
                        id: self.id * 16 + i as i64,
                        owner: self,
                        id_type: t,
                        value: v,
                        written: w,
                    }) as Box<dyn Record + '_>
                })
                .collect()
        })
    }

    fn field_type(&self, field: &str) -> Option<FieldType> {
        FieldModel::openg2p_type("res.partner", field)
    }

    fn search_names(&self) -> Vec<String> {
        ["name", "email", "ref"]
            .iter()
            .filter_map(|k| self.partner.fields.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
            .collect()
    }
}

impl Record for RegIdView<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn value(&self, field: &str) -> Value {
        match field {
            "value" => self.value.map_or(Value::Bool(false), Value::from),
            "write_date" => self.written.map_or(Value::Null, Value::from),
            _ => Value::Null,
        }
    }

    fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        match field {
            "id_type" => Some(vec![Box::new(IdTypeView { name: self.id_type })]),
            "partner_id" => Some(vec![Box::new(PartnerView {
                id: self.owner.id,
                partner: self.owner.partner,
            })]),
            _ => None,
        }
    }

    fn field_type(&self, field: &str) -> Option<FieldType> {
        FieldModel::openg2p_type("g2p.reg.id", field)
    }

    /// OpenG2P searches an id by its registrant's name.
    fn search_names(&self) -> Vec<String> {
        self.owner.search_names()
    }
}

impl Record for IdTypeView<'_> {
    fn id(&self) -> i64 {
        // Id types are compared by name here; a stable id derived from the name suffices.
        self.name
            .bytes()
            .fold(0i64, |h, b| h.wrapping_mul(31).wrapping_add(b as i64))
            .abs()
    }

    fn value(&self, field: &str) -> Value {
        match field {
            "name" => Value::from(self.name),
            _ => Value::Null,
        }
    }

    fn related(&self, _field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        None
    }

    fn field_type(&self, field: &str) -> Option<FieldType> {
        FieldModel::openg2p_type("g2p.id.type", field)
    }
}
