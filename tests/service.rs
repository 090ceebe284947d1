//! `omc run` as a recurring service, a real process against the emulators on loopback: an Odoo
//! outage (a TCP proxy in front of it cut for 30 s, its data kept) is survived and the pending
//! are tokenised after it; `/healthz` turns 503 while Odoo is down; `/metrics` moves during a
//! run; SIGTERM mid-run ends the service (exit 0) with the run interrupted in the ledger and its
//! report on stdout.

mod common;

use common::proxy::Release;
use common::stage::{Stage, until};
use common::{PARTNER, personal_data};
use omc::RegistrantId;
use omc::memory::RegistrantSeed;
use omc::mts::emulator::MtsEmulator;
use omc::testing::synthetic;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Child;
use tokio::time::Instant;

/// How long the registry stays unreachable.
const OUTAGE: Duration = Duration::from_secs(30);

/// A running `omc run CONFIG --http 127.0.0.1:0`, its stderr's JSON log lines collected.
struct Service {
    child: Child,
    logs: Arc<Mutex<Vec<Value>>>,
    http: reqwest::Client,
}

impl Service {
    async fn start(stage: &Stage) -> Self {
        let mut child = stage
            .omc
            .command(&[
                "run",
                stage.omc.config(),
                "--http",
                "127.0.0.1:0",
                "--log-format",
                "json",
            ])
            .env("RUST_LOG", "debug")
            .spawn()
            .expect("omc starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped");
        let collected = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let value =
                    serde_json::from_str(&line).unwrap_or_else(|_| Value::String(line.clone()));
                collected.lock().unwrap().push(value);
            }
        });
        Self {
            child,
            logs,
            http: reqwest::Client::new(),
        }
    }

    /// The address `/healthz` and `/metrics` are served at, from the service's log.
    async fn address(&self) -> String {
        let mut address = None;
        until("the service says where it serves /healthz", || {
            address = self.logs.lock().unwrap().iter().find_map(|line| {
                let fields = &line["fields"];
                (fields["message"] == "serving /healthz and /metrics")
                    .then(|| fields["address"].as_str().map(str::to_owned))?
            });
            address.is_some()
        })
        .await;
        address.unwrap_or_default()
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.address().await);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .expect("the service answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// A counter's value in `/metrics` (0 before it has one).
    async fn metric(&self, line_start: &str) -> f64 {
        let (status, text) = self.get("/metrics").await;
        assert_eq!(status, 200, "{text}");
        text.lines()
            .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    /// Polls `/healthz` every 100 ms until it answers `status`, failing after `within`.
    async fn health_until(&self, status: u16, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let (seen, body) = self.get("/healthz").await;
            if seen == status {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "/healthz still answers {seen} ({body}), not {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().expect("the child's status").is_none()
    }

    /// Sends SIGTERM.
    fn signal(&self) {
        let pid = self.child.id().expect("running").to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// SIGTERM, then the exit status and stdout, failing if it takes over `within`.
    async fn terminate(self, within: Duration) -> (Option<i32>, String) {
        self.signal();
        self.ended(within).await
    }

    /// The exit status and stdout, failing if the process takes over `within` to end.
    async fn ended(self, within: Duration) -> (Option<i32>, String) {
        let out = tokio::time::timeout(within, self.child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("the service did not end within {within:?} of SIGTERM"))
            .expect("omc ends");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }
}

/// How many of `ids` hold a token and no VID in the registry.
fn tokenised(stage: &Stage, ids: &[RegistrantId]) -> usize {
    ids.iter()
        .filter(|id| stage.odoo.token_of(**id).is_some() && stage.odoo.vid_of(**id).is_none())
        .count()
}

#[tokio::test]
async fn a_recurring_service_survives_an_odoo_outage_and_tokenises_the_pending_after_it() {
    let seeds: Vec<RegistrantSeed> = synthetic(300, 31).collect();
    let ids: Vec<RegistrantId> = seeds.iter().map(|s| s.id).collect();
    let personal = personal_data(&seeds);
    // MTS takes 20 ms a record: the run is still going when Odoo goes away.
    let mts = MtsEmulator::builder()
        .partner_id(PARTNER)
        .record_delay(Duration::from_millis(20))
        .start()
        .await
        .expect("the MTS emulator starts");
    let stage = Stage::with_settings(
        "service-outage",
        seeds,
        Some(mts),
        "",
        "retry_seconds = 1\nhealth_check_seconds = 1",
    )
    .await;
    let mut service = Service::start(&stage).await;
    service.health_until(200, Duration::from_secs(20)).await;

    // The counters move during the run.
    let tokenised_metric = "omc_registrants_total{outcome=\"tokenised\"}";
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let seen = service.metric(tokenised_metric).await;
        if seen > 0.0 {
            break seen;
        }
        assert!(Instant::now() < deadline, "no registrant tokenised yet");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(first < 300.0, "the run ended before the outage: {first}");
    let in_progress = service.metric("omc_run_in_progress").await;
    assert_eq!(in_progress, 1.0);

    // Odoo goes away for OMC and for MTS's callbacks; its data is kept.
    stage.registry_path.cut(true);
    stage.callback_path.cut(true);
    let cut_at = Instant::now();
    let why = service.health_until(503, Duration::from_secs(20)).await;
    assert!(
        why.contains("check odoo.base_url and that Odoo is running"),
        "{why}"
    );
    while cut_at.elapsed() < OUTAGE {
        assert!(service.alive(), "the service ended during the outage");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let runs = stage.omc.runs().await;
    let failed = runs.iter().filter(|r| r["outcome"] == "failed").count();
    assert!(
        failed >= 2,
        "failed runs retried during the outage: {runs:#?}"
    );
    assert!(
        runs.iter().any(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.contains("check odoo.base_url"))),
        "a run that could not run says why: {runs:#?}"
    );

    // Odoo is back: the next try tokenises every pending registrant.
    stage.registry_path.cut(false);
    stage.callback_path.cut(false);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let done = tokenised(&stage, &ids);
        if done == ids.len() {
            break;
        }
        assert!(service.alive(), "the service ended after the outage");
        assert!(
            Instant::now() < deadline,
            "{done} of {} tokenised after the outage",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    service.health_until(200, Duration::from_secs(30)).await;
    let last = service.metric(tokenised_metric).await;
    assert!(last > first, "the counter moved: {first} → {last}");
    // Each failed run is counted once: as many as the ledger holds.
    let runs = stage.omc.runs().await;
    let failed_in_ledger = runs.iter().filter(|r| r["outcome"] == "failed").count();
    assert!(failed_in_ledger >= 2, "{runs:#?}");
    assert_eq!(
        service.metric("omc_runs_total{outcome=\"failed\"}").await,
        failed_in_ledger as f64,
        "failed runs in the metrics and in the ledger: {runs:#?}"
    );
    let vids = stage
        .odoo
        .reg_ids_of(ids[0])
        .iter()
        .filter(|r| r.id_type == "MOSIP VID")
        .count();
    assert_eq!(vids, 0);

    // Its logs (debug level: every batch, every retry, every health check) hold no personal
    // data.
    let logs = service.logs.lock().unwrap().clone();
    assert!(logs.len() > 20, "{} log lines", logs.len());
    for line in &logs {
        assert!(line.is_object(), "not a JSON line: {line}");
        let text = line.to_string();
        for item in &personal {
            assert!(
                !text.contains(item.as_str()),
                "personal data in the service's logs: {text}"
            );
        }
    }

    // Between runs, SIGTERM ends the service at once, with status 0.
    let (code, _) = service.terminate(Duration::from_secs(10)).await;
    assert_eq!(code, Some(0));
}

#[tokio::test]
async fn sigterm_mid_run_ends_the_service_with_the_run_interrupted_and_its_report() {
    let seeds: Vec<RegistrantSeed> = synthetic(120, 37).collect();
    let stage = Stage::new("service-sigterm", seeds, None).await;
    // The first batch goes alone; hold its VID removal so the run is surely under way.
    stage.registry_path.hold("\"unlink\"", 0);
    let service = Service::start(&stage).await;
    until("the first batch is read back", || {
        stage.registry_path.held() == 1
    })
    .await;
    service.signal();
    // The held request goes on once the signal is in.
    stage.registry_path.release(Release::Forward);
    let (code, stdout) = service.ended(Duration::from_secs(30)).await;
    assert_eq!(code, Some(0), "a service ends with 0 on SIGTERM");
    let report: Value = serde_json::from_str(stdout.trim()).expect("the report on stdout");
    assert_eq!(report["stopped"], omc::engine::CANCELLED, "{report}");
    let runs = stage.omc.runs().await;
    assert_eq!(runs[0]["outcome"], "interrupted", "{runs:#?}");
}
