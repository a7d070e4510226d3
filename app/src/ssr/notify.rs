//! Notifications: who is told what ([`policy`], decided without a
//! database), a message's facts ([`message::Notice`]) rendered in the
//! recipient's language, sent by e-mail (lettre, SMTP with STARTTLS or
//! TLS) or to Microsoft Teams (Workflows, Adaptive Card 1.4), Slack (Block
//! Kit), Discord (embeds) and generic webhooks (HMAC-SHA256 signed),
//! through a durable [`outbox`].
//!
//! The service: [`channels`], [`rules`] and [`windows`] (administrators),
//! the delivery log in [`outbox`], and the notifier's passes
//! ([`produce`], [`work_once`]) and the [`watchdog`]'s that the supervisor
//! runs.

pub mod ack;
pub mod channels;
pub mod chat;
pub mod email;
pub mod filter;
pub mod message;
pub mod outbox;
pub mod policy;
pub mod rules;
pub mod send;
pub mod store;
pub mod watchdog;
pub mod windows;

pub use outbox::{WorkOutcome, produce, produce_at, work_once};
pub use send::SendError;
pub use store::NewConsoleEvent;

/// The name of the notifier's task (its last good pass is the worker's
/// heartbeat in `/health` and on the delivery log).
pub const NOTIFIER_TASK: &str = "notifier";

/// Deletes old notification history (data retention): deliveries sent or
/// given up, held-back events and read console events recorded before
/// `before`. Returns how many rows went.
pub async fn prune_history(
    db: &crate::ssr::infra::db::Db,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    let read = store::cursor(db, "console_events").await?;
    store::prune(db, before, read).await
}

/// How far the notifier has read a table of events (`job_events`,
/// `system_events`): events up to this id may be pruned.
pub async fn read_up_to(db: &crate::ssr::infra::db::Db, table: &str) -> Result<i64, sqlx::Error> {
    store::cursor(db, table).await
}
