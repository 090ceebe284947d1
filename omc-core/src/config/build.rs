//! From a configuration tree (TOML, JSON, `OMC_*` variables) to a [`ConnectorConfig`]:
//! every setting read, every problem reading them collected at once.

use super::problems::{ConfigError, Origins, Problems, closest};
use super::read::Table;
use super::secret::{Environment, SecretSource};
use super::{
    AuthType, CallbackSettings, ConnectorConfig, DeliveryType, InputType, JobType, OdooSettings,
    OutputType, SinkKind,
};
use crate::domain::Domain;
use crate::mts_rules::{MandatoryFields, MtsField};
use crate::registry::IdTypes;
use crate::runs::RunSettings;
use crate::seeder::Mapping;
use crate::sink::{Headers, HttpMethod};
use crate::time::TimeOfDay;
use secrecy::SecretString;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const TOP: &[&str] = &[
    "name",
    "mts_url",
    "input_type",
    "mapping",
    "output_type",
    "output_format",
    "delivery_type",
    "job_type",
    "lang",
    "interval_minutes",
    "filter",
    "fields",
    "model_extended",
    "callback",
    "vid_id_type",
    "token_id_type",
    "remove_vids",
    "cleanup_filter",
    "ledger",
    "runs",
    "batch_size",
    "max_in_flight",
    "max_request_bytes",
    "mandatory_fields",
    "odoo",
    "tls",
];

const CALLBACK: &[&str] = &[
    "sink",
    "listen",
    "url",
    "http_method",
    "timeout_seconds",
    "auth_type",
    "auth_url",
    "database",
    "username",
    "password",
    "password_env",
    "password_file",
    "bearer_token",
    "bearer_token_env",
    "bearer_token_file",
    "extra_headers",
    "bulk",
];

const ODOO: &[&str] = &[
    "base_url",
    "database",
    "login",
    "password",
    "password_env",
    "password_file",
];

/// Reads and checks a configuration tree; `origins` says which settings `OMC_*` variables set.
pub(super) fn build(
    tree: &Value,
    env: &Environment,
    source: &str,
    origins: Origins,
) -> Result<ConnectorConfig, ConfigError> {
    let mut p = Problems {
        origins,
        ..Problems::default()
    };
    for (var, why) in p.origins.refused.clone() {
        p.add(format!("environment variable {var}"), why);
    }
    let root = Table::root(tree, &mut p);
    root.only(TOP, &mut p);
    let name = root.required_string("name", &mut p);
    let mts_url = root.url("mts_url", true, &mut p);
    let input_type = match root.choice(
        "input_type",
        &["openg2p_registry", "custom", "odk", "csv"],
        &mut p,
    ) {
        Some("odk") | Some("csv") => {
            p.add("input_type", "MTS can read ODK and CSV itself, but OMC supports only openg2p_registry (OpenG2P's 'custom') so far");
            InputType::OpenG2pRegistry
        }
        _ => InputType::OpenG2pRegistry,
    };
    let _ = root.choice("output_type", &["json"], &mut p);
    let _ = root.choice("delivery_type", &["callback"], &mut p);
    let job_type = match root.choice("job_type", &["recurring", "one_time", "onetime"], &mut p) {
        Some("one_time" | "onetime") => JobType::OneTime,
        _ => JobType::Recurring,
    };
    let lang = root.string("lang", &mut p).unwrap_or_else(|| "eng".into());
    let interval_minutes = root.number("interval_minutes", 1440, &mut p) as u32;
    let filter = read_filter(&root, &mut p);
    let fields = root
        .strings("fields", &mut p)
        .unwrap_or_else(super::default_fields);
    let model_extended = root.boolean("model_extended", false, &mut p);
    let mapping = read_mapping(&root, &mut p);
    let mandatory_fields = read_mandatory(&root, &mut p);
    let id_types = IdTypes {
        vid: root
            .string("vid_id_type", &mut p)
            .unwrap_or_else(|| IdTypes::default().vid),
        token: root
            .string("token_id_type", &mut p)
            .unwrap_or_else(|| IdTypes::default().token),
    };
    let remove_vids = root.boolean("remove_vids", true, &mut p);
    let cleanup_filter = read_domain(&root, "cleanup_filter", &mut p);
    let ledger = root.string("ledger", &mut p).map(|path| env.path(&path));
    let runs = read_runs(&root, &mut p);
    let batch_size = root.number("batch_size", 500, &mut p) as usize;
    let max_in_flight = root.number("max_in_flight", 2, &mut p) as usize;
    let max_request_bytes = root
        .has("max_request_bytes")
        .then(|| root.number("max_request_bytes", 0, &mut p) as usize);
    let mut secret_sources = BTreeMap::new();
    let odoo = read_odoo(&root, env, &mut secret_sources, &mut p);
    let callback = read_callback(&root, env, &mut secret_sources, &mut p);
    let output_format = root
        .string("output_format", &mut p)
        .filter(|f| !f.trim().is_empty());
    let tls = root.table("tls", &mut p);
    tls.only(&["ca_bundle"], &mut p);
    let tls_ca_bundle = tls.string("ca_bundle", &mut p).map(|path| env.path(&path));
    // Settings that could not be read stand in as placeholders, so that every other setting is
    // still checked: one pass reports every problem.
    let complete = name.is_some() && mts_url.is_some() && odoo.complete;
    let config = ConnectorConfig {
        name: name.unwrap_or_default(),
        mts_url: mts_url.unwrap_or_else(placeholder_url),
        input_type,
        mapping,
        output_type: OutputType::Json,
        output_format,
        delivery_type: DeliveryType::Callback,
        job_type,
        lang,
        interval_minutes,
        filter,
        fields,
        model_extended,
        callback,
        id_types,
        remove_vids,
        cleanup_filter,
        ledger,
        runs,
        batch_size,
        max_in_flight,
        max_request_bytes,
        mandatory_fields,
        odoo: odoo.settings,
        tls_ca_bundle,
        secret_sources,
    };
    // A setting already refused while reading is not reported again by the checks.
    let refused: BTreeSet<String> = p.list.iter().map(|q| q.setting.clone()).collect();
    for problem in super::check::check(&config) {
        if !refused.contains(&problem.setting) {
            p.list.push(problem);
        }
    }
    let problems = p.into_list();
    if complete && problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError {
            source_name: source.to_owned(),
            problems,
        })
    }
}

