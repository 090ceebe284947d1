//! [`SelfHostedSink`]: MTS calls the embedding service's [`CallbackReceiver`].

use super::{CallbackReceiver, payload};
use crate::error::SinkError;
use crate::sink::{CallbackAuth, CallbackSink, Delivery, Headers, HttpMethod, SinkRun, redact_url};
use async_trait::async_trait;
use secrecy::SecretString;
use std::fmt;
use std::sync::Arc;
use url::Url;

enum Auth {
    Bearer,
    Odoo {
        database: String,
        login: String,
        password: SecretString,
    },
}

/// A [`CallbackSink`] whose results are received: MTS calls back a [`CallbackReceiver`] mounted
/// by the embedding service, which stores the tokens itself.
///
/// MTS is given the receiver's public URL (the address it is reached at, which behind a proxy
/// is not the address the server binds). Defaults: bulk delivery (one callback per request),
/// POST, a 10 s timeout, and auth type `staticBearer` with a random secret of each run's own
/// ([`CallbackSink::open_run`] opens a [`ReceiverRun`](super::ReceiverRun), whose drop retires
/// it): runs sharing the sink never revoke each other's secret.
/// [`with_odoo_auth`](Self::with_odoo_auth) switches to auth type `odoo`, so a connector
/// configured that way works unchanged.
pub struct SelfHostedSink {
    receiver: Arc<CallbackReceiver>,
    public_url: Url,
    auth: Auth,
    http_method: HttpMethod,
    bulk: bool,
    timeout_seconds: u32,
    extra_headers: Headers,
}

impl fmt::Debug for SelfHostedSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            Auth::Bearer => "staticBearer",
            Auth::Odoo { .. } => "odoo",
        };
        f.debug_struct("SelfHostedSink")
            .field("receiver", &self.receiver)
            .field("public_url", &redact_url(&self.public_url))
            .field("auth", &auth)
            .field("http_method", &self.http_method)
            .field("bulk", &self.bulk)
            .field("timeout_seconds", &self.timeout_seconds)
            .field(
                "extra_headers",
                &self.extra_headers.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SelfHostedSink {
    /// A sink for `receiver`, reached by MTS at `public_url` (the base URL the receiver's paths
    /// are joined to, e.g. `https://g2p.example/omc/`). When it is https, the receiver's
    /// session cookies are marked `Secure`.
    pub fn new(receiver: Arc<CallbackReceiver>, public_url: Url) -> Self {
        receiver.served_at(&public_url);
        Self {
            receiver,
            public_url,
            auth: Auth::Bearer,
            http_method: HttpMethod::Post,
            bulk: true,
            timeout_seconds: 10,
            extra_headers: Headers::new(),
        }
    }

    /// MTS logs in Odoo-style at the receiver's login path with these credentials (auth type
    /// `odoo`); the receiver keeps only a salted digest of the password.
    pub fn with_odoo_auth(
        mut self,
        database: impl Into<String>,
        login: impl Into<String>,
        password: SecretString,
    ) -> Self {
        let (database, login) = (database.into(), login.into());
        self.receiver.add_user(&database, &login, &password);
        self.auth = Auth::Odoo {
            database,
            login,
            password,
        };
        self
    }

    /// The callbacks' HTTP method (default POST).
    pub fn with_http_method(mut self, method: HttpMethod) -> Self {
        self.http_method = method;
        self
    }

    /// One callback per request with a list (`true`, the default) or one per record.
    pub fn with_bulk(mut self, bulk: bool) -> Self {
        self.bulk = bulk;
        self
    }

    /// MTS's timeout for each callback, in seconds (default 10).
    pub fn with_timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    /// A header MTS adds to every callback (for a proxy in front of the receiver).
    pub fn with_header(mut self, name: impl Into<String>, value: SecretString) -> Self {
        self.extra_headers.insert(name.into(), value);
        self
    }

    /// The receiver.
    pub fn receiver(&self) -> &Arc<CallbackReceiver> {
        &self.receiver
    }

    fn url(&self, path: &str) -> Result<Url, SinkError> {
        self.public_url
            .join(path.trim_start_matches('/'))
            .map_err(|e| SinkError::Misconfigured {
                message: format!("the receiver's public URL cannot take the path: {e}"),
            })
    }
}

#[async_trait]
impl CallbackSink for SelfHostedSink {
    async fn open_run(&self) -> Result<SinkRun, SinkError> {
        let settings = self.receiver.settings();
        let url = self.url(&settings.callback_path)?;
        let login_url = self.url(&settings.login_path)?;
        let run = self.receiver.open_run();
        let auth = match &self.auth {
            Auth::Bearer => CallbackAuth::StaticBearer {
                token: run.bearer().clone(),
            },
            Auth::Odoo {
                database,
                login,
                password,
            } => CallbackAuth::Odoo {
                auth_url: login_url,
                database: database.clone(),
                username: login.clone(),
                password: password.clone(),
                extra_headers: Headers::new(),
            },
        };
        Ok(SinkRun {
            delivery: Delivery {
                url,
                http_method: self.http_method,
                timeout_seconds: self.timeout_seconds,
                call_in_bulk: self.bulk,
                output_format: Some(payload::output_format()),
                extra_headers: self.extra_headers.clone(),
                auth,
            },
            results: Box::new(run),
        })
    }
}
