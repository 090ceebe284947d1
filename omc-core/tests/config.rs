//! Loading, checking and writing connector configurations.

mod common;

use common::Captured;
use omc_core::ConnectorConfig;
use omc_core::config::{ConfigError, Environment, Format, import_openg2p};
use std::sync::Arc;

const PASSWORD: &str = "s3cr3t-Known-Password-7731";
const HEADER_SECRET: &str = "Basic b21jOmhlYWRlci1zZWNyZXQ=";

fn env() -> Environment {
    Environment::from_vars([
        ("ODOO_PW", PASSWORD),
        ("MTS_ODOO_PW", PASSWORD),
        ("BASIC", HEADER_SECRET),
    ])
}

const VALID: &str = r#"
name = "openg2p-mosip"
mts_url = "http://mts.example:8000/v1/mts/"
job_type = "recurring"
interval_minutes = 60
filter = '[["is_registrant", "=", true], ["reg_ids.id_type", "=like", "MOSIP VID"], "!", ["reg_ids.id_type", "=like", "MOSIP UIN TOKEN"]]'
fields = ["id", "given_name", "family_name", "birthdate", "gender", "address", "email", "phone"]
batch_size = 300

[mapping]
vid = "vid"
name = ["given_name", "family_name"]
gender = "gender"
dob = "birthdate"
phoneNumber = "phone"
emailId = "email"
fullAddress = ["address"]

[callback]
http_method = "POST"
timeout_seconds = 20
auth_type = "odoo"
database = "openg2p"
username = "mts"
password_env = "MTS_ODOO_PW"

[callback.extra_headers]
X-Tenant = "north"
Authorization = { env = "BASIC" }

[odoo]
base_url = "https://registry.example/"
database = "openg2p"
login = "omc"
password_env = "ODOO_PW"
"#;

fn load(text: &str) -> Result<ConnectorConfig, ConfigError> {
    ConnectorConfig::from_text(text, Format::Toml, "test.toml", &env())
}

#[test]
fn a_valid_file_loads_with_its_settings() {
    let c = load(VALID).unwrap();
    assert_eq!(c.name, "openg2p-mosip");
    assert_eq!(c.batch_size, 300);
    assert_eq!(c.callback.timeout_seconds, 20);
    assert_eq!(c.interval_minutes, 60);
    assert_eq!(c.filter, omc_core::Domain::openg2p_default());
    assert_eq!(c.callback.extra_headers.len(), 2);
    c.validate().unwrap();
}

/// Replaces the line starting with `key =` in `section` (or adds it), to make one bad file.
fn with(section: &str, key: &str, value: &str) -> String {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut done = false;
    for line in VALID.lines() {
        if line.starts_with('[') {
            if current == section && !done {
                out.push(format!("{key} = {value}"));
                done = true;
            }
            current = line.trim_matches(['[', ']']).to_owned();
        }
        if current == section && line.split('=').next().map(str::trim) == Some(key) {
            if !done {
                out.push(format!("{key} = {value}"));
                done = true;
            }
            continue;
        }
        out.push(line.to_owned());
    }
    if !done && current == section && !section.is_empty() {
        out.push(format!("{key} = {value}"));
        done = true;
    }
    if !done {
        if section.is_empty() {
            out.insert(1, format!("{key} = {value}"));
        } else {
            out.push(format!("[{section}]"));
            out.push(format!("{key} = {value}"));
        }
    }
    out.join("\n")
}