/// Stands in for a URL that could not be read (never used: the configuration is refused).
fn placeholder_url() -> url::Url {
    url::Url::parse("http://unset.invalid/").expect("a valid URL")
}

fn read_domain(root: &Table<'_>, key: &str, p: &mut Problems) -> Option<Domain> {
    let parsed = match root.get(key)? {
        Value::String(text) => Domain::parse(text),
        value => Domain::from_json(value),
    };
    parsed.map_err(|e| p.add(key, e.to_string())).ok()
}

fn read_runs(root: &Table<'_>, p: &mut Problems) -> RunSettings {
    let runs = root.table("runs", p);
    runs.only(
        &[
            "delta_overlap_minutes",
            "full_sweep_days",
            "max_attempts",
            "retention_days",
            "run_at",
            "retry_seconds",
            "health_check_seconds",
        ],
        p,
    );
    let d = RunSettings::default();
    let run_at = runs.string("run_at", p).and_then(|text| {
        TimeOfDay::parse(&text)
            .map_err(|why| p.add("runs.run_at", why))
            .ok()
    });
    let mut number = |key: &str, default: u32| runs.number(key, u64::from(default), p) as u32;
    RunSettings::new(
        number("delta_overlap_minutes", d.delta_overlap_minutes),
        number("full_sweep_days", d.full_sweep_days),
        number("max_attempts", d.max_attempts),
        number("retention_days", d.retention_days),
    )
    .with_retry_seconds(number("retry_seconds", d.retry_seconds))
    .with_health_check_seconds(number("health_check_seconds", d.health_check_seconds))
    .with_run_at(run_at)
}

fn read_filter(root: &Table<'_>, p: &mut Problems) -> Domain {
    let parsed = match root.get("filter") {
        None => return Domain::openg2p_default(),
        Some(Value::String(text)) => Domain::parse(text),
        Some(value) => Domain::from_json(value),
    };
    parsed.unwrap_or_else(|e| {
        p.add("filter", e.to_string());
        Domain::openg2p_default()
    })
}

