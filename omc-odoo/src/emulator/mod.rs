//! An in-memory Odoo 17 with OpenG2P's registry models, served over real HTTP: for tests, the
//! demo and benchmarks (feature `emulator`).
//!
//! It speaks what OMC and MTS use: `POST /jsonrpc` (`common.login`, `common.authenticate`,
//! `common.version`, `object.execute_kw`), `/web/session/authenticate` and `/logout`, and
//! `/web/dataset/call_kw/<model>/<method>` with the session cookie, and OpenG2P's REST
//! `PUT /api/v1/registry/update_individual` with HTTP Basic. Models `res.partner`,
//! `g2p.reg.id` and `g2p.id.type`; methods `search_read`, `search_count`, `search`, `read`,
//! `fields_get`, `create`, `write` and `unlink`, with Odoo's value conventions, OpenG2P's
//! rules (one id per type per registrant, `id_validation`) and Odoo's error envelopes. Like
//! Odoo, it stamps `create_date` and `write_date` on the record written only (a `g2p.reg.id`
//! written leaves its registrant's `write_date` alone), once per call, to a fraction of a
//! second it does not send (see [`OdooEmulator::clock`]). Each call runs alone;
//! [`RunningOdoo::hold_reg_id_creates`] makes `g2p.reg.id` creates overlap as concurrent
//! transactions do on Odoo, where two of them can both pass OpenG2P's one-id-per-type check.
//!
//! ```no_run
//! # async fn demo() -> Result<(), omc_odoo::emulator::EmulatorError> {
//! let odoo = omc_odoo::emulator::OdooEmulator::builder().start().await?;
//! odoo.seed_sample(100, 7);
//! println!("{}", odoo.base_url());
//! odoo.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod clock;
mod fields_get;
mod methods;
mod openg2p_api;
mod overlap;
mod record;
mod rpc;
mod running;
mod schema;
mod session;
mod store;
mod validation;

pub use overlap::HeldCreates;
pub use running::{EmulatedRegId, RunningOdoo};

use omc_core::IdTypes;
use omc_core::time::{Clock, SystemClock};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use store::Store;

/// The third id type every emulator holds, besides the VID and token types.
pub const NATIONAL_ID: &str = "NATIONAL ID";

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The address could not be bound.
    #[error("cannot bind the Odoo emulator to {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An `id_validation` pattern does not compile.
    #[error("the id_validation of '{type_name}' is not a valid regular expression")]
    Validation {
        /// The id type.
        type_name: String,
        /// The underlying error.
        #[source]
        source: regex::Error,
    },
}

/// Configures and starts an Odoo emulator.
pub struct OdooEmulator {
    database: String,
    users: Vec<(String, String)>,
    id_types: IdTypes,
    validations: BTreeMap<String, String>,
    bind: SocketAddr,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for OdooEmulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooEmulator")
            .field("database", &self.database)
            .field("users", &self.users.len())
            .field("id_types", &self.id_types)
            .field("validations", &self.validations)
            .field("bind", &self.bind)
            .field("clock", &self.clock)
            .finish()
    }
}

impl OdooEmulator {
    /// Database `omc`, user `admin`/`admin`, the default id types, on `127.0.0.1:0`.
    pub fn builder() -> Self {
        Self {
            database: "omc".into(),
            users: Vec::new(),
            id_types: IdTypes::default(),
            validations: BTreeMap::new(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            clock: Arc::new(SystemClock),
        }
    }

    /// The database name clients must give.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = database.into();
        self
    }

    /// Adds a user (the first replaces the default `admin`/`admin`); user ids start at 2.
    pub fn user(mut self, login: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((login.into(), password.into()));
        self
    }

    /// The VID and token id type names; the emulator also creates [`NATIONAL_ID`].
    pub fn id_types(mut self, id_types: IdTypes) -> Self {
        self.id_types = id_types;
        self
    }

