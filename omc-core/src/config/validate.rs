//! From a configuration tree to a [`ConnectorConfig`], checking everything at once.

use super::numbers;
use super::problems::{ConfigError, Origins, Problem, Problems, closest};
use super::read::Table;
use super::secret::{Environment, SecretSource};
use super::{
    AuthType, CallbackSettings, ConnectorConfig, DeliveryType, InputType, JobType, OdooSettings,
    OutputType, SinkKind,
};
use crate::domain::{Domain, FieldModel};

/// The model registrants live in.
const REGISTRANT_MODEL: &str = "res.partner";
use crate::jq::{Output, Program};
use crate::registry::IdTypes;
use crate::rules::{MandatoryFields, MtsField};
use crate::runs::RunSettings;
use crate::seeder::Mapping;
use crate::sink::{Headers, HttpMethod};
use crate::time::TimeOfDay;
use secrecy::SecretString;
use serde_json::{Value, json};
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
    for problem in check(&config) {
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

/// The checks every configuration passes, loaded or built in code.
pub(super) fn check(c: &ConnectorConfig) -> Vec<Problem> {
    let mut p = Problems::default();
    for (setting, url) in [
        ("mts_url", Some(&c.mts_url)),
        ("odoo.base_url", Some(&c.odoo.base_url)),
        ("callback.url", c.callback.url.as_ref()),
        ("callback.auth_url", c.callback.auth_url.as_ref()),
    ] {
        if let Some(url) = url {
            check_url(setting, url, &mut p);
        }
    }
    if !(c.lang.len() == 3 && c.lang.chars().all(|ch| ch.is_ascii_lowercase())) {
        p.add(
            "lang",
            format!(
                "'{}' is not a three-letter ISO 639-3 code such as 'eng'",
                c.lang
            ),
        );
    }
    if c.job_type == JobType::Recurring && c.interval_minutes == 0 {
        p.add(
            "interval_minutes",
            "a recurring job needs an interval of at least 1 minute",
        );
    }
    for (setting, value) in [
        ("interval_minutes", u64::from(c.interval_minutes)),
        (
            "callback.timeout_seconds",
            u64::from(c.callback.timeout_seconds),
        ),
        ("batch_size", c.batch_size as u64),
        ("max_in_flight", c.max_in_flight as u64),
        (
            "runs.delta_overlap_minutes",
            u64::from(c.runs.delta_overlap_minutes),
        ),
        ("runs.full_sweep_days", u64::from(c.runs.full_sweep_days)),
        ("runs.max_attempts", u64::from(c.runs.max_attempts)),
        ("runs.retention_days", u64::from(c.runs.retention_days)),
        ("runs.retry_seconds", u64::from(c.runs.retry_seconds)),
        (
            "runs.health_check_seconds",
            u64::from(c.runs.health_check_seconds),
        ),
    ] {
        if let Err(why) = numbers::whole(setting, &json!(value)) {
            p.add(setting, why);
        }
    }
    if let Some(Err(why)) = c
        .max_request_bytes
        .map(|bytes| numbers::whole("max_request_bytes", &json!(bytes)))
    {
        p.add("max_request_bytes", why);
    }
    check_request_time(c.batch_size, c.max_in_flight, &mut p);
    let model = FieldModel::openg2p();
    for (i, f) in c.fields.iter().enumerate() {
        if model.field(REGISTRANT_MODEL, f).is_none() {
            let hint = closest(f, model.fields_of(REGISTRANT_MODEL))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            p.add(
                format!("fields[{i}]"),
                format!("'{f}' is not a registrant field{hint}"),
            );
        }
    }
    let filters = [
        ("filter", Some(&c.filter)),
        ("cleanup_filter", c.cleanup_filter.as_ref()),
    ];
    for (setting, filter) in filters {
        if let Err(problems) = filter.map_or(Ok(()), |f| f.validate(&model, REGISTRANT_MODEL)) {
            for problem in problems {
                p.add(setting, problem.to_string());
            }
        }
    }
    if c.ledger
        .as_deref()
        .is_some_and(|l| l.as_os_str().is_empty() || l.is_dir())
    {
        p.add(
            "ledger",
            "must name a file (the run ledger), not a directory",
        );
    }
    check_mapping(&c.mapping, &c.fields, &c.mandatory_fields, &mut p);
    if c.id_types.vid.trim().is_empty() || c.id_types.token.trim().is_empty() {
        p.add("vid_id_type", "id type names must not be empty");
    } else if c.id_types.vid == c.id_types.token {
        p.add("token_id_type", "must differ from vid_id_type");
    }
    check_callback(c, &mut p);
    if let Some(format) = &c.output_format {
        check_output_format(format, &c.callback, &mut p);
    }
    if let Some(path) = &c.tls_ca_bundle {
        match std::fs::read_to_string(path) {
            Ok(pem) if pem.contains("-----BEGIN CERTIFICATE-----") => {}
            Ok(_) => p.add(
                "tls.ca_bundle",
                format!("{} holds no PEM certificate", path.display()),
            ),
            Err(e) => p.add(
                "tls.ca_bundle",
                format!("cannot read {}: {}", path.display(), e.kind()),
            ),
        }
    }
    p.list
}

/// MTS stores a request's records inside its POST, about 15 ms each, one POST at a time; OMC
/// gives a POST 30 s plus 50 ms a record. At a run's start `max_in_flight` POSTs arrive together
/// and the last waits for the others: beyond this bound it times out while MTS still stores it
/// (its outcome unknown, its registrants sent again next run).
fn check_request_time(batch_size: usize, max_in_flight: usize, p: &mut Problems) {
    use crate::seeder::{MTS_STORE_PER_RECORD, SUBMIT_TIMEOUT_BASE, SUBMIT_TIMEOUT_PER_RECORD};
    let ms = |d: std::time::Duration| d.as_millis() as u64;
    let (store_ms, timeout_base_ms, timeout_per_record_ms) = (
        ms(MTS_STORE_PER_RECORD),
        ms(SUBMIT_TIMEOUT_BASE),
        ms(SUBMIT_TIMEOUT_PER_RECORD),
    );
    let (n, f) = (batch_size as u64, max_in_flight as u64);
    let waited = n.saturating_mul(store_ms).saturating_mul(f);
    let allowed = timeout_base_ms.saturating_add(n.saturating_mul(timeout_per_record_ms));
    if waited > allowed {
        let most = (store_ms * f)
            .checked_sub(timeout_per_record_ms)
            .map_or(u64::MAX, |per| timeout_base_ms / per.max(1));
        p.add(
            "batch_size",
            format!(
                "{n} records with {f} requests in flight: MTS stores a request's records before \
                 answering (about {store_ms} ms each, one request at a time), so the last \
                 request would wait about {} s, past its {} s timeout; use at most {most} \
                 records, or fewer requests in flight",
                waited / 1000,
                allowed / 1000
            ),
        );
    }
}

fn check_url(setting: &str, url: &url::Url, p: &mut Problems) {
    if !matches!(url.scheme(), "http" | "https") {
        p.add(
            setting,
            format!("the scheme must be http or https, not '{}'", url.scheme()),
        );
    } else if url.host_str().is_none_or(str::is_empty) {
        p.add(setting, "the URL has no host");
    } else if !url.username().is_empty() || url.password().is_some() {
        p.add(
            setting,
            "credentials do not belong in a URL; use the password settings",
        );
    }
}

fn check_callback(c: &ConnectorConfig, p: &mut Problems) {
    let cb = &c.callback;
    if cb.sink != SinkKind::SelfHosted && cb.listen.is_some() {
        p.add(
            "callback.listen",
            format!(
                "only the self-hosted sink listens; remove it or set sink = \"self_hosted\" \
                 (sink is '{}')",
                cb.sink.as_str()
            ),
        );
    }
    match cb.sink {
        SinkKind::Odoo => {}
        SinkKind::SelfHosted => return check_self_hosted(cb, p),
        SinkKind::OpenG2pApi => return check_openg2p_api(cb, p),
    }
    match cb.auth_type {
        AuthType::Odoo => {
            // MTS stores this login: it must be one of its own, never OMC's (`odoo.login`),
            // which can read registrants and delete their ids.
            let blank = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
            if blank(&cb.database) {
                p.add(
                    "callback.database",
                    "auth type odoo needs the Odoo database MTS logs in to",
                );
            }
            if blank(&cb.username) {
                p.add(
                    "callback.username",
                    "auth type odoo needs an Odoo login of MTS's own (create on g2p.reg.id, \
                     read on g2p.id.type); OMC never gives MTS its own odoo.login",
                );
            }
            if cb.password.is_none() {
                p.add(
                    "callback.password",
                    "auth type odoo needs the password of MTS's Odoo login (password_env or \
                     password_file); OMC never gives MTS its own odoo.password",
                );
            }
            if cb.bulk {
                p.add("callback.bulk", "auth type odoo calls Odoo's call_kw once per record; bulk delivery needs the self-hosted sink");
            }
        }
        AuthType::StaticBearer if cb.bearer_token.is_none() && cb.url.is_some() => {
            p.add("callback.bearer_token", "auth type staticBearer with a callback URL needs bearer_token_env or bearer_token_file");
        }
        _ => {}
    }
}

/// The self-hosted receiver: where it listens, the URL MTS is given, and credentials.
fn check_self_hosted(cb: &CallbackSettings, p: &mut Problems) {
    match cb.listen {
        None => p.add(
            "callback.listen",
            "the self-hosted sink needs the address its receiver listens on, such as \
             0.0.0.0:8090",
        ),
        Some(addr) if addr.ip().is_unspecified() && cb.url.is_none() => p.add(
            "callback.url",
            "the receiver listens on every address: give the URL MTS calls it at (behind a \
             proxy, the proxy's)",
        ),
        Some(_) => {}
    }
    match cb.auth_type {
        AuthType::None => p.add(
            "callback.auth_type",
            "the self-hosted receiver accepts only authenticated callbacks: staticBearer (a \
             random secret for each run) or odoo (MTS logs in at the receiver)",
        ),
        AuthType::Odoo if cb.username.is_none() || cb.password.is_none() => p.add(
            "callback.username",
            "auth type odoo at the self-hosted receiver needs the login MTS uses \
             (username and password_env or password_file)",
        ),
        _ => {}
    }
    if cb.bearer_token.is_some() {
        p.add(
            "callback.bearer_token",
            "the self-hosted receiver makes a new bearer secret for each run; remove it",
        );
    }
}

/// OpenG2P's `update_individual` API: HTTP Basic with an Odoo login, one record a callback.
fn check_openg2p_api(cb: &CallbackSettings, p: &mut Problems) {
    if cb.username.as_deref().is_none_or(|v| v.trim().is_empty()) {
        p.add(
            "callback.username",
            "the OpenG2P API sink needs the Odoo login MTS calls OpenG2P's API with (HTTP Basic)",
        );
    }
    if cb.password.is_none() {
        p.add(
            "callback.password",
            "the OpenG2P API sink needs that login's password (password_env or password_file)",
        );
    }
    if cb.bulk {
        p.add(
            "callback.bulk",
            "OpenG2P's API refuses a whole list for one bad element: the OpenG2P API sink sends \
             one record a callback",
        );
    }
    if cb.auth_type == AuthType::StaticBearer {
        p.add(
            "callback.auth_type",
            "the OpenG2P API sink authenticates with HTTP Basic (username, password); remove \
             auth_type",
        );
    }
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

/// Every mapped path must start at a field the connector sends (or `vid`, which OMC adds);
/// a mandatory MTS field mapped to a field not sent would have MTS refuse every record.
fn check_mapping(
    mapping: &Mapping,
    fields: &[String],
    mandatory: &MandatoryFields,
    p: &mut Problems,
) {
    let sent = |path: &str| {
        let head = path.split('.').next().unwrap_or(path);
        fields.iter().any(|f| f == head)
    };
    if mapping.vid != "vid" {
        p.add(
            "mapping.vid",
            format!(
                "'{}': OMC puts the VID under 'vid'; map vid to \"vid\"",
                mapping.vid
            ),
        );
    }
    let entries: [(MtsField, Vec<&str>); 6] = [
        (
            MtsField::Name,
            mapping.name.iter().map(String::as_str).collect(),
        ),
        (MtsField::Gender, vec![mapping.gender.as_str()]),
        (MtsField::Dob, vec![mapping.dob.as_str()]),
        (MtsField::PhoneNumber, vec![mapping.phone_number.as_str()]),
        (MtsField::EmailId, vec![mapping.email_id.as_str()]),
        (
            MtsField::FullAddress,
            mapping.full_address.iter().map(String::as_str).collect(),
        ),
    ];
    for (field, paths) in entries {
        for path in paths.into_iter().filter(|p| !sent(p)) {
            let consequence = match field.codes() {
                Some((missing, _)) if mandatory.0.contains(&field) => {
                    format!(
                        "; {} is mandatory, so MTS would refuse every record with {missing}",
                        field.as_str()
                    )
                }
                _ => "; MTS would never receive it".into(),
            };
            let hint = if path == "name" {
                " (OpenG2P's default mapping sends 'name', which OpenG2P's own default field list \
                 does not hold; map name to [\"given_name\", \"family_name\"])"
                    .to_owned()
            } else {
                String::new()
            };
            p.add(
                format!("mapping.{}", field.as_str()),
                format!("'{path}' is not in the field list{hint}{consequence}"),
            );
        }
    }
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

/// A sample MTS result, as the output format receives it.
pub fn sample_result(processed: bool) -> Value {
    json!({
        "input": {"id": 42, "vid": "4918350000000001", "given_name": "Sample", "family_name": "Person"},
        "output": if processed {
            json!({"vid": "4918350000000001", "status": "processed",
                   "token": "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA",
                   "errorCode": null, "errorMessage": null})
        } else {
            json!({"vid": "4918350000000001", "status": "invalid", "token": null,
                   "errorCode": "ATS-REQ-011", "errorMessage": "gender missing"})
        }
    })
}

fn check_output_format(format: &str, callback: &CallbackSettings, p: &mut Problems) {
    let program = match Program::compile(format) {
        Ok(program) => program,
        Err(e) => {
            p.add("output_format", e.to_string());
            return;
        }
    };
    for processed in [true, false] {
        let what = if processed {
            "a processed result"
        } else {
            "a failed result"
        };
        match program.first(&sample_result(processed)) {
            Output::Value(body) => {
                // The Odoo sink's target (call_kw) needs a JSON-RPC call with model and method.
                let odoo_target = callback.sink == SinkKind::Odoo
                    && callback.auth_type == AuthType::Odoo
                    && callback.url.is_none();
                if odoo_target
                    && (body["params"]["model"].as_str().is_none()
                        || body["params"]["method"].as_str().is_none())
                {
                    p.add("output_format", format!("on {what} it does not build the JSON-RPC call Odoo's call_kw needs (params.model, params.method)"));
                }
            }
            Output::Nothing => p.add(
                "output_format",
                format!("yields nothing on {what}: MTS would send a callback without a body"),
            ),
            Output::Failed(_) => p.add(
                "output_format",
                format!("fails on {what}: MTS would send a callback without a body"),
            ),
        }
    }
}
