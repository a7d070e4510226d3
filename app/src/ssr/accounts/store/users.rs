//! The `users` table.

use chrono::{DateTime, Utc};

use crate::{
    model::user::{Role, UiLocale},
    on_db,
    ssr::infra::db::{Db, is_unique_violation, read_row, readable},
};

/// A row of `users`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// Primary key.
    pub id: i64,
    /// Lower-cased sign-in name.
    pub username: String,
    /// Contact address.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Language of the UI and of messages to the user.
    pub locale: UiLocale,
    /// Disabled users cannot sign in.
    pub disabled: bool,
    /// The next sign-in must set a new password.
    pub must_change_password: bool,
    /// Bumped to invalidate every session of the user.
    pub session_version: i64,
    /// When the row was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// When an unused one-time password stops working.
    pub password_expires_at: Option<DateTime<Utc>>,
}

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Lower-cased sign-in name.
    pub username: &'a str,
    /// Contact address.
    pub email: &'a str,
    /// argon2id PHC string.
    pub password_hash: &'a str,
    /// `admin`, `operator` or `viewer`.
    pub role: &'a str,
    /// `en` or `ja`.
    pub locale: &'a str,
    /// Whether the first sign-in must change the password.
    pub must_change_password: bool,
    /// When a one-time password stops working unless used.
    pub password_expires_at: Option<DateTime<Utc>>,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username is taken.
    #[error("the username is already taken")]
    UsernameTaken,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The column list of [`UserRow`], as a literal so queries can `concat!` it.
macro_rules! user_columns {
    () => {
        "id, username, email, password_hash, role, locale, disabled, \
         must_change_password, session_version, created_at, updated_at, password_expires_at"
    };
}

/// How many users exist.
#[tracing::instrument(skip_all)]
pub async fn count(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("select count(*) from users").fetch_one(pool).await)
}

/// Creates a user and returns its id.
#[tracing::instrument(skip_all, fields(username = %user.username, role = %user.role))]
pub async fn create(db: &Db, user: &NewUser<'_>) -> Result<i64, CreateUserError> {
    let now = Utc::now();
    let result = on_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into users (username, email, password_hash, role, locale, disabled, \
             must_change_password, session_version, created_at, updated_at, password_expires_at) \
             values ($1, $2, $3, $4, $5, false, $6, 0, $7, $7, $8) returning id",
        )
        .bind(user.username)
        .bind(user.email)
        .bind(user.password_hash)
        .bind(user.role)
        .bind(user.locale)
        .bind(user.must_change_password)
        .bind(now)
        .bind(user.password_expires_at)
        .fetch_one(pool)
        .await
    });
    result.map_err(|e| {
        if is_unique_violation(&e) { CreateUserError::UsernameTaken } else { CreateUserError::Db(e) }
    })
}

/// The user with this (lower-cased) username, if any.
#[tracing::instrument(skip_all)]
pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", user_columns!(), " from users where username = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(username).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("users", r)).transpose()
    })
}

/// The user with this id, if any.
#[tracing::instrument(skip_all, fields(id))]
pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", user_columns!(), " from users where id = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("users", r)).transpose()
    })
}

/// Every user, by username.
#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", user_columns!(), " from users order by username");
    on_db!(db, |pool| Ok(readable("users", &sqlx::query(SQL).fetch_all(pool).await?)))
}

/// How many enabled administrators exist.
#[tracing::instrument(skip_all)]
pub async fn count_active_admins(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar("select count(*) from users where role = 'admin' and not disabled")
            .fetch_one(pool)
            .await
    })
}

/// The stored profile fields of a user, all written at once.
#[derive(Debug, Clone)]
pub struct ProfileUpdate<'a> {
    /// Contact address.
    pub email: &'a str,
    /// Role name.
    pub role: &'a str,
    /// Language.
    pub locale: &'a str,
    /// Disabled flag.
    pub disabled: bool,
    /// Whether to end every session and token of the user.
    pub end_sessions: bool,
}

/// Writes a user's profile fields; returns false when the user does not exist.
#[tracing::instrument(skip_all, fields(id))]
pub async fn update_profile(db: &Db, id: i64, update: &ProfileUpdate<'_>) -> Result<bool, sqlx::Error> {
    let bump = i64::from(update.end_sessions);
    let result = on_db!(db, |pool| {
        sqlx::query(
            "update users set email = $1, role = $2, locale = $3, disabled = $4, \
             session_version = session_version + $5, updated_at = $6 where id = $7",
        )
        .bind(update.email)
        .bind(update.role)
        .bind(update.locale)
        .bind(update.disabled)
        .bind(bump)
        .bind(Utc::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    });
    Ok(result? == 1)
}

/// Stores a new password hash and ends every existing session of the user.
/// `one_time_until` marks a one-time password (the next sign-in must change
/// it) that stops working at that time.
#[tracing::instrument(skip_all, fields(id))]
pub async fn set_password(
    db: &Db,
    id: i64,
    password_hash: &str,
    one_time_until: Option<DateTime<Utc>>,
) -> Result<bool, sqlx::Error> {
    let result = on_db!(db, |pool| {
        sqlx::query(
            "update users set password_hash = $1, must_change_password = $2, \
             session_version = session_version + 1, updated_at = $3, password_expires_at = $4 \
             where id = $5",
        )
        .bind(password_hash)
        .bind(one_time_until.is_some())
        .bind(Utc::now())
        .bind(one_time_until)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    });
    Ok(result? == 1)
}

/// Deletes a user (their API tokens go with them); false when absent.
#[tracing::instrument(skip_all, fields(id))]
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    let result = on_db!(db, |pool| {
        sqlx::query("delete from users where id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
    });
    Ok(result? == 1)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::db_test;

    fn alice() -> NewUser<'static> {
        NewUser {
            username: "alice",
            email: "alice@example.co.jp",
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            role: "operator",
            locale: "ja",
            must_change_password: true,
            password_expires_at: None,
        }
    }

    async fn a_created_user_can_be_found_by_name(db: &Db) {
        assert_eq!(count(db).await.unwrap(), 0);
        let id = create(db, &alice()).await.unwrap();
        let row = find_by_username(db, "alice").await.unwrap().unwrap();
        assert_eq!(row.id, id);
        assert_eq!(row.email, "alice@example.co.jp");
        assert_eq!(row.role, Role::Operator);
        assert_eq!(row.locale, UiLocale::Ja);
        assert!(row.must_change_password && !row.disabled);
        assert_eq!(row.session_version, 0);
        assert!((Utc::now() - row.created_at).num_seconds() < 60);
        assert_eq!(count(db).await.unwrap(), 1);
        assert!(find_by_username(db, "bob").await.unwrap().is_none());
    }
    db_test!(a_created_user_can_be_found_by_name_on, a_created_user_can_be_found_by_name);

    async fn usernames_are_unique(db: &Db) {
        create(db, &alice()).await.unwrap();
        assert!(matches!(create(db, &alice()).await, Err(CreateUserError::UsernameTaken)));
        assert_eq!(count(db).await.unwrap(), 1);
    }
    db_test!(usernames_are_unique_on, usernames_are_unique);

    async fn the_role_must_be_one_of_ours(db: &Db) {
        let mut user = alice();
        user.role = "root";
        assert!(matches!(create(db, &user).await, Err(CreateUserError::Db(_))));
        assert_eq!(count(db).await.unwrap(), 0);
    }
    db_test!(the_role_must_be_one_of_ours_on, the_role_must_be_one_of_ours);
}
