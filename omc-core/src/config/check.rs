//! Checking a [`ConnectorConfig`], however it was made (loaded or built in code): every
//! problem at once, each naming its setting.

use super::numbers;
use super::problems::{Problem, Problems};
use super::{AuthType, CallbackSettings, ConnectorConfig, JobType, SinkKind};
use crate::domain::FieldModel;
use crate::jq::{Output, Program};
use crate::mts_rules::{MandatoryFields, MtsField};
use crate::seeder::Mapping;
use serde_json::{Value, json};

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
    for problem in c.check_model(&FieldModel::stock()) {
        if !(c.model_extended && problem.unknown) {
            p.add(problem.setting, problem.message);
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

/// Every mapped path must start at a field the connector sends (or `vid`, which OMC adds);
/// a mandatory MTS field mapped to a field not sent would have MTS refuse every record.
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
        // MTS takes a record when any part of a name or an address holds a value: a mandatory
        // field is refused for every record only when none of its parts is sent.
        let none_sent = paths.iter().all(|path| !sent(path));
        for path in paths.into_iter().filter(|p| !sent(p)) {
            let consequence = match field.codes() {
                Some((missing, _)) if none_sent && mandatory.0.contains(&field) => {
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

/// A sample MTS result, as the output format receives it (public as `testing::sample_result`).
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
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