fn read_mapping(root: &Table<'_>, p: &mut Problems) -> Mapping {
    let mut mapping = Mapping::default();
    let value = match root.get("mapping") {
        None => return mapping,
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(v) => v,
            Err(e) => {
                p.add("mapping", format!("not valid JSON: {e}"));
                return mapping;
            }
        },
        Some(v) => v.clone(),
    };
    let Value::Object(map) = value else {
        p.add(
            "mapping",
            "expected a table from MTS field to registrant field",
        );
        return mapping;
    };
    let keys: Vec<&str> = MtsField::ALL.iter().map(|f| f.as_str()).collect();
    for (key, v) in &map {
        let setting = format!("mapping.{key}");
        let list = |v: &Value, p: &mut Problems| -> Option<Vec<String>> {
            match v {
                Value::String(s) => Some(vec![s.clone()]),
                Value::Array(items)
                    if !items.is_empty()
                        && items
                            .iter()
                            .all(|i| i.as_str().is_some_and(|s| !s.is_empty())) =>
                {
                    Some(
                        items
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_owned))
                            .collect(),
                    )
                }
                _ => {
                    p.add(
                        &setting,
                        "expected a field name or a non-empty list of field names",
                    );
                    None
                }
            }
        };
        let single = |v: &Value, p: &mut Problems| -> Option<String> {
            match v {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                _ => {
                    p.add(&setting, "expected a field name");
                    None
                }
            }
        };
        match key.as_str() {
            "vid" => mapping.vid = single(v, p).unwrap_or(mapping.vid),
            "name" => mapping.name = list(v, p).unwrap_or(mapping.name),
            "gender" => mapping.gender = single(v, p).unwrap_or(mapping.gender),
            "dob" => mapping.dob = single(v, p).unwrap_or(mapping.dob),
            "phoneNumber" => mapping.phone_number = single(v, p).unwrap_or(mapping.phone_number),
            "emailId" => mapping.email_id = single(v, p).unwrap_or(mapping.email_id),
            "fullAddress" => mapping.full_address = list(v, p).unwrap_or(mapping.full_address),
            other => {
                let hint = closest(other, keys.iter().copied())
                    .map(|c| format!("; did you mean '{c}'?"))
                    .unwrap_or_default();
                p.add(
                    setting.clone(),
                    format!(
                        "'{other}' is not an MTS field (MTS knows {}){hint}",
                        keys.join(", ")
                    ),
                );
            }
        }
    }
    mapping
}

fn read_mandatory(root: &Table<'_>, p: &mut Problems) -> MandatoryFields {
    let Some(names) = root.strings("mandatory_fields", p) else {
        return MandatoryFields::default();
    };
    let mut set = std::collections::BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        match MtsField::ALL.iter().find(|f| f.as_str() == name) {
            Some(MtsField::Vid) => {}
            Some(f) => {
                set.insert(*f);
            }
            None => p.add(
                format!("mandatory_fields[{i}]"),
                format!("'{name}' is not an MTS field"),
            ),
        }
    }
    MandatoryFields(set)
}

/// OMC's own Odoo settings as read; placeholders where a setting could not be read.
struct ReadOdoo {
    settings: OdooSettings,
    complete: bool,
}

fn read_odoo(
    root: &Table<'_>,
    env: &Environment,
    sources: &mut BTreeMap<String, SecretSource>,
    p: &mut Problems,
) -> ReadOdoo {
    if !root.has("odoo") {
        p.add(
            "odoo",
            "required, and missing: the registry's base_url, database, login and password_env",
        );
    }
    let t = root.table("odoo", p);
    t.only(ODOO, p);
    let (base_url, database, login) = if root.has("odoo") {
        (
            t.url("base_url", true, p),
            t.required_string("database", p),
            t.required_string("login", p),
        )
    } else {
        (None, None, None)
    };
    let password = t.secret("password", env, p);
    if root.has("odoo")
        && password.is_none()
        && !t.has("password")
        && !t.has("password_env")
        && !t.has("password_file")
    {
        p.add(
            "odoo.password",
            "required, and missing: set password_env or password_file",
        );
    }
    let complete =
        base_url.is_some() && database.is_some() && login.is_some() && password.is_some();
    let password = password.map(|(password, source)| {
        sources.insert("odoo.password".into(), source);
        password
    });
    ReadOdoo {
        settings: OdooSettings {
            base_url: base_url.unwrap_or_else(placeholder_url),
            database: database.unwrap_or_default(),
            login: login.unwrap_or_default(),
            password: password.unwrap_or_else(|| SecretString::from(String::new())),
        },
        complete,
    }
}

