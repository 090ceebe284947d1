//! Importing a connector exported from OpenG2P's `mts.connector` model.
//!
//! OpenG2P holds the mapping, the filter and the field list as JSON text, calls the registry
//! input type `custom`, and keeps the callback password in clear. The import carries every
//! setting over into OMC's TOML, leaves the password out (naming the environment variable that
//! must hold it), and says what it changed or could not carry over.

use super::load::{Format, parse_text};
use super::problems::ConfigError;
use serde_json::{Map, Value, json};
use url::Url;

/// The environment variable the imported configuration reads MTS's Odoo password from.
pub const CALLBACK_PASSWORD_VAR: &str = "OMC_CALLBACK__PASSWORD";
/// The environment variable the imported configuration reads OMC's own Odoo password from.
pub const ODOO_PASSWORD_VAR: &str = "OMC_ODOO__PASSWORD";

/// The imported configuration and what the import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// OMC's configuration as TOML, without secrets.
    pub toml: String,
    /// What was changed or could not be carried over, one sentence each.
    pub notes: Vec<String>,
}

fn text(export: &Map<String, Value>, key: &str) -> Option<String> {
    match export.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Imports an `mts.connector` record exported as JSON (one object, or a list holding one).
pub fn import_openg2p(export_json: &str, source: &str) -> Result<ImportReport, ConfigError> {
    let value = parse_text(export_json, Format::Json, source)?;
    let record = match value {
        Value::Array(mut items) if items.len() == 1 => items.remove(0),
        other => other,
    };
    let Value::Object(export) = record else {
        return Err(ConfigError {
            source_name: source.to_owned(),
            problems: vec![super::Problem {
                setting: "(file)".into(),
                message: "expected one exported mts.connector record (a JSON object)".into(),
            }],
        });
    };
    let mut notes = Vec::new();
    let mut out = Map::new();
    let copy = |from: &str, to: &str, out: &mut Map<String, Value>| {
        if let Some(v) = text(&export, from) {
            out.insert(to.to_owned(), json!(v));
        }
    };
    copy("name", "name", &mut out);
    copy("mts_url", "mts_url", &mut out);
    copy("output_format", "output_format", &mut out);
    copy("lang_code", "lang", &mut out);
    match text(&export, "input_type").as_deref() {
        Some("custom") | None => {
            out.insert("input_type".into(), json!("openg2p_registry"));
        }
        Some(other) => {
            notes.push(format!(
                "input_type '{other}' is not supported by OMC; set to openg2p_registry"
            ));
            out.insert("input_type".into(), json!("openg2p_registry"));
        }
    }
    for (key, only) in [("output_type", "json"), ("delivery_type", "callback")] {
        if let Some(v) = text(&export, key).filter(|v| v != only) {
            notes.push(format!(
                "{key} '{v}' is not supported by OMC; set to {only}"
            ));
        }
    }
    let job = match text(&export, "is_recurring").as_deref() {
        Some("onetime") => "one_time",
        _ => "recurring",
    };
    out.insert("job_type".into(), json!(job));
    if let Some(n) = export
        .get("interval_minutes")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)
    {
        out.insert("interval_minutes".into(), json!(n));
    } else if job == "recurring" {
        notes.push("interval_minutes was not set; OMC's default of 1440 (daily) applies".into());
    }
    for (from, to) in [
        ("mapping", "mapping"),
        ("g2p_search_domain", "filter"),
        ("g2p_selected_fields", "fields"),
    ] {
        match export.get(from) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                match serde_json::from_str::<Value>(s) {
                    Ok(v) if to == "filter" => {
                        out.insert(to.into(), json!(v.to_string()));
                    }
                    Ok(v) => {
                        out.insert(to.into(), v);
                    }
                    Err(e) => {
                        notes.push(format!("{from} is not valid JSON ({e}); not carried over"))
                    }
                }
            }
            Some(v @ (Value::Array(_) | Value::Object(_))) => {
                out.insert(to.into(), v.clone());
            }
            _ => {}
        }
    }
    let mut callback = Map::new();
    let cb = |from: &str, to: &str, callback: &mut Map<String, Value>| {
        if let Some(v) = text(&export, from) {
            callback.insert(to.to_owned(), json!(v));
        }
    };
    cb("callback_url", "url", &mut callback);
    cb("callback_httpmethod", "http_method", &mut callback);
    cb("callback_authtype", "auth_type", &mut callback);
    cb("callback_auth_url", "auth_url", &mut callback);
    cb("callback_auth_database", "database", &mut callback);
    cb("callback_auth_username", "username", &mut callback);
    if let Some(t) = export.get("callback_timeout").and_then(Value::as_u64) {
        callback.insert("timeout_seconds".into(), json!(t));
    }
    if text(&export, "callback_auth_password").is_some() {
        notes.push(format!(
            "callback_auth_password is not carried over: set the environment variable {CALLBACK_PASSWORD_VAR}"
        ));
    }
    callback.insert("password_env".into(), json!(CALLBACK_PASSWORD_VAR));
    // OMC's own connection to the registry is not in OpenG2P's model: derive it from the
    // callback's Odoo login.
    let base = text(&export, "callback_auth_url")
        .or_else(|| text(&export, "callback_url"))
        .and_then(|u| Url::parse(&u).ok())
        .map(|mut u| {
            u.set_path("/");
            u.set_query(None);
            u.to_string()
        });
    let mut odoo = Map::new();
    match base {
        Some(base) => {
            odoo.insert("base_url".into(), json!(base));
        }
        None => notes
            .push("odoo.base_url could not be derived from the callback settings; set it".into()),
    }
    if let Some(db) = text(&export, "callback_auth_database") {
        odoo.insert("database".into(), json!(db));
    }
    if let Some(user) = text(&export, "callback_auth_username") {
        odoo.insert("login".into(), json!(user));
    }
    odoo.insert("password_env".into(), json!(ODOO_PASSWORD_VAR));
    notes.push(format!(
        "OMC's own Odoo connection (odoo.*) was derived from the callback login; its password is read from {ODOO_PASSWORD_VAR}"
    ));
    out.insert("callback".into(), Value::Object(callback));
    out.insert("odoo".into(), Value::Object(odoo));
    for key in [
        "start_datetime",
        "end_datetime",
        "job_status",
        "cron_id",
        "odk_base_url",
        "odk_odata_url",
        "odk_email",
        "odk_password",
    ] {
        if export
            .get(key)
            .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)))
        {
            notes.push(format!("{key} has no counterpart in OMC; not carried over"));
        }
    }
    Ok(ImportReport {
        toml: toml::to_string_pretty(&Value::Object(out)).unwrap_or_default(),
        notes,
    })
}
