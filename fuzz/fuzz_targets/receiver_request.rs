//! Fuzzes the self-hosted receiver's whole request path, head then body, as a server drives
//! it: `CallbackReceiver::authorize` on the head, then `handle_body` (or the answer the head
//! got). It must never panic, answer only the statuses it documents with exactly one
//! `content-type`, and never echo a secret (bearer, password, session) in an answer.
//!
//! The input is a request in text: a first line `METHOD PATH`, header lines `name: value` up to
//! an empty line, then the body. In header values `{bearer}` and `{session}` stand for a valid
//! bearer secret and session id, so that inputs reach the body parser and the store; a header
//! `x-peer: IP` sets the caller's address.

#![no_main]

use libfuzzer_sys::fuzz_target;
use omc_core::IdTypes;
use omc_core::memory::MemoryRegistry;
use omc_core::receiver::{CallbackReceiver, CallbackResponse, ReceiverSettings, RequestHead};
use omc_core::registry::RegistrantId;
use omc_core::testing::synthetic;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, OnceLock};

const PASSWORD: &str = "fuzz-password-0123456789";
const STATUSES: [u16; 11] = [200, 400, 401, 403, 404, 405, 408, 413, 422, 429, 503];

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

/// The request's head and body, with `{bearer}` and `{session}` put in.
fn parse(data: &[u8], bearer: &str, session: &str) -> Option<(RequestHead, Vec<u8>)> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (text, body) = match split {
        Some(at) => (&data[..at], data[at + 2..].to_vec()),
        None => (data, Vec::new()),
    };
    let text = std::str::from_utf8(text).ok()?;
    let mut lines = text.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut head = RequestHead::new(method, path);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value
            .trim()
            .replace("{bearer}", bearer)
            .replace("{session}", session);
        if name.eq_ignore_ascii_case("x-peer") {
            head = match value.parse() {
                Ok(peer) => head.with_peer(peer),
                Err(_) => head,
            };
        } else {
            head = head.with_header(name, &value);
        }
    }
    Some((head, body))
}

fn check(answer: &CallbackResponse, secrets: &[&str]) {
    assert!(STATUSES.contains(&answer.status), "{answer:?}");
    let types = answer
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .count();
    assert_eq!(types, 1, "{answer:?}");
    let shown = format!("{answer:?} {}", answer.body);
    for secret in secrets {
        assert!(!shown.contains(secret), "a secret in {shown}");
    }
}

fuzz_target!(|data: &[u8]| {
    runtime().block_on(async {
        let registry = Arc::new(MemoryRegistry::with_seeds(
            IdTypes::default(),
            synthetic(12, 3).collect::<Vec<_>>(),
        ));
        let receiver = CallbackReceiver::new(registry, ReceiverSettings::default());
        receiver.add_user("omc", "mts", &SecretString::from(PASSWORD));
        receiver.expect(&(1..=10).map(RegistrantId).collect::<Vec<_>>());
        let bearer = receiver.rotate_bearer();
        let login = format!(
            r#"{{"jsonrpc": "2.0", "params": {{"db": "omc", "login": "mts", "password": "{PASSWORD}"}}}}"#
        );
        let answer = receiver
            .handle(omc_core::receiver::CallbackRequest::new(
                "GET",
                "/web/session/authenticate",
                login,
            ))
            .await;
        let cookie = answer
            .headers
            .iter()
            .find(|(k, _)| k == "set-cookie")
            .and_then(|(_, v)| v.split(';').next()?.strip_prefix("session_id="))
            .expect("the fuzz user logs in")
            .to_owned();
        let Some((head, body)) = parse(data, bearer.expose_secret(), &cookie) else {
            return;
        };
        let answer = match receiver.authorize(&head) {
            Err(answer) => answer,
            Ok(admitted) => {
                let limit = admitted.max_body_bytes();
                let answer = receiver.handle_body(admitted, &body).await;
                if body.len() > limit {
                    assert_eq!(answer.status, 413, "{answer:?}");
                }
                answer
            }
        };
        check(&answer, &[bearer.expose_secret(), PASSWORD, &cookie]);
        let problems = receiver.take_problems();
        let refused: u64 = problems.refused.values().sum();
        assert!(refused <= 1, "one request, at most one refusal: {problems:?}");
    });
});
