//! The self-hosted receiver over real sockets, as `examples/callback_server` mounts it: heads
//! decided on before bodies are read, one `content-type`, timeouts and bounds on requests and
//! connections. Waits are tokio's paused clock (it moves on when every task is idle) or
//! deadlines; nothing sleeps.

// server.rs reports accept errors on stderr.
#![allow(clippy::print_stderr)]

#[macro_use]
#[path = "../src/cli/output.rs"]
#[allow(dead_code)] // the server uses only its stderr part
mod output;
#[path = "../src/cli/receiver/router.rs"]
mod router;
#[path = "../src/cli/receiver/server.rs"]
mod server;

use omc::IdTypes;
use omc::RegistrantId;
use omc::memory::MemoryRegistry;
use omc::receiver::{CallbackReceiver, ReceiverRun, ReceiverSettings};
use omc::testing::synthetic;
use router::RequestLimits;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use server::ConnectionLimits;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const PATH: &str = "/omc/callback";
const LOGIN: &str = "/web/session/authenticate";

/// How long a test waits for an answer that should come.
const DEADLINE: Duration = Duration::from_secs(30);

struct Served {
    addr: SocketAddr,
    receiver: Arc<CallbackReceiver>,
    /// The open run expecting registrants 1 to 10, whose bearer the tests send.
    _run: ReceiverRun,
    bearer: String,
}

fn receiver() -> (Arc<CallbackReceiver>, ReceiverRun) {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(12, 3).collect::<Vec<_>>(),
    ));
    let receiver = Arc::new(CallbackReceiver::new(registry, ReceiverSettings::default()));
    receiver.add_user("omc", "mts", &SecretString::from("pw"));
    let run = receiver.open_run();
    run.expect(&(1..=10).map(RegistrantId).collect::<Vec<_>>());
    (receiver, run)
}

/// The router on `axum::serve`, as the demo and the end-to-end tests serve it.
async fn serve_axum(limits: &RequestLimits) -> Served {
    let (receiver, run) = receiver();
    let bearer = run.bearer().expose_secret().to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router::router_with(receiver.clone(), limits);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Served {
        addr,
        receiver,
        _run: run,
        bearer,
    }
}

/// The router on the callback server's own accept loop.
async fn serve_bounded(connections: ConnectionLimits) -> Served {
    let (receiver, run) = receiver();
    let bearer = run.bearer().expose_secret().to_owned();
    let listener = server::listen(([127, 0, 0, 1], 0).into()).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router::router(receiver.clone());
    tokio::spawn(server::serve(listener, app, connections));
    Served {
        addr,
        receiver,
        _run: run,
        bearer,
    }
}

/// A request's head in HTTP/1.1, closing the connection after the answer.
fn head(method: &str, path: &str, headers: &[(&str, String)], length: usize) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: omc\r\nConnection: close\r\n");
    for (name, value) in headers {
        text += &format!("{name}: {value}\r\n");
    }
    text + &format!("Content-Length: {length}\r\n\r\n")
}

async fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(bytes).await.unwrap();
    stream
}

/// The whole answer on `stream` (the server closes it after answering), or `None` when none
/// came within `wait`.
async fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut answer = Vec::new();
    match tokio::time::timeout(wait, stream.read_to_end(&mut answer)).await {
        Ok(Ok(_)) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Ok(Err(e)) => panic!("reading the answer: {e}"),
        Err(_) => None,
    }
}

async fn answer(stream: &mut TcpStream) -> String {
    answer_within(stream, DEADLINE)
        .await
        .expect("an answer before the deadline")
}

fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"))
}

fn json_of(answer: &str) -> Value {
    let (_, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer:?}"))
}

#[tokio::test]
async fn every_answer_carries_exactly_one_content_type() {
    let s = serve_axum(&RequestLimits::default()).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{}{path}", s.addr);
    let login =
        json!({"jsonrpc": "2.0", "params": {"db": "omc", "login": "mts", "password": "pw"}});
    let callback = json!({"id": 1, "status": "processed", "token": "t1"});
    let requests = [
        client.get(url(LOGIN)).json(&login),
        client.post(url(PATH)).json(&callback),
        client
            .post(url(PATH))
            .bearer_auth(&s.bearer)
            .json(&callback),
        client
            .post(url(PATH))
            .bearer_auth(&s.bearer)
            .body("not json"),
        client.get(url("/web/session/logout")),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let types: Vec<_> = response.headers().get_all("content-type").iter().collect();
        assert_eq!(types, ["application/json"], "{response:?}");
        response.json::<Value>().await.expect("a JSON body");
    }
}