#[test]
fn each_invalid_value_is_refused_naming_its_setting() {
    let cases: &[(&str, &str, &str, &str)] = &[
        ("", "name", "\"\"", "name"),
        ("", "mts_url", "\"not a url\"", "mts_url"),
        ("", "mts_url", "\"ftp://mts.example/\"", "mts_url"),
        ("", "mts_url", "\"http://user:pw@mts.example/\"", "mts_url"),
        ("", "input_type", "\"odk\"", "input_type"),
        ("", "input_type", "\"spreadsheet\"", "input_type"),
        ("", "output_type", "\"csv\"", "output_type"),
        ("", "delivery_type", "\"download\"", "delivery_type"),
        ("", "job_type", "\"weekly\"", "job_type"),
        ("", "lang", "\"english\"", "lang"),
        ("", "interval_minutes", "0", "interval_minutes"),
        ("", "interval_minutes", "\"hourly\"", "interval_minutes"),
        (
            "",
            "filter",
            "'[[\"is_registrant\", \"~\", true]]'",
            "filter",
        ),
        ("", "filter", "'[\"&\", [\"a\", \"=\", 1]]'", "filter"),
        ("", "filter", "'not json'", "filter"),
        (
            "",
            "filter",
            "'[[\"birth_date\", \"=\", \"1990-01-01\"]]'",
            "filter",
        ),
        ("", "fields", "[\"id\", \"birth_date\"]", "fields[1]"),
        ("", "fields", "\"id\"", "fields"),
        ("", "batch_size", "0", "batch_size"),
        ("", "batch_size", "50000", "batch_size"),
        ("", "max_in_flight", "0", "max_in_flight"),
        ("", "max_request_bytes", "1000", "max_request_bytes"),
        ("", "max_request_bytes", "\"big\"", "max_request_bytes"),
        (
            "",
            "cleanup_filter",
            "'[[\"birth_date\", \"=\", 1]]'",
            "cleanup_filter",
        ),
        ("", "ledger", "\".\"", "ledger"),
        (
            "runs",
            "delta_overlap_minutes",
            "2000",
            "runs.delta_overlap_minutes",
        ),
        ("runs", "full_sweep_days", "0", "runs.full_sweep_days"),
        ("runs", "max_attempts", "0", "runs.max_attempts"),
        ("runs", "retention_days", "-1", "runs.retention_days"),
        ("runs", "max_attempt", "3", "runs.max_attempt"),
        ("", "remove_vids", "\"yes\"", "remove_vids"),
        (
            "",
            "mandatory_fields",
            "[\"name\", \"age\"]",
            "mandatory_fields[1]",
        ),
        ("", "token_id_type", "\"MOSIP VID\"", "token_id_type"),
        ("", "output_format", "'{\"id\": .input.id'", "output_format"),
        ("", "output_format", "'empty'", "output_format"),
        (
            "",
            "output_format",
            "'{\"token\": .output.token}'",
            "output_format",
        ),
        ("", "batchsize", "10", "batchsize"),
        ("mapping", "name", "[\"name\"]", "mapping.name"),
        ("mapping", "dob", "\"dob\"", "mapping.dob"),
        ("mapping", "gender", "7", "mapping.gender"),
        ("mapping", "phone", "\"phone\"", "mapping.phone"),
        ("mapping", "vid", "\"national_vid\"", "mapping.vid"),
        (
            "callback",
            "timeout_seconds",
            "0",
            "callback.timeout_seconds",
        ),
        (
            "callback",
            "timeout_seconds",
            "601",
            "callback.timeout_seconds",
        ),
        (
            "callback",
            "http_method",
            "\"DELETE\"",
            "callback.http_method",
        ),
        ("callback", "auth_type", "\"oauth\"", "callback.auth_type"),
        (
            "callback",
            "url",
            "\"mailto:x@example.org\"",
            "callback.url",
        ),
        (
            "callback",
            "password",
            "\"inline-password\"",
            "callback.password",
        ),
        (
            "callback",
            "password_env",
            "\"UNSET_VARIABLE\"",
            "callback.password",
        ),
        ("callback", "username", "\"\"", "callback.username"),
        ("callback", "bulk", "true", "callback.bulk"),
        (
            "callback",
            "timout_seconds",
            "10",
            "callback.timout_seconds",
        ),
        ("odoo", "base_url", "\"registry.example\"", "odoo.base_url"),
        (
            "odoo",
            "password_file",
            "\"/nonexistent/omc-password\"",
            "odoo.password",
        ),
        ("odoo", "database", "\"\"", "odoo.database"),
        (
            "tls",
            "ca_bundle",
            "\"/nonexistent/ca.pem\"",
            "tls.ca_bundle",
        ),
    ];
    assert!(cases.len() >= 30);
    for (section, key, value, setting) in cases {
        let text = with(section, key, value);
        let error = match load(&text) {
            Ok(_) => panic!("{section}.{key} = {value} was accepted"),
            Err(e) => e,
        };
        assert!(
            !error.about(setting).is_empty(),
            "{section}.{key} = {value}: no problem names {setting}: {error}"
        );
        let shown = error.to_string();
        assert!(shown.contains(setting), "{shown}");
        assert!(
            !shown.contains("inline-password"),
            "a secret value in an error: {shown}"
        );
    }
}

