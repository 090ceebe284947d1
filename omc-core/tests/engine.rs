//! The engine over the in-memory adapters (time is tokio's paused clock where deadlines matter).

use async_trait::async_trait;
use omc_core::engine::{
    CALLBACKS_FAILED, CALLBACKS_NOT_ARRIVING, EngineError, EngineSettings, Progress, RunHooks,
    Selection, WaitPolicy,
};
use omc_core::memory::RegistrantSeed;
use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
use omc_core::seeder::{RequestId, RequestStatus, SeedRequest, TokenSeeder};
use omc_core::testing::mock_token;
use omc_core::testing::synthetic;
use omc_core::{Delivery, Engine, IdTypes, RegistrantId, Registry, RunReport, SeederError};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

const PARTNER: &str = "mpartner-default-omc";

struct Kit {
    registry: Arc<MemoryRegistry>,
    seeder: Arc<MemorySeeder>,
    engine: Engine,
}

fn kit(seeds: impl IntoIterator<Item = RegistrantSeed>, settings: EngineSettings) -> Kit {
    let registry = Arc::new(MemoryRegistry::with_seeds(IdTypes::default(), seeds));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    let engine = Engine::new(registry.clone(), seeder.clone(), sink, settings);
    Kit {
        registry,
        seeder,
        engine,
    }
}

fn small_batches() -> EngineSettings {
    let mut settings = EngineSettings::default();
    settings.batch_size = 100;
    settings.page_size = 64;
    settings
}

fn sent_ids(seeder: &MemorySeeder) -> Vec<i64> {
    seeder
        .submitted()
        .iter()
        .flat_map(|r| r.registrants.iter().map(|id| id.0))
        .collect()
}

#[tokio::test]
async fn tokenises_everyone_and_removes_their_vids() {
    let seeds: Vec<_> = synthetic(1000, 42).collect();
    let kit = kit(seeds.clone(), small_batches());
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.selected, 1000);
    assert_eq!(report.sent, 1000);
    assert_eq!(report.tokenised, 1000);
    assert_eq!(report.vids_removed, 1000);
    assert_eq!(report.pending, 0);
    assert!(report.failed.is_empty());
    assert_eq!(report.requests, 10);
    assert!(report.is_balanced());
    for seed in &seeds {
        let token = kit.registry.token_of(seed.id).expect("token stored");
        assert_eq!(token, mock_token(seed.vid.as_ref().unwrap(), PARTNER));
        assert!(kit.registry.vid_of(seed.id).is_none(), "VID removed");
    }
}

#[tokio::test]
async fn a_second_run_sends_nothing_already_tokenised() {
    let kit = kit(synthetic(250, 1), small_batches());
    kit.engine.run_once().await.unwrap();
    let before = kit.seeder.submitted().len();
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(kit.seeder.submitted().len(), before, "no new request");
    assert_eq!(
        report.selected, 0,
        "the default filter skips tokenised registrants"
    );
    assert!(report.is_balanced());
}

fn with(id: i64, patch: Value) -> RegistrantSeed {
    let mut seed = omc_core::testing::synthetic_one(id, 3);
    for (k, v) in patch.as_object().unwrap() {
        seed.fields.expose_mut().insert(k.clone(), v.clone());
    }
    seed
}

#[tokio::test]
async fn records_mts_would_refuse_are_held_back_with_its_code() {
    let mut seeds: Vec<_> = synthetic(10, 3).collect();
    seeds[2] = with(
        3,
        json!({"given_name": false, "family_name": false, "name": false}),
    );
    seeds[4] = with(5, json!({"gender": false}));
    seeds[6] = with(7, json!({"birthdate": ""}));
    let kit = kit(seeds, small_batches());
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.failed.get("ATS-REQ-010"), Some(&1), "no name");
    assert_eq!(report.failed.get("ATS-REQ-011"), Some(&1), "empty gender");
    assert_eq!(
        report.failed.get("ATS-REQ-012"),
        Some(&1),
        "empty birthdate"
    );
    assert_eq!(report.tokenised, 7, "the rest of the batch goes through");
    assert!(report.is_balanced());
    let sent = sent_ids(&kit.seeder);
    for held in [3, 5, 7] {
        assert!(!sent.contains(&held), "{held} was not sent");
        assert!(
            kit.registry.vid_of(RegistrantId(held)).is_some(),
            "{held} keeps its VID"
        );
        assert!(kit.registry.token_of(RegistrantId(held)).is_none());
    }
}

