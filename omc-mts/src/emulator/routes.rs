//! MTS's HTTP endpoints.

use super::store::{RecordState, RequestState, StoredRecord, StoredRequest};
use super::validate::{self, Refusal};
use super::{ReceivedRequest, Shared};
use crate::envelope::format_time;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use omc_core::mts_rules::{MtsField, lookup};
use omc_core::{PersonalRecord, RequestId};
use serde_json::{Value, json};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

/// The router, with every path under `prefix` (empty, or ending with `/`). No body limit: MTS
/// has none (axum's default of 2 MB would refuse a few thousand records).
pub(crate) fn router(shared: Arc<Shared>, prefix: &str) -> Router {
    Router::new()
        .route(&format!("/{prefix}authtoken/json"), post(submit))
        .route(&format!("/{prefix}authtoken/status/{{id}}"), get(status))
        .route(&format!("/{prefix}authtoken/authfields"), get(authfields))
        .route(&format!("/{prefix}ping"), get(ping))
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

/// MTS's version (`root.version` of its configuration), echoed in every envelope.
const VERSION: &str = "1.1.0";

fn success(response: Value) -> Response {
    let body = json!({"id": "mosip.token.seeder", "version": VERSION, "metadata": {},
                      "responsetime": format_time(SystemTime::now()),
                      "errors": null, "response": response});
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// MTS's error envelope: one `{"errorCode", "errorMessage"}` per message.
fn error(http: u16, code: &str, messages: &[String], response: Value) -> Response {
    let errors: Vec<Value> = messages
        .iter()
        .map(|m| json!({"errorCode": code, "errorMessage": m}))
        .collect();
    let body = json!({"id": "mosip.token.seeder", "version": VERSION, "metadata": {},
                      "responsetime": format_time(SystemTime::now()),
                      "errors": errors, "response": response});
    let status = StatusCode::from_u16(http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn refused(shared: &Shared, refusal: &Refusal) -> Response {
    shared.record(ReceivedRequest::refused(refusal.http, refusal.code));
    error(refusal.http, refusal.code, &refusal.messages, Value::Null)
}

async fn submit(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    // MTS answers one call at a time, and a POST only once its records are stored.
    let _serving = shared.serving.lock().await;
    let accepted = match validate::envelope(&body) {
        Ok(accepted) => accepted,
        Err(refusal) => return refused(&shared, &refusal),
    };
    if accepted.csv_output {
        let refusal = Refusal::new(
            400,
            "ATS-REQ-102",
            "invalid input. csv output is not emulated",
        );
        return refused(&shared, &refusal);
    }
    let verdicts = match validate::records(&accepted, &shared.config.mandatory) {
        Ok(verdicts) => verdicts,
        Err(refusal) => return refused(&shared, &refusal),
    };
    let records: Vec<StoredRecord> = accepted
        .authdata
        .iter()
        .zip(verdicts)
        .map(|(input, verdict)| {
            let vid = match lookup(input, &accepted.mapping.vid) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            let (state, code, message) = match verdict {
                Some(r) => (
                    RecordState::Invalid,
                    Some(r.code.to_owned()),
                    Some(r.message),
                ),
                None => (RecordState::Submitted, None, None),
            };
            StoredRecord {
                input: input.clone(),
                vid,
                state,
                token: None,
                error_code: code,
                error_message: message,
            }
        })
        .collect();
    let all_invalid = records.iter().all(|r| r.state == RecordState::Invalid);
    let storing = u32::try_from(records.len()).unwrap_or(u32::MAX);
    let storing = shared.config.submit_record_delay.saturating_mul(storing);
    if !storing.is_zero() {
        tokio::time::sleep(storing).await;
    }
    let id = new_request_id();
    let callback = accepted.callback.map(Arc::new);
    shared.record(ReceivedRequest {
        request_id: Some(RequestId(id.clone())),
        http_status: 200,
        error_code: all_invalid.then(|| "ATS-REQ-101".to_owned()),
        records: records.len(),
        auth_type: callback.as_ref().map(|c| c.auth.auth_type().to_owned()),
        callback_url: callback.as_ref().map(|c| c.url.clone()),
        call_in_bulk: callback.as_ref().map(|c| c.call_in_bulk),
        authdata: accepted
            .authdata
            .into_iter()
            .map(PersonalRecord::from)
            .collect(),
    });
    let stored = StoredRequest {
        created: Instant::now(),
        state: if all_invalid {
            RequestState::SubmittedWithErrors
        } else {
            RequestState::Submitted
        },
        callback,
        output_format: accepted.output_format.map(Arc::new),
        records,
    };
    shared.enqueue(id.clone(), stored);
    let response = json!({"request_identifier": id});
    if all_invalid {
        error(
            200,
            "ATS-REQ-101",
            &["none of the record form a valid request".to_owned()],
            response,
        )
    } else {
        success(response)
    }
}

async fn status(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    drop(shared.serving.lock().await);
    let state = shared.lock_store().get_mut(&id).map(|r| r.state);
    match state {
        Some(state) => success(json!({"status": state.as_str()})),
        None => error(
            404,
            "ATS-REQ-016",
            &["no auth request found for the given identifier".to_owned()],
            Value::Null,
        ),
    }
}

async fn authfields(State(shared): State<Arc<Shared>>) -> Response {
    drop(shared.serving.lock().await);
    let fields: Vec<&str> = MtsField::ALL.iter().map(|f| f.as_str()).collect();
    success(json!({"authfields": fields}))
}

/// A bare JSON string, `"[<pod> - <worker>] pong"`, as MTS answers.
async fn ping(State(shared): State<Arc<Shared>>) -> Response {
    drop(shared.serving.lock().await);
    axum::Json("[0 - 0] pong").into_response()
}

/// A fresh identifier shaped like MTS's: a two-digit pod number and the rest of a UUID.
fn new_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let state = RandomState::new();
    let bits = (u128::from(state.hash_one((n, 1u8))) << 64) | u128::from(state.hash_one((n, 2u8)));
    let hex = format!("{bits:032x}");
    format!(
        "00{}-{}-4{}-{}-{}",
        &hex[2..8],
        &hex[8..12],
        &hex[13..16],
        &hex[16..20],
        &hex[20..32]
    )
}