#[test]
fn every_problem_of_a_file_is_reported_together() {
    let text = with("", "batch_size", "0");
    let text = text.replace("timeout_seconds = 20", "timeout_seconds = 900");
    let text = text.replace("lang = ", "#");
    let text = text.replace(
        "interval_minutes = 60",
        "interval_minutes = 0\nlang = \"en\"",
    );
    let text = text.replace("dob = \"birthdate\"", "dob = \"dob\"");
    let error = load(&text).unwrap_err();
    for setting in [
        "batch_size",
        "callback.timeout_seconds",
        "interval_minutes",
        "lang",
        "mapping.dob",
    ] {
        assert!(
            !error.about(setting).is_empty(),
            "{setting} missing from {error}"
        );
    }
    assert!(error.problems.len() >= 5);
}

#[test]
fn the_filter_is_checked_against_the_registrant_model() {
    let text = with("", "filter", "'[[\"birth_date\", \"=\", \"1990-01-01\"]]'");
    let error = load(&text).unwrap_err();
    assert!(
        error.to_string().contains("did you mean 'birthdate'"),
        "{error}"
    );
    let text = with("", "filter", "\"[('is_registrant', '=', True)]\"");
    load(&text).expect("the Python-literal form operators paste from Odoo");
}

#[test]
fn an_unknown_key_suggests_the_closest() {
    let error = load(&with("callback", "timout_seconds", "10")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("did you mean 'timeout_seconds'?"),
        "{error}"
    );
}

#[test]
fn settings_round_trip_through_toml_json_and_the_builder() {
    let c = load(VALID).unwrap();
    let toml = c.to_toml();
    let again = ConnectorConfig::from_text(&toml, Format::Toml, "again.toml", &env()).unwrap();
    assert_eq!(again.to_tree(), c.to_tree());
    let json = c.to_json();
    let again = ConnectorConfig::from_text(&json, Format::Json, "again.json", &env()).unwrap();
    assert_eq!(again.to_tree(), c.to_tree());
    // The builder gives the same configuration as the file.
    let built = ConnectorConfig::builder(
        "openg2p-mosip",
        c.mts_url.clone(),
        omc_core::config::OdooSettings {
            base_url: c.odoo.base_url.clone(),
            database: c.odoo.database.clone(),
            login: c.odoo.login.clone(),
            password: c.odoo.password.clone(),
        },
    )
    .with_interval_minutes(60)
    .with_batch_size(300)
    .with_callback(omc_core::config::CallbackSettings {
        timeout_seconds: 20,
        database: Some("openg2p".into()),
        username: Some("mts".into()),
        password: c.callback.password.clone(),
        extra_headers: c.callback.extra_headers.clone(),
        ..Default::default()
    });
    let built = c
        .secret_sources
        .iter()
        .fold(built, |b, (k, v)| {
            b.with_secret_source(k.clone(), v.clone())
        })
        .build();
    built.validate().unwrap();
    assert_eq!(built.to_tree(), c.to_tree());
}

#[test]
fn a_batch_that_would_outwait_its_timeout_at_mts_is_refused() {
    let text = VALID.replace("batch_size = 300", "batch_size = 2000\nmax_in_flight = 8");
    assert!(
        text.contains("max_in_flight = 8"),
        "the fixture sets batch_size = 300"
    );
    let e = ConnectorConfig::from_text(&text, Format::Toml, "t.toml", &env())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("batch_size: 2000 records with 8 requests in flight")
            && e.contains("use at most 428 records"),
        "{e}"
    );
    let fine = VALID.replace("batch_size = 300", "batch_size = 10000");
    ConnectorConfig::from_text(&fine, Format::Toml, "t.toml", &env()).unwrap();
}