#[tokio::test]
async fn registrants_without_a_vid_are_never_selected_whatever_the_filter() {
    let mut seeds: Vec<_> = synthetic(3, 3).collect();
    seeds[1].vid = None;
    let mut settings = small_batches();
    settings.filter = omc_core::Domain::parse(r#"[["is_registrant", "=", true]]"#).unwrap();
    let kit = kit(seeds, settings);
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(
        report.selected, 2,
        "OMC adds 'holds a VID' to the operator's filter"
    );
    assert_eq!(report.tokenised, 2);
    assert!(report.failed.is_empty());
    assert!(!sent_ids(&kit.seeder).contains(&2));
    assert!(report.is_balanced());
}

#[tokio::test]
async fn a_token_already_held_gets_its_vid_removed_without_sending() {
    let mut seeds: Vec<_> = synthetic(3, 3).collect();
    seeds[0].token = Some(mock_token(seeds[0].vid.as_ref().unwrap(), PARTNER));
    let mut settings = small_batches();
    settings.filter =
        omc_core::Domain::parse(r#"[["reg_ids.id_type", "=", "MOSIP VID"]]"#).unwrap();
    let kit = kit(seeds.clone(), settings.clone());
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.cleanup.vids_removed, 1, "removed before selecting");
    assert_eq!(report.already_tokenised, 0);
    assert_eq!(report.tokenised, 2);
    assert_eq!(report.vids_removed, 2);
    assert!(!sent_ids(&kit.seeder).contains(&1));
    assert!(report.is_balanced());
    assert_eq!(kit.registry.counts(), (3, 0));

    // Without the cleanup pass, the main pass finds it holding both and removes the VID.
    let kit = kit_without_cleanup(seeds, settings);
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.cleanup.selected, 0);
    assert_eq!(report.already_tokenised, 1);
    assert_eq!(report.vids_removed, 3);
    assert!(report.is_balanced());
}

fn kit_without_cleanup(
    seeds: impl IntoIterator<Item = RegistrantSeed>,
    settings: EngineSettings,
) -> Kit {
    kit(seeds, {
        let mut settings = settings;
        settings.cleanup_filter = None;
        settings
    })
}

#[tokio::test(start_paused = true)]
async fn lost_callbacks_stop_the_run_after_one_batch_and_the_next_run_gets_them() {
    let kit = kit(synthetic(150, 9), small_batches());
    kit.seeder.lose_deliveries(true);
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.stopped.as_deref(), Some(CALLBACKS_NOT_ARRIVING));
    assert_eq!(
        kit.seeder.submitted().len(),
        1,
        "the second batch is not sent"
    );
    assert_eq!((report.requests, report.sent), (1, 100));
    assert_eq!(report.tokenised, 0);
    assert_eq!(report.pending, 150, "the unsent are pending too");
    assert_eq!(report.vids_removed, 0);
    assert!(report.is_balanced());
    assert_eq!(
        kit.registry.counts(),
        (0, 150),
        "nothing removed without a token"
    );
    kit.seeder.lose_deliveries(false);
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(
        (report.tokenised, report.pending, report.vids_removed),
        (150, 0, 150)
    );
    assert_eq!(report.stopped, None);
}

#[tokio::test(start_paused = true)]
async fn a_submission_that_may_have_arrived_is_never_retried() {
    let kit = kit(synthetic(50, 9), small_batches());
    kit.seeder.fail_next(SeederError::Uncertain {
        message: "timed out".into(),
        source: None,
    });
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.requests, 0);
    assert_eq!(report.pending, 50);
    assert_eq!(report.batch_errors.get("seeder outcome unknown"), Some(&1));
    assert!(kit.seeder.submitted().is_empty(), "not retried");
    assert!(report.is_balanced());
}

