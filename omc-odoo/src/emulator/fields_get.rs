//! `fields_get`: the emulated models' fields described as Odoo 17 describes them, so that a
//! field model read from the emulator is the one its searches follow.

use super::schema::{Fault, Kind, Model};
use super::store::Store;
use serde_json::{Map, Value, json};

/// `fields_get(allfields=None, attributes=None)` of `model`: each field's `type`, `string`,
/// `relation` (relational fields), `store`, `searchable`, `sortable`, `required` and
/// `readonly`, or only the `attributes` asked for; only the `allfields` named, when given.
pub(crate) fn answer(
    store: &Store,
    model: Model,
    allfields: Option<&Value>,
    attributes: Option<&Value>,
) -> Result<Value, Fault> {
    let names = |value: Option<&Value>, what: &str| -> Result<Option<Vec<String>>, Fault> {
        match value {
            None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
            Some(Value::Array(items)) if items.is_empty() => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| Fault::type_error(format!("{what} must be a list of names"))),
            Some(_) => Err(Fault::type_error(format!("{what} must be a list of names"))),
        }
    };
    let only = names(allfields, "allfields")?;
    let attributes = names(attributes, "attributes")?;
    let mut out = Map::new();
    for field in store.all_fields(model) {
        if only.as_ref().is_some_and(|o| !o.contains(&field)) {
            continue;
        }
        let Some(kind) = store.kind(model, &field) else {
            continue;
        };
        let mut description = describe(model, &field, kind);
        if let Some(keep) = &attributes {
            description.retain(|key, _| keep.contains(key));
        }
        out.insert(field, Value::Object(description));
    }
    Ok(Value::Object(out))
}

/// One field as Odoo 17 + OpenG2P describes it (types read from a real registry).
fn describe(model: Model, field: &str, kind: Kind) -> Map<String, Value> {
    let odoo_type = match (model, field, kind) {
        (Model::Partner, "gender", _) | (Model::RegId, "status", _) => "selection",
        (Model::Partner, "address", _) => "text",
        (Model::Partner, "company_id", _) => "many2one",
        (_, _, Kind::Id) => "integer",
        (_, _, Kind::DisplayName | Kind::Char) => "char",
        (_, _, Kind::Bool) => "boolean",
        (_, _, Kind::Number) => "float",
        (_, _, Kind::Date) => "date",
        (_, _, Kind::Datetime) => "datetime",
        (_, _, Kind::Many2one(_)) => "many2one",
        (_, _, Kind::One2many(_)) => "one2many",
    };
    let relation = match (model, field, kind.target()) {
        (Model::Partner, "company_id", _) => Some("res.company"),
        (_, _, target) => target.map(Model::name),
    };
    // display_name is computed, not stored, with no search method: Odoo 17 reports it
    // unsearchable (and ignores a criterion on it).
    let stored = field != "display_name";
    let required = matches!(
        (model, field),
        (Model::Partner | Model::IdType, "name") | (Model::RegId, "partner_id" | "id_type")
    );
    let readonly = matches!(
        field,
        "id" | "display_name" | "complete_name" | "create_date" | "write_date"
    );
    let mut d = Map::new();
    d.insert("type".into(), json!(odoo_type));
    d.insert("string".into(), json!(label(field)));
    if let Some(relation) = relation {
        d.insert("relation".into(), json!(relation));
    }
    d.insert("store".into(), json!(stored));
    d.insert("searchable".into(), json!(stored));
    d.insert("sortable".into(), json!(stored));
    d.insert("required".into(), json!(required));
    d.insert("readonly".into(), json!(readonly));
    d
}

/// Odoo's default label: the name without `_id`/`_ids`, words capitalised.
fn label(field: &str) -> String {
    if field == "id" {
        return "ID".into();
    }
    let base = field
        .strip_suffix("_ids")
        .or_else(|| field.strip_suffix("_id"))
        .unwrap_or(field);
    base.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}
