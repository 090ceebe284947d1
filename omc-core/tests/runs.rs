//! Runs over a run ledger, with the in-memory adapters and a clock moved by hand: the daily
//! delta, failures that are not resent until the record changes, attempts, manual imports,
//! the cleanup of VIDs beside tokens, and the ledger's lock.

use async_trait::async_trait;
use omc_core::engine::{CALLBACKS_NOT_ARRIVING, CANCELLED, EngineSettings, NO_RESULT, RunHooks};
use omc_core::ledger::{LedgerError, MemoryLedger, RunKind, RunLedger, RunOutcome};
use omc_core::memory::RegistrantSeed;
use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
use omc_core::runs::{Import, RunRequest, RunSettings, Runner, parse_csv};
use omc_core::seeder::{RequestId, RequestStatus, SeedRequest, TokenSeeder};
use omc_core::testing::mock_token;
use omc_core::testing::{synthetic, synthetic_one};
use omc_core::time::{ManualClock, Timestamp};
use omc_core::{Delivery, SeederError};
use omc_core::{Domain, Engine, IdTypes, PersonalRecord, RegistrantId, RunReport, Vid};
use serde_json::json;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const PARTNER: &str = "mpartner-default-omc";

struct Kit {
    clock: ManualClock,
    registry: Arc<MemoryRegistry>,
    seeder: Arc<MemorySeeder>,
    ledger: Arc<MemoryLedger>,
    runner: Runner,
}

fn kit(seeds: impl IntoIterator<Item = RegistrantSeed>, runs: RunSettings) -> Kit {
    kit_with(seeds, runs, EngineSettings::default())
}

fn kit_with(
    seeds: impl IntoIterator<Item = RegistrantSeed>,
    runs: RunSettings,
    settings: EngineSettings,
) -> Kit {
    let clock = ManualClock::at(Timestamp::parse_odoo("2026-11-01 02:00:00").unwrap());
    let registry =
        Arc::new(MemoryRegistry::new(IdTypes::default()).with_clock(Arc::new(clock.clone())));
    registry.seed(seeds);
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    let engine = Engine::new(registry.clone(), seeder.clone(), sink, settings);
    let ledger = Arc::new(MemoryLedger::new());
    let runner = Runner::new(engine, ledger.clone(), runs).with_clock(Arc::new(clock.clone()));
    Kit {
        clock,
        registry,
        seeder,
        ledger,
        runner,
    }
}

impl Kit {
    /// The numbers of the runs in the ledger, newest first.
    async fn run_ids(&self) -> Vec<i64> {
        let runs = self.ledger.runs(10).await.unwrap();
        runs.iter().map(|r| r.id.0).collect()
    }

    /// Runs `request` under the lock; returns the report and the ids sent to the seeder.
    async fn run(&self, request: RunRequest) -> (RunReport, Vec<i64>) {
        let before = self.seeder.submitted().len();
        let lock = self.runner.lock("test").await.unwrap();
        let end = self.runner.run(&lock, request).await.unwrap();
        assert!(end.error.is_none(), "{:?}", end.error);
        assert!(end.report.is_balanced(), "{:?}", end.report);
        let mut sent: Vec<i64> = self.seeder.submitted()[before..]
            .iter()
            .flat_map(|r| r.registrants.iter().map(|id| id.0))
            .collect();
        sent.sort_unstable();
        (end.report, sent)
    }
}

fn no_overlap() -> RunSettings {
    RunSettings::new(0, 7, 3, 90)
}

fn without_gender(id: i64) -> RegistrantSeed {
    let mut seed = synthetic_one(id, 9);
    seed.fields.expose_mut().remove("gender");
    seed
}

