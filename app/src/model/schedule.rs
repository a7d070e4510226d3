//! When a job is expected to run.

use serde::{Deserialize, Serialize};

/// The kind of expected schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// No expectation: runs are recorded, nothing is missed.
    #[default]
    None,
    /// A cron expression in a time zone.
    Cron,
    /// A fixed interval after the previous run.
    Interval,
}

impl ScheduleKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleKind::None => "none",
            ScheduleKind::Cron => "cron",
            ScheduleKind::Interval => "interval",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "none" => Some(ScheduleKind::None),
            "cron" => Some(ScheduleKind::Cron),
            "interval" => Some(ScheduleKind::Interval),
            _ => None,
        }
    }
}

/// A job's expected schedule, as the API shows and accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Schedule {
    /// `none`, `cron` or `interval`.
    pub kind: ScheduleKind,
    /// For `cron`: five fields (minute hour day-of-month month day-of-week),
    /// or six with seconds first, such as `0 2 * * *`.
    #[serde(default)]
    pub cron: Option<String>,
    /// For `cron`: an IANA time zone such as `Asia/Tokyo`; the server's
    /// default when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    /// For `interval`: seconds between runs (60 to 31 days).
    #[serde(default)]
    pub interval_seconds: Option<i64>,
}

#[cfg(feature = "ssr")]
super::text_enum!(ScheduleKind, "schedule kind");
