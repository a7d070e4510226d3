//! The SQL of the `console_backups` table.

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
