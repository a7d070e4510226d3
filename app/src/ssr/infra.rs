//! Infrastructure every domain builds on: the database, several instances
//! on one database (leadership, live events across instances), settings, secrets
//! and signing keys, rate limits, live events for dashboards, the shared
//! application state, the supervisor of background work, input parsing
//! shared by both transports, Prometheus metrics, outbound requests (which addresses may be
//! reached, and cleaning what peers answer), and small HTTP helpers.

pub mod cluster;
pub mod db;
pub mod events;
pub mod input;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod outbound;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod supervisor;
pub mod web;
