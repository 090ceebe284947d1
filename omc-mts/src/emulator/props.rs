//! `callbackProperties`, checked in the order MTS's models check them.

use super::validate::{Check, Refusal, falsy, pydantic};
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;
use url::Url;

/// How the emulator delivers a request's results. Holds secrets: never printed.
pub(crate) struct CallbackSpec {
    pub(crate) url: Url,
    pub(crate) method: String,
    pub(crate) extra_headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
    pub(crate) call_in_bulk: bool,
    pub(crate) auth: AuthSpec,
}

/// `authType` with what it needs.
pub(crate) enum AuthSpec {
    None,
    StaticBearer(String),
    Odoo(OdooAuth),
    /// Accepted like MTS does, but the emulator cannot fetch OAuth tokens: the callbacks of
    /// such a request fail with `error_making_callback_request`.
    Oauth,
}

/// `authOdoo`.
pub(crate) struct OdooAuth {
    pub(crate) auth_url: Url,
    pub(crate) database: String,
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) extra_headers: Vec<(String, String)>,
}

impl AuthSpec {
    pub(crate) fn auth_type(&self) -> &'static str {
        match self {
            Self::None => "none",
            Self::StaticBearer(_) => "staticBearer",
            Self::Odoo(_) => "odoo",
            Self::Oauth => "oauth",
        }
    }
}

impl fmt::Debug for CallbackSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSpec")
            .field("url", &omc_core::sink::redact_url(&self.url))
            .field("method", &self.method)
            .field("call_in_bulk", &self.call_in_bulk)
            .field("auth_type", &self.auth.auth_type())
            .finish_non_exhaustive()
    }
}

fn bad(code: &'static str, message: &str) -> Refusal {
    Refusal::new(400, code, message)
}

/// Checks `callbackProperties` for a callback delivery with output `output`.
pub(crate) fn callback_properties(
    check: &mut Check,
    output: Option<&str>,
    value: Option<&Value>,
) -> Result<Option<CallbackSpec>, Refusal> {
    let Some(value) = value.filter(|v| !falsy(v)) else {
        return Err(bad(
            "ATS-REQ-024",
            "callbackProperties cannot be empty for deliverytype callback",
        ));
    };
    let Some(props) = value.as_object() else {
        return Ok(check.type_error(pydantic::DICT));
    };
    if output == Some("csv") {
        if props.get("requestFileName").is_none_or(falsy) {
            return Err(bad(
                "ATS-REQ-025",
                "requestFileName is not valid in callbackProperties",
            ));
        }
        if props.get("callInBulk").is_none_or(falsy) {
            return Err(bad(
                "ATS-REQ-026",
                "callInBulk cannot be false for csv output",
            ));
        }
    }
    let url = match props.get("url") {
        None => check.type_error(pydantic::REQUIRED),
        Some(v) => url_of(check, v),
    };
    let method = string(check, props, "httpMethod").unwrap_or_else(|| "POST".into());
    let extra_headers = headers(check, props, "extraHeaders");
    let timeout = match props.get("timeoutSeconds") {
        None => Some(10),
        Some(v) => integer(v).or_else(|| check.type_error(pydantic::INT)),
    };
    let call_in_bulk = match props.get("callInBulk") {
        None => Some(false),
        Some(v) => boolean(v).or_else(|| check.type_error(pydantic::BOOL)),
    };
    string(check, props, "requestFileName");
    let auth = auth(check, props)?;
    Ok(match (url, timeout, call_in_bulk, auth) {
        (Some(url), Some(timeout), Some(call_in_bulk), Some(auth)) => Some(CallbackSpec {
            url,
            method,
            extra_headers,
            timeout: Duration::from_secs(u64::try_from(timeout).unwrap_or(0)),
            call_in_bulk,
            auth,
        }),
        _ => None,
    })
}

