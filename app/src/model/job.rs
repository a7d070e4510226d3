//! Backup jobs and their runs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::schedule::Schedule;

/// Where a job's runs come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobSource {
    /// Any tool, reporting through ping URLs or the API.
    #[default]
    Push,
    /// Veeam Backup & Replication.
    Veeam,
}

impl JobSource {
    /// Every source.
    pub const ALL: [JobSource; 2] = [JobSource::Push, JobSource::Veeam];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobSource::Push => "push",
            JobSource::Veeam => "veeam",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "push" => Some(JobSource::Push),
            "veeam" => Some(JobSource::Veeam),
            _ => None,
        }
    }
}

/// What a job's most recent news says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// A run failed.
    Failed,
    /// An expected run did not happen.
    Missed,
    /// A run has been going for longer than expected.
    Overdue,
    /// The expected time has passed; still within the grace period.
    Late,
    /// The last run ended with warnings.
    Warning,
    /// A run is in progress.
    Running,
    /// The last run succeeded.
    Ok,
    /// No run yet.
    New,
    /// Not expected to run for now.
    Paused,
}

impl JobState {
    /// Every state, problems first.
    pub const ALL: [JobState; 9] = [
        JobState::Failed,
        JobState::Missed,
        JobState::Overdue,
        JobState::Late,
        JobState::Warning,
        JobState::Running,
        JobState::Ok,
        JobState::New,
        JobState::Paused,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::New => "new",
            JobState::Ok => "ok",
            JobState::Warning => "warning",
            JobState::Failed => "failed",
            JobState::Running => "running",
            JobState::Late => "late",
            JobState::Missed => "missed",
            JobState::Overdue => "overdue",
            JobState::Paused => "paused",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// Whether someone should look at the job.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            JobState::Failed | JobState::Missed | JobState::Overdue | JobState::Late | JobState::Warning
        )
    }
}

/// How a run ended (or that it is still going).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    /// In progress.
    Running,
    /// Succeeded.
    Success,
    /// Succeeded with warnings.
    Warning,
    /// Failed.
    Failed,
    /// Expected but never reported (recorded by the console).
    Missed,
}

impl RunResult {
    /// Every result.
    pub const ALL: [RunResult; 5] =
        [RunResult::Running, RunResult::Success, RunResult::Warning, RunResult::Failed, RunResult::Missed];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Running => "running",
            RunResult::Success => "success",
            RunResult::Warning => "warning",
            RunResult::Failed => "failed",
            RunResult::Missed => "missed",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// How bad, for "the worst result of the day": missed and failed worst.
    pub fn severity(self) -> u8 {
        match self {
            RunResult::Failed => 4,
            RunResult::Missed => 3,
            RunResult::Warning => 2,
            RunResult::Success => 1,
            RunResult::Running => 0,
        }
    }
}

/// A run, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Run {
    /// Identifier.
    pub id: i64,
    /// The job.
    pub job_id: i64,
    /// When it started (for a missed run: when it was expected).
    pub started_at: DateTime<Utc>,
    /// When it ended; absent while running.
    pub ended_at: Option<DateTime<Utc>>,
    /// Seconds from start to end.
    pub duration_seconds: Option<i64>,
    /// How it ended.
    pub result: RunResult,
    /// What the tool (or the console) said.
    pub message: Option<String>,
    /// Bytes processed, when the tool reports them.
    pub bytes_processed: Option<i64>,
    /// The tool's exit code, when known.
    pub exit_code: Option<i64>,
    /// The source's own id of the run (a Veeam session id, a ping rid).
    pub external_id: Option<String>,
    /// A successful run far outside its job's recent pattern.
    #[serde(default)]
    pub anomaly: Option<crate::model::report::RunAnomaly>,
}

/// One run with everything known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RunDetail {
    /// The run.
    #[serde(flatten)]
    pub run: Run,
    /// The job's name.
    pub job_name: String,
    /// The last lines of the tool's output (at most 10 KB).
    pub log_excerpt: Option<String>,
    /// How the run arrived: `ping`, `api`, `veeam_webhook`, `veeam_sync`, `scheduler`.
    pub origin: String,
}

