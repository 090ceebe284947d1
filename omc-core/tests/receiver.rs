//! The self-hosted callback receiver with the in-memory registry: the malformed-body table,
//! replays and conflicts, duplicate groups, authentication, and the engine's report.

use omc_core::memory::RegistrantSeed;

use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
use omc_core::receiver::{CallbackReceiver, CallbackRequest, ReceiverRun, ReceiverSettings};
use omc_core::testing::synthetic;
use omc_core::{
    CallbackSink, Engine, EngineSettings, IdTypes, RegistrantId, Registry, SelfHostedSink, SinkRun,
    Token,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

const PATH: &str = "/omc/callback";

struct Kit {
    registry: Arc<MemoryRegistry>,
    receiver: Arc<CallbackReceiver>,
    /// The run expecting registrants 1 to 10, whose bearer the kit's requests carry.
    run: ReceiverRun,
    bearer: String,
}

fn kit_with(seeds: Vec<RegistrantSeed>, settings: ReceiverSettings) -> Kit {
    let registry = Arc::new(MemoryRegistry::with_seeds(IdTypes::default(), seeds));
    let receiver = Arc::new(CallbackReceiver::new(registry.clone(), settings));
    let run = receiver.open_run();
    let bearer = run.bearer().expose_secret().to_owned();
    run.expect(&(1..=10).map(RegistrantId).collect::<Vec<_>>());
    Kit {
        registry,
        receiver,
        run,
        bearer,
    }
}

fn kit() -> Kit {
    kit_with(synthetic(12, 3).collect(), ReceiverSettings::default())
}

impl Kit {
    fn request(&self, method: &str, body: impl Into<Vec<u8>>) -> CallbackRequest {
        CallbackRequest::new(method, PATH, body)
            .with_header("Authorization", &format!("Bearer {}", self.bearer))
    }

    async fn post(&self, body: &Value) -> (u16, Value) {
        let r = self
            .receiver
            .handle(self.request("POST", body.to_string()))
            .await;
        (r.status, r.body)
    }

    async fn tokens(&self) -> BTreeMap<RegistrantId, Token> {
        let ids: Vec<_> = (1..=12).map(RegistrantId).collect();
        self.registry.tokens(&ids).await.unwrap()
    }
}

fn processed(id: i64, token: &str) -> Value {
    json!({"id": id, "status": "processed", "token": token, "errorCode": null, "errorMessage": null})
}

#[tokio::test]
async fn malformed_bodies_are_refused_each_with_its_reason_and_nothing_changes() {
    let long = "x".repeat(300);
    let long_message = "m".repeat(2000);
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("no body", Vec::new(), 400, "no body"),
        ("whitespace", b"  \n".to_vec(), 400, "not JSON"),
        ("truncated JSON", br#"{"id": 1, "status""#.to_vec(), 400, "not JSON"),
        ("not UTF-8", vec![0xff, 0xfe, 0x00], 400, "not JSON"),
        ("a string", br#""processed""#.to_vec(), 400, "not an object or a list"),
        ("a number", b"42".to_vec(), 400, "not an object or a list"),
        ("null", b"null".to_vec(), 400, "not an object or a list"),
        ("empty list", b"[]".to_vec(), 400, "empty list"),
        ("list with null", br#"[null]"#.to_vec(), 400, "element not an object"),
        ("list of lists", br#"[[1]]"#.to_vec(), 400, "element not an object"),
        ("missing id", br#"{"status": "processed", "token": "t"}"#.to_vec(), 400, "missing key"),
        ("missing status", br#"{"id": 1, "token": "t"}"#.to_vec(), 400, "missing key"),
        ("id as string", br#"{"id": "1", "status": "processed", "token": "t"}"#.to_vec(), 400, "wrong type"),
        ("id as float", br#"{"id": 1.5, "status": "processed", "token": "t"}"#.to_vec(), 400, "bad registrant key"),
        ("id zero", br#"{"id": 0, "status": "processed", "token": "t"}"#.to_vec(), 400, "bad registrant key"),
        ("id huge", br#"{"id": 99999999999999999999, "status": "processed", "token": "t"}"#.to_vec(), 400, "bad registrant key"),
        ("status as number", br#"{"id": 1, "status": 1, "token": "t"}"#.to_vec(), 400, "wrong type"),
        ("unknown status", br#"{"id": 1, "status": "done", "token": "t"}"#.to_vec(), 400, "unknown status"),
        ("status not final", br#"{"id": 1, "status": "processing"}"#.to_vec(), 400, "status not final"),
        ("processed without token", br#"{"id": 1, "status": "processed", "token": null}"#.to_vec(), 400, "processed without token"),
        ("processed with blank token", br#"{"id": 1, "status": "processed", "token": "  "}"#.to_vec(), 400, "processed without token"),
        ("token as number", br#"{"id": 1, "status": "processed", "token": 5}"#.to_vec(), 400, "wrong type"),
        ("token too long", format!(r#"{{"id": 1, "status": "processed", "token": "{long}"}}"#).into_bytes(), 400, "value too long"),
        ("error code as object", br#"{"id": 1, "status": "error", "errorCode": {}}"#.to_vec(), 400, "wrong type"),
        ("error message too long", format!(r#"{{"id": 1, "status": "error", "errorMessage": "{long_message}"}}"#).into_bytes(), 400, "value too long"),
        ("token on a failure", br#"{"id": 1, "status": "error", "token": "t"}"#.to_vec(), 400, "token on a failed result"),
        ("unknown key", br#"{"id": 1, "status": "processed", "token": "t", "given_name": "A"}"#.to_vec(), 400, "unknown key"),
        ("registrant twice", br#"[{"id": 1, "status": "processed", "token": "t"}, {"id": 1, "status": "processed", "token": "t"}]"#.to_vec(), 400, "registrant repeated"),
        ("one bad element among good ones", br#"[{"id": 1, "status": "processed", "token": "t"}, {"id": 2, "status": "processed"}]"#.to_vec(), 400, "processed without token"),
        ("a registrant this connector did not send", br#"[{"id": 1, "status": "processed", "token": "t"}, {"id": 11, "status": "processed", "token": "u"}]"#.to_vec(), 422, "registrant not sent by this connector"),
        ("a registrant that does not exist", br#"{"id": 4242, "status": "processed", "token": "t"}"#.to_vec(), 422, "registrant not sent by this connector"),
    ];
    assert!(cases.len() >= 15);
    let k = kit();
    let before = k.tokens().await;
    for (name, body, status, reason) in &cases {
        let answer = k.receiver.handle(k.request("POST", body.clone())).await;
        assert_eq!(answer.status, *status, "{name}: {answer:?}");
        assert_eq!(answer.body["refused"], *reason, "{name}: {answer:?}");
        assert_eq!(k.tokens().await, before, "{name}: nothing changes");
    }
    // Oversized, with a small limit.
    let small = {
        let mut settings = ReceiverSettings::default();
        settings.limits = omc_core::receiver::PayloadLimits {
            max_bytes: 64,
            max_records: 2,
        };
        settings
    };
    let k2 = kit_with(synthetic(12, 3).collect(), small);
    let big = json!([processed(1, &"t".repeat(80))]).to_string();
    let answer = k2.receiver.handle(k2.request("POST", big)).await;
    assert_eq!(
        (answer.status, answer.body["refused"].as_str()),
        (413, Some("body too large"))
    );
    let many = r#"[{"id":1},{"id":2},{"id":3}]"#;
    let answer = k2.receiver.handle(k2.request("POST", many)).await;
    assert_eq!(answer.body["refused"], "too many results");
    // Each refusal is counted by reason; no personal data in the answers.
    let problems = k.receiver.take_problems();
    assert_eq!(problems.refused.values().sum::<u64>(), cases.len() as u64);
    assert_eq!(problems.refused["malformed: not JSON"], 3);
    assert!(k.receiver.take_problems().is_empty(), "drained");
    assert!(
        k.run
            .failures(&[RegistrantId(1), RegistrantId(2)])
            .is_empty()
    );
}

#[tokio::test]
async fn replays_store_one_token_and_a_different_token_is_a_conflict() {
    let k = kit();
    let body = json!([processed(1, "tok-1"), processed(2, "tok-2")]);
    let (status, first) = k.post(&body).await;
    assert_eq!(status, 200);
    assert_eq!(
        (first["stored"].as_u64(), first["alreadyStored"].as_u64()),
        (Some(2), Some(0))
    );
    for _ in 0..2 {
        let (status, again) = k.post(&body).await;
        assert_eq!(status, 200);
        assert_eq!(
            (again["stored"].as_u64(), again["alreadyStored"].as_u64()),
            (Some(0), Some(2))
        );
    }
    let tokens = k.tokens().await;
    assert_eq!(tokens.len(), 2);
    let (_, conflict) = k.post(&json!(processed(1, "another"))).await;
    assert_eq!(conflict["conflicts"], json!([1]));
    assert_eq!(k.tokens().await, tokens, "never overwritten");
    let problems = k.receiver.take_problems();
    assert_eq!(
        problems.conflicts.into_iter().collect::<Vec<_>>(),
        [RegistrantId(1)]
    );
    assert!(problems.refused.is_empty());
}

#[tokio::test]
async fn failures_are_recorded_with_mts_code_and_a_later_success_clears_them() {
    let k = kit();
    let (_, answer) = k
        .post(&json!([
            {"id": 3, "status": "invalid", "token": null, "errorCode": "ATS-REQ-011", "errorMessage": "gender missing"},
            {"id": 4, "status": "error", "token": null, "errorCode": "IDA-MLC-009", "errorMessage": "no such VID"},
            processed(5, "tok-5"),
        ]))
        .await;
    assert_eq!(answer["failures"], 2);
    let failures = k
        .run
        .failures(&[RegistrantId(3), RegistrantId(4), RegistrantId(5)]);
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[&RegistrantId(3)].code, "ATS-REQ-011");
    assert_eq!(failures[&RegistrantId(4)].message, "no such VID");
    k.post(&json!(processed(4, "tok-4"))).await;
    assert!(
        !k.run
            .failures(&[RegistrantId(4)])
            .contains_key(&RegistrantId(4))
    );
}

#[tokio::test]
async fn settled_failures_are_forgotten_and_replays_still_answered() {
    let k = kit();
    assert_eq!(k.receiver.expected(), 10);
    k.post(&json!([
        processed(1, "tok-1"),
        {"id": 2, "status": "invalid", "token": null, "errorCode": "ATS-REQ-011", "errorMessage": "gender missing"},
    ]))
    .await;
    assert_eq!(k.receiver.held_failures(), 1);
    k.run.settle(&[RegistrantId(1), RegistrantId(2)]);
    assert_eq!(k.receiver.held_failures(), 0);
    assert!(k.run.failures(&[RegistrantId(2)]).is_empty());
    let (status, answer) = k.post(&json!(processed(1, "tok-1"))).await;
    assert_eq!((status, &answer["alreadyStored"]), (200, &json!(1)));
    let (status, _) = k.post(&json!(processed(11, "tok-11"))).await;
    assert_eq!(status, 422, "registrant 11 was never sent");
    assert_eq!(k.receiver.expected(), 10);
}

#[tokio::test]
async fn a_finished_run_retires_its_bearer_and_what_it_expected() {
    let Kit {
        registry,
        receiver,
        run,
        bearer,
    } = kit();
    let other = receiver.open_run();
    other.expect(&[RegistrantId(1)]);
    assert_eq!((receiver.open_runs(), receiver.expected()), (2, 11));
    drop(run);
    assert_eq!((receiver.open_runs(), receiver.expected()), (1, 1));
    // The finished run's bearer is refused; the other run's still works.
    let late = CallbackRequest::new("POST", PATH, json!(processed(2, "tok-2")).to_string())
        .with_header("Authorization", &format!("Bearer {bearer}"));
    let answer = receiver.handle(late).await;
    assert_eq!(
        (answer.status, answer.body["detail"].as_str()),
        (403, Some("unauthenticated: wrong bearer token"))
    );
    let body = json!(processed(2, "tok-2")).to_string();
    let with_other = |body: String| {
        CallbackRequest::new("POST", PATH, body).with_header(
            "Authorization",
            &format!("Bearer {}", other.bearer().expose_secret()),
        )
    };
    let answer = receiver.handle(with_other(body)).await;
    assert_eq!(answer.status, 422, "registrant 2 was the finished run's");
    let answer = receiver
        .handle(with_other(json!(processed(1, "tok-1")).to_string()))
        .await;
    assert_eq!((answer.status, &answer.body["stored"]), (200, &json!(1)));
    assert!(
        registry
            .tokens(&[RegistrantId(2)])
            .await
            .unwrap()
            .is_empty()
    );
    let problems = other.take_problems();
    assert_eq!(
        problems.refused.values().sum::<u64>(),
        2,
        "the unattributed wrong bearer and its own refusal: {problems:?}"
    );
    drop(other);
    assert_eq!(receiver.open_runs(), 0);
}

#[tokio::test]
async fn two_registrants_sharing_a_token_are_one_duplicate_group() {
    let k = kit();
    let (_, first) = k.post(&json!(processed(6, "same-person"))).await;
    assert_eq!(first["duplicates"], json!([]));
    let (_, second) = k.post(&json!(processed(8, "same-person"))).await;
    assert_eq!(second["duplicates"], json!([[6, 8]]));
    let (_, bulk) = k
        .post(&json!([processed(2, "twin"), processed(3, "twin")]))
        .await;
    assert_eq!(bulk["duplicates"], json!([[2, 3]]));
    let problems = k.receiver.take_problems();
    let groups: Vec<_> = problems.duplicate_groups.into_iter().collect();
    assert_eq!(
        groups,
        [
            vec![RegistrantId(2), RegistrantId(3)],
            vec![RegistrantId(6), RegistrantId(8)]
        ]
    );
}

#[tokio::test]
async fn every_method_mts_may_use_is_accepted_and_others_are_not() {
    let k = kit();
    for (i, method) in ["POST", "PUT", "PATCH", "GET", "post"].iter().enumerate() {
        let body = json!(processed(i as i64 + 1, &format!("m{i}"))).to_string();
        let answer = k.receiver.handle(k.request(method, body)).await;
        assert_eq!(answer.status, 200, "{method}");
    }
    let answer = k.receiver.handle(k.request("DELETE", "{}")).await;
    assert_eq!(answer.status, 405);
    let answer = k
        .receiver
        .handle(CallbackRequest::new("POST", "/elsewhere", "{}"))
        .await;
    assert_eq!(answer.status, 404);
    assert_eq!(k.tokens().await.len(), 5);
}

#[tokio::test]
async fn bearer_tokens_are_checked_and_refusals_counted() {
    let k = kit();
    let body = json!(processed(1, "t1")).to_string();
    let none = CallbackRequest::new("POST", PATH, body.clone());
    assert_eq!(k.receiver.handle(none).await.status, 401);
    let wrong = CallbackRequest::new("POST", PATH, body.clone())
        .with_header("authorization", "Bearer not-the-secret");
    assert_eq!(k.receiver.handle(wrong).await.status, 403);
    let lower = CallbackRequest::new("POST", PATH, body.clone())
        .with_header("AUTHORIZATION", &format!("bearer {}", k.bearer));
    assert_eq!(k.receiver.handle(lower).await.status, 200);
    let problems = k.receiver.take_problems();
    assert_eq!(
        problems.refused["unauthenticated: no bearer token and no session cookie (was the login refused?)"],
        1
    );
    assert_eq!(problems.refused["unauthenticated: wrong bearer token"], 1);
}

fn login_body(password: &str) -> String {
    json!({"jsonrpc": "2.0", "params": {"db": "omc", "login": "mts", "password": password}})
        .to_string()
}

fn cookie_of(answer: &omc_core::receiver::CallbackResponse) -> Option<String> {
    answer
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .and_then(|(_, v)| v.split(';').next())
        .map(str::to_owned)
}

#[tokio::test]
async fn odoo_sessions_log_in_call_back_log_out_and_expire() {
    let k = kit();
    k.receiver.add_user("omc", "mts", &SecretString::from("pw"));
    // MTS's login: a GET with a JSON-RPC body.
    let wrong = k
        .receiver
        .handle(CallbackRequest::new(
            "GET",
            "/web/session/authenticate",
            login_body("nope"),
        ))
        .await;
    assert_eq!(wrong.status, 200);
    assert_eq!(
        wrong.body["error"]["data"]["name"],
        "odoo.exceptions.AccessDenied"
    );
    assert!(cookie_of(&wrong).is_none());
    let login = k
        .receiver
        .handle(CallbackRequest::new(
            "GET",
            "/web/session/authenticate",
            login_body("pw"),
        ))
        .await;
    let cookie = cookie_of(&login).expect("a session cookie");
    assert!(cookie.starts_with("session_id="));
    assert!(
        !format!("{login:?}").contains(&cookie),
        "Debug hides the cookie"
    );
    let body = json!(processed(1, "t1")).to_string();
    let call = CallbackRequest::new("PUT", PATH, body.clone()).with_header("Cookie", &cookie);
    assert_eq!(k.receiver.handle(call.clone()).await.status, 200);
    // Good for the callback path only.
    let elsewhere = CallbackRequest::new("POST", "/other", "{}").with_header("Cookie", &cookie);
    assert_eq!(k.receiver.handle(elsewhere).await.status, 404);
    let logout =
        CallbackRequest::new("GET", "/web/session/logout", "").with_header("Cookie", &cookie);
    assert_eq!(k.receiver.handle(logout).await.status, 200);
    assert_eq!(k.receiver.handle(call).await.status, 403, "logged out");
    let problems = k.receiver.take_problems();
    assert_eq!(
        problems.refused["login refused: wrong database, login or password"],
        1
    );
    assert_eq!(
        problems.refused["unauthenticated: unknown or closed session"],
        1
    );

    // A session that outlived its time.
    let expiring = {
        let mut settings = ReceiverSettings::default();
        settings.session_ttl = Duration::ZERO;
        settings
    };
    let k = kit_with(synthetic(12, 3).collect(), expiring);
    k.receiver.add_user("omc", "mts", &SecretString::from("pw"));
    let login = k
        .receiver
        .handle(CallbackRequest::new(
            "GET",
            "/web/session/authenticate",
            login_body("pw"),
        ))
        .await;
    let cookie = cookie_of(&login).unwrap();
    let call = CallbackRequest::new("POST", PATH, body).with_header("Cookie", &cookie);
    let answer = k.receiver.handle(call).await;
    assert_eq!(
        (answer.status, answer.body["detail"].as_str()),
        (403, Some("unauthenticated: session expired"))
    );
}

#[tokio::test]
async fn the_engine_reports_what_the_self_hosted_sink_saw() {
    // Two registrants holding one VID: MTS gives them one token.
    let mut seeds: Vec<_> = synthetic(6, 9).collect();
    seeds[5].vid = seeds[4].vid.clone();
    let registry = Arc::new(MemoryRegistry::with_seeds(IdTypes::default(), seeds));
    let receiver = Arc::new(CallbackReceiver::new(
        registry.clone(),
        ReceiverSettings::default(),
    ));
    let sink = Arc::new(SelfHostedSink::new(
        receiver.clone(),
        "http://omc.example/base/".parse().unwrap(),
    ));
    let SinkRun { delivery, .. } = sink.open_run().await.unwrap();
    assert_eq!(
        delivery.url.as_str(),
        "http://omc.example/base/omc/callback"
    );
    assert!(delivery.call_in_bulk);
    assert_eq!(delivery.auth.auth_type(), "staticBearer");
    let second = sink.open_run().await.unwrap().delivery;
    let (
        omc_core::CallbackAuth::StaticBearer { token: a },
        omc_core::CallbackAuth::StaticBearer { token: b },
    ) = (&delivery.auth, &second.auth)
    else {
        panic!("bearer auth")
    };
    assert_ne!(
        a.expose_secret(),
        b.expose_secret(),
        "a secret of each run's own"
    );
    assert_eq!(receiver.open_runs(), 0, "both runs dropped");

    // The in-memory seeder calls back the self-hosted sink's own receiver, as MTS would over
    // HTTP, with the bearer of the run the engine opens.
    let seeder = Arc::new(MemorySeeder::new(
        "partner",
        Arc::new(MemorySink::over(receiver.clone())),
    ));
    let mut settings = EngineSettings::default();
    settings.wait = {
        let mut wait = omc_core::engine::WaitPolicy::default();
        wait.poll_interval = Duration::from_millis(5);
        wait.readback_base = Duration::from_millis(50);
        wait
    };
    let engine = Engine::new(registry.clone(), seeder, sink, settings);
    let report = engine.run_once().await.unwrap();
    assert!(report.is_balanced(), "{report:?}");
    assert_eq!(
        report.duplicate_groups,
        vec![vec![RegistrantId(5), RegistrantId(6)]]
    );
    assert!(report.refused_callbacks.is_empty());
}
