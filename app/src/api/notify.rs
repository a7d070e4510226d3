//! The delivery log, for the UI.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, model::notify::Delivery};

#[cfg(feature = "ssr")]
use super::server;

/// What the delivery log page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLogPage {
    /// The newest deliveries (filtered).
    pub deliveries: Vec<Delivery>,
    /// (id, name, kind) of every channel.
    pub channels: Vec<(i64, String, String)>,
    /// Deliveries waiting.
    pub queue: i64,
    /// The worker's last pass on the instance that answered.
    pub last_loop_at: Option<DateTime<Utc>>,
}

/// The delivery log, optionally only one status (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/log")]
pub async fn delivery_log(status: Option<String>) -> Result<DeliveryLogPage, AppError> {
    let (state, info) = server::ctx()?;
    let status = super::non_empty(status).filter(|s| matches!(s.as_str(), "pending" | "sent" | "dead"));
    let deliveries = crate::ssr::notify::outbox::list(&state, &info, status, None, None, Some(200)).await?;
    let channels = crate::ssr::notify::channels::list(&state, &info)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name, c.kind.as_str().to_owned()))
        .collect();
    let queue = crate::ssr::notify::outbox::queue_length(&state).await?;
    let last_loop_at = *state.notifier_heartbeat.read().unwrap_or_else(|e| e.into_inner());
    Ok(DeliveryLogPage { deliveries, channels, queue, last_loop_at })
}

/// Queues a sent or dead delivery again (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/resend")]
pub async fn resend_delivery(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::outbox::resend(&state, &info, id).await
}
