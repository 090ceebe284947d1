//! What an operator reads when a configuration is wrong: every problem at once, each naming
//! its setting (or the environment variable that caused it) and what the setting accepts.

use omc_core::ConnectorConfig;
use omc_core::config::{ConfigError, Environment, Format};

const PASSWORD: &str = "s3cr3t-Known-Password-7731";

/// A valid connector whose secrets come from `ODOO_PW` and `MTS_ODOO_PW`.
const VALID: &str = r#"
name = "c"
mts_url = "http://mts.example/"

[callback]
database = "openg2p"
username = "mts"
password_env = "MTS_ODOO_PW"

[odoo]
base_url = "https://registry.example/"
database = "openg2p"
login = "omc"
password_env = "ODOO_PW"
"#;

fn secrets() -> Vec<(String, String)> {
    [("ODOO_PW", PASSWORD), ("MTS_ODOO_PW", PASSWORD)]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec()
}

fn load_in(text: &str, format: Format, vars: Vec<(String, String)>) -> ConfigError {
    match ConnectorConfig::from_text(text, format, "c.toml", &Environment::from_vars(vars)) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

fn lines(error: &ConfigError) -> Vec<String> {
    error.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn unset_secret_variables_are_reported_with_every_other_problem() {
    let text = VALID
        .replace(
            "name = \"c\"",
            "name = \"c\"\nbatch_size = 0\nlang = \"en\"",
        )
        .replace("username = \"mts\"", "username = \"\"");
    let error = load_in(&text, Format::Toml, Vec::new());
    let shown = lines(&error);
    for expected in [
        "odoo.password: environment variable ODOO_PW is not set",
        "callback.password: environment variable MTS_ODOO_PW is not set",
        "batch_size: 0 is not a whole number from 1 to 10000",
        "lang: 'en' is not a three-letter ISO 639-3 code such as 'eng'",
    ] {
        assert!(
            shown.iter().any(|l| l == expected),
            "{expected}: {shown:#?}"
        );
    }
    assert!(!error.about("callback.username").is_empty(), "{shown:#?}");
    // One problem per setting: the unset variable is not reported again as a missing password.
    assert_eq!(error.about("callback.password").len(), 1, "{shown:#?}");
}

#[test]
fn an_unknown_omc_variable_is_named_as_an_environment_variable() {
    let mut vars = secrets();
    vars.push(("OMC_BATCH_SIZ".into(), "250".into()));
    vars.push(("OMC_CALLBACK__TIMOUT_SECONDS".into(), "30".into()));
    vars.push(("OMC_NAME__FIRST".into(), "x".into()));
    let error = load_in(VALID, Format::Toml, vars);
    assert_eq!(
        lines(&error),
        [
            "environment variable OMC_NAME__FIRST: 'name' is not a table, so it holds no 'first'",
            "environment variable OMC_BATCH_SIZ: unknown setting 'batch_siz'; did you mean \
             'batch_size'?",
            "environment variable OMC_CALLBACK__TIMOUT_SECONDS: unknown setting \
             'callback.timout_seconds'; did you mean 'timeout_seconds'?",
        ]
    );
    // The file is not blamed for what the environment set.
    assert!(error.about("batch_siz").is_empty());

    // An unknown key in the file is still the file's; a bad value set by a variable names it.
    let text = VALID.replace("name = \"c\"", "name = \"c\"\nbatch_siz = 3");
    let mut vars = secrets();
    vars.push(("OMC_MAX_IN_FLIGHT".into(), "-3".into()));
    let error = load_in(&text, Format::Toml, vars);
    assert_eq!(
        lines(&error),
        [
            "batch_siz: unknown setting; did you mean 'batch_size'?",
            "max_in_flight: -3 is not a whole number from 1 to 16 (set by environment variable \
             OMC_MAX_IN_FLIGHT)",
        ]
    );
}

#[test]
fn a_refused_number_names_its_setting_and_the_range_it_accepts() {
    let cases = [
        (
            "max_in_flight = -3",
            "max_in_flight: -3 is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = 2.5",
            "max_in_flight: 2.5 is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = 99999999999999999999",
            "max_in_flight: 99999999999999999999 is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = nan",
            "max_in_flight: nan is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = inf",
            "max_in_flight: inf is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = 1979-05-27",
            "max_in_flight: 1979-05-27 is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = \"four\"",
            "max_in_flight: 'four' is not a whole number from 1 to 16",
        ),
        (
            "max_in_flight = [1]",
            "max_in_flight: expected a whole number from 1 to 16, found a list",
        ),
        (
            "batch_size = 4294967296",
            "batch_size: 4294967296 is not a whole number from 1 to 10000",
        ),
        (
            "interval_minutes = -1",
            "interval_minutes: -1 is not a whole number from 0 to 527040",
        ),
        (
            "runs = { retention_days = 0 }",
            "runs.retention_days: 0 is not a whole number from 1 to 3660",
        ),
    ];
    for (line, expected) in cases {
        let text = VALID.replace("name = \"c\"", &format!("name = \"c\"\n{line}"));
        assert_eq!(lines(&load_in(&text, Format::Toml, secrets())), [expected]);
    }
    let text = VALID.replace(
        "username = \"mts\"",
        "username = \"mts\"\ntimeout_seconds = 601",
    );
    assert_eq!(
        lines(&load_in(&text, Format::Toml, secrets())),
        ["callback.timeout_seconds: 601 is not a whole number from 1 to 600"]
    );
}

/// `VALID` as JSON, with `extra` top-level members.
fn json(extra: &str) -> String {
    format!(
        r#"{{"name": "c", "mts_url": "http://mts.example/", {extra}
            "callback": {{"database": "openg2p", "username": "mts", "password_env": "MTS_ODOO_PW"}},
            "odoo": {{"base_url": "https://registry.example/", "database": "openg2p",
                      "login": "omc", "password_env": "ODOO_PW"}}}}"#
    )
}

