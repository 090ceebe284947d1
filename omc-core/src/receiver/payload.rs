//! The callback body of the self-hosted sink: the output format OMC gives MTS, and the one
//! parser of what comes back (a single result or a bulk list), strict and total.
//!
//! The parser is also what the MTS emulator's tests use to read callbacks, and what the fuzz
//! target `callback_payload` drives: it never panics, and refuses a whole body for any one bad
//! element, naming the element's index and the key, never a value.

use crate::pii::{Token, Vid};
use crate::registry::RegistrantId;
use crate::rules::REGISTRANT_KEY;
use crate::sink::{RecordStatus, SeedResult};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt;

/// The longest token accepted (MOSIP's tokens are 43 characters; MTS's mock gives the same).
pub const MAX_TOKEN_CHARS: usize = 256;
/// The longest VID accepted.
pub const MAX_VID_CHARS: usize = 64;
/// The longest MTS error code accepted.
pub const MAX_CODE_CHARS: usize = 64;
/// The longest MTS error message accepted.
pub const MAX_MESSAGE_CHARS: usize = 1024;

/// The keys a result may carry. `vid` is accepted (formats that send it back) but OMC's own
/// format leaves it out: the VID is not needed to store a token.
const KEYS: [&str; 6] = [
    REGISTRANT_KEY,
    "status",
    "token",
    "errorCode",
    "errorMessage",
    "vid",
];

/// The jq program OMC gives MTS for the self-hosted sink: the registrant key OMC put in
/// `authdata`, MTS's status, token, error code and message. Written for jq 1.6.
pub fn output_format() -> String {
    format!(
        r#"{{"{key}": .input.{key}, "status": .output.status, "token": .output.token, "errorCode": .output.errorCode, "errorMessage": .output.errorMessage}}"#,
        key = REGISTRANT_KEY
    )
}

/// Bounds on what one callback may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadLimits {
    /// The largest body, in bytes (default 8 MiB: a bulk callback of 500 results is ~60 KiB).
    pub max_bytes: usize,
    /// The most results in one bulk body (default 10,000).
    pub max_records: usize,
}

impl Default for PayloadLimits {
    fn default() -> Self {
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_records: 10_000,
        }
    }
}

/// Why a callback body was refused. Messages name indexes and keys, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// The body is empty (MTS sends none when the output format yields nothing or fails).
    #[error("the callback has no body")]
    NoBody,
    /// The body exceeds the limit.
    #[error("the body has {bytes} bytes, more than the limit of {limit}")]
    TooLarge {
        /// The body's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is not JSON.
    #[error("the body is not JSON")]
    NotJson,
    /// The body is JSON but neither an object nor a list.
    #[error("the body is neither a result object nor a list of them")]
    NotObjectOrList,
    /// A bulk body with no result.
    #[error("the list holds no result")]
    EmptyList,
    /// A bulk body with more results than the limit.
    #[error("the list holds {records} results, more than the limit of {limit}")]
    TooManyRecords {
        /// How many.
        records: usize,
        /// The limit.
        limit: usize,
    },
    /// An element of a bulk body is not an object (MTS puts `null` there when the output
    /// format failed on that record).
    #[error("result {index} is not an object")]
    NotAnObject {
        /// The element's index (0 for a single result).
        index: usize,
    },
    /// A required key is absent.
    #[error("result {index} has no '{key}'")]
    MissingKey {
        /// The element's index.
        index: usize,
        /// The key.
        key: &'static str,
    },
    /// A key OMC's output format never produces.
    #[error("result {index} has a key OMC's output format does not produce")]
    UnknownKey {
        /// The element's index.
        index: usize,
    },
    /// A value of the wrong JSON type.
    #[error("result {index}: '{key}' must be {expected}")]
    WrongType {
        /// The element's index.
        index: usize,
        /// The key.
        key: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// A value longer than its limit.
    #[error("result {index}: '{key}' is longer than {limit} characters")]
    TooLong {
        /// The element's index.
        index: usize,
        /// The key.
        key: &'static str,
        /// The limit.
        limit: usize,
    },
    /// A registrant key that is not a positive integer.
    #[error("result {index}: the registrant key is not a positive integer")]
    BadRegistrant {
        /// The element's index.
        index: usize,
    },
    /// A status MTS does not give.
    #[error("result {index}: unknown status")]
    UnknownStatus {
        /// The element's index.
        index: usize,
    },
    /// A status that is not final (`submitted`, `processing`): MTS calls back only when done.
    #[error("result {index}: the status is not final")]
    NotFinal {
        /// The element's index.
        index: usize,
    },
    /// A processed result without a token, or with an empty one.
    #[error("result {index}: processed without a token")]
    NoToken {
        /// The element's index.
        index: usize,
    },
    /// A failed result carrying a token.
    #[error("result {index}: a failed result carries a token")]
    TokenOnFailure {
        /// The element's index.
        index: usize,
    },
    /// One registrant twice in one body.
    #[error("registrant {registrant} appears twice in one body")]
    Repeated {
        /// The registrant.
        registrant: RegistrantId,
    },
}

impl Malformed {
    /// A short stable reason, for reports and tests.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NoBody => "no body",
            Self::TooLarge { .. } => "body too large",
            Self::NotJson => "not JSON",
            Self::NotObjectOrList => "not an object or a list",
            Self::EmptyList => "empty list",
            Self::TooManyRecords { .. } => "too many results",
            Self::NotAnObject { .. } => "element not an object",
            Self::MissingKey { .. } => "missing key",
            Self::UnknownKey { .. } => "unknown key",
            Self::WrongType { .. } => "wrong type",
            Self::TooLong { .. } => "value too long",
            Self::BadRegistrant { .. } => "bad registrant key",
            Self::UnknownStatus { .. } => "unknown status",
            Self::NotFinal { .. } => "status not final",
            Self::NoToken { .. } => "processed without token",
            Self::TokenOnFailure { .. } => "token on a failed result",
            Self::Repeated { .. } => "registrant repeated",
        }
    }
}

