//! `omc config check FILE --online` against the emulators: a good configuration passes every
//! check (a deployment's own field included, which the stock model lacks); each broken one
//! fails exactly the check that names its problem, with the fix, and exits 1. And `omc run`
//! refuses a field the registry lacks before anything is sent.

mod common;

use common::command::Omc;
use common::docs::{documented_messages, matches};
use common::{DATABASE, closed_url, emulators};
use omc::mts::emulator::RunningMts;
use omc::odoo::emulator::RunningOdoo;
use omc::testing::synthetic;
use serde_json::json;

/// The deployment's own field on `res.partner`: registrants 1 and 2 hold `North`.
const OWN_FIELD: &str = "x_kebele";

/// Both emulators, with 6 registrants holding a VID, two of them in the North kebele.
async fn start() -> (RunningOdoo, RunningMts) {
    let seeds = synthetic(6, 3).enumerate().map(|(i, mut seed)| {
        let kebele = if i < 2 { "North" } else { "South" };
        seed.fields
            .expose_mut()
            .insert(OWN_FIELD.into(), json!(kebele));
        seed
    });
    emulators(seeds, &[]).await
}

/// What to break in the good configuration.
#[derive(Debug, Clone)]
struct Config {
    name: &'static str,
    filter: &'static str,
    token_id_type: &'static str,
    odoo_password: &'static str,
    callback_password: &'static str,
    mts_down: bool,
}

impl Config {
    fn good(name: &'static str) -> Self {
        Self {
            name,
            filter: r#"[["is_registrant", "=", true], ["x_kebele", "=", "North"]]"#,
            token_id_type: "MOSIP UIN TOKEN",
            odoo_password: "admin",
            callback_password: "admin",
            mts_down: false,
        }
    }

    fn omc(&self, odoo: &RunningOdoo, mts: &RunningMts) -> Omc {
        let mts_url = if self.mts_down {
            closed_url()
        } else {
            mts.base_url().to_string()
        };
        Omc::new(
            self.name,
            &format!(
                r#"name = "online-check"
mts_url = "{mts_url}"
job_type = "one_time"
ledger = "ledger.sqlite"
filter = '{filter}'
token_id_type = "{token}"
model_extended = true

[callback]
auth_type = "odoo"
database = "{DATABASE}"
username = "admin"
password_env = "ONLINE_TEST_MTS_PASSWORD"

[odoo]
base_url = "{odoo_url}"
database = "{DATABASE}"
login = "admin"
password_env = "ONLINE_TEST_ODOO_PASSWORD"
"#,
                filter = self.filter,
                token = self.token_id_type,
                odoo_url = odoo.base_url(),
            ),
            &[
                ("ONLINE_TEST_ODOO_PASSWORD", self.odoo_password),
                ("ONLINE_TEST_MTS_PASSWORD", self.callback_password),
            ],
        )
    }
}

/// How `omc config check --online` ended: its exit status, the online lines and the rest.
#[derive(Debug)]
struct Checked {
    code: Option<i32>,
    /// `(status word, check, text)` of each online line.
    lines: Vec<(String, String, String)>,
    stdout: String,
}

impl Checked {
    /// The checks whose line says `word` (`ok`, `FAIL`, `skip`, `warn`).
    fn with(&self, word: &str) -> Vec<&str> {
        self.lines
            .iter()
            .filter(|(w, _, _)| w == word)
            .map(|(_, check, _)| check.as_str())
            .collect()
    }

    /// The text of `check`'s first line.
    fn text(&self, check: &str) -> &str {
        self.lines
            .iter()
            .find(|(_, c, _)| c == check)
            .map(|(_, _, text)| text.as_str())
            .unwrap_or_else(|| panic!("no line for {check}:\n{}", self.stdout))
    }
}

