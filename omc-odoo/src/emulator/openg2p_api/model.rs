//! OpenG2P 17's request model of `update_individual` (`UpdateIndividualInfoRequest`, pydantic
//! 2), checked as FastAPI checks it: every element of the list, every error collected, then one
//! 422 `{"detail": [{"type", "loc", "msg"}, ...]}`.
//!
//! The keys: `updateId` (string), `ids` (a list of `{"id_type", "value"}`, both non-empty
//! strings, with optional string `expiry_date`, `status`, `description`) and `name`,
//! `given_name`, `gender`, `birth_place` (string or null) are required; `family_name`,
//! `addl_name`, `email`, `address`, `image_1920` (string or null), `registration_date` and
//! `birthdate` (string: null is refused), `phone_numbers` (null or a list of
//! `{"phone_no", "date_collected"}`) and `is_group` (boolean) are optional; other keys are
//! ignored. Each error carries pydantic's `type`, `loc` and `msg`; the real API also echoes
//! the offending `input`, which the emulator leaves out (it is the caller's personal data).

use serde_json::{Map, Value, json};

/// Required, null allowed.
const NULLABLE: [&str; 4] = ["name", "given_name", "gender", "birth_place"];
/// Optional, null allowed.
const OPTIONAL_NULLABLE: [&str; 5] = ["family_name", "addl_name", "email", "address", "image_1920"];
/// Optional, a string when present (`str = Field(None)`: an explicit null is refused).
const OPTIONAL_STRING: [&str; 2] = ["registration_date", "birthdate"];

/// pydantic's errors, in order.
#[derive(Default)]
struct Errors(Vec<Value>);

impl Errors {
    fn add(&mut self, kind: &str, loc: &[Value], msg: &str) {
        let mut full = vec![json!("body")];
        full.extend_from_slice(loc);
        self.0.push(json!({"type": kind, "loc": full, "msg": msg}));
    }

    fn missing(&mut self, loc: &[Value]) {
        self.add("missing", loc, "Field required");
    }

    fn string(&mut self, loc: &[Value]) {
        self.add("string_type", loc, "Input should be a valid string");
    }
}

/// The elements of a body FastAPI accepts, or the `detail` list of its 422.
pub(super) fn validate(body: &[u8]) -> Result<Vec<Map<String, Value>>, Value> {
    let items = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            let mut errors = Errors::default();
            errors.add("list_type", &[], "Input should be a valid list");
            return Err(Value::Array(errors.0));
        }
        Err(e) => {
            let at = e.column().saturating_sub(1);
            return Err(json!([{"type": "json_invalid", "loc": ["body", at],
                               "msg": "JSON decode error", "ctx": {"error": "Expecting value"}}]));
        }
    };
    let mut errors = Errors::default();
    let mut elements = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        let at = json!(index);
        match item {
            Value::Object(map) => {
                element(&mut errors, &at, &map);
                elements.push(map);
            }
            _ => errors.add(
                "model_attributes_type",
                &[at],
                "Input should be a valid dictionary or object to extract fields from",
            ),
        }
    }
    if errors.0.is_empty() {
        Ok(elements)
    } else {
        Err(Value::Array(errors.0))
    }
}

/// One element's fields, in the model's order.
fn element(errors: &mut Errors, at: &Value, map: &Map<String, Value>) {
    let loc = |key: &str| [at.clone(), json!(key)];
    for key in NULLABLE {
        match map.get(key) {
            None => errors.missing(&loc(key)),
            Some(Value::Null | Value::String(_)) => {}
            Some(_) => errors.string(&loc(key)),
        }
    }
    match map.get("ids") {
        None => errors.missing(&loc("ids")),
        Some(Value::Array(ids)) => {
            for (i, id) in ids.iter().enumerate() {
                registrant_id(errors, &[at.clone(), json!("ids"), json!(i)], id);
            }
        }
        Some(_) => errors.add("list_type", &loc("ids"), "Input should be a valid list"),
    }
    for key in OPTIONAL_STRING {
        if map.get(key).is_some_and(|v| !v.is_string()) {
            errors.string(&loc(key));
        }
    }
    for key in OPTIONAL_NULLABLE {
        if map.get(key).is_some_and(|v| !v.is_null() && !v.is_string()) {
            errors.string(&loc(key));
        }
    }
    phones(errors, at, map.get("phone_numbers"));
    if let Some(value) = map.get("is_group")
        && boolean(value).is_none()
    {
        let (kind, msg) = if matches!(value, Value::String(_) | Value::Number(_)) {
            (
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            )
        } else {
            ("bool_type", "Input should be a valid boolean")
        };
        errors.add(kind, &loc("is_group"), msg);
    }
    match map.get("updateId") {
        None => errors.missing(&loc("updateId")),
        Some(Value::String(_)) => {}
        Some(_) => errors.string(&loc("updateId")),
    }
}

