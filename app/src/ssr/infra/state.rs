//! The state every request handler, server function and background task
//! can reach.
//!
//! It holds only infrastructure. A domain that keeps something per process
//! (the Veeam clients, say) keeps it in [`Slots`] under its own type, so
//! this module depends on no domain.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use super::{
    cluster::Cluster, db::Db, events::EventHub, keys::Keys, limits::RateLimits, secrets::Cipher,
    settings::Settings, supervisor::Supervisor,
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
    /// Background work: periodic tasks and follow-ups, their health, and
    /// shutdown (long-lived responses end when it begins).
    pub tasks: Supervisor,
    /// Per-process values of the domains, by type.
    pub slots: Arc<Slots>,
    /// This instance among those on the database: whether it leads the
    /// periodic work that must run once.
    pub cluster: Cluster,
}

/// Values kept per process by type, each made on first use. Lets a domain
/// keep a cache or a registry in the state without the state knowing it.
#[derive(Default)]
pub struct Slots {
    values: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Slots")
    }
}

impl Slots {
    /// The value of type `T`, made with `T::default()` the first time.
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let value = values.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        match Arc::clone(value).downcast::<T>() {
            Ok(value) => value,
            // Unreachable: the entry for `TypeId::of::<T>()` always holds a `T`.
            Err(_) => Arc::new(T::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;

    #[derive(Default)]
    struct Counter(std::sync::atomic::AtomicU32);

    #[test]
    fn a_slot_is_made_once_and_shared() {
        let slots = Slots::default();
        slots.get::<Counter>().0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(slots.get::<Counter>().0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(*slots.get::<String>(), "");
    }
}
