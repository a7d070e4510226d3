//! The `notification_channels` table.

use chrono::{DateTime, Utc};

use super::{Db, is_unique_violation};
use crate::on_db;

/// A row of `notification_channels`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// `ja` or `en`.
    pub locale: String,
    /// Enabled.
    pub enabled: bool,
    /// `v1:` AES-GCM text of the settings JSON.
    pub config_encrypted: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "id, name, kind, locale, enabled, config_encrypted, created_at, updated_at"
    };
}

/// A duplicate name, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteChannelError {
    /// Duplicate name.
    #[error("a channel with this name exists")]
    NameTaken,
    /// Database.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn conflict(e: sqlx::Error) -> WriteChannelError {
    if is_unique_violation(&e) { WriteChannelError::NameTaken } else { WriteChannelError::Db(e) }
}

/// Every channel by name.
pub async fn list(db: &Db) -> Result<Vec<ChannelRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", columns!(), " from notification_channels order by name");
    on_db!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
}

/// One channel.
pub async fn find(db: &Db, id: i64) -> Result<Option<ChannelRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", columns!(), " from notification_channels where id = $1");
    on_db!(db, |pool| sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)
}

/// Adds a channel; its id.
pub async fn insert(
    db: &Db,
    name: &str,
    kind: &str,
    locale: &str,
    enabled: bool,
    config_encrypted: &str,
) -> Result<i64, WriteChannelError> {
    let now = Utc::now();
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into notification_channels (name, kind, locale, enabled, config_encrypted, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $6) returning id",
        )
        .bind(name)
        .bind(kind)
        .bind(locale)
        .bind(enabled)
        .bind(config_encrypted)
        .bind(now)
        .fetch_one(pool)
        .await
    })
    .map_err(conflict)
}

/// Replaces a channel's fields; false when it does not exist.
pub async fn update(
    db: &Db,
    id: i64,
    name: &str,
    locale: &str,
    enabled: bool,
    config_encrypted: &str,
) -> Result<bool, WriteChannelError> {
    let now = Utc::now();
    on_db!(db, |pool| {
        sqlx::query(
            "update notification_channels set name = $2, locale = $3, enabled = $4, config_encrypted = $5, \
             updated_at = $6 where id = $1",
        )
        .bind(id)
        .bind(name)
        .bind(locale)
        .bind(enabled)
        .bind(config_encrypted)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
    .map_err(conflict)
}

/// Removes a channel; false when it did not exist.
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("delete from notification_channels where id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}
