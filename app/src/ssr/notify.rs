//! Notifications: what happened (a [`message::Notice`]), rendered in the
//! recipient's language, and sent by e-mail (lettre, SMTP with STARTTLS or
//! TLS) or to Microsoft Teams (Workflows, Adaptive Card 1.4), Slack
//! (Block Kit), Discord (embeds) and generic webhooks (HMAC-SHA256 signed).

pub mod channels;
pub mod chat;
pub mod email;
pub mod message;
pub mod outbox;
pub mod rules;
pub mod windows;

/// Why a delivery failed, and whether and when to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The receiver asked us to wait (`429` with `Retry-After`, or Discord's `retry_after`).
    #[error("rate limited; retry after {0:?}")]
    RetryAfter(std::time::Duration),
    /// Worth trying again later (connection refused, timeout, 5xx, SMTP 4xx).
    #[error("{0}")]
    Temporary(String),
    /// Trying again will not help (4xx other than 429, SMTP 5xx, bad configuration).
    #[error("{0}")]
    Permanent(String),
}
