//! MTS's per-record rules, applied by OMC before sending (and by the MTS emulator on receipt):
//! which records MTS refuses, with which code and message.
//!
//! MTS does not drop a record it refuses: it gives it a callback with `status: "invalid"` and a
//! code. OMC keeps such records out of the request and reports the code MTS would give.
//! [`MtsField`] and [`MandatoryFields`] are configuration; the checks themselves are OMC's
//! internals (shared with the MTS emulator and `omc config check`).

use crate::seeder::Mapping;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// An MTS mapping field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MtsField {
    /// `vid`
    Vid,
    /// `name`
    Name,
    /// `gender`
    Gender,
    /// `dob`
    Dob,
    /// `phoneNumber`
    PhoneNumber,
    /// `emailId`
    EmailId,
    /// `fullAddress`
    FullAddress,
}

impl MtsField {
    /// Every MTS mapping key, as `authtoken/authfields` lists them.
    pub const ALL: [MtsField; 7] = [
        Self::Vid,
        Self::Name,
        Self::Gender,
        Self::Dob,
        Self::PhoneNumber,
        Self::EmailId,
        Self::FullAddress,
    ];

    /// MTS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vid => "vid",
            Self::Name => "name",
            Self::Gender => "gender",
            Self::Dob => "dob",
            Self::PhoneNumber => "phoneNumber",
            Self::EmailId => "emailId",
            Self::FullAddress => "fullAddress",
        }
    }

    /// The codes MTS gives when this field is mandatory and (missing, empty).
    pub fn codes(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Name => Some(("ATS-REQ-010", "ATS-REQ-003")),
            Self::Gender => Some(("ATS-REQ-011", "ATS-REQ-004")),
            Self::Dob => Some(("ATS-REQ-012", "ATS-REQ-006")),
            Self::FullAddress => Some(("ATS-REQ-015", "ATS-REQ-008")),
            _ => None,
        }
    }
}

/// MTS's code for a record without a VID.
pub const VID_MISSING: &str = "ATS-REQ-009";

/// The fields MTS refuses a record without (by default name, gender, dob and fullAddress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MandatoryFields(pub BTreeSet<MtsField>);

impl Default for MandatoryFields {
    fn default() -> Self {
        Self(
            [
                MtsField::Name,
                MtsField::Gender,
                MtsField::Dob,
                MtsField::FullAddress,
            ]
            .into_iter()
            .collect(),
        )
    }
}

/// A record MTS would refuse: its code and message (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
#[doc(hidden)]
pub struct Refusal {
    /// MTS's code.
    pub code: &'static str,
    /// MTS's own message for the code (e.g. `gender is empty`).
    pub message: String,
}

/// How MTS's validation of one record ends, at submission.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[doc(hidden)]
pub enum RecordCheck {
    /// The record is stored for processing.
    Accepted,
    /// The record is stored as `invalid` with this code.
    Refused(Refusal),
    /// A mandatory `gender` or `dob` holds a value without a length (a boolean or a number):
    /// MTS's validation raises, and the **whole request** is refused with HTTP 500,
    /// `ATS-REQ-100` and this message (`object of type 'bool' has no len()`).
    Crashes {
        /// MTS's message.
        message: String,
    },
}

/// Looks a mapping path up in a record as MTS does (`.` + path as a jq program).
#[doc(hidden)]
pub fn lookup<'a>(record: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if !path.contains('.') {
        return record.get(path);
    }
    let mut parts = path.split('.');
    let mut current = record.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    Some(current)
}

/// What MTS's jq lookup gives in Python: `None` for a missing key or a JSON `null`.
fn present<'a>(record: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    lookup(record, path).filter(|v| !v.is_null())
}

/// Python's truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python's `len(value) == 0`, or the type name `len()` refuses.
fn has_no_length(value: &Value) -> Result<bool, &'static str> {
    match value {
        Value::String(s) => Ok(s.is_empty()),
        Value::Array(a) => Ok(a.is_empty()),
        Value::Object(o) => Ok(o.is_empty()),
        Value::Bool(_) => Err("bool"),
        Value::Number(n) if n.is_f64() => Err("float"),
        Value::Number(_) => Err("int"),
        Value::Null => Ok(true),
    }
}

fn refused(code: &'static str, message: &str) -> RecordCheck {
    RecordCheck::Refused(Refusal {
        code,
        message: message.to_owned(),
    })
}

