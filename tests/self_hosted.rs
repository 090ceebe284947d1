//! End to end over real HTTP: the MTS emulator calls OMC's self-hosted receiver (mounted on
//! axum as in `examples/callback_server`), which stores tokens in the Odoo emulator through
//! `OdooRegistry`.

#[path = "../src/cli/receiver/router.rs"]
mod router;

use omc::conformance::sink::{REGISTRANTS, SinkHarness, callback_bodies, run_sink_suites};
use omc::engine::EngineSettings;
use omc::memory::RegistrantSeed;
use omc::mts::MtsClient;
use omc::mts::emulator::RunningMts;
use omc::odoo::OdooRegistry;
use omc::odoo::emulator::RunningOdoo;
use omc::receiver::{CallbackReceiver, LoginThrottle, ReceiverSettings};
use omc::sink::{CallbackAuth, SeedResult};
use omc::testing::mock_token;
use omc::testing::synthetic;
use omc::{CallbackSink, Delivery};
use omc::{Domain, Engine, HttpMethod, RegistrantId, RunReport, SelfHostedSink, Token};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

mod common;

use common::{PARTNER, admin_registry, emulators, quick_wait};

struct World {
    odoo: RunningOdoo,
    mts: RunningMts,
    receiver: Arc<CallbackReceiver>,
    url: Url,
    registry: Arc<OdooRegistry>,
}

async fn world(seeds: Vec<RegistrantSeed>) -> World {
    world_with(seeds, ReceiverSettings::default()).await
}

