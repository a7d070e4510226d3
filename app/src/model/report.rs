//! Reports: what management and auditors are handed ("were all backups
//! taken, and if not, when and why"). One [`Report`] is computed for a
//! period and filters ([`ReportQuery`]) and shown on `/reports`, answered
//! as JSON, or written as CSV or PDF from the same data.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::job::{JobSource, RunResult};

/// A period a report covers, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportPreset {
    /// The day before today.
    Yesterday,
    /// The last 7 days, today included.
    #[serde(rename = "last_7_days")]
    Last7Days,
    /// The last 30 days, today included.
    #[default]
    #[serde(rename = "last_30_days")]
    Last30Days,
    /// The previous calendar month.
    LastMonth,
    /// This calendar month up to today.
    ThisMonth,
    /// `from` to `until`.
    Custom,
}

impl ReportPreset {
    /// Every preset, in the order the page offers them.
    pub const ALL: [ReportPreset; 6] = [
        ReportPreset::Yesterday,
        ReportPreset::Last7Days,
        ReportPreset::Last30Days,
        ReportPreset::LastMonth,
        ReportPreset::ThisMonth,
        ReportPreset::Custom,
    ];

    /// The name in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportPreset::Yesterday => "yesterday",
            ReportPreset::Last7Days => "last_7_days",
            ReportPreset::Last30Days => "last_30_days",
            ReportPreset::LastMonth => "last_month",
            ReportPreset::ThisMonth => "this_month",
            ReportPreset::Custom => "custom",
        }
    }

    /// Parses a name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

/// How the rows of a report are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    /// One row per job.
    #[default]
    Job,
    /// One row per tag (a job with several tags is in each).
    Tag,
    /// One row per source (`push`, `veeam`).
    Source,
}

impl GroupBy {
    /// Every grouping.
    pub const ALL: [GroupBy; 3] = [GroupBy::Job, GroupBy::Tag, GroupBy::Source];

    /// The name in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Job => "job",
            GroupBy::Tag => "tag",
            GroupBy::Source => "source",
        }
    }

    /// Parses a name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }
}

/// What a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// [`Report`] as JSON.
    #[default]
    Json,
    /// One row per job, UTF-8 with a byte order mark (for Excel).
    Csv,
    /// A4 document.
    Pdf,
}

impl ReportFormat {
    /// The name in queries.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Pdf => "pdf",
        }
    }

    /// Parses a name.
    pub fn parse(value: &str) -> Option<Self> {
        [ReportFormat::Json, ReportFormat::Csv, ReportFormat::Pdf].into_iter().find(|f| f.as_str() == value)
    }
}

/// The period and filters of a report, as the page's form and
/// `GET /api/v1/reports/summary` send them. Every field is optional: the
/// default is the last 30 days of all jobs, one row per job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct ReportQuery {
    /// `yesterday`, `last_7_days`, `last_30_days` (default), `last_month`,
    /// `this_month` or `custom` (implied by `from`/`until`).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(pattern = r"^(|yesterday|last_7_days|last_30_days|last_month|this_month|custom)$")
    )]
    pub period: Option<String>,
    /// First day (`YYYY-MM-DD`, in the console's time zone), included.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|[0-9]{4}-[0-9]{2}-[0-9]{2})$"))]
    pub from: Option<String>,
    /// Last day (`YYYY-MM-DD`), included; default today.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|[0-9]{4}-[0-9]{2}-[0-9]{2})$"))]
    pub until: Option<String>,
    /// `job` (default), `tag` or `source`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|job|tag|source)$"))]
    pub group_by: Option<String>,
    /// Only jobs with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Only `push` or `veeam` jobs.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|push|veeam)$"))]
    pub source: Option<String>,
    /// Only the jobs of this Veeam server (its id).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|[0-9]{1,18})$"))]
    pub veeam_server_id: Option<String>,
    /// Only these jobs: ids separated by commas.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|[0-9]{1,18}(,[0-9]{1,18}){0,499})$"))]
    pub job_id: Option<String>,
    /// `json` (default), `csv` or `pdf`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|json|csv|pdf)$"))]
    pub format: Option<String>,
    /// Language of CSV column names and of the PDF: `ja` or `en` (default:
    /// the caller's language).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^(|ja|en)$"))]
    pub lang: Option<String>,
}

/// The days a report covers, in the console's time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportPeriod {
    /// How it was chosen.
    pub preset: ReportPreset,
    /// First day, included.
    pub from: NaiveDate,
    /// Last day, included.
    pub until: NaiveDate,
    /// Number of days.
    pub days: i64,
    /// The console's time zone the days are in (IANA name).
    pub time_zone: String,
}

