//! MtsClient against the emulator, with a recording callback receiver: results, callbacks,
//! failures, statuses and retention, over real HTTP.

mod common;

use async_trait::async_trait;
use common::{Receiver, Reply, delivery, eventually, record, seed};
use omc_core::engine::{EngineSettings, WaitPolicy};
use omc_core::memory::MemoryRegistry;
use omc_core::sink::{CallbackAuth, CallbackSink, HttpMethod, ResultPath};
use omc_core::testing::synthetic;
use omc_core::{Delivery, Engine, IdTypes, RequestId, RequestStatus, SinkError, TokenSeeder};
use omc_mts::emulator::{MtsEmulator, RunningMts};
use omc_mts::{MtsClient, RetryPolicy};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const KNOWN_VID: &str = "4918350000000001";
const KNOWN_TOKEN: &str = "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA";

fn client(mts: &RunningMts) -> MtsClient {
    MtsClient::builder(mts.base_url())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap()
}

/// Three records: 1 and 2 complete, 3 without gender.
fn batch() -> omc_core::SeedRequest {
    let mut third = record(3, "4918350000000003");
    third.expose_mut().remove("gender");
    seed(vec![
        record(1, KNOWN_VID),
        record(2, "4918350000000002"),
        third,
    ])
}

async fn final_status(mts: &MtsClient, id: &RequestId) -> RequestStatus {
    eventually("a final status", || async {
        let status = mts.status(id).await.unwrap();
        status.is_final().then_some(status)
    })
    .await
}

#[tokio::test]
async fn one_callback_per_record_in_order_each_on_a_new_connection() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    let id = client
        .submit(
            &batch(),
            &delivery(receiver.url("/cb"), false, CallbackAuth::None),
        )
        .await
        .unwrap();
    let calls = receiver.wait_calls(3).await;
    assert!(mts.wait_idle(Duration::from_secs(20)).await);
    assert_eq!(
        final_status(&client, &id).await,
        RequestStatus::ProcessedWithErrors,
        "one record was invalid: MTS counts it among the errors"
    );
    let bodies: Vec<Value> = calls.iter().map(|c| c.json()).collect();
    assert_eq!(
        bodies.iter().map(|b| b["id"].clone()).collect::<Vec<_>>(),
        [json!(1), json!(2), json!(3)]
    );
    assert_eq!(
        bodies[0],
        json!({"id": 1, "vid": KNOWN_VID, "token": KNOWN_TOKEN, "status": "processed",
               "errorCode": null, "errorMessage": null}),
        "the known answer of the real mts-mock"
    );
    assert_eq!(bodies[1]["status"], "processed");
    assert_eq!(bodies[2]["status"], "invalid");
    assert_eq!(bodies[2]["errorCode"], "ATS-REQ-011");
    assert_eq!(bodies[2]["token"], Value::Null);
    assert_eq!(bodies[2]["vid"], "4918350000000003");
    for call in &calls {
        assert_eq!(call.method, "POST");
        assert_eq!(call.path, "/cb");
        assert_eq!(
            call.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
    }
    assert_eq!(
        receiver.connections(),
        3,
        "each callback on a new TCP connection"
    );
    let stats = mts.callbacks_made();
    assert_eq!((stats.calls, stats.answered, stats.failed), (3, 3, 0));
    let received = &mts.received()[0];
    assert_eq!(received.request_id.as_ref(), Some(&id));
    assert_eq!(
        (
            received.records,
            received.call_in_bulk,
            received.auth_type.as_deref()
        ),
        (3, Some(false), Some("none"))
    );
    mts.shutdown().await;
}

#[tokio::test]
async fn bulk_callback_carries_a_json_array() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    client
        .submit(
            &batch(),
            &delivery(receiver.url("/bulk"), true, CallbackAuth::None),
        )
        .await
        .unwrap();
    let calls = receiver.wait_calls(1).await;
    assert!(mts.wait_idle(Duration::from_secs(20)).await);
    assert_eq!(receiver.calls().len(), 1, "one call for the whole request");
    let body = calls[0].json();
    let items = body.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["token"], KNOWN_TOKEN);
    assert_eq!(items[2]["errorCode"], "ATS-REQ-011");
}

