//! OpenG2P 17's `PUT /api/v1/registry/update_individual?id_type=<type name>`
//! (`g2p_registry_rest_api`), as far as OMC's OpenG2P API sink drives it.
//!
//! HTTP Basic with an emulator user (401 otherwise). The body is checked against OpenG2P's
//! request model first ([`model`]): any element that fails gives 422 before anything
//! happens. Then, element by element, as OpenG2P does: without `id_type` in the query or with
//! an empty `updateId`, an error; the active registrant holding `updateId` under the query's
//! `id_type` is found (else an error); each listed id type must exist (else `Invalid ID
//! field.`); the registrant's id of that type, if it has one, is rewritten in place
//! (value, expiry date, status, description), otherwise one is added on it, under OpenG2P's
//! rules (one id per type, `id_validation`); a token another registrant holds is not a
//! conflict. Only the personal fields that are not null (nor empty) are written (`name`,
//! `given_name`, `family_name`, `addl_name`, `birthdate`, `birth_place` is not modelled,
//! `email`, `address`, `registration_date`, `gender`, and `phone` from the first phone
//! number), always with `is_registrant` true and `is_group` false. Errors are 400
//! `{"detail": <message>}`; the first failing element stops the request, and everything the
//! request did is rolled back. The messages leave out the values OpenG2P quotes (the VID, a
//! date).

mod model;

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

/// The personal fields written from the body when they hold a value (those the emulator
/// models; `gender` stands for the `gender.type` whose code it is, the same word here).
const WRITTEN: [&str; 9] = [
    "name",
    "given_name",
    "family_name",
    "addl_name",
    "email",
    "address",
    "gender",
    "registration_date",
    "birthdate",
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

fn unprocessable(detail: Value) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "detail": detail })),
    )
        .into_response()
}

fn g2p_error(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "detail": message }))).into_response()
}

/// The active partner holding `value` under the id type named `id_type`.
fn holder(store: &Store, id_type: &str, value: &str) -> Option<i64> {
    let type_id = store.id_type_named(id_type)?;
    store
        .reg_ids_with_value(value)
        .filter_map(|reg| store.row(Model::RegId, reg))
        .filter(|row| many2one_id(row.get("id_type")) == Some(type_id))
        .filter_map(|row| many2one_id(row.get("partner_id")))
        .find(|partner| {
            store
                .row(Model::Partner, *partner)
                .is_some_and(|p| p.get("active") != Some(&Value::Bool(false)))
        })
}

/// The partner's values from one element: the non-empty personal fields, and the two flags.
fn partner_vals(element: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut vals = Map::new();
    for key in WRITTEN {
        let Some(Value::String(text)) = element.get(key) else {
            continue;
        };
        let text = if matches!(key, "registration_date" | "birthdate") {
            model::date(text)?
        } else {
            Some(text.clone())
        };
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            vals.insert(key.to_owned(), Value::String(text));
        }
    }
    let first_phone = element
        .get("phone_numbers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("phone_no").and_then(Value::as_str))
        .find(|p| !p.is_empty());
    if let Some(phone) = first_phone {
        vals.insert("phone".into(), json!(phone));
    }
    vals.insert("is_registrant".into(), json!(true));
    vals.insert("is_group".into(), json!(false));
    Ok(vals)
}

/// Applies one element; `Err` carries a message without personal data. `rewritten` receives
/// each id row rewritten in place as it was before, for the rollback.
fn apply(
    store: &mut Store,
    id_type: &str,
    element: &Map<String, Value>,
    rewritten: &mut Vec<(i64, Row)>,
) -> Result<i64, String> {
    let update_id = element
        .get("updateId")
        .and_then(Value::as_str)
        .unwrap_or("");
    if update_id.is_empty() || id_type.is_empty() {
        return Err("ID is required for update individual".into());
    }
    let partner =
        holder(store, id_type, update_id).ok_or("Individual with the given ID not found.")?;
    let vals = partner_vals(element)?;
    let mut ids = Vec::new();
    for id in element
        .get("ids")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let type_name = id.get("id_type").and_then(Value::as_str).unwrap_or("");
        let type_id = store.id_type_named(type_name).ok_or("Invalid ID field.")?;
        let mut row = Row::new();
        row.insert("id_type".into(), json!(type_id));
        for key in ["value", "expiry_date", "status", "description"] {
            let value = id
                .get(key)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty());
            row.insert(key.into(), value.map_or(Value::Null, |v| json!(v)));
        }
        ids.push((type_id, row));
    }
    for (type_id, row) in ids {
        let own = store.reg_ids_of(partner).find(|reg| {
            store
                .row(Model::RegId, *reg)
                .is_some_and(|r| many2one_id(r.get("id_type")) == Some(type_id))
        });
        let done = match own {
            // OpenG2P rewrites the registrant's id of that type in place.
            Some(reg) => {
                if let Some(before) = store.row(Model::RegId, reg) {
                    rewritten.push((reg, before.clone()));
                }
                store.write(Model::RegId, &[reg], &row)
            }
            None => {
                let mut row = row;
                row.insert("partner_id".into(), json!(partner));
                store.create(Model::RegId, &row).map(|_| ())
            }
        };
        done.map_err(Fault::into_public_message)?;
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
        let detail = if headers.contains_key(AUTHORIZATION) {
            "Incorrect username or password"
        } else {
            "Not authenticated"
        };
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Basic")],
            Json(json!({ "detail": detail })),
        )
            .into_response();
    }
    let elements = match model::validate(&body) {
        Ok(elements) => elements,
        Err(detail) => return unprocessable(detail),
    };
    let id_type = query.get("id_type").map(String::as_str).unwrap_or("");
    let mut store = shared.data.write().unwrap_or_else(|e| e.into_inner());
    store.begin();
    // One transaction for the request, as in Odoo: a failure undoes what came before it.
    let snapshot = (elements.len() > 1).then(|| store.clone());
    let mut updated = Vec::with_capacity(elements.len());
    for element in &elements {
        let last = store.table(Model::RegId).keys().next_back().copied();
        let mut rewritten = Vec::new();
        let outcome = apply(&mut store, id_type, element, &mut rewritten);
        if outcome.is_err() && snapshot.is_none() {
            undo_creates(&mut store, last.unwrap_or(0));
            for (reg, before) in rewritten.into_iter().rev() {
                let _ = store.write(Model::RegId, &[reg], &before);
            }
        }
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
