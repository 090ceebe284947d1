//! Runs as an operator runs them: the `omc` command as a real process against the emulators on
//! loopback ports, with a TCP proxy in front of the registry (and of the callback path) that
//! the test can cut or use to hold a request; the process is killed with SIGKILL at chosen
//! points, and the registry and the run ledger are checked afterwards.

mod common;

use common::PARTNER;
use common::proxy::Release;
use common::stage::{Stage, until, vids_of};
use omc::memory::RegistrantSeed;
use omc::mts::emulator::MtsEmulator;
use omc::testing::mock_token;
use omc::testing::{synthetic, synthetic_one};
use omc::time::Timestamp;
use omc::{RegistrantId, Registry, Vid};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::process::Child;

#[tokio::test]
async fn recurring_runs_send_the_delta_the_pending_and_a_fixed_failure() {
    let mut seeds: Vec<RegistrantSeed> = synthetic(20, 11).collect();
    seeds[2].fields.expose_mut().remove("gender");
    let mut no_vid = synthetic_one(23, 11);
    no_vid.vid = None;
    seeds.push(no_vid);
    let stage = Stage::new("delta", seeds.clone(), None).await;

    let first = stage.omc.run_once(&[]).await;
    assert_eq!(first["kind"], "full");
    assert_eq!(first["tokenised"], 19);
    assert_eq!(first["failed"]["ATS-REQ-011"], 1);
    let mut expected: Vec<i64> = (1..=20).filter(|id| *id != 3).collect();
    assert_eq!(
        stage.received_since(0),
        expected,
        "registrant 3 is held back"
    );

    // New registrants, and one that only gained a VID id (its own write_date is unchanged);
    // the callbacks of this run are lost (MTS cannot connect).
    stage
        .registry_clock
        .set(Timestamp::now().plus_seconds(3_600));
    let requests = stage.mts.received().len();
    stage
        .odoo
        .seed([synthetic_one(21, 11), synthetic_one(22, 11)]);
    let new_vid = Vid::new("4918350000000923");
    let registry = common::admin_registry(&stage.odoo);
    registry
        .store_vids(&[(RegistrantId(23), new_vid.clone())])
        .await
        .expect("a VID id is added");
    stage.callback_path.cut(true);
    let second = stage.omc.run_once(&[]).await;
    assert_eq!(second["kind"], "delta");
    assert_eq!(
        stage.received_since(requests),
        [21, 22, 23],
        "only what changed"
    );
    assert_eq!(second["pending"], 3);
    assert!(
        second["stopped"]
            .as_str()
            .is_some_and(|why| why.starts_with("callbacks are not arriving")),
        "{second}"
    );
    assert_eq!(
        second["failed_unchanged"], 0,
        "registrant 3 is outside the window"
    );

    // Registrant 3's record is fixed; the callbacks come back.
    stage.callback_path.cut(false);
    let requests = stage.mts.received().len();
    stage
        .registry_clock
        .set(Timestamp::now().plus_seconds(7_200));
    stage
        .odoo
        .client("admin", "admin")
        .execute_kw(
            "res.partner",
            "write",
            json!([[3], {"gender": "Female"}]),
            json!({}),
        )
        .await
        .expect("the record is fixed");
    let third = stage.omc.run_once(&[]).await;
    assert_eq!(third["kind"], "delta");
    expected = vec![3, 21, 22, 23];
    assert_eq!(
        stage.received_since(requests),
        expected,
        "the fixed and the pending: {third}"
    );
    assert_eq!(third["tokenised"], 4);
    assert_eq!(third["pending"], 0);

    let mut vids = vids_of(&seeds);
    vids.extend(vids_of(&[synthetic_one(21, 11), synthetic_one(22, 11)]));
    vids.insert(23, new_vid);
    stage.assert_tokenised_once(&vids);

    stage
        .omc
        .assert_runs(&[
            (3, "delta", "completed"),
            // Its callbacks were cut: it stopped, saying why, and moved no watermark.
            (2, "delta", "failed"),
            (1, "full", "completed"),
        ])
        .await;
    let (ok, text, _) = stage.omc.run(&["status", stage.omc.config()]).await;
    assert!(ok && text.contains("next run: delta"), "{text}");
}

