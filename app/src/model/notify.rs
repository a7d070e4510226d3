//! Notification channels, as the UI and the API see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A channel's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// SMTP e-mail.
    Email,
    /// Microsoft Teams (Workflows webhook, Adaptive Card).
    Teams,
    /// Slack incoming webhook.
    Slack,
    /// Discord webhook.
    Discord,
    /// Any HTTP endpoint, JSON body, optional HMAC-SHA256 signature.
    Webhook,
}

impl ChannelKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Teams => "teams",
            ChannelKind::Slack => "slack",
            ChannelKind::Discord => "discord",
            ChannelKind::Webhook => "webhook",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "email" => Some(ChannelKind::Email),
            "teams" => Some(ChannelKind::Teams),
            "slack" => Some(ChannelKind::Slack),
            "discord" => Some(ChannelKind::Discord),
            "webhook" => Some(ChannelKind::Webhook),
            _ => None,
        }
    }
}

/// A channel's settings as written: e-mail `{host, port, tls, username,
/// password, from, to, trust_cert_pem}`, the others `{url, secret}`.
/// Secrets (`password`, `url`, `secret`) are write-only: left out or empty
/// on an update, the stored ones are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelConfigInput {
    /// SMTP host.
    pub host: Option<String>,
    /// SMTP port, 1–65535 (default 587).
    #[cfg_attr(feature = "ssr", schema(maximum = 65_535))]
    pub port: Option<u16>,
    /// `none`, `starttls` (default) or `tls`.
    pub tls: Option<String>,
    /// SMTP account.
    pub username: Option<String>,
    /// SMTP password (write-only).
    pub password: Option<String>,
    /// Sender address.
    pub from: Option<String>,
    /// Recipients.
    pub to: Option<Vec<String>>,
    /// A certificate (PEM) to trust for the SMTP server.
    pub trust_cert_pem: Option<String>,
    /// Webhook URL (write-only: it is a credential).
    pub url: Option<String>,
    /// Signing secret of generic webhooks (write-only).
    pub secret: Option<String>,
}

/// A channel's settings as read back: no secrets, only whether they are set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelConfigView {
    /// SMTP host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// SMTP port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// SMTP security.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// SMTP account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Whether an SMTP password is stored.
    pub password_set: bool,
    /// Sender.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Recipients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
    /// Trusted certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_cert_pem: Option<String>,
    /// Whether a webhook URL is stored (and its host, to tell channels apart).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_host: Option<String>,
    /// Whether a signing secret is stored.
    pub secret_set: bool,
}

/// A notification channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Channel {
    /// Id.
    pub id: i64,
    /// Name (unique).
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
    /// Language of its messages: `ja` or `en`.
    pub locale: String,
    /// Sends at all.
    pub enabled: bool,
    /// Settings without secrets.
    pub config: ChannelConfigView,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
}

/// A new channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewChannel {
    /// Name (1–200 characters, not counting spaces around it; unique).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
    /// `ja` (default) or `en`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(pattern = "^(ja|en)$"))]
    pub locale: Option<String>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Settings.
    pub config: ChannelConfigInput,
}

/// Changes to a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChannelPatch {
    /// Name (1–200 characters, not counting spaces around it; unique).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: Option<String>,
    /// Language: `ja` or `en`.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(ja|en)$"))]
    pub locale: Option<String>,
    /// Enabled.
    pub enabled: Option<bool>,
    /// Settings to change (others kept).
    pub config: Option<ChannelConfigInput>,
}

/// The outcome of a test send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SendOutcome {
    /// Delivered.
    pub ok: bool,
    /// The receiver's status and message, or the SMTP server's answer or error.
    pub message: String,
}

/// Which jobs a rule covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobFilter {
    /// `all`, `tags` or `jobs`.
    pub kind: String,
    /// For `tags`: any of these.
    #[serde(default)]
    pub tags: Vec<String>,
    /// For `jobs`: these jobs.
    #[serde(default)]
    pub job_ids: Vec<i64>,
}

/// An event a rule can match (documentation only: events travel as strings).
#[cfg(feature = "ssr")]
pub struct EventName;

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for EventName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use crate::ssr::notify::message::EventKind;
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .enum_values(Some(EventKind::ALL.iter().map(|kind| kind.as_str())))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for EventName {}

