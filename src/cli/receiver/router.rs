//! The axum side of OMC's self-hosted callback receiver: every method on the receiver's three
//! paths, each request decided on from its head by `CallbackReceiver::authorize` before any of
//! its body is read, then at most the admitted number of body bytes read and handed to
//! `CallbackReceiver::handle_body`. A bounded number of requests is handled at once (more
//! wait), a body that pauses too long or a request that takes too long is answered 408.
//! Served by `omc run` for the self-hosted sink (`callback.listen`), and shared by the
//! `callback_server` and `demo` examples, the benchmark and the end-to-end tests;
//! `server.rs` adds what `axum::serve` lacks (a bound on connections, a header timeout).

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::any;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use omc_core::receiver::{BodyRefusal, CallbackReceiver, CallbackResponse, RequestHead};
use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutError, TimeoutLayer};

/// How many requests are handled at once, and how long each may take.
#[derive(Debug, Clone)]
pub(crate) struct RequestLimits {
    /// Requests handled at once; more wait their turn (default 32). Together with the body
    /// limit, it bounds the memory that bodies take (32 × 8 MiB by default).
    pub(crate) max_requests: usize,
    /// The longest pause while a body arrives (default 10 s).
    pub(crate) body_timeout: Duration,
    /// The longest a request may take from its head to its answer, waiting for its turn,
    /// its body and storing its tokens included (default 60 s).
    pub(crate) request_timeout: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_requests: 32,
            body_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// A router serving `receiver`'s callback, login and logout paths, with the default limits.
// The demo, the benchmark and the tests use it; the callback_server example sets its own.
#[allow(dead_code)]
pub(crate) fn router(receiver: Arc<CallbackReceiver>) -> Router {
    router_with(receiver, &RequestLimits::default())
}

/// A router serving `receiver`'s callback, login and logout paths within `limits`.
pub(crate) fn router_with(receiver: Arc<CallbackReceiver>, limits: &RequestLimits) -> Router {
    let settings = receiver.settings().clone();
    Router::new()
        .route(&settings.callback_path, any(handle))
        .route(&settings.login_path, any(handle))
        .route(&settings.logout_path, any(handle))
        .layer(RequestBodyTimeoutLayer::new(limits.body_timeout))
        .layer(GlobalConcurrencyLimitLayer::new(limits.max_requests.max(1)))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .with_state(receiver)
}

async fn handle(State(receiver): State<Arc<CallbackReceiver>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let head = RequestHead {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        peer: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip()),
    };
    let answer = match receiver.authorize(&head) {
        Err(answer) => answer,
        Ok(admitted) => {
            let limit = admitted.max_body_bytes();
            // The declared length: the body timeout's wrapper hides it from the size hint.
            let declared = parts
                .headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(0)
                .max(body.size_hint().lower());
            if declared > limit as u64 {
                receiver.refuse_body(admitted, BodyRefusal::TooLarge)
            } else {
                match Limited::new(body, limit).collect().await {
                    Ok(body) => receiver.handle_body(admitted, &body.to_bytes()).await,
                    Err(error) => receiver.refuse_body(admitted, refusal_of(&*error)),
                }
            }
        }
    };
    respond(answer)
}

/// Why a body could not be read: over the limit, timed out, or anything else.
fn refusal_of(error: &(dyn Error + 'static)) -> BodyRefusal {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<LengthLimitError>() {
            return BodyRefusal::TooLarge;
        }
        if error.is::<TimeoutError>() {
            return BodyRefusal::TimedOut;
        }
        cause = error.source();
    }
    BodyRefusal::Broken
}

/// The receiver's answer as an HTTP response: its status, its headers (its one
/// `content-type` among them), its JSON body.
fn respond(answer: CallbackResponse) -> Response {
    let mut response = Response::new(Body::from(answer.body_bytes()));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
