//! The self-hosted receiver under abuse: the head is decided on before any body is read,
//! password guessing is throttled, session cookies follow the public URL's scheme, and every
//! refusal is logged as it happens without personal data. Time is tokio's paused clock.

use omc_core::SelfHostedSink;
use omc_core::receiver::{
    BodyRefusal, CallbackReceiver, CallbackRequest, LoginThrottle, RequestHead,
};
use secrecy::ExposeSecret;
use serde_json::json;
use std::net::IpAddr;
use std::time::Duration;

mod common;

use common::{LOGIN, PASSWORD, PATH, cookie_of, login_body, receiver};

/// What a login attempt came to.
#[derive(Debug, PartialEq, Eq)]
enum Attempt {
    LoggedIn,
    /// The password was checked and was wrong.
    Denied,
    /// Refused without the password being checked.
    Throttled,
}

async fn attempt(
    receiver: &CallbackReceiver,
    login: &str,
    password: &str,
    peer: Option<IpAddr>,
) -> Attempt {
    let mut request = CallbackRequest::new("GET", LOGIN, login_body(login, password));
    if let Some(peer) = peer {
        request = request.with_peer(peer);
    }
    let answer = receiver.handle(request).await;
    let message = answer.body["error"]["data"]["message"].as_str();
    match (answer.status, message) {
        (200, None) if cookie_of(&answer).is_some() => Attempt::LoggedIn,
        (200, Some("Access Denied")) => Attempt::Denied,
        (429, Some(m)) if m.starts_with("Too many login failures") => {
            assert!(
                answer.headers.iter().any(|(k, _)| k == "retry-after"),
                "{answer:?}"
            );
            Attempt::Throttled
        }
        _ => panic!("unexpected answer {answer:?}"),
    }
}

#[tokio::test]
async fn the_head_is_decided_on_before_any_body_is_read() {
    let (receiver, run) = receiver();
    let bearer = run.bearer().clone();
    // Refused from the head alone: no credentials, wrong ones, a wrong method, a wrong path.
    let no_credentials = receiver.authorize(&RequestHead::new("POST", PATH));
    assert_eq!(no_credentials.unwrap_err().status, 401);
    let wrong = RequestHead::new("POST", PATH).with_header("Authorization", "Bearer guess");
    assert_eq!(receiver.authorize(&wrong).unwrap_err().status, 403);
    let delete = RequestHead::new("DELETE", PATH);
    assert_eq!(receiver.authorize(&delete).unwrap_err().status, 405);
    assert_eq!(
        receiver
            .authorize(&RequestHead::new("POST", "/x"))
            .unwrap_err()
            .status,
        404
    );
    // Admitted with a bound on the body to read: the callback limit, or 4 KiB for a login.
    let good = RequestHead::new("POST", PATH).with_header(
        "authorization",
        &format!("Bearer {}", bearer.expose_secret()),
    );
    let admitted = receiver.authorize(&good).expect("admitted");
    assert_eq!(admitted.max_body_bytes(), 8 * 1024 * 1024);
    let shown = format!("{good:?} {admitted:?}");
    assert!(!shown.contains(bearer.expose_secret()), "{shown}");
    let body = json!({"id": 1, "status": "processed", "token": "t1"}).to_string();
    assert_eq!(
        receiver.handle_body(admitted, body.as_bytes()).await.status,
        200
    );
    let head = RequestHead::new("GET", LOGIN).with_peer(IpAddr::from([192, 0, 2, 7]));
    let login = receiver
        .authorize(&head)
        .expect("a login is admitted to be read");
    assert_eq!(login.max_body_bytes(), 4096);
    let shown = format!("{head:?} {login:?}");
    assert!(!shown.contains("192.0.2.7"), "{shown}");
    // A login body over 4 KiB is refused, the right password in it or not.
    let padded = json!({"jsonrpc": "2.0", "id": 1, "padding": "x".repeat(5000),
        "params": {"db": "omc", "login": "mts", "password": PASSWORD}})
    .to_string();
    let answer = receiver.handle_body(login, padded.as_bytes()).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert!(cookie_of(&answer).is_none());
    // A body the server could not read is answered and counted.
    let admitted = receiver.authorize(&good).unwrap();
    let answer = receiver.refuse_body(admitted, BodyRefusal::TooLarge);
    assert_eq!(
        (answer.status, answer.body["refused"].as_str()),
        (413, Some("body too large"))
    );
    let admitted = receiver.authorize(&good).unwrap();
    assert_eq!(
        receiver.refuse_body(admitted, BodyRefusal::TimedOut).status,
        408
    );
    let problems = receiver.take_problems();
    assert_eq!(problems.refused["malformed: body too large"], 1);
    assert_eq!(problems.refused["login refused: body too large"], 1);
    assert_eq!(problems.refused["body not received in time"], 1);
}

