//! Veeam Backup & Replication REST API types, as the server sends them.
//!
//! Lenient on purpose (see `../shared/veeam/API-NOTES.md`): enums are
//! matched without regard to case (1.2-rev1 spells `running`, 1.3-rev2
//! `Running`) and keep values this version does not know; timestamps carry
//! 0–7 fractional digits, with or without an offset; fields that only some
//! revisions send are optional.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Defines a Veeam enum: known variants matched case-insensitively, and
/// `Unknown(String)` for anything a newer server may add.
macro_rules! veeam_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $(#[allow(missing_docs)] $variant,)*
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// Parses a value in any case; unknown values are kept.
            pub fn parse(value: &str) -> Self {
                $(if value.eq_ignore_ascii_case(stringify!($variant)) {
                    return Self::$variant;
                })*
                Self::Unknown(value.to_owned())
            }

            /// The PascalCase spelling (1.3 and later).
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => stringify!($variant),)*
                    Self::Unknown(value) => value,
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(Self::parse(&String::deserialize(d)?))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

veeam_enum! {
    /// `EJobStatus`.
    JobStatus { Running, Inactive, Disabled, Enabled, Stopping, Stopped, Starting }
}

veeam_enum! {
    /// `ESessionState`. `Stopped` means finished.
    SessionState {
        Stopped, Starting, Stopping, Working, Pausing, Resuming, WaitingTape, Idle, Postprocessing,
        WaitingRepository, WaitingSlot, ActionRequired,
    }
}

veeam_enum! {
    /// `ESessionResult`. `None` while running and for jobs that never ran.
    SessionResult { None, Success, Warning, Failed }
}

veeam_enum! {
    /// `EJobWorkload`.
    JobWorkload { Application, CloudVm, File, Server, Workstation, Vm }
}

veeam_enum! {
    /// `EDailyKinds`.
    DailyKind { Everyday, WeekDays, SelectedDays }
}

veeam_enum! {
    /// `EDayOfWeek` (`monday` in 1.2-rev1, `Monday` in 1.3-rev2).
    DayOfWeek { Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday }
}

veeam_enum! {
    /// `EDayNumberInMonth`.
    DayNumberInMonth { First, Second, Third, Fourth, Last, OnDay }
}

veeam_enum! {
    /// `EMonth`.
    Month { January, February, March, April, May, June, July, August, September, October, November, December }
}

veeam_enum! {
    /// `EPeriodicallyKinds`.
    PeriodicallyKind { Hours, Minutes, Seconds, Days }
}

/// Parses a Veeam timestamp: RFC 3339 with 0–9 fractional digits, or the
/// same without an offset (taken as UTC), as some responses carry.
pub fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Some(t) = crate::ssr::infra::input::parse_rfc3339(value) {
        return Some(t);
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc())
}

fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let value = String::deserialize(d)?;
    parse_time(&value).ok_or_else(|| serde::de::Error::custom(format!("not a timestamp: {value:?}")))
}

fn de_opt_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(value) if value.trim().is_empty() => Ok(None),
        Some(value) => parse_time(&value)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a timestamp: {value:?}"))),
    }
}

/// The nil UUID Veeam uses for "none".
pub const NIL_UUID: &str = "00000000-0000-0000-0000-000000000000";

fn de_opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty() && s != NIL_UUID))
}

fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(String::deserialize(d)?.trim().to_ascii_lowercase())
}

/// `PaginationResult`.
#[derive(Debug, Clone, Deserialize)]
pub struct Pagination {
    /// Items matching the filters.
    pub total: i64,
    /// Items on this page.
    pub count: i64,
}

/// A page of a collection (`JobStatesResult`, `SessionsResult`, …).
#[derive(Debug, Clone, Deserialize)]
pub struct Page<T> {
    /// The items.
    pub data: Vec<T>,
    /// Where this page sits.
    pub pagination: Pagination,
}