async fn check_online(config: Config) -> Checked {
    let (odoo, mts) = start().await;
    let omc = config.omc(&odoo, &mts);
    let out = omc
        .output(&["config", "check", omc.config(), "--online"])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let online = stdout
        .split_once("online checks:\n")
        .unwrap_or_else(|| {
            panic!(
                "no online checks: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .1;
    let lines = online
        .lines()
        .map(|line| {
            let (word, rest) = line.split_once(' ').expect("a status word");
            let (check, text) = rest.trim_start().split_once(": ").expect("check: text");
            (word.to_owned(), check.to_owned(), text.to_owned())
        })
        .collect();
    assert!(mts.received().is_empty(), "a check submits nothing to MTS");
    odoo.shutdown().await;
    Checked {
        code: out.status.code(),
        lines,
        stdout,
    }
}

const ALL_CHECKS: [&str; 8] = [
    "OMC's login",
    "vid_id_type",
    "token_id_type",
    "field model",
    "filter",
    "MTS's callback login",
    "MTS ping",
    "MTS authfields",
];

#[tokio::test]
async fn a_good_configuration_passes_every_check_with_the_deployments_own_field() {
    let checked = check_online(Config::good("online-good")).await;
    assert_eq!(checked.code, Some(0), "{}", checked.stdout);
    assert_eq!(checked.with("ok"), ALL_CHECKS, "{}", checked.stdout);
    assert!(
        checked.stdout.contains(
            "  warning: filter: element 1: unknown field 'x_kebele' on res.partner (not in the \
             stock model; model_extended is set, so --online and each run check it against \
             the registry's own model)"
        ),
        "offline, the stock model lacks it: {}",
        checked.stdout
    );
    assert_eq!(
        checked.text("filter"),
        "selects 2 registrants holding a 'MOSIP VID' (the filter AND OMC's own criteria, \
         search_count)"
    );
    assert_eq!(
        checked.text("MTS authfields"),
        "MTS knows every mapping key (dob, emailId, fullAddress, gender, name, phoneNumber, vid)"
    );
}

/// Each broken configuration fails exactly `failed`, whose line starts with `says`; the checks
/// that need a failed one are skipped, the others pass.
async fn fails(config: Config, failed: &str, says: &str, skipped: &[&str]) {
    let checked = check_online(config).await;
    assert_eq!(checked.code, Some(1), "{}", checked.stdout);
    assert_eq!(checked.with("FAIL"), [failed], "{}", checked.stdout);
    assert!(
        checked.text(failed).starts_with(says),
        "{failed}: {}",
        checked.text(failed)
    );
    assert_eq!(checked.with("skip"), skipped, "{}", checked.stdout);
    let passed: Vec<&str> = ALL_CHECKS
        .iter()
        .copied()
        .filter(|c| *c != failed && !skipped.contains(c))
        .collect();
    assert_eq!(checked.with("ok"), passed, "{}", checked.stdout);
}

#[tokio::test]
async fn a_wrong_password_is_named() {
    fails(
        Config {
            odoo_password: "wrong",
            ..Config::good("online-password")
        },
        "OMC's login",
        "check odoo.login, its password and odoo.database: logging in to Odoo at http://",
        &["vid_id_type", "token_id_type", "field model", "filter"],
    )
    .await;
}

#[tokio::test]
async fn a_refused_callback_login_is_named() {
    fails(
        Config {
            callback_password: "wrong",
            ..Config::good("online-callback")
        },
        "MTS's callback login",
        "check callback.username, its password and callback.database: Odoo at http://",
        &[],
    )
    .await;
}

#[tokio::test]
async fn a_missing_id_type_is_named() {
    fails(
        Config {
            token_id_type: "MOSIP TOKEN",
            ..Config::good("online-id-type")
        },
        "token_id_type",
        "create the id type 'MOSIP TOKEN' in the registry (g2p.id.type) or set token_id_type: \
         the token id type 'MOSIP TOKEN' does not exist in the registry",
        &[],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_field_is_named_with_the_live_models_help() {
    fails(
        Config {
            filter: r#"[["is_registrant", "=", true], ["x_kebel", "=", "North"]]"#,
            ..Config::good("online-field")
        },
        "field model",
        "fix filter: element 1: unknown field 'x_kebel' on res.partner; did you mean 'x_kebele'?",
        &["filter"],
    )
    .await;
}

#[tokio::test]
async fn mts_down_is_named() {
    fails(
        Config {
            mts_down: true,
            ..Config::good("online-mts")
        },
        "MTS ping",
        "check mts_url and that MTS is running: MTS at http://127.0.0.1:",
        &["MTS authfields"],
    )
    .await;
}

#[tokio::test]
async fn a_run_refuses_a_field_the_registry_lacks_before_sending_anything() {
    let (odoo, mts) = start().await;
    let config = Config {
        filter: r#"[["is_registrant", "=", true], ["x_woreda", "=", "North"]]"#,
        ..Config::good("online-run")
    };
    let omc = config.omc(&odoo, &mts);
    let out = omc.output(&["run", omc.config(), "--once"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let line = stderr.lines().last().unwrap_or_default();
    assert_eq!(
        line,
        "check filter, cleanup_filter and fields against the registry's own model (read with \
         fields_get): filter: element 1: unknown field 'x_woreda' on res.partner",
        "{stderr}"
    );
    assert!(
        documented_messages().iter().any(|m| matches(m, line)),
        "no row of docs/OPERATIONS.md's troubleshooting table says {line}"
    );
    assert!(mts.received().is_empty(), "nothing was sent to MTS");
    assert_eq!(
        odoo.calls("res.partner", "search_read"),
        0,
        "nothing was read"
    );
    odoo.shutdown().await;
}
