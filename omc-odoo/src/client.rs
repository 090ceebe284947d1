//! [`OdooClient`]: Odoo's external JSON-RPC API (`POST {base}/jsonrpc`) over one reused
//! `reqwest::Client`.

use crate::error::OdooError;
use bytes::Bytes;
use omc_core::sink::redact_url;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::OnceCell;
use url::Url;

/// A client of one Odoo database as one user, cheap to clone (clones share the connection
/// pool and the cached user id).
///
/// The user logs in lazily on the first call (`common.login`) and the user id is kept; every
/// `execute_kw` then carries the password or API key, as Odoo's external API wants.
#[derive(Clone)]
pub struct OdooClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    endpoint: Url,
    database: String,
    login: String,
    password: SecretString,
    uid: OnceCell<i64>,
    next_id: AtomicU64,
}

impl fmt::Debug for OdooClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooClient")
            .field("base", &redact_url(&self.inner.base))
            .field("database", &self.inner.database)
            .field("login", &"<set>")
            .field("password", &"<secret>")
            .field("uid", &self.inner.uid.get())
            .finish()
    }
}

/// Builds an [`OdooClient`]; problems are reported by [`build`](OdooClientBuilder::build).
pub struct OdooClientBuilder {
    base: Option<Url>,
    database: String,
    login: String,
    password: Option<SecretString>,
    timeout: Duration,
    connect_timeout: Duration,
    ca_bundle: Option<Vec<u8>>,
}

impl fmt::Debug for OdooClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooClientBuilder")
            .field("base", &self.base.as_ref().map(redact_url))
            .field("database", &self.database)
            .field("password_set", &self.password.is_some())
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("ca_bundle", &self.ca_bundle.is_some())
            .finish()
    }
}

impl Default for OdooClientBuilder {
    fn default() -> Self {
        Self {
            base: None,
            database: String::new(),
            login: String::new(),
            password: None,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            ca_bundle: None,
        }
    }
}

impl OdooClientBuilder {
    /// Odoo's base URL, e.g. `https://registry.example.org/` (required).
    pub fn base_url(mut self, base: Url) -> Self {
        self.base = Some(base);
        self
    }

    /// The Odoo database (required).
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = database.into();
        self
    }

    /// The Odoo login (required).
    pub fn login(mut self, login: impl Into<String>) -> Self {
        self.login = login.into();
        self
    }

    /// The password, or an API key of the user: Odoo accepts either in the same place (required).
    pub fn password(mut self, password: SecretString) -> Self {
        self.password = Some(password);
        self
    }

    /// The whole-request timeout (default 60 s): a `search_read` of a large page takes a while.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connection timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The CA certificates to trust, PEM-encoded (one or several), instead of the system's roots
    /// (`tls.ca_bundle`): a registry behind a private CA is trusted, and nothing else is.
    pub fn ca_bundle_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_bundle = Some(pem.into());
        self
    }

    /// The client, or every missing setting at once.
    pub fn build(self) -> Result<OdooClient, OdooError> {
        let mut problems = Vec::new();
        if self.base.is_none() {
            problems.push("base URL not set");
        }
        if self.database.is_empty() {
            problems.push("database not set");
        }
        if self.login.is_empty() {
            problems.push("login not set");
        }
        if self.password.is_none() {
            problems.push("password not set");
        }
        let (Some(base), Some(password)) = (self.base, self.password) else {
            return Err(config(problems.join("; "), None));
        };
        if !problems.is_empty() {
            return Err(config(problems.join("; "), None));
        }
        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout);
        if let Some(pem) = &self.ca_bundle {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| config("the CA bundle is not PEM".into(), Some(e)))?;
            http = http.tls_certs_only(certs);
        }
        let http = http
            .build()
            .map_err(|e| config("the HTTP client could not be built".into(), Some(e)))?;
        let endpoint = endpoint(&base, "jsonrpc")?;
        Ok(OdooClient {
            inner: Arc::new(Inner {
                http,
                base,
                endpoint,
                database: self.database,
                login: self.login,
                password,
                uid: OnceCell::new(),
                next_id: AtomicU64::new(1),
            }),
        })
    }
}

fn config(message: String, source: Option<reqwest::Error>) -> OdooError {
    OdooError::Config {
        message,
        source: source.map(|e| Box::new(e.without_url()) as _),
    }
}

/// `path` under `base`, whether or not `base` ends with a slash.
pub(crate) fn endpoint(base: &Url, path: &str) -> Result<Url, OdooError> {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        let with_slash = format!("{}/", base.path());
        base.set_path(&with_slash);
    }
    base.join(path).map_err(|_| OdooError::Config {
        message: format!("{} cannot be a base URL", redact_url(&base)),
        source: None,
    })
}

impl OdooClient {
    /// A builder.
    pub fn builder() -> OdooClientBuilder {
        OdooClientBuilder::default()
    }

    /// The HTTP client every call goes through (its timeouts and trusted certificates).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Odoo's base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The database.
    pub fn database(&self) -> &str {
        &self.inner.database
    }