async fn world_with(seeds: Vec<RegistrantSeed>, settings: ReceiverSettings) -> World {
    let (odoo, mts) = emulators(seeds, &[]).await;
    let registry = admin_registry(&odoo);
    let receiver = Arc::new(CallbackReceiver::new(registry.clone(), settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let app = router::router(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    World {
        odoo,
        mts,
        receiver,
        url,
        registry,
    }
}

fn settings() -> EngineSettings {
    let mut settings = EngineSettings::default();
    settings.batch_size = 7;
    settings.wait = quick_wait(Duration::from_secs(1));
    settings
}

async fn run(w: &World, sink: SelfHostedSink) -> RunReport {
    let seeder = MtsClient::builder(w.mts.base_url()).build().unwrap();
    let engine = Engine::new(
        w.registry.clone(),
        Arc::new(seeder),
        Arc::new(sink),
        settings(),
    );
    engine.run_once().await.unwrap()
}

fn assert_all_tokenised(w: &World, seeds: &[RegistrantSeed], report: &RunReport, what: &str) {
    let n = seeds.len() as u64;
    assert!(report.is_balanced(), "{what}: {report:?}");
    assert_eq!(
        (report.tokenised, report.vids_removed),
        (n, n),
        "{what}: {report:?}"
    );
    assert!(report.refused_callbacks.is_empty(), "{what}: {report:?}");
    assert_eq!(
        w.receiver.held_failures(),
        0,
        "{what}: the receiver forgets what the engine has read"
    );
    for seed in seeds {
        let expected = mock_token(seed.vid.as_ref().unwrap(), PARTNER);
        assert_eq!(
            w.odoo.token_of(seed.id),
            Some(expected),
            "{what}: {}",
            seed.id
        );
        assert!(w.odoo.vid_of(seed.id).is_none(), "{what}: VID removed");
    }
}

#[tokio::test]
async fn every_method_single_and_bulk_with_bearer_and_odoo_auth() {
    let methods = [
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Patch,
        HttpMethod::Get,
    ];
    for odoo_auth in [false, true] {
        for method in methods {
            for bulk in [true, false] {
                let what = format!("odoo auth {odoo_auth}, {method:?}, bulk {bulk}");
                let seeds: Vec<_> = synthetic(10, 2).collect();
                let w = world(seeds.clone()).await;
                let mut sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone())
                    .with_http_method(method)
                    .with_bulk(bulk);
                if odoo_auth {
                    sink = sink.with_odoo_auth("omc", "mts", SecretString::from("mts-pw"));
                }
                let report = run(&w, sink).await;
                assert_all_tokenised(&w, &seeds, &report, &what);
                let expected = if odoo_auth { "odoo" } else { "staticBearer" };
                assert!(
                    w.mts
                        .received()
                        .iter()
                        .all(|r| r.auth_type.as_deref() == Some(expected)),
                    "{what}"
                );
                // MTS logs out after its last callback, which may be after OMC has read every
                // token back: poll with a deadline.
                let receiver = w.receiver.clone();
                omc::conformance::eventually(
                    &format!("{what}: MTS logged out"),
                    Duration::from_secs(10),
                    || {
                        let receiver = receiver.clone();
                        async move { (receiver.open_sessions() == 0).then_some(()) }
                    },
                )
                .await;
            }
        }
    }
}

#[tokio::test]
async fn a_wrong_password_stores_nothing_and_the_report_names_the_refusals() {
    for bulk in [true, false] {
        let w = world(synthetic(9, 4).collect()).await;
        let sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone())
            .with_bulk(bulk)
            .with_odoo_auth("omc", "mts", SecretString::from("what-mts-is-told"));
        // The receiver expects another password than the one MTS is given.
        w.receiver
            .add_user("omc", "mts", &SecretString::from("the-real-password"));
        let report = run(&w, sink).await;
        // The first batch's callbacks are all refused: the run stops there and says why.
        assert_eq!(
            (report.sent, report.tokenised, report.pending),
            (7, 0, 9),
            "{report:?}"
        );
        assert!(report.stopped.is_some(), "{report:?}");
        assert!(report.is_balanced());
        assert_eq!(w.odoo.count_ids("MOSIP UIN TOKEN"), 0, "nothing stored");
        assert_eq!(w.odoo.count_ids("MOSIP VID"), 9);
        let callbacks = if bulk { 1 } else { 7 };
        assert_eq!(
            report.refused_callbacks.get(
                "unauthenticated: no bearer token and no session cookie (was the login refused?)"
            ),
            Some(&callbacks),
            "{report:?}"
        );
        assert_eq!(
            report
                .refused_callbacks
                .get("login refused: wrong database, login or password"),
            Some(&1),
            "one login per MTS request: {report:?}"
        );
    }
}

/// The receiver's JSON answer to a request.
async fn answer_to(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

async fn login(client: &reqwest::Client, w: &World) -> String {
    let answer = client
        .get(w.url.join("web/session/authenticate").unwrap())
        .json(&json!({"jsonrpc": "2.0", "params": {"db": "omc", "login": "mts", "password": "mts-pw"}}))
        .send()
        .await
        .unwrap();
    let cookie = answer.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn replays_store_nothing_more_and_after_the_run_are_refused() {
    let seeds: Vec<_> = synthetic(6, 8).collect();
    let w = world(seeds.clone()).await;
    let sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone()).with_odoo_auth(
        "omc",
        "mts",
        SecretString::from("mts-pw"),
    );
    let report = run(&w, sink).await;
    assert_all_tokenised(&w, &seeds, &report, "first run");
    let before: Vec<Option<Token>> = seeds.iter().map(|s| w.odoo.token_of(s.id)).collect();
    // The bulk body MTS sent, delivered again: three times, the run long over.
    let body: Vec<Value> = seeds
        .iter()
        .map(|s| {
            json!({"id": s.id.0, "status": "processed", "errorCode": null, "errorMessage": null,
                   "token": mock_token(s.vid.as_ref().unwrap(), PARTNER).expose()})
        })
        .collect();
    let client = reqwest::Client::new();
    let cookie = login(&client, &w).await;
    // The run is over: what it expected is retired, so its replays are refused.
    let request = client.post(w.url.join("omc/callback").unwrap());
    let answer = answer_to(request.header("Cookie", &cookie).json(&body)).await;
    assert_eq!(
        answer["refused"], "registrant not sent by this connector",
        "{answer}"
    );
    // While a run that sent them is open, replays are answered as stored.
    let sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone());
    let open = sink.open_run().await.unwrap();
    let ids: Vec<RegistrantId> = seeds.iter().map(|s| s.id).collect();
    open.results.expect(&ids).await.unwrap();
    for _ in 0..3 {
        let request = client.post(w.url.join("omc/callback").unwrap());
        let answer = answer_to(request.header("Cookie", &cookie).json(&body)).await;
        assert_eq!(answer["stored"], 0, "{answer}");
        assert_eq!(answer["alreadyStored"], 6, "{answer}");
    }
    let after: Vec<Option<Token>> = seeds.iter().map(|s| w.odoo.token_of(s.id)).collect();
    assert_eq!(before, after, "the registry is unchanged");
    assert_eq!(w.odoo.count_ids("MOSIP UIN TOKEN"), 6);
    // A different token for a registrant already holding one: a conflict, not an overwrite.
    let conflict = json!({"id": 1, "status": "processed", "token": "a-different-token"});
    let request = client.put(w.url.join("omc/callback").unwrap());
    let answer = answer_to(request.header("Cookie", &cookie).json(&conflict)).await;
    assert_eq!(answer["conflicts"], json!([1]));
    assert_eq!(w.odoo.token_of(RegistrantId(1)), before[0]);
}

#[tokio::test]
async fn two_registrants_sharing_a_vid_are_one_duplicate_group() {
    let mut seeds: Vec<_> = synthetic(8, 6).collect();
    seeds[6].vid = seeds[2].vid.clone();
    let w = world(seeds).await;
    let sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone());
    let report = run(&w, sink).await;
    assert_eq!(report.tokenised, 8, "{report:?}");
    assert_eq!(
        report.duplicate_groups,
        vec![vec![RegistrantId(3), RegistrantId(7)]],
        "{report:?}"
    );
}

