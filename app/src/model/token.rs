//! API tokens.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an API token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Read only (GET).
    Read,
    /// Everything the owner's role allows, except managing tokens and passwords.
    Write,
    /// Only reporting runs (ping URLs, run reports, the Veeam job-complete webhook).
    Ingest,
}

impl TokenScope {
    /// Every scope.
    pub const ALL: [TokenScope; 3] = [TokenScope::Read, TokenScope::Write, TokenScope::Ingest];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
            TokenScope::Ingest => "ingest",
        }
    }

    /// Parses a stored or submitted name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// An API token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Identifier.
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// The owner's username.
    pub username: String,
    /// What the token is for, in the owner's words.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// The first characters of the secret.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When set, the token may report runs for and change only these jobs
    /// (and those with one of `tags`).
    #[serde(default)]
    pub job_ids: Option<Vec<i64>>,
    /// When set, the token may report runs for and change only jobs with
    /// one of these tags (and those in `job_ids`).
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// A new API token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewApiToken {
    /// A name that says where it is used (1–100 characters, not counting
    /// spaces around it).
    #[cfg_attr(feature = "ssr", schema(max_length = 100, pattern = r"\S"))]
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it stops working (in the future); never when absent.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
        )
    )]
    pub expires_at: Option<DateTime<Utc>>,
    /// Limits the token to these jobs (at most 100 ids); with `tags`, to
    /// the jobs named or tagged. Absent: every job.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 100, value_type = Option<Vec<JobId>>))]
    pub job_ids: Option<Vec<i64>>,
    /// Limits the token to jobs with one of these tags (at most 20).
    /// Absent: every job.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_items = 20, value_type = Option<Vec<crate::model::job::Tag>>))]
    pub tags: Option<Vec<String>>,
}

/// A job's id as a token limit takes it (documentation only): a positive
/// integer.
#[cfg(feature = "ssr")]
pub struct JobId;

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for JobId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::Integer)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Int64)))
            .minimum(Some(1))
            .into()
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for JobId {}

/// A created token with its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedApiToken {
    /// The token.
    pub token: ApiToken,
    /// The secret: send it as `Authorization: Bearer <secret>`.
    pub secret: String,
}

#[cfg(feature = "ssr")]
super::text_enum!(TokenScope, "token scope");