/// Kills `omc` at a point, runs it again, and checks that every registrant ends tokenised
/// exactly once and the killed run shows as interrupted.
async fn killed_then_rerun(stage: &Stage, vids: &BTreeMap<i64, Vid>, mut child: Child) {
    child.kill().await.expect("SIGKILL");
    let report = stage.omc.run_once(&[]).await;
    assert_eq!(report["pending"], 0, "{report}");
    stage.assert_tokenised_once(vids);
    let runs = stage.omc.runs().await;
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["outcome"], "interrupted", "{:?}", runs[1]);
    assert_eq!(runs[0]["outcome"], "completed");
}

#[tokio::test]
async fn killed_right_after_a_submission() {
    let seeds: Vec<RegistrantSeed> = synthetic(100, 12).collect();
    let slow = MtsEmulator::builder()
        .partner_id(PARTNER)
        .record_delay(Duration::from_millis(5))
        .start()
        .await
        .expect("MTS starts");
    let stage = Stage::new("submitted", seeds.clone(), Some(slow)).await;
    let child = stage.omc.spawn_run();
    until("MTS received a request", || {
        !stage.mts.received().is_empty()
    })
    .await;
    killed_then_rerun(&stage, &vids_of(&seeds), child).await;
}

#[tokio::test]
async fn killed_after_tokens_are_stored_before_vids_are_removed() {
    let seeds: Vec<RegistrantSeed> = synthetic(40, 13).collect();
    let stage = Stage::new("stored", seeds.clone(), None).await;
    stage.registry_path.hold("\"unlink\"", 0);
    let child = stage.omc.spawn_run();
    until("OMC removes its first VIDs", || {
        stage.registry_path.held() == 1
    })
    .await;
    // The tokens are in the registry; the VIDs are not removed yet.
    assert_eq!(stage.odoo.count_ids("MOSIP UIN TOKEN"), 40);
    assert_eq!(stage.odoo.count_ids("MOSIP VID"), 40);
    stage.registry_path.release(Release::Drop);
    killed_then_rerun(&stage, &vids_of(&seeds), child).await;
}

#[tokio::test]
async fn killed_during_vid_removal() {
    let seeds: Vec<RegistrantSeed> = synthetic(100, 14).collect();
    let stage = Stage::new("removing", seeds.clone(), None).await;
    stage.registry_path.hold("\"unlink\"", 1);
    let child = stage.omc.spawn_run();
    until("OMC removes its second set of VIDs", || {
        stage.registry_path.held() == 1
    })
    .await;
    // The held unlink reaches the registry after OMC is gone, as a request in flight would.
    let mut child = child;
    child.kill().await.expect("SIGKILL");
    stage.registry_path.release(Release::Forward);
    let report = stage.omc.run_once(&[]).await;
    assert_eq!(report["pending"], 0, "{report}");
    stage.assert_tokenised_once(&vids_of(&seeds));
    let runs = stage.omc.runs().await;
    assert_eq!(runs[1]["outcome"], "interrupted");
}