/// Guesses at `rate` a second for `seconds` of tokio's (paused) clock, each from the address
/// `peer(i)` at the login `login(i)`; the answers by kind.
async fn guess(
    receiver: &CallbackReceiver,
    rate: u32,
    seconds: u32,
    login: impl Fn(u32) -> String,
    peer: impl Fn(u32) -> Option<IpAddr>,
) -> (u32, u32) {
    let (mut denied, mut throttled) = (0, 0);
    for i in 0..rate * seconds {
        match attempt(receiver, &login(i), &format!("guess-{i}"), peer(i)).await {
            Attempt::Denied => denied += 1,
            Attempt::Throttled => throttled += 1,
            Attempt::LoggedIn => panic!("a guess logged in"),
        }
        tokio::time::advance(Duration::from_secs(1) / rate).await;
    }
    (denied, throttled)
}

/// What is guessed at: a name, and the login and address of the i-th guess.
type Guesses = (&'static str, fn(u32) -> String, fn(u32) -> Option<IpAddr>);

#[tokio::test(start_paused = true)]
#[allow(clippy::print_stderr)] // the measured rates, for the record
async fn password_guessing_falls_below_ten_a_second_per_login() {
    const RATE: u32 = 1000;
    const SECONDS: u32 = 30;
    let mts = |_| "mts".to_owned();
    let one_address = |_| Some(IpAddr::from([10, 0, 0, 1]));
    let cases: [Guesses; 4] = [
        ("one login, no address", mts, |_| None),
        ("one login, one address", mts, one_address),
        ("one login, every guess from another address", mts, |i| {
            Some(IpAddr::from([10, 0, (i >> 8) as u8, i as u8]))
        }),
        (
            "one address, every guess at another login",
            |i| format!("user{i}"),
            one_address,
        ),
    ];
    for (what, login, peer) in cases {
        let (receiver, _run) = receiver();
        let (denied, throttled) = guess(&receiver, RATE, SECONDS, login, peer).await;
        let per_second = f64::from(denied) / f64::from(SECONDS);
        eprintln!(
            "{what}: {denied} passwords checked in {SECONDS} s ({per_second:.2}/s), {throttled} attempts throttled"
        );
        assert_eq!(denied + throttled, RATE * SECONDS);
        assert!(per_second < 10.0, "{what}: {per_second} guesses a second");
        let refused = receiver.take_problems().refused;
        assert_eq!(
            refused["login throttled: too many attempts"],
            u64::from(throttled)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_locked_login_refuses_even_the_right_password_until_its_backoff_ends() {
    let (receiver, _run) = receiver();
    let settings = LoginThrottle::default();
    let peer = Some(IpAddr::from([192, 0, 2, 7]));
    for _ in 0..settings.free_failures {
        assert_eq!(
            attempt(&receiver, "mts", "wrong", peer).await,
            Attempt::Denied
        );
    }
    // One failure more locks the login for the first backoff, doubling with each failure.
    assert_eq!(
        attempt(&receiver, "mts", "wrong", peer).await,
        Attempt::Denied
    );
    assert_eq!(
        attempt(&receiver, "mts", PASSWORD, peer).await,
        Attempt::Throttled,
        "a throttled answer tells nothing about the password"
    );
    tokio::time::advance(settings.backoff).await;
    assert_eq!(
        attempt(&receiver, "mts", "wrong", peer).await,
        Attempt::Denied
    );
    tokio::time::advance(settings.backoff).await;
    assert_eq!(
        attempt(&receiver, "mts", PASSWORD, peer).await,
        Attempt::Throttled,
        "locked for twice as long"
    );
    // Before reading a login's body, the address's lock is checked from the head alone.
    let head = RequestHead::new("GET", LOGIN).with_peer(IpAddr::from([192, 0, 2, 7]));
    assert_eq!(receiver.authorize(&head).unwrap_err().status, 429);
    tokio::time::advance(settings.backoff).await;
    assert_eq!(
        attempt(&receiver, "mts", PASSWORD, peer).await,
        Attempt::LoggedIn
    );
    // A success clears the failures: three free ones again.
    for _ in 0..settings.free_failures {
        assert_eq!(
            attempt(&receiver, "mts", "wrong", peer).await,
            Attempt::Denied
        );
        tokio::time::advance(Duration::from_secs(1)).await;
    }
    assert_eq!(
        attempt(&receiver, "mts", PASSWORD, peer).await,
        Attempt::LoggedIn
    );
}

#[tokio::test]
async fn session_cookies_are_secure_when_the_public_url_is_https() {
    for (url, secure) in [
        ("https://g2p.example/omc/", true),
        ("http://127.0.0.1:8080/", false),
    ] {
        let (receiver, _run) = receiver();
        let _sink = SelfHostedSink::new(receiver.clone(), url.parse().unwrap());
        let answer = receiver
            .handle(CallbackRequest::new(
                "GET",
                LOGIN,
                login_body("mts", PASSWORD),
            ))
            .await;
        let cookie = cookie_of(&answer).expect("logged in");
        let flags: Vec<&str> = cookie.split(';').skip(1).map(str::trim).collect();
        assert_eq!(flags.contains(&"Secure"), secure, "{url}: {flags:?}");
        assert!(flags.contains(&"HttpOnly"), "{flags:?}");
    }
}
