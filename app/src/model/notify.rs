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
    /// SMTP port (default 587).
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
    /// Name (1–200 characters, unique).
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
    /// `ja` (default) or `en`.
    #[serde(default)]
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
    /// Name.
    pub name: Option<String>,
    /// Language.
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
