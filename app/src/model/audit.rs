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

/// The audit log's filters, as the audit page and `GET /api/v1/audit` send
/// them: text, read once on the server, the same mistakes getting the same
/// field-named answer either way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// An action (`auth.login`) or a prefix ending in a dot (`auth.`).
    #[serde(default)]
    pub action: Option<String>,
    /// The acting user's username.
    #[serde(default)]
    pub actor: Option<String>,
    /// From this time: RFC 3339, a local `YYYY-MM-DD HH:MM[:SS]`, or a date
    /// (its start), local times in the console's time zone.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = r"^ *([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)? *$"
        )
    )]
    pub since: Option<String>,
    /// Until this time (exclusive): as `since`.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        param(
            pattern = r"^ *([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?|T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?)? *$"
        )
    )]
    pub until: Option<String>,
    /// Only successes (`true`) or failures (`false`).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *(|true|false) *$"))]
    pub success: Option<String>,
    /// The page's spelling of `success`: `success` or `failure`.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *(|success|failure) *$"))]
    pub outcome: Option<String>,
    /// At most this many records: a whole number, taken as 1 to 200 (default 50).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *([+-]?[0-9]{1,18})? *$"))]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", param(pattern = r"^ *([+-]?[0-9]{1,18})? *$"))]
    pub cursor: Option<String>,
}
