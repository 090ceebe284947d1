//! The rows `OdooRegistry` reads, decoded straight from Odoo's answers (no JSON tree per page).

use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// The `g2p.reg.id` fields [`RegIdRow`] reads.
pub(super) const REG_ID_FIELDS: [&str; 4] = ["partner_id", "id_type", "value", "write_date"];

/// One `g2p.reg.id` row as read back (Odoo always sends its `id`): `partner_id` and `id_type`
/// are many2one pairs `[id, name]`. Only the partner's id is kept (a registrant without a name
/// reads back as `[id, false]` or `[id, ""]`, and the name is personal data anyway); `value`
/// is a string, or `false` when never set; `write_date` is `YYYY-MM-DD HH:MM:SS` (absent when
/// not asked for).
#[derive(Deserialize)]
pub(super) struct RegIdRow {
    pub(super) id: i64,
    #[serde(rename = "partner_id", deserialize_with = "many2one_id")]
    pub(super) partner: i64,
    #[serde(rename = "id_type", deserialize_with = "many2one_name")]
    pub(super) type_name: String,
    #[serde(default, deserialize_with = "text_or_false")]
    value: Option<String>,
    #[serde(rename = "write_date", default, deserialize_with = "text_or_false")]
    pub(super) written: Option<String>,
}

impl RegIdRow {
    /// The value when there is one: Odoo keeps an id set to `""` as `""` (only one never set
    /// reads `false`), and OpenG2P accepts both; neither is a VID or a token.
    pub(super) fn value(&self) -> Option<&str> {
        self.value.as_deref().filter(|v| !v.is_empty())
    }

    /// [`value`](Self::value), owned.
    pub(super) fn into_value(self) -> Option<String> {
        self.value.filter(|v| !v.is_empty())
    }
}

/// One `g2p.id.type` row: its id and `id_validation` (`false` when never set, `""` when
/// cleared; both mean none).
#[derive(Deserialize)]
pub(super) struct IdTypeRow {
    pub(super) id: i64,
    #[serde(default, deserialize_with = "text_or_false")]
    id_validation: Option<String>,
}

impl IdTypeRow {
    /// The pattern, when there is one.
    pub(super) fn into_validation(self) -> Option<String> {
        self.id_validation.filter(|p| !p.is_empty())
    }
}

fn many2one_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let (id, _name): (i64, IgnoredAny) = Deserialize::deserialize(d)?;
    Ok(id)
}

fn many2one_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let (_id, name): (IgnoredAny, String) = Deserialize::deserialize(d)?;
    Ok(name)
}

/// A string, or `None` for Odoo's `false` (or `null`).
fn text_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct TextOrFalse;
    impl<'de> Visitor<'de> for TextOrFalse {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or false")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(TextOrFalse)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::parse_rows;
    use crate::error::OdooError;

    const CONTEXT: &str = "g2p.reg.id.search_read";

    #[test]
    fn reg_id_rows_decode_without_a_json_tree() {
        let body = br#"{"jsonrpc": "2.0", "id": 3, "error": null, "result": [
            {"id": 9, "partner_id": [4, "Amina Banda"], "id_type": [2, "MOSIP VID"], "value": "123",
             "write_date": "2026-11-27 11:42:48"},
            {"id": 10, "partner_id": [5, false], "id_type": [3, "MOSIP UIN TOKEN"], "value": false},
            {"id": 11, "partner_id": [6, ""], "id_type": [3, "MOSIP UIN TOKEN"], "value": ""}
        ]}"#;
        let rows: Vec<RegIdRow> = parse_rows(body, CONTEXT).unwrap();
        let seen: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.partner,
                    r.type_name.as_str(),
                    r.value(),
                    r.written.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (4, "MOSIP VID", Some("123"), Some("2026-11-27 11:42:48")),
                (5, "MOSIP UIN TOKEN", None, None),
                (6, "MOSIP UIN TOKEN", None, None)
            ]
        );
    }

    #[test]
    fn id_type_rows_read_false_and_empty_as_no_pattern() {
        let body =
            br#"{"result": [{"id": 1, "id_validation": false}, {"id": 2, "id_validation": ""},
            {"id": 3, "id_validation": "[0-9]{4}"}]}"#;
        let rows: Vec<IdTypeRow> = parse_rows(body, "g2p.id.type.search_read").unwrap();
        let seen: Vec<_> = rows
            .into_iter()
            .map(|r| (r.id, r.into_validation()))
            .collect();
        assert_eq!(seen, [(1, None), (2, None), (3, Some("[0-9]{4}".into()))]);
    }

    #[test]
    fn odoo_errors_and_odd_shapes_are_named_without_values() {
        let denied = br#"{"jsonrpc": "2.0", "id": 3, "error": {"code": 200,
            "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.AccessError",
            "message": "secret-value"}}}"#;
        match parse_rows::<RegIdRow>(denied, CONTEXT) {
            Err(OdooError::Server { name, .. }) => assert_eq!(name, "odoo.exceptions.AccessError"),
            Err(other) => panic!("{other:?}"),
            Ok(rows) => panic!("{} rows", rows.len()),
        }
        for (body, problem) in [
            (
                &br#"{"result": [{"partner_id": false, "id_type": [2, "T"], "value": "secret-value"}]}"#[..],
                "a row does not have the fields asked for",
            ),
            (&br#"{"result": {"secret-value": 1}}"#[..], "the result is not a list"),
            (&br#"not json secret-value"#[..], "the body is not a JSON object"),
        ] {
            let Err(error) = parse_rows::<RegIdRow>(body, CONTEXT) else {
                panic!("{problem}: decoded")
            };
            let shown = format!("{error} {error:?}");
            assert!(shown.contains(problem), "{shown}");
            assert!(!shown.contains("secret-value"), "{shown}");
        }
    }
}
