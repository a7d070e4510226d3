//! The audit log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Identifier.
    pub id: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it (absent for anonymous attempts or deleted users).
    pub actor_id: Option<i64>,
    /// Their username at the time (or the name tried, for failed sign-ins).
    pub actor_name: Option<String>,
    /// What happened, such as `auth.login`, `user.create`, `token.revoke`.
    pub action: String,
    /// The kind of thing acted on (`user`, `token`...).
    pub target_type: Option<String>,
    /// Its identifier.
    pub target_id: Option<String>,
    /// Its name at the time.
    pub target_name: Option<String>,
    /// The client's address.
    pub client_ip: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
    /// More about it, in English, for auditors.
    pub details: Option<String>,
}
