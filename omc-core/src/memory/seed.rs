//! [`RegistrantSeed`]: a registrant as a test, an emulator or the in-memory registry is seeded
//! with.

use crate::pii::{PersonalRecord, Token, Vid};
use crate::registry::RegistrantId;
use serde_json::{Map, Value};
use std::fmt;

/// A registrant as a test or an emulator seeds it: `res.partner` fields plus its ids.
#[derive(Clone)]
pub struct RegistrantSeed {
    /// The registrant's key.
    pub id: RegistrantId,
    /// `res.partner` fields (`name`, `given_name`, `family_name`, `birthdate`, `gender`,
    /// `address`, `email`, `phone`, `is_registrant`, `is_group`, `active`, ...).
    pub fields: PersonalRecord,
    /// Its id of the VID type, if any.
    pub vid: Option<Vid>,
    /// Its id of the token type, if any.
    pub token: Option<Token>,
}

impl fmt::Debug for RegistrantSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrantSeed")
            .field("id", &self.id)
            .field("fields", &self.fields)
            .field("has_vid", &self.vid.is_some())
            .field("has_token", &self.token.is_some())
            .finish()
    }
}

impl RegistrantSeed {
    /// An active individual registrant with the given fields and VID.
    pub fn individual(id: i64, fields: Value, vid: Option<&str>) -> Self {
        let mut map = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        map.entry("is_registrant").or_insert(Value::Bool(true));
        map.entry("is_group").or_insert(Value::Bool(false));
        map.entry("active").or_insert(Value::Bool(true));
        if !map.contains_key("name") {
            let part = |k: &str| map.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let (family, given) = (part("family_name"), part("given_name"));
            let name = match (family.is_empty(), given.is_empty()) {
                (false, false) => format!("{family}, {given}"),
                (false, true) => family,
                (true, false) => given,
                (true, true) => String::new(),
            };
            map.insert(
                "name".into(),
                if name.is_empty() {
                    Value::Bool(false)
                } else {
                    Value::String(name)
                },
            );
        }
        Self {
            id: RegistrantId(id),
            fields: PersonalRecord(map),
            vid: vid.map(Vid::new),
            token: None,
        }
    }
}
