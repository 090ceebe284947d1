//! Every sink from the configuration (`callback.sink`): `omc run --once` as a process against
//! the emulators with the self-hosted sink (OMC's receiver served by the same process, with a
//! bearer secret per run or Odoo-style sessions) and with the OpenG2P API sink; each tokenises
//! every registrant, removes the VIDs, and `config check` describes the sink.

mod common;

use common::command::Omc;
use common::{DATABASE, PARTNER, emulators};
use omc::memory::RegistrantSeed;
use omc::mts::emulator::RunningMts;
use omc::odoo::emulator::RunningOdoo;
use omc::testing::mock_token;
use omc::testing::synthetic;

/// A one-time connector over both emulators with `callback` as its `[callback]` table.
fn connector(name: &str, odoo: &RunningOdoo, mts: &RunningMts, callback: &str) -> Omc {
    Omc::new(
        name,
        &format!(
            r#"name = "sinks-test"
mts_url = "{mts}"
job_type = "one_time"
ledger = "ledger.sqlite"
batch_size = 20

[callback]
{callback}

[odoo]
base_url = "{odoo}"
database = "{DATABASE}"
login = "admin"
password_env = "SINKS_TEST_ODOO_PASSWORD"
"#,
            mts = mts.base_url(),
            odoo = odoo.base_url(),
        ),
        &[
            ("SINKS_TEST_ODOO_PASSWORD", "admin"),
            ("SINKS_TEST_CALLBACK_PASSWORD", "api-pw"),
        ],
    )
}

/// Every seeded registrant holds the token its VID gives, and no VID.
fn assert_tokenised(odoo: &RunningOdoo, seeds: &[RegistrantSeed]) {
    for seed in seeds {
        let vid = seed.vid.as_ref().expect("seeded with a VID");
        assert_eq!(
            odoo.token_of(seed.id),
            Some(mock_token(vid, PARTNER)),
            "registrant {}",
            seed.id.0
        );
        assert!(odoo.vid_of(seed.id).is_none(), "registrant {}", seed.id.0);
    }
}

/// `omc run --once` tokenises all of `seeds` through the sink `callback` configures, and
/// `config check` names that sink.
async fn tokenises_everyone(name: &str, callback: &str, sink: &str) {
    let seeds: Vec<RegistrantSeed> = synthetic(50, 41).collect();
    let (odoo, mts) = emulators(seeds.clone(), &[("api", "api-pw")]).await;
    let omc = connector(name, &odoo, &mts, callback);
    let (ok, stdout, stderr) = omc.run(&["config", "check", omc.config()]).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains(&format!("sink {sink}")), "{stdout}");
    let report = omc.run_once(&[]).await;
    assert_eq!(report["tokenised"], 50, "{report}");
    assert_eq!(report["vids_removed"], 50, "{report}");
    assert_eq!(report["pending"], 0, "{report}");
    assert_tokenised(&odoo, &seeds);
}

#[tokio::test]
async fn the_self_hosted_sink_with_a_bearer_secret_per_run() {
    tokenises_everyone(
        "sinks-self-hosted-bearer",
        r#"sink = "self_hosted"
listen = "127.0.0.1:0"
auth_type = "staticBearer""#,
        "self_hosted",
    )
    .await;
}

#[tokio::test]
async fn the_self_hosted_sink_with_odoo_style_sessions() {
    tokenises_everyone(
        "sinks-self-hosted-odoo",
        &format!(
            r#"sink = "self_hosted"
listen = "127.0.0.1:0"
auth_type = "odoo"
database = "{DATABASE}"
username = "mts"
password_env = "SINKS_TEST_CALLBACK_PASSWORD""#
        ),
        "self_hosted",
    )
    .await;
}

#[tokio::test]
async fn the_openg2p_api_sink() {
    tokenises_everyone(
        "sinks-openg2p-api",
        r#"sink = "openg2p_api"
auth_type = "none"
username = "api"
password_env = "SINKS_TEST_CALLBACK_PASSWORD""#,
        "openg2p_api",
    )
    .await;
}

#[tokio::test]
async fn a_sink_misconfigured_is_told_by_its_setting() {
    let (odoo, mts) = emulators(synthetic(1, 1), &[]).await;
    let cases = [
        (
            "sinks-no-listen",
            r#"sink = "self_hosted"
auth_type = "staticBearer""#,
            "callback.listen: the self-hosted sink needs the address its receiver listens on",
        ),
        (
            "sinks-listen-odoo",
            r#"listen = "127.0.0.1:0"
auth_type = "odoo"
database = "x"
username = "mts"
password_env = "SINKS_TEST_CALLBACK_PASSWORD""#,
            "callback.listen: only the self-hosted sink listens",
        ),
        (
            "sinks-bad-listen",
            r#"sink = "self_hosted"
listen = "localhost"
auth_type = "staticBearer""#,
            "callback.listen: 'localhost' is not an address and port",
        ),
        (
            "sinks-openg2p-bulk",
            r#"sink = "openg2p_api"
auth_type = "none"
bulk = true
username = "api"
password_env = "SINKS_TEST_CALLBACK_PASSWORD""#,
            "callback.bulk: OpenG2P's API refuses a whole list for one bad element",
        ),
        (
            "sinks-unknown",
            r#"sink = "selfhosted""#,
            "callback.sink: 'selfhosted' is not one of: odoo, self_hosted, openg2p_api",
        ),
    ];
    for (name, callback, expected) in cases {
        let omc = connector(name, &odoo, &mts, callback);
        let (ok, _, stderr) = omc.run(&["config", "check", omc.config()]).await;
        assert!(!ok, "{name}: refused");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    assert!(mts.received().is_empty(), "nothing is sent");
}
