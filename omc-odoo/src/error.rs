//! Odoo's failures, and the one place they become [`RegistryError`]s.
//!
//! Odoo's own error messages may quote the values that were refused (a name, a VID), so an
//! [`OdooError`] keeps only the exception name (`data.name`) and a context OMC composes itself
//! (model, method, counts, ids): never Odoo's raw message.

use omc_core::RegistryError;
use omc_core::error::BoxError;

/// Odoo's exception name for a record that does not exist (or was deleted meanwhile).
pub const MISSING_ERROR: &str = "odoo.exceptions.MissingError";
/// Odoo's exception name for refused credentials.
pub const ACCESS_DENIED: &str = "odoo.exceptions.AccessDenied";
/// Odoo's exception name for a missing access right.
pub const ACCESS_ERROR: &str = "odoo.exceptions.AccessError";
/// Odoo's exception name for an expired web session (code 100).
pub const SESSION_EXPIRED: &str = "odoo.http.SessionExpiredException";

/// A failure talking to Odoo. Convert it with `RegistryError::from` to learn what to do next.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OdooError {
    /// Odoo answered with its error envelope (HTTP 200 with an `error` member).
    #[error("Odoo raised {name} (code {code}) during {context}")]
    Server {
        /// The JSON-RPC error code: 200 for server errors, 100 for an expired session.
        code: i64,
        /// The exception name (`data.name`), e.g. `odoo.exceptions.AccessError`.
        name: String,
        /// What OMC was doing (model, method, counts), without personal data.
        context: String,
    },
    /// `common.login` answered `false`: the login or password (API key) was refused.
    #[error("Odoo refused the login for database {database}")]
    LoginRefused {
        /// The database the login was for.
        database: String,
    },
    /// The request did not complete (connection, timeout, TLS).
    #[error("Odoo not reached during {context}")]
    Transport {
        /// What OMC was doing.
        context: String,
        /// The underlying error, without its URL.
        #[source]
        source: reqwest::Error,
    },
    /// Odoo (or a proxy in front of it) answered with an HTTP error status.
    #[error("Odoo answered HTTP {status} during {context}")]
    Http {
        /// The HTTP status.
        status: u16,
        /// What OMC was doing.
        context: String,
    },
    /// The answer was not the JSON-RPC OMC expects.
    #[error("unexpected answer from Odoo during {context}: {problem}")]
    Protocol {
        /// What OMC was doing.
        context: String,
        /// What was wrong with the answer (never its content).
        problem: String,
    },
    /// The client could not be built (bad base URL, unreadable CA bundle).
    #[error("Odoo client misconfigured: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl OdooError {
    /// The Odoo exception name, when Odoo raised one.
    pub fn exception(&self) -> Option<&str> {
        match self {
            Self::Server { name, .. } => Some(name),
            _ => None,
        }
    }

    /// True when Odoo raised `MissingError`: a record was deleted (or never existed).
    pub fn is_missing(&self) -> bool {
        self.exception() == Some(MISSING_ERROR)
    }
}

impl From<OdooError> for RegistryError {
    /// The one mapping from Odoo's failures to what the caller does next.
    fn from(error: OdooError) -> Self {
        let message = error.to_string();
        match error {
            OdooError::Server { code: 100, .. } => Self::Unauthenticated { message },
            // Python's regular expressions refusing an id type's `id_validation`: a setting
            // of the registry to fix, not a passing failure.
            OdooError::Server { name, .. } if name == "re.error" => Self::Invalid { message },
            OdooError::Server { name, .. } => match short_name(&name) {
                "AccessDenied" | "SessionExpiredException" => Self::Unauthenticated { message },
                "AccessError" => Self::PermissionDenied { message },
                "ValidationError" | "UserError" | "MissingError" | "ValueError" | "KeyError"
                | "AttributeError" | "TypeError" => Self::Invalid { message },
                _ => Self::Unavailable {
                    message,
                    source: None,
                },
            },
            OdooError::LoginRefused { .. } => Self::Unauthenticated { message },
            OdooError::Http { status: 401, .. } => Self::Unauthenticated { message },
            OdooError::Http { status: 403, .. } => Self::PermissionDenied { message },
            OdooError::Http { status, .. } if (400..500).contains(&status) && status != 429 => {
                Self::Invalid { message }
            }
            OdooError::Http { .. } => Self::Unavailable {
                message,
                source: None,
            },
            OdooError::Transport { source, .. } => Self::Unavailable {
                message,
                source: Some(Box::new(source)),
            },
            OdooError::Protocol { .. } => Self::Protocol { message },
            OdooError::Config { .. } => Self::Invalid { message },
        }
    }
}

/// `odoo.exceptions.AccessError` → `AccessError`; `builtins.ValueError` → `ValueError`.
fn short_name(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: i64, name: &str) -> RegistryError {
        OdooError::Server {
            code,
            name: name.into(),
            context: "res.partner.search_read".into(),
        }
        .into()
    }

    #[test]
    fn exception_names_map_to_what_the_caller_does_next() {
        assert!(matches!(
            server(200, ACCESS_DENIED),
            RegistryError::Unauthenticated { .. }
        ));
        assert!(matches!(
            server(200, ACCESS_ERROR),
            RegistryError::PermissionDenied { .. }
        ));
        assert!(matches!(
            server(100, SESSION_EXPIRED),
            RegistryError::Unauthenticated { .. }
        ));
        for name in [
            "odoo.exceptions.ValidationError",
            "odoo.exceptions.UserError",
            MISSING_ERROR,
            "builtins.ValueError",
            "re.error",
        ] {
            let error = server(200, name);
            assert!(matches!(error, RegistryError::Invalid { .. }), "{name}");
            assert!(error.to_string().contains(name), "{error}");
        }
        assert!(server(200, "psycopg2.OperationalError").is_transient());
    }

    #[test]
    fn missing_error_is_detectable() {
        let error = OdooError::Server {
            code: 200,
            name: MISSING_ERROR.into(),
            context: "g2p.reg.id.unlink of 3 ids".into(),
        };
        assert!(error.is_missing());
        assert!(
            !OdooError::Http {
                status: 502,
                context: String::new()
            }
            .is_missing()
        );
    }
}