#[tokio::test]
async fn output_formats_default_empty_and_methods() {
    let mts = MtsEmulator::builder()
        .partner_id("another-partner")
        .start()
        .await
        .unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);

    let mut plain = delivery(receiver.url("/plain"), false, CallbackAuth::None);
    plain.output_format = None;
    plain.http_method = HttpMethod::Get;
    client
        .submit(&seed(vec![record(1, KNOWN_VID)]), &plain)
        .await
        .unwrap();
    let call = receiver.wait_calls(1).await.remove(0);
    assert_eq!(
        call.method, "GET",
        "the method is used as given, with the JSON body"
    );
    let body = call.json();
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["errorCode", "errorMessage", "status", "token", "vid"],
        "no outputFormat sends .output"
    );
    assert_ne!(body["token"], KNOWN_TOKEN, "the partner changes the token");
    assert_eq!(body["token"].as_str().map(str::len), Some(43));

    let mut empty = delivery(receiver.url("/empty"), false, CallbackAuth::None);
    empty.output_format = Some("if .output.token then empty else . end".into());
    empty.http_method = HttpMethod::Put;
    client
        .submit(&seed(vec![record(1, KNOWN_VID)]), &empty)
        .await
        .unwrap();
    let call = receiver.wait_calls(2).await.remove(1);
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("PUT", "/empty")
    );
    assert!(
        call.body.is_empty(),
        "a program yielding nothing gives a callback without body"
    );
    assert!(!call.headers.contains_key("content-type"));
}

#[tokio::test]
async fn static_bearer_and_extra_headers_on_every_callback() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::ok().await;
    let mut d = delivery(
        receiver.url("/cb"),
        false,
        CallbackAuth::StaticBearer {
            token: SecretString::from("s3cret"),
        },
    );
    d.extra_headers
        .insert("X-Api-Key".into(), SecretString::from("k1"));
    client(&mts)
        .submit(&seed(vec![record(1, "1"), record(2, "2")]), &d)
        .await
        .unwrap();
    for call in receiver.wait_calls(2).await {
        assert_eq!(
            call.headers.get("authorization").map(String::as_str),
            Some("Bearer s3cret")
        );
        assert_eq!(
            call.headers.get("x-api-key").map(String::as_str),
            Some("k1")
        );
    }
}

#[tokio::test]
async fn a_dropped_connection_stops_the_remaining_callbacks() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::start(|_, index| {
        if index == 1 {
            Reply::Drop
        } else {
            Reply::Status(200, Vec::new())
        }
    })
    .await;
    let client = client(&mts);
    let id = client
        .submit(
            &batch(),
            &delivery(receiver.url("/cb"), false, CallbackAuth::None),
        )
        .await
        .unwrap();
    receiver.wait_calls(2).await;
    assert!(mts.wait_idle(Duration::from_secs(20)).await);
    assert_eq!(
        client.status(&id).await.unwrap(),
        RequestStatus::ErrorMakingCallbackRequest
    );
    assert_eq!(
        receiver.calls().len(),
        2,
        "the third callback is never made"
    );
    let stats = mts.callbacks_made();
    assert_eq!((stats.calls, stats.answered, stats.failed), (2, 1, 1));
}

#[tokio::test]
async fn error_answers_from_the_callback_endpoint_are_ignored() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::start(|_, _| Reply::Status(500, Vec::new())).await;
    let client = client(&mts);
    let id = client
        .submit(
            &batch(),
            &delivery(receiver.url("/cb"), false, CallbackAuth::None),
        )
        .await
        .unwrap();
    receiver.wait_calls(3).await;
    assert!(mts.wait_idle(Duration::from_secs(20)).await);
    assert_eq!(
        client.status(&id).await.unwrap(),
        RequestStatus::ProcessedWithErrors,
        "the batch's invalid record, not the callbacks' 500s"
    );
}

#[tokio::test]
async fn a_request_is_processed_when_every_record_is() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    let good = seed(vec![record(1, KNOWN_VID), record(2, "4918350000000002")]);
    let id = client
        .submit(
            &good,
            &delivery(receiver.url("/cb"), false, CallbackAuth::None),
        )
        .await
        .unwrap();
    receiver.wait_calls(2).await;
    assert_eq!(final_status(&client, &id).await, RequestStatus::Processed);
}

