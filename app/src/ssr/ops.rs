//! Running the console itself: its Prometheus metrics, data retention
//! and its own backups (the `console_backups` table's SQL is in `store`). The top
//! domain: it reads every other through their service APIs.

pub mod backup;
pub mod badges;
pub mod cluster;
pub mod metrics;
pub mod retention;
pub mod selfcheck;
mod store;
