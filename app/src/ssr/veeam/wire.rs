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
}
