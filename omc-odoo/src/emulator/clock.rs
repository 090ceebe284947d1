//! Odoo's date and datetime texts, without a date library.

use super::store::Row;
use serde_json::json;
use std::time::{SystemTime, UNIX_EPOCH};

/// Whether `text` is a date as Odoo sends it: `YYYY-MM-DD`.
pub(crate) fn is_date(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// Sets `write_date` (and `create_date` for a new row) to now, UTC.
pub(crate) fn stamp(row: &mut Row, new: bool) {
    let now = json!(now_utc());
    if new {
        row.insert("create_date".into(), now.clone());
    }
    row.insert("write_date".into(), now);
}

/// Now as Odoo sends datetimes: `YYYY-MM-DD HH:MM:SS`, UTC.
fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_look_like_odoo_datetimes() {
        let now = now_utc();
        assert_eq!(now.len(), 19, "{now}");
        assert!(now.starts_with("20"), "{now}");
        assert!(is_date("2001-02-03"));
        assert!(!is_date("2001/02/03"));
    }
}
