//! The ORM methods the emulator serves, shared by `execute_kw` and `call_kw`: `search_read`,
//! `search_count`, `search`, `read`, `fields_get`, `create`, `write` and `unlink`, with Odoo's
//! conventions for reading values back.

use super::clock::sent;
use super::fields_get;
use super::record::{parse_domain, parse_order, search};
use super::schema::{Fault, Kind, Model};
use super::store::{Store, many2one_id};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::{Mutex, RwLock};

/// Positional and keyword arguments, looked up the way Python binds them.
struct Params<'a> {
    args: &'a [Value],
    kwargs: &'a Map<String, Value>,
}

impl Params<'_> {
    fn get(&self, position: usize, name: &str) -> Option<&Value> {
        self.kwargs.get(name).or_else(|| self.args.get(position))
    }

    fn usize(&self, position: usize, name: &str) -> Result<Option<usize>, Fault> {
        match self.get(position, name) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(n) => Ok(Some(n as usize)),
                None => Err(Fault::type_error(format!(
                    "'{name}' must be a non-negative integer"
                ))),
            },
            Some(_) => Err(Fault::type_error(format!("'{name}' must be an integer"))),
        }
    }
}

/// Runs `method` of `model` (as the already authenticated user).
pub(crate) fn execute(
    data: &RwLock<Store>,
    model: &str,
    method: &str,
    args: &[Value],
    kwargs: &Map<String, Value>,
) -> Result<Value, Fault> {
    let params = Params { args, kwargs };
    if method.starts_with('_') {
        return Err(Fault::access_error(format!(
            "Private methods (such as {method}) cannot be called remotely."
        )));
    }
    let model = Model::parse(model)
        .ok_or_else(|| Fault::user_error(format!("Object {model} doesn't exist")))?;
    match method {
        "search_read" | "search" | "search_count" | "read" => {
            let store = data.read().unwrap_or_else(|e| e.into_inner());
            read_method(&store, model, method, &params)
        }
        "fields_get" => {
            let store = data.read().unwrap_or_else(|e| e.into_inner());
            fields_get::answer(
                &store,
                model,
                params.get(0, "allfields"),
                params.get(1, "attributes"),
            )
        }
        "create" | "write" | "unlink" => {
            let mut store = data.write().unwrap_or_else(|e| e.into_inner());
            store.begin();
            write_method(&mut store, model, method, &params)
        }
        _ => Err(Fault::attribute_error(format!(
            "The method '{method}' does not exist on the model '{}'",
            model.name()
        ))),
    }
}

/// `g2p.reg.id` `create` in a transaction overlapping others (see
/// [`HeldCreates`](super::HeldCreates)): OpenG2P's one-id-per-type rule does not see the rows
/// in `unseen` (theirs), and the rows created join them.
pub(crate) fn create_overlapping(
    data: &RwLock<Store>,
    unseen: &Mutex<BTreeSet<i64>>,
    args: &[Value],
    kwargs: &Map<String, Value>,
) -> Result<Value, Fault> {
    let params = Params { args, kwargs };
    let mut store = data.write().unwrap_or_else(|e| e.into_inner());
    store.begin();
    let mut unseen = unseen.lock().unwrap_or_else(|e| e.into_inner());
    store.unseen = std::mem::take(&mut *unseen);
    let result = write_method(&mut store, Model::RegId, "create", &params);
    *unseen = std::mem::take(&mut store.unseen);
    match &result {
        Ok(Value::Array(ids)) => unseen.extend(ids.iter().filter_map(Value::as_i64)),
        Ok(id) => unseen.extend(id.as_i64()),
        Err(_) => {}
    }
    result
}

/// The `active_test` flag of the call's `context` (true unless given as false).
fn active_test(params: &Params<'_>) -> bool {
    params
        .kwargs
        .get("context")
        .and_then(|context| context.get("active_test"))
        .is_none_or(|flag| flag != &Value::Bool(false))
}

