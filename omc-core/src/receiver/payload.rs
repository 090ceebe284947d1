//! The callback body of the self-hosted sink: the output format OMC gives MTS, and the one
//! parser of what comes back (a single result or a bulk list), strict and total.
//!
//! The parser is also what the MTS emulator's tests use to read callbacks, and what the fuzz
//! target `callback_payload` drives: it never panics, and refuses a whole body for any one bad
//! element, naming the element's index and the key, never a value.

use crate::authdata::REGISTRANT_KEY;
use crate::pii::{Token, Vid};
use crate::registry::RegistrantId;
use crate::sink::{RecordStatus, SeedResult};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashSet;
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
    if let Some(parsed) = parse_typed(body, limits) {
        return parsed;
    }
    parse_tree(body, limits)
}

/// A result as OMC's output format writes it, read without building a JSON tree: the fast
/// path for well-formed bodies. Anything it cannot read this way (a wrong type, an unknown or
/// repeated key, a float id) goes to [`parse_tree`], which names what is wrong.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    /// [`REGISTRANT_KEY`].
    id: i64,
    status: String,
    token: Option<String>,
    #[serde(rename = "errorCode")]
    error_code: Option<String>,
    #[serde(rename = "errorMessage")]
    error_message: Option<String>,
    vid: Option<String>,
}

/// The fast path: `None` when the body is not a well-typed object or list of them. When it
/// answers, the answer is the one [`parse_tree`] gives (the same checks, in the same order).
fn parse_typed(body: &[u8], limits: &PayloadLimits) -> Option<Result<Vec<SeedResult>, Malformed>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace())?;
    let wires: Vec<Wire> = match first {
        b'[' => {
            let wires: Vec<Wire> = serde_json::from_slice(body).ok()?;
            if let Err(e) = list_fits(wires.len(), limits) {
                return Some(Err(e));
            }
            wires
        }
        b'{' => vec![serde_json::from_slice(body).ok()?],
        _ => return None,
    };
    Some(gather(wires, checked))
}

/// A bulk body's list is neither empty nor longer than the limit.
fn list_fits(len: usize, limits: &PayloadLimits) -> Result<(), Malformed> {
    if len == 0 {
        return Err(Malformed::EmptyList);
    }
    if len > limits.max_records {
        return Err(Malformed::TooManyRecords {
            records: len,
            limit: limits.max_records,
        });
    }
    Ok(())
}

/// The results of a body's elements, in order, each read by `one`; the first bad element, or
/// the first registrant seen twice, refuses the whole body.
fn gather<T>(
    items: Vec<T>,
    mut one: impl FnMut(usize, T) -> Result<SeedResult, Malformed>,
) -> Result<Vec<SeedResult>, Malformed> {
    let mut seen = HashSet::with_capacity(items.len());
    let mut results = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let result = one(index, item)?;
        if !seen.insert(result.registrant) {
            return Err(Malformed::Repeated {
                registrant: result.registrant,
            });
        }
        results.push(result);
    }
    Ok(results)
}

/// [`parse_one`]'s checks, in its order, on a well-typed result.
fn checked(index: usize, wire: Wire) -> Result<SeedResult, Malformed> {
    if wire.id <= 0 {
        return Err(Malformed::BadRegistrant { index });
    }
    let status = status_of(index, &wire.status)?;
    let limited = |value: Option<String>, key: &'static str, limit: usize| match value {
        Some(s) if too_long(&s, limit) => Err(Malformed::TooLong { index, key, limit }),
        other => Ok(other),
    };
    let token = limited(wire.token, "token", MAX_TOKEN_CHARS)?;
    let error_code = limited(wire.error_code, "errorCode", MAX_CODE_CHARS)?;
    let error_message = limited(wire.error_message, "errorMessage", MAX_MESSAGE_CHARS)?;
    let vid = limited(wire.vid, "vid", MAX_VID_CHARS)?;
    token_fits(index, status, token.as_deref())?;
    Ok(SeedResult {
        registrant: RegistrantId(wire.id),
        vid: vid.map(Vid::new),
        status,
        token: token.map(Token::new),
        error_code,
        error_message,
    })
}

/// MTS's final status words.
fn status_of(index: usize, word: &str) -> Result<RecordStatus, Malformed> {
    match word {
        "processed" => Ok(RecordStatus::Processed),
        "error" => Ok(RecordStatus::Error),
        "invalid" => Ok(RecordStatus::Invalid),
        "submitted" | "processing" => Err(Malformed::NotFinal { index }),
        _ => Err(Malformed::UnknownStatus { index }),
    }
}

/// A processed result carries a token that is not blank; a failed one carries none.
fn token_fits(index: usize, status: RecordStatus, token: Option<&str>) -> Result<(), Malformed> {
    match (status, token) {
        (RecordStatus::Processed, None) => Err(Malformed::NoToken { index }),
        (RecordStatus::Processed, Some(t)) if t.trim().is_empty() => {
            Err(Malformed::NoToken { index })
        }
        (RecordStatus::Processed, Some(_)) | (_, None) => Ok(()),
        (_, Some(_)) => Err(Malformed::TokenOnFailure { index }),
    }
}