#[tokio::test(start_paused = true)]
async fn a_submission_that_never_arrived_is_retried() {
    let kit = kit(synthetic(50, 9), small_batches());
    for _ in 0..2 {
        kit.seeder.fail_next(SeederError::NotDelivered {
            message: "connection refused".into(),
            source: None,
        });
    }
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.tokenised, 50);
    assert_eq!(kit.seeder.submitted().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_rejected_batch_is_reported_with_mts_code() {
    let kit = kit(synthetic(50, 9), small_batches());
    kit.seeder.fail_next(SeederError::Rejected {
        http_status: 500,
        code: "ATS-REQ-100".into(),
        message: "object of type 'bool' has no len()".into(),
    });
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.batch_errors.get("ATS-REQ-100"), Some(&1));
    assert_eq!(report.pending, 50);
}

/// A registry whose VIDs vanish (OpenG2P's own clean-up job) as soon as tokens are read.
#[derive(Debug)]
struct RacingCleanup(Arc<MemoryRegistry>);

#[async_trait]
impl Registry for RacingCleanup {
    async fn candidates(
        &self,
        q: &omc_core::CandidateQuery,
    ) -> Result<Vec<omc_core::Candidate>, omc_core::RegistryError> {
        self.0.candidates(q).await
    }
    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<std::collections::BTreeMap<RegistrantId, omc_core::Token>, omc_core::RegistryError>
    {
        let found = self.0.tokens(ids).await?;
        for id in found.keys() {
            self.0.delete_vid(*id);
        }
        Ok(found)
    }
    async fn store_tokens(
        &self,
        t: &[(RegistrantId, omc_core::Token)],
    ) -> Result<omc_core::StoreReport, omc_core::RegistryError> {
        self.0.store_tokens(t).await
    }
    async fn store_vids(
        &self,
        v: &[(RegistrantId, omc_core::Vid)],
    ) -> Result<omc_core::StoreReport, omc_core::RegistryError> {
        self.0.store_vids(v).await
    }
    async fn id_validation(&self, t: &str) -> Result<Option<String>, omc_core::RegistryError> {
        self.0.id_validation(t).await
    }
    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, omc_core::RegistryError> {
        self.0.remove_vids(ids).await
    }
    async fn holders(
        &self,
        tokens: &[omc_core::Token],
    ) -> Result<
        std::collections::BTreeMap<omc_core::Token, Vec<RegistrantId>>,
        omc_core::RegistryError,
    > {
        self.0.holders(tokens).await
    }
}

#[tokio::test]
async fn a_vid_deleted_by_someone_else_does_not_fail_the_run() {
    let inner = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(20, 4),
    ));
    let registry = Arc::new(RacingCleanup(inner.clone()));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    let engine = Engine::new(registry, seeder, sink, small_batches());
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.tokenised, 20);
    assert_eq!(report.vids_removed, 0, "someone else removed them first");
    assert_eq!(inner.counts(), (20, 0));
}

/// A seeder that counts requests outstanding (submitted, status not yet final).
#[derive(Debug)]
struct Counting {
    inner: Arc<MemorySeeder>,
    outstanding: AtomicUsize,
    most: AtomicUsize,
    polls: AtomicUsize,
}

#[async_trait]
impl TokenSeeder for Counting {
    async fn submit(&self, r: &SeedRequest, d: &Delivery) -> Result<RequestId, SeederError> {
        let now = self.outstanding.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        self.inner.submit(r, d).await
    }
    async fn status(&self, id: &RequestId) -> Result<RequestStatus, SeederError> {
        // Final only on the third poll, so batches overlap if the engine lets them.
        if self.polls.fetch_add(1, Ordering::SeqCst) % 3 != 2 {
            return Ok(RequestStatus::Processing);
        }
        let status = self.inner.status(id).await?;
        self.outstanding.fetch_sub(1, Ordering::SeqCst);
        Ok(status)
    }
}