fn read_method(
    store: &Store,
    model: Model,
    method: &str,
    params: &Params<'_>,
) -> Result<Value, Fault> {
    match method {
        "search_read" => {
            let domain = parse_domain(store, model, params.get(0, "domain"))?;
            let fields = field_list(store, model, params.get(1, "fields"))?;
            let offset = params.usize(2, "offset")?.unwrap_or(0);
            let limit = params.usize(3, "limit")?;
            let order = parse_order(store, model, params.get(4, "order"))?;
            let ids = search(
                store,
                model,
                &domain,
                &order,
                (offset, limit),
                active_test(params),
            );
            Ok(Value::Array(
                ids.into_iter()
                    .map(|id| read_row(store, model, id, &fields))
                    .collect(),
            ))
        }
        "search" => {
            let domain = parse_domain(store, model, params.get(0, "domain"))?;
            let offset = params.usize(1, "offset")?.unwrap_or(0);
            let limit = params.usize(2, "limit")?;
            let order = parse_order(store, model, params.get(3, "order"))?;
            Ok(json!(search(
                store,
                model,
                &domain,
                &order,
                (offset, limit),
                active_test(params)
            )))
        }
        "search_count" => {
            let domain = parse_domain(store, model, params.get(0, "domain"))?;
            let limit = params.usize(1, "limit")?;
            let ids = search(store, model, &domain, &[], (0, limit), active_test(params));
            Ok(json!(ids.len()))
        }
        _ => {
            let ids = id_list(params.get(0, "ids"))?;
            let fields = field_list(store, model, params.get(1, "fields"))?;
            if ids.iter().any(|id| store.row(model, *id).is_none()) {
                return Err(Fault::missing());
            }
            Ok(Value::Array(
                ids.into_iter()
                    .map(|id| read_row(store, model, id, &fields))
                    .collect(),
            ))
        }
    }
}

fn write_method(
    store: &mut Store,
    model: Model,
    method: &str,
    params: &Params<'_>,
) -> Result<Value, Fault> {
    match method {
        "create" => match params.get(0, "vals_list") {
            Some(Value::Object(vals)) => Ok(json!(store.create(model, vals)?)),
            Some(Value::Array(list)) => {
                let vals: Vec<&Map<String, Value>> = list
                    .iter()
                    .map(|v| {
                        v.as_object()
                            .ok_or_else(|| Fault::type_error("create expects dictionaries"))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(json!(store.create_all(model, &vals)?))
            }
            _ => Err(Fault::type_error(
                "create() missing 1 required positional argument: 'vals_list'",
            )),
        },
        "write" => {
            let ids = id_list(params.get(0, "ids"))?;
            let vals = params
                .get(1, "vals")
                .and_then(Value::as_object)
                .ok_or_else(|| {
                    Fault::type_error("write() missing 1 required positional argument: 'vals'")
                })?;
            store.write(model, &ids, vals)?;
            Ok(Value::Bool(true))
        }
        _ => {
            let ids = id_list(params.get(0, "ids"))?;
            store.unlink(model, &ids)?;
            Ok(Value::Bool(true))
        }
    }
}

/// Record ids as Odoo takes them: one id or a list.
fn id_list(value: Option<&Value>) -> Result<Vec<i64>, Fault> {
    match value {
        Some(Value::Number(n)) => n.as_i64().map(|id| vec![id]),
        Some(Value::Array(items)) => items.iter().map(Value::as_i64).collect(),
        _ => None,
    }
    .ok_or_else(|| Fault::type_error("record ids must be an integer or a list of integers"))
}

/// The fields to read: the given ones (unknown → `ValueError`), or all.
fn field_list(store: &Store, model: Model, value: Option<&Value>) -> Result<Vec<String>, Fault> {
    let names: Vec<String> = match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(store.all_fields(model)),
        Some(Value::Array(items)) if items.is_empty() => return Ok(store.all_fields(model)),
        Some(Value::Array(items)) => items
            .iter()
            .map(|f| f.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| Fault::type_error("fields must be a list of field names"))?,
        Some(_) => return Err(Fault::type_error("fields must be a list of field names")),
    };
    for name in &names {
        if store.kind(model, name).is_none() {
            return Err(Fault::invalid_field(model, name));
        }
    }
    Ok(names)
}

/// A record as Odoo's `read` gives it: `id` first, many2one as `[id, name]`, empty as `false`.
pub(crate) fn read_row(store: &Store, model: Model, id: i64, fields: &[String]) -> Value {
    let mut out = Map::with_capacity(fields.len() + 1);
    out.insert("id".into(), json!(id));
    let Some(row) = store.row(model, id) else {
        return Value::Object(out);
    };
    for field in fields {
        let value = match store.kind(model, field) {
            Some(Kind::Id) | None => continue,
            Some(Kind::DisplayName) => store.display_name(model, id),
            Some(Kind::Many2one(target)) => match many2one_id(row.get(field)) {
                Some(related) => json!([related, store.display_name(target, related)]),
                None => Value::Bool(false),
            },
            Some(Kind::One2many(_)) => json!(store.reg_ids_of(id).collect::<Vec<_>>()),
            Some(Kind::Datetime) => match row.get(field) {
                Some(stamp @ Value::String(_)) => sent(stamp),
                _ => Value::Bool(false),
            },
            Some(_) => match row.get(field) {
                None | Some(Value::Null) => Value::Bool(false),
                Some(v) => v.clone(),
            },
        };
        out.insert(field.clone(), value);
    }
    Value::Object(out)
}
