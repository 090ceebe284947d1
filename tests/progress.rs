//! On a terminal, `omc run` draws a live progress line (counts, rate, ETA) below its logs: the
//! process runs under `script`, which gives it a pseudo-terminal, against the emulators with
//! an MTS slow enough that the line is drawn while the run goes.

mod common;

use common::PARTNER;
use common::command::{isolated, omc_binary};
use common::stage::Stage;
use omc::mts::emulator::MtsEmulator;
use omc::testing::synthetic;
use std::path::Path;
use std::time::Duration;

#[tokio::test]
async fn a_terminal_shows_a_live_progress_line() {
    let mts = MtsEmulator::builder()
        .partner_id(PARTNER)
        .record_delay(Duration::from_millis(10))
        .start()
        .await
        .expect("the MTS emulator starts");
    let stage = Stage::with_settings(
        "progress-line",
        synthetic(150, 5).collect(),
        Some(mts),
        "",
        "",
    )
    .await;
    let command = format!(
        "{} run {} --once",
        omc_binary().display(),
        stage.omc.config()
    );
    let mut script = isolated(Path::new("script"), stage.omc.environment());
    script.args(["-qec", &command, "/dev/null"]);
    let out = tokio::time::timeout(Duration::from_secs(120), script.output())
        .await
        .expect("the run ends")
        .expect("script runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains("selected 150") && shown.contains("ETA"),
        "no progress line on the terminal:\n{shown}"
    );
    assert!(
        shown.contains("\"tokenised\":150"),
        "the report follows the line:\n{shown}"
    );
}
