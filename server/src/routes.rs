//! Plain axum routes (everything that is not a Leptos page or server function).

pub mod badge;
pub mod health;
pub mod manifest;
pub mod metrics;
pub mod ping;
pub mod prefs;
