//! The SQL of the `console_backups` and `status_badges` tables.

use chrono::{DateTime, Utc};

use crate::{on_db, ssr::infra::db::Db};

/// A backup to record.
#[derive(Debug, Clone)]
pub struct NewBackup<'a> {
    /// The file's name, when one was written.
    pub file_name: Option<&'a str>,
    /// `scheduled` or `manual`.
    pub trigger: &'a str,
    /// `sqlite` or `postgres`.
    pub backend: &'a str,
    /// Encrypted to the age recipient.
    pub encrypted: bool,
    /// `ok` or `failed`.
    pub status: &'a str,
    /// Size.
    pub size_bytes: Option<i64>,
    /// SHA-256, hex.
    pub sha256: Option<&'a str>,
    /// Why it failed.
    pub error: Option<&'a str>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
}

/// A row of `console_backups`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BackupRow {
    /// Id.
    pub id: i64,
    /// File name.
    pub file_name: Option<String>,
    /// `scheduled` or `manual`.
    pub trigger: String,
    /// Backend.
    pub backend: String,
    /// Encrypted.
    pub encrypted: bool,
    /// `ok` or `failed`.
    pub status: String,
    /// Size.
    pub size_bytes: Option<i64>,
    /// SHA-256.
    pub sha256: Option<String>,
    /// Error.
    pub error: Option<String>,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, file_name, trigger, backend, encrypted, status, size_bytes, sha256, error, started_at, finished_at";

/// Records a backup; returns its id.
pub async fn insert(db: &Db, backup: &NewBackup<'_>) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into console_backups (file_name, trigger, backend, encrypted, status, size_bytes, sha256, \
             error, started_at, finished_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
        )
        .bind(backup.file_name)
        .bind(backup.trigger)
        .bind(backup.backend)
        .bind(backup.encrypted)
        .bind(backup.status)
        .bind(backup.size_bytes)
        .bind(backup.sha256)
        .bind(backup.error)
        .bind(backup.started_at)
        .bind(backup.finished_at)
        .fetch_one(pool)
        .await
    })
}

/// The newest `limit` backups, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<BackupRow>, sqlx::Error> {
    let sql = format!("select {COLUMNS} from console_backups order by started_at desc, id desc limit $1");
    on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await)
}

/// The newest scheduled backup begun at or after `since`.
pub async fn scheduled_since(db: &Db, since: DateTime<Utc>) -> Result<Option<BackupRow>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from console_backups where trigger = 'scheduled' and started_at >= $1 \
         order by started_at desc, id desc limit 1"
    );
    on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since).fetch_optional(pool).await)
}

/// The newest scheduled backup before this one, to tell a recovery.
pub async fn last_scheduled(db: &Db) -> Result<Option<BackupRow>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from console_backups where trigger = 'scheduled' order by started_at desc, id desc limit 1"
    );
    on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_optional(pool).await)
}

/// The recorded SHA-256 of a file, if this database wrote it.
pub async fn checksum_of(db: &Db, file_name: &str) -> Result<Option<String>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar(
        "select sha256 from console_backups where file_name = $1 and status = 'ok' order by id desc limit 1"
    )
    .bind(file_name)
    .fetch_optional(pool)
    .await
    .map(Option::flatten))
}

/// A row of `status_badges`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BadgeRow {
    /// Id.
    pub id: i64,
    /// The secret in its URL.
    pub token: String,
    /// The job, for a job badge.
    pub job_id: Option<i64>,
    /// The tag, for a tag badge.
    pub tag: Option<String>,
    /// Shows the last run's age.
    pub show_age: bool,
    /// Who made it.
    pub created_by: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

const BADGE_COLUMNS: &str = "id, token, job_id, tag, show_age, created_by, created_at";

/// Records a badge; returns its id.
pub async fn insert_badge(
    db: &Db,
    token: &str,
    job_id: Option<i64>,
    tag: Option<&str>,
    show_age: bool,
    created_by: &str,
    at: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into status_badges (token, job_id, tag, show_age, created_by, created_at) \
             values ($1, $2, $3, $4, $5, $6) returning id",
        )
        .bind(token)
        .bind(job_id)
        .bind(tag)
        .bind(show_age)
        .bind(created_by)
        .bind(at)
        .fetch_one(pool)
        .await
    })
}

/// The live badge with `token`.
pub async fn badge_by_token(db: &Db, token: &str) -> Result<Option<BadgeRow>, sqlx::Error> {
    let sql = format!("select {BADGE_COLUMNS} from status_badges where token = $1 and revoked_at is null");
    on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(token).fetch_optional(pool).await)
}

/// The live badge `id`.
pub async fn badge(db: &Db, id: i64) -> Result<Option<BadgeRow>, sqlx::Error> {
    let sql = format!("select {BADGE_COLUMNS} from status_badges where id = $1 and revoked_at is null");
    on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(pool).await)
}

/// The live badges of a job and of the given tags, oldest first.
pub async fn badges_for(db: &Db, job_id: i64, tags: &[String]) -> Result<Vec<BadgeRow>, sqlx::Error> {
    let sql = format!(
        "select {BADGE_COLUMNS} from status_badges where revoked_at is null and job_id = $1 order by id"
    );
    let mut rows: Vec<BadgeRow> =
        on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(job_id).fetch_all(pool).await)?;
    for tag in tags {
        let sql = format!(
            "select {BADGE_COLUMNS} from status_badges where revoked_at is null and tag = $1 order by id"
        );
        let tagged: Vec<BadgeRow> =
            on_db!(db, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tag).fetch_all(pool).await)?;
        rows.extend(tagged);
    }
    Ok(rows)
}

/// Revokes badge `id`; false when there was no live one.
pub async fn revoke_badge(db: &Db, id: i64, at: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| sqlx::query(
        "update status_badges set revoked_at = $1 where id = $2 and revoked_at is null"
    )
    .bind(at)
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected() == 1))
}
