//! The date filters of the list pages (history, orders, audit log): `YYYY-MM-DD` days
//! in UTC, read from a form's `from` and `to` fields.

pub use crate::acceptors::history::DAY_MS;

/// Midnight UTC of a `YYYY-MM-DD` date, ms; `None` when it is not such a date.
pub fn day_start_ms(text: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// The date (`YYYY-MM-DD`, UTC) of a time in ms.
pub fn date_of(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The days `from` and `to` (both included, either may be empty) as `[from, to + 1 day)`
/// in ms. A field that is not a date is left out and named in `errors` with `message`.
pub fn day_range(
    from: &str,
    to: &str,
    message: &str,
    errors: &mut Vec<(&'static str, String)>,
) -> (Option<i64>, Option<i64>) {
    let mut day = |id: &'static str, text: &str| -> Option<i64> {
        if text.trim().is_empty() {
            return None;
        }
        let start = day_start_ms(text);
        if start.is_none() {
            errors.push((id, message.to_owned()));
        }
        start
    };
    let from_ms = day("from", from);
    let until_ms = day("to", to).map(|start| start + DAY_MS);
    (from_ms, until_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_midnights_and_the_range_includes_the_last_day() {
        assert_eq!(day_start_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(day_start_ms(" 2026-12-07 "), Some(1_796_601_600_000));
        assert_eq!(day_start_ms(" 2026-03-01 "), Some(1_772_323_200_000));
        assert_eq!(date_of(1_772_323_200_000 + 3_600_000), "2026-03-01");
        assert_eq!(day_start_ms("2026-02-30"), None);
        assert_eq!(day_start_ms("yesterday"), None);
        assert_eq!(day_start_ms("07/12/2026"), None);
        let mut errors = Vec::new();
        assert_eq!(
            day_range("1970-01-02", "1970-01-02", "bad", &mut errors),
            (Some(DAY_MS), Some(2 * DAY_MS))
        );
        assert_eq!(day_range("", "yesterday", "bad", &mut errors), (None, None));
        assert_eq!(errors, [("to", "bad".to_owned())]);
    }
}
