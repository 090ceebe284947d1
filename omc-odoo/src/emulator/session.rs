//! The web client's session routes, as MTS's callback auth type `odoo` drives them:
//! `/web/session/authenticate` (any method, JSON-RPC body), `/web/session/logout`, and
//! `/web/dataset/call_kw/<model>/<method>` run as the session's user.

use super::Shared;
use super::rpc::{answer, dispatch, failure, read_call};
use super::schema::Fault;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// The `session_id` cookie of a request.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == "session_id")
        .map(|(_, value)| value.to_owned())
}

/// `/web/session/authenticate`: `{"params": {"db", "login", "password"}}`.
pub(crate) async fn authenticate(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let call = match read_call(&body) {
        Ok(call) => call,
        Err(refusal) => return refusal.into_response(),
    };
    let text = |key: &str| call.params.get(key).and_then(Value::as_str).unwrap_or("");
    let uid = (text("db") == shared.database)
        .then(|| shared.user_by_login(text("login"), text("password")))
        .flatten();
    let Some(uid) = uid else {
        return failure(call.id, &Fault::access_denied()).into_response();
    };
    let session = shared.open_session(uid);
    let cookie = format!("session_id={session}; HttpOnly; Path=/");
    let info = json!({
        "uid": uid,
        "is_system": uid == 2,
        "is_admin": uid == 2,
        "user_context": {"lang": "en_US", "tz": "UTC", "uid": uid},
        "db": shared.database,
        "server_version": "17.0",
        "server_version_info": [17, 0, 0, "final", 0, ""],
        "name": shared.user_name(uid),
        "username": text("login"),
        "partner_id": uid + 1,
    });
    let mut response = answer(call.id, Ok(info));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// `/web/session/logout`: ends the session and redirects to the web client, as Odoo does.
pub(crate) async fn logout(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(session) = session_cookie(&headers) {
        shared.close_session(&session);
    }
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, HeaderValue::from_static("/web"))],
    )
        .into_response()
}

/// `GET /web`: where logout redirects.
pub(crate) async fn web() -> &'static str {
    "Odoo emulator"
}

/// `/web/dataset/call_kw[/<model>/<method>]`: `{"params": {"model", "method", "args", "kwargs"}}`
/// run as the user of the `session_id` cookie; without a valid session, Odoo's session-expired
/// error (code 100).
pub(crate) async fn call_kw(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = match read_call(&body) {
        Ok(call) => call,
        Err(refusal) => return refusal.into_response(),
    };
    let valid = session_cookie(&headers).is_some_and(|s| shared.session_user(&s).is_some());
    if !valid {
        return failure(call.id, &Fault::session_expired()).into_response();
    }
    let text = |key: &str| call.params.get(key).and_then(Value::as_str);
    let (Some(model), Some(method)) = (text("model"), text("method")) else {
        let fault = Fault::type_error("call_kw() missing the model or the method");
        return failure(call.id, &fault).into_response();
    };
    let args = match call.params.get("args") {
        Some(Value::Array(args)) => args.as_slice(),
        _ => &[],
    };
    let empty = Map::new();
    let kwargs = match call.params.get("kwargs") {
        Some(Value::Object(kwargs)) => kwargs,
        _ => &empty,
    };
    let outcome = dispatch(&shared, model, method, args, kwargs).await;
    answer(call.id.clone(), outcome)
}
