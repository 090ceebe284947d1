//! [`RunningOdoo`]: a started emulator, its address, seeding and inspection helpers for tests.

use super::schema::Model;
use super::store::{Store, many2one_id};
use super::{EmulatorError, Shared, openg2p_api, rpc, session};
use axum::Router;
use axum::routing::{any, get, post, put};
use omc_core::memory::RegistrantSeed;
use omc_core::testing::synthetic;
use omc_core::{PersonalRecord, RegistrantId, Token, Vid};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

/// A running Odoo emulator. Dropping it stops the server; [`shutdown`](Self::shutdown) waits.
pub struct RunningOdoo {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl fmt::Debug for RunningOdoo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningOdoo")
            .field("addr", &self.addr)
            .field("database", &self.shared.database)
            .finish()
    }
}

/// A `g2p.reg.id` row as the inspection helpers show it. `Debug` hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct EmulatedRegId {
    /// The row's id.
    pub id: i64,
    /// The id type's name.
    pub id_type: String,
    /// The value (personal data).
    pub value: String,
}

impl fmt::Debug for EmulatedRegId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatedRegId")
            .field("id", &self.id)
            .field("id_type", &self.id_type)
            .finish_non_exhaustive()
    }
}

pub(super) async fn serve(shared: Shared, bind: SocketAddr) -> Result<RunningOdoo, EmulatorError> {
    let shared = Arc::new(shared);
    let app = Router::new()
        .route("/jsonrpc", post(rpc::jsonrpc))
        .route("/web/session/authenticate", any(session::authenticate))
        .route("/web/session/logout", any(session::logout))
        .route("/web/dataset/call_kw", any(session::call_kw))
        .route("/web/dataset/call_kw/{*path}", any(session::call_kw))
        .route("/web", get(session::web))
        .route(
            "/api/v1/registry/update_individual",
            put(openg2p_api::update_individual),
        )
        .with_state(Arc::clone(&shared));
    let bind_error = |source| EmulatorError::Bind { addr: bind, source };
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    tracing::info!(%addr, "Odoo emulator listening");
    Ok(RunningOdoo {
        shared,
        addr,
        stop: Some(stop),
        task: Some(task),
    })
}

impl RunningOdoo {
    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("a socket address makes a URL")
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The database name.
    pub fn database(&self) -> &str {
        &self.shared.database
    }

