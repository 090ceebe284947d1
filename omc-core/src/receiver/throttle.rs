//! Throttling of the Odoo-style login, so that its password cannot be guessed at speed: every
//! attempt is charged to its login and to its caller's address (governor's GCRA, one bucket a
//! key), and failures in a row lock the login and the address for a time that doubles with
//! each further failure. A locked or over-rate attempt is refused without its password being
//! checked, even when it is right: throttled answers tell a guesser nothing.
//!
//! The price: someone who knows the login can keep it locked, and MTS's logins are refused
//! while it is (its callbacks are then refused, and the registrants stay pending for the next
//! run). Time is tokio's clock, so tests run it paused.

use governor::clock::Clock;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How many logins and addresses are remembered at once; beyond, after forgetting what is
/// stale, new ones are refused until room is made (an attack spraying keys cannot grow
/// memory).
const MAX_KEYS: usize = 10_000;

/// How logins are throttled (see [`ReceiverSettings::login_throttle`](super::ReceiverSettings)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Login attempts a second allowed for one login, sustained (default 2).
    pub per_login_per_second: u32,
    /// Login attempts a second allowed from one address (an IPv6 /64), sustained (default 5).
    pub per_address_per_second: u32,
    /// Attempts allowed at once, per login and per address, before the rates apply (default 5).
    pub burst: u32,
    /// Failed logins in a row, per login and per address, before backing off (default 3).
    pub free_failures: u32,
    /// How long the first failure beyond those locks the login and the address; each further
    /// failure doubles it (default 1 s).
    pub backoff: Duration,
    /// The longest lock (default 5 minutes).
    pub max_backoff: Duration,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            per_login_per_second: 2,
            per_address_per_second: 5,
            burst: 5,
            free_failures: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
        }
    }
}

/// tokio's clock for governor, so that a paused test clock drives the quotas too.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TokioClock;

impl Clock for TokioClock {
    type Instant = std::time::Instant;

    fn now(&self) -> Self::Instant {
        Instant::now().into_std()
    }
}

type Keyed<K> = RateLimiter<K, HashMapStateStore<K>, TokioClock>;

/// An address as throttled: IPv4 whole, IPv6 by its /64 (what one host is usually given).
fn address_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
    }
}

/// Failures in a row of one key, and until when it is locked.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    until: Instant,
    last: Instant,
}

/// One kind of key (logins, or addresses): its quota and its failures.
struct Bucket<K: Hash + Eq + Clone> {
    quota: Keyed<K>,
    failures: HashMap<K, Failures>,
}

impl<K: Hash + Eq + Clone> Bucket<K> {
    fn new(per_second: u32, burst: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            quota: RateLimiter::hashmap_with_clock(
                Quota::per_second(rate).allow_burst(burst),
                TokioClock,
            ),
            failures: HashMap::new(),
        }
    }

    /// How long `key` stays locked by its failures.
    fn locked(&self, key: &K, now: Instant) -> Option<Duration> {
        let failures = self.failures.get(key)?;
        (failures.until > now).then(|| failures.until - now)
    }

    /// Charges one attempt to `key`: how long to wait when it is over its rate.
    fn charge(&self, key: &K) -> Result<(), Duration> {
        if self.quota.len() >= MAX_KEYS {
            self.quota.retain_recent();
            if self.quota.len() >= MAX_KEYS {
                return Err(Duration::from_secs(1));
            }
        }
        self.quota
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(TokioClock.now()))
    }

    /// Counts a failure; the lock it brings, if any.
    fn failed(&mut self, key: K, settings: &LoginThrottle, now: Instant) -> Option<Duration> {
        if !self.failures.contains_key(&key) && self.failures.len() >= MAX_KEYS {
            let stale = settings.max_backoff.max(Duration::from_secs(60));
            self.failures
                .retain(|_, f| f.until > now || now.duration_since(f.last) < stale);
        }
        let count = self.failures.get(&key).map_or(0, |f| f.count) + 1;
        let beyond = count.saturating_sub(settings.free_failures);
        let lock = (beyond > 0).then(|| {
            let doubled = settings.backoff.saturating_mul(1 << (beyond - 1).min(20));
            doubled.min(settings.max_backoff)
        });
        if self.failures.len() < MAX_KEYS || self.failures.contains_key(&key) {
            self.failures.insert(
                key,
                Failures {
                    count,
                    until: now + lock.unwrap_or_default(),
                    last: now,
                },
            );
        }
        lock
    }
}

/// The login throttle: a bucket of logins (by a digest of database and login) and one of
/// addresses.
pub(super) struct Throttle {
    settings: LoginThrottle,
    state: Mutex<(Bucket<[u8; 32]>, Bucket<IpAddr>)>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Throttle {
    pub(super) fn new(settings: LoginThrottle) -> Self {
        let logins = Bucket::new(settings.per_login_per_second, settings.burst);
        let addresses = Bucket::new(settings.per_address_per_second, settings.burst);
        Self {
            settings,
            state: Mutex::new((logins, addresses)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, (Bucket<[u8; 32]>, Bucket<IpAddr>)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the address is locked by its failures (checked before a login's body is read).
    pub(super) fn address_locked(&self, peer: Option<IpAddr>) -> Option<Duration> {
        let peer = address_key(peer?);
        self.state().1.locked(&peer, Instant::now())
    }

    /// Admits one attempt at `login` from `peer`, or says how long to wait. An admitted attempt
    /// has been charged to both.
    pub(super) fn admit(&self, login: &[u8; 32], peer: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let peer = peer.map(address_key);
        let state = self.state();
        let (logins, addresses) = &*state;
        let locked = [
            logins.locked(login, now),
            peer.and_then(|p| addresses.locked(&p, now)),
        ];
        if let Some(wait) = locked.into_iter().flatten().max() {
            return Err(wait);
        }
        if let Some(peer) = peer {
            addresses.charge(&peer)?;
        }
        logins.charge(login)
    }

    /// Records how an admitted attempt went: a success clears the failures of its login and
    /// address, a failure counts and may lock them (logged, without the login or password).
    pub(super) fn record(&self, login: &[u8; 32], peer: Option<IpAddr>, succeeded: bool) {
        let now = Instant::now();
        let peer = peer.map(address_key);
        let mut state = self.state();
        let (logins, addresses) = &mut *state;
        if succeeded {
            logins.failures.remove(login);
            if let Some(peer) = peer {
                addresses.failures.remove(&peer);
            }
            return;
        }
        let login_lock = logins.failed(*login, &self.settings, now);
        let address_lock = peer.and_then(|p| addresses.failed(p, &self.settings, now));
        let failures = logins.failures.get(login).map_or(0, |f| f.count);
        drop(state);
        if let Some(lock) = login_lock.into_iter().chain(address_lock).max() {
            let peer = peer.map_or_else(|| "unknown".to_owned(), |p| p.to_string());
            tracing::warn!(
                peer,
                failures_in_a_row = failures,
                locked_ms = lock.as_millis() as u64,
                "login throttled after repeated failures"
            );
        }
    }
}