/// `TokenModel`.
#[derive(Debug, Clone, Deserialize)]
pub struct Token {
    /// Bearer token.
    pub access_token: String,
    /// For the refresh grant.
    pub refresh_token: Option<String>,
    /// Seconds the access token lives.
    pub expires_in: i64,
}

/// `Error`, Veeam's error body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// `AccessDenied`, `ExpiredToken`, `NotFound`, `NotImplemented`, …
    pub error_code: String,
    /// What went wrong.
    pub message: String,
    /// The resource concerned.
    #[serde(default)]
    pub resource_id: Option<String>,
}

/// `JobStateModel` (`GET /api/v1/jobs/states`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStateModel {
    /// Job id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name.
    pub name: String,
    /// `EJobType`, kept as sent.
    #[serde(rename = "type")]
    pub job_type: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Running, inactive, disabled, …
    pub status: JobStatus,
    /// Last run.
    #[serde(default, deserialize_with = "de_opt_time")]
    pub last_run: Option<DateTime<Utc>>,
    /// Result of the last run.
    pub last_result: SessionResult,
    /// Next scheduled run.
    #[serde(default, deserialize_with = "de_opt_time")]
    pub next_run: Option<DateTime<Utc>>,
    /// What it protects.
    pub workload: JobWorkload,
    /// Target repository.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub repository_id: Option<String>,
    /// Target repository's name.
    #[serde(default)]
    pub repository_name: Option<String>,
    /// Objects in the job.
    #[serde(default)]
    pub objects_count: i64,
    /// The last session.
    #[serde(default, deserialize_with = "de_opt_id")]
    pub session_id: Option<String>,
    /// How the next run is planned, as shown in the console (1.3 and later):
    /// a date, `After job: <name>`, `<Not scheduled>`, …
    #[serde(default)]
    pub next_run_policy: Option<String>,
}

/// `SessionResultModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResultModel {
    /// The result.
    pub result: SessionResult,
    /// Why.
    #[serde(default)]
    pub message: Option<String>,
    /// Stopped by someone.
    #[serde(default)]
    pub is_canceled: Option<bool>,
}

/// `SessionProgress` (1.3 and later).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionProgress {
    /// Bytes processed.
    #[serde(default)]
    pub processed_size: Option<i64>,
    /// Bytes transferred.
    #[serde(default)]
    pub transferred_size: Option<i64>,
}

/// `SessionModel` (`GET /api/v1/sessions`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionModel {
    /// Session id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// The job's name, for job sessions.
    pub name: String,
    /// The job (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub job_id: String,
    /// `ESessionType`, kept as sent.
    pub session_type: String,
    /// Start.
    #[serde(deserialize_with = "de_time")]
    pub creation_time: DateTime<Utc>,
    /// End; null while running.
    #[serde(default, deserialize_with = "de_opt_time")]
    pub end_time: Option<DateTime<Utc>>,
    /// Working, stopped, …
    pub state: SessionState,
    /// Progress in percent.
    #[serde(default)]
    pub progress_percent: Option<i64>,
    /// Result; null while running.
    #[serde(default)]
    pub result: Option<SessionResultModel>,
    /// Update sequence number.
    #[serde(default)]
    pub usn: i64,
    /// Sizes (1.3 and later).
    #[serde(default)]
    pub progress: Option<SessionProgress>,
}

impl SessionModel {
    /// Whether the session has ended.
    pub fn finished(&self) -> bool {
        self.state == SessionState::Stopped
    }
}

/// `RepositoryStateModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryStateModel {
    /// Repository id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name.
    pub name: String,
    /// `ERepositoryType`, kept as sent.
    #[serde(rename = "type")]
    pub repository_type: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Host.
    #[serde(default)]
    pub host_name: Option<String>,
    /// Path.
    #[serde(default)]
    pub path: Option<String>,
    /// Capacity in GB.
    #[serde(rename = "capacityGB")]
    pub capacity_gb: f64,
    /// Free space in GB.
    #[serde(rename = "freeGB")]
    pub free_gb: f64,
    /// Used space in GB.
    #[serde(rename = "usedSpaceGB")]
    pub used_space_gb: f64,
    /// Reachable.
    pub is_online: bool,
}

