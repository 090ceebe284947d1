//! A criterion's value converted to its field's type, as Odoo 17 converts it before PostgreSQL
//! compares it (`field.convert_to_column`, then PostgreSQL's own reading of text).
//!
//! - A number field compared with text reads the text as a number (`"100.5"`).
//! - A boolean field compared with anything but a boolean takes Python's truth of it: the
//!   string `"false"` is true, `""` and `0` are false, and such a false never matches an unset
//!   value (only a boolean `false` does).
//! - A text field compared with a number compares the number's text.
//! - A date field compared with text reads it as PostgreSQL reads a date: a time after it is
//!   dropped (`"1980-05-01 12:00:00"` is `1980-05-01`), and `"19800501"`, `"1980-5-1"`,
//!   `"05/01/1980"`, `"May 1, 1980"` and `"1 May 1980"` are that day too.

use super::model::FieldType;
use serde_json::Value;

/// `value` converted to a field of type `ty` (unchanged for an unknown type, and for `false`
/// and `null`, which mean "unset" for every type).
pub(super) fn to_field(ty: Option<&FieldType>, value: &Value) -> Value {
    let Some(ty) = ty else {
        return value.clone();
    };
    if matches!(value, Value::Null | Value::Bool(false)) {
        return value.clone();
    }
    match (ty, value) {
        (_, Value::Array(items)) => {
            Value::Array(items.iter().map(|v| to_field(Some(ty), v)).collect())
        }
        (FieldType::Boolean, Value::Bool(_)) => value.clone(),
        (FieldType::Boolean, other) => Value::from(i64::from(truthy(other))),
        (FieldType::Integer | FieldType::Float, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| value.clone(), Value::Number),
        (FieldType::Integer | FieldType::Float, Value::Bool(true)) => Value::from(1),
        (FieldType::Char | FieldType::Text | FieldType::Selection, Value::Number(n)) => {
            Value::String(n.to_string())
        }
        (FieldType::Char | FieldType::Text | FieldType::Selection, Value::Bool(true)) => {
            Value::from("True")
        }
        (FieldType::Date, Value::String(s)) => {
            parse_date(s).map_or_else(|| value.clone(), Value::String)
        }
        _ => value.clone(),
    }
}

/// Python's truth of a JSON value: `false`, `null`, `0`, `""` and `[]` are false.
pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::Bool(true) => true,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// A date written as PostgreSQL reads one (ISO, `YYYYMMDD`, `M/D/YYYY`, month names, a time
/// after it dropped), as `"YYYY-MM-DD"`; `None` when it is not a date.
pub fn parse_date(text: &str) -> Option<String> {
    let text = text.trim();
    let bytes = text.as_bytes();
    if bytes.len() == 8 && bytes.iter().all(u8::is_ascii_digit) {
        return ymd(&text[..4], &text[4..6], &text[6..]);
    }
    // A time (or ISO's `T` and a time) after the date is dropped.
    let date = match text.find(['T', ' ']) {
        Some(at) if bytes.first().is_some_and(u8::is_ascii_digit) && is_time(&text[at + 1..]) => {
            &text[..at]
        }
        _ => text,
    };
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    if let [a, b, c] = parts[..] {
        return if a.len() == 4 {
            ymd(a, b, c)
        } else {
            ymd(c, a, b)
        };
    }
    let words: Vec<&str> = text.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    match words[..] {
        [m, d, y] if month(m).is_some() => ymd(y, &month(m)?.to_string(), d),
        [d, m, y] if month(m).is_some() => ymd(y, &month(m)?.to_string(), d),
        _ => None,
    }
}

/// A time of day after a date: `HH:MM`, with seconds, fractions and a zone.
fn is_time(text: &str) -> bool {
    let text = text.trim();
    text.len() >= 4
        && text.contains(':')
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ":.+-Z ".contains(c))
}

fn month(word: &str) -> Option<u32> {
    let lower = word.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == prefix)?;
    Some(index as u32 + 1)
}

fn ymd(year: &str, month: &str, day: &str) -> Option<String> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !all_digits(year) || !all_digits(month) || !all_digits(day) {
        return None;
    }
    let (y, m, d): (u32, u32, u32) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days)
        .contains(&d)
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_as_postgresql_reads_them() {
        for text in [
            "1980-05-01",
            "1980-05-01 12:00:00",
            "1980-05-01 23:59",
            "1980-05-01T10:00:00",
            "19800501",
            "1980-5-1",
            "1980/05/01",
            "05/01/1980",
            "May 1, 1980",
            "1 May 1980",
        ] {
            assert_eq!(parse_date(text).as_deref(), Some("1980-05-01"), "{text}");
        }
        for text in [
            "yesterday",
            "1980-02-30",
            "1980-13-01",
            "80-05-01",
            "",
            "1980-05-01 x",
        ] {
            assert_eq!(parse_date(text), None, "{text}");
        }
        assert_eq!(parse_date("1960-02-29").as_deref(), Some("1960-02-29"));
    }

    #[test]
    fn values_take_the_fields_type() {
        use FieldType::*;
        assert_eq!(to_field(Some(&Float), &json!("100.5")), json!(100.5));
        assert_eq!(to_field(Some(&Boolean), &json!("false")), json!(1));
        assert_eq!(to_field(Some(&Boolean), &json!("")), json!(0));
        assert_eq!(to_field(Some(&Boolean), &json!(false)), json!(false));
        assert_eq!(to_field(Some(&Char), &json!(50)), json!("50"));
        assert_eq!(
            to_field(Some(&Date), &json!("May 1, 1980")),
            json!("1980-05-01")
        );
        assert_eq!(to_field(None, &json!("100.5")), json!("100.5"));
        assert_eq!(
            to_field(Some(&Float), &json!(["1", false])),
            json!([1.0, false])
        );
    }
}