/// A backup job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Job {
    /// Identifier.
    pub id: i64,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// `push` or `veeam`.
    pub source: JobSource,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// When runs are expected.
    pub schedule: Schedule,
    /// How late a run may start before it counts as missed.
    pub grace_seconds: i64,
    /// A run going longer than this makes the job overdue.
    pub max_duration_seconds: Option<i64>,
    /// The current state.
    pub state: JobState,
    /// Whether the job is paused.
    pub paused: bool,
    /// When a pause ends by itself.
    pub paused_until: Option<DateTime<Utc>>,
    /// The job's current problem, the one an operator can acknowledge.
    #[serde(default)]
    pub problem: Option<JobProblem>,
    /// An operator's acknowledgement of that problem, while it holds.
    #[serde(default)]
    pub acknowledgement: Option<Acknowledgement>,
    /// The latest run.
    pub last_run: Option<Run>,
    /// When the next run is expected.
    pub next_expected_at: Option<DateTime<Utc>>,
    /// The ping URL (operators and administrators only).
    pub ping_url: Option<String>,
    /// Who looks after the job.
    pub owner_id: Option<i64>,
    /// For Veeam jobs: the job's id on its server.
    pub veeam_job_id: Option<String>,
    /// For Veeam jobs that disappeared from their server.
    pub removed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Where `schedule` comes from: `console` (set by an operator) or
    /// `veeam` (kept in step with the job's schedule in Veeam).
    pub schedule_from: ScheduleFrom,
    /// For Veeam jobs: the schedule as Veeam has it.
    pub veeam_schedule: Option<VeeamScheduleInfo>,
    /// Recovery point objective in hours: a protected machine whose newest
    /// restore point is older raises `rpo_breached`.
    pub rpo_hours: Option<i64>,
    /// Machines outside the RPO now.
    pub rpo_machines_breached: i64,
    /// Expected on business days only: no run is expected on a closed day
    /// of the business calendar (weekends, Japanese holidays, company
    /// closures); the next expected run is the first on a business day.
    #[serde(default)]
    pub business_days_only: bool,
}

/// Where a job's expected schedule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScheduleFrom {
    /// Set in the console.
    #[default]
    Console,
    /// Read from Veeam by every sync.
    Veeam,
}

/// A Veeam job's schedule as Veeam has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamScheduleInfo {
    /// `scheduled`, `unscheduled` (enabled, but it will never run by itself) or `disabled`.
    pub state: String,
    /// `cron` or `interval` when it maps to one; `next_run` when only
    /// Veeam's next run can say; `none`.
    pub kind: String,
    /// The mapped schedule (kinds `cron` and `interval`).
    pub schedule: Schedule,
    /// What it is when it does not map: `after:<job>`, `continuous`, `window`, `daily`, `monthly`, `seconds:<n>`.
    pub summary: Option<String>,
    /// Veeam's next run, as last read.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// A protected machine of a Veeam job and its newest restore point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProtectedMachine {
    /// Its name in Veeam.
    pub name: String,
    /// When its newest restore point was made.
    pub newest_point_at: DateTime<Utc>,
    /// Whether that is older than the job's RPO.
    pub outside_rpo: bool,
    /// Veeam's malware status of that point, when known.
    pub malware_status: Option<String>,
}

/// A new job. Only `name` is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewJob {
    /// Unique name, 1–200 characters (not counting spaces around it), no
    /// control characters.
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub name: String,
    /// Free text (at most 2,000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub description: Option<String>,
    /// Must be `push` (Veeam jobs come from Veeam).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<String>, pattern = "^push$"))]
    pub source: Option<JobSource>,
    /// Tags: at most 20 (after removing duplicates), each at most 50
    /// letters, digits and `. _ - :`; stored trimmed and in lower case.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 20, value_type = Option<Vec<Tag>>))]
    pub tags: Option<Vec<String>>,
    /// Expected schedule (default: none).
    #[serde(default)]
    pub schedule: Option<Schedule>,
    /// Grace period in seconds, 0 to 7 days (default 3600).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 604_800))]
    pub grace_seconds: Option<i64>,
    /// Maximum duration in seconds, 60 to 7 days.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 60, maximum = 604_800))]
    pub max_duration_seconds: Option<i64>,
    /// Owner's user id.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Expected on business days only (default false): no run is expected
    /// on weekends, Japanese holidays or company closures.
    #[serde(default)]
    pub business_days_only: bool,
}

/// A tag as the API accepts it (documentation only: tags travel as
/// strings): at most 50 letters, digits and `. _ - :`, spaces around it
/// ignored, an empty one skipped.
#[cfg(feature = "ssr")]
pub struct Tag;

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for Tag {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some("At most 50 letters, digits and `. _ - :`; spaces around it are ignored."))
            .pattern(Some(r"^ *[\w.:-]{0,50} *$"))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for Tag {}