/// `ServerInfoModel`, the part we show.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    /// Installation id.
    pub vbr_id: String,
    /// Host name.
    pub name: String,
    /// e.g. `13.1.0.411`.
    pub build_version: String,
}

/// `ServerTimeModel` (`GET /api/v1/serverTime`, no sign-in needed).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    /// The server's clock.
    #[serde(deserialize_with = "de_time")]
    pub server_time: DateTime<Utc>,
    /// Windows time zone display name.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// IANA time zone (1.3 and later).
    #[serde(default)]
    pub iana_time_zone_id: Option<String>,
}

/// `JobModel` (`GET /api/v1/jobs`), the part we read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobModel {
    /// Job id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Name.
    pub name: String,
    /// `EJobType`, kept as sent.
    #[serde(rename = "type")]
    pub job_type: String,
    /// Disabled.
    #[serde(default)]
    pub is_disabled: bool,
    /// Schedule (backup jobs).
    #[serde(default)]
    pub schedule: Option<BackupSchedule>,
}

/// `BackupScheduleModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupSchedule {
    /// Scheduling is on.
    #[serde(default)]
    pub run_automatically: bool,
    /// Daily.
    #[serde(default)]
    pub daily: Option<ScheduleDaily>,
    /// Monthly.
    #[serde(default)]
    pub monthly: Option<ScheduleMonthly>,
    /// Every N hours/minutes/….
    #[serde(default)]
    pub periodically: Option<SchedulePeriodically>,
    /// Continuously.
    #[serde(default)]
    pub continuously: Option<ScheduleWindow>,
    /// After another job.
    #[serde(default)]
    pub after_this_job: Option<ScheduleAfterThisJob>,
    /// Backup window.
    #[serde(default)]
    pub backup_window: Option<ScheduleWindow>,
}

/// `ScheduleDailyModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleDaily {
    /// On.
    #[serde(default)]
    pub is_enabled: bool,
    /// Local start time (`22:00`).
    #[serde(default)]
    pub local_time: Option<String>,
    /// Every day, weekdays, selected days.
    #[serde(default)]
    pub daily_kind: Option<DailyKind>,
    /// The selected days.
    #[serde(default)]
    pub days: Vec<DayOfWeek>,
}

/// `ScheduleMonthlyModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleMonthly {
    /// On.
    #[serde(default)]
    pub is_enabled: bool,
    /// Local start time.
    #[serde(default)]
    pub local_time: Option<String>,
    /// Weekday (with `day_number_in_month`).
    #[serde(default)]
    pub day_of_week: Option<DayOfWeek>,
    /// First, …, last, or `OnDay` (then `day_of_month`).
    #[serde(default)]
    pub day_number_in_month: Option<DayNumberInMonth>,
    /// Day of the month.
    #[serde(default)]
    pub day_of_month: Option<i64>,
    /// Months.
    #[serde(default)]
    pub months: Vec<Month>,
    /// The last day of the month (1.3 and later).
    #[serde(default)]
    pub is_last_day_of_month: Option<bool>,
}

/// `SchedulePeriodicallyModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePeriodically {
    /// On.
    #[serde(default)]
    pub is_enabled: bool,
    /// Unit.
    #[serde(default)]
    pub periodically_kind: Option<PeriodicallyKind>,
    /// Units between runs.
    #[serde(default)]
    pub frequency: Option<i64>,
    /// Permitted hours.
    #[serde(default)]
    pub backup_window: Option<BackupWindowSetting>,
    /// Minute within the hour.
    #[serde(default)]
    pub start_time_within_an_hour: Option<i64>,
}

/// `ScheduleBackupWindowModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleWindow {
    /// On.
    #[serde(default)]
    pub is_enabled: bool,
    /// Permitted hours.
    #[serde(default)]
    pub backup_window: Option<BackupWindowSetting>,
}

/// `ScheduleAfterThisJobModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleAfterThisJob {
    /// On.
    #[serde(default)]
    pub is_enabled: bool,
    /// The job this one runs after.
    #[serde(default)]
    pub job_name: Option<String>,
}

/// `BackupWindowSettingModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupWindowSetting {
    /// Per day.
    #[serde(default)]
    pub days: Vec<BackupWindowDay>,
}

/// `BackupWindowDayHoursModel`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupWindowDay {
    /// The day.
    pub day: DayOfWeek,
    /// 24 comma-separated 1 (permitted) / 0 (denied).
    pub hours: String,
}

/// `BackupModel` (`GET /api/v1/backups`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupModel {
    /// Backup id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// The job that makes it (lowercased).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub job_id: Option<String>,
    /// Name.
    pub name: String,
    /// Created.
    #[serde(deserialize_with = "de_time")]
    pub creation_time: DateTime<Utc>,
}

/// `BackupObjectModel` (`GET /api/v1/backupObjects`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BackupObjectModel {
    /// Object id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// Machine name.
    #[serde(default)]
    pub name: Option<String>,
    /// `VM`, …, kept as sent.
    #[serde(default, rename = "type")]
    pub object_type: Option<String>,
    /// `VMware`, …
    #[serde(default)]
    pub platform_name: Option<String>,
    /// Restore points held.
    #[serde(default)]
    pub restore_points_count: Option<i64>,
}

/// `ObjectRestorePointModel` (`GET /api/v1/restorePoints`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePointModel {
    /// Restore point id (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub id: String,
    /// The machine's name.
    pub name: String,
    /// Created.
    #[serde(deserialize_with = "de_time")]
    pub creation_time: DateTime<Utc>,
    /// The backup it belongs to (lowercased).
    #[serde(deserialize_with = "de_id")]
    pub backup_id: String,
    /// `Clean`, `Suspicious`, `Infected`, …
    #[serde(default)]
    pub malware_status: Option<String>,
    /// `Increment`, `Full`, …
    #[serde(default, rename = "type")]
    pub point_type: Option<String>,
    /// The session that made it (lowercased).
    #[serde(default, deserialize_with = "de_opt_id")]
    pub session_id: Option<String>,
    /// `VMware`, …
    #[serde(default)]
    pub platform_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MalwareMachine {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "de_opt_id")]
    backup_object_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MalwareEventWire {
    #[serde(deserialize_with = "de_id")]
    id: String,
    #[serde(deserialize_with = "de_time")]
    detection_time_utc: DateTime<Utc>,
    #[serde(default)]
    machine: Option<MalwareMachine>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    source: Option<String>,
}

/// `SuspiciousActivityEventModel` (`GET /api/v1/malwareDetection/events`,
/// 1.1-rev1 and later), with the machine flattened.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "MalwareEventWire")]
pub struct MalwareEventModel {
    /// Event id (lowercased).
    pub id: String,
    /// `detectionTimeUtc`.
    pub detected_at: DateTime<Utc>,
    /// `machine.displayName`.
    pub machine_name: Option<String>,
    /// `machine.backupObjectId` (lowercased).
    pub backup_object_id: Option<String>,
    /// `Created`, `FalsePositive`.
    pub state: Option<String>,
    /// `Clean`, `Suspicious`, `Infected`, `Informative`.
    pub severity: Option<String>,
    /// What was found.
    pub details: Option<String>,
    /// `InternalVeeamDetector`, `MarkAsCleanEvent`, …
    pub source: Option<String>,
}

