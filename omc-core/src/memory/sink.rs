//! [`MemorySink`]: the self-hosted receiver in process, called back by
//! [`MemorySeeder`](super::MemorySeeder) instead of MTS.

use crate::authdata::REGISTRANT_KEY;
use crate::error::SinkError;
use crate::receiver::{
    CallbackReceiver, CallbackRequest, CallbackResponse, ReceiverSettings, payload,
};
use crate::registry::Registry;
use crate::sink::{CallbackAuth, CallbackSink, Delivery, HttpMethod, SeedResult, SinkRun};
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A sink whose callbacks come in process: results go through a [`CallbackReceiver`], the same
/// code that serves the self-hosted sink over HTTP, so that replays, conflicts, duplicate
/// groups, results for registrants no run sent, and each run's bearer secret behave exactly as
/// they do there. Each run ([`CallbackSink::open_run`]) is a
/// [`ReceiverRun`](crate::ReceiverRun) with a bearer secret of its own; the delivery's URL is
/// `memory://in-process` with the receiver's callback path.
pub struct MemorySink {
    receiver: Arc<CallbackReceiver>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    received: usize,
    recording: Option<Vec<SeedResult>>,
}

impl fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySink")
            .field("receiver", &self.receiver)
            .field("received", &self.lock().received)
            .finish()
    }
}

/// The body the receiver's output format makes MTS send for one result.
fn formatted(r: &SeedResult) -> Value {
    json!({
        REGISTRANT_KEY: r.registrant.0,
        "status": r.status,
        "token": r.token.as_ref().map(|t| t.expose()),
        "errorCode": r.error_code,
        "errorMessage": r.error_message,
    })
}

impl MemorySink {
    /// A sink storing tokens into `registry` through a receiver of its own (default settings).
    pub fn new(registry: Arc<dyn Registry>) -> Self {
        Self::over(Arc::new(CallbackReceiver::new(
            registry,
            ReceiverSettings::default(),
        )))
    }

    /// A sink delivering to `receiver`, which may be one a
    /// [`SelfHostedSink`](crate::SelfHostedSink) also gives MTS: results then arrive as that
    /// sink's callbacks would.
    pub fn over(receiver: Arc<CallbackReceiver>) -> Self {
        Self {
            receiver,
            state: Mutex::new(State::default()),
        }
    }

    /// The receiver results go through.
    pub fn receiver(&self) -> &Arc<CallbackReceiver> {
        &self.receiver
    }

    /// Keeps a copy of every result received, for tests ([`recorded`](Self::recorded)).
    pub fn recording(self) -> Self {
        self.lock().recording = Some(Vec::new());
        self
    }

    /// The results received so far, when [`recording`](Self::recording).
    pub fn recorded(&self) -> Vec<SeedResult> {
        self.lock().recording.clone().unwrap_or_default()
    }

    /// How many results it has received.
    pub fn received(&self) -> usize {
        self.lock().received
    }

    /// Delivers `results` as MTS would through `delivery`: logs in first for auth type `odoo`,
    /// then makes one callback holding a list (`call_in_bulk`) or one per result, with the
    /// delivery's method, headers and credentials, to the receiver's callback path (the
    /// delivery's URL is not dialled). Answers the receiver's answer to each callback, which
    /// MTS would ignore; no callback is made for no result.
    pub async fn receive(
        &self,
        delivery: &Delivery,
        results: &[SeedResult],
    ) -> Vec<CallbackResponse> {
        {
            let mut state = self.lock();
            state.received += results.len();
            if let Some(recording) = state.recording.as_mut() {
                recording.extend_from_slice(results);
            }
        }
        if results.is_empty() {
            return Vec::new();
        }
        let mut headers: Vec<(String, String)> = delivery
            .extra_headers
            .iter()
            .map(|(k, v)| (k.clone(), v.expose_secret().to_owned()))
            .collect();
        match &delivery.auth {
            CallbackAuth::StaticBearer { token } => headers.push((
                "Authorization".into(),
                format!("Bearer {}", token.expose_secret()),
            )),
            CallbackAuth::Odoo { .. } => {
                if let Some(cookie) = self.log_in(&delivery.auth).await {
                    headers.push(("Cookie".into(), cookie));
                }
            }
            _ => {}
        }
        let bodies: Vec<Value> = if delivery.call_in_bulk {
            vec![Value::Array(results.iter().map(formatted).collect())]
        } else {
            results.iter().map(formatted).collect()
        };
        let path = &self.receiver.settings().callback_path;
        let mut answers = Vec::with_capacity(bodies.len());
        for body in bodies {
            let mut request =
                CallbackRequest::new(delivery.http_method.as_str(), path, body.to_string());
            for (name, value) in &headers {
                request = request.with_header(name, value);
            }
            answers.push(self.receiver.handle(request).await);
        }
        answers
    }

    /// MTS's Odoo-style login at the receiver's login path: the session cookie, or `None`
    /// when the login is refused (MTS calls back without one then).
    async fn log_in(&self, auth: &CallbackAuth) -> Option<String> {
        let CallbackAuth::Odoo {
            database,
            username,
            password,
            ..
        } = auth
        else {
            return None;
        };
        let body = json!({"jsonrpc": "2.0", "id": 1, "params": {
            "db": database, "login": username, "password": password.expose_secret()}});
        let path = &self.receiver.settings().login_path;
        let answer = self
            .receiver
            .handle(CallbackRequest::new("GET", path, body.to_string()))
            .await;
        answer
            .headers
            .iter()
            .find(|(name, _)| name == "set-cookie")
            .and_then(|(_, value)| value.split(';').next())
            .map(str::to_owned)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl CallbackSink for MemorySink {
    async fn open_run(&self) -> Result<SinkRun, SinkError> {
        let url = format!(
            "memory://in-process{}",
            self.receiver.settings().callback_path
        );
        let url = url.parse().map_err(|e| SinkError::Misconfigured {
            message: format!("the receiver's callback path makes no URL: {e}"),
        })?;
        let run = self.receiver.open_run();
        Ok(SinkRun {
            delivery: Delivery {
                url,
                http_method: HttpMethod::Post,
                timeout_seconds: 10,
                call_in_bulk: true,
                output_format: Some(payload::output_format()),
                extra_headers: BTreeMap::new(),
                auth: CallbackAuth::StaticBearer {
                    token: run.bearer().clone(),
                },
            },
            results: Box::new(run),
        })
    }
}