    /// A JSON-RPC client of this emulator's database as `login` (the default user is
    /// `admin`/`admin`), with the client's default timeouts.
    pub fn client(&self, login: &str, password: &str) -> crate::OdooClient {
        crate::OdooClient::builder()
            .base_url(self.base_url())
            .database(self.database())
            .login(login)
            .password(secrecy::SecretString::from(password))
            .build()
            .expect("a loopback URL and a database make a valid client")
    }

    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.shared.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The store, in a transaction of its own.
    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        let mut store = self.shared.data.write().unwrap_or_else(|e| e.into_inner());
        store.begin();
        store
    }

    /// Adds registrants (`res.partner` rows with the seeds' ids and fields) with `g2p.reg.id`
    /// rows for their VID and token; a registrant with the same id is replaced. OpenG2P's rules
    /// are not applied to seeds.
    pub fn seed(&self, seeds: impl IntoIterator<Item = RegistrantSeed>) {
        let mut store = self.write();
        // One transaction, stamped now.
        store.begin();
        let vid = store.id_type_named(&self.shared.id_types.vid);
        let token = store.id_type_named(&self.shared.id_types.token);
        for seed in seeds {
            store.seed(seed, vid, token);
        }
    }

    /// Seeds `n` synthetic individuals (ids `1..=n`, complete demographics, a VID each).
    pub fn seed_sample(&self, n: usize, seed: u64) {
        self.seed(synthetic(n, seed));
    }

    /// Holds every `g2p.reg.id` `create` until the answer is released or dropped, then runs
    /// the held ones as overlapping transactions do on the real Odoo: each checks OpenG2P's one
    /// id per type against every row but those the other held creates made, so concurrent
    /// creates for one registrant can all succeed, as they can on Odoo 17.
    pub fn hold_reg_id_creates(&self) -> super::HeldCreates {
        super::HeldCreates::start(Arc::clone(&self.shared))
    }

    /// The `g2p.id.type` id of the type named `name`.
    pub fn id_type_id(&self, name: &str) -> Option<i64> {
        self.read().id_type_named(name)
    }

    /// The `g2p.reg.id` rows of a registrant, in id order.
    pub fn reg_ids_of(&self, partner: RegistrantId) -> Vec<EmulatedRegId> {
        let store = self.read();
        store
            .reg_ids_of(partner.0)
            .filter_map(|id| {
                let row = store.row(Model::RegId, id)?;
                let type_id = many2one_id(row.get("id_type"))?;
                let id_type = store
                    .display_name(Model::IdType, type_id)
                    .as_str()?
                    .to_owned();
                let value = row
                    .get("value")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                Some(EmulatedRegId { id, id_type, value })
            })
            .collect()
    }

    fn value_of(&self, partner: RegistrantId, type_name: &str) -> Option<String> {
        self.reg_ids_of(partner)
            .into_iter()
            .find(|r| r.id_type == type_name)
            .map(|r| r.value)
    }

    /// The registrant's VID, if it holds one.
    pub fn vid_of(&self, partner: RegistrantId) -> Option<Vid> {
        self.value_of(partner, &self.shared.id_types.vid)
            .map(Vid::new)
    }

    /// The registrant's token, if it holds one.
    pub fn token_of(&self, partner: RegistrantId) -> Option<Token> {
        self.value_of(partner, &self.shared.id_types.token)
            .map(Token::new)
    }

    /// How many `g2p.reg.id` rows of the type named `type_name` exist.
    pub fn count_ids(&self, type_name: &str) -> usize {
        let store = self.read();
        let Some(type_id) = store.id_type_named(type_name) else {
            return 0;
        };
        store
            .table(Model::RegId)
            .values()
            .filter(|row| many2one_id(row.get("id_type")) == Some(type_id))
            .count()
    }

    /// Deletes the registrant's VID row, as OpenG2P's own clean-up job would; false when it
    /// held none.
    pub fn delete_vid(&self, partner: RegistrantId) -> bool {
        let mut store = self.write();
        let Some(vid_type) = store.id_type_named(&self.shared.id_types.vid) else {
            return false;
        };
        let ids: Vec<i64> = store
            .reg_ids_of(partner.0)
            .filter(|id| {
                store
                    .row(Model::RegId, *id)
                    .is_some_and(|row| many2one_id(row.get("id_type")) == Some(vid_type))
            })
            .collect();
        !ids.is_empty() && store.unlink(Model::RegId, &ids).is_ok()
    }

    /// Writes `fields` on a registrant, as an edit in the registry would, stamping its
    /// `write_date`; false when it does not exist or a field is refused (the same `write` as
    /// over JSON-RPC).
    pub fn update(&self, partner: RegistrantId, fields: PersonalRecord) -> bool {
        self.write()
            .write(Model::Partner, &[partner.0], fields.expose())
            .is_ok()
    }

    /// Gives a registrant a VID: rewrites its VID row or creates one, under OpenG2P's rules
    /// (`id_validation`), stamping only that row's `write_date`, as Odoo does; false when the
    /// registrant does not exist or the value is refused.
    pub fn set_vid(&self, partner: RegistrantId, vid: Vid) -> bool {
        let vid_type = self.shared.id_types.vid.clone();
        self.put_id(partner, &vid_type, Value::String(vid.into_inner()))
    }

    /// Gives a registrant an id of the token type without a value (which OpenG2P allows):
    /// rewrites its token row or creates one; false when the registrant does not exist.
    pub fn add_empty_token_id(&self, partner: RegistrantId) -> bool {
        let token_type = self.shared.id_types.token.clone();
        self.put_id(partner, &token_type, Value::Bool(false))
    }

    fn put_id(&self, partner: RegistrantId, type_name: &str, value: Value) -> bool {
        let mut store = self.write();
        let Some(type_id) = store.id_type_named(type_name) else {
            return false;
        };
        if store.row(Model::Partner, partner.0).is_none() {
            return false;
        }
        let held: Vec<i64> = store
            .reg_ids_of(partner.0)
            .filter(|id| {
                store
                    .row(Model::RegId, *id)
                    .is_some_and(|row| many2one_id(row.get("id_type")) == Some(type_id))
            })
            .collect();
        let mut vals = serde_json::Map::new();
        vals.insert("value".into(), value);
        if held.is_empty() {
            vals.insert("partner_id".into(), Value::from(partner.0));
            vals.insert("id_type".into(), Value::from(type_id));
            store.create(Model::RegId, &vals).is_ok()
        } else {
            store.write(Model::RegId, &held, &vals).is_ok()
        }
    }

    /// Archives (`active = false`) or restores a registrant; false when it does not exist.
    pub fn set_active(&self, partner: RegistrantId, active: bool) -> bool {
        let mut vals = serde_json::Map::new();
        vals.insert("active".into(), Value::Bool(active));
        self.write()
            .write(Model::Partner, &[partner.0], &vals)
            .is_ok()
    }

    /// How many `res.partner` rows exist (archived ones included).
    pub fn partner_count(&self) -> usize {
        self.read().table(Model::Partner).len()
    }

    /// How many times `method` of `model` was called (through `execute_kw` or `call_kw`).
    pub fn calls(&self, model: &str, method: &str) -> u64 {
        self.call_counts()
            .get(&(model.to_owned(), method.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Every (model, method) called so far, with its count.
    pub fn call_counts(&self) -> BTreeMap<(String, String), u64> {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the call counts.
    pub fn reset_calls(&self) {
        self.shared
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// How many web sessions are open.
    pub fn open_sessions(&self) -> usize {
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Stops accepting connections and waits (at most 5 s) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningOdoo {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