/// Engines sharing one self-hosted sink (a recurring run and a manual import in one
/// service), run at once over real HTTP: each completes, and none of their callbacks is
/// refused (each run has a bearer secret of its own, so opening one never revokes another's;
/// with three, a secret kept for "the current and the previous run" would already fail).
#[tokio::test]
async fn two_engines_sharing_one_sink_run_at_once_and_neither_s_callbacks_are_refused() {
    for (odoo_auth, engines) in [(false, 2), (true, 2), (false, 3)] {
        let what = format!("odoo auth {odoo_auth}, {engines} engines");
        let seeds: Vec<RegistrantSeed> = synthetic(60, 37).collect();
        // MTS logs in once per request: the engines' requests together log in faster than the
        // default throttle allows one login.
        let throttle = LoginThrottle {
            per_login_per_second: 100,
            per_address_per_second: 100,
            burst: 100,
            ..LoginThrottle::default()
        };
        let receiving = {
            let mut settings = ReceiverSettings::default();
            settings.login_throttle = throttle;
            settings
        };
        let w = world_with(seeds.clone(), receiving).await;
        let mut sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone()).with_bulk(true);
        if odoo_auth {
            sink = sink.with_odoo_auth("omc", "mts", SecretString::from("mts-pw"));
        }
        let sink: Arc<dyn CallbackSink> = Arc::new(sink);
        let share = 60 / engines;
        // Each engine selects its own ids, so that all have batches in flight at once.
        let runs: Vec<_> = (0..engines)
            .map(|i| {
                let seeder = MtsClient::builder(w.mts.base_url()).build().unwrap();
                let mut settings = settings();
                settings.filter = Domain::id_between(i * share + 1, (i + 1) * share);
                let engine =
                    Engine::new(w.registry.clone(), Arc::new(seeder), sink.clone(), settings);
                tokio::spawn(async move { engine.run_once().await })
            })
            .collect();
        let share = share as u64;
        for run in runs {
            let report = run.await.unwrap().unwrap();
            assert!(report.is_balanced(), "{what}: {report:?}");
            assert_eq!(
                (report.selected, report.tokenised, report.pending),
                (share, share, 0),
                "{what}: {report:?}"
            );
            assert!(report.refused_callbacks.is_empty(), "{what}: {report:?}");
            assert!(report.stopped.is_none(), "{what}: {report:?}");
        }
        let refused = w.receiver.take_problems().refused;
        assert!(
            refused.is_empty(),
            "{what}: the receiver refused {refused:?}"
        );
        assert_eq!(w.receiver.open_runs(), 0, "{what}: every run retired");
        for seed in &seeds {
            let expected = mock_token(seed.vid.as_ref().unwrap(), PARTNER);
            assert_eq!(w.odoo.token_of(seed.id), Some(expected), "{what}");
            assert!(w.odoo.vid_of(seed.id).is_none(), "{what}");
        }
    }
}