#[tokio::test(start_paused = true)]
async fn batches_in_flight_are_bounded() {
    for max in [1usize, 3] {
        let registry = Arc::new(MemoryRegistry::with_seeds(
            IdTypes::default(),
            synthetic(1000, 4),
        ));
        let sink = Arc::new(MemorySink::new(registry.clone()));
        let inner = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
        let seeder = Arc::new(Counting {
            inner,
            outstanding: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            polls: AtomicUsize::new(0),
        });
        let mut settings = small_batches();
        settings.max_in_flight = max;
        let engine = Engine::new(registry, seeder.clone(), sink, settings);
        let report: RunReport = engine.run_once().await.unwrap();
        assert_eq!(report.tokenised, 1000);
        assert_eq!(
            seeder.most.load(Ordering::SeqCst),
            max,
            "at most {max} outstanding"
        );
    }
}

/// A seeder whose batches take `takes` to process; it notes when, after the submission, the
/// engine asked for the status.
#[derive(Debug)]
struct Slow {
    inner: Arc<MemorySeeder>,
    takes: Duration,
    submitted: Mutex<Option<Instant>>,
    asked: Mutex<Vec<Duration>>,
}

#[async_trait]
impl TokenSeeder for Slow {
    async fn submit(&self, r: &SeedRequest, d: &Delivery) -> Result<RequestId, SeederError> {
        *self.submitted.lock().unwrap() = Some(Instant::now());
        self.inner.submit(r, d).await
    }
    async fn status(&self, id: &RequestId) -> Result<RequestStatus, SeederError> {
        let since = self.submitted.lock().unwrap().expect("submitted").elapsed();
        self.asked.lock().unwrap().push(since);
        if since < self.takes {
            return Ok(RequestStatus::Processing);
        }
        self.inner.status(id).await
    }
}

/// An engine over 10 registrants whose seeder takes 10 s to process each request.
fn slow(settings: EngineSettings) -> (Engine, Arc<Slow>) {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(10, 6),
    ));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(Slow {
        inner: Arc::new(MemorySeeder::new(PARTNER, sink.clone())),
        takes: Duration::from_secs(10),
        submitted: Mutex::new(None),
        asked: Mutex::new(Vec::new()),
    });
    (
        Engine::new(registry, seeder.clone(), sink, settings),
        seeder,
    )
}

#[tokio::test(start_paused = true)]
async fn status_polls_start_fast_and_slow_down_to_the_poll_interval() {
    let settings = EngineSettings::default();
    let wait = settings.wait.clone();
    let (engine, seeder) = slow(settings);
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.tokenised, 10);
    let asked = seeder.asked.lock().unwrap().clone();
    // Asked at once, then after each wait the policy gives, until the batch was done.
    let mut expected = vec![Duration::ZERO];
    for gap in wait.polls() {
        let last = *expected.last().unwrap();
        if last >= Duration::from_secs(10) {
            break;
        }
        expected.push(last + gap);
    }
    assert_eq!(asked.len(), expected.len(), "{asked:?}");
    for (at, want) in asked.iter().zip(&expected) {
        let off = at.abs_diff(*want);
        assert!(
            off <= Duration::from_millis(2),
            "asked at {at:?}, expected {want:?}"
        );
    }
    let gaps: Vec<_> = asked.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] < Duration::from_millis(25), "{gaps:?}");
    assert!(
        gaps.iter().all(|g| *g <= Duration::from_millis(251)),
        "{gaps:?}"
    );
    assert!(asked.len() < 50, "{} polls for a 10 s batch", asked.len());
}

/// A seeder whose callbacks are lost: `processed` at the first status, then
/// `error_making_callback_request`, as MTS reports a callback it could not make.
#[derive(Debug)]
struct CallbacksFail {
    inner: Arc<MemorySeeder>,
    asked: AtomicUsize,
}

#[async_trait]
impl TokenSeeder for CallbacksFail {
    async fn submit(&self, r: &SeedRequest, d: &Delivery) -> Result<RequestId, SeederError> {
        self.inner.submit(r, d).await
    }
    async fn status(&self, _id: &RequestId) -> Result<RequestStatus, SeederError> {
        Ok(match self.asked.fetch_add(1, Ordering::SeqCst) {
            0 => RequestStatus::Processed,
            _ => RequestStatus::ErrorMakingCallbackRequest,
        })
    }
}