/// The filters a report was made with, resolved to names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportFilters {
    /// How rows are grouped.
    pub group_by: GroupBy,
    /// Tag.
    pub tag: Option<String>,
    /// Source.
    pub source: Option<JobSource>,
    /// Veeam server: id and name.
    pub veeam_server: Option<ReportRef>,
    /// Chosen jobs (empty: all that match the other filters).
    pub jobs: Vec<ReportRef>,
}

/// Something a report names: an id and a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// The figures of a job, a group of jobs or the whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportFigures {
    /// Runs that ended (success + warning + failed), missed ones not included.
    pub runs: i64,
    /// Succeeded.
    pub success: i64,
    /// Ended with a warning.
    pub warning: i64,
    /// Failed.
    pub failed: i64,
    /// Expected runs that did not happen.
    pub missed: i64,
    /// (success + warning) ÷ runs, 0 to 1; absent without runs.
    pub success_rate: Option<f64>,
    /// Expected runs (slots of the schedule; closed days have none).
    pub expected: i64,
    /// Expected runs answered by a run that ended in success or warning.
    pub expected_ok: i64,
    /// `expected_ok` ÷ `expected`, 0 to 1; absent when nothing was expected.
    pub sla: Option<f64>,
    /// Median duration of ended runs, seconds (from a histogram: within 10 %).
    pub duration_p50_seconds: Option<i64>,
    /// 95th percentile duration, seconds (within 10 %).
    pub duration_p95_seconds: Option<i64>,
    /// Longest run, seconds.
    pub duration_max_seconds: Option<i64>,
    /// Bytes processed in the period.
    pub bytes: i64,
    /// Bytes processed in the previous period of the same length.
    pub bytes_previous: i64,
    /// Target RPO, hours (a job's own; absent for groups).
    pub rpo_hours: Option<i64>,
    /// Share of the period during which the newest good backup was younger
    /// than the target, 0 to 1 (for a group: the mean over its jobs with a
    /// target); absent without a target.
    pub rpo_compliance: Option<f64>,
    /// Longest time without a good backup in the period, seconds.
    pub rpo_longest_gap_seconds: Option<i64>,
    /// Successful runs flagged as anomalies.
    pub anomalies: i64,
}

/// One row of a report: a job, a tag or a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportRow {
    /// The job's id, the tag or the source.
    pub key: String,
    /// The job's name, the tag or the source.
    pub name: String,
    /// The job (rows by job).
    pub job_id: Option<i64>,
    /// The job's source (rows by job).
    pub source: Option<JobSource>,
    /// The job's tags (rows by job).
    pub tags: Vec<String>,
    /// Jobs in the row.
    pub jobs: i64,
    /// The figures.
    pub figures: ReportFigures,
}

/// One day of the whole report (for the charts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportDay {
    /// The day.
    pub day: NaiveDate,
    /// Whether it is a closed day of the business calendar.
    pub closed: bool,
    /// Succeeded.
    pub success: i64,
    /// Warnings.
    pub warning: i64,
    /// Failed.
    pub failed: i64,
    /// Missed.
    pub missed: i64,
    /// (success + warning) ÷ ended runs, absent without runs.
    pub success_rate: Option<f64>,
    /// Mean duration of the day's ended runs, seconds.
    pub duration_mean_seconds: Option<i64>,
    /// Bytes processed.
    pub bytes: i64,
}

/// A failed or missed run in the period, with who acknowledged it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportFailure {
    /// The run.
    pub run_id: i64,
    /// Its job.
    pub job_id: i64,
    /// The job's name.
    pub job_name: String,
    /// `failed` or `missed`.
    pub result: RunResult,
    /// Start (for a missed run: when it was expected).
    pub started_at: DateTime<Utc>,
    /// The run's message.
    pub message: Option<String>,
    /// Who acknowledged the problem, when someone did.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Their comment.
    pub acknowledgement_comment: Option<String>,
}

/// What kind of anomaly a successful run shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AnomalyKind {
    /// Far fewer bytes than usual: an empty or partial backup that "succeeded".
    BytesSmall,
    /// Far more bytes than usual: data churn, such as ransomware encryption.
    BytesLarge,
    /// Far shorter than usual.
    DurationShort,
    /// Far longer than usual.
    DurationLong,
}

