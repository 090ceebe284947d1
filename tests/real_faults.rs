//! Opt-in (common::real): the faults a configuration alone can make, against the real Odoo 17 +
//! OpenG2P and the real MTS — a wrong password, a database or an id type that does not exist,
//! a closed port, a wrong callback password. Each must give the same documented one-line
//! message, exit status 1 and deadline (10 s from the start, nothing sent) as against the
//! emulators (tests/troubleshooting.rs).

mod common;

use common::closed_url;
use common::command::Omc;
use common::docs::{documented_messages, matches};
use common::real::RealStack;
use std::time::Duration;
use tokio::time::Instant;

/// What a fault changes in a working configuration.
#[derive(Debug, Clone, Copy, Default)]
struct Fault {
    odoo_password: Option<&'static str>,
    database: Option<&'static str>,
    token: Option<&'static str>,
    odoo_closed: bool,
    mts_closed: bool,
    callback_password: Option<&'static str>,
}

/// `omc run --once` against the real systems with `fault`: (exit status, last stderr line,
/// time taken).
async fn run(real: &RealStack, name: &str, fault: Fault) -> (Option<i32>, String, Duration) {
    let odoo_url = if fault.odoo_closed {
        closed_url()
    } else {
        real.odoo_url.to_string()
    };
    let mts_url = if fault.mts_closed {
        closed_url()
    } else {
        real.mts_url.to_string()
    };
    let database = fault.database.unwrap_or(&real.database);
    let token = fault.token.unwrap_or("MOSIP UIN TOKEN");
    // A filter that selects nothing: a run that got past the pre-flight check sends nothing.
    let omc = Omc::new(
        name,
        &format!(
            r#"name = "real-faults"
mts_url = "{mts_url}"
job_type = "one_time"
ledger = "ledger.sqlite"
token_id_type = "{token}"
filter = '[["id", "=", 0]]'

[callback]
auth_type = "odoo"
database = "{real_database}"
username = "{login}"
password_env = "REAL_FAULTS_CALLBACK_PASSWORD"

[odoo]
base_url = "{odoo_url}"
database = "{database}"
login = "{login}"
password_env = "REAL_FAULTS_ODOO_PASSWORD"
"#,
            real_database = real.database,
            login = real.login,
        ),
        &[
            (
                "REAL_FAULTS_ODOO_PASSWORD",
                fault.odoo_password.unwrap_or(&real.password),
            ),
            (
                "REAL_FAULTS_CALLBACK_PASSWORD",
                fault.callback_password.unwrap_or(&real.password),
            ),
        ],
    );
    let started = Instant::now();
    let out = omc.output(&["run", omc.config(), "--once"]).await;
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (
        out.status.code(),
        stderr.lines().last().unwrap_or_default().to_owned(),
        took,
    )
}

#[tokio::test]
async fn configuration_faults_against_the_real_systems_say_what_to_do() {
    let Some(real) = RealStack::from_env("configuration_faults_against_the_real_systems") else {
        return;
    };
    real.ensure_reachable().await;
    let documented = documented_messages();
    let (code, line, _) = run(&real, "real-faults-none", Fault::default()).await;
    assert_eq!(code, Some(0), "the working configuration runs: {line}");
    let faults = [
        (
            "wrong password",
            Fault {
                odoo_password: Some("not-the-password"),
                ..Fault::default()
            },
            "check odoo.login, its password and odoo.database: ",
        ),
        (
            "no such database",
            Fault {
                database: Some("omc_no_such_database"),
                ..Fault::default()
            },
            "check odoo.database: ",
        ),
        (
            "no such id type",
            Fault {
                token: Some("MOSIP UIN TOKEN OMC-MISSING"),
                ..Fault::default()
            },
            "create the id type 'MOSIP UIN TOKEN OMC-MISSING' in the registry",
        ),
        (
            "Odoo's port closed",
            Fault {
                odoo_closed: true,
                ..Fault::default()
            },
            "check odoo.base_url and that Odoo is running: ",
        ),
        (
            "MTS's port closed",
            Fault {
                mts_closed: true,
                ..Fault::default()
            },
            "check mts_url and that MTS is running: ",
        ),
        (
            "wrong callback password",
            Fault {
                callback_password: Some("not-the-password"),
                ..Fault::default()
            },
            "check callback.username, its password and callback.database: ",
        ),
    ];
    for (what, fault, advice) in faults {
        let (code, line, took) = run(&real, "real-faults", fault).await;
        assert_eq!(code, Some(1), "{what}: {line}");
        assert!(line.starts_with(advice), "{what}: {line}");
        assert!(!line.contains("not-the-password"), "{what}: {line}");
        assert!(
            documented.iter().any(|m| matches(m, &line)),
            "{what}: no row of docs/OPERATIONS.md's troubleshooting table says {line}"
        );
        assert!(
            took < Duration::from_secs(10),
            "{what}: told after {took:?}"
        );
    }
}
