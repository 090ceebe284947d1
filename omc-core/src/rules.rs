//! MTS's per-record rules, applied by OMC before sending (and by the MTS emulator on receipt),
//! and the building of an `authdata` record from a registrant.
//!
//! MTS does not drop a record it refuses: it gives it a callback with `status: "invalid"` and a
//! code. OMC keeps such records out of the request and reports the code MTS would give.

use crate::pii::PersonalRecord;
use crate::registry::Candidate;
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
pub struct Refusal {
    /// MTS's code.
    pub code: &'static str,
    /// MTS-like message naming the field.
    pub message: String,
}

/// Looks a mapping path up in a record as MTS does (`.` + path as a jq program).
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

/// Whether a value counts as empty for MTS (after OMC's own cleaning: an empty string or list).
fn is_empty(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

/// The refusal MTS would give `record` under `mapping`, or `None` when MTS accepts it.
pub fn mts_verdict(
    record: &Map<String, Value>,
    mapping: &Mapping,
    mandatory: &MandatoryFields,
) -> Option<Refusal> {
    match lookup(record, &mapping.vid) {
        Some(v) if !is_empty(v) => {}
        _ => {
            return Some(Refusal {
                code: VID_MISSING,
                message: "vid missing".into(),
            });
        }
    }
    for field in &mandatory.0 {
        let paths: &[String] = match field {
            MtsField::Name => &mapping.name,
            MtsField::FullAddress => &mapping.full_address,
            MtsField::Gender => std::slice::from_ref(&mapping.gender),
            MtsField::Dob => std::slice::from_ref(&mapping.dob),
            _ => continue,
        };
        let Some((missing, empty)) = field.codes() else {
            continue;
        };
        for path in paths {
            match lookup(record, path) {
                None => {
                    return Some(Refusal {
                        code: missing,
                        message: format!("{} missing", field.as_str()),
                    });
                }
                Some(v) if is_empty(v) => {
                    return Some(Refusal {
                        code: empty,
                        message: format!("{} empty", field.as_str()),
                    });
                }
                Some(_) => {}
            }
        }
    }
    None
}

/// The key under which OMC puts its registrant key in every `authdata` record.
pub const REGISTRANT_KEY: &str = "id";

/// Builds the `authdata` record MTS receives for a candidate: its id under
/// [`REGISTRANT_KEY`], every listed field that holds a value, and the VID under `vid_key`.
///
/// Empty values are left out (Odoo's `false`, `null`, empty or blank strings): a `false` gender
/// or dob makes MTS refuse the whole batch, so none is ever sent; MTS's own rules then report
/// what is missing. The candidate is consumed: its field names and values move into the record
/// without being copied.
pub fn build_authdata(candidate: Candidate, fields: &[String], vid_key: &str) -> PersonalRecord {
    let Candidate {
        id,
        vid,
        fields: PersonalRecord(mut record),
        ..
    } = candidate;
    // The record is the candidate's own map, trimmed to the listed fields that hold a value:
    // nothing is copied or rebuilt.
    record.retain(|name, value| {
        name != REGISTRANT_KEY && fields.iter().any(|f| f == name) && clean(value)
    });
    record.insert(REGISTRANT_KEY.into(), Value::from(id.0));
    if let Some(vid) = vid {
        let vid = vid.into_inner();
        if !vid.trim().is_empty() {
            record.insert(vid_key.into(), Value::String(vid));
        }
    }
    PersonalRecord(record)
}

/// Makes a value ready to send, in place; `false` for Odoo's empty values. A many2one
/// `[id, name]` becomes its name; strings are trimmed (copied only when there is something to
/// trim).
fn clean(value: &mut Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => {
            let trimmed = s.trim();
            if trimmed.len() != s.len() {
                *s = trimmed.to_owned();
            }
            !s.is_empty()
        }
        Value::Array(items) if items.len() == 2 && items[0].is_i64() => match items.pop() {
            Some(Value::String(name)) if !name.trim().is_empty() => {
                *value = Value::String(name);
                true
            }
            _ => false,
        },
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::Vid;
    use crate::registry::RegistrantId;
    use serde_json::json;

    fn candidate(fields: Value, vid: Option<&str>) -> Candidate {
        Candidate::new(
            RegistrantId(7),
            vid.map(Vid::new),
            false,
            PersonalRecord(fields.as_object().unwrap().clone()),
        )
    }

    fn fields() -> Vec<String> {
        crate::config::default_fields()
    }

    #[test]
    fn odoo_false_and_blank_are_left_out() {
        let c = candidate(
            json!({"given_name": "A", "family_name": "B", "gender": false, "birthdate": "",
                   "address": "  ", "email": null, "phone": "1"}),
            Some("123"),
        );
        let record = build_authdata(c, &fields(), "vid");
        let keys: Vec<_> = record.0.keys().cloned().collect();
        assert_eq!(keys, ["family_name", "given_name", "id", "phone", "vid"]);
        assert_eq!(record.0["id"], json!(7));
    }

    #[test]
    fn verdicts_follow_mts_codes() {
        let mapping = Mapping::default();
        let mandatory = MandatoryFields::default();
        let full = json!({"id": 1, "vid": "1", "given_name": "A", "family_name": "B",
                          "gender": "Male", "birthdate": "2000-01-01", "address": "X"});
        let full = full.as_object().unwrap().clone();
        assert_eq!(mts_verdict(&full, &mapping, &mandatory), None);
        for (key, code) in [
            ("vid", "ATS-REQ-009"),
            ("given_name", "ATS-REQ-010"),
            ("family_name", "ATS-REQ-010"),
            ("gender", "ATS-REQ-011"),
            ("birthdate", "ATS-REQ-012"),
            ("address", "ATS-REQ-015"),
        ] {
            let mut r = full.clone();
            r.remove(key);
            assert_eq!(
                mts_verdict(&r, &mapping, &mandatory).unwrap().code,
                code,
                "{key}"
            );
        }
        let mut r = full.clone();
        r.insert("gender".into(), json!(""));
        assert_eq!(
            mts_verdict(&r, &mapping, &mandatory).unwrap().code,
            "ATS-REQ-004"
        );
        let mut r = full;
        r.remove("email");
        r.remove("gender");
        let relaxed = MandatoryFields([MtsField::Name].into_iter().collect());
        assert_eq!(mts_verdict(&r, &mapping, &relaxed), None);
    }

    #[test]
    fn nested_paths_are_followed() {
        let r = json!({"a": {"b": "x"}});
        assert_eq!(lookup(r.as_object().unwrap(), "a.b"), Some(&json!("x")));
        assert_eq!(lookup(r.as_object().unwrap(), "a.c"), None);
    }
}