    /// The `id_validation` of an id type: a regular expression values must match from their
    /// start (Python's `re.match`). As in OpenG2P, an empty value is not checked, and a
    /// refused value fails the whole `create` with `odoo.exceptions.ValidationError`; a `write`
    /// of `id_validation` on `g2p.id.type` over JSON-RPC changes it too.
    pub fn id_validation(
        mut self,
        type_name: impl Into<String>,
        pattern: impl Into<String>,
    ) -> Self {
        self.validations.insert(type_name.into(), pattern.into());
        self
    }

    /// The address to listen on (default `127.0.0.1:0`, a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Where `create_date` and `write_date` come from (default: the system clock): a
    /// [`ManualClock`](omc_core::time::ManualClock) lets a test move time instead of waiting.
    /// Like Odoo, the emulator stores them with a fraction of a second it does not send.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Starts serving on the current tokio runtime.
    pub async fn start(self) -> Result<RunningOdoo, EmulatorError> {
        let mut store = Store::with_clock(self.clock);
        let names = [
            self.id_types.vid.clone(),
            self.id_types.token.clone(),
            NATIONAL_ID.into(),
        ];
        for (i, name) in names.iter().enumerate() {
            if names[..i].contains(name) {
                continue;
            }
            let validation = self.validations.get(name).map(String::as_str);
            if let Some(pattern) = validation {
                validation::compile(pattern).map_err(|source| EmulatorError::Validation {
                    type_name: name.clone(),
                    source,
                })?;
            }
            store.add_id_type(name, validation);
        }
        let users = if self.users.is_empty() {
            vec![("admin".to_owned(), "admin".to_owned())]
        } else {
            self.users
        };
        let shared = Shared {
            database: self.database,
            users: users
                .into_iter()
                .enumerate()
                .map(|(i, (login, password))| User {
                    uid: i as i64 + 2,
                    login,
                    password,
                })
                .collect(),
            id_types: self.id_types,
            data: RwLock::new(store),
            sessions: Mutex::new(HashMap::new()),
            calls: Mutex::new(BTreeMap::new()),
            session_seq: AtomicU64::new(0),
            overlap: Mutex::new(None),
        };
        running::serve(shared, self.bind).await
    }
}

struct User {
    uid: i64,
    login: String,
    password: String,
}

/// The emulator's state, shared by the routes and [`RunningOdoo`].
pub(crate) struct Shared {
    database: String,
    users: Vec<User>,
    id_types: IdTypes,
    data: RwLock<Store>,
    sessions: Mutex<HashMap<String, i64>>,
    calls: Mutex<BTreeMap<(String, String), u64>>,
    session_seq: AtomicU64,
    /// The creates being held, while a [`HeldCreates`] holds them.
    overlap: Mutex<Option<Arc<overlap::Overlap>>>,
}

impl Shared {
    fn user_by_login(&self, login: &str, password: &str) -> Option<i64> {
        self.users
            .iter()
            .find(|u| u.login == login && u.password == password)
            .map(|u| u.uid)
    }

    fn user_password_matches(&self, uid: i64, password: &str) -> bool {
        self.users
            .iter()
            .any(|u| u.uid == uid && u.password == password)
    }

    fn user_name(&self, uid: i64) -> String {
        self.users
            .iter()
            .find(|u| u.uid == uid)
            .map(|u| u.login.clone())
            .unwrap_or_default()
    }

    /// A new session for `uid`: an unguessable 40-hex-digit id.
    fn open_session(&self, uid: i64) -> String {
        let seq = self.session_seq.fetch_add(1, Ordering::Relaxed);
        let random = std::collections::hash_map::RandomState::new();
        let mut id = String::with_capacity(48);
        for part in 0..3u64 {
            let mut hasher = random.build_hasher();
            hasher.write_u64(seq);
            hasher.write_u64(part);
            id.push_str(&format!("{:016x}", hasher.finish()));
        }
        id.truncate(40);
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), uid);
        id
    }

    fn session_user(&self, session: &str) -> Option<i64> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(session)
            .copied()
    }

    fn close_session(&self, session: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(session);
    }
}