#[test]
fn json_numbers_and_keys_given_twice_name_their_setting() {
    ConnectorConfig::from_text(
        &json(""),
        Format::Json,
        "c.json",
        &Environment::from_vars(secrets()),
    )
    .expect("the fixture is valid");
    for (extra, expected) in [
        (
            r#""max_in_flight": -3,"#,
            "max_in_flight: -3 is not a whole number from 1 to 16",
        ),
        (
            r#""max_in_flight": 1e999,"#,
            "max_in_flight: 1e999 is not a whole number from 1 to 16",
        ),
        (
            r#""runs": {"max_attempts": 1e400},"#,
            "runs.max_attempts: 1e400 is not a whole number from 1 to 100",
        ),
        (
            r#""batch_size": 300, "batch_size": 301,"#,
            "batch_size: given more than once; keep one",
        ),
        (
            r#""odoo": {"login": "other"},"#,
            "odoo: given more than once; keep one",
        ),
    ] {
        assert_eq!(
            lines(&load_in(&json(extra), Format::Json, secrets())),
            [expected],
            "{extra}"
        );
    }
    // A huge whole number is read as a float by the JSON parser: still named, with its range.
    let error = load_in(
        &json(r#""max_in_flight": 99999999999999999999,"#),
        Format::Json,
        secrets(),
    );
    let shown = lines(&error);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].starts_with("max_in_flight: ")
            && shown[0].ends_with(" is not a whole number from 1 to 16"),
        "{shown:?}"
    );
}

#[test]
fn toml_keys_given_twice_name_their_setting() {
    let text = VALID.replace("login = \"omc\"", "login = \"omc\"\nlogin = \"again\"");
    assert_eq!(
        lines(&load_in(&text, Format::Toml, secrets())),
        ["odoo.login: given twice (again at line 14); keep one"]
    );
}

#[test]
fn the_callback_login_is_required_and_never_omcs_own() {
    let text = VALID
        .replace("username = \"mts\"\n", "")
        .replace("password_env = \"MTS_ODOO_PW\"\n", "");
    let error = load_in(&text, Format::Toml, secrets());
    assert_eq!(
        lines(&error),
        [
            "callback.username: auth type odoo needs an Odoo login of MTS's own (create on \
             g2p.reg.id, read on g2p.id.type); OMC never gives MTS its own odoo.login",
            "callback.password: auth type odoo needs the password of MTS's Odoo login \
             (password_env or password_file); OMC never gives MTS its own odoo.password",
        ]
    );
}

#[test]
fn a_name_part_not_sent_refuses_every_record_only_when_no_part_is_sent() {
    let with_fields = |fields: &str| {
        let text = VALID.replace(
            "mts_url = \"http://mts.example/\"",
            &format!("mts_url = \"http://mts.example/\"\nfields = {fields}"),
        );
        let said = lines(&load_in(&text, Format::Toml, secrets()));
        said.into_iter()
            .filter(|l| l.contains("mapping.name"))
            .collect::<Vec<_>>()
    };
    // The family name is not sent, the given name is: MTS takes every record that has one.
    let name = with_fields(r#"["id", "given_name", "birthdate", "gender", "address"]"#);
    assert_eq!(name.len(), 1, "{name:#?}");
    assert!(
        name[0].contains("'family_name' is not in the field list"),
        "{name:?}"
    );
    assert!(!name[0].contains("refuse every record"), "{name:?}");
    // Neither part is sent: every record would be refused with ATS-REQ-010.
    let name = with_fields(r#"["id", "birthdate", "gender", "address"]"#);
    assert_eq!(name.len(), 2, "{name:#?}");
    assert!(
        name.iter()
            .all(|l| l.contains("MTS would refuse every record with ATS-REQ-010")),
        "{name:?}"
    );
}