impl From<MalwareEventWire> for MalwareEventModel {
    fn from(w: MalwareEventWire) -> Self {
        let (machine_name, backup_object_id) =
            w.machine.map_or((None, None), |m| (m.display_name, m.backup_object_id));
        Self {
            id: w.id,
            detected_at: w.detection_time_utc,
            machine_name,
            backup_object_id,
            state: w.state,
            severity: w.severity,
            details: w.details,
            source: w.source,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LastSuccessfulWire {
    #[serde(default, deserialize_with = "de_opt_time")]
    last_successful_time: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigBackupWire {
    #[serde(default)]
    is_enabled: bool,
    #[serde(default)]
    last_successful_backup: Option<LastSuccessfulWire>,
}

/// `ConfigBackupModel` (`GET /api/v1/configBackup`), the part we read.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "ConfigBackupWire")]
pub struct ConfigBackupModel {
    /// Configuration backup is on.
    pub is_enabled: bool,
    /// `lastSuccessfulBackup.lastSuccessfulTime`.
    pub last_successful_time: Option<DateTime<Utc>>,
}

impl From<ConfigBackupWire> for ConfigBackupModel {
    fn from(w: ConfigBackupWire) -> Self {
        Self {
            is_enabled: w.is_enabled,
            last_successful_time: w.last_successful_backup.and_then(|l| l.last_successful_time),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LicenseSummaryWire {
    #[serde(default, deserialize_with = "de_opt_time")]
    expiration_date: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LicenseWire {
    status: String,
    #[serde(default, deserialize_with = "de_opt_time")]
    expiration_date: Option<DateTime<Utc>>,
    #[serde(default)]
    edition: Option<String>,
    #[serde(default)]
    licensed_to: Option<String>,
    #[serde(default)]
    instance_license_summary: Option<LicenseSummaryWire>,
    #[serde(default)]
    socket_license_summary: Option<LicenseSummaryWire>,
}

/// `InstalledLicenseModel` (`GET /api/v1/license`; a Backup Viewer gets 403).
/// 1.3-rev2 has no top-level `expirationDate`: it is then taken from the
/// instance (or socket) license summary.
#[derive(Debug, Clone, Deserialize)]
#[serde(from = "LicenseWire")]
pub struct LicenseModel {
    /// `Valid`, `Expired`, `Invalid`.
    pub status: String,
    /// When it runs out.
    pub expiration_date: Option<DateTime<Utc>>,
    /// `EnterprisePlus`, …
    pub edition: Option<String>,
    /// Licensee.
    pub licensed_to: Option<String>,
}

impl From<LicenseWire> for LicenseModel {
    fn from(w: LicenseWire) -> Self {
        let expiration_date = w
            .expiration_date
            .or_else(|| w.instance_license_summary.and_then(|s| s.expiration_date))
            .or_else(|| w.socket_license_summary.and_then(|s| s.expiration_date));
        Self { status: w.status, expiration_date, edition: w.edition, licensed_to: w.licensed_to }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_0_to_7_fraction_digits_and_no_offset_parse() {
        for value in [
            "2026-08-25T15:20:13-07:00",
            "2026-08-25T15:20:13.2-07:00",
            "2026-08-25T15:20:13.2300016-07:00",
            "2026-08-25T22:20:13.230001Z",
        ] {
            let t = parse_time(value).expect(value);
            assert_eq!(t.format("%Y-%m-%d %H:%M:%S").to_string(), "2026-08-25 22:20:13", "{value}");
        }
        let naive = parse_time("2024-11-13T22:00:49.893878").expect("no offset");
        assert_eq!(naive.to_rfc3339(), "2024-11-13T22:00:49.893878+00:00");
        assert!(parse_time("13/11/2024").is_none());
    }

    #[test]
    fn enums_match_any_case_and_keep_unknown_values() {
        assert_eq!(JobStatus::parse("running"), JobStatus::Running);
        assert_eq!(JobStatus::parse("Running"), JobStatus::Running);
        assert_eq!(JobWorkload::parse("cloudVm"), JobWorkload::CloudVm);
        assert_eq!(SessionState::parse("Hibernating"), SessionState::Unknown("Hibernating".into()));
        assert_eq!(SessionState::parse("Hibernating").as_str(), "Hibernating");
    }

    #[test]
    fn a_running_session_has_null_end_and_result() {
        let s: SessionModel = serde_json::from_str(
            r#"{"id":"6B5E…","name":"Job","jobId":"A1","sessionType":"BackupJob",
                "creationTime":"2026-01-02T03:04:05.1234567+09:00","endTime":null,"state":"Working",
                "result":null,"usn":3,"platformId":"00000000-0000-0000-0000-000000000000"}"#,
        )
        .expect("parses");
        assert!(!s.finished());
        assert!(s.end_time.is_none() && s.result.is_none());
        assert_eq!(s.job_id, "a1");
    }

    #[test]
    fn schedule_enums_parse_in_both_spellings() {
        assert_eq!(DayOfWeek::parse("monday"), DayOfWeek::Monday);
        assert_eq!(DayOfWeek::parse("Monday"), DayOfWeek::Monday);
        assert_eq!(DailyKind::parse("weekDays"), DailyKind::WeekDays);
        assert_eq!(DayNumberInMonth::parse("OnDay"), DayNumberInMonth::OnDay);
        assert_eq!(Month::parse("december"), Month::December);
        assert_eq!(PeriodicallyKind::parse("Hours"), PeriodicallyKind::Hours);
        assert_eq!(PeriodicallyKind::parse("Fortnights"), PeriodicallyKind::Unknown("Fortnights".into()));
    }

    #[test]
    fn a_job_with_every_schedule_kind_parses() {
        let job: JobModel = serde_json::from_str(
            r#"{"id":"C2F6E6A3-0000-4000-8000-000000000001","name":"Tokyo FS","type":"VSphereBackup",
                "isDisabled":false,"description":"","isHighPriority":false,
                "schedule":{"runAutomatically":true,
                  "daily":{"isEnabled":true,"localTime":"22:00","dailyKind":"SelectedDays","days":["monday","Friday"]},
                  "monthly":{"isEnabled":false,"localTime":"22:00","dayOfWeek":"Saturday","dayNumberInMonth":"Fourth","months":["January","july"],"dayOfMonth":5,"isLastDayOfMonth":false},
                  "periodically":{"isEnabled":false,"periodicallyKind":"Hours","frequency":4,"startTimeWithinAnHour":15,
                    "backupWindow":{"days":[{"day":"sunday","hours":"1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"}]}},
                  "continuously":{"isEnabled":false},
                  "afterThisJob":{"isEnabled":false,"jobName":"Other"},
                  "retry":{"isEnabled":true,"retryCount":3,"awaitMinutes":10},
                  "backupWindow":{"isEnabled":false}}}"#,
        )
        .expect("parses");
        assert_eq!(job.id, "c2f6e6a3-0000-4000-8000-000000000001");
        let schedule = job.schedule.expect("schedule");
        let daily = schedule.daily.expect("daily");
        assert_eq!(daily.daily_kind, Some(DailyKind::SelectedDays));
        assert_eq!(daily.days, vec![DayOfWeek::Monday, DayOfWeek::Friday]);
        let monthly = schedule.monthly.expect("monthly");
        assert_eq!(monthly.months, vec![Month::January, Month::July]);
        assert_eq!(monthly.day_number_in_month, Some(DayNumberInMonth::Fourth));
        let periodically = schedule.periodically.expect("periodically");
        assert_eq!(periodically.frequency, Some(4));
        assert_eq!(periodically.backup_window.expect("window").days[0].day, DayOfWeek::Sunday);
        assert_eq!(schedule.after_this_job.and_then(|a| a.job_name).as_deref(), Some("Other"));
        let bare: JobModel =
            serde_json::from_str(r#"{"id":"A","name":"J","type":"Backup"}"#).expect("minimal job");
        assert!(!bare.is_disabled && bare.schedule.is_none());
    }

    #[test]
    fn backups_objects_restore_points_and_server_time_parse() {
        let t: ServerTime = serde_json::from_str(
            r#"{"serverTime":"2024-11-13T22:00:49.893878","timeZone":"(UTC+09:00) Osaka, Sapporo, Tokyo"}"#,
        )
        .expect("server time");
        assert!(t.iana_time_zone_id.is_none());
        let b: BackupModel = serde_json::from_str(
            r#"{"id":"B1","jobId":"00000000-0000-0000-0000-000000000000","name":"Job","platformName":"VMware",
                "platformId":"00000000-0000-0000-0000-000000000000","creationTime":"2026-01-02T03:04:05+09:00",
                "repositoryId":"R"}"#,
        )
        .expect("backup");
        assert!(b.job_id.is_none());
        let o: BackupObjectModel = serde_json::from_str(
            r#"{"id":"O1","name":"tokyo-fs-0001-01","type":"VM","platformName":"VMware","restorePointsCount":7,"objectId":"vm-1"}"#,
        )
        .expect("object");
        assert_eq!(o.restore_points_count, Some(7));
        let p: RestorePointModel = serde_json::from_str(
            r#"{"id":"P1","name":"tokyo-fs-0001-01","platformName":"VMware","platformId":"00000000-0000-0000-0000-000000000000",
                "creationTime":"2026-01-02T03:04:05.1234567+09:00","backupId":"B1","type":"Increment","sessionId":"S1",
                "allowedOperations":["StartFlrRestore"],"malwareStatus":"Clean"}"#,
        )
        .expect("restore point");
        assert_eq!((p.backup_id.as_str(), p.session_id.as_deref()), ("b1", Some("s1")));
        assert_eq!(p.malware_status.as_deref(), Some("Clean"));
    }

    #[test]
    fn malware_events_config_backup_and_license_are_flattened() {
        let e: MalwareEventModel = serde_json::from_str(
            r#"{"id":"E1","type":"EncryptedData","creationTimeUtc":"2026-01-02T03:04:05Z","detectionTimeUtc":"2026-01-02T03:04:05Z",
                "machine":{"displayName":"tokyo-fs-0001-01","uuid":"u","backupObjectId":"O1"},"state":"Created",
                "details":"Encrypted files","source":"InternalVeeamDetector","severity":"Infected","createdBy":"SYSTEM","engine":"Inline"}"#,
        )
        .expect("event");
        assert_eq!(e.machine_name.as_deref(), Some("tokyo-fs-0001-01"));
        assert_eq!(e.backup_object_id.as_deref(), Some("o1"));
        assert_eq!(e.severity.as_deref(), Some("Infected"));
        let c: ConfigBackupModel = serde_json::from_str(
            r#"{"isEnabled":true,"backupRepositoryId":"R","restorePointsToKeep":10,"notifications":{"SNMPEnabled":false},
                "schedule":{"isEnabled":true},"lastSuccessfulBackup":{"lastSuccessfulTime":"2026-01-02T03:04:05+09:00","sessionId":"S"},
                "encryption":{"isEnabled":false,"passwordId":"00000000-0000-0000-0000-000000000000"}}"#,
        )
        .expect("config backup");
        assert!(c.is_enabled && c.last_successful_time.is_some());
        let never: ConfigBackupModel =
            serde_json::from_str(r#"{"isEnabled":false,"lastSuccessfulBackup":{}}"#).expect("never ran");
        assert!(never.last_successful_time.is_none());
        let v12: LicenseModel = serde_json::from_str(
            r#"{"status":"Valid","expirationDate":"2027-01-01T00:00:00Z","type":"Rental","edition":"EnterprisePlus","licensedTo":"Acme"}"#,
        )
        .expect("1.2 license");
        assert!(v12.expiration_date.is_some());
        let v13: LicenseModel = serde_json::from_str(
            r#"{"status":"Expired","edition":"EnterprisePlus","licensedTo":"Acme",
                "instanceLicenseSummary":{"licensedInstancesNumber":100,"usedInstancesNumber":3,"newInstancesNumber":0,
                "rentalInstancesNumber":0,"expirationDate":"2026-01-01T00:00:00Z"}}"#,
        )
        .expect("1.3 license");
        assert_eq!(v13.status, "Expired");
        assert_eq!(v13.expiration_date.map(|d| d.to_rfc3339()).as_deref(), Some("2026-01-01T00:00:00+00:00"));
    }
}
