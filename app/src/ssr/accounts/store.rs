//! The SQL of the accounts tables: `users`, `api_tokens` and `audit_log`.

pub mod api_tokens;
pub mod audit_log;
pub mod users;
