//! Running the console: its own backups and data retention, as the
//! Settings → Backups page shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One backup of the console's database (or an attempt that failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleBackup {
    /// Id.
    pub id: i64,
    /// The file's name in the backup directory (none when it failed early).
    pub file_name: Option<String>,
    /// `scheduled` (the daily backup) or `manual`.
    pub trigger: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Encrypted to the configured age recipient.
    pub encrypted: bool,
    /// `ok` or `failed`.
    pub status: String,
    /// The file's size.
    pub size_bytes: Option<i64>,
    /// The file's SHA-256, hex.
    pub sha256: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: DateTime<Utc>,
    /// Whether the file is still in the backup directory.
    pub present: bool,
}

/// The Settings → Backups page: the backups, their settings and data retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupsPage {
    /// The newest first.
    pub backups: Vec<ConsoleBackup>,
    /// `backup_dir`.
    pub dir: String,
    /// `backup_recipient` (a public key), if set.
    pub recipient: Option<String>,
    /// `backup_time`, `HH:MM` in the console's zone.
    pub time: String,
    /// The console's time zone.
    pub timezone: String,
    /// `backup_keep_days`.
    pub keep_days: u32,
    /// Production without a recipient: backups are refused.
    pub refused: bool,
    /// `retention_runs_days` (0: kept for ever).
    pub retention_runs_days: u32,
    /// `retention_events_days`.
    pub retention_events_days: u32,
    /// `retention_audit_days`.
    pub retention_audit_days: u32,
    /// The last retention pass of this instance: when, and rows deleted.
    pub last_prune_at: Option<DateTime<Utc>>,
    /// Rows the last pass deleted.
    pub last_prune_deleted: u64,
    /// Whether the viewer may start a backup (administrators).
    pub can_back_up: bool,
}

/// A status badge: `/badge/<token>.svg` shows whether a job (or every job
/// with a tag) is up, late or down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusBadge {
    /// Id.
    pub id: i64,
    /// The badge's address (the token in it is its only credential).
    pub url: String,
    /// The job it shows, or none for a tag badge.
    pub job_id: Option<i64>,
    /// The tag it shows, or none for a job badge.
    pub tag: Option<String>,
    /// Shows the last run's age beside the state.
    pub show_age: bool,
    /// Who made it.
    pub created_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The Markdown to paste into a wiki or README.
    pub markdown: String,
    /// The HTML to paste into a page.
    pub html: String,
}

/// One instance of the console on the database, as Settings → Cluster lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInstance {
    /// A random id, new at each start.
    pub id: String,
    /// Its host (a pod's name on Kubernetes).
    pub hostname: String,
    /// The address it listens on.
    pub address: String,
    /// Its version.
    pub version: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat (every 5 seconds).
    pub last_seen_at: DateTime<Utc>,
    /// Seen in the last 30 seconds.
    pub alive: bool,
    /// It leads the periodic work that runs once.
    pub leading: bool,
    /// It is the instance that answered this page.
    pub this_one: bool,
}

/// The Settings → Cluster page: the instances on the database and which leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterPage {
    /// `sqlite` (one instance) or `postgres` (several may share it).
    pub backend: String,
    /// The leader's id, if one is recorded.
    pub leader_id: Option<String>,
    /// Since when it leads.
    pub leader_since: Option<DateTime<Utc>>,
    /// The lead's number: it counts up with each new leader.
    pub epoch: i64,
    /// Its last heartbeat.
    pub leader_heartbeat_at: Option<DateTime<Utc>>,
    /// The instances seen in the last day, newest first.
    pub instances: Vec<ClusterInstance>,
    /// This instance's periodic tasks waiting because another leads.
    pub standby_tasks: Vec<String>,
}