/// Parses a callback body built by [`output_format`] (one object, or a list of them from a
/// bulk callback) into results. The whole body is refused for any one bad element.
pub fn parse_results(body: &[u8], limits: &PayloadLimits) -> Result<Vec<SeedResult>, Malformed> {
    if body.is_empty() {
        return Err(Malformed::NoBody);
    }
    if body.len() > limits.max_bytes {
        return Err(Malformed::TooLarge {
            bytes: body.len(),
            limit: limits.max_bytes,
        });
    }
    let value: Value = serde_json::from_slice(body).map_err(|_| Malformed::NotJson)?;
    let items = match value {
        Value::Object(map) => vec![Value::Object(map)],
        Value::Array(items) if items.is_empty() => return Err(Malformed::EmptyList),
        Value::Array(items) if items.len() > limits.max_records => {
            return Err(Malformed::TooManyRecords {
                records: items.len(),
                limit: limits.max_records,
            });
        }
        Value::Array(items) => items,
        _ => return Err(Malformed::NotObjectOrList),
    };
    let mut seen = BTreeSet::new();
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::Object(map) = item else {
            return Err(Malformed::NotAnObject { index });
        };
        let result = parse_one(index, map)?;
        if !seen.insert(result.registrant) {
            return Err(Malformed::Repeated {
                registrant: result.registrant,
            });
        }
        results.push(result);
    }
    Ok(results)
}

