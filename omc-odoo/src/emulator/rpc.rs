//! Odoo's external JSON-RPC endpoint (`POST /jsonrpc`: services `common` and `object`) and the
//! JSON-RPC envelopes every route answers with.

use super::Shared;
use super::methods::execute;
use super::schema::Fault;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// A JSON-RPC request body: its `id` and `params`.
pub(crate) struct Call {
    pub(crate) id: Value,
    pub(crate) params: Map<String, Value>,
}

/// Reads a JSON-RPC body; a body that is not JSON gets Odoo's 400.
pub(crate) fn read_call(body: &[u8]) -> Result<Call, (StatusCode, &'static str)> {
    let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(body) else {
        return Err((StatusCode::BAD_REQUEST, "Invalid JSON data"));
    };
    let id = request.remove("id").unwrap_or(Value::Null);
    let params = match request.remove("params") {
        Some(Value::Object(params)) => params,
        _ => Map::new(),
    };
    Ok(Call { id, params })
}

/// `{"jsonrpc": "2.0", "id": .., "result": ..}`.
pub(crate) fn success(id: Value, result: Value) -> Json<Value> {
    Json(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// Odoo's error envelope, with HTTP 200.
pub(crate) fn failure(id: Value, fault: &Fault) -> Json<Value> {
    let debug = format!(
        "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/http.py\", line 1770, in _serve_db\n    return service_model.retrying(self._serve_ir_http, self.env)\n{}: {}\n",
        fault.name, fault.message
    );
    Json(json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": fault.code,
            "message": fault.title,
            "data": {
                "name": fault.name,
                "debug": debug,
                "message": fault.message,
                "arguments": [fault.message],
                "context": {},
            },
        },
    }))
}

/// One answer from a result or a fault.
pub(crate) fn answer(id: Value, outcome: Result<Value, Fault>) -> Response {
    match outcome {
        Ok(result) => success(id, result).into_response(),
        Err(fault) => failure(id, &fault).into_response(),
    }
}

/// Counts the call, then runs it (a `g2p.reg.id` `create` held back while
/// [`HeldCreates`](super::HeldCreates) hold them).
pub(crate) async fn dispatch(
    shared: &Shared,
    model: &str,
    method: &str,
    args: &[Value],
    kwargs: &Map<String, Value>,
) -> Result<Value, Fault> {
    {
        let mut calls = shared.calls.lock().unwrap_or_else(|e| e.into_inner());
        *calls
            .entry((model.to_owned(), method.to_owned()))
            .or_default() += 1;
    }
    let held = (model == "g2p.reg.id" && method == "create")
        .then(|| {
            shared
                .overlap
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        })
        .flatten();
    match held {
        Some(overlap) => overlap.create(shared, args, kwargs).await,
        None => execute(&shared.data, model, method, args, kwargs),
    }
}

/// `POST /jsonrpc`.
pub(crate) async fn jsonrpc(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let call = match read_call(&body) {
        Ok(call) => call,
        Err(refusal) => return refusal.into_response(),
    };
    let text = |key: &str| call.params.get(key).and_then(Value::as_str).unwrap_or("");
    let args = match call.params.get("args") {
        Some(Value::Array(args)) => args.as_slice(),
        _ => &[],
    };
    let outcome = match (text("service"), text("method")) {
        ("common", "login") | ("common", "authenticate") => {
            match args.first().and_then(Value::as_str) {
                Some(db) if db != shared.database => Err(Fault::no_database(db)),
                _ => Ok(login(&shared, args).map_or(Value::Bool(false), Value::from)),
            }
        }
        ("common", "version") => Ok(json!({
            "server_version": "17.0",
            "server_version_info": [17, 0, 0, "final", 0, ""],
            "server_serie": "17.0",
            "protocol_version": 1,
        })),
        ("common", method) => Err(Fault::exception(format!("Method not found: {method}"))),
        ("object", "execute_kw") | ("object", "execute") => object(&shared, args).await,
        ("object", method) => Err(Fault::exception(format!("Method not available {method}"))),
        (service, _) => Err(Fault::key_error(format!("'{service}'"))),
    };
    answer(call.id, outcome)
}

/// `[db, login, password, ...]` → the user id, when they match a user.
fn login(shared: &Shared, args: &[Value]) -> Option<i64> {
    let text = |i: usize| args.get(i).and_then(Value::as_str);
    if text(0)? != shared.database {
        return None;
    }
    shared.user_by_login(text(1)?, text(2)?)
}

/// `object.execute_kw` with `[db, uid, password, model, method, args, kwargs]`, checking the
/// credentials on every call as Odoo does.
async fn object(shared: &Shared, args: &[Value]) -> Result<Value, Fault> {
    let text = |i: usize| args.get(i).and_then(Value::as_str);
    let database = text(0).unwrap_or_default();
    let uid = args.get(1).and_then(Value::as_i64).unwrap_or_default();
    let password = text(2).unwrap_or_default();
    if database != shared.database {
        return Err(Fault::no_database(database));
    }
    if !shared.user_password_matches(uid, password) {
        return Err(Fault::access_denied());
    }
    let (Some(model), Some(method)) = (text(3), text(4)) else {
        return Err(Fault::type_error(
            "execute_kw() missing the model or the method",
        ));
    };
    let positional = match args.get(5) {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    let empty = Map::new();
    let keywords = match args.get(6) {
        Some(Value::Object(kwargs)) => kwargs,
        _ => &empty,
    };
    dispatch(shared, model, method, positional, keywords).await
}
