//! MtsClient against scripted loopback servers: the envelope and every error path.

mod common;

use common::{delivery, record, seed};
use omc_core::engine::{EngineSettings, WaitPolicy};
use omc_core::memory::{MemoryRegistry, MemorySink};
use omc_core::sink::CallbackAuth;
use omc_core::testing::synthetic;
use omc_core::{Engine, IdTypes};
use omc_core::{RequestId, RequestStatus, SeederError, TokenSeeder};
use omc_mts::{MtsClient, RetryPolicy, TimeoutPolicy};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use url::Url;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base: &str) -> MtsClient {
    MtsClient::builder(Url::parse(base).unwrap())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap()
}

fn fast_timeouts() -> TimeoutPolicy {
    TimeoutPolicy {
        connect: Duration::from_secs(2),
        base: Duration::from_millis(300),
        per_record: Duration::from_millis(1),
    }
}

fn refusal(code: &str) -> Value {
    json!({"id": "mosip.token.seeder", "version": "1.0", "metadata": {},
           "responsetime": "2026-11-26T14:13:21.123Z",
           "errors": [{"errorCode": code, "errorMessage": "refused"}], "response": null})
}

fn accepted(id: &str) -> Value {
    json!({"id": "mosip.token.seeder", "version": "1.0", "responsetime": "2026-11-26T14:13:21.123Z",
           "errors": null, "response": {"request_identifier": id}})
}

fn odoo_delivery() -> omc_core::Delivery {
    let mut headers = BTreeMap::new();
    headers.insert("X-Key".to_owned(), SecretString::from("header-secret"));
    let mut d = delivery(
        Url::parse("https://odoo.example/web/dataset/call_kw/g2p.reg.id/create").unwrap(),
        true,
        CallbackAuth::Odoo {
            auth_url: Url::parse("https://odoo.example/web/session/authenticate").unwrap(),
            database: "db".into(),
            username: "admin".into(),
            password: SecretString::from("pw-secret"),
            extra_headers: BTreeMap::new(),
        },
    );
    d.extra_headers = headers;
    d
}

#[tokio::test]
async fn submit_posts_mts_envelope_exactly() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/mts/authtoken/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted("r-1")))
        .expect(1)
        .mount(&server)
        .await;
    let mts = client(&format!("{}/v1/mts", server.uri()));
    let id = mts
        .submit(&seed(vec![record(7, "4918350000000001")]), &odoo_delivery())
        .await
        .unwrap();
    assert_eq!(id, RequestId("r-1".into()));

    let sent: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&sent),
        ["id", "metadata", "request", "requesttime", "version"]
    );
    assert_eq!(
        (&sent["id"], &sent["version"], &sent["metadata"]),
        (&json!("mosip.token.seeder"), &json!("1.0"), &json!(""))
    );
    let time = sent["requesttime"].as_str().unwrap();
    let shape = time.len() == 24
        && time.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'.',
            23 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    assert!(shape, "requesttime {time} is %Y-%m-%dT%H:%M:%S.%3fZ");
    let request = &sent["request"];
    assert_eq!(
        keys(request),
        [
            "authdata",
            "callbackProperties",
            "deliverytype",
            "lang",
            "mapping",
            "output",
            "outputFormat"
        ]
    );
    assert_eq!(request["output"], "json");
    assert_eq!(request["deliverytype"], "callback");
    assert_eq!(request["lang"], "eng");
    assert_eq!(request["outputFormat"], common::FORMAT);
    assert_eq!(
        request["mapping"],
        json!({"vid": "vid", "name": ["given_name", "family_name"], "gender": "gender",
               "dob": "birthdate", "phoneNumber": "phone", "emailId": "email",
               "fullAddress": ["address"]})
    );
    assert_eq!(request["authdata"][0]["id"], 7);
    assert_eq!(request["authdata"][0]["vid"], "4918350000000001");
    assert_eq!(
        request["callbackProperties"],
        json!({"url": "https://odoo.example/web/dataset/call_kw/g2p.reg.id/create",
               "httpMethod": "POST", "extraHeaders": {"X-Key": "header-secret"},
               "timeoutSeconds": 5, "callInBulk": true, "authType": "odoo",
               "authOdoo": {"authUrl": "https://odoo.example/web/session/authenticate",
                            "database": "db", "username": "admin", "password": "pw-secret",
                            "extraHeaders": {}}})
    );
}