fn parse_one(index: usize, map: &Map<String, Value>) -> Result<SeedResult, Malformed> {
    if map.keys().any(|k| !KEYS.contains(&k.as_str())) {
        return Err(Malformed::UnknownKey { index });
    }
    let registrant = match map.get(REGISTRANT_KEY) {
        None => {
            return Err(Malformed::MissingKey {
                index,
                key: REGISTRANT_KEY,
            });
        }
        Some(Value::Number(n)) => match n.as_i64() {
            Some(id) if id > 0 => RegistrantId(id),
            _ => return Err(Malformed::BadRegistrant { index }),
        },
        Some(_) => {
            return Err(Malformed::WrongType {
                index,
                key: REGISTRANT_KEY,
                expected: "an integer",
            });
        }
    };
    let status = match map.get("status") {
        None => {
            return Err(Malformed::MissingKey {
                index,
                key: "status",
            });
        }
        Some(Value::String(word)) => match word.as_str() {
            "processed" => RecordStatus::Processed,
            "error" => RecordStatus::Error,
            "invalid" => RecordStatus::Invalid,
            "submitted" | "processing" => return Err(Malformed::NotFinal { index }),
            _ => return Err(Malformed::UnknownStatus { index }),
        },
        Some(_) => {
            return Err(Malformed::WrongType {
                index,
                key: "status",
                expected: "a string",
            });
        }
    };
    let token = text(index, map, "token", MAX_TOKEN_CHARS)?;
    let error_code = text(index, map, "errorCode", MAX_CODE_CHARS)?;
    let error_message = text(index, map, "errorMessage", MAX_MESSAGE_CHARS)?;
    let vid = text(index, map, "vid", MAX_VID_CHARS)?;
    match (&status, &token) {
        (RecordStatus::Processed, None) => return Err(Malformed::NoToken { index }),
        (RecordStatus::Processed, Some(t)) if t.trim().is_empty() => {
            return Err(Malformed::NoToken { index });
        }
        (RecordStatus::Processed, Some(_)) => {}
        (_, Some(_)) => return Err(Malformed::TokenOnFailure { index }),
        (_, None) => {}
    }
    Ok(SeedResult {
        registrant,
        vid: vid.map(Vid::new),
        status,
        token: token.map(Token::new),
        error_code,
        error_message,
    })
}

/// An optional string value: absent or `null` is `None`.
fn text(
    index: usize,
    map: &Map<String, Value>,
    key: &'static str,
    limit: usize,
) -> Result<Option<String>, Malformed> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > limit => {
            Err(Malformed::TooLong { index, key, limit })
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Malformed::WrongType {
            index,
            key,
            expected: "a string or null",
        }),
    }
}

/// A summary of parsed results that is safe to print: counts by status.
pub struct Summary<'a>(pub &'a [SeedResult]);

impl fmt::Debug for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = |s: RecordStatus| self.0.iter().filter(|r| r.status == s).count();
        f.debug_struct("Results")
            .field("processed", &count(RecordStatus::Processed))
            .field("error", &count(RecordStatus::Error))
            .field("invalid", &count(RecordStatus::Invalid))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jq::{Output, Program};
    use serde_json::json;

    #[test]
    fn the_output_format_builds_what_the_parser_reads() {
        let program = Program::compile(&output_format()).expect("compiles");
        let item = json!({
            "input": {"id": 42, "vid": "4918350000000001", "given_name": "A"},
            "output": {"vid": "4918350000000001", "status": "processed",
                       "token": "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA",
                       "errorCode": null, "errorMessage": null}
        });
        let Output::Value(body) = program.first(&item) else {
            panic!("the format yields a value")
        };
        assert!(body.get("vid").is_none(), "the VID is not sent back");
        assert!(body.get("given_name").is_none());
        let bytes = serde_json::to_vec(&body).unwrap();
        let results = parse_results(&bytes, &PayloadLimits::default()).unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].registrant, RegistrantId(42));
        assert_eq!(results[0].status, RecordStatus::Processed);
        let failed = json!({"input": {"id": 7},
            "output": {"vid": null, "status": "invalid", "token": null,
                       "errorCode": "ATS-REQ-009", "errorMessage": "vid missing"}});
        let Output::Value(body) = program.first(&failed) else {
            panic!("the format yields a value")
        };
        let bulk = serde_json::to_vec(&json!([body])).unwrap();
        let results = parse_results(&bulk, &PayloadLimits::default()).unwrap();
        assert_eq!(results[0].error_code.as_deref(), Some("ATS-REQ-009"));
        assert!(results[0].token.is_none());
    }

    #[test]
    fn summaries_show_counts_only() {
        let body = br#"[{"id": 1, "status": "processed", "token": "secret-token"},
                        {"id": 2, "status": "error", "errorCode": "IDA-1", "errorMessage": "x"}]"#;
        let results = parse_results(body, &PayloadLimits::default()).unwrap();
        let shown = format!("{:?} {:?}", Summary(&results), results);
        assert!(!shown.contains("secret-token"), "{shown}");
        assert!(shown.contains("processed: 1"), "{shown}");
    }
}