#[tokio::test(start_paused = true)]
async fn the_daily_delta_sends_only_what_changed_and_what_is_pending() {
    let mut seeds: Vec<_> = synthetic(10, 9).collect();
    seeds[2] = without_gender(3);
    let mut no_vid = synthetic_one(13, 9);
    no_vid.vid = None;
    seeds.push(no_vid);
    let k = kit(seeds, no_overlap());
    k.seeder.lose_deliveries_for(&[RegistrantId(5)], true);
    // The registry was written a while before the first run.
    k.clock.advance(60);

    let (first, sent) = k.run(RunRequest::Due).await;
    assert_eq!(first.kind, Some(RunKind::Full), "no full run yet");
    assert_eq!(sent, [1, 2, 4, 5, 6, 7, 8, 9, 10]);
    assert_eq!(first.tokenised, 8);
    assert_eq!(first.failed.get("ATS-REQ-011"), Some(&1));
    assert_eq!(first.pending, 1);

    // An hour later: two new registrants, and one that only gained a VID (its id's write
    // date moves, not its own).
    k.clock.advance(3_600);
    k.registry
        .seed([synthetic_one(11, 9), synthetic_one(12, 9)]);
    k.registry
        .set_vid(RegistrantId(13), Vid::new("4918359999999913"));
    k.seeder.lose_deliveries_for(&[RegistrantId(5)], false);
    k.clock.advance(60);
    let (second, sent) = k.run(RunRequest::Due).await;
    assert_eq!(second.kind, Some(RunKind::Delta));
    assert_eq!(
        sent,
        [5, 11, 12, 13],
        "changed since run 1, and the pending"
    );
    assert_eq!(
        second.failed_unchanged, 0,
        "registrant 3 is outside the window"
    );
    assert_eq!(second.pending, 0);

    // Registrant 3's record is fixed: the next delta sends it, and only it.
    k.clock.advance(3_600);
    let fixed = PersonalRecord::from(json!({"gender": "Female"}).as_object().unwrap().clone());
    assert!(k.registry.update(RegistrantId(3), fixed));
    k.clock.advance(60);
    let (third, sent) = k.run(RunRequest::Due).await;
    assert_eq!(sent, [3]);
    assert_eq!(third.tokenised, 1);
    assert_eq!(
        k.registry.counts(),
        (13, 0),
        "every registrant holds a token, no VID"
    );

    let status = k.runner.status(10).await.unwrap();
    let kinds: Vec<_> = status
        .runs
        .iter()
        .map(|r| (r.id.0, r.kind, r.outcome))
        .collect();
    assert_eq!(
        kinds,
        [
            (3, RunKind::Delta, RunOutcome::Completed),
            (2, RunKind::Delta, RunOutcome::Completed),
            (1, RunKind::Full, RunOutcome::Completed)
        ]
    );
    assert_eq!(status.open.pending, 0);
    assert!(status.open.failed.is_empty(), "{:?}", status.open);
    assert_eq!(status.next.kind, RunKind::Delta);
    let report = status.runs[2].report.as_ref().unwrap();
    assert_eq!(report["tokenised"], 8);
    assert_eq!(report["run"], 1);
    assert_eq!(report["kind"], "full");
}

#[tokio::test(start_paused = true)]
async fn the_watermark_is_the_last_start_less_the_overlap_and_a_sweep_comes_weekly() {
    let k = kit(synthetic(3, 1), RunSettings::new(10, 7, 3, 90));
    let start = k.clock.now_ts();
    k.run(RunRequest::Due).await;
    k.clock.advance(86_400);
    let next = k.runner.next().await.unwrap();
    assert_eq!(next.kind, RunKind::Delta);
    assert_eq!(next.watermark, Some(start.minus_seconds(600)));
    let (delta, _) = k.run(RunRequest::Due).await;
    assert_eq!(delta.kind, Some(RunKind::Delta));
    k.clock.advance(7 * 86_400);
    let next = k.runner.next().await.unwrap();
    assert_eq!(next.kind, RunKind::Full, "{}", next.reason);
    let (forced, _) = k.run(RunRequest::Delta).await;
    assert_eq!(forced.kind, Some(RunKind::Delta), "--delta is obeyed");
}

trait Now {
    fn now_ts(&self) -> Timestamp;
}

impl Now for ManualClock {
    fn now_ts(&self) -> Timestamp {
        use omc_core::time::Clock;
        self.now()
    }
}

#[tokio::test(start_paused = true)]
async fn unanswered_registrants_fail_after_the_allowed_attempts_but_an_outage_fails_nobody() {
    let k = kit(synthetic(4, 2), RunSettings::new(0, 7, 2, 90));
    k.clock.advance(60);
    // MTS down for three runs: batches lost whole count for no one.
    k.seeder.lose_deliveries(true);
    for _ in 0..3 {
        let (report, sent) = k.run(RunRequest::Full).await;
        assert_eq!(sent.len(), 4);
        assert_eq!(report.pending, 4);
        assert!(report.failed.is_empty(), "{:?}", report.failed);
    }
    k.seeder.lose_deliveries(false);
    // Registrant 2's callback is lost while the others arrive: that attempt counts.
    k.seeder.lose_deliveries_for(&[RegistrantId(2)], true);
    let (first, _) = k.run(RunRequest::Full).await;
    assert_eq!((first.tokenised, first.pending), (3, 1));
    let (second, sent) = k.run(RunRequest::Full).await;
    assert_eq!(sent, [2]);
    // Alone in its batch, nobody else was tokenised: not counted.
    assert_eq!(second.pending, 1);
    k.registry.seed([synthetic_one(9, 2)]);
    let (third, sent) = k.run(RunRequest::Full).await;
    assert_eq!(sent, [2, 9]);
    assert_eq!(third.failed.get(NO_RESULT), Some(&1), "{third:?}");
    assert_eq!(third.pending, 0);
    let (fourth, sent) = k.run(RunRequest::Full).await;
    assert!(
        sent.is_empty(),
        "a failed registrant is not resent: {sent:?}"
    );
    assert_eq!(fourth.failed_unchanged, 1);
    // A manual import that names it sends it again.
    k.seeder.lose_deliveries_for(&[RegistrantId(2)], false);
    let (import, sent) = k
        .run(RunRequest::Import(Import::Ids(vec![RegistrantId(2)])))
        .await;
    assert_eq!(sent, [2]);
    assert_eq!(import.kind, Some(RunKind::Import));
    assert_eq!(import.tokenised, 1);
    assert_eq!(k.ledger.summary().await.unwrap().failed.len(), 0);
}