    /// Logs in (once; later calls return the cached user id). A refused login is
    /// [`OdooError::LoginRefused`], which converts to `RegistryError::Unauthenticated`.
    pub async fn login(&self) -> Result<i64, OdooError> {
        self.inner
            .uid
            .get_or_try_init(|| async {
                let args = json!([
                    self.inner.database,
                    self.inner.login,
                    self.inner.password.expose_secret()
                ]);
                match self.call("common", "login", args, "common.login").await? {
                    Value::Number(n) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or(0)),
                    Value::Bool(false) => Err(OdooError::LoginRefused {
                        database: self.inner.database.clone(),
                    }),
                    _ => Err(OdooError::Protocol {
                        context: "common.login".into(),
                        problem: "the result is neither a user id nor false".into(),
                    }),
                }
            })
            .await
            .copied()
    }

    /// Calls `method` of `model` with positional `args` (a JSON list) and keyword `kwargs`
    /// (a JSON object), as the client's user, and returns Odoo's result.
    pub async fn execute_kw(
        &self,
        model: &str,
        method: &str,
        args: Value,
        kwargs: Value,
    ) -> Result<Value, OdooError> {
        let context = format!("{model}.{method}");
        let bytes = self
            .execute_kw_body(model, method, args, kwargs, &context)
            .await?;
        parse_answer(&bytes, &context)
    }

    /// `search_read` decoded straight into `T` rows (fields Odoo sends that `T` does not name
    /// are skipped), without a JSON tree of the page: for large pages of known fields. Odoo's
    /// error envelope is an [`OdooError::Server`] as for every call; a row that does not fit
    /// `T` is an [`OdooError::Protocol`] naming the model, never a value.
    pub async fn search_read_as<T: DeserializeOwned>(
        &self,
        model: &str,
        domain: Value,
        kwargs: Value,
    ) -> Result<Vec<T>, OdooError> {
        let context = format!("{model}.search_read");
        let bytes = self
            .execute_kw_body(model, "search_read", json!([domain]), kwargs, &context)
            .await?;
        parse_rows(&bytes, &context)
    }

    /// `object.execute_kw` as the client's user; the answer's body, unread.
    async fn execute_kw_body(
        &self,
        model: &str,
        method: &str,
        args: Value,
        kwargs: Value,
        context: &str,
    ) -> Result<Bytes, OdooError> {
        let uid = self.login().await?;
        let call = json!([
            self.inner.database,
            uid,
            self.inner.password.expose_secret(),
            model,
            method,
            args,
            kwargs
        ]);
        tracing::debug!(model, method, "odoo execute_kw");
        self.post("object", "execute_kw", call, context).await
    }

    /// `search_read` with a domain and keyword arguments (`fields`, `limit`, `order`, ...).
    pub async fn search_read(
        &self,
        model: &str,
        domain: Value,
        kwargs: Value,
    ) -> Result<Vec<Value>, OdooError> {
        self.search_read_as(model, domain, kwargs).await
    }

    async fn call(
        &self,
        service: &str,
        method: &str,
        args: Value,
        context: &str,
    ) -> Result<Value, OdooError> {
        let bytes = self.post(service, method, args, context).await?;
        parse_answer(&bytes, context)
    }

    /// Posts one JSON-RPC call; the answer's body, unread.
    async fn post(
        &self,
        service: &str,
        method: &str,
        args: Value,
        context: &str,
    ) -> Result<Bytes, OdooError> {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({
            "jsonrpc": "2.0",
            "method": "call",
            "id": id,
            "params": {"service": service, "method": method, "args": args},
        });
        let transport = |source: reqwest::Error| OdooError::Transport {
            context: context.to_owned(),
            source: source.without_url(),
        };
        let response = self
            .inner
            .http
            .post(self.inner.endpoint.clone())
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(OdooError::Http {
                status: status.as_u16(),
                context: context.to_owned(),
            });
        }
        response.bytes().await.map_err(transport)
    }
}

/// A JSON-RPC answer whose `result` is a list of `T`.
#[derive(Deserialize)]
struct Rows<T> {
    result: Vec<T>,
    error: Option<IgnoredAny>,
}

/// Reads the body of a `search_read` answer into `T` rows, as
/// [`OdooClient::search_read_as`] does; `context` names the call in errors.
pub fn parse_rows<T: DeserializeOwned>(bytes: &[u8], context: &str) -> Result<Vec<T>, OdooError> {
    match serde_json::from_slice::<Rows<T>>(bytes) {
        Ok(Rows {
            result,
            error: None,
        }) => Ok(result),
        // An error envelope, or a result of another shape: the general reader says which.
        _ => match parse_answer(bytes, context)? {
            Value::Array(_) => Err(OdooError::Protocol {
                context: context.to_owned(),
                problem: "a row does not have the fields asked for".into(),
            }),
            _ => Err(OdooError::Protocol {
                context: context.to_owned(),
                problem: "the result is not a list".into(),
            }),
        },
    }
}

/// Reads the body of a JSON-RPC answer as every [`OdooClient`] call does: the `result`, or
/// Odoo's error envelope as [`OdooError::Server`] (its message, which may quote values, is
/// dropped). `context` names the call in errors (e.g. `res.partner.search_read`).
pub(crate) fn parse_answer(bytes: &[u8], context: &str) -> Result<Value, OdooError> {
    let protocol = |problem: &str| OdooError::Protocol {
        context: context.to_owned(),
        problem: problem.to_owned(),
    };
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(protocol("the body is not a JSON object"));
    };
    if let Some(error) = answer.get("error").filter(|e| !e.is_null()) {
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        let name = error
            .pointer("/data/name")
            .and_then(Value::as_str)
            .ok_or_else(|| protocol("an error without data.name"))?;
        return Err(OdooError::Server {
            code,
            name: name.to_owned(),
            context: context.to_owned(),
        });
    }
    answer
        .remove("result")
        .ok_or_else(|| protocol("neither result nor error"))
}
