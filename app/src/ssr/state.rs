//! The state every request handler and server function can reach.

use std::{sync::Arc, time::Instant};

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use super::{
    db::Db, events::EventHub, keys::Keys, limits::RateLimits, secrets::Cipher, settings::Settings,
    veeam::sync::VeeamHub,
};

/// Shared, cheaply cloneable application state.
#[derive(Clone, Debug, FromRef)]
pub struct AppState {
    /// Leptos's own options (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The database pool.
    pub db: Db,
    /// Validated settings.
    pub settings: Arc<Settings>,
    /// When this process started, for `/health`'s uptime.
    pub started_at: Instant,
    /// Signing and cookie keys.
    pub keys: Keys,
    /// Rate limiters.
    pub limits: Arc<RateLimits>,
    /// Live events for dashboards.
    pub events: EventHub,
    /// Encrypts secrets stored in the database.
    pub cipher: Cipher,
    /// Veeam clients, one per server.
    pub veeam: Arc<VeeamHub>,
    /// When the notification worker last finished a pass.
    pub notifier_heartbeat: Arc<std::sync::RwLock<Option<chrono::DateTime<chrono::Utc>>>>,
    /// Becomes `true` when the server starts shutting down (long-lived
    /// responses such as event streams end then).
    pub stopping: tokio::sync::watch::Receiver<bool>,
}
