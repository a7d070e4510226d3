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

/// The name of the notifier's task (its last good pass is the worker's
/// heartbeat in `/health` and on the delivery log).
pub const NOTIFIER_TASK: &str = "notifier";