/// MTS's validation of one record under `mapping`, in MTS's order (vid, name, gender, dob,
/// phoneNumber, emailId, fullAddress; the first failing check decides), with its codes and
/// messages:
///
/// - `vid` must be truthy (`ATS-REQ-009`);
/// - a list field (`name`, `fullAddress`) is missing only when **every** part is missing or
///   null (`ATS-REQ-010`, `ATS-REQ-015`), and empty when no part holds a value
///   (`ATS-REQ-003`, `ATS-REQ-008`); one part holding a value is enough;
/// - `gender` and `dob` are missing when absent or null (`ATS-REQ-011`, `ATS-REQ-012`), empty
///   when of length 0 (`ATS-REQ-004`, `ATS-REQ-006`), and crash the request when a boolean or
///   a number;
/// - `phoneNumber` and `emailId`, when mandatory, must not be missing (`ATS-REQ-013`,
///   `ATS-REQ-014`).
#[doc(hidden)]
pub fn mts_check(
    record: &Map<String, Value>,
    mapping: &Mapping,
    mandatory: &MandatoryFields,
) -> RecordCheck {
    if !lookup(record, &mapping.vid).is_some_and(truthy) {
        return refused(VID_MISSING, "vid or its mapping not present");
    }
    let wants = |field| mandatory.0.contains(&field);
    if wants(MtsField::Name)
        && let Some(check) = parts_check(
            record,
            &mapping.name,
            ("ATS-REQ-010", "name or its mapping not present"),
            ("ATS-REQ-003", "name is not provided"),
        )
    {
        return check;
    }
    for (field, path, missing, empty) in [
        (
            MtsField::Gender,
            &mapping.gender,
            ("ATS-REQ-011", "gender or its mapping not present"),
            ("ATS-REQ-004", "gender is empty"),
        ),
        (
            MtsField::Dob,
            &mapping.dob,
            ("ATS-REQ-012", "dateOfBirth or its mapping not present"),
            ("ATS-REQ-006", "date of birth is empty"),
        ),
    ] {
        if !wants(field) {
            continue;
        }
        match present(record, path).map(has_no_length) {
            None => return refused(missing.0, missing.1),
            Some(Ok(true)) => return refused(empty.0, empty.1),
            Some(Ok(false)) => {}
            Some(Err(type_name)) => {
                return RecordCheck::Crashes {
                    message: format!("object of type '{type_name}' has no len()"),
                };
            }
        }
    }
    for (field, path, code, message) in [
        (
            MtsField::PhoneNumber,
            &mapping.phone_number,
            "ATS-REQ-013",
            "phoneNumber or its mapping not present",
        ),
        (
            MtsField::EmailId,
            &mapping.email_id,
            "ATS-REQ-014",
            "emailId or its mapping not present",
        ),
    ] {
        if wants(field) && present(record, path).is_none() {
            return refused(code, message);
        }
    }
    if wants(MtsField::FullAddress)
        && let Some(check) = parts_check(
            record,
            &mapping.full_address,
            ("ATS-REQ-015", "fullAddress or its mapping not present"),
            ("ATS-REQ-008", "address is empty"),
        )
    {
        return check;
    }
    RecordCheck::Accepted
}

