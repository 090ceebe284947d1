//! MTS's request envelope and its time format (`%Y-%m-%dT%H:%M:%S.%3fZ`, UTC).

use omc_core::sink::{CallbackAuth, Headers};
use omc_core::{Delivery, Mapping, PersonalRecord, SeedRequest};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Map, Value, json};
#[cfg(any(test, feature = "emulator"))]
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

/// The envelope strings MTS echoes (`id`, `version`, `metadata`).
#[derive(Debug, Clone)]
pub(crate) struct EnvelopeMeta {
    pub(crate) id: String,
    pub(crate) version: String,
    pub(crate) metadata: String,
}

impl Default for EnvelopeMeta {
    fn default() -> Self {
        Self {
            id: "mosip.token.seeder".into(),
            version: "1.0".into(),
            metadata: String::new(),
        }
    }
}

/// The body of `POST authtoken/json`, serialised once straight from the request (no JSON
/// tree of the records is built on the way). It holds personal data and secrets: never log it.
pub(crate) fn submission(
    meta: &EnvelopeMeta,
    request: &SeedRequest,
    delivery: &Delivery,
    now: SystemTime,
) -> Vec<u8> {
    let body = Submission {
        id: &meta.id,
        version: &meta.version,
        metadata: &meta.metadata,
        requesttime: format_time(now),
        request: Inner {
            output: "json",
            deliverytype: "callback",
            mapping: &request.mapping,
            lang: &request.lang,
            output_format: delivery.output_format.as_deref(),
            callback_properties: callback_properties(delivery),
            authdata: &request.authdata,
        },
    };
    // Sized for a typical record (~200 bytes) so the buffer seldom grows; serialising maps of
    // strings and numbers cannot fail.
    let mut bytes = Vec::with_capacity(1024 + 256 * request.authdata.len());
    match serde_json::to_writer(&mut bytes, &body) {
        Ok(()) => bytes,
        Err(_) => Vec::new(),
    }
}

/// MTS's envelope.
#[derive(Serialize)]
struct Submission<'a> {
    id: &'a str,
    version: &'a str,
    metadata: &'a str,
    requesttime: String,
    request: Inner<'a>,
}

/// MTS's `request`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Inner<'a> {
    output: &'static str,
    deliverytype: &'static str,
    mapping: &'a Mapping,
    lang: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_format: Option<&'a str>,
    callback_properties: Value,
    authdata: &'a [PersonalRecord],
}

fn callback_properties(delivery: &Delivery) -> Value {
    let mut props = Map::new();
    props.insert("url".into(), json!(delivery.url.as_str()));
    props.insert("httpMethod".into(), json!(delivery.http_method.as_str()));
    props.insert("extraHeaders".into(), headers(&delivery.extra_headers));
    props.insert("timeoutSeconds".into(), json!(delivery.timeout_seconds));
    props.insert("callInBulk".into(), json!(delivery.call_in_bulk));
    props.insert("authType".into(), json!(delivery.auth.auth_type()));
    match &delivery.auth {
        CallbackAuth::StaticBearer { token } => {
            props.insert(
                "authStaticBearer".into(),
                json!({"token": token.expose_secret()}),
            );
        }
        CallbackAuth::Odoo {
            auth_url,
            database,
            username,
            password,
            extra_headers,
        } => {
            props.insert(
                "authOdoo".into(),
                json!({
                    "authUrl": auth_url.as_str(),
                    "database": database,
                    "username": username,
                    "password": password.expose_secret(),
                    "extraHeaders": headers(extra_headers),
                }),
            );
        }
        _ => {}
    }
    Value::Object(props)
}

fn headers(headers: &Headers) -> Value {
    Value::Object(
        headers
            .iter()
            .map(|(name, value)| (name.clone(), json!(value.expose_secret())))
            .collect(),
    )
}

/// `time` as MTS writes and reads it: `2026-11-26T14:13:21.123Z`.
pub(crate) fn format_time(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Parses MTS's `%Y-%m-%dT%H:%M:%S.%fZ`: 1 to 6 fractional digits and a literal `Z`.
#[cfg(any(test, feature = "emulator"))]
pub(crate) fn parse_time(text: &str) -> Option<SystemTime> {
    let (main, fraction) = text.strip_suffix('Z')?.split_once('.')?;
    if fraction.is_empty() || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let b = main.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u64> {
        let part = main.get(range)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 61
    {
        return None;
    }
    let days = days_from_civil(year as i64, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + hour * 3600 + minute * 60 + second;
    let micros: u64 = format!("{fraction:0<6}").parse().ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros))
}

#[cfg(any(test, feature = "emulator"))]
fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u64, u64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The inverse of [`civil_from_days`].
#[cfg(any(test, feature = "emulator"))]
fn days_from_civil(year: i64, month: u64, day: u64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = month as i64;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_mts_time() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_702_401_123);
        assert_eq!(format_time(t), "2026-11-26T14:13:21.123Z");
        assert_eq!(parse_time("2026-11-26T14:13:21.123Z"), Some(t));
        assert_eq!(format_time(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_time(parse_time("2024-02-29T23:59:59.5Z").unwrap()),
            "2024-02-29T23:59:59.500Z"
        );
        assert!(parse_time("2026-11-26T14:13:21.123456Z").is_some());
        for bad in [
            "2026-11-26T14:13:21Z",
            "2026-11-26T14:13:21.123+00:00",
            "2026-11-26T14:13:21.1234567Z",
            "2026-11-26T14:13:21.Z",
            "2026-13-26T14:13:21.1Z",
            "2025-02-29T14:13:21.1Z",
            "2026-11-26 14:13:21.1Z",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