/// `RegistrantIDRequest`: `id_type` and `value` non-empty strings (checked in that order;
/// the message of an empty one is OpenG2P's validator's, which prints pydantic's
/// `ValidationInfo`), the rest optional strings.
fn registrant_id(errors: &mut Errors, loc: &[Value], id: &Value) {
    let Some(id) = id.as_object() else {
        errors.add(
            "model_attributes_type",
            loc,
            "Input should be a valid dictionary or object to extract fields from",
        );
        return;
    };
    let mut data = Vec::new();
    for key in ["id_type", "value"] {
        let at: Vec<Value> = loc.iter().cloned().chain([json!(key)]).collect();
        match id.get(key) {
            None => errors.missing(&at),
            Some(Value::String(s)) if s.is_empty() => {
                let info = format!(
                    "ValidationInfo(config={{'title': 'RegistrantIDRequest', 'from_attributes': \
                     True}}, context=None, data={{{}}}, field_name='{key}')",
                    data.join(", ")
                );
                errors.add(
                    "value_error",
                    &at,
                    &format!("Value error, {info} cannot be empty"),
                );
            }
            Some(Value::String(s)) => data.push(format!("'{key}': '{s}'")),
            Some(_) => errors.string(&at),
        }
    }
    for key in ["expiry_date", "status", "description"] {
        if id.get(key).is_some_and(|v| !v.is_string()) {
            let at: Vec<Value> = loc.iter().cloned().chain([json!(key)]).collect();
            errors.string(&at);
        }
    }
}

/// `phone_numbers`: null, or a list of `{"phone_no": string, "date_collected": string}`.
fn phones(errors: &mut Errors, at: &Value, value: Option<&Value>) {
    let list = match value {
        None | Some(Value::Null) => return,
        Some(Value::Array(list)) => list,
        Some(_) => {
            errors.add(
                "list_type",
                &[at.clone(), json!("phone_numbers")],
                "Input should be a valid list",
            );
            return;
        }
    };
    for (i, phone) in list.iter().enumerate() {
        let loc = [at.clone(), json!("phone_numbers"), json!(i)];
        let Some(phone) = phone.as_object() else {
            errors.add(
                "model_attributes_type",
                &loc,
                "Input should be a valid dictionary or object to extract fields from",
            );
            continue;
        };
        let field = |key: &str| -> Vec<Value> { loc.iter().cloned().chain([json!(key)]).collect() };
        match phone.get("phone_no") {
            None => errors.missing(&field("phone_no")),
            Some(Value::String(_)) => {}
            Some(_) => errors.string(&field("phone_no")),
        }
        if phone.get("date_collected").is_some_and(|v| !v.is_string()) {
            errors.string(&field("date_collected"));
        }
    }
}

/// pydantic 2's lax boolean.
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            _ => None,
        },
        _ => None,
    }
}

/// OpenG2P's reading of a date string (`%Y-%m-%d`, as Python's `strptime` takes it): `Ok(None)`
/// for an empty string, `Err` with its message (without the value) otherwise.
pub(super) fn date(text: &str) -> Result<Option<String>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, max: usize| {
        (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    if let [y, m, d] = parts[..]
        && let (Some(y), Some(m), Some(d)) = (number(y, 4), number(m, 2), number(d, 2))
        && parts[0].len() == 4
        && (1..=12).contains(&m)
        && (1..=days_in(y, m)).contains(&d)
    {
        return Ok(Some(format!("{y:04}-{m:02}-{d:02}")));
    }
    Err("time data does not match format '%Y-%m-%d'".into())
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_strptime_reads_them() {
        assert_eq!(date("2020-01-02"), Ok(Some("2020-01-02".into())));
        assert_eq!(date("2020-1-2"), Ok(Some("2020-01-02".into())));
        assert_eq!(date(""), Ok(None));
        for bad in ["2020/01/02", "2021-02-29", "20-01-02", "2020-13-01", "x"] {
            assert!(date(bad).is_err(), "{bad}");
        }
    }
}
