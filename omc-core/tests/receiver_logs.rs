//! The receiver logs each refusal as it happens, without personal data. Alone in its test
//! binary: `tracing` caches per call site whether anyone listens, and tests running beside it
//! without a subscriber could leave that cache saying no one does.

use omc_core::receiver::CallbackRequest;
use secrecy::ExposeSecret;
use serde_json::json;
use std::time::Duration;

mod common;

use common::{Captured, LOGIN, PASSWORD, PATH, cookie_of, login_body, receiver};

#[tokio::test(start_paused = true)]
async fn each_refusal_is_logged_as_it_happens_without_personal_data() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (receiver, run) = receiver();
    let bearer = run.bearer().clone();
    let authorization = format!("Bearer {}", bearer.expose_secret());
    let vid = "6123456789012345";
    let token = "TOKEN-of-a-person-abcdefghijklmnopqrstuvw";
    let requests = [
        CallbackRequest::new("POST", PATH, "{}"),
        CallbackRequest::new("POST", PATH, "{}").with_header("Authorization", "Bearer guessed"),
        CallbackRequest::new(
            "POST",
            PATH,
            format!(r#"{{"id": 1, "vid": "{vid}", "given_name": "Amina"}}"#),
        )
        .with_header("Authorization", &authorization),
        CallbackRequest::new(
            "POST",
            PATH,
            json!([{"id": 11, "status": "processed", "token": token}]).to_string(),
        )
        .with_header("Authorization", &authorization),
        CallbackRequest::new("GET", LOGIN, login_body("mts", "a-wrong-password")),
    ];
    for request in requests {
        let answer = receiver.handle(request).await;
        assert!(
            answer.body.get("stored").is_none() && cookie_of(&answer).is_none(),
            "{answer:?}"
        );
    }
    let logs = captured.text();
    for reason in [
        "unauthenticated: no bearer token and no session cookie",
        "unauthenticated: wrong bearer token",
        "malformed: unknown key",
        "registrant not sent by this connector",
        "login refused: wrong database, login or password",
    ] {
        let line = logs
            .lines()
            .find(|l| l.contains(reason))
            .unwrap_or_else(|| panic!("no line for '{reason}' in:\n{logs}"));
        assert!(line.contains("WARN") && line.contains("count=1"), "{line}");
    }
    assert!(
        logs.contains("results=1"),
        "how many results a refused body carried:\n{logs}"
    );
    for secret in [
        bearer.expose_secret(),
        "guessed",
        vid,
        "Amina",
        token,
        "a-wrong-password",
        PASSWORD,
    ] {
        assert!(!logs.contains(secret), "'{secret}' logged:\n{logs}");
    }

    // A flood is logged at a bounded rate; what was not logged is counted on the next line.
    let before = logs.lines().count();
    for _ in 0..100 {
        receiver
            .handle(CallbackRequest::new("POST", PATH, "{}"))
            .await;
    }
    let flood = captured.text().lines().count() - before;
    assert!((1..=20).contains(&flood), "{flood} lines for 100 refusals");
    tokio::time::advance(Duration::from_secs(1)).await;
    receiver
        .handle(CallbackRequest::new("POST", PATH, "{}"))
        .await;
    let last = captured.text().lines().last().unwrap().to_owned();
    assert!(
        last.contains(&format!("unlogged={}", 100 - flood)),
        "{last}"
    );
    assert!(last.contains("count=102"), "{last}");
}
