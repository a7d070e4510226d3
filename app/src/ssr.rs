//! Server-only code: settings, database, auth, accounts, passwords, state.
//! Compiled only with the `ssr` feature, so none of it reaches the WASM bundle.

pub mod accounts;
pub mod audit_trail;
pub mod auth;
pub mod bootstrap;
pub mod db;
pub mod demo;
pub mod events;
pub mod flash;
pub mod ingest;
pub mod jobs;
pub mod keys;
pub mod limits;
pub mod locale;
pub mod manifest;
pub mod monitor;
pub mod notify;
pub mod password;
pub mod schedule;
pub mod secrets;
pub mod security;
pub mod settings;
pub mod state;
pub mod tokens;
pub mod veeam;
