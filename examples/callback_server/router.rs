//! The axum side of OMC's self-hosted callback receiver: every method on the receiver's three
//! paths, each request handed to `CallbackReceiver::handle` as method, path, headers and body.
//! Shared by the `callback_server` and `demo` examples and the end-to-end tests.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use omc::core::receiver::{CallbackReceiver, CallbackRequest};
use std::sync::Arc;

/// A router serving `receiver`'s callback, login and logout paths.
pub(crate) fn router(receiver: Arc<CallbackReceiver>) -> Router {
    let settings = receiver.settings().clone();
    Router::new()
        .route(&settings.callback_path, any(handle))
        .route(&settings.login_path, any(handle))
        .route(&settings.logout_path, any(handle))
        // One byte over the receiver's own limit, so that it sees (and counts) oversized bodies.
        .layer(DefaultBodyLimit::max(settings.limits.max_bytes + 1))
        .with_state(receiver)
}

async fn handle(
    State(receiver): State<Arc<CallbackReceiver>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = CallbackRequest {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: body.to_vec(),
    };
    let answer = receiver.handle(request).await;
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, answer.body_bytes()).into_response();
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
