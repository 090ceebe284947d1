//! Odoo's date and datetime texts, and how the emulator stamps `create_date` and `write_date`.
//!
//! Odoo stamps a record with its transaction's start, which PostgreSQL keeps to the
//! microsecond, and sends it back truncated to the second (`YYYY-MM-DD HH:MM:SS`). So on the
//! real registry a stamp read back is *before* the stored one: `write_date > '<read value>'`
//! selects the record again and `write_date = '<read value>'` never does. The emulator keeps
//! the same shape: the seconds from its [`Clock`], then a fraction that grows with each
//! transaction within the second (never `.000000`); reads truncate it.

use super::store::Row;
use omc_core::time::{Clock, SystemClock};
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;

/// The length of a datetime as Odoo sends it.
const SENT: usize = "YYYY-MM-DD HH:MM:SS".len();

/// Whether `text` is a date as Odoo sends it: `YYYY-MM-DD`.
pub(crate) fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A stored datetime as Odoo sends it: to the second.
pub(crate) fn sent(value: &Value) -> Value {
    match value {
        Value::String(text) if text.len() > SENT && text.is_char_boundary(SENT) => {
            Value::String(text[..SENT].to_owned())
        }
        other => other.clone(),
    }
}

/// Stamps rows with the current transaction's start.
#[derive(Clone)]
pub(crate) struct Stamper {
    clock: Arc<dyn Clock>,
    second: i64,
    sequence: u32,
    now: String,
}

impl fmt::Debug for Stamper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stamper").field("now", &self.now).finish()
    }
}

impl Default for Stamper {
    fn default() -> Self {
        Self::new(Arc::new(SystemClock))
    }
}

impl Stamper {
    /// A stamper reading `clock`, with a transaction begun.
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        let mut stamper = Self {
            clock,
            second: i64::MIN,
            sequence: 0,
            now: String::new(),
        };
        stamper.begin();
        stamper
    }

    /// Begins a transaction: the stamp of every row it writes.
    pub(crate) fn begin(&mut self) {
        let now = self.clock.now();
        if now.0 == self.second {
            self.sequence = (self.sequence + 1).min(999_999);
        } else {
            self.second = now.0;
            self.sequence = 1;
        }
        self.now = format!("{now}.{:06}", self.sequence);
    }

    /// Sets `write_date` (and `create_date` for a new row) to the transaction's start.
    pub(crate) fn stamp(&self, row: &mut Row, new: bool) {
        let now = json!(self.now);
        if new {
            row.insert("create_date".into(), now.clone());
        }
        row.insert("write_date".into(), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omc_core::time::{ManualClock, Timestamp};

    #[test]
    fn stamps_are_read_to_the_second_and_ordered_within_it() {
        let clock = ManualClock::at(Timestamp::parse_odoo("2026-11-27 11:42:48").unwrap());
        let mut stamper = Stamper::new(Arc::new(clock.clone()));
        let first = stamper.now.clone();
        stamper.begin();
        let second = stamper.now.clone();
        assert!(first < second, "{first} {second}");
        assert_eq!(sent(&json!(first)), json!("2026-11-27 11:42:48"));
        assert!(first.as_str() > "2026-11-27 11:42:48");
        clock.advance(1);
        stamper.begin();
        assert_eq!(stamper.now, "2026-11-27 11:42:49.000001");
        assert_eq!(sent(&json!(false)), json!(false));
        assert!(is_date("2001-02-03"));
        assert!(!is_date("2001/02/03"));
    }
}