fn auth(check: &mut Check, props: &Map<String, Value>) -> Result<Option<AuthSpec>, Refusal> {
    let auth_type = match props.get("authType") {
        None => "none",
        Some(Value::String(s))
            if ["none", "odoo", "oauth", "staticBearer"].contains(&s.as_str()) =>
        {
            s.as_str()
        }
        Some(_) => {
            return Err(bad(
                "ATS-REQ-027",
                "unsupported authType in CallbackProperties",
            ));
        }
    };
    let odoo = props.get("authOdoo");
    if auth_type == "odoo" && odoo.is_none_or(falsy) {
        return Err(bad(
            "ATS-REQ-028",
            "authOdoo cannot be empty for authType odoo",
        ));
    }
    let odoo = match odoo.filter(|v| !v.is_null()) {
        Some(v) => odoo_auth(check, v)?,
        None => None,
    };
    if auth_type == "oauth" && props.get("authOauth").is_none_or(falsy) {
        return Err(bad(
            "ATS-REQ-029",
            "authOauth cannot be empty for authType oauth",
        ));
    }
    let bearer = props.get("authStaticBearer");
    if auth_type == "staticBearer" && bearer.is_none_or(falsy) {
        return Err(bad(
            "ATS-REQ-030",
            "authStaticBearer cannot be empty for authType staticBearer",
        ));
    }
    let token = match bearer.filter(|v| !v.is_null()).map(Value::as_object) {
        Some(Some(b)) => match b.get("token") {
            Some(Value::String(t)) if !t.is_empty() => Some(t.clone()),
            _ => {
                return Err(bad(
                    "ATS-REQ-034",
                    "token in authStaticBearer cannot be empty for authType staticBearer",
                ));
            }
        },
        Some(None) => check.type_error(pydantic::DICT),
        None => None,
    };
    Ok(match auth_type {
        "odoo" => odoo.map(AuthSpec::Odoo),
        "staticBearer" => token.map(AuthSpec::StaticBearer),
        "oauth" => Some(AuthSpec::Oauth),
        _ => Some(AuthSpec::None),
    })
}

fn odoo_auth(check: &mut Check, value: &Value) -> Result<Option<OdooAuth>, Refusal> {
    let Some(odoo) = value.as_object() else {
        return Ok(check.type_error(pydantic::DICT));
    };
    for (key, code, message) in [
        (
            "authUrl",
            "ATS-REQ-031",
            "authUrl in authOdoo, cannot be empty for authType odoo",
        ),
        (
            "username",
            "ATS-REQ-032",
            "username in authOdoo, cannot be empty for authType odoo",
        ),
        (
            "database",
            "ATS-REQ-033",
            "database in authOdoo, cannot be empty for authType odoo",
        ),
    ] {
        if odoo.get(key).is_none_or(falsy) {
            return Err(bad(code, message));
        }
    }
    let auth_url = odoo.get("authUrl").and_then(|v| url_of(check, v));
    let database = string(check, odoo, "database");
    let username = string(check, odoo, "username");
    let password = match odoo.get("password") {
        None => check.type_error(pydantic::REQUIRED),
        Some(_) => string(check, odoo, "password"),
    };
    let extra_headers = headers(check, odoo, "extraHeaders");
    Ok(match (auth_url, database, username, password) {
        (Some(auth_url), Some(database), Some(username), Some(password)) => Some(OdooAuth {
            auth_url,
            database,
            username,
            password,
            extra_headers,
        }),
        _ => None,
    })
}

/// An absolute URL with a host, as pydantic's `AnyUrl` wants, noting pydantic's message
/// otherwise.
fn url_of(check: &mut Check, value: &Value) -> Option<Url> {
    let Some(text) = value.as_str() else {
        return check.type_error(pydantic::STR);
    };
    let has_scheme = text
        .split_once("://")
        .is_some_and(|(scheme, _)| !scheme.is_empty());
    match Url::parse(text) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => Some(url),
        _ if has_scheme => check.type_error(pydantic::URL_HOST),
        _ => check.type_error(pydantic::URL_SCHEME),
    }
}

/// A string field as pydantic's `str` takes it (numbers and booleans are turned into strings).
fn string(check: &mut Check, map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Null => check.type_error(pydantic::NONE),
        _ => check.type_error(pydantic::STR),
    }
}

fn headers(check: &mut Check, map: &Map<String, Value>, key: &str) -> Vec<(String, String)> {
    match map.get(key) {
        None => Vec::new(),
        Some(Value::Object(h)) => h
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => (k.clone(), s.clone()),
                other => (k.clone(), other.to_string()),
            })
            .collect(),
        Some(_) => check.type_error(pydantic::DICT).unwrap_or_default(),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" | "y" | "t" => Some(true),
            "false" | "no" | "off" | "0" | "n" | "f" => Some(false),
            _ => None,
        },
        _ => None,
    }
}