#[tokio::test]
async fn static_bearer_and_no_output_format() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted("r-2")))
        .mount(&server)
        .await;
    let mut d = delivery(
        Url::parse("http://cb.example/cb").unwrap(),
        false,
        CallbackAuth::StaticBearer {
            token: SecretString::from("bearer-secret"),
        },
    );
    d.output_format = None;
    let mts = client(&server.uri());
    mts.submit(&seed(vec![record(1, "1")]), &d).await.unwrap();
    let sent: Value = server.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let request = &sent["request"];
    assert!(
        request.get("outputFormat").is_none(),
        "outputFormat omitted when None"
    );
    assert_eq!(request["callbackProperties"]["authType"], "staticBearer");
    assert_eq!(
        request["callbackProperties"]["authStaticBearer"],
        json!({"token": "bearer-secret"})
    );
    assert!(!format!("{mts:?} {d:?}").contains("bearer-secret"));
}

async fn submit_against(status: u16, body: Value) -> Result<RequestId, SeederError> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(&server)
        .await;
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    client(&server.uri())
        .submit(&seed(vec![record(1, "1")]), &d)
        .await
}

#[tokio::test]
async fn refusals_map_to_rejected_with_status_and_code() {
    for (status, code) in [
        (400, "ATS-REQ-102"),
        (422, "ATS-REQ-102"),
        (500, "ATS-REQ-100"),
        (400, "ATS-REQ-103"),
    ] {
        match submit_against(status, refusal(code)).await {
            Err(SeederError::Rejected {
                http_status,
                code: got,
                ..
            }) => {
                assert_eq!((http_status, got.as_str()), (status, code));
            }
            other => panic!("{status} {code}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn all_records_invalid_still_gives_the_request() {
    let mut body = refusal("ATS-REQ-101");
    body["response"] = json!({"request_identifier": "r-101"});
    assert_eq!(
        submit_against(200, body).await.unwrap(),
        RequestId("r-101".into())
    );
}

#[tokio::test]
async fn answers_that_are_not_mts_envelopes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&server)
        .await;
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    let got = client(&server.uri())
        .submit(&seed(vec![record(1, "1")]), &d)
        .await;
    assert!(matches!(got, Err(SeederError::Uncertain { .. })), "{got:?}");
    assert!(matches!(
        submit_against(200, json!({"response": {}})).await,
        Err(SeederError::Protocol { .. })
    ));
}

#[tokio::test]
async fn status_words_and_gone() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/authtoken/status/r-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"errors": null, "response": {"status": "processed_with_errors"}}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/authtoken/status/r-2"))
        .respond_with(ResponseTemplate::new(404).set_body_json(refusal("ATS-REQ-016")))
        .mount(&server)
        .await;
    let mts = client(&server.uri());
    assert_eq!(
        mts.status(&RequestId("r-1".into())).await.unwrap(),
        RequestStatus::ProcessedWithErrors
    );
    assert_eq!(
        mts.status(&RequestId("r-2".into())).await.unwrap(),
        RequestStatus::Gone
    );
}

#[tokio::test]
async fn status_is_retried_after_a_transient_failure() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"response": {"status": "processing"}})),
        )
        .mount(&server)
        .await;
    let mts = MtsClient::builder(Url::parse(&server.uri()).unwrap())
        .with_retry(RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    assert_eq!(
        mts.status(&RequestId("r".into())).await.unwrap(),
        RequestStatus::Processing
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_refused_submission_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(refusal("ATS-REQ-100")))
        .expect(1)
        .mount(&server)
        .await;
    let mts = MtsClient::builder(Url::parse(&server.uri()).unwrap())
        .with_retry(RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    assert!(mts.submit(&seed(vec![record(1, "1")]), &d).await.is_err());
}

#[tokio::test]
async fn ping_takes_mts_bare_string_and_nothing_else() {
    let answers = [
        (200, json!("[0 - 0] pong"), true),
        (200, json!("[mts-1 - 3] pong"), true),
        (200, json!({"response": "pong"}), false),
        (200, json!("welcome"), false),
        (404, json!("[0 - 0] pong"), false),
    ];
    for (status, body, ok) in answers {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/mts/ping"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let got = client(&format!("{}/v1/mts/", server.uri())).ping().await;
        match got {
            Ok(()) => assert!(ok, "{status} {body}"),
            Err(SeederError::Protocol { .. }) => assert!(!ok, "{status} {body}"),
            Err(other) => panic!("{status} {body}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn authfields_reads_the_list_inside_mts_envelope() {
    let envelope = |response: serde_json::Value| {
        json!({"id": "mosip.token.seeder", "version": "1.1.0", "metadata": {},
               "responsetime": "2026-11-27T14:01:57.805Z", "errors": null, "response": response})
    };
    let answers = [
        (
            200,
            envelope(json!({"authfields": ["vid", "name", "gender"]})),
            Some(vec!["vid", "name", "gender"]),
        ),
        (200, json!(["vid", "name"]), None),
        (200, envelope(json!({"authfields": "vid"})), None),
        (200, envelope(json!({"fields": ["vid"]})), None),
        (404, json!({"detail": "Not Found"}), None),
    ];
    for (status, body, expected) in answers {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/mts/authtoken/authfields"))
            .respond_with(ResponseTemplate::new(status).set_body_json(body.clone()))
            .mount(&server)
            .await;
        let got = client(&format!("{}/v1/mts/", server.uri()))
            .authfields()
            .await;
        match (got, expected) {
            (Ok(fields), Some(expected)) => assert_eq!(fields, expected, "{status} {body}"),
            (Err(SeederError::Protocol { .. }), None) => {}
            (got, expected) => panic!("{status} {body}: {got:?}, expected {expected:?}"),
        }
    }
}

#[tokio::test]
async fn connection_refused_is_not_delivered() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mts = client(&format!("http://{addr}/"));
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    let err = mts
        .submit(&seed(vec![record(1, "1")]), &d)
        .await
        .unwrap_err();
    assert!(matches!(err, SeederError::NotDelivered { .. }), "{err:?}");
    assert!(err.is_safe_to_retry());
    let err = mts.status(&RequestId("r".into())).await.unwrap_err();
    assert!(matches!(err, SeederError::NotDelivered { .. }), "{err:?}");
}

/// A server that accepts, reads the request, then either hangs or closes without answering.
async fn silent_server(hang: bool) -> (String, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, seen_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf).await;
            let _ = seen.send(());
            if hang {
                tokio::spawn(async move {
                    let mut rest = [0u8; 1024];
                    while matches!(stream.read(&mut rest).await, Ok(n) if n > 0) {}
                });
            }
        }
    });
    (format!("http://{addr}/"), seen_rx)
}

