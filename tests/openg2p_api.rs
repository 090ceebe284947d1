//! End to end over real HTTP: MTS (emulator) calls OpenG2P's `update_individual` API (Odoo
//! emulator) with HTTP Basic; OMC reads the tokens back and removes the VIDs.

use omc::engine::EngineSettings;
use omc::mts::MtsClient;
use omc::mts::emulator::RunningMts;
use omc::odoo::OpenG2pApiSink;
use omc::odoo::emulator::RunningOdoo;
use omc::testing::mock_token;
use omc::testing::synthetic;
use omc::{Engine, IdTypes, RunReport};
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::{PARTNER, admin_registry, emulators, quick_wait};

async fn world() -> (RunningOdoo, RunningMts) {
    emulators(synthetic(25, 11), &[("api", "api-pw")]).await
}

async fn run(odoo: &RunningOdoo, mts: &RunningMts, password: &str) -> RunReport {
    let registry = admin_registry(odoo);
    let sink = OpenG2pApiSink::new(
        &odoo.base_url(),
        "api",
        SecretString::from(password),
        &IdTypes::default(),
    )
    .unwrap();
    let mut settings = EngineSettings::default();
    settings.batch_size = 10;
    settings.wait = quick_wait(Duration::from_secs(1));
    let seeder = MtsClient::builder(mts.base_url()).build().unwrap();
    Engine::new(registry, Arc::new(seeder), Arc::new(sink), settings)
        .run_once()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_openg2p_api_sink_tokenises_everyone() {
    let (odoo, mts) = world().await;
    let seeds: Vec<_> = synthetic(25, 11).collect();
    let report = run(&odoo, &mts, "api-pw").await;
    assert!(report.is_balanced(), "{report:?}");
    assert_eq!(
        (report.tokenised, report.vids_removed),
        (25, 25),
        "{report:?}"
    );
    for seed in &seeds {
        let expected = mock_token(seed.vid.as_ref().unwrap(), PARTNER);
        assert_eq!(odoo.token_of(seed.id), Some(expected));
        assert!(odoo.vid_of(seed.id).is_none());
    }
    let received = mts.received();
    assert!(
        received
            .iter()
            .all(|r| r.auth_type.as_deref() == Some("none"))
    );
}

#[tokio::test]
async fn a_wrong_basic_password_leaves_everyone_pending() {
    let (odoo, mts) = world().await;
    let report = run(&odoo, &mts, "wrong").await;
    // The first batch's callbacks never land: the run stops there and says why.
    assert_eq!((report.sent, report.tokenised, report.pending), (10, 0, 25));
    assert!(
        report
            .stopped
            .as_deref()
            .is_some_and(|why| why.starts_with("callbacks are not arriving")),
        "{report:?}"
    );
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 0);
    assert_eq!(odoo.count_ids("MOSIP VID"), 25);
    // Fixed: the next run gets them all.
    let report = run(&odoo, &mts, "api-pw").await;
    assert_eq!(report.tokenised, 25);
}
