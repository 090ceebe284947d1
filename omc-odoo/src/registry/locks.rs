//! Per-registrant locks: the stores of one registrant through one [`OdooRegistry`] (and its
//! clones) run one after another.
//!
//! [`OdooRegistry`]: super::OdooRegistry

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// One async lock per key, made when first asked for and forgotten when nobody holds or awaits
/// it, so the map stays as small as the stores in flight.
#[derive(Default)]
pub(super) struct KeyedLocks {
    locks: Mutex<HashMap<i64, Arc<AsyncMutex<()>>>>,
}

impl fmt::Debug for KeyedLocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedLocks")
            .field("keys", &self.map().len())
            .finish()
    }
}

/// The locks of some keys, held until dropped.
pub(super) struct Held<'a> {
    owner: &'a KeyedLocks,
    keys: Vec<i64>,
    guards: Vec<OwnedMutexGuard<()>>,
}

impl KeyedLocks {
    fn map(&self) -> MutexGuard<'_, HashMap<i64, Arc<AsyncMutex<()>>>> {
        self.locks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for and takes the lock of every key of `keys`, which must be ascending and
    /// distinct: every caller takes its locks in that one order, so no two ever wait on each
    /// other.
    pub(super) async fn lock(&self, keys: &[i64]) -> Held<'_> {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]), "ascending, distinct");
        // Declared before the waits, so a store cancelled while waiting still forgets the
        // locks it made.
        let mut held = Held {
            owner: self,
            keys: keys.to_vec(),
            guards: Vec::with_capacity(keys.len()),
        };
        for key in keys {
            let lock = Arc::clone(self.map().entry(*key).or_default());
            held.guards.push(lock.lock_owned().await);
        }
        held
    }

    /// How many keys have a lock (held or awaited).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.map().len()
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.guards.clear();
        let mut map = self.owner.map();
        for key in &self.keys {
            // Only the map holds it: nobody holds or awaits it.
            if map
                .get(key)
                .is_some_and(|lock| Arc::strong_count(lock) == 1)
            {
                map.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn poll<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_key_is_held_by_one_at_a_time_and_forgotten_after() {
        let locks = KeyedLocks::default();
        let first = pin!(locks.lock(&[1, 2, 3]));
        let Poll::Ready(first) = poll(first) else {
            panic!("free keys are taken at once")
        };
        let mut second = pin!(locks.lock(&[3, 4]));
        assert!(poll(second.as_mut()).is_pending(), "3 is held");
        let mut other = pin!(locks.lock(&[5]));
        assert!(poll(other.as_mut()).is_ready(), "other keys are free");
        drop(first);
        let Poll::Ready(second) = poll(second.as_mut()) else {
            panic!("3 is free once the first is dropped")
        };
        assert_eq!(locks.len(), 2, "1 and 2 are forgotten, 3 and 4 held");
        drop(second);
        assert_eq!(locks.len(), 0, "all forgotten");
    }

    #[test]
    fn a_cancelled_wait_forgets_its_locks() {
        let locks = KeyedLocks::default();
        let Poll::Ready(first) = poll(pin!(locks.lock(&[2]))) else {
            panic!("free")
        };
        {
            let mut waiting = Box::pin(locks.lock(&[1, 2]));
            assert!(poll(waiting.as_mut()).is_pending());
            assert_eq!(locks.len(), 2);
        }
        drop(first);
        assert_eq!(locks.len(), 0, "the cancelled wait left nothing behind");
    }
}
