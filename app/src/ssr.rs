//! Server-only code, grouped by domain. Compiled only with the `ssr`
//! feature, so none of it reaches the WASM bundle.
//!
//! - [`infra`]: the database, settings, secrets, keys, rate limits, live
//!   events, the shared state and the supervisor of background work.
//! - [`accounts`]: signing in, users, API tokens, passwords, the audit log.
//! - [`jobs`]: jobs, runs, schedules, the report-in path and the monitor.
//! - [`veeam`]: Veeam servers, the REST client, the sync and job actions.
//! - [`notify`]: channels, rules, maintenance windows and the outbox.
//! - [`reports`]: figures for a period, CSV and PDF, scheduled report e-mails.
//! - [`ops`]: running the console itself: its Prometheus metrics.
//!
//! Dependencies run one way: `ops → reports → notify → veeam → jobs → accounts → infra`
//! (a domain may skip levels, never go up), each domain's root module is
//! its service API, its store owns its tables' SQL, and nothing here
//! imports the UI (`pages`, `components`). `docs/ARCHITECTURE.md` has the
//! map; the `layout` test below enforces it.

pub mod accounts;
pub mod infra;
pub mod jobs;
pub mod notify;
pub mod ops;
pub mod reports;
pub mod veeam;

#[cfg(test)]
mod layout;