#[tokio::test(start_paused = true)]
async fn reading_back_stops_waiting_once_mts_says_the_callbacks_failed() {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(20, 3),
    ));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let inner = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    inner.lose_deliveries(true);
    let seeder = Arc::new(CallbacksFail {
        inner,
        asked: AtomicUsize::new(0),
    });
    let settings = small_batches();
    let readback = settings.wait.readback_deadline(20);
    let engine = Engine::new(registry, seeder, sink, settings);
    let started = Instant::now();
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.pending, 20);
    assert_eq!(report.stopped.as_deref(), Some(CALLBACKS_FAILED));
    let took = started.elapsed();
    assert!(
        took < readback / 10,
        "waited {took:?} of the {readback:?} read-back deadline"
    );
}

/// A registry that fails reading candidates from a given page on, or plays another connector
/// whose callback stores the even registrants' tokens right after this run read its first page.
#[derive(Debug)]
struct Hooked {
    inner: Arc<MemoryRegistry>,
    fail_from_page: Option<usize>,
    pages: AtomicUsize,
    rival: bool,
}

impl Hooked {
    fn new(inner: Arc<MemoryRegistry>) -> Self {
        Self {
            inner,
            fail_from_page: None,
            pages: AtomicUsize::new(0),
            rival: false,
        }
    }
}

#[async_trait]
impl Registry for Hooked {
    async fn candidates(
        &self,
        q: &omc_core::CandidateQuery,
    ) -> Result<Vec<omc_core::Candidate>, omc_core::RegistryError> {
        let n = self.pages.fetch_add(1, Ordering::SeqCst);
        if self.fail_from_page.is_some_and(|from| n >= from) {
            return Err(omc_core::RegistryError::Unavailable {
                message: "connection reset".into(),
                source: None,
            });
        }
        let page = self.inner.candidates(q).await?;
        if self.rival && n == 0 {
            let theirs: Vec<_> = page
                .iter()
                .filter(|c| c.id.0 % 2 == 0)
                .map(|c| (c.id, mock_token(c.vid.as_ref().unwrap(), PARTNER)))
                .collect();
            self.inner.store_tokens(&theirs).await?;
        }
        Ok(page)
    }
    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<std::collections::BTreeMap<RegistrantId, omc_core::Token>, omc_core::RegistryError>
    {
        self.inner.tokens(ids).await
    }
    async fn store_tokens(
        &self,
        t: &[(RegistrantId, omc_core::Token)],
    ) -> Result<omc_core::StoreReport, omc_core::RegistryError> {
        self.inner.store_tokens(t).await
    }
    async fn store_vids(
        &self,
        v: &[(RegistrantId, omc_core::Vid)],
    ) -> Result<omc_core::StoreReport, omc_core::RegistryError> {
        self.inner.store_vids(v).await
    }
    async fn id_validation(&self, t: &str) -> Result<Option<String>, omc_core::RegistryError> {
        self.inner.id_validation(t).await
    }
    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, omc_core::RegistryError> {
        self.inner.remove_vids(ids).await
    }
    async fn holders(
        &self,
        tokens: &[omc_core::Token],
    ) -> Result<
        std::collections::BTreeMap<omc_core::Token, Vec<RegistrantId>>,
        omc_core::RegistryError,
    > {
        self.inner.holders(tokens).await
    }
}

#[tokio::test]
async fn a_run_stopped_by_the_registry_still_gives_its_report() {
    let inner = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(200, 8),
    ));
    let registry = Arc::new(Hooked {
        fail_from_page: Some(1),
        ..Hooked::new(inner.clone())
    });
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    let mut settings = small_batches();
    settings.batch_size = 50;
    settings.cleanup_filter = None;
    let engine = Engine::new(registry, seeder, sink, settings);
    let failed = engine.run_once().await.unwrap_err();
    assert_eq!(failed.to_string(), "reading candidates failed");
    assert!(std::error::Error::source(&failed).is_some(), "the cause");
    assert!(matches!(failed.error(), EngineError::Registry(_)));
    let report = failed.report();
    assert_eq!(report.selected, 64, "the first page");
    assert_eq!(report.tokenised, 50, "the batch sent before the error");
    assert_eq!(report.pending, 14, "the batch not sent");
    assert!(report.is_balanced(), "{report:?}");
    let (report, _) = failed.into_parts();
    assert_eq!(report.requests, 1);
}