/// A mandatory list field: missing when no part is present, empty when none holds a value.
fn parts_check(
    record: &Map<String, Value>,
    paths: &[String],
    missing: (&'static str, &str),
    empty: (&'static str, &str),
) -> Option<RecordCheck> {
    let mut parts = paths.iter().filter_map(|p| present(record, p)).peekable();
    if parts.peek().is_none() {
        return Some(refused(missing.0, missing.1));
    }
    if !parts.any(truthy) {
        return Some(refused(empty.0, empty.1));
    }
    None
}

/// The refusal MTS would give `record` under `mapping`, or `None` when MTS accepts it (or
/// when the record would crash the whole request, see [`mts_check`]).
#[doc(hidden)]
pub fn mts_verdict(
    record: &Map<String, Value>,
    mapping: &Mapping,
    mandatory: &MandatoryFields,
) -> Option<Refusal> {
    match mts_check(record, mapping, mandatory) {
        RecordCheck::Refused(refusal) => Some(refusal),
        RecordCheck::Accepted | RecordCheck::Crashes { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verdicts_follow_mts_codes_and_messages() {
        let mapping = Mapping::default();
        let mandatory = MandatoryFields::default();
        let full = json!({"id": 1, "vid": "1", "given_name": "A", "family_name": "B",
                          "gender": "Male", "birthdate": "2000-01-01", "address": "X"});
        let full = full.as_object().unwrap().clone();
        assert_eq!(mts_verdict(&full, &mapping, &mandatory), None);
        type Case<'a> = (&'a [(&'a str, Value)], &'a str, &'a str);
        let cases: [Case; 12] = [
            (
                &[("vid", Value::Null)],
                "ATS-REQ-009",
                "vid or its mapping not present",
            ),
            (
                &[("vid", json!(""))],
                "ATS-REQ-009",
                "vid or its mapping not present",
            ),
            (
                &[("given_name", Value::Null), ("family_name", Value::Null)],
                "ATS-REQ-010",
                "name or its mapping not present",
            ),
            (
                &[("given_name", json!("")), ("family_name", json!(""))],
                "ATS-REQ-003",
                "name is not provided",
            ),
            (
                &[("gender", Value::Null)],
                "ATS-REQ-011",
                "gender or its mapping not present",
            ),
            (&[("gender", json!(""))], "ATS-REQ-004", "gender is empty"),
            (
                &[("birthdate", Value::Null)],
                "ATS-REQ-012",
                "dateOfBirth or its mapping not present",
            ),
            (
                &[("birthdate", json!(""))],
                "ATS-REQ-006",
                "date of birth is empty",
            ),
            (
                &[("address", Value::Null)],
                "ATS-REQ-015",
                "fullAddress or its mapping not present",
            ),
            (&[("address", json!(""))], "ATS-REQ-008", "address is empty"),
            (
                &[("vid", json!(0)), ("gender", json!(""))],
                "ATS-REQ-009",
                "vid or its mapping not present",
            ),
            (
                &[("gender", json!("")), ("address", json!(""))],
                "ATS-REQ-004",
                "gender is empty",
            ),
        ];
        for (edits, code, message) in cases {
            for absent in [false, true] {
                let mut r = full.clone();
                for (key, value) in edits {
                    if absent && value.is_null() {
                        r.remove(*key);
                    } else {
                        r.insert((*key).to_owned(), value.clone());
                    }
                }
                let refusal = mts_verdict(&r, &mapping, &mandatory).expect("refused");
                assert_eq!(
                    (refusal.code, refusal.message.as_str()),
                    (code, message),
                    "{edits:?}"
                );
            }
        }
        // One name part holding a value is enough.
        let mut r = full.clone();
        r.remove("family_name");
        assert_eq!(mts_verdict(&r, &mapping, &mandatory), None);
        let mut r = full.clone();
        r.remove("email");
        r.remove("gender");
        let relaxed = MandatoryFields([MtsField::Name].into_iter().collect());
        assert_eq!(mts_verdict(&r, &mapping, &relaxed), None);
        let strict = MandatoryFields([MtsField::EmailId].into_iter().collect());
        assert_eq!(
            mts_verdict(&r, &mapping, &strict).unwrap().code,
            "ATS-REQ-014"
        );
    }

    #[test]
    fn a_gender_or_dob_without_length_crashes_only_where_mts_reaches_it() {
        let mapping = Mapping::default();
        let mandatory = MandatoryFields::default();
        let record = |edits: Value| {
            let mut r = json!({"vid": "1", "given_name": "A", "gender": "Male",
                               "birthdate": "2000-01-01", "address": "X"});
            for (k, v) in edits.as_object().unwrap() {
                r[k] = v.clone();
            }
            r.as_object().unwrap().clone()
        };
        for (edits, type_name) in [
            (json!({"gender": false}), "bool"),
            (json!({"gender": 5}), "int"),
            (json!({"birthdate": 1.5}), "float"),
        ] {
            assert_eq!(
                mts_check(&record(edits), &mapping, &mandatory),
                RecordCheck::Crashes {
                    message: format!("object of type '{type_name}' has no len()")
                }
            );
        }
        // A record refused before its gender is looked at does not crash.
        let r = record(json!({"vid": null, "gender": false}));
        assert_eq!(
            mts_verdict(&r, &mapping, &mandatory).unwrap().code,
            "ATS-REQ-009"
        );
        let relaxed = MandatoryFields([MtsField::Name].into_iter().collect());
        let r = record(json!({"gender": false}));
        assert_eq!(mts_check(&r, &mapping, &relaxed), RecordCheck::Accepted);
    }

    #[test]
    fn nested_paths_are_followed() {
        let r = json!({"a": {"b": "x"}});
        assert_eq!(lookup(r.as_object().unwrap(), "a.b"), Some(&json!("x")));
        assert_eq!(lookup(r.as_object().unwrap(), "a.c"), None);
    }
}