#[tokio::test]
async fn two_connectors_at_once_each_count_only_the_tokens_they_stored() {
    let seeds: Vec<RegistrantSeed> = synthetic(60, 31).collect();
    let w = world(seeds.clone()).await;
    // A second connector on the same registry and MTS, with a receiver of its own.
    let other = Arc::new(CallbackReceiver::new(
        w.registry.clone(),
        ReceiverSettings::default(),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other_url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let app = router::router(other.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let a = SelfHostedSink::new(w.receiver.clone(), w.url.clone()).with_bulk(true);
    let b = SelfHostedSink::new(other, other_url).with_bulk(true);
    let (first, second) = tokio::join!(run(&w, a), run(&w, b));
    for report in [&first, &second] {
        assert!(report.is_balanced(), "{report:?}");
    }
    assert_eq!(
        first.tokenised + second.tokenised,
        60,
        "each token counted by the connector that stored it: {first:?} {second:?}"
    );
    for seed in &seeds {
        let expected = mock_token(seed.vid.as_ref().unwrap(), PARTNER);
        assert_eq!(w.odoo.token_of(seed.id), Some(expected));
        assert!(w.odoo.vid_of(seed.id).is_none());
    }
}

/// The self-hosted sink as MTS reaches it: callbacks over HTTP to the receiver mounted on axum,
/// storing into the Odoo emulator.
struct SelfHostedHarness {
    sink: Arc<SelfHostedSink>,
    http: reqwest::Client,
}

#[async_trait::async_trait]
impl SinkHarness for SelfHostedHarness {
    fn sink(&self) -> Arc<dyn CallbackSink> {
        self.sink.clone()
    }

    async fn deliver(
        &self,
        delivery: &Delivery,
        results: &[SeedResult],
    ) -> Option<Result<(), String>> {
        let CallbackAuth::StaticBearer { token } = &delivery.auth else {
            return Some(Err("the harness sends bearer callbacks only".into()));
        };
        let bodies = match callback_bodies(delivery, results) {
            Ok(bodies) => bodies,
            Err(e) => return Some(Err(e)),
        };
        let method = reqwest::Method::from_bytes(delivery.http_method.as_str().as_bytes())
            .expect("an HTTP method");
        for body in bodies {
            let sent = self
                .http
                .request(method.clone(), delivery.url.clone())
                .bearer_auth(token.expose_secret())
                .json(&body)
                .send()
                .await;
            if let Err(e) = sent {
                return Some(Err(format!("the callback was not answered: {e}")));
            }
        }
        Some(Ok(()))
    }
}

#[tokio::test(flavor = "multi_thread")]
#[allow(clippy::print_stderr)] // the suite's summary line, for `--nocapture`
async fn the_self_hosted_sink_passes_the_sink_suite() {
    let seeds: Vec<_> = (1..=REGISTRANTS as i64)
        .map(|id| {
            RegistrantSeed::individual(
                id,
                json!({"given_name": "Given", "family_name": "Family"}),
                Some(&format!("49183500000{id:05}")),
            )
        })
        .collect();
    let w = world(seeds).await;
    let sink = SelfHostedSink::new(w.receiver.clone(), w.url.clone());
    let reports = run_sink_suites(SelfHostedHarness {
        sink: Arc::new(sink),
        http: reqwest::Client::new(),
    })
    .await;
    for report in reports {
        eprintln!("{report}");
        assert!(report.skipped().is_empty(), "{report}");
    }
    w.odoo.shutdown().await;
    w.mts.shutdown().await;
}
