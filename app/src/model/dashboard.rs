//! What the dashboard and the job page show.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::job::{Job, JobSource, JobState, Run, RunResult};

/// How many jobs are in a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    /// The state.
    pub state: JobState,
    /// How many jobs.
    pub count: i64,
}

/// A job in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// State.
    pub state: JobState,
    /// Source.
    pub source: JobSource,
    /// Tags.
    pub tags: Vec<String>,
    /// Latest run's start.
    pub last_run_at: Option<DateTime<Utc>>,
    /// Latest run's result.
    pub last_result: Option<RunResult>,
    /// Next expected start.
    pub next_expected_at: Option<DateTime<Utc>>,
    /// An operator's acknowledgement of its problem, while it holds.
    #[serde(default)]
    pub acknowledgement: Option<crate::model::job::Acknowledgement>,
}

/// One day of one job in the calendar: the worst result of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarCell {
    /// No run that day (none expected, or not reported yet).
    None,
    /// All runs succeeded.
    Success,
    /// The worst was a warning.
    Warning,
    /// A run failed.
    Failed,
    /// An expected run was missed.
    Missed,
}

impl CalendarCell {
    /// Its CSS class and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarCell::None => "none",
            CalendarCell::Success => "success",
            CalendarCell::Warning => "warning",
            CalendarCell::Failed => "failed",
            CalendarCell::Missed => "missed",
        }
    }
}

/// A job's row in the calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalendarRow {
    /// The job.
    pub job_id: i64,
    /// Its name.
    pub job_name: String,
    /// Its state.
    pub state: JobState,
    /// One cell per day, oldest first.
    pub cells: Vec<CalendarCell>,
}

/// Totals of one day over all jobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DayTotals {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Successful runs.
    pub success: i64,
    /// Runs with warnings.
    pub warning: i64,
    /// Failed runs.
    pub failed: i64,
    /// Missed runs.
    pub missed: i64,
    /// Average duration of finished runs.
    pub average_duration_seconds: Option<i64>,
    /// Bytes processed.
    pub bytes: i64,
}

/// The dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Jobs per state, problems first.
    pub counts: Vec<StateCount>,
    /// All jobs.
    pub total_jobs: i64,
    /// Jobs needing attention, worst first.
    pub problems: Vec<JobSummary>,
    /// The newest runs with their job names.
    pub latest_runs: Vec<(Run, String)>,
    /// The calendar's days, oldest first.
    pub days: Vec<String>,
    /// The calendar.
    pub calendar: Vec<CalendarRow>,
    /// Totals per day.
    pub daily: Vec<DayTotals>,
    /// When this was computed.
    pub generated_at: DateTime<Utc>,
    /// Protected machines whose newest restore point is older than their job's RPO.
    #[serde(default)]
    pub machines_outside_rpo: i64,
}

/// The job page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    /// The job.
    pub job: Job,
    /// The schedule in words.
    pub schedule_text: String,
    /// The owner's username.
    pub owner_name: Option<String>,
    /// The calendar's days (30), oldest first.
    pub days: Vec<String>,
    /// The job's calendar row.
    pub calendar: Vec<CalendarCell>,
    /// The latest 30 runs, oldest first (for the charts).
    pub recent: Vec<Run>,
    /// Whether the caller may pause, edit and see the ping URL.
    pub can_operate: bool,
    /// For a job synced from a Veeam server: what its actions need.
    pub veeam: Option<VeeamJobInfo>,
}

/// A Veeam job's server-side facts, for its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamJobInfo {
    /// Veeam's state of the job (`inactive`, `running`, `disabled`, …).
    pub status: String,
    /// Whether the server's API revision has retry (1.3 and later).
    pub retry: bool,
    /// Its protected machines, oldest newest-restore-point first.
    pub machines: Vec<crate::model::job::ProtectedMachine>,
}