/// A notification rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Rule {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `run_failed`, `run_warning`, `run_missed`, `job_late`, `job_overdue`, `job_recovered`,
    /// `veeam_unreachable`, `veeam_recovered`, `repository_low_space`, `console_degraded`,
    /// `console_recovered`, `delivery_dead`.
    pub events: Vec<String>,
    /// Channels to send to.
    pub channel_ids: Vec<i64>,
    /// Jobs covered.
    pub job_filter: JobFilter,
    /// Alert a failure only from this many failed runs in a row (default 1).
    pub min_consecutive_failures: i64,
    /// Repeat while still failing every N hours (off when absent).
    pub repeat_every_hours: Option<i64>,
    /// Active.
    pub enabled: bool,
}

/// A new rule, or every field of a changed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// Name (1–200 characters, not counting spaces around it; unique).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: String,
    /// Events, at least one.
    #[cfg_attr(feature = "ssr", schema(min_items = 1, value_type = Vec<EventName>))]
    pub events: Vec<String>,
    /// Channels, at least one, each an existing channel's id.
    #[cfg_attr(feature = "ssr", schema(min_items = 1))]
    pub channel_ids: Vec<i64>,
    /// Jobs covered (default all).
    #[serde(default)]
    pub job_filter: Option<JobFilter>,
    /// 1–100, default 1.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 100))]
    pub min_consecutive_failures: Option<i64>,
    /// 1–168 hours; off when absent.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 1, maximum = 168))]
    pub repeat_every_hours: Option<i64>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// One message to one channel, and how its sending went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The event kind.
    pub event: String,
    /// The job, if about one.
    pub job_id: Option<i64>,
    /// What the message is about (job name, server name).
    pub subject: String,
    /// `pending`, `sent` or `dead`.
    pub status: String,
    /// Tries so far.
    pub attempts: i64,
    /// The last failure.
    pub last_error: Option<String>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Delivered.
    pub sent_at: Option<DateTime<Utc>>,
    /// Next try, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// A maintenance window: events of the jobs it covers are recorded, not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MaintenanceWindow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `once` (from `starts_at` to `ends_at`) or `weekly` (on `weekdays`, `start_time`–`end_time`).
    pub kind: String,
    /// `once`: the start.
    pub starts_at: Option<DateTime<Utc>>,
    /// `once`: the end.
    pub ends_at: Option<DateTime<Utc>>,
    /// `weekly`: `mon` … `sun`.
    pub weekdays: Vec<String>,
    /// `weekly`: local start, `HH:MM`.
    pub start_time: Option<String>,
    /// `weekly`: local end, `HH:MM`; at or before the start it ends the next day.
    pub end_time: Option<String>,
    /// IANA time zone of the times.
    pub time_zone: String,
    /// Jobs covered; server and repository events only by `all`.
    pub job_filter: JobFilter,
    /// Active.
    pub enabled: bool,
    /// Whether it is in force now.
    pub active_now: bool,
    /// `once`: the start in `time_zone`, `YYYY-MM-DDTHH:MM`.
    pub starts_local: Option<String>,
    /// `once`: the end in `time_zone`, `YYYY-MM-DDTHH:MM`.
    pub ends_local: Option<String>,
}

/// A new maintenance window, or every field of a changed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindowInput {
    /// Name (1–200 characters, not counting spaces around it; unique).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: String,
    /// `once` or `weekly`.
    #[cfg_attr(feature = "ssr", schema(pattern = "^(once|weekly)$"))]
    pub kind: String,
    /// `once`: RFC 3339, or a local `YYYY-MM-DDTHH:MM` in `time_zone`.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// `once`: as `starts_at`, later than it.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// `weekly`: one or more of `mon` … `sun`.
    #[serde(default)]
    pub weekdays: Vec<String>,
    /// `weekly`: `HH:MM`.
    #[serde(default)]
    pub start_time: Option<String>,
    /// `weekly`: `HH:MM`.
    #[serde(default)]
    pub end_time: Option<String>,
    /// IANA zone (default: the console's `timezone`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Jobs covered (default all).
    #[serde(default)]
    pub job_filter: Option<JobFilter>,
    /// Default true.
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An event a rule matched that was recorded but not sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Suppression {
    /// Id.
    pub id: i64,
    /// The rule that matched.
    pub rule_id: Option<i64>,
    /// The event kind.
    pub event: String,
    /// The job, if about one.
    pub job_id: Option<i64>,
    /// Job (or server) name.
    pub subject: String,
    /// `maintenance` or `correlated` (a missed or late job of a Veeam server that was down).
    pub reason: String,
    /// The window, for `maintenance`.
    pub maintenance_window_id: Option<i64>,
    /// The server, for `correlated`.
    pub veeam_server_id: Option<i64>,
    /// When the event happened.
    pub occurred_at: DateTime<Utc>,
}

#[cfg(feature = "ssr")]
super::text_enum!(ChannelKind, "channel kind");
