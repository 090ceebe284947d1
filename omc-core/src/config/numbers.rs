//! The whole-number settings and the values each accepts: one table, read by the loader, by
//! the checks of a configuration built in code, and by the messages of both.

use serde_json::Value;

/// Each whole-number setting with the smallest and largest value it accepts.
const RANGES: &[(&str, u64, u64)] = &[
    // A recurring job also needs at least 1 minute (checked with the job type).
    ("interval_minutes", 0, 527_040),
    ("batch_size", 1, 10_000),
    ("max_in_flight", 1, 16),
    // Bodies below this would carry one record each (the envelope takes 1–2 KiB).
    ("max_request_bytes", 16_384, 1 << 40),
    ("callback.timeout_seconds", 1, 600),
    ("runs.delta_overlap_minutes", 0, 1_440),
    ("runs.full_sweep_days", 1, 366),
    ("runs.max_attempts", 1, 100),
    ("runs.retention_days", 1, 3_660),
    ("runs.retry_seconds", 1, 86_400),
    ("runs.health_check_seconds", 1, 3_600),
];

/// The values `setting` accepts, if it is a whole-number setting.
pub(super) fn range(setting: &str) -> Option<(u64, u64)> {
    RANGES
        .iter()
        .find(|(name, _, _)| *name == setting)
        .map(|&(_, min, max)| (min, max))
}

/// Why `shown` (a value as the operator wrote it) is refused for `setting`.
pub(super) fn refusal(setting: &str, shown: &str) -> String {
    match range(setting) {
        Some((min, max)) => format!("{shown} is not a whole number from {min} to {max}"),
        None => format!("{shown} is not a number OMC can read"),
    }
}

/// `value` for `setting`, or why it is refused.
pub(super) fn whole(setting: &str, value: &Value) -> Result<u64, String> {
    let (min, max) = range(setting).unwrap_or((0, u64::MAX));
    let n = match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match (n, shown(value)) {
        (Some(n), _) if (min..=max).contains(&n) => Ok(n),
        (_, Some(shown)) => Err(refusal(setting, &shown)),
        (_, None) => Err(format!(
            "expected a whole number from {min} to {max}, found {}",
            super::read::kind(value)
        )),
    }
}

/// A scalar as the operator wrote it: numbers bare, other text quoted; `None` for lists and
/// tables.
fn shown(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::String(s) if looks_numeric(s.trim()) => Some(s.trim().to_owned()),
        Value::String(s) => Some(format!("'{s}'")),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Whether `text` is written as a number (`-3`, `2.5`, `1e999`, `0x10`, `99999999999999999999`,
/// TOML's `nan` and `inf`).
fn looks_numeric(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    matches!(digits, "nan" | "inf")
        || digits.starts_with(|c: char| c.is_ascii_digit())
            && digits
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_refusal_names_the_accepted_range() {
        assert_eq!(whole("max_in_flight", &json!(16)), Ok(16));
        assert_eq!(whole("max_in_flight", &json!("4")), Ok(4));
        for (value, shown) in [
            (json!(-3), "-3"),
            (json!(0), "0"),
            (json!(17), "17"),
            (json!(2.5), "2.5"),
            (json!("99999999999999999999"), "99999999999999999999"),
            (json!("1e999"), "1e999"),
            (json!("-nan"), "-nan"),
            (json!("four"), "'four'"),
            (json!(true), "true"),
        ] {
            assert_eq!(
                whole("max_in_flight", &value),
                Err(format!("{shown} is not a whole number from 1 to 16")),
            );
        }
        assert_eq!(
            whole("batch_size", &json!([1])),
            Err("expected a whole number from 1 to 10000, found a list".into())
        );
    }
}