#[tokio::test]
async fn a_batch_of_invalid_records_is_accepted_and_reported_per_record() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    let mut r = record(9, "4918350000000009");
    r.expose_mut().remove("birthdate");
    let id = client
        .submit(
            &seed(vec![r]),
            &delivery(receiver.url("/cb"), false, CallbackAuth::None),
        )
        .await
        .unwrap();
    let body = receiver.wait_calls(1).await[0].json();
    assert_eq!(
        (
            body["id"].clone(),
            body["status"].clone(),
            body["errorCode"].clone()
        ),
        (json!(9), json!("invalid"), json!("ATS-REQ-012"))
    );
    assert_eq!(
        final_status(&client, &id).await,
        RequestStatus::ProcessedWithErrors
    );
}

#[tokio::test]
async fn unknown_and_expired_requests_are_gone() {
    let mts = MtsEmulator::builder()
        .retention(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    assert_eq!(
        client.status(&RequestId("no-such".into())).await.unwrap(),
        RequestStatus::Gone
    );
    let id = client
        .submit(
            &batch(),
            &delivery(receiver.url("/cb"), false, CallbackAuth::None),
        )
        .await
        .unwrap();
    let status = eventually("the request to expire", || async {
        let status = client.status(&id).await.unwrap();
        (status == RequestStatus::Gone).then_some(status)
    })
    .await;
    assert_eq!(status, RequestStatus::Gone);
}

#[tokio::test]
async fn requests_are_served_in_arrival_order_with_a_record_delay() {
    let mts = MtsEmulator::builder()
        .record_delay(Duration::from_millis(5))
        .start()
        .await
        .unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    let d = delivery(receiver.url("/cb"), false, CallbackAuth::None);
    client
        .submit(&seed(vec![record(1, "1"), record(2, "2")]), &d)
        .await
        .unwrap();
    client
        .submit(&seed(vec![record(3, "3")]), &d)
        .await
        .unwrap();
    let ids: Vec<Value> = receiver
        .wait_calls(3)
        .await
        .iter()
        .map(|c| c.json()["id"].clone())
        .collect();
    assert_eq!(ids, [json!(1), json!(2), json!(3)]);
}

#[tokio::test]
async fn a_submission_of_any_size_is_taken() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    let records: Vec<_> = (1..=10_000)
        .map(|i| {
            let mut r = record(i, &format!("{}", 4_918_350_000_000_000_i64 + i));
            r.expose_mut().insert(
                "address".into(),
                json!("12 Long Road, Quarter 7, Some District"),
            );
            r
        })
        .collect();
    let request = seed(records);
    let d = delivery(receiver.url("/results"), true, CallbackAuth::None);
    let bytes = client.submission_body(&request, &d).len();
    assert!(bytes > 2 << 20, "over axum's default limit: {bytes}");
    client.submit(&request, &d).await.unwrap();
    assert_eq!(mts.received().last().unwrap().records, 10_000);
}

