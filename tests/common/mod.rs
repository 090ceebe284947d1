//! What the root package's end-to-end tests share: both emulators on loopback ports, a registry
//! client as the administrator, and OMC's waits shortened for tests.

#![allow(dead_code)] // each test binary uses its own part of this module

pub(crate) mod command;
pub(crate) mod docs;
pub(crate) mod proxy;
pub(crate) mod real;
pub(crate) mod stage;

use omc::IdTypes;
use omc::engine::WaitPolicy;
use omc::memory::RegistrantSeed;
use omc::mts::emulator::{MtsEmulator, RunningMts};
use omc::odoo::OdooRegistry;
use omc::odoo::emulator::{OdooEmulator, RunningOdoo};
use std::sync::Arc;
use std::time::Duration;

/// The MTS partner the emulator derives tokens for.
pub(crate) const PARTNER: &str = "mpartner-default-omc";
/// The emulated registry's database.
pub(crate) const DATABASE: &str = "openg2p";

/// The Odoo emulator (database [`DATABASE`], user `admin`/`admin` and `users`) holding `seeds`,
/// and the MTS emulator for [`PARTNER`], each on its own loopback port.
pub(crate) async fn emulators(
    seeds: impl IntoIterator<Item = RegistrantSeed>,
    users: &[(&str, &str)],
) -> (RunningOdoo, RunningMts) {
    let mut odoo = OdooEmulator::builder()
        .database(DATABASE)
        .user("admin", "admin");
    for (login, password) in users {
        odoo = odoo.user(*login, *password);
    }
    let odoo = odoo.start().await.expect("the Odoo emulator starts");
    odoo.seed(seeds);
    let mts = MtsEmulator::builder()
        .partner_id(PARTNER)
        .start()
        .await
        .expect("the MTS emulator starts");
    (odoo, mts)
}

/// An `OdooRegistry` over the emulator, as the administrator.
pub(crate) fn admin_registry(odoo: &RunningOdoo) -> Arc<OdooRegistry> {
    let client = odoo.client("admin", "admin");
    Arc::new(OdooRegistry::new(client, IdTypes::default()))
}

/// OMC's waits, polling every 10 ms and reading tokens back for at least `readback`.
pub(crate) fn quick_wait(readback: Duration) -> WaitPolicy {
    let mut wait = WaitPolicy::default();
    wait.poll_interval = Duration::from_millis(10);
    wait.readback_base = readback;
    wait
}

/// Every VID, name and token (for [`PARTNER`]) of `seeds`: what no log line may hold.
pub(crate) fn personal_data(seeds: &[RegistrantSeed]) -> Vec<String> {
    let mut found = Vec::new();
    for seed in seeds {
        if let Some(vid) = &seed.vid {
            found.push(omc::testing::mock_token(vid, PARTNER).expose().to_owned());
            found.push(vid.expose().to_owned());
        }
        for field in ["name", "given_name", "family_name"] {
            if let Some(text) = seed.fields.expose().get(field).and_then(|v| v.as_str()) {
                found.push(text.to_owned());
            }
        }
    }
    found
}

/// `http://127.0.0.1:PORT/` on a loopback port nobody listens on (bound, then let go).
pub(crate) fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    format!("http://{}/", listener.local_addr().expect("its address"))
}