#[tokio::test]
async fn a_server_that_hangs_leaves_the_outcome_uncertain() {
    let (base, mut seen) = silent_server(true).await;
    let mts = MtsClient::builder(Url::parse(&base).unwrap())
        .with_timeouts(fast_timeouts())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap();
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    let err = mts
        .submit(&seed(vec![record(1, "1")]), &d)
        .await
        .unwrap_err();
    assert!(matches!(err, SeederError::Uncertain { .. }), "{err:?}");
    assert!(!err.is_safe_to_retry());
    assert!(seen.recv().await.is_some(), "the request arrived");
}

#[tokio::test]
async fn a_dropped_connection_after_sending_is_uncertain() {
    let (base, _seen) = silent_server(false).await;
    let mts = MtsClient::builder(Url::parse(&base).unwrap())
        .with_retry(RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap();
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    let err = mts
        .submit(&seed(vec![record(1, "1")]), &d)
        .await
        .unwrap_err();
    assert!(matches!(err, SeederError::Uncertain { .. }), "{err:?}");
}

#[test]
fn debug_redacts_the_base_url() {
    let mts = client("https://user:pass@mts.example/v1/mts?key=k");
    let printed = format!("{mts:?}");
    assert!(
        !printed.contains("pass") && !printed.contains("key=k"),
        "{printed}"
    );
    assert_eq!(mts.base_url().path(), "/v1/mts/");
    assert!(
        MtsClient::builder(Url::parse("mailto:a@b").unwrap())
            .build()
            .is_err()
    );
}

/// A server that accepts TCP connections and closes them at once, counting them: to an
/// `https` client the TLS handshake fails, so each submission surely never arrived.
async fn closing_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("https://{addr}/"), accepted)
}

fn retrying_client(base: &str) -> MtsClient {
    MtsClient::builder(Url::parse(base).unwrap())
        .with_retry(RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_submission_is_one_post_even_when_it_never_arrived() {
    let (base, accepted) = closing_server().await;
    let mts = retrying_client(&base);
    let d = delivery(
        Url::parse("http://cb.example/").unwrap(),
        false,
        CallbackAuth::None,
    );
    let err = mts
        .submit(&seed(vec![record(1, "1")]), &d)
        .await
        .unwrap_err();
    assert!(err.is_safe_to_retry(), "{err:?}");
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "the caller owns retries"
    );
}

#[tokio::test]
async fn an_undelivered_batch_makes_at_most_submit_retries_plus_one_posts() {
    let (base, accepted) = closing_server().await;
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(10, 3),
    ));
    let sink = Arc::new(MemorySink::new(registry.clone()));
    let mut settings = EngineSettings::default();
    settings.wait = {
        let mut wait = WaitPolicy::default();
        wait.submit_retries = 2;
        wait.retry_backoff = Duration::from_millis(1);
        wait
    };
    let engine = Engine::new(registry, Arc::new(retrying_client(&base)), sink, settings);
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.pending, 10);
    assert_eq!(report.batch_errors.get("seeder not reached"), Some(&1));
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
