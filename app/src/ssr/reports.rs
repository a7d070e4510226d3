//! Reports (the design's ReportService): figures for a period and filters
//! computed from the daily roll-ups, shown on `/reports`, answered as JSON,
//! CSV or PDF, and e-mailed on a schedule through the notification outbox.
//!
//! - [`figures`]: the pure arithmetic (SLA, RPO compliance, percentiles).
//! - [`csv`] and [`pdf`]: the exports, from a computed [`Report`].
//! - [`schedules`]: scheduled report e-mails ([`occurrence`]: when;
//!   [`mail`]: the summary in the body; [`store`]: their tables).

pub mod csv;
pub mod mail;
pub mod occurrence;
pub mod pdf;
pub mod schedules;
pub mod store;

use crate::{i18n::Locale, model::report::Report};

/// The file name of an export: `backup-report-2026-11-01-2026-11-30.csv`.
pub fn file_name(report: &Report, extension: &str) -> String {
    format!("backup-report-{}-{}.{extension}", report.period.from, report.period.until)
}

/// The language of an export when the query names none.
pub fn default_locale() -> Locale {
    Locale::ja
}

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::{
    error::AppError,
    model::{
        job::JobSource,
        report::{GroupBy, ReportFormat, ReportPeriod, ReportQuery},
    },
    ssr::{accounts::RequestInfo, infra::state::AppState},
};

/// A report's period and filters, checked and resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The period.
    pub period: ReportPeriod,
    /// The previous period of the same length.
    pub previous: ReportPeriod,
    /// Grouping of rows.
    pub group_by: GroupBy,
    /// Only jobs with this tag.
    pub tag: Option<String>,
    /// Only jobs from this source.
    pub source: Option<JobSource>,
    /// Only jobs of this Veeam server.
    pub veeam_server_id: Option<i64>,
    /// Only these jobs (empty: all).
    pub job_ids: Vec<i64>,
}

/// What a query asks for: the report, its format and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Period and filters.
    pub spec: ReportSpec,
    /// Format.
    pub format: ReportFormat,
    /// Language of an export (CSV column names, PDF).
    pub locale: Locale,
}

/// Checks a query and resolves its period in `tz` with `today` as today;
/// `locale` is the caller's language (for messages and the default export
/// language).
pub fn resolve(query: &ReportQuery, tz: Tz, today: NaiveDate, locale: Locale) -> Result<Resolved, AppError> {
    let _ = (query, tz, today, locale);
    todo!("core")
}

/// Computes the report `spec` describes at `now`.
pub async fn compute(state: &AppState, spec: &ReportSpec, now: DateTime<Utc>) -> Result<Report, AppError> {
    let _ = (state, spec, now);
    todo!("core")
}

/// The report a signed-in user or a `read` token asks for.
pub async fn summary(state: &AppState, info: &RequestInfo, query: &ReportQuery) -> Result<Report, AppError> {
    let _ = (state, info, query);
    todo!("core")
}

/// A file made from a report.
#[derive(Debug, Clone)]
pub struct Export {
    /// `text/csv; charset=utf-8`, `application/pdf` or `application/json`.
    pub content_type: &'static str,
    /// Suggested file name.
    pub file_name: String,
    /// The bytes.
    pub body: Vec<u8>,
}

/// The report a query asks for, in the format it asks for.
pub async fn export(state: &AppState, info: &RequestInfo, query: &ReportQuery) -> Result<Export, AppError> {
    let _ = (state, info, query);
    todo!("core")
}