#[tokio::test]
async fn a_csv_import_with_a_bad_row_changes_nothing_and_a_good_one_tokenises() {
    let seeds: Vec<RegistrantSeed> = synthetic(6, 15)
        .map(|mut s| {
            if s.id.0 > 3 {
                s.vid = None;
            }
            s
        })
        .collect();
    let stage = Stage::new("csv", seeds, None).await;
    let csv = stage.omc.dir().join("vids.csv");
    std::fs::write(
        &csv,
        "registrant id,vid\n4,4918350000000404\n5,4918350000000405\n99,4918350000000499\n",
    )
    .unwrap();
    let csv = csv.to_str().unwrap().to_owned();
    let (ok, stdout, stderr) = stage
        .omc
        .run(&["import", stage.omc.config(), "--csv", &csv])
        .await;
    assert!(!ok, "{stdout}");
    assert!(
        stderr.contains("row 3: registrant 99 does not exist"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("491835"),
        "no VID in the message: {stderr}"
    );
    assert_eq!(stage.odoo.count_ids("MOSIP VID"), 3, "nothing written");
    assert!(stage.mts.received().is_empty(), "nothing sent");

    std::fs::write(
        stage.omc.dir().join("vids.csv"),
        "4,4918350000000404\n5,4918350000000405\n",
    )
    .unwrap();
    let (ok, stdout, stderr) = stage
        .omc
        .run(&["import", stage.omc.config(), "--csv", &csv])
        .await;
    assert!(ok, "{stderr}");
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["kind"], "import");
    assert_eq!(report["tokenised"], 2);
    assert_eq!(
        stage.received_since(0),
        [4, 5],
        "exactly the imported registrants"
    );
    assert_eq!(
        stage.odoo.token_of(RegistrantId(4)),
        Some(mock_token(&Vid::new("4918350000000404"), PARTNER))
    );

    let (ok, stdout, _) = stage
        .omc
        .run(&["import", stage.omc.config(), "--ids", "1,2"])
        .await;
    assert!(ok);
    let report: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["tokenised"], 2);
    let runs = stage.omc.runs().await;
    assert!(runs.iter().all(|r| r["kind"] == "import"), "{runs:?}");
    let (_, text, _) = stage.omc.run(&["status", stage.omc.config()]).await;
    assert!(
        text.contains("next run: full"),
        "imports never move the watermark: {text}"
    );
}

#[tokio::test]
async fn a_second_run_on_one_ledger_is_refused_naming_the_first() {
    let seeds: Vec<RegistrantSeed> = synthetic(30, 16).collect();
    let stage = Stage::new("lock", seeds, None).await;
    stage.registry_path.hold("\"unlink\"", 0);
    let mut first = stage.omc.spawn_run();
    until("the first run is under way", || {
        stage.registry_path.held() == 1
    })
    .await;
    let (ok, _, stderr) = stage
        .omc
        .run(&["import", stage.omc.config(), "--ids", "1"])
        .await;
    assert!(!ok);
    let pid = first.id().expect("running");
    assert!(
        stderr.contains(&format!("process {pid} (omc run --once")),
        "{stderr}"
    );
    let (ok, text, _) = stage.omc.run(&["status", stage.omc.config()]).await;
    assert!(
        ok && text.contains(&format!("ledger held by process {pid}")),
        "{text}"
    );
    stage.registry_path.release(Release::Forward);
    let status = first.wait().await.expect("the first run ends");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_finishes_what_was_sent_records_the_run_interrupted_and_exits_4() {
    let seeds: Vec<RegistrantSeed> = synthetic(120, 17).collect();
    let stage = Stage::new("sigterm", seeds, None).await;
    // The first batch goes alone; hold its VID removal so the run is surely under way.
    stage.registry_path.hold("\"unlink\"", 0);
    let child = stage.omc.spawn_run();
    until("the first batch is read back", || {
        stage.registry_path.held() == 1
    })
    .await;
    let pid = child.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    stage.registry_path.release(Release::Forward);
    let out = child.wait_with_output().await.expect("omc ends");
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_slice(&out.stdout).expect("the report is printed on stdout");
    assert_eq!(report["stopped"], omc::engine::CANCELLED, "{report}");
    // What was sent before the signal was finished (which batches that was depends on timing;
    // that none is sent after it is the engine's own test).
    assert_eq!(report["sent"], report["tokenised"], "{report}");
    assert_eq!(
        report["selected"].as_u64(),
        Some(report["tokenised"].as_u64().unwrap_or(0) + report["pending"].as_u64().unwrap_or(0)),
        "{report}"
    );
    let runs = stage.omc.runs().await;
    assert_eq!(runs[0]["outcome"], "interrupted", "{runs:?}");
    // The next run completes the rest.
    let next = stage.omc.run_once(&[]).await;
    assert_eq!(next["tokenised"], report["pending"], "{next}");
}