/// Deserialises a field that may be absent (keep), null (clear) or a value.
fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Changes to a job; absent fields stay, `null` clears the optional ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JobPatch {
    /// New name (as for a new job).
    #[cfg_attr(
        feature = "ssr",
        schema(
            min_length = 1,
            max_length = 200,
            pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
        )
    )]
    pub name: Option<String>,
    /// New description.
    #[cfg_attr(feature = "ssr", schema(max_length = 2000))]
    pub description: Option<String>,
    /// New tags (replacing the old ones; as for a new job).
    #[cfg_attr(feature = "ssr", schema(max_items = 20, value_type = Option<Vec<Tag>>))]
    pub tags: Option<Vec<String>>,
    /// New schedule.
    pub schedule: Option<Schedule>,
    /// New grace period, 0 to 7 days.
    #[cfg_attr(feature = "ssr", schema(minimum = 0, maximum = 604_800))]
    pub grace_seconds: Option<i64>,
    /// New maximum duration, 60 to 7 days; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>, minimum = 60, maximum = 604_800))]
    pub max_duration_seconds: Option<Option<i64>>,
    /// New owner; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>))]
    pub owner_id: Option<Option<i64>>,
    /// New RPO in hours, 1 to 8760; `null` removes it.
    #[serde(default, deserialize_with = "double_option")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<i64>, minimum = 1, maximum = 8760))]
    pub rpo_hours: Option<Option<i64>>,
    /// `veeam` to follow the job's schedule in Veeam again (Veeam jobs
    /// only); a new `schedule` makes it `console`.
    pub schedule_from: Option<ScheduleFrom>,
    /// Expected on business days only, or not.
    #[serde(default)]
    pub business_days_only: Option<bool>,
}

/// Pausing a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PauseRequest {
    /// Resume by itself at this time (in the future); paused until resumed when absent.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
        )
    )]
    pub until: Option<DateTime<Utc>>,
}

/// A run reported through the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RunReport {
    /// `running` (a start), `success`, `warning` or `failed`.
    #[cfg_attr(feature = "ssr", schema(value_type = String, pattern = "^(running|success|warning|failed)$"))]
    pub result: RunResult,
    /// When it started (default: now, or the matching start report).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
        )
    )]
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (default: now, for finished runs); not before the start.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
        )
    )]
    pub ended_at: Option<DateTime<Utc>>,
    /// What the tool said.
    #[serde(default)]
    pub message: Option<String>,
    /// Bytes processed.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub bytes_processed: Option<i64>,
    /// Exit code.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// The tool's own id of the run: a start and a finish with the same id
    /// are one run, and a run reported twice is stored once.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Output of the tool; the last 10 KB are kept.
    #[serde(default)]
    pub log: Option<String>,
}

/// The answer to a run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReportOutcome {
    /// False when this report was already stored (same external id).
    pub created: bool,
    /// The job.
    pub job_id: i64,
    /// The run.
    pub run_id: i64,
    /// The job's state afterwards.
    pub state: JobState,
}

/// The body of Veeam's post-job webhook (`/api/veeam/job-complete`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamJobComplete {
    /// The Veeam job's id (a UUID; at most 100 characters, no control characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"))]
    pub veeam_job_id: Option<String>,
    /// The Veeam job's name (at most 200 characters, no control characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"))]
    pub job_name: Option<String>,
    /// The Veeam session's id: the same session reported twice is stored
    /// once (at most 100 characters, no control characters).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$"))]
    pub session_id: Option<String>,
    /// `Success`, `Warning` or `Failed` (`Failure` too, in any case).
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^ *([Ss][Uu][Cc][Cc][Ee][Ss][Ss]|[Ww][Aa][Rr][Nn][Ii][Nn][Gg]|[Ff][Aa][Ii][Ll]([Ee][Dd]|[Uu][Rr][Ee])) *$"
        )
    )]
    pub result: String,
    /// RFC 3339, with or without fractional seconds.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^ *([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))? *$"
        )
    )]
    pub start_time: Option<String>,
    /// RFC 3339, with or without fractional seconds.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^ *([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))? *$"
        )
    )]
    pub end_time: Option<String>,
    /// Bytes processed.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 0))]
    pub bytes_processed: Option<i64>,
    /// Veeam's message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The filters of the run list, as both the UI (`/history`, a job's page)
