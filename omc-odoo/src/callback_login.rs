//! MTS's Odoo login, tried from OMC's side: before a run sends anything (a refused login is a
//! run that cannot succeed: MTS ignores the refusal and every callback is lost), and after a run
//! whose callbacks did not arrive (to tell a refused connection from a callback URL that never
//! answers).

use omc_core::sink::redact_url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::fmt;
use std::time::Duration;
use url::Url;

/// How long the check waits for Odoo's answer.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// MTS's login to the registry's Odoo, as the sink gives it to MTS (`callback.auth_url`,
/// `callback.database`, `callback.username`, `callback.password`).
#[derive(Clone)]
pub struct CallbackLogin {
    /// The HTTP client the check goes through (the registry client's, with its trust).
    http: reqwest::Client,
    auth_url: Url,
    database: String,
    login: String,
    password: SecretString,
}

impl fmt::Debug for CallbackLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackLogin")
            .field("auth_url", &redact_url(&self.auth_url))
            .field("database", &self.database)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Why MTS's login did not go through, tried from OMC's host.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackLoginError {
    /// Odoo answered and refused the login.
    #[error("Odoo at {url} refused MTS's login (database {database}, login {login})")]
    Refused {
        /// The login URL, credentials removed.
        url: String,
        /// The database tried.
        database: String,
        /// The login tried.
        login: String,
    },
    /// The connection to the login URL failed (refused, no route, TLS).
    #[error("the callback login URL {url} is not reachable from OMC")]
    Unreachable {
        /// The login URL, credentials removed.
        url: String,
        /// How the connection failed.
        #[source]
        source: reqwest::Error,
    },
    /// The login URL accepted the connection and did not answer in time.
    #[error("the callback login URL {url} did not answer within {seconds} s")]
    NoAnswer {
        /// The login URL, credentials removed.
        url: String,
        /// How long OMC waited.
        seconds: u64,
    },
    /// Something answered that is not Odoo's login.
    #[error("the callback login URL {url} answered, but not as Odoo's login does: {what}")]
    NotOdoo {
        /// The login URL, credentials removed.
        url: String,
        /// What came back (a status, never a body).
        what: String,
    },
}

impl CallbackLogin {
    /// MTS's login at `auth_url`, tried through `http` (the registry client's, so that it
    /// trusts what the registry client trusts: `tls.ca_bundle`).
    pub fn new(
        http: reqwest::Client,
        auth_url: Url,
        database: impl Into<String>,
        login: impl Into<String>,
        password: SecretString,
    ) -> Self {
        Self {
            http,
            auth_url,
            database: database.into(),
            login: login.into(),
            password,
        }
    }

    /// The login URL, credentials removed.
    pub fn url(&self) -> String {
        redact_url(&self.auth_url)
    }

    /// Logs in as MTS does (`/web/session/authenticate`, JSON-RPC), waiting at most
    /// [`CHECK_TIMEOUT`]; the session is not kept.
    pub async fn check(&self) -> Result<(), CallbackLoginError> {
        let url = self.url();
        let body = json!({
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "db": self.database,
                "login": self.login,
                "password": self.password.expose_secret(),
            },
        });
        let answer = self
            .http
            .post(self.auth_url.clone())
            .timeout(CHECK_TIMEOUT)
            .json(&body)
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(e) if e.is_timeout() => {
                return Err(CallbackLoginError::NoAnswer {
                    url,
                    seconds: CHECK_TIMEOUT.as_secs(),
                });
            }
            Err(source) => return Err(CallbackLoginError::Unreachable { url, source }),
        };
        let status = response.status();
        let value: Value = match response.json().await {
            Ok(value) => value,
            Err(e) if e.is_timeout() => {
                return Err(CallbackLoginError::NoAnswer {
                    url,
                    seconds: CHECK_TIMEOUT.as_secs(),
                });
            }
            Err(_) => {
                return Err(CallbackLoginError::NotOdoo {
                    url,
                    what: format!("HTTP {status}, not JSON"),
                });
            }
        };
        if value["result"]["uid"].as_i64().is_some() {
            Ok(())
        } else if value.get("error").is_some() || value["result"]["uid"].is_boolean() {
            Err(CallbackLoginError::Refused {
                url,
                database: self.database.clone(),
                login: self.login.clone(),
            })
        } else {
            Err(CallbackLoginError::NotOdoo {
                url,
                what: format!("HTTP {status}, no uid in the answer"),
            })
        }
    }
}