#[tokio::test]
async fn an_unauthenticated_request_is_answered_without_its_body_being_read() {
    let s = serve_axum(&RequestLimits::default()).await;
    // An 8 MiB body declared and never sent: the answer comes from the head alone.
    let request = head("POST", PATH, &[], 8 * 1024 * 1024);
    let answer = answer(&mut send(s.addr, request.as_bytes()).await).await;
    assert_eq!(status(&answer), 401, "{answer}");
    let wrong = [("Authorization", "Bearer guessed".to_owned())];
    let request = head("PUT", PATH, &wrong, 8 * 1024 * 1024);
    let answer = self::answer(&mut send(s.addr, request.as_bytes()).await).await;
    assert_eq!(status(&answer), 403, "{answer}");
    // A body declared larger than the limit is refused unread, and counted.
    let bearer = [("Authorization", format!("Bearer {}", s.bearer))];
    let request = head("POST", PATH, &bearer, 8 * 1024 * 1024 + 1);
    let answer = self::answer(&mut send(s.addr, request.as_bytes()).await).await;
    assert_eq!(status(&answer), 413, "{answer}");
    assert_eq!(json_of(&answer)["refused"], "body too large");
    let request = head("GET", LOGIN, &[], 4097);
    let answer = self::answer(&mut send(s.addr, request.as_bytes()).await).await;
    assert_eq!(status(&answer), 413, "{answer}");
    let refused = s.receiver.take_problems().refused;
    assert_eq!(refused["malformed: body too large"], 1);
    assert_eq!(refused["login refused: body too large"], 1);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_stalls_is_answered_408() {
    let limits = RequestLimits {
        body_timeout: Duration::from_secs(5),
        ..RequestLimits::default()
    };
    let s = serve_axum(&limits).await;
    let bearer = [("Authorization", format!("Bearer {}", s.bearer))];
    let mut request = head("POST", PATH, &bearer, 100).into_bytes();
    request.extend_from_slice(br#"{"id": 1, "st"#);
    let mut stream = send(s.addr, &request).await;
    let answer = answer_within(&mut stream, Duration::from_secs(60))
        .await
        .expect("answered before the test's own deadline");
    assert_eq!(status(&answer), 408, "{answer}");
    assert_eq!(json_of(&answer)["refused"], "body timed out");
    assert_eq!(
        s.receiver.take_problems().refused["body not received in time"],
        1
    );
}

#[tokio::test(start_paused = true)]
async fn requests_beyond_the_limit_wait_their_turn() {
    let limits = RequestLimits {
        max_requests: 1,
        body_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(120),
    };
    let s = serve_axum(&limits).await;
    let bearer = [("Authorization", format!("Bearer {}", s.bearer))];
    let body = json!({"id": 1, "status": "processed", "token": "t1"}).to_string();
    // The first request holds the only turn while its body is incomplete.
    let mut first = head("POST", PATH, &bearer, body.len()).into_bytes();
    first.extend_from_slice(&body.as_bytes()[..5]);
    let mut first = send(s.addr, &first).await;
    let mut second = head("POST", PATH, &bearer, body.len()).into_bytes();
    second.extend_from_slice(body.as_bytes());
    let mut second = send(s.addr, &second).await;
    assert!(
        answer_within(&mut second, Duration::from_secs(10))
            .await
            .is_none(),
        "the second request waits for the first"
    );
    first.write_all(&body.as_bytes()[5..]).await.unwrap();
    assert_eq!(status(&answer(&mut first).await), 200);
    assert_eq!(status(&answer(&mut second).await), 200);
}

#[tokio::test(start_paused = true)]
async fn connections_beyond_the_limit_wait_and_silent_heads_time_out() {
    let s = serve_bounded(ConnectionLimits {
        max_connections: 1,
        header_timeout: Duration::from_secs(5),
    })
    .await;
    // A connection that sends nothing holds the only place until its head times out.
    let mut silent = TcpStream::connect(s.addr).await.unwrap();
    let request = head("POST", PATH, &[], 0);
    let mut waiting = send(s.addr, request.as_bytes()).await;
    assert!(
        answer_within(&mut waiting, Duration::from_secs(2))
            .await
            .is_none(),
        "the second connection waits"
    );
    let closed = answer_within(&mut silent, Duration::from_secs(60))
        .await
        .expect("the silent connection is closed");
    assert!(!closed.starts_with("HTTP/1.1 2"), "{closed}");
    assert_eq!(status(&answer(&mut waiting).await), 401);
}

#[tokio::test]
async fn the_bounded_server_throttles_logins_by_the_callers_address() {
    let s = serve_bounded(ConnectionLimits::default()).await;
    let client = reqwest::Client::new();
    let url = format!("http://{}{LOGIN}", s.addr);
    let mut denied = 0;
    // Failures at ever other logins from one address: the address is locked, and its next
    // login is refused from the head alone.
    for i in 0.. {
        let login = json!({"jsonrpc": "2.0",
            "params": {"db": "omc", "login": format!("user{i}"), "password": "x"}});
        let response = client.get(&url).json(&login).send().await.unwrap();
        if response.status() == 429 {
            break;
        }
        denied += 1;
        assert!(denied <= 10, "never throttled");
    }
    let free = ReceiverSettings::default().login_throttle.free_failures;
    assert_eq!(
        denied,
        free + 1,
        "locked after the free failures and one more"
    );
}
