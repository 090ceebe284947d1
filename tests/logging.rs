//! `omc`'s logs as an operator reads them: `RUST_LOG=debug` shows each batch, `--log-format
//! json` makes every stderr line a JSON object, and no line holds a VID, a name, a token or a
//! password, against the emulators.

mod common;

use common::command::Omc;
use common::{DATABASE, emulators, personal_data};
use omc::testing::synthetic;
use serde_json::Value;
use std::time::Duration;

const SEED: u64 = 11;
const REGISTRANTS: usize = 30;
const ODOO_PASSWORD: &str = "odoo-pw-7f3a9c";
const MTS_PASSWORD: &str = "mts-pw-91c2e4";

/// `omc run CONFIG --once extra…` with `RUST_LOG=debug` against fresh emulators: (stdout, stderr).
async fn debug_run(name: &str, extra: &[&str]) -> (String, String) {
    let (odoo, mts) = emulators(
        synthetic(REGISTRANTS, SEED),
        &[("omc", ODOO_PASSWORD), ("mts", MTS_PASSWORD)],
    )
    .await;
    let omc = Omc::new(
        name,
        &format!(
            r#"name = "logging-test"
mts_url = "{mts}"
job_type = "one_time"
batch_size = 10
max_in_flight = 1
ledger = "ledger.sqlite"

[callback]
auth_type = "odoo"
database = "{DATABASE}"
username = "mts"
password_env = "LOGGING_TEST_MTS_PASSWORD"

[odoo]
base_url = "{odoo}"
database = "{DATABASE}"
login = "omc"
password_env = "LOGGING_TEST_ODOO_PASSWORD"
"#,
            mts = mts.base_url(),
            odoo = odoo.base_url(),
        ),
        &[
            ("LOGGING_TEST_ODOO_PASSWORD", ODOO_PASSWORD),
            ("LOGGING_TEST_MTS_PASSWORD", MTS_PASSWORD),
        ],
    );
    let mut args = vec!["run", omc.config(), "--once"];
    args.extend(extra);
    let out = tokio::time::timeout(
        Duration::from_secs(180),
        omc.command(&args).env("RUST_LOG", "debug").output(),
    )
    .await
    .expect("omc ends")
    .expect("omc runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "omc run failed: {stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).expect("stdout is the report");
    assert_eq!(report["tokenised"], REGISTRANTS, "{report}");
    (stdout, stderr)
}

/// Every VID, name and token of the seeded registrants, and both passwords.
fn secrets() -> Vec<String> {
    let seeds: Vec<_> = synthetic(REGISTRANTS, SEED).collect();
    let mut secrets = vec![ODOO_PASSWORD.to_owned(), MTS_PASSWORD.to_owned()];
    secrets.extend(personal_data(&seeds));
    secrets
}

fn assert_no_secrets(stderr: &str) {
    for secret in secrets() {
        assert!(
            !stderr.contains(&secret),
            "a VID, name, token or password in the logs: {secret}"
        );
    }
}

#[tokio::test]
async fn debug_logs_each_batch_without_personal_data() {
    let (_, stderr) = debug_run("logging-text", &[]).await;
    let batches = stderr
        .lines()
        .filter(|l| l.contains("batch submitted"))
        .inspect(|l| {
            assert!(
                l.contains("connector{name=") && l.contains("run{run=1 kind=full}"),
                "in the connector's and the run's spans: {l}"
            )
        })
        .count();
    assert!(batches >= 3, "one line per batch of 10: {stderr}");
    assert_no_secrets(&stderr);
}

#[tokio::test]
async fn json_logs_are_one_object_a_line() {
    let (_, stderr) = debug_run("logging-json", &["--log-format", "json"]).await;
    let mut batches = 0;
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
        assert!(event["level"].is_string(), "{line}");
        if event["fields"]["message"] == "batch submitted" {
            batches += 1;
            assert_eq!(event["span"]["name"], "run", "{line}");
            assert_eq!(event["span"]["kind"], "full", "{line}");
        }
    }
    assert!(batches >= 3, "one event per batch of 10: {stderr}");
    assert_no_secrets(&stderr);
}
