//! The `audit_log` table.

use chrono::{DateTime, Utc};

use crate::{
    on_db,
    ssr::infra::db::{Db, delete_batched},
};

/// A row of `audit_log`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    /// Primary key.
    pub id: i64,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// Who (if known and still present).
    pub actor_id: Option<i64>,
    /// Their name at the time.
    pub actor_name: Option<String>,
    /// What.
    pub action: String,
    /// Kind of target.
    pub target_type: Option<String>,
    /// Target id.
    pub target_id: Option<String>,
    /// Target name.
    pub target_name: Option<String>,
    /// Client address.
    pub client_ip: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
    /// More.
    pub details: Option<String>,
}

/// A record to append.
#[derive(Debug, Clone, Default)]
pub struct NewAuditRecord {
    /// Who.
    pub actor_id: Option<i64>,
    /// Their name.
    pub actor_name: Option<String>,
    /// What.
    pub action: &'static str,
    /// Kind of target.
    pub target_type: Option<&'static str>,
    /// Target id.
    pub target_id: Option<String>,
    /// Target name.
    pub target_name: Option<String>,
    /// Client address.
    pub client_ip: Option<String>,
    /// Whether it succeeded.
    pub success: bool,
    /// More.
    pub details: Option<String>,
}

/// Appends a record.
#[tracing::instrument(skip_all, fields(action = record.action))]
pub async fn append(db: &Db, record: &NewAuditRecord) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "insert into audit_log (occurred_at, actor_id, actor_name, action, target_type, target_id, \
             target_name, client_ip, success, details) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Utc::now())
        .bind(record.actor_id)
        .bind(&record.actor_name)
        .bind(record.action)
        .bind(record.target_type)
        .bind(&record.target_id)
        .bind(&record.target_name)
        .bind(&record.client_ip)
        .bind(record.success)
        .bind(&record.details)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Whether user `username` has signed in successfully from `client_ip`
/// before (such an address is not locked out by attempts from elsewhere).
#[tracing::instrument(skip_all)]
pub async fn has_signed_in_from(db: &Db, username: &str, client_ip: &str) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "select exists (select 1 from audit_log where action = 'auth.login' and success \
             and actor_name = $1 and client_ip = $2)",
        )
        .bind(username)
        .bind(client_ip)
        .fetch_one(pool)
        .await
    })
}

/// Filters for [`list`]; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exact action, or a prefix ending in `.` (`auth.` for every sign-in event).
    pub action: Option<String>,
    /// Actor's username.
    pub actor: Option<String>,
    /// From this time (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Until this time (exclusive).
    pub until: Option<DateTime<Utc>>,
    /// Only successes (`Some(true)`) or failures.
    pub success: Option<bool>,
    /// Keyset cursor: records older than this id.
    pub before_id: Option<i64>,
}

/// Records matching `filter`, newest first, at most `limit`.
///
/// Paged by id (keyset), never by OFFSET: ids grow with time, so
/// "older than id N" is cheap at any depth.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, filter: &AuditFilter, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let action_prefix = filter.action.as_deref().filter(|a| a.ends_with('.')).map(|a| format!("{a}%"));
    let action_exact = filter.action.as_deref().filter(|a| !a.ends_with('.'));
    on_db!(db, |pool| {
        sqlx::query_as(
            "select id, occurred_at, actor_id, actor_name, action, target_type, target_id, target_name, \
             client_ip, success, details from audit_log \
             where ($1 is null or action = $1) and ($2 is null or action like $2) \
             and ($3 is null or actor_name = $3) and ($4 is null or occurred_at >= $4) \
             and ($5 is null or occurred_at < $5) and ($6 is null or success = $6) \
             and ($7 is null or id < $7) order by id desc limit $8",
        )
        .bind(action_exact)
        .bind(&action_prefix)
        .bind(&filter.actor)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.success)
        .bind(filter.before_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Successful acknowledgements of jobs' problems (`job.acknowledge`) from
/// `since`, oldest first: (job id, time, who, details).
pub async fn acknowledgements_since(
    db: &Db,
    since: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>, Option<String>, Option<String>)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select coalesce(target_id, ''), occurred_at, actor_name, details from audit_log \
             where action = 'job.acknowledge' and success and occurred_at >= $1 order by occurred_at, id",
        )
        .bind(since)
        .fetch_all(pool)
        .await
    })
}

/// Deletes, in batches, the audit records older than `before`. Returns how many went.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    delete_batched(db, "audit_log", "t.occurred_at < $1", before).await
}
