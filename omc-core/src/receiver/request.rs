//! What the receiver is handed and what it answers, in two steps: a request's head (method,
//! path, headers, the caller's address), decided on before any of the body is read, then the
//! body of a request the head admitted.

use super::auth::Caller;
use serde_json::{Value, json};
use std::fmt;
use std::net::IpAddr;

/// The part of an HTTP request that arrives before its body: what
/// [`CallbackReceiver::authorize`](super::CallbackReceiver::authorize) decides on.
#[derive(Clone, Default)]
pub struct RequestHead {
    /// The method (`POST`, `PUT`, `PATCH`, `GET`, ...).
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The headers (names in any case). Values may be secret.
    pub headers: Vec<(String, String)>,
    /// The caller's address, when the server knows it: logins are throttled per address as
    /// well as per login.
    pub peer: Option<IpAddr>,
}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("peer", &self.peer.map(|_| "<set>"))
            .finish()
    }
}

impl RequestHead {
    /// A head with no headers and no address.
    pub fn new(method: &str, path: &str) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            ..Self::default()
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the caller's address.
    pub fn with_peer(mut self, peer: IpAddr) -> Self {
        self.peer = Some(peer);
        self
    }

    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn bearer(&self) -> Option<&str> {
        self.headers_named("authorization").find_map(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        })
    }

    pub(super) fn session(&self) -> Option<&str> {
        self.headers_named("cookie")
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == "session_id")
            .map(|(_, value)| value)
    }
}

/// One whole HTTP request, for [`CallbackReceiver::handle`](super::CallbackReceiver::handle)
/// (tests, and servers that read bodies before routing them).
#[derive(Clone, Default)]
pub struct CallbackRequest {
    /// Method, path, headers and address.
    pub head: RequestHead,
    /// The body. Personal data.
    pub body: Vec<u8>,
}

impl fmt::Debug for CallbackRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackRequest")
            .field("head", &self.head)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl CallbackRequest {
    /// A request with no headers.
    pub fn new(method: &str, path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            head: RequestHead::new(method, path),
            body: body.into(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.head = self.head.with_header(name, value);
        self
    }

    /// Sets the caller's address.
    pub fn with_peer(mut self, peer: IpAddr) -> Self {
        self.head = self.head.with_peer(peer);
        self
    }
}

/// A request whose head the receiver admitted: read at most
/// [`max_body_bytes`](Self::max_body_bytes) of its body, then hand the body to
/// [`CallbackReceiver::handle_body`](super::CallbackReceiver::handle_body), or say why it could
/// not be read with [`CallbackReceiver::refuse_body`](super::CallbackReceiver::refuse_body).
#[must_use = "an admitted request is answered by handle_body or refuse_body"]
pub struct Authorized {
    pub(super) route: Route,
    pub(super) max_body_bytes: usize,
}

impl fmt::Debug for Authorized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let route = match self.route {
            Route::Callback { .. } => "callback",
            Route::Login { .. } => "login",
        };
        f.debug_struct("Authorized")
            .field("route", &route)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl Authorized {
    /// The most body bytes to read: the callback body limit on the callback path, 4 KiB on
    /// the login path. A longer body is refused ([`BodyRefusal::TooLarge`]).
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
}

/// Which path an admitted request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Route {
    /// The callback path, its caller authenticated.
    Callback { caller: Caller },
    /// The login path (its credentials are in the body).
    Login { peer: Option<IpAddr> },
}

/// Why an admitted request's body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyRefusal {
    /// Longer than [`Authorized::max_body_bytes`] (or declared so).
    TooLarge,
    /// Not received in time.
    TimedOut,
    /// Cut off or not valid HTTP framing.
    Broken,
}

/// The answer to send back: a status, headers (a `Set-Cookie` after a login) and a JSON body
/// that says what happened, without personal data.
#[derive(Clone)]
pub struct CallbackResponse {
    /// The HTTP status.
    pub status: u16,
    /// Headers to set, `content-type` among them (once). Values may be secret (a session
    /// cookie).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
}

impl fmt::Debug for CallbackResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackResponse")
            .field("status", &self.status)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body", &self.body)
            .finish()
    }
}

impl CallbackResponse {
    pub(super) fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    pub(super) fn refused(status: u16, reason: &str, detail: String) -> Self {
        Self::json(status, json!({"refused": reason, "detail": detail}))
    }

    /// The body as bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        self.body.to_string().into_bytes()
    }
}