#[tokio::test(start_paused = true)]
async fn an_import_never_moves_the_watermark() {
    let k = kit(synthetic(3, 4), no_overlap());
    k.run(RunRequest::Full).await;
    let before = k.runner.next().await.unwrap();
    k.clock.advance(600);
    let domain = Domain::parse(r#"[["id", "=", 2]]"#).unwrap();
    k.run(RunRequest::Import(Import::Domain(domain))).await;
    assert_eq!(k.runner.next().await.unwrap(), before);
}

#[tokio::test(start_paused = true)]
async fn a_csv_import_is_checked_whole_then_stores_the_vids_and_tokenises() {
    let mut seeds: Vec<RegistrantSeed> = synthetic(5, 5)
        .map(|mut s| {
            s.vid = None;
            s
        })
        .collect();
    seeds[3].vid = Some(Vid::new("4918350000000404"));
    seeds[4].token = Some(mock_token(&Vid::new("4918350000000505"), PARTNER));
    let k = kit(seeds, no_overlap());
    k.registry.set_id_validation("MOSIP VID", r"\d{16}");
    let lock = k.runner.lock("test").await.unwrap();
    let bad = [
        (
            "1,4918350000000101\n2,49183500x\n",
            "row 2: registrant 2: the VID does not match",
        ),
        (
            "1,4918350000000101\n77,4918350000000177\n",
            "row 2: registrant 77 does not exist",
        ),
        (
            "1,4918350000000101\n4,4918350000000999\n",
            "row 2: registrant 4 already holds a different 'MOSIP VID'",
        ),
        (
            "1,4918350000000101\n5,4918350000000105\n",
            "row 2: registrant 5 already holds a 'MOSIP UIN TOKEN' id",
        ),
    ];
    for (csv, want) in bad {
        let rows = parse_csv(csv, "vids.csv").unwrap();
        let e = k
            .runner
            .run(&lock, RunRequest::Import(Import::Vids(rows)))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{want} in {e}");
        assert!(!e.contains("491835"), "no VID in the message: {e}");
        assert_eq!(k.registry.vid_of(RegistrantId(1)), None, "nothing written");
    }
    assert!(k.seeder.submitted().is_empty());
    drop(lock);
    let rows = parse_csv(
        "registrant id,vid\n1,4918350000000101\n2,4918350000000102\n4,4918350000000404\n",
        "vids.csv",
    )
    .unwrap();
    let (report, sent) = k.run(RunRequest::Import(Import::Vids(rows))).await;
    assert_eq!(sent, [1, 2, 4]);
    assert_eq!(report.tokenised, 3);
    assert_eq!(
        k.registry.token_of(RegistrantId(1)),
        Some(mock_token(&Vid::new("4918350000000101"), PARTNER))
    );
    assert_eq!(
        k.registry.vid_of(RegistrantId(1)),
        None,
        "removed once tokenised"
    );
}

#[tokio::test(start_paused = true)]
async fn vids_beside_tokens_are_removed_whatever_the_filter_and_kept_beside_an_empty_token_id() {
    let mut seeds: Vec<_> = synthetic(4, 6).collect();
    // 1 and 2 hold a token and a VID; 2 is no registrant, so the operator's filter excludes it.
    for i in [0, 1] {
        seeds[i].token = Some(mock_token(seeds[i].vid.as_ref().unwrap(), PARTNER));
    }
    seeds[1]
        .fields
        .expose_mut()
        .insert("is_registrant".into(), json!(false));
    let k = kit(seeds, no_overlap());
    k.registry.add_empty_token_id(RegistrantId(3));
    let (report, sent) = k.run(RunRequest::Full).await;
    assert_eq!(report.cleanup.vids_removed, 2);
    assert_eq!(report.cleanup.kept_beside_empty_token_id, 1);
    assert_eq!(k.registry.vid_of(RegistrantId(1)), None);
    assert_eq!(k.registry.vid_of(RegistrantId(2)), None);
    assert!(
        k.registry.vid_of(RegistrantId(3)).is_some(),
        "kept: its token id has no value"
    );
    assert_eq!(
        sent,
        [4],
        "registrant 3 holds an id of the token type: the default filter skips it"
    );
}

#[tokio::test(start_paused = true)]
async fn a_vid_beside_an_empty_token_id_is_reported_not_sent_when_the_filter_selects_it() {
    let mut settings = EngineSettings::default();
    settings.filter = Domain::parse(r#"[["is_registrant", "=", true]]"#).unwrap();
    let k = kit_with(synthetic(2, 7), no_overlap(), settings);
    k.registry.add_empty_token_id(RegistrantId(2));
    let (report, sent) = k.run(RunRequest::Full).await;
    assert_eq!(sent, [1]);
    assert_eq!(report.failed.get("OMC-EMPTY-TOKEN-ID"), Some(&1));
}

#[tokio::test(start_paused = true)]
async fn one_run_at_a_time_and_a_dead_run_shows_as_interrupted() {
    let k = kit(synthetic(2, 8), no_overlap());
    let lock = k.runner.lock("omc run").await.unwrap();
    match k.runner.lock("omc import").await {
        Err(LedgerError::Locked { holder }) => {
            assert_eq!(holder.pid, std::process::id());
            assert_eq!(holder.what, "omc run");
            let text = LedgerError::Locked { holder }.to_string();
            assert!(
                text.contains(&format!("process {}", std::process::id())),
                "{text}"
            );
        }
        other => panic!("a second lock was not refused: {other:?}"),
    }
    // A run whose process died: begun, never finished.
    let dead = k
        .ledger
        .begin_run(RunKind::Full, k.clock.now_ts(), None)
        .await
        .unwrap();
    drop(lock);
    let status = k.runner.status(5).await.unwrap();
    assert_eq!(
        status.runs[0].outcome,
        RunOutcome::Interrupted,
        "nobody holds the lock"
    );
    assert_eq!(
        status.next.kind,
        RunKind::Full,
        "an interrupted run is no watermark"
    );
    k.run(RunRequest::Due).await;
    let runs = k.ledger.runs(5).await.unwrap();
    assert_eq!(runs[1].id, dead);
    assert_eq!(runs[1].outcome, RunOutcome::Interrupted);
    assert_eq!(runs[0].outcome, RunOutcome::Completed);
}

#[tokio::test(start_paused = true)]
async fn old_runs_are_pruned_after_the_retention_period() {
    let k = kit(synthetic(1, 3), RunSettings::new(0, 7, 3, 2));
    k.run(RunRequest::Full).await;
    k.clock.advance(86_400);
    k.run(RunRequest::Full).await;
    k.clock.advance(86_400 + 1);
    k.run(RunRequest::Full).await;
    let ids = k.run_ids().await;
    assert_eq!(ids, [3, 2], "run 1 ended more than 2 days before run 3");
    k.clock.advance(10 * 86_400);
    k.run(RunRequest::Full).await;
    let ids = k.run_ids().await;
    assert_eq!(
        ids,
        [4, 3],
        "numbers are never reused; run 3 stayed as the newest completed full run when run 4 began"
    );
    let with_delta = kit(synthetic(1, 3), RunSettings::new(0, 700, 3, 2));
    with_delta.run(RunRequest::Full).await;
    with_delta.run(RunRequest::Delta).await;
    with_delta.clock.advance(30 * 86_400);
    let before = with_delta.runner.next().await.unwrap();
    with_delta
        .run(RunRequest::Import(Import::Ids(vec![RegistrantId(1)])))
        .await;
    let kept: Vec<i64> = with_delta
        .ledger
        .runs(10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id.0)
        .collect();
    assert_eq!(
        kept,
        [3, 2, 1],
        "the newest completed run of each kind stays"
    );
    assert_eq!(with_delta.runner.next().await.unwrap(), before);
}

#[tokio::test(start_paused = true)]
async fn the_ledger_forgets_registrants_tokenised_elsewhere() {
    let mut seeds: Vec<_> = synthetic(3, 12).collect();
    seeds[2].fields.expose_mut().remove("gender");
    let k = kit(seeds.clone(), no_overlap());
    k.clock.advance(60);
    k.seeder.lose_deliveries_for(&[RegistrantId(2)], true);
    k.run(RunRequest::Full).await;
    let open = k.ledger.summary().await.unwrap();
    assert_eq!((open.pending, open.failed.len()), (1, 1));
    // Both get their token some other way (a late callback, by hand), VIDs removed.
    use omc_core::Registry;
    for seed in &seeds[1..] {
        let token = mock_token(seed.vid.as_ref().unwrap(), PARTNER);
        k.registry.store_tokens(&[(seed.id, token)]).await.unwrap();
    }
    k.registry
        .remove_vids(&[RegistrantId(2), RegistrantId(3)])
        .await
        .unwrap();
    k.clock.advance(60);
    let (_, sent) = k.run(RunRequest::Due).await;
    assert!(sent.is_empty(), "{sent:?}");
    let open = k.ledger.summary().await.unwrap();
    assert_eq!((open.pending, open.failed.len()), (0, 0), "{open:?}");
}

/// A seeder that cancels the run as soon as its first batch is submitted (a signal arriving).
#[derive(Debug)]
struct CancelOnSubmit {
    inner: Arc<MemorySeeder>,
    cancel: CancellationToken,
}

#[async_trait]
impl TokenSeeder for CancelOnSubmit {
    async fn submit(&self, r: &SeedRequest, d: &Delivery) -> Result<RequestId, SeederError> {
        let id = self.inner.submit(r, d).await?;
        self.cancel.cancel();
        Ok(id)
    }
    async fn status(&self, id: &RequestId) -> Result<RequestStatus, SeederError> {
        self.inner.status(id).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_run_finishes_what_it_sent_and_is_recorded_interrupted() {
    let clock = ManualClock::at(Timestamp::parse_odoo("2026-11-01 02:00:00").unwrap());
    let registry = Arc::new(MemoryRegistry::new(IdTypes::default()));
    registry.seed(synthetic(250, 5));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let inner = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    let cancel = CancellationToken::new();
    let seeder = Arc::new(CancelOnSubmit {
        inner: inner.clone(),
        cancel: cancel.clone(),
    });
    let mut settings = EngineSettings::default();
    settings.batch_size = 50;
    settings.page_size = 50;
    let engine = Engine::new(registry.clone(), seeder, sink, settings);
    let ledger = Arc::new(MemoryLedger::new());
    let runner = Runner::new(engine, ledger.clone(), no_overlap()).with_clock(Arc::new(clock));
    let lock = runner.lock("test").await.unwrap();
    let hooks = RunHooks::default().with_cancel(cancel);
    let end = runner
        .run_with(&lock, RunRequest::Full, hooks)
        .await
        .unwrap();
    let report = end.report;
    assert!(end.error.is_none());
    assert_eq!(report.stopped.as_deref(), Some(CANCELLED));
    assert_eq!(inner.submitted().len(), 1, "no batch after the cancel");
    assert_eq!(
        (report.sent, report.tokenised),
        (50, 50),
        "the sent one finished"
    );
    assert_eq!(report.pending, report.selected - 50, "{report:?}");
    assert!(report.is_balanced(), "{report:?}");
    let runs = ledger.runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, RunOutcome::Interrupted);
    assert_eq!(runs[0].error.as_deref(), Some(CANCELLED));
    let recorded = runs[0].report.as_ref().expect("the report is kept");
    assert_eq!(recorded["tokenised"], 50);
    assert_eq!(recorded["stopped"], CANCELLED);
    // The next run (without a cancel) gets the rest.
    let end = runner.run(&lock, RunRequest::Due).await.unwrap();
    assert_eq!(end.report.tokenised, 200, "{:?}", end.report);
    assert_eq!(registry.counts(), (250, 0));
}

#[tokio::test(start_paused = true)]
async fn a_run_that_stopped_by_itself_is_recorded_failed_with_its_reason() {
    let k = kit(synthetic(3, 2), no_overlap());
    k.seeder.lose_deliveries(true);
    let (report, _) = k.run(RunRequest::Full).await;
    assert_eq!(report.stopped.as_deref(), Some(CALLBACKS_NOT_ARRIVING));
    let runs = k.ledger.runs(1).await.unwrap();
    assert_eq!(runs[0].outcome, RunOutcome::Failed);
    assert_eq!(runs[0].error.as_deref(), Some(CALLBACKS_NOT_ARRIVING));
    assert_eq!(
        k.runner.next().await.unwrap().kind,
        RunKind::Full,
        "no watermark"
    );
}
