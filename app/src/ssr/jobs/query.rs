//! Reading the job and run list filters ([`JobQuery`], [`RunQuery`]) once,
//! for both transports, and the keyset cursors of those lists.

use base64::Engine;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::store::{jobs::JobFilter, runs::RunFilter, runs::RunRow};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::job::{JobQuery, JobSource, JobState, RunQuery, RunResult},
    ssr::infra::input::{id_field, instant_field, integer_field, non_empty, parse_rfc3339},
};

/// The default page size of lists.
pub const DEFAULT_LIMIT: i64 = 50;
/// The largest page.
pub const MAX_LIMIT: i64 = 500;

fn choice<T: Copy>(
    locale: Locale,
    field: &str,
    value: Option<String>,
    all: &[T],
    parse: impl Fn(&str) -> Option<T>,
    name: impl Fn(T) -> &'static str,
) -> Result<Option<T>, AppError> {
    match non_empty(value) {
        None => Ok(None),
        Some(text) => parse(&text.to_ascii_lowercase()).map(Some).ok_or_else(|| {
            let allowed = all.iter().map(|v| name(*v)).collect::<Vec<_>>().join(", ");
            AppError::validation(field, td_string!(locale, errors.invalid_choice, allowed = allowed))
        }),
    }
}

fn limit(locale: Locale, value: Option<String>) -> Result<i64, AppError> {
    let message = td_string!(locale, errors.not_a_number);
    Ok(integer_field("limit", value, message)?.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT))
}

/// A checked run list query: the filter, the page size.
#[derive(Debug, Clone, Default)]
pub struct RunList {
    /// What to list.
    pub filter: RunFilter,
    /// How many.
    pub limit: i64,
}

/// Reads a run query; a value that does not parse is a validation error
/// naming its field. Dates are read in `tz`.
pub fn runs(locale: Locale, tz: Tz, query: RunQuery) -> Result<RunList, AppError> {
    let result =
        choice(locale, "result", query.result, &RunResult::ALL, RunResult::parse, RunResult::as_str)?;
    let mut filter = RunFilter {
        job_id: id_field(locale, "job_id", query.job_id)?,
        result,
        tag: non_empty(query.tag).map(|t| t.to_lowercase()),
        since: instant_field(locale, "since", query.since, tz)?,
        until: instant_field(locale, "until", query.until, tz)?,
        before: None,
    };
    if let Some(cursor) = non_empty(query.cursor) {
        filter.before = Some(decode_run_cursor(&cursor, locale)?);
    }
    Ok(RunList { filter, limit: limit(locale, query.limit)? })
}

/// A checked job list query.
#[derive(Debug, Clone, Default)]
pub struct JobList {
    /// What to list.
    pub filter: JobFilter,
    /// How many.
    pub limit: i64,
}

/// Reads a job query; a value that does not parse is a validation error
/// naming its field.
pub fn jobs(locale: Locale, query: JobQuery) -> Result<JobList, AppError> {
    let mut filter = JobFilter {
        state: choice(locale, "state", query.state, &JobState::ALL, JobState::parse, JobState::as_str)?,
        tag: non_empty(query.tag).map(|t| t.to_lowercase()),
        source: choice(locale, "source", query.source, &JobSource::ALL, JobSource::parse, JobSource::as_str)?,
        search: non_empty(query.q),
        after_name: None,
    };
    if let Some(cursor) = non_empty(query.cursor) {
        filter.after_name = Some(decode_name_cursor(&cursor, locale)?);
    }
    Ok(JobList { filter, limit: limit(locale, query.limit)? })
}

fn bad_cursor(locale: Locale) -> AppError {
    AppError::validation("cursor", td_string!(locale, errors.invalid_cursor))
}

/// The job list's cursor: the last name of the previous page, base64url.
pub fn encode_name_cursor(name: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(name)
}

fn decode_name_cursor(cursor: &str, locale: Locale) -> Result<String, AppError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| bad_cursor(locale))
}

/// Keyset cursor of run lists: the last (started_at, id) seen.
pub fn encode_run_cursor(row: &RunRow) -> String {
    let raw = format!("{}|{}", row.started_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true), row.id);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn decode_run_cursor(cursor: &str, locale: Locale) -> Result<(DateTime<Utc>, i64), AppError> {
    let raw =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad_cursor(locale))?;
    let raw = String::from_utf8(raw).map_err(|_| bad_cursor(locale))?;
    let (at, id) = raw.split_once('|').ok_or_else(|| bad_cursor(locale))?;
    let at = parse_rfc3339(at).ok_or_else(|| bad_cursor(locale))?;
    Ok((at, id.parse().map_err(|_| bad_cursor(locale))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<RunList, AppError>) -> Option<String> {
        match result {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_run_filter_names_its_field() {
        let tz = chrono_tz::Asia::Tokyo;
        let bad = |q: RunQuery| field_of(runs(Locale::en, tz, q));
        assert_eq!(
            bad(RunQuery { result: Some("bogus".into()), ..Default::default() }).as_deref(),
            Some("result")
        );
        assert_eq!(
            bad(RunQuery { since: Some("yesterday".into()), ..Default::default() }).as_deref(),
            Some("since")
        );
        assert_eq!(
            bad(RunQuery { job_id: Some("x".into()), ..Default::default() }).as_deref(),
            Some("job_id")
        );
        assert_eq!(
            bad(RunQuery { limit: Some("many".into()), ..Default::default() }).as_deref(),
            Some("limit")
        );
        assert_eq!(
            bad(RunQuery { cursor: Some("%%".into()), ..Default::default() }).as_deref(),
            Some("cursor")
        );
    }

    #[test]
    fn a_good_run_filter_is_read_whole() {
        let query = RunQuery {
            job_id: Some("7".into()),
            result: Some("Failed".into()),
            tag: Some(" Tokyo ".into()),
            since: Some("2026-11-22".into()),
            until: Some("".into()),
            limit: Some("9999".into()),
            cursor: None,
        };
        let list = runs(Locale::ja, chrono_tz::Asia::Tokyo, query).unwrap_or_default();
        assert_eq!(list.filter.job_id, Some(7));
        assert_eq!(list.filter.result, Some(RunResult::Failed));
        assert_eq!(list.filter.tag.as_deref(), Some("tokyo"));
        assert_eq!(list.filter.since.map(|t| t.to_rfc3339()).as_deref(), Some("2026-11-21T15:00:00+00:00"));
        assert_eq!(list.filter.until, None);
        assert_eq!(list.limit, MAX_LIMIT);
    }

    #[test]
    fn a_bad_job_filter_names_its_field() {
        let bad = |q: JobQuery| match jobs(Locale::en, q) {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(
            bad(JobQuery { state: Some("exploded".into()), ..Default::default() }).as_deref(),
            Some("state")
        );
        assert_eq!(
            bad(JobQuery { source: Some("tape".into()), ..Default::default() }).as_deref(),
            Some("source")
        );
    }
}
