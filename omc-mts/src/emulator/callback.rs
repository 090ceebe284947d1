//! Delivering a processed request's results the way MTS does.

use super::Counters;
use super::props::{AuthSpec, CallbackSpec, OdooAuth};
use omc_core::jq::{Output, Program};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderMap, SET_COOKIE};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// A callback failed with a connection error or a timeout (or could not be made at all): the
/// rest of the request's callbacks are not made.
#[derive(Debug)]
pub(crate) struct CallbackFailed;

/// Makes the callbacks of one request. `items` are the `{"input", "output"}` values, in order.
pub(crate) async fn deliver(
    http: &reqwest::Client,
    spec: &CallbackSpec,
    program: Option<&Program>,
    items: &[Value],
    counters: &Counters,
) -> Result<(), CallbackFailed> {
    let method = method(&spec.method).ok_or(CallbackFailed)?;
    let cookies = match &spec.auth {
        AuthSpec::Odoo(odoo) => Some(login(http, odoo, counters).await?),
        AuthSpec::Oauth => return Err(CallbackFailed),
        AuthSpec::None | AuthSpec::StaticBearer(_) => None,
    };
    let bodies: Vec<Option<Value>> = if spec.call_in_bulk {
        let all = items
            .iter()
            .map(|i| format(program, i).unwrap_or(Value::Null));
        vec![Some(Value::Array(all.collect()))]
    } else {
        items.iter().map(|i| format(program, i)).collect()
    };
    for body in bodies {
        let mut call = http
            .request(method.clone(), spec.url.clone())
            .timeout(spec.timeout);
        if let Some(body) = body {
            call = call
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        if let AuthSpec::StaticBearer(token) = &spec.auth {
            call = call.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        if let Some(cookies) = cookies.as_deref().filter(|c| !c.is_empty()) {
            call = call.header(COOKIE, cookies);
        }
        call = with_headers(call, &spec.extra_headers);
        counters.calls.fetch_add(1, Ordering::Relaxed);
        if send(call, spec.timeout.is_zero()).await.is_err() {
            counters.failed.fetch_add(1, Ordering::Relaxed);
            return Err(CallbackFailed);
        }
        counters.answered.fetch_add(1, Ordering::Relaxed);
    }
    if let AuthSpec::Odoo(odoo) = &spec.auth {
        logout(http, odoo, cookies.as_deref().unwrap_or_default(), counters).await;
    }
    Ok(())
}

/// The output format applied as MTS does; `None` when it yields nothing or fails.
fn format(program: Option<&Program>, item: &Value) -> Option<Value> {
    match program {
        None => item.get("output").cloned(),
        Some(program) => match program.first(item) {
            Output::Value(value) => Some(value),
            Output::Nothing | Output::Failed(_) => None,
        },
    }
}

/// The methods of Python's `requests` module, in any case.
fn method(word: &str) -> Option<Method> {
    let upper = word.to_ascii_uppercase();
    ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        .contains(&upper.as_str())
        .then(|| Method::from_bytes(upper.as_bytes()).ok())?
}

fn with_headers(mut call: RequestBuilder, headers: &[(String, String)]) -> RequestBuilder {
    for (name, value) in headers {
        call = call.header(name.as_str(), value.as_str());
    }
    call
}

/// Sends a call and reads the whole answer whatever its status, returning its headers; a zero
/// timeout fails like Python's `requests` does.
async fn send(call: RequestBuilder, zero_timeout: bool) -> Result<HeaderMap, ()> {
    if zero_timeout {
        return Err(());
    }
    let response = call.send().await.map_err(|_| ())?;
    let headers = response.headers().clone();
    response.bytes().await.map_err(|_| ())?;
    Ok(headers)
}

/// Odoo's login: a GET with a JSON-RPC body and no timeout; every cookie of the answer is
/// kept, the answer itself is never checked.
async fn login(
    http: &reqwest::Client,
    odoo: &OdooAuth,
    counters: &Counters,
) -> Result<String, CallbackFailed> {
    let body = json!({"jsonrpc": "2.0",
                      "params": {"db": odoo.database, "login": odoo.username, "password": odoo.password}});
    let call = http
        .get(odoo.auth_url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string());
    counters.logins.fetch_add(1, Ordering::Relaxed);
    let headers = send(with_headers(call, &odoo.extra_headers), false)
        .await
        .map_err(|()| CallbackFailed)?;
    let cookies: Vec<String> = headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(str::trim)
        .filter(|pair| pair.contains('='))
        .map(String::from)
        .collect();
    Ok(cookies.join("; "))
}

/// `authUrl` with its last path segment replaced by `logout`, called with GET and no body.
async fn logout(http: &reqwest::Client, odoo: &OdooAuth, cookies: &str, counters: &Counters) {
    let mut url = odoo.auth_url.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop().push("logout");
    }
    let mut call = http.get(url);
    if !cookies.is_empty() {
        call = call.header(COOKIE, cookies);
    }
    counters.logouts.fetch_add(1, Ordering::Relaxed);
    let _ = send(call, false).await;
}
