//! Reading what people and scripts send, the same way for both transports
//! (server functions from the UI and `/api/v1` from scripts): text fields
//! where empty means absent, times in the formats the console accepts,
//! numbers and lists, each mistake a validation error naming its field in
//! the caller's language.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{
    error::AppError,
    i18n::{Locale, td_string},
};

/// A text field: trimmed, and absent when empty.
pub fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// An RFC 3339 time (`2026-11-22T09:00:00+09:00`, with 0–9 fraction
/// digits), the one format every interface of the console accepts.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text.trim()).ok().map(|at| at.with_timezone(&Utc))
}

/// A point in time: RFC 3339 (`2026-11-22T09:00:00+09:00`, with 0–9
/// fraction digits), a local date and time in `tz` (`2026-11-22T09:00`,
/// `2026-11-22 09:00`, with or without seconds), or a date (`2026-11-22`,
/// the start of that day in `tz`).
pub fn parse_instant(text: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Some(at) = parse_rfc3339(text) {
        return Some(at);
    }
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(NaiveTime::MIN)))
        .ok()?;
    tz.from_local_datetime(&naive).earliest().map(|at| at.with_timezone(&Utc))
}

/// An optional time field (see [`parse_instant`]); a value that is not a
/// time is a validation error about `field`.
pub fn instant_field(
    locale: Locale,
    field: &str,
    value: Option<String>,
    tz: Tz,
) -> Result<Option<DateTime<Utc>>, AppError> {
    match non_empty(value) {
        None => Ok(None),
        Some(text) => parse_instant(&text, tz)
            .map(Some)
            .ok_or_else(|| AppError::validation(field, td_string!(locale, errors.invalid_time))),
    }
}

/// An optional whole-number field; anything else is a validation error
/// about `field` with `message`.
pub fn integer_field(
    field: &str,
    value: Option<String>,
    message: impl ToString,
) -> Result<Option<i64>, AppError> {
    match non_empty(value) {
        None => Ok(None),
        Some(text) => text.parse::<i64>().map(Some).map_err(|_| AppError::validation(field, message)),
    }
}

/// An optional id field (a positive whole number).
pub fn id_field(locale: Locale, field: &str, value: Option<String>) -> Result<Option<i64>, AppError> {
    let message = td_string!(locale, errors.invalid_id);
    match integer_field(field, value, message)? {
        Some(id) if id <= 0 => Err(AppError::validation(field, message)),
        other => Ok(other),
    }
}

/// A comma-separated list stored in one column, read back; parts that do
/// not parse are skipped.
pub fn split<T: std::str::FromStr>(text: &str) -> Vec<T> {
    text.split(',').filter_map(|s| s.trim().parse().ok()).collect()
}

/// A list stored as one comma-separated column.
pub fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo(text: &str) -> Option<String> {
        parse_instant(text, chrono_tz::Asia::Tokyo).map(|t| t.to_rfc3339())
    }

    #[test]
    fn times_are_read_as_rfc_3339_local_times_or_dates_in_the_zone() {
        assert_eq!(tokyo("2026-11-22T09:00:00+09:00").as_deref(), Some("2026-11-22T00:00:00+00:00"));
        assert_eq!(
            tokyo("2026-11-22T00:00:00.123456789Z").as_deref(),
            Some("2026-11-22T00:00:00.123456789+00:00")
        );
        assert_eq!(tokyo("2026-11-22T09:00").as_deref(), Some("2026-11-22T00:00:00+00:00"));
        assert_eq!(tokyo("2026-11-22 09:00:30").as_deref(), Some("2026-11-22T00:00:30+00:00"));
        assert_eq!(
            tokyo("2026-11-22").as_deref(),
            Some("2026-11-21T15:00:00+00:00"),
            "a date is its local midnight"
        );
        assert_eq!(tokyo("yesterday"), None);
        assert_eq!(tokyo("2026-13-01"), None);
    }

    #[test]
    fn bad_fields_are_named_in_their_errors() {
        let tz = chrono_tz::UTC;
        assert_eq!(instant_field(Locale::en, "since", Some("  ".into()), tz), Ok(None));
        match instant_field(Locale::en, "since", Some("yesterday".into()), tz) {
            Err(AppError::Validation { field, .. }) => assert_eq!(field.as_deref(), Some("since")),
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(matches!(id_field(Locale::ja, "job_id", Some("0".into())), Err(AppError::Validation { .. })));
        assert_eq!(id_field(Locale::ja, "job_id", Some(" 12 ".into())), Ok(Some(12)));
    }

    #[test]
    fn lists_round_trip_through_one_column() {
        assert_eq!(join(&[3, 1, 2]), "3,1,2");
        assert_eq!(split::<i64>("3, 1,x,2"), vec![3, 1, 2]);
        assert!(split::<i64>("").is_empty());
    }
}
