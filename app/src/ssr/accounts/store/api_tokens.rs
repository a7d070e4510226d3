//! The `api_tokens` table.

use chrono::{DateTime, Utc};

use crate::{
    model::token::TokenScope,
    on_db,
    ssr::infra::db::{Db, read_row, readable},
};

/// A row of `api_tokens`, with its owner's username.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiTokenRow {
    /// Primary key.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Owner's username.
    pub username: String,
    /// The owner's label.
    pub name: String,
    /// What the token may do.
    pub scope: TokenScope,
    /// First characters of the secret.
    pub prefix: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Last use (at minute resolution).
    pub last_used_at: Option<DateTime<Utc>>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The jobs it is limited to (a JSON array of ids), if limited.
    pub job_ids: Option<String>,
    /// The tags it is limited to (a JSON array), if limited.
    pub tags: Option<String>,
}

macro_rules! token_select {
    () => {
        "select t.id, t.user_id, u.username, t.name, t.scope, t.prefix, t.created_at, t.expires_at, \
         t.last_used_at, t.revoked_at, t.job_ids, t.tags from api_tokens t join users u on u.id = t.user_id"
    };
}

/// What it takes to store a token.
#[derive(Debug)]
pub struct NewToken<'a> {
    /// Owner.
    pub user_id: i64,
    /// Label.
    pub name: &'a str,
    /// Scope name.
    pub scope: &'a str,
    /// SHA-256 of the secret, hex.
    pub secret_hash: &'a str,
    /// First characters of the secret.
    pub prefix: &'a str,
    /// Expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// The jobs it is limited to (a JSON array of ids), if limited.
    pub job_ids: Option<String>,
    /// The tags it is limited to (a JSON array), if limited.
    pub tags: Option<String>,
}

/// Stores a token and returns its id.
#[tracing::instrument(skip_all, fields(user_id = token.user_id))]
pub async fn create(db: &Db, token: &NewToken<'_>) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into api_tokens (user_id, name, scope, secret_hash, prefix, created_at, expires_at, \
             job_ids, tags) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
        )
        .bind(token.user_id)
        .bind(token.name)
        .bind(token.scope)
        .bind(token.secret_hash)
        .bind(token.prefix)
        .bind(Utc::now())
        .bind(token.expires_at)
        .bind(token.job_ids.as_deref())
        .bind(token.tags.as_deref())
        .fetch_one(pool)
        .await
    })
}

/// The token with this secret hash.
#[tracing::instrument(skip_all)]
pub async fn find_by_hash(db: &Db, secret_hash: &str) -> Result<Option<ApiTokenRow>, sqlx::Error> {
    const SQL: &str = concat!(token_select!(), " where t.secret_hash = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(secret_hash).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("api_tokens", r)).transpose()
    })
}

/// The token with this id.
#[tracing::instrument(skip_all, fields(id))]
pub async fn find(db: &Db, id: i64) -> Result<Option<ApiTokenRow>, sqlx::Error> {
    const SQL: &str = concat!(token_select!(), " where t.id = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("api_tokens", r)).transpose()
    })
}

/// A user's tokens (or everyone's with `None`), newest first.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db, user_id: Option<i64>) -> Result<Vec<ApiTokenRow>, sqlx::Error> {
    const SQL: &str = concat!(token_select!(), " where ($1 is null or t.user_id = $1) order by t.id desc");
    on_db!(db, |pool| Ok(readable("api_tokens", &sqlx::query(SQL).bind(user_id).fetch_all(pool).await?)))
}

/// Records a use.
pub async fn touch(db: &Db, id: i64, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update api_tokens set last_used_at = $1 where id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Revokes one token; false when it was absent or already revoked.
#[tracing::instrument(skip_all, fields(id))]
pub async fn revoke(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let result = on_db!(db, |pool| {
        sqlx::query("update api_tokens set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(Utc::now())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    Ok(result? == 1)
}

/// Revokes every live token of a user; returns how many.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn revoke_all_of_user(db: &Db, user_id: i64) -> Result<u64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update api_tokens set revoked_at = $1 where user_id = $2 and revoked_at is null")
            .bind(Utc::now())
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
