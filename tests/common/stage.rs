//! The stage of the process tests: both emulators, TCP proxies in front of the registry (for OMC,
//! and for MTS's callbacks) that a test can cut or use to hold a request, and a connector's
//! configuration for the `omc` process.

use super::command::Omc;
use super::proxy::Proxy;
use super::{DATABASE, PARTNER};
use omc::memory::RegistrantSeed;
use omc::mts::emulator::{MtsEmulator, RunningMts};
use omc::odoo::emulator::{OdooEmulator, RunningOdoo};
use omc::testing::mock_token;
use omc::time::{ManualClock, Timestamp};
use omc::{RegistrantId, Vid};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Both emulators, a proxy in front of the registry for OMC, another in front of it for MTS's
/// callbacks, and a configuration file (with its ledger) in a directory of its own.
pub(crate) struct Stage {
    /// The registry's clock: it stamps `write_date`, an hour behind OMC's at first (the
    /// registrants were written before the first run); tests move it on to write after a run.
    pub(crate) registry_clock: ManualClock,
    pub(crate) odoo: RunningOdoo,
    pub(crate) mts: RunningMts,
    pub(crate) registry_path: Proxy,
    pub(crate) callback_path: Proxy,
    pub(crate) omc: Omc,
}

impl Stage {
    pub(crate) async fn new(
        name: &str,
        seeds: Vec<RegistrantSeed>,
        mts: Option<RunningMts>,
    ) -> Self {
        Self::with_settings(name, seeds, mts, "", "").await
    }

    /// [`new`](Self::new) with `settings` added to the configuration's top level and `runs` to
    /// its `[runs]` table (TOML lines).
    pub(crate) async fn with_settings(
        name: &str,
        seeds: Vec<RegistrantSeed>,
        mts: Option<RunningMts>,
        settings: &str,
        runs: &str,
    ) -> Self {
        let registry_clock = ManualClock::at(Timestamp::now().minus_seconds(3_600));
        let odoo = OdooEmulator::builder()
            .database(DATABASE)
            .user("admin", "admin")
            .clock(Arc::new(registry_clock.clone()))
            .start()
            .await
            .expect("the Odoo emulator starts");
        odoo.seed(seeds);
        let mts = match mts {
            Some(mts) => mts,
            None => MtsEmulator::builder()
                .partner_id(PARTNER)
                .start()
                .await
                .expect("the MTS emulator starts"),
        };
        let registry_path = Proxy::start(odoo.local_addr()).await;
        let callback_path = Proxy::start(odoo.local_addr()).await;
        let cb = callback_path.addr();
        let omc = Omc::new(
            &format!("runs-{name}"),
            &format!(
                r#"name = "runs-test"
mts_url = "{mts}"
job_type = "recurring"
interval_minutes = 1440
batch_size = 50
max_in_flight = 2
ledger = "ledger.sqlite"
{settings}

[runs]
delta_overlap_minutes = 0
{runs}

[callback]
auth_type = "odoo"
database = "{DATABASE}"
username = "admin"
password_env = "RUNS_TEST_CALLBACK_PASSWORD"
auth_url = "http://{cb}/web/session/authenticate"
url = "http://{cb}/web/dataset/call_kw/g2p.reg.id/create"

[odoo]
base_url = "http://{odoo}/"
database = "{DATABASE}"
login = "admin"
password_env = "RUNS_TEST_ODOO_PASSWORD"
"#,
                mts = mts.base_url(),
                odoo = registry_path.addr(),
            ),
            &[
                ("RUNS_TEST_ODOO_PASSWORD", "admin"),
                ("RUNS_TEST_CALLBACK_PASSWORD", "admin"),
            ],
        );
        Self {
            registry_clock,
            odoo,
            mts,
            registry_path,
            callback_path,
            omc,
        }
    }

    /// The registrant ids MTS received, in all requests from the `from`-th on.
    pub(crate) fn received_since(&self, from: usize) -> Vec<i64> {
        let mut ids: Vec<i64> = self.mts.received()[from..]
            .iter()
            .flat_map(|r| r.authdata.iter())
            .filter_map(|record| record.expose().get("id").and_then(Value::as_i64))
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Every registrant of `ids` holds exactly one token id, the one its VID gives, and no VID.
    pub(crate) fn assert_tokenised_once(&self, vids: &BTreeMap<i64, Vid>) {
        for (id, vid) in vids {
            let rows = self.odoo.reg_ids_of(RegistrantId(*id));
            let tokens: Vec<_> = rows
                .iter()
                .filter(|r| r.id_type == "MOSIP UIN TOKEN")
                .collect();
            assert_eq!(
                tokens.len(),
                1,
                "registrant {id}: {} token ids",
                tokens.len()
            );
            assert_eq!(
                tokens[0].value,
                mock_token(vid, PARTNER).expose(),
                "registrant {id}: the wrong token"
            );
            assert!(
                rows.iter().all(|r| r.id_type != "MOSIP VID"),
                "registrant {id} keeps its VID beside its token"
            );
        }
    }
}

pub(crate) fn vids_of(seeds: &[RegistrantSeed]) -> BTreeMap<i64, Vid> {
    seeds
        .iter()
        .filter_map(|s| Some((s.id.0, s.vid.clone()?)))
        .collect()
}

/// Polls `done` every 10 ms until it holds, failing after 20 s.
pub(crate) async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
