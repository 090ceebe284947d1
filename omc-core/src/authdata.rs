//! Building the `authdata` record MTS receives for a registrant: its key, the listed fields that
//! hold a value, and its VID.

use crate::pii::PersonalRecord;
use crate::registry::Candidate;
use serde_json::Value;

/// The key under which OMC puts its registrant key in every `authdata` record.
pub const REGISTRANT_KEY: &str = "id";

/// Builds the `authdata` record MTS receives for a candidate: its id under
/// [`REGISTRANT_KEY`], every listed field that holds a value, and the VID under `vid_key`.
///
/// Empty values are left out (Odoo's `false`, `null`, empty or blank strings): a `false` gender
/// or dob makes MTS refuse the whole batch, so none is ever sent; MTS's own rules then report
/// what is missing. The candidate is consumed: its field names and values move into the record
/// without being copied.
#[doc(hidden)]
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
}