#[test]
fn the_environment_overlays_and_can_configure_alone() {
    let vars = [
        ("OMC_NAME", "from-env"),
        ("OMC_MTS_URL", "http://mts.example/"),
        ("OMC_BATCH_SIZE", "250"),
        ("OMC_CALLBACK__TIMEOUT_SECONDS", "30"),
        ("OMC_CALLBACK__DATABASE", "openg2p"),
        ("OMC_CALLBACK__USERNAME", "mts"),
        ("OMC_CALLBACK__PASSWORD", PASSWORD),
        ("OMC_ODOO__BASE_URL", "http://odoo.example/"),
        ("OMC_ODOO__DATABASE", "openg2p"),
        ("OMC_ODOO__LOGIN", "omc"),
        ("OMC_ODOO__PASSWORD", PASSWORD),
    ];
    let c = ConnectorConfig::from_env(&Environment::from_vars(vars)).unwrap();
    assert_eq!(
        (c.name.as_str(), c.batch_size, c.callback.timeout_seconds),
        ("from-env", 250, 30)
    );
    let written = c.to_toml();
    assert!(
        written.contains("OMC_ODOO__PASSWORD"),
        "the source is named: {written}"
    );
    // Over a file, the environment wins.
    let mut vars: Vec<(String, String)> = vec![("OMC_BATCH_SIZE".into(), "42".into())];
    vars.extend(
        [
            ("ODOO_PW", PASSWORD),
            ("MTS_ODOO_PW", PASSWORD),
            ("BASIC", HEADER_SECRET),
        ]
        .map(|(a, b)| (a.into(), b.into())),
    );
    let c =
        ConnectorConfig::from_text(VALID, Format::Toml, "t.toml", &Environment::from_vars(vars))
            .unwrap();
    assert_eq!(c.batch_size, 42);

    // A variable named as a secret's source is not an override, however it is spelled, and
    // OMC_REAL_* belong to the opt-in tests against real systems.
    let text = VALID.replace("\"ODOO_PW\"", "\"OMC_ODOO_PASSWORD\"");
    assert!(
        text.contains("OMC_ODOO_PASSWORD"),
        "the fixture names ODOO_PW"
    );
    let vars = [
        ("OMC_ODOO_PASSWORD", PASSWORD),
        ("MTS_ODOO_PW", PASSWORD),
        ("BASIC", HEADER_SECRET),
        ("OMC_REAL_ODOO_URL", "http://127.0.0.1:18069/"),
    ];
    let c =
        ConnectorConfig::from_text(&text, Format::Toml, "t.toml", &Environment::from_vars(vars));
    assert!(c.is_ok(), "{:?}", c.err().map(|e| e.to_string()));
}

#[test]
fn a_known_password_appears_nowhere() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let mut seen = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let c = load(VALID).unwrap();
        seen += &format!("{c:?}\n{c:#?}\n{}\n{}\n", c.to_toml(), c.to_json());
        seen += &format!("{:?}\n", c.callback);
        // Errors about secret settings.
        let inline = VALID.replace(
            "password_env = \"ODOO_PW\"",
            &format!("password = \"{PASSWORD}\""),
        );
        let error = load(&inline).unwrap_err();
        seen += &format!("{error}\n{error:?}\n");
        let bad_header = VALID.replace(
            "Authorization = { env = \"BASIC\" }",
            "Authorization = { env = \"BASIC\", file = \"x\" }",
        );
        let error = load(&bad_header).unwrap_err();
        seen += &format!("{error}\n{error:?}\n");
        // A run with the in-memory adapters, logging.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
            let registry = Arc::new(MemoryRegistry::with_seeds(
                Default::default(),
                omc_core::testing::synthetic(20, 1),
            ));
            let sink = Arc::new(MemorySink::new(registry.clone()));
            let seeder = Arc::new(MemorySeeder::new("p", sink.clone()));
            let engine =
                omc_core::Engine::new(registry, seeder, sink, omc_core::EngineSettings::from(&c));
            let report = engine.run_once().await.unwrap();
            seen += &format!("{report:?}\n{engine:?}\n");
        });
    });
    seen += &captured.text();
    assert!(seen.contains("run finished"), "logs were captured");
    for secret in [PASSWORD, HEADER_SECRET, "b21jOmhlYWRlci1zZWNyZXQ="] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
}