fn too_long(s: &str, limit: usize) -> bool {
    s.len() > limit && s.chars().count() > limit
}

/// The general path: the body as a JSON tree, every element checked key by key.
fn parse_tree(body: &[u8], limits: &PayloadLimits) -> Result<Vec<SeedResult>, Malformed> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Malformed::NotJson)?;
    let items = match value {
        Value::Object(map) => vec![Value::Object(map)],
        Value::Array(items) => {
            list_fits(items.len(), limits)?;
            items
        }
        _ => return Err(Malformed::NotObjectOrList),
    };
    gather(items, |index, item| match item {
        Value::Object(map) => parse_one(index, &map),
        _ => Err(Malformed::NotAnObject { index }),
    })
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
        Some(Value::String(word)) => status_of(index, word)?,
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
    token_fits(index, status, token.as_deref())?;
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
        Some(Value::String(s)) if too_long(s, limit) => {
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

    type Seen = Result<Vec<(i64, Option<String>, RecordStatus, Option<String>, String)>, Malformed>;

    fn seen(parsed: Result<Vec<SeedResult>, Malformed>) -> Seen {
        parsed.map(|results| {
            results
                .into_iter()
                .map(|r| {
                    let failure = format!("{:?}/{:?}", r.error_code, r.error_message);
                    let vid = r.vid.map(|v| v.expose().to_owned());
                    let token = r.token.map(|t| t.expose().to_owned());
                    (r.registrant.0, vid, r.status, token, failure)
                })
                .collect()
        })
    }

    #[test]
    fn the_fast_path_answers_as_the_tree_does() {
        assert_eq!(
            REGISTRANT_KEY, "id",
            "Wire reads the registrant key as 'id'"
        );
        let limit = |max_records| PayloadLimits {
            max_bytes: usize::MAX,
            max_records,
        };
        let long = "x".repeat(MAX_TOKEN_CHARS + 1);
        let wide = "é".repeat(MAX_TOKEN_CHARS);
        let ok = r#"{"id": 1, "status": "processed", "token": "t"}"#;
        let mut bodies: Vec<Vec<u8>> = [
            ok.to_owned(),
            format!("  \n[{ok}]"),
            format!("[{ok}, {ok}]"),
            format!("[{ok}, {ok}, {ok}, {ok}]"),
            "[]".into(),
            r#"{"id": 0, "status": "processed", "token": "t"}"#.into(),
            r#"{"id": -4, "status": "bogus", "token": 5}"#.into(),
            r#"{"id": 1.0, "status": "processed", "token": "t"}"#.into(),
            r#"{"id": "1", "status": "processed", "token": "t"}"#.into(),
            r#"{"id": 18446744073709551615, "status": "processed", "token": "t"}"#.into(),
            r#"{"id": 1, "status": 5, "token": "t"}"#.into(),
            r#"{"id": 1, "status": "submitted"}"#.into(),
            r#"{"id": 1, "status": "processed", "token": "  "}"#.into(),
            r#"{"id": 1, "status": "processed", "token": null}"#.into(),
            r#"{"id": 1, "status": "error", "token": "t", "errorCode": "X"}"#.into(),
            r#"{"id": 1, "status": "error", "errorCode": null, "errorMessage": "m", "vid": "v"}"#
                .into(),
            format!(r#"{{"id": 1, "status": "processed", "token": "{long}"}}"#),
            format!(r#"{{"id": 1, "status": "processed", "token": "{wide}"}}"#),
            r#"{"id": 1, "id": 2, "status": "processed", "token": "t"}"#.into(),
            r#"{"id": 1, "status": "processed", "token": "t", "name": "A"}"#.into(),
            r#"[{"id": 2, "status": "processed", "token": "t"}, null]"#.into(),
            r#"[{"id": 2, "status": "invalid"}, {"id": 2, "status": "invalid"}]"#.into(),
            r#"[{"id": 2, "status": "invalid"}, {"id": 3, "status": "x", "token": 1}]"#.into(),
        ]
        .into_iter()
        .map(String::into_bytes)
        .collect();
        let corpus = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/corpus/callback_payload"
        );
        let files = std::fs::read_dir(corpus).expect("the fuzz corpus is in the repository");
        bodies.extend(files.map(|f| std::fs::read(f.unwrap().path()).unwrap()));
        let mut fast = 0;
        for limits in [limit(3), limit(0)] {
            for body in &bodies {
                if let Some(answer) = parse_typed(body, &limits) {
                    fast += 1;
                    let shown = String::from_utf8_lossy(body);
                    assert_eq!(seen(answer), seen(parse_tree(body, &limits)), "{shown}");
                }
            }
        }
        assert!(fast > 20, "the fast path answered only {fast} bodies");
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