/// and `GET /api/v1/runs` send them: text, read once on the server, so a
/// mistake gets the same answer (422 naming the field) either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct RunQuery {
    /// One job (its id).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *(\+?0*[1-9][0-9]{0,17})? *$"))]
    pub job_id: Option<String>,
    /// `running`, `success`, `warning`, `failed` or `missed` (any case).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = r"^ *(|[Rr][Uu][Nn][Nn][Ii][Nn][Gg]|[Ss][Uu][Cc][Cc][Ee][Ss][Ss]|[Ww][Aa][Rr][Nn][Ii][Nn][Gg]|[Ff][Aa][Ii][Ll][Ee][Dd]|[Mm][Ii][Ss][Ss][Ee][Dd]) *$"
        )
    )]
    pub result: Option<String>,
    /// Runs of jobs with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// Started at or after: RFC 3339, a local `YYYY-MM-DD HH:MM[:SS]`, or a
    /// date (its start), local times in the console's time zone.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = r"^ *([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)? *$"
        )
    )]
    pub since: Option<String>,
    /// Started before: as `since`.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = r"^ *([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)? *$"
        )
    )]
    pub until: Option<String>,
    /// Page size: a whole number, taken as 1 to 500 (default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *([+-]?[0-9]{1,18})? *$"))]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The filters of the job list, as the UI and `GET /api/v1/jobs` send them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct JobQuery {
    /// Only jobs in this state (`ok`, `failed`, `missed`..., any case).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = r"^ *(|[Ff][Aa][Ii][Ll][Ee][Dd]|[Mm][Ii][Ss][Ss][Ee][Dd]|[Oo][Vv][Ee][Rr][Dd][Uu][Ee]|[Ll][Aa][Tt][Ee]|[Ww][Aa][Rr][Nn][Ii][Nn][Gg]|[Rr][Uu][Nn][Nn][Ii][Nn][Gg]|[Oo][Kk]|[Nn][Ee][Ww]|[Pp][Aa][Uu][Ss][Ee][Dd]) *$"
        )
    )]
    pub state: Option<String>,
    /// Only jobs with this tag.
    #[serde(default)]
    pub tag: Option<String>,
    /// `push` or `veeam` (any case).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *(|[Pp][Uu][Ss][Hh]|[Vv][Ee][Ee][Aa][Mm]) *$"))]
    pub source: Option<String>,
    /// Name contains this.
    #[serde(default)]
    pub q: Option<String>,
    /// Page size: a whole number, taken as 1 to 500 (default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *([+-]?[0-9]{1,18})? *$"))]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

#[cfg(feature = "ssr")]
super::text_enum!(JobSource, "job source");
#[cfg(feature = "ssr")]
super::text_enum!(JobState, "job state");
#[cfg(feature = "ssr")]
super::text_enum!(RunResult, "run result");

/// A job's problem that an operator can acknowledge: its state, or a
/// condition beside it (a machine outside the RPO, a Veeam job that will
/// never run by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobProblem {
    /// The latest run failed.
    Failed,
    /// An expected run did not happen.
    Missed,
    /// The job is past its expected time.
    Late,
    /// A run is taking longer than allowed.
    Overdue,
    /// The latest run ended with a warning.
    Warning,
    /// A machine of the job has no restore point younger than its RPO.
    RpoBreached,
    /// A Veeam job that is enabled but will never run by itself.
    Unscheduled,
}

impl JobProblem {
    /// Every problem.
    pub const ALL: [JobProblem; 7] = [
        JobProblem::Failed,
        JobProblem::Missed,
        JobProblem::Late,
        JobProblem::Overdue,
        JobProblem::Warning,
        JobProblem::RpoBreached,
        JobProblem::Unscheduled,
    ];

    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobProblem::Failed => "failed",
            JobProblem::Missed => "missed",
            JobProblem::Late => "late",
            JobProblem::Overdue => "overdue",
            JobProblem::Warning => "warning",
            JobProblem::RpoBreached => "rpo_breached",
            JobProblem::Unscheduled => "unscheduled",
        }
    }

    /// The problem named `name`, if any.
    pub fn parse(name: &str) -> Option<JobProblem> {
        JobProblem::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The problem a job in `state` has by its state alone.
    pub fn of_state(state: JobState) -> Option<JobProblem> {
        match state {
            JobState::Failed => Some(JobProblem::Failed),
            JobState::Missed => Some(JobProblem::Missed),
            JobState::Late => Some(JobProblem::Late),
            JobState::Overdue => Some(JobProblem::Overdue),
            JobState::Warning => Some(JobProblem::Warning),
            _ => None,
        }
    }
}

/// An operator's acknowledgement of a job's problem: reminders of it stop,
/// and it ends by itself at the job's next state change or at `until`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Acknowledgement {
    /// The job.
    pub job_id: i64,
    /// The problem acknowledged.
    pub problem: JobProblem,
    /// Who acknowledged it (display name or username).
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Why (at most 1,000 characters).
    pub comment: Option<String>,
    /// When it ends by itself, if earlier than the next state change.
    pub until: Option<DateTime<Utc>>,
}

/// Acknowledging a job's current problem. Both fields are optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {
    /// Why: at most 1,000 characters, no control characters but line breaks.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 1000))]
    pub comment: Option<String>,
    /// End the acknowledgement at this time (in the future, at most 30 days ahead).
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
        )
    )]
    pub until: Option<DateTime<Utc>>,
}
