//! How the receiver authenticates MTS: a bearer secret per open run (`staticBearer`) and
//! Odoo-style sessions (`odoo`), with secrets kept only as SHA3-256 digests and compared in
//! constant time.

use secrecy::{ExposeSecret, SecretString};
use sha3::{Digest, Sha3_256};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio::time::Instant;

/// A SHA3-256 digest.
type Digest32 = [u8; 32];

/// Random bytes from the operating system's CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not something a caller can handle; no fallback is safe.
    getrandom::fill(&mut bytes).expect("the operating system's random generator is available");
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(parts: &[&[u8]]) -> Digest32 {
    let mut hasher = Sha3_256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// The key a login is throttled by: a digest of its database and login, so that what is kept
/// per key is small and holds no login name.
pub(crate) fn login_key(database: &str, login: &str) -> Digest32 {
    digest(&[b"login", database.as_bytes(), login.as_bytes()])
}

/// Constant-time equality of two byte strings (the length is not hidden).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// A salted SHA3-256 password digest.
#[derive(Clone)]
pub(crate) struct PasswordHash {
    salt: [u8; 16],
    digest: Digest32,
}

impl PasswordHash {
    pub(crate) fn new(password: &SecretString) -> Self {
        let salt = random_bytes::<16>();
        Self {
            digest: digest(&[&salt, password.expose_secret().as_bytes()]),
            salt,
        }
    }

    pub(crate) fn matches(&self, password: &str) -> bool {
        let given = digest(&[&self.salt, password.as_bytes()]);
        constant_time_eq(&given, &self.digest)
    }
}

/// A user MTS may log in as (Odoo-style), with its password hashed.
#[derive(Clone)]
pub(crate) struct User {
    pub(crate) database: String,
    pub(crate) login: String,
    pub(crate) password: PasswordHash,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("database", &self.database)
            .field("login", &"<set>")
            .finish_non_exhaustive()
    }
}

/// Why a callback's credentials were refused (the report's reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthRefusal {
    NoCredentials,
    WrongBearer,
    UnknownSession,
    ExpiredSession,
}

impl AuthRefusal {
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::NoCredentials => {
                "unauthenticated: no bearer token and no session cookie (was the login refused?)"
            }
            Self::WrongBearer => "unauthenticated: wrong bearer token",
            Self::UnknownSession => "unauthenticated: unknown or closed session",
            Self::ExpiredSession => "unauthenticated: session expired",
        }
    }
}

struct Session {
    expires: Instant,
}

/// Who a callback's credentials say it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The bearer secret of this open run.
    Run(u64),
    /// An Odoo-style session: any open run that expects the registrants.
    Session,
}

/// The receiver's credentials: each open run's bearer digest, users, open sessions.
pub(crate) struct Auth {
    bearers: Vec<(u64, Digest32)>,
    users: Vec<User>,
    sessions: HashMap<Digest32, Session>,
    ttl: Duration,
    max_sessions: usize,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("bearers", &self.bearers.len())
            .field("users", &self.users)
            .field("sessions", &self.sessions.len())
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl Auth {
    pub(crate) fn new(ttl: Duration, max_sessions: usize) -> Self {
        Self {
            bearers: Vec::new(),
            users: Vec::new(),
            sessions: HashMap::new(),
            ttl,
            max_sessions: max_sessions.max(1),
        }
    }

    /// A new random bearer secret for the run `run`, valid until [`retire`](Self::retire).
    pub(crate) fn add_bearer(&mut self, run: u64) -> SecretString {
        let secret = hex(&random_bytes::<32>());
        self.bearers
            .push((run, digest(&[b"bearer", secret.as_bytes()])));
        SecretString::from(secret)
    }

    /// The run `run`'s bearer secret stops working.
    pub(crate) fn retire(&mut self, run: u64) {
        self.bearers.retain(|(r, _)| *r != run);
    }

    pub(crate) fn add_user(&mut self, database: &str, login: &str, password: &SecretString) {
        self.users
            .retain(|u| !(u.database == database && u.login == login));
        self.users.push(User {
            database: database.to_owned(),
            login: login.to_owned(),
            password: PasswordHash::new(password),
        });
    }

    /// Checks a login; on success opens a session and returns its id (40 hex digits).
    pub(crate) fn login(&mut self, database: &str, login: &str, password: &str) -> Option<String> {
        // Every user is checked, so the time taken does not tell which login exists.
        let mut found = false;
        for user in &self.users {
            let db = constant_time_eq(user.database.as_bytes(), database.as_bytes());
            let name = constant_time_eq(user.login.as_bytes(), login.as_bytes());
            let pass = user.password.matches(password);
            found |= db & name & pass;
        }
        if !found {
            return None;
        }
        let now = Instant::now();
        self.sessions.retain(|_, s| s.expires > now);
        if self.sessions.len() >= self.max_sessions {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.sessions.remove(&oldest);
            }
        }
        let id = hex(&random_bytes::<20>());
        self.sessions.insert(
            digest(&[b"session", id.as_bytes()]),
            Session {
                expires: now + self.ttl,
            },
        );
        Some(id)
    }

