//! Accounts: who may do what. Signing in (sessions, bearer JWTs, API
//! tokens), the users an administrator manages, one's own password and
//! language, API tokens, password hashing and the audit log.
//!
//! Other domains use [`RequestInfo`] and [`Access`] to check roles, and
//! [`audit`] to record what was done; the SQL of `users`, `api_tokens`
//! and `audit_log` lives in [`store`].

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod password;
pub mod store;
pub mod tokens;
mod users;

pub use auth::{Access, AuthVia, Principal, RequestInfo};
pub use users::{
    SignedIn, change_own_password, create_user, delete_user, get_user, list_users, me, prune_sessions,
    renewed_session_cookie, reset_password, set_own_locale, sign_in, sign_out, token_ttl, update_user,
    user_choices, username_of,
};
