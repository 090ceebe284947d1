//! [`HeldCreates`]: `g2p.reg.id` creates held back, then run as overlapping transactions, the
//! way concurrent creates behave on the real Odoo.
//!
//! OpenG2P's one-id-per-type rule is a Python constraint: it searches the database as the
//! creating transaction sees it, which does not include rows other transactions have not yet
//! committed. Two creates for one registrant that run at once can both pass it (measured on
//! Odoo 17 with two JSON-RPC `create` calls at once: both succeeded 7 times in 10). The
//! emulator runs each call alone, so without this a test could never see that.

use super::Shared;
use super::methods::create_overlapping;
use super::schema::Fault;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The creates one [`HeldCreates`] holds.
pub(crate) struct Overlap {
    /// How many creates have been held so far.
    arrived: watch::Sender<usize>,
    /// Set once, when they may run.
    released: watch::Sender<bool>,
    /// The `g2p.reg.id` rows the held creates made: none of them sees the others'.
    created: Mutex<BTreeSet<i64>>,
}

impl Overlap {
    /// Waits until released, then creates as a transaction that began before the other held
    /// ones committed.
    pub(crate) async fn create(
        &self,
        shared: &Shared,
        args: &[Value],
        kwargs: &Map<String, Value>,
    ) -> Result<Value, Fault> {
        let mut released = self.released.subscribe();
        self.arrived.send_modify(|n| *n += 1);
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = released.wait_for(|go| *go).await;
        create_overlapping(&shared.data, &self.created, args, kwargs)
    }
}

/// `g2p.reg.id` creates held back by [`RunningOdoo::hold_reg_id_creates`]: they run once this
/// is released or dropped, each checking OpenG2P's one-id-per-type rule against every row but
/// those the other held creates made.
///
/// [`RunningOdoo::hold_reg_id_creates`]: super::RunningOdoo::hold_reg_id_creates
pub struct HeldCreates {
    shared: Arc<Shared>,
    overlap: Arc<Overlap>,
}

impl fmt::Debug for HeldCreates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldCreates")
            .field("arrived", &*self.overlap.arrived.borrow())
            .finish()
    }
}

impl HeldCreates {
    /// Starts holding every `g2p.reg.id` `create` (over `/jsonrpc` and `call_kw`).
    pub(crate) fn start(shared: Arc<Shared>) -> Self {
        let overlap = Arc::new(Overlap {
            arrived: watch::Sender::new(0),
            released: watch::Sender::new(false),
            created: Mutex::default(),
        });
        *shared.overlap.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::clone(&overlap));
        Self { shared, overlap }
    }

    /// Waits until `n` creates are held.
    pub async fn arrived(&self, n: usize) {
        let mut arrived = self.overlap.arrived.subscribe();
        // The sender lives as long as `self`: waiting cannot fail.
        let _ = arrived.wait_for(|held| *held >= n).await;
    }

    /// Lets the held creates run; creates after this are not held.
    pub fn release(self) {}
}

impl Drop for HeldCreates {
    fn drop(&mut self) {
        let mut current = self
            .shared
            .overlap
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if current
            .as_ref()
            .is_some_and(|o| Arc::ptr_eq(o, &self.overlap))
        {
            *current = None;
        }
        drop(current);
        self.overlap.released.send_replace(true);
    }
}
