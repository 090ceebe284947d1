//! Newtypes for personal data that must never reach a log, a `Debug` or `Display` output, or an
//! error message.
//!
//! A VID, a token and an MTS `authdata` record are personal data. Their `Debug` prints a
//! placeholder; none of them implements `Display`; reading the value takes an explicit
//! [`expose`](Vid::expose) so that every place that touches it is easy to find.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

macro_rules! redacted_string {
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The value itself. Never log it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Unwraps the value. Never log it.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!($label, "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

redacted_string!(
    /// A MOSIP virtual ID: temporary, revocable, personal.
    Vid,
    "Vid"
);
redacted_string!(
    /// A MOSIP auth token (partner-specific user token): the lasting deduplication key, personal.
    Token,
    "Token"
);

/// A JSON object holding personal data (a registrant's fields, an MTS `authdata` record).
///
/// `Debug` lists the keys only, never the values; the values are reached only through
/// [`expose`](Self::expose) and its siblings, named so that every use stands out:
///
/// ```compile_fail
/// let record = omc_core::PersonalRecord::new();
/// let fields = record.0; // not public
/// ```
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonalRecord(pub(crate) Map<String, Value>);

impl PersonalRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// The fields. Never log their values.
    pub fn expose(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The fields, to change. Never log their values.
    pub fn expose_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.0
    }

    /// The fields, taken out. Never log their values.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl fmt::Debug for PersonalRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonalRecord")
            .field("keys", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl From<Map<String, Value>> for PersonalRecord {
    fn from(value: Map<String, Value>) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let vid = Vid::new("4918350000000001");
        let token = Token::new("LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA");
        let mut map = Map::new();
        map.insert("given_name".into(), Value::String("Amina".into()));
        let record = PersonalRecord(map);
        let printed = format!("{vid:?} {token:?} {record:?} {vid:#?} {record:#?}");
        assert!(!printed.contains("4918350000000001"), "{printed}");
        assert!(!printed.contains("LfqyCj8"), "{printed}");
        assert!(!printed.contains("Amina"), "{printed}");
        assert!(printed.contains("given_name"));
    }
}
