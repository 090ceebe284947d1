//! OpenG2P 17's `PUT /api/v1/registry/update_individual?id_type=<type name>`
//! (`g2p_registry_rest_api`), as far as OMC's OpenG2P API sink drives it.
//!
//! HTTP Basic with an emulator user (401 otherwise). The body must be a JSON list of objects,
//! each with `updateId` (a string) and the keys `name`, `given_name`, `gender`, `birth_place`
//! and `ids` present (null allowed except for `ids`, a list of `{"id_type", "value"}`): any
//! element that fails this gives 422 before anything happens. Then, element by element: the
//! active registrant holding `updateId` under the query's `id_type` is found (else an error);
//! each listed id whose (type, value) already exists is rewritten in place and the fields are
//! written on *its* holder (as OpenG2P does, which matters when two registrants share a token);
//! otherwise the id is added, under OpenG2P's rules (one id per type, `id_validation`). The
//! given personal fields the emulator models (`name`, `given_name`, `family_name`,
//! `addl_name`, `birthdate`, `email`, `address`, `registration_date`) are written, null as
//! empty, as OpenG2P does; `gender` is left alone (OpenG2P maps it through `gender.type` codes)
//! and `birth_place` is not modelled. The first failing element stops the request with an error
//! for the whole list, and everything the request did is rolled back.

use super::Shared;
use super::schema::{Fault, Model};
use super::store::{Row, Store, many2one_id};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The keys OpenG2P 17's request model requires (FastAPI answers 422 without them).
const REQUIRED: [&str; 5] = ["name", "given_name", "gender", "birth_place", "ids"];
/// The personal fields written from the body (those the emulator models).
const WRITTEN: [&str; 8] = [
    "name",
    "given_name",
    "family_name",
    "addl_name",
    "birthdate",
    "email",
    "address",
    "registration_date",
];

fn basic_user(shared: &Shared, headers: &HeaderMap) -> Option<i64> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    shared.user_by_login(login, password)
}

fn unprocessable(index: usize, problem: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({"detail": [{"loc": ["body", index], "msg": problem}]})),
    )
        .into_response()
}

fn g2p_error(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": {"code": "G2P-REQ-010", "message": message}})),
    )
        .into_response()
}

/// Checks the body as FastAPI's request model would, before anything runs.
/// `Err` holds the failing element's index and FastAPI's message.
fn validate(body: &[u8]) -> Result<Vec<Map<String, Value>>, (usize, String)> {
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(body) else {
        return Err((0, "Input should be a valid list".to_owned()));
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let Value::Object(map) = item else {
            return Err((index, "Input should be a valid dictionary".to_owned()));
        };
        if !map.get("updateId").is_some_and(Value::is_string) {
            return Err((index, "updateId: a string is required".to_owned()));
        }
        if let Some(key) = REQUIRED.iter().find(|k| !map.contains_key(**k)) {
            return Err((index, format!("{key}: Field required")));
        }
        let ids_ok = map.get("ids").and_then(Value::as_array).is_some_and(|ids| {
            ids.iter().all(|id| {
                id.get("id_type").is_some_and(Value::is_string)
                    && id.get("value").is_some_and(Value::is_string)
            })
        });
        if !ids_ok {
            return Err((
                index,
                "ids: a list of {id_type, value} strings is required".to_owned(),
            ));
        }
        for key in ["name", "given_name", "gender", "birth_place"] {
            if !matches!(map.get(key), Some(Value::Null | Value::String(_))) {
                return Err((index, format!("{key}: a string or null")));
            }
        }
        out.push(map);
    }
    Ok(out)
}

/// The active partner holding `value` under the id type `type_id`.
fn holder(store: &Store, type_id: i64, value: &str) -> Option<(i64, i64)> {
    store
        .reg_ids_with_value(value)
        .filter_map(|reg| Some((reg, store.row(Model::RegId, reg)?)))
        .filter(|(_, row)| many2one_id(row.get("id_type")) == Some(type_id))
        .filter_map(|(reg, row)| Some((reg, many2one_id(row.get("partner_id"))?)))
        .find(|(_, partner)| {
            store
                .row(Model::Partner, *partner)
                .is_some_and(|p| p.get("active") != Some(&Value::Bool(false)))
        })
}

/// Applies one element; `Err` carries a message without personal data.
fn apply(store: &mut Store, id_type: &str, element: &Map<String, Value>) -> Result<i64, String> {
    let update_id = element
        .get("updateId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let lookup_type = store
        .id_type_named(id_type)
        .ok_or("the id_type of the query does not exist")?;
    let (_, mut partner) =
        holder(store, lookup_type, update_id).ok_or("Individual with the given ID not found.")?;
    let mut vals = Map::new();
    for key in WRITTEN {
        if let Some(value) = element.get(key) {
            vals.insert(key.to_owned(), value.clone());
        }
    }
    for id in element
        .get("ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let type_name = id.get("id_type").and_then(Value::as_str).unwrap_or("");
        let value = id.get("value").and_then(Value::as_str).unwrap_or("");
        let type_id = store
            .id_type_named(type_name)
            .ok_or("ID type is not present in the database.")?;
        match holder(store, type_id, value) {
            // OpenG2P rewrites the existing row and then writes the fields on its holder.
            Some((_, existing)) => partner = existing,
            None => {
                let mut row = Row::new();
                row.insert("partner_id".into(), json!(partner));
                row.insert("id_type".into(), json!(type_id));
                row.insert("value".into(), json!(value));
                row.insert("status".into(), json!("valid"));
                store
                    .create(Model::RegId, &row)
                    .map_err(Fault::into_public_message)?;
            }
        }
    }
    store
        .write(Model::Partner, &[partner], &vals)
        .map_err(Fault::into_public_message)?;
    Ok(partner)
}

/// `PUT /api/v1/registry/update_individual`.
pub(crate) async fn update_individual(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if basic_user(&shared, &headers).is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Basic")],
            Json(json!({"detail": "Incorrect username or password"})),
        )
            .into_response();
    }
    let elements = match validate(&body) {
        Ok(elements) => elements,
        Err((index, problem)) => return unprocessable(index, &problem),
    };
    let id_type = query.get("id_type").map(String::as_str).unwrap_or("");
    let mut store = shared.data.write().unwrap_or_else(|e| e.into_inner());
    store.begin();
    // One transaction for the request, as in Odoo: a failure undoes what came before it.
    let snapshot = (elements.len() > 1).then(|| store.clone());
    let mut updated = Vec::with_capacity(elements.len());
    for element in &elements {
        let outcome = if id_type.is_empty() {
            Err("ID is required for update individual".to_owned())
        } else {
            let last = store.table(Model::RegId).keys().next_back().copied();
            let outcome = apply(&mut store, id_type, element);
            if outcome.is_err() && snapshot.is_none() {
                undo_creates(&mut store, last.unwrap_or(0));
            }
            outcome
        };
        match outcome {
            Ok(partner) => updated.push(json!({"id": partner})),
            Err(message) => {
                if let Some(snapshot) = snapshot {
                    *store = snapshot;
                }
                return g2p_error(&message);
            }
        }
    }
    Json(Value::Array(updated)).into_response()
}

/// Removes the `g2p.reg.id` rows created after the row `last` (a one-element request's
/// rollback: ids only grow).
fn undo_creates(store: &mut Store, last: i64) {
    let created: Vec<i64> = store
        .table(Model::RegId)
        .range(last + 1..)
        .map(|(id, _)| *id)
        .collect();
    if !created.is_empty() {
        let _ = store.unlink(Model::RegId, &created);
    }
}
