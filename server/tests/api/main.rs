//! Integration tests: the real server on a random port, on SQLite and on
//! PostgreSQL (when `TEST_POSTGRES_URL` is set), driven over HTTP.

#![expect(clippy::unwrap_used)]

mod ack;
mod auth;
mod backup;
mod badges;
mod calendar;
mod cli;
mod cluster;
mod helpers;
mod jobs;
mod logs;
mod metrics;
mod notify_outbox;
mod notify_restart;
mod notify_send;
mod openapi;
mod outbound;
mod rbac;
mod report_schedules;
mod reports;
mod retention;
mod security;
mod shell;
mod throughput;
mod veeam_client;
mod veeam_expect;
mod veeam_spec;
mod veeam_sync;
mod watchdog;