/// A seeder whose first submission panics (a bug), the others going through.
#[derive(Debug)]
struct PanicsOnce {
    inner: Arc<MemorySeeder>,
    panicked: AtomicBool,
}

#[async_trait]
impl TokenSeeder for PanicsOnce {
    async fn submit(&self, r: &SeedRequest, d: &Delivery) -> Result<RequestId, SeederError> {
        assert!(self.panicked.swap(true, Ordering::SeqCst), "a seeder bug");
        self.inner.submit(r, d).await
    }
    async fn status(&self, id: &RequestId) -> Result<RequestStatus, SeederError> {
        self.inner.status(id).await
    }
}

#[tokio::test]
async fn a_batch_whose_task_panics_leaves_its_registrants_pending() {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(250, 2),
    ));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(PanicsOnce {
        inner: Arc::new(MemorySeeder::new(PARTNER, sink.clone())),
        panicked: AtomicBool::new(false),
    });
    let engine = Engine::new(registry.clone(), seeder, sink, small_batches());
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.selected, 250);
    assert_eq!(report.tokenised, 150);
    assert_eq!(report.pending, 100, "the batch that panicked");
    assert_eq!(report.batch_errors.get("batch task panicked"), Some(&1));
    assert!(report.is_balanced(), "{report:?}");
    assert_eq!(registry.counts(), (150, 100), "its VIDs kept");
}

#[tokio::test]
async fn registrants_tokenised_by_someone_else_since_selection_are_not_sent() {
    let inner = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(20, 6),
    ));
    let registry = Arc::new(Hooked {
        rival: true,
        ..Hooked::new(inner.clone())
    });
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    let mut settings = small_batches();
    settings.cleanup_filter = None;
    let engine = Engine::new(registry, seeder.clone(), sink, settings);
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.selected, 20);
    assert_eq!(report.tokenised, 10, "only what this run caused");
    assert_eq!(report.already_tokenised, 10, "stored by the rival");
    assert_eq!(report.sent, 10);
    assert!(
        sent_ids(&seeder).iter().all(|id| id % 2 == 1),
        "not sent again"
    );
    assert_eq!(report.vids_removed, 20, "every VID beside a token goes");
    assert!(report.is_balanced(), "{report:?}");
    assert_eq!(inner.counts(), (20, 0));
}

#[tokio::test(start_paused = true)]
async fn waits_of_any_length_saturate_instead_of_overflowing() {
    let mut forever = WaitPolicy::default();
    forever.first_poll = Duration::MAX;
    forever.poll_interval = Duration::MAX;
    forever.status_base = Duration::MAX;
    forever.status_per_record = Duration::MAX;
    forever.readback_base = Duration::MAX;
    forever.readback_per_record = Duration::MAX;
    forever.submit_retries = 2;
    forever.retry_backoff = Duration::MAX;
    let kit = kit(synthetic(30, 5), {
        let mut settings = small_batches();
        settings.wait = forever;
        settings
    });
    for _ in 0..2 {
        kit.seeder.fail_next(SeederError::NotDelivered {
            message: "connection refused".into(),
            source: None,
        });
    }
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.tokenised, 30, "{report:?}");
    assert_eq!(kit.seeder.submitted().len(), 1, "after two retries");
    assert!(report.is_balanced());
}

/// A seeder noting, for each submission, its records and their bytes as JSON.
#[derive(Debug)]
struct Measuring {
    inner: Arc<MemorySeeder>,
    requests: Mutex<Vec<(usize, usize)>>,
}

#[async_trait]
impl TokenSeeder for Measuring {
    async fn submit(&self, r: &SeedRequest, d: &Delivery) -> Result<RequestId, SeederError> {
        let bytes = r
            .authdata
            .iter()
            .map(|record| serde_json::to_vec(record).unwrap().len() + 1)
            .sum();
        self.requests
            .lock()
            .unwrap()
            .push((r.authdata.len(), bytes));
        self.inner.submit(r, d).await
    }
    async fn status(&self, id: &RequestId) -> Result<RequestStatus, SeederError> {
        self.inner.status(id).await
    }
}