impl AnomalyKind {
    /// Every kind.
    pub const ALL: [AnomalyKind; 4] = [
        AnomalyKind::BytesSmall,
        AnomalyKind::BytesLarge,
        AnomalyKind::DurationShort,
        AnomalyKind::DurationLong,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyKind::BytesSmall => "bytes_small",
            AnomalyKind::BytesLarge => "bytes_large",
            AnomalyKind::DurationShort => "duration_short",
            AnomalyKind::DurationLong => "duration_long",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// Whether it is about bytes (else duration).
    pub fn is_bytes(self) -> bool {
        matches!(self, AnomalyKind::BytesSmall | AnomalyKind::BytesLarge)
    }
}

#[cfg(feature = "ssr")]
super::text_enum!(AnomalyKind, "anomaly kind");

/// A successful run far outside its job's recent pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunAnomaly {
    /// What is unusual.
    pub kind: AnomalyKind,
    /// The run's value (bytes or seconds).
    pub value: i64,
    /// The median of the job's recent successful runs (bytes or seconds).
    pub median: i64,
}

/// An anomaly in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportAnomaly {
    /// The run.
    pub run_id: i64,
    /// Its job.
    pub job_id: i64,
    /// The job's name.
    pub job_name: String,
    /// Its start.
    pub started_at: DateTime<Utc>,
    /// What is unusual.
    pub anomaly: RunAnomaly,
}

/// A report: figures for a period and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Report {
    /// The period.
    pub period: ReportPeriod,
    /// The previous period of the same length (for trends).
    pub previous: ReportPeriod,
    /// The filters.
    pub filters: ReportFilters,
    /// When it was computed.
    pub generated_at: DateTime<Utc>,
    /// All jobs of the report together.
    pub totals: ReportFigures,
    /// Jobs in the report.
    pub job_count: i64,
    /// Rows as grouped, worst first (lowest SLA, then RPO compliance).
    pub rows: Vec<ReportRow>,
    /// One row per job, worst first (the same as `rows` when grouped by job).
    pub jobs: Vec<ReportRow>,
    /// Every day of the period, oldest first.
    pub days: Vec<ReportDay>,
    /// Failed and missed runs, newest first (at most [`MAX_LISTED`]).
    pub failures: Vec<ReportFailure>,
    /// How many failed and missed runs there were in all.
    pub failures_total: i64,
    /// Anomalies, newest first (at most [`MAX_LISTED`]).
    pub anomalies: Vec<ReportAnomaly>,
}

/// The most failures or anomalies a report lists one by one.
pub const MAX_LISTED: usize = 500;

/// A rate (0 to 1) as a percentage with one decimal: "99.5 %".
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.1} %", (r * 1000.0).round() / 10.0),
        None => "–".to_owned(),
    }
}

// ---------------------------------------------------------------- scheduled report e-mails

/// How often a scheduled report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every day.
    Daily,
    /// Once a week, on `weekday`.
    Weekly,
    /// Once a month, on `month_day`.
    #[default]
    Monthly,
}

impl Cadence {
    /// Every cadence.
    pub const ALL: [Cadence; 3] = [Cadence::Daily, Cadence::Weekly, Cadence::Monthly];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// The period a report of this cadence usually covers.
    pub fn usual_period(self) -> ReportPreset {
        match self {
            Cadence::Daily => ReportPreset::Yesterday,
            Cadence::Weekly => ReportPreset::Last7Days,
            Cadence::Monthly => ReportPreset::LastMonth,
        }
    }
}

#[cfg(feature = "ssr")]
super::text_enum!(Cadence, "cadence");

/// The weekday names a weekly schedule takes, Monday first.
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The presets a schedule may cover (not `custom`: a schedule's period
/// moves with each occurrence).
pub const SCHEDULE_PERIODS: [ReportPreset; 5] = [
    ReportPreset::Yesterday,
    ReportPreset::Last7Days,
    ReportPreset::Last30Days,
    ReportPreset::LastMonth,
    ReportPreset::ThisMonth,
];

/// A scheduled report e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportSchedule {
    /// Id.
    pub id: i64,
    /// Name (unique).
    pub name: String,
    /// Whether it is sent.
    pub enabled: bool,
    /// `daily`, `weekly` or `monthly`.
    pub cadence: Cadence,
    /// Weekly: `mon` … `sun`.
    pub weekday: Option<String>,
    /// Monthly: `1` … `28` or `last`.
    pub month_day: Option<String>,
    /// `HH:MM` in `time_zone`.
    pub time_of_day: String,
    /// IANA time zone of `time_of_day` and of the report's days.
    pub time_zone: String,
    /// The period each e-mail covers, as of its occurrence.
    pub period: ReportPreset,
    /// How rows are grouped.
    pub group_by: GroupBy,
    /// Only jobs with this tag.
    pub tag: Option<String>,
    /// Only jobs from this source.
    pub source: Option<JobSource>,
    /// Only jobs of this Veeam server.
    pub veeam_server_id: Option<i64>,
    /// Only these jobs (empty: all).
    pub job_ids: Vec<i64>,
    /// Language of the e-mail and the PDF: `ja` or `en`.
    pub lang: String,
    /// The e-mail channels it is sent to.
    pub channel_ids: Vec<i64>,
    /// Who created it.
    pub created_by: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
    /// The next occurrence.
    pub next_send_at: DateTime<Utc>,
    /// When it was last queued for sending.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// The first day of the period last sent.
    pub last_period_from: Option<NaiveDate>,
    /// The last day of the period last sent.
    pub last_period_until: Option<NaiveDate>,
}

