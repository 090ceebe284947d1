//! The bytes a batch's request takes, for [`EngineSettings::max_request_bytes`].
//!
//! The engine has no HTTP in it, so it cannot serialise MTS's envelope; it measures what
//! grows (each `authdata` record, as JSON) and bounds the rest from above: the parts of the
//! envelope that vary (the callback properties, the output format, the mapping, the language)
//! measured as JSON, plus a fixed allowance for MTS's keys and the envelope's `id`, `version`,
//! `metadata` and `requesttime`.
//!
//! [`EngineSettings::max_request_bytes`]: super::EngineSettings::max_request_bytes

use crate::pii::PersonalRecord;
use crate::seeder::Mapping;
use crate::sink::{CallbackAuth, Delivery, Headers};
use secrecy::ExposeSecret;
use serde::Serialize;
use std::io;

/// MTS's keys, the fixed words (`"json"`, `"callback"`, `"staticBearer"`, ...), the request time
/// and the envelope's `id`, `version` and `metadata` at their defaults: about 450 bytes.
const SKELETON: usize = 1024;

/// A writer that only counts what it is given.
struct Counter(usize);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The length of `value` as JSON (0 for what cannot be serialised, which these types never are).
fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => 0,
    }
}

/// What one record adds to `authdata`: its JSON and the comma before it.
pub(super) fn record_bytes(record: &PersonalRecord) -> usize {
    json_len(record) + 1
}

/// An upper bound of a request's bytes besides its records.
pub(super) fn envelope_bytes(delivery: &Delivery, mapping: &Mapping, lang: &str) -> usize {
    let headers = |h: &Headers| {
        h.iter()
            .map(|(name, value)| json_len(name) + json_len(value.expose_secret()) + 2)
            .sum::<usize>()
    };
    let auth = match &delivery.auth {
        CallbackAuth::None => 0,
        CallbackAuth::StaticBearer { token } => json_len(token.expose_secret()),
        CallbackAuth::Odoo {
            auth_url,
            database,
            username,
            password,
            extra_headers,
        } => {
            json_len(auth_url.as_str())
                + json_len(database)
                + json_len(username)
                + json_len(password.expose_secret())
                + headers(extra_headers)
        }
    };
    SKELETON
        + json_len(delivery.url.as_str())
        + delivery.output_format.as_deref().map_or(0, json_len)
        + headers(&delivery.extra_headers)
        + auth
        + json_len(mapping)
        + json_len(lang)
}
