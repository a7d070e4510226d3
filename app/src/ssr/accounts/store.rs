//! The SQL of the accounts tables: `users`, `auth_sessions`, `api_tokens`
//! and `audit_log`.

pub mod api_tokens;
pub mod audit_log;
pub mod sessions;
pub mod users;