/// A new scheduled report, or all of one's fields (`POST`, and the form).
/// Rules JSON Schema cannot say are checked with a field-named 422:
/// `weekday` only (and required) for `weekly`, `month_day` only (and
/// required) for `monthly`, `time_zone` an IANA zone, `channel_ids`
/// existing e-mail channels, the name unused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportScheduleInput {
    /// Name (1–200 characters, not counting spaces around it; unique).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: String,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `daily`, `weekly` or `monthly`.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(daily|weekly|monthly)$"))]
    pub cadence: String,
    /// Weekly only (and then required): `mon` … `sun`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(mon|tue|wed|thu|fri|sat|sun)$"))]
    pub weekday: Option<String>,
    /// Monthly only (and then required): `1` … `28` or `last`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^([1-9]|1[0-9]|2[0-8]|last)$"))]
    pub month_day: Option<String>,
    /// `HH:MM`, 24-hour.
    #[cfg_attr(feature = "ssr", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub time_of_day: String,
    /// IANA time zone (default: the console's).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 64, pattern = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
    )]
    pub time_zone: Option<String>,
    /// `yesterday`, `last_7_days`, `last_30_days`, `last_month` or
    /// `this_month` (default: daily → yesterday, weekly → last_7_days,
    /// monthly → last_month).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = "^(yesterday|last_7_days|last_30_days|last_month|this_month)$")
    )]
    pub period: Option<String>,
    /// `job` (default), `tag` or `source`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(job|tag|source)$"))]
    pub group_by: Option<String>,
    /// Only jobs with this tag (at most 100 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub tag: Option<String>,
    /// Only `push` or `veeam` jobs.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(push|veeam)$"))]
    pub source: Option<String>,
    /// Only the jobs of this Veeam server.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1))]
    pub veeam_server_id: Option<i64>,
    /// Only these jobs (at most 500; default all).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 500))]
    pub job_ids: Option<Vec<i64>>,
    /// `ja` (default) or `en`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(ja|en)$"))]
    pub lang: Option<String>,
    /// E-mail channels, at least one (at most 50), each an existing channel of kind `email`.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 50))]
    pub channel_ids: Vec<i64>,
}

/// A change to a scheduled report (`PATCH`): fields left out are kept.
/// `tag`, `source` and `veeam_server_id` are cleared with `""`, `""` and
/// `0`; `weekday` and `month_day` are dropped when the cadence no longer
/// takes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportSchedulePatch {
    /// Name (1–200 characters; unique).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: Option<String>,
    /// Whether it is sent.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `daily`, `weekly` or `monthly`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(daily|weekly|monthly)$"))]
    pub cadence: Option<String>,
    /// `mon` … `sun` (weekly).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(mon|tue|wed|thu|fri|sat|sun)$"))]
    pub weekday: Option<String>,
    /// `1` … `28` or `last` (monthly).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^([1-9]|1[0-9]|2[0-8]|last)$"))]
    pub month_day: Option<String>,
    /// `HH:MM`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"))]
    pub time_of_day: Option<String>,
    /// IANA time zone.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 64, pattern = r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")
    )]
    pub time_zone: Option<String>,
    /// The period each e-mail covers.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = "^(yesterday|last_7_days|last_30_days|last_month|this_month)$")
    )]
    pub period: Option<String>,
    /// `job`, `tag` or `source`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(job|tag|source)$"))]
    pub group_by: Option<String>,
    /// Tag (`""` clears).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub tag: Option<String>,
    /// `push` or `veeam` (`""` clears).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(|push|veeam)$"))]
    pub source: Option<String>,
    /// Veeam server (`0` clears).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub veeam_server_id: Option<i64>,
    /// Jobs (`[]`: all).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 500))]
    pub job_ids: Option<Vec<i64>>,
    /// `ja` or `en`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(ja|en)$"))]
    pub lang: Option<String>,
    /// E-mail channels, at least one.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(min_items = 1, max_items = 50))]
    pub channel_ids: Option<Vec<i64>>,
}

/// What `send-now` queued: the period and how many e-mails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportSendOutcome {
    /// Deliveries queued (one per enabled channel).
    pub queued: i64,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub until: NaiveDate,
}