    pub(crate) fn logout(&mut self, session: &str) {
        self.sessions
            .remove(&digest(&[b"session", session.as_bytes()]));
    }

    pub(crate) fn open_sessions(&self) -> usize {
        let now = Instant::now();
        self.sessions.values().filter(|s| s.expires > now).count()
    }

    /// Checks a callback's credentials: a bearer token (whose run is the caller), or a
    /// session cookie.
    pub(crate) fn check(
        &self,
        bearer: Option<&str>,
        session: Option<&str>,
    ) -> Result<Caller, AuthRefusal> {
        if let Some(token) = bearer {
            let given = digest(&[b"bearer", token.as_bytes()]);
            // Every digest is compared, so the time taken does not tell which matched.
            let mut found = None;
            for (run, known) in &self.bearers {
                if constant_time_eq(&given, known) {
                    found = Some(*run);
                }
            }
            if let Some(run) = found {
                return Ok(Caller::Run(run));
            }
            if session.is_none() {
                return Err(AuthRefusal::WrongBearer);
            }
        }
        let Some(session) = session else {
            return Err(AuthRefusal::NoCredentials);
        };
        match self
            .sessions
            .get(&digest(&[b"session", session.as_bytes()]))
        {
            None => Err(AuthRefusal::UnknownSession),
            Some(s) if s.expires <= Instant::now() => Err(AuthRefusal::ExpiredSession),
            Some(_) => Ok(Caller::Session),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_salted_and_compared_by_digest() {
        let a = PasswordHash::new(&SecretString::from("pw"));
        let b = PasswordHash::new(&SecretString::from("pw"));
        assert_ne!(a.digest, b.digest, "a fresh salt each time");
        assert!(a.matches("pw") && !a.matches("pw ") && !a.matches(""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"abc", b"ab"));
    }

    #[tokio::test]
    async fn each_run_has_its_bearer_secret_until_it_is_retired() {
        let mut auth = Auth::new(Duration::from_secs(60), 8);
        let first = auth.add_bearer(1);
        let second = auth.add_bearer(2);
        let third = auth.add_bearer(3);
        assert_ne!(first.expose_secret(), second.expose_secret());
        assert_eq!(first.expose_secret().len(), 64);
        for (run, secret) in [(1, &first), (2, &second), (3, &third)] {
            assert_eq!(
                auth.check(Some(secret.expose_secret()), None),
                Ok(Caller::Run(run)),
                "every open run's secret works, whatever was added after it"
            );
        }
        auth.retire(2);
        assert_eq!(
            auth.check(Some(second.expose_secret()), None),
            Err(AuthRefusal::WrongBearer),
            "retired"
        );
        assert_eq!(
            auth.check(Some(first.expose_secret()), None),
            Ok(Caller::Run(1))
        );
        assert_eq!(auth.check(None, None), Err(AuthRefusal::NoCredentials));
    }

    #[tokio::test]
    async fn sessions_open_expire_and_close() {
        let mut auth = Auth::new(Duration::from_secs(60), 2);
        auth.add_user("db", "mts", &SecretString::from("pw"));
        assert!(auth.login("db", "mts", "wrong").is_none());
        assert!(auth.login("other", "mts", "pw").is_none());
        let s1 = auth.login("db", "mts", "pw").expect("logged in");
        assert_eq!(s1.len(), 40);
        assert_eq!(auth.check(None, Some(&s1)), Ok(Caller::Session));
        let s2 = auth.login("db", "mts", "pw").unwrap();
        let s3 = auth.login("db", "mts", "pw").unwrap();
        assert_eq!(auth.open_sessions(), 2, "bounded");
        assert!(auth.check(None, Some(&s3)).is_ok());
        auth.logout(&s2);
        assert_eq!(
            auth.check(None, Some(&s2)),
            Err(AuthRefusal::UnknownSession)
        );
        let mut short = Auth::new(Duration::ZERO, 2);
        short.add_user("db", "mts", &SecretString::from("pw"));
        let s = short.login("db", "mts", "pw").unwrap();
        assert_eq!(
            short.check(None, Some(&s)),
            Err(AuthRefusal::ExpiredSession)
        );
    }
}