fn read_callback(
    root: &Table<'_>,
    env: &Environment,
    sources: &mut BTreeMap<String, SecretSource>,
    p: &mut Problems,
) -> CallbackSettings {
    let t = root.table("callback", p);
    t.only(CALLBACK, p);
    let sink = match t.choice("sink", &["odoo", "self_hosted", "openg2p_api"], p) {
        Some("self_hosted") => SinkKind::SelfHosted,
        Some("openg2p_api") => SinkKind::OpenG2pApi,
        _ => SinkKind::Odoo,
    };
    let listen = t.string("listen", p).and_then(|text| {
        text.trim()
            .parse()
            .map_err(|_| {
                p.add(
                    "callback.listen",
                    format!("'{text}' is not an address and port such as 0.0.0.0:8090"),
                );
            })
            .ok()
    });
    let mut c = CallbackSettings {
        sink,
        listen,
        url: t.url("url", false, p),
        http_method: match t.choice("http_method", &["POST", "PUT", "GET", "PATCH"], p) {
            Some("PUT") => HttpMethod::Put,
            Some("GET") => HttpMethod::Get,
            Some("PATCH") => HttpMethod::Patch,
            _ => HttpMethod::Post,
        },
        timeout_seconds: t.number("timeout_seconds", 10, p) as u32,
        auth_type: match t.choice("auth_type", &["odoo", "staticBearer", "none"], p) {
            Some("staticBearer") => AuthType::StaticBearer,
            Some("none") => AuthType::None,
            _ => AuthType::Odoo,
        },
        auth_url: t.url("auth_url", false, p),
        database: t.string("database", p),
        username: t.string("username", p),
        // The self-hosted receiver takes a batch's results in one callback.
        bulk: t.boolean("bulk", sink == SinkKind::SelfHosted, p),
        ..CallbackSettings::default()
    };
    if let Some((secret, source)) = t.secret("password", env, p) {
        c.password = Some(secret);
        sources.insert("callback.password".into(), source);
    }
    if let Some((secret, source)) = t.secret("bearer_token", env, p) {
        c.bearer_token = Some(secret);
        sources.insert("callback.bearer_token".into(), source);
    }
    c.extra_headers = read_headers(&t.table("extra_headers", p), env, sources, p);
    c
}

fn read_headers(
    t: &Table<'_>,
    env: &Environment,
    sources: &mut BTreeMap<String, SecretSource>,
    p: &mut Problems,
) -> Headers {
    let mut headers = Headers::new();
    for (name, value) in t.entries() {
        let setting = t.setting(name);
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        {
            p.add(&setting, "not a valid HTTP header name");
            continue;
        }
        let source = match value {
            Value::String(_) => SecretSource::Plain,
            Value::Object(map) => match (
                map.get("env").and_then(Value::as_str),
                map.get("file").and_then(Value::as_str),
                map.len(),
            ) {
                (Some(var), None, 1) => SecretSource::Env(var.to_owned()),
                (None, Some(path), 1) => SecretSource::File(env.path(path)),
                _ => {
                    p.add(
                        &setting,
                        "a secret header is { env = \"VARIABLE\" } or { file = \"path\" }",
                    );
                    continue;
                }
            },
            _ => {
                p.add(
                    &setting,
                    "expected a string or { env = ... } / { file = ... }",
                );
                continue;
            }
        };
        let secret = match (&source, value) {
            (SecretSource::Plain, Value::String(s)) => Ok(secrecy::SecretString::from(s.clone())),
            _ => env.read_secret(&source),
        };
        match secret {
            Ok(secret) => {
                headers.insert(name.clone(), secret);
                sources.insert(setting, source);
            }
            Err(why) => p.add(&setting, why),
        }
    }
    headers
}