async fn measured_run(max_request_bytes: usize) -> (RunReport, Vec<(usize, usize)>) {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(100, 7),
    ));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let seeder = Arc::new(Measuring {
        inner: Arc::new(MemorySeeder::new(PARTNER, sink.clone())),
        requests: Mutex::new(Vec::new()),
    });
    let mut settings = small_batches();
    settings.batch_size = 10_000;
    settings.max_request_bytes = Some(max_request_bytes);
    let engine = Engine::new(registry, seeder.clone(), sink, settings);
    let report = engine.run_once().await.unwrap();
    let requests = seeder.requests.lock().unwrap().clone();
    (report, requests)
}

#[tokio::test]
async fn requests_are_cut_to_max_request_bytes() {
    let (report, requests) = measured_run(6000).await;
    assert_eq!(report.tokenised, 100);
    assert!(report.is_balanced());
    assert!(requests.len() > 2, "{requests:?}");
    assert_eq!(requests.iter().map(|(n, _)| n).sum::<usize>(), 100);
    for (_, bytes) in &requests {
        assert!(bytes + 1024 <= 6000, "{requests:?}");
    }
    // A record larger than the limit on its own goes alone.
    let (report, requests) = measured_run(1).await;
    assert_eq!(report.tokenised, 100);
    assert_eq!(requests.len(), 100);
}

fn not_reached() -> SeederError {
    SeederError::NotDelivered {
        message: "connection refused".into(),
        source: None,
    }
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_mts_stops_the_run_after_three_failed_submissions() {
    let mut settings = small_batches();
    settings.batch_size = 10;
    let retries = settings.wait.submit_retries as usize;
    let kit = kit(synthetic(100, 9), settings);
    // Three batches, each through its retries; a fourth batch would be taken.
    for _ in 0..3 * (retries + 1) {
        kit.seeder.fail_next(not_reached());
    }
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(
        report.stopped.as_deref(),
        Some("MTS is not reachable: 3 submissions in a row failed")
    );
    assert!(kit.seeder.submitted().is_empty(), "no fourth batch");
    assert_eq!(report.requests, 0);
    assert_eq!(report.batch_errors.get("seeder not reached"), Some(&3));
    assert!(report.selected < 100, "paging stopped: {report:?}");
    assert_eq!(report.pending, report.selected);
    assert!(report.is_balanced(), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_submission_that_goes_through_resets_the_count() {
    let mut settings = small_batches();
    settings.batch_size = 10;
    settings.max_in_flight = 1;
    settings.wait = {
        let mut wait = WaitPolicy::default();
        wait.submit_retries = 0;
        wait
    };
    let kit = kit(synthetic(50, 9), settings);
    kit.seeder.fail_next(not_reached());
    kit.seeder.fail_next(not_reached());
    let report = kit.engine.run_once().await.unwrap();
    assert_eq!(report.stopped, None, "{report:?}");
    assert_eq!((report.tokenised, report.pending), (30, 20));
    assert!(report.is_balanced());
}

#[tokio::test(start_paused = true)]
async fn progress_is_published_as_the_run_goes_and_ends_as_the_report() {
    let (engine, _) = slow(EngineSettings::default());
    let (progress, mut seen) = tokio::sync::watch::channel(Progress::default());
    let selection = Selection::filter(engine.settings().filter.clone());
    let run = tokio::spawn(async move {
        let hooks = RunHooks::default().with_progress(progress);
        engine.run_with(&selection, None, hooks).await
    });
    let sent = *seen.wait_for(|p| p.sent == 10).await.unwrap();
    assert_eq!(
        sent,
        Progress {
            selected: 10,
            sent: 10,
            in_flight: 1,
            ..Progress::default()
        },
        "sent while MTS is still processing: one batch in flight"
    );
    let end = run.await.unwrap();
    assert!(end.error.is_none());
    assert_eq!(end.report.tokenised, 10);
    assert_eq!(*seen.borrow(), Progress::of(&end.report));
}
