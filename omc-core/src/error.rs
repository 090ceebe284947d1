//! Errors of the three traits, classified by what the caller does next.
//!
//! Messages never carry personal data: adapters put registrant ids, counts, MTS error codes and
//! Odoo exception names in them, never names, VIDs, tokens or birthdates.

/// A boxed error kept as a source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong talking to a [`Registry`](crate::Registry).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry could not be reached or failed for a passing reason: retry later.
    #[error("registry unavailable: {message}")]
    Unavailable {
        /// What happened, without personal data.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The credentials were refused: fix the configuration.
    #[error("registry refused the credentials: {message}")]
    Unauthenticated {
        /// What happened.
        message: String,
    },
    /// The user lacks an access right: grant it (see docs/OPERATIONS.md).
    #[error("registry denied access: {message}")]
    PermissionDenied {
        /// What happened, e.g. the Odoo exception name and the model.
        message: String,
    },
    /// The registry refused the request itself (a bad filter, an unknown field or id type):
    /// fix the input or the configuration; retrying will not help.
    #[error("registry refused the request: {message}")]
    Invalid {
        /// What was refused and why.
        message: String,
    },
    /// The registry answered something OMC does not understand: a bug or a version mismatch.
    #[error("unexpected answer from the registry: {message}")]
    Protocol {
        /// What was unexpected.
        message: String,
    },
}

impl RegistryError {
    /// True when retrying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// What went wrong talking to a [`TokenSeeder`](crate::TokenSeeder).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeederError {
    /// The request surely never reached the seeder (connection refused, DNS): safe to retry.
    #[error("token seeder not reached: {message}")]
    NotDelivered {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The request may have arrived (a timeout, a dropped connection, an unreadable answer):
    /// never retry a submission blindly; leave it to reconciliation.
    #[error("token seeder outcome unknown: {message}")]
    Uncertain {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
    /// The seeder refused the request with its own error code (MTS's `ATS-REQ-*`).
    #[error("token seeder refused the request (HTTP {http_status}, {code}): {message}")]
    Rejected {
        /// The HTTP status of the refusal.
        http_status: u16,
        /// MTS's `errorCode`.
        code: String,
        /// MTS's `errorMessage`.
        message: String,
    },
    /// The seeder answered something OMC does not understand.
    #[error("unexpected answer from the token seeder: {message}")]
    Protocol {
        /// What was unexpected.
        message: String,
    },
}

impl SeederError {
    /// True when the same submission may be sent again without risk of a duplicate request.
    pub fn is_safe_to_retry(&self) -> bool {
        matches!(self, Self::NotDelivered { .. })
    }

    /// MTS's error code, when the seeder gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// What went wrong preparing or reading a [`CallbackSink`](crate::CallbackSink).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The sink cannot describe a delivery with its configuration: fix it.
    #[error("callback sink misconfigured: {message}")]
    Misconfigured {
        /// What is wrong, naming the setting.
        message: String,
    },
    /// Something the sink needs (the registry, a receiver) is unavailable: retry later.
    #[error("callback sink unavailable: {message}")]
    Unavailable {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<BoxError>,
    },
}

impl From<RegistryError> for SinkError {
    fn from(error: RegistryError) -> Self {
        Self::Unavailable {
            message: "the registry behind the sink failed".into(),
            source: Some(Box::new(error)),
        }
    }
}
