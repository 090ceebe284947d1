//! The emulator's Odoo callback authentication: login GET, every cookie kept, logout GET.

mod common;

use common::{Receiver, Reply, delivery, record, seed};
use omc_core::sink::CallbackAuth;
use omc_core::{RequestStatus, TokenSeeder};
use omc_mts::emulator::MtsEmulator;
use omc_mts::{MtsClient, RetryPolicy};
use secrecy::SecretString;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// An Odoo stand-in: the login sets two cookies when the password is right; callbacks are
/// refused (403) without the session cookie.
async fn odoo() -> Receiver {
    Receiver::start(|call, _| match call.path.as_str() {
        "/web/session/authenticate" if call.body.windows(7).any(|w| w == b"\"right\"") => {
            Reply::Status(
                200,
                vec![
                    (
                        "set-cookie".into(),
                        "session_id=abc123; Path=/; HttpOnly".into(),
                    ),
                    ("set-cookie".into(), "tz=UTC; Path=/".into()),
                ],
            )
        }
        "/web/session/authenticate" => Reply::Status(200, Vec::new()),
        "/cb"
            if call
                .headers
                .get("cookie")
                .is_some_and(|c| c.contains("session_id=abc123")) =>
        {
            Reply::Status(200, Vec::new())
        }
        "/cb" => Reply::Status(403, Vec::new()),
        _ => Reply::Status(200, Vec::new()),
    })
    .await
}

fn odoo_auth(receiver: &Receiver, password: &str) -> CallbackAuth {
    let mut login_headers = BTreeMap::new();
    login_headers.insert("X-Login-Header".to_owned(), SecretString::from("lh"));
    CallbackAuth::Odoo {
        auth_url: receiver.url("/web/session/authenticate"),
        database: "openg2p".into(),
        username: "admin".into(),
        password: SecretString::from(password),
        extra_headers: login_headers,
    }
}

#[tokio::test]
async fn login_cookies_on_every_callback_then_logout() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = odoo().await;
    let client = MtsClient::builder(mts.base_url())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap();
    let mut d = delivery(receiver.url("/cb"), false, odoo_auth(&receiver, "right"));
    d.extra_headers
        .insert("X-Callback".into(), SecretString::from("cb"));
    let id = client
        .submit(&seed(vec![record(1, "1"), record(2, "2")]), &d)
        .await
        .unwrap();
    let calls = receiver.wait_calls(4).await;
    assert!(mts.wait_idle(Duration::from_secs(20)).await);
    let paths: Vec<_> = calls
        .iter()
        .map(|c| (c.method.as_str(), c.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("GET", "/web/session/authenticate"),
            ("POST", "/cb"),
            ("POST", "/cb"),
            ("GET", "/web/session/logout")
        ]
    );
    let login = &calls[0];
    assert_eq!(
        login.json(),
        json!({"jsonrpc": "2.0", "params": {"db": "openg2p", "login": "admin", "password": "right"}})
    );
    assert_eq!(
        login.headers.get("x-login-header").map(String::as_str),
        Some("lh")
    );
    for callback in &calls[1..3] {
        let cookie = callback.headers.get("cookie").unwrap();
        assert!(
            cookie.contains("session_id=abc123") && cookie.contains("tz=UTC"),
            "{cookie}"
        );
        assert_eq!(
            callback.headers.get("x-callback").map(String::as_str),
            Some("cb")
        );
        assert!(!callback.headers.contains_key("x-login-header"));
    }
    assert!(calls[3].body.is_empty(), "the logout GET has no body");
    assert_eq!(client.status(&id).await.unwrap(), RequestStatus::Processed);
    let stats = mts.callbacks_made();
    assert_eq!((stats.logins, stats.calls, stats.logouts), (1, 2, 1));
    assert_eq!(mts.received()[0].auth_type.as_deref(), Some("odoo"));
}

#[tokio::test]
async fn a_failed_login_is_never_checked() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let receiver = odoo().await;
    let client = MtsClient::builder(mts.base_url())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap();
    let d = delivery(receiver.url("/cb"), false, odoo_auth(&receiver, "wrong"));
    let id = client
        .submit(&seed(vec![record(1, "1"), record(2, "2")]), &d)
        .await
        .unwrap();
    let calls = receiver.wait_calls(4).await;
    assert!(mts.wait_idle(Duration::from_secs(20)).await);
    assert!(
        calls[1..3]
            .iter()
            .all(|c| c.path == "/cb" && !c.headers.contains_key("cookie"))
    );
    assert_eq!(
        client.status(&id).await.unwrap(),
        RequestStatus::Processed,
        "callbacks refused, still processed"
    );
}