/// A connector exported from OpenG2P with OpenG2P's own defaults.
pub const OPENG2P_EXPORT: &str = r#"{
  "name": "MOSIP tokens",
  "mts_url": "http://mosip-token-seeder.mosip-token-seeder",
  "input_type": "custom",
  "mapping": "{\n \"vid\": \"vid\",\n \"name\": [\"name\"],\n \"gender\": \"gender\",\n \"dob\": \"dob\",\n \"phoneNumber\": \"phoneNumber\",\n \"emailId\": \"emailId\",\n \"fullAddress\": [\"fullAddress\"]\n }",
  "output_type": "json",
  "output_format": false,
  "delivery_type": "callback",
  "lang_code": "eng",
  "is_recurring": "recurring",
  "interval_minutes": 1440,
  "g2p_search_domain": "[\n [\"is_registrant\",\"=\", true],\n [\"reg_ids.id_type\",\"=like\", \"MOSIP VID\"],\n \"!\", [\"reg_ids.id_type\",\"=like\",\"MOSIP UIN TOKEN\"]\n ]",
  "g2p_selected_fields": "[\n \"id\",\n \"given_name\",\n \"family_name\",\n \"birthdate\",\n \"gender\",\n \"address\",\n \"email\",\n \"phone\"\n ]",
  "callback_url": "http://openg2p.example/web/dataset/call_kw/g2p.reg.id/create",
  "callback_httpmethod": "POST",
  "callback_timeout": 10,
  "callback_authtype": "odoo",
  "callback_auth_url": "http://openg2p.example/web/session/authenticate",
  "callback_auth_database": "openg2p",
  "callback_auth_username": "admin",
  "callback_auth_password": "exported-Password-99"
}"#;

#[test]
fn an_openg2p_export_imports_and_check_points_at_its_mapping() {
    let report = import_openg2p(OPENG2P_EXPORT, "export.json").unwrap();
    assert!(!report.toml.contains("exported-Password-99"));
    assert!(report.toml.contains("OMC_CALLBACK__PASSWORD"));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("callback_auth_password"))
    );
    let env =
        Environment::from_vars([("OMC_CALLBACK__PASSWORD", "p"), ("OMC_ODOO__PASSWORD", "p")]);
    let error =
        ConnectorConfig::from_text(&report.toml, Format::Toml, "imported.toml", &env).unwrap_err();
    let mapping: Vec<_> = error.about("mapping");
    assert!(!mapping.is_empty(), "{error}");
    assert!(
        error
            .to_string()
            .contains("OpenG2P's default mapping sends 'name'"),
        "{error}"
    );
    assert!(
        error
            .problems
            .iter()
            .all(|p| p.setting.starts_with("mapping")),
        "only the mapping: {error}"
    );
    let fixed = report
        .toml
        .replace(
            "name = [\"name\"]",
            "name = [\"given_name\", \"family_name\"]",
        )
        .replace("dob = \"dob\"", "dob = \"birthdate\"")
        .replace("phoneNumber = \"phoneNumber\"", "phoneNumber = \"phone\"")
        .replace("emailId = \"emailId\"", "emailId = \"email\"")
        .replace(
            "fullAddress = [\"fullAddress\"]",
            "fullAddress = [\"address\"]",
        );
    let c = ConnectorConfig::from_text(&fixed, Format::Toml, "fixed.toml", &env).unwrap();
    assert_eq!(c.mapping, omc_core::Mapping::default());
}