#[tokio::test]
async fn a_submission_stores_its_records_before_answering_and_holds_other_calls() {
    let per_record = Duration::from_millis(4);
    let mts = MtsEmulator::builder()
        .submit_record_delay(per_record)
        .start()
        .await
        .unwrap();
    let receiver = Receiver::ok().await;
    let client = client(&mts);
    let d = delivery(receiver.url("/results"), true, CallbackAuth::None);
    let batch = |from: i64| seed((from..from + 50).map(|i| record(i, "1")).collect());
    let (first, second) = (batch(1), batch(100));
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(client.submit(&first, &d), client.submit(&second, &d));
    let took = started.elapsed();
    a.unwrap();
    b.unwrap();
    assert!(
        took >= per_record * 100,
        "two POSTs of 50 records, one after the other: {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_for_idle_without_a_bound_does_not_overflow() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    assert!(mts.wait_idle(Duration::MAX).await);
}

/// A read-back sink pointing MTS at a receiver that answers 200 and keeps nothing.
#[derive(Debug)]
struct Elsewhere(Url, Url);

#[async_trait]
impl CallbackSink for Elsewhere {
    async fn delivery(&self) -> Result<Delivery, SinkError> {
        Ok(delivery(self.0.clone(), true, login(&self.1)))
    }

    fn result_path(&self) -> ResultPath {
        ResultPath::ReadBack
    }
}

fn login(url: &Url) -> CallbackAuth {
    CallbackAuth::Odoo {
        auth_url: url.clone(),
        database: "openg2p".into(),
        username: "admin".into(),
        password: SecretString::from("a \"quoted\" password\n"),
        extra_headers: BTreeMap::from([("X-Login".to_owned(), SecretString::from("lh"))]),
    }
}

/// The in-memory registry, with a token for every registrant MTS has received: callbacks
/// landing as they would in Odoo, without a callback endpoint.
#[derive(Debug)]
struct Landed {
    inner: MemoryRegistry,
    mts: Arc<RunningMts>,
}

#[async_trait]
impl omc_core::Registry for Landed {
    async fn candidates(
        &self,
        q: &omc_core::CandidateQuery,
    ) -> Result<Vec<omc_core::Candidate>, omc_core::RegistryError> {
        self.inner.candidates(q).await
    }
    async fn tokens(
        &self,
        ids: &[omc_core::RegistrantId],
    ) -> Result<BTreeMap<omc_core::RegistrantId, omc_core::Token>, omc_core::RegistryError> {
        let sent: std::collections::BTreeSet<i64> = self
            .mts
            .received()
            .iter()
            .flat_map(|r| r.authdata.iter())
            .filter_map(|a| a.expose().get("id")?.as_i64())
            .collect();
        Ok(ids
            .iter()
            .filter(|id| sent.contains(&id.0))
            .map(|id| (*id, omc_core::Token::new(format!("token-{id}"))))
            .collect())
    }
    async fn store_tokens(
        &self,
        t: &[(omc_core::RegistrantId, omc_core::Token)],
    ) -> Result<omc_core::StoreReport, omc_core::RegistryError> {
        self.inner.store_tokens(t).await
    }
    async fn store_vids(
        &self,
        v: &[(omc_core::RegistrantId, omc_core::Vid)],
    ) -> Result<omc_core::StoreReport, omc_core::RegistryError> {
        self.inner.store_vids(v).await
    }
    async fn id_validation(&self, t: &str) -> Result<Option<String>, omc_core::RegistryError> {
        self.inner.id_validation(t).await
    }
    async fn remove_vids(
        &self,
        ids: &[omc_core::RegistrantId],
    ) -> Result<usize, omc_core::RegistryError> {
        self.inner.remove_vids(ids).await
    }
    async fn holders(
        &self,
        tokens: &[omc_core::Token],
    ) -> Result<BTreeMap<omc_core::Token, Vec<omc_core::RegistrantId>>, omc_core::RegistryError>
    {
        self.inner.holders(tokens).await
    }
}

#[tokio::test]
async fn the_engine_keeps_each_request_within_max_request_bytes() {
    let max = 8 * 1024;
    let mts = Arc::new(MtsEmulator::builder().start().await.unwrap());
    let receiver = Receiver::ok().await;
    let sink = Elsewhere(
        receiver.url("/results"),
        receiver.url("/web/session/authenticate"),
    );
    let registry = Arc::new(Landed {
        inner: MemoryRegistry::with_seeds(IdTypes::default(), synthetic(100, 4)),
        mts: mts.clone(),
    });
    let mut settings = EngineSettings::default();
    settings.batch_size = 10_000;
    settings.max_request_bytes = Some(max);
    settings.wait = {
        let mut wait = WaitPolicy::default();
        wait.status_base = Duration::from_secs(20);
        wait.readback_base = Duration::ZERO;
        wait.readback_per_record = Duration::ZERO;
        wait
    };
    let seeder = Arc::new(client(&mts));
    let engine = Engine::new(registry, seeder.clone(), Arc::new(sink), settings);
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.sent, 100);
    assert!(report.is_balanced());
    let received = mts.received();
    assert!(received.len() > 2 && received.len() < 20, "{received:?}");
    let d = Elsewhere(
        receiver.url("/results"),
        receiver.url("/web/session/authenticate"),
    )
    .delivery()
    .await
    .unwrap();
    for r in &received {
        let body = seeder.submission_body(&seed(r.authdata.clone()), &d);
        assert!(body.len() <= max, "{} bytes", body.len());
    }
}
