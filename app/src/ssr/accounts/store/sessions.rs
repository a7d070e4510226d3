//! The `auth_sessions` table: one row per session cookie or bearer JWT.

use chrono::{DateTime, Utc};

use crate::{on_db, ssr::infra::db::Db};

/// A row of `auth_sessions`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    /// The JWT's `sid`.
    pub id: String,
    /// Whose session it is.
    pub user_id: i64,
    /// `session` (cookie) or `api` (bearer JWT).
    pub kind: String,
    /// When it began (the sign-in).
    pub created_at: DateTime<Utc>,
    /// When it ends however active it is.
    pub expires_at: DateTime<Utc>,
    /// When it was signed out.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Stores a new session.
#[tracing::instrument(skip_all, fields(user_id))]
pub async fn create(
    db: &Db,
    id: &str,
    user_id: i64,
    kind: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "insert into auth_sessions (id, user_id, kind, created_at, expires_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(user_id)
        .bind(kind)
        .bind(Utc::now())
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// The session with this id, if any.
#[tracing::instrument(skip_all)]
pub async fn find(db: &Db, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select id, user_id, kind, created_at, expires_at, revoked_at from auth_sessions where id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// Ends a session (sign-out); false when it was already ended or is unknown.
#[tracing::instrument(skip_all)]
pub async fn revoke(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    let done = on_db!(db, |pool| {
        sqlx::query("update auth_sessions set revoked_at = $1 where id = $2 and revoked_at is null")
            .bind(Utc::now())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    Ok(done? == 1)
}

/// Forgets sessions that ended before `before`; returns how many.
#[tracing::instrument(skip_all)]
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("delete from auth_sessions where expires_at < $1 or revoked_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use chrono::Duration;

    use super::*;
    use crate::{
        db_test,
        ssr::accounts::store::users::{self, NewUser},
    };

    fn user(name: &'static str) -> NewUser<'static> {
        NewUser {
            username: name,
            email: "u@example.co.jp",
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            role: "viewer",
            locale: "en",
            must_change_password: false,
            password_expires_at: None,
        }
    }

    async fn a_session_is_found_revoked_and_goes_with_its_user(db: &Db) {
        let id = users::create(db, &user("bob")).await.unwrap();
        create(db, "s1", id, "session", Utc::now() + Duration::days(7)).await.unwrap();
        let row = find(db, "s1").await.unwrap().unwrap();
        assert_eq!((row.user_id, row.kind.as_str(), row.revoked_at), (id, "session", None));
        assert!(revoke(db, "s1").await.unwrap());
        assert!(!revoke(db, "s1").await.unwrap(), "a second sign-out changes nothing");
        assert!(find(db, "s1").await.unwrap().unwrap().revoked_at.is_some());
        create(db, "s2", id, "api", Utc::now() + Duration::hours(1)).await.unwrap();
        users::delete(db, id).await.unwrap();
        assert!(find(db, "s2").await.unwrap().is_none(), "a deleted user's sessions are gone");
    }
    db_test!(
        a_session_is_found_revoked_and_goes_with_its_user_on,
        a_session_is_found_revoked_and_goes_with_its_user
    );

    async fn a_deleted_users_id_is_never_given_again(db: &Db) {
        users::create(db, &user("alice")).await.unwrap();
        let bob = users::create(db, &user("bob")).await.unwrap();
        users::delete(db, bob).await.unwrap();
        let carol = users::create(db, &user("carol")).await.unwrap();
        assert!(carol > bob, "carol got id {carol}, bob had {bob}");
    }
    db_test!(a_deleted_users_id_is_never_given_again_on, a_deleted_users_id_is_never_given_again);

    async fn ended_sessions_are_pruned(db: &Db) {
        let id = users::create(db, &user("bob")).await.unwrap();
        create(db, "old", id, "session", Utc::now() - Duration::days(1)).await.unwrap();
        create(db, "live", id, "session", Utc::now() + Duration::days(1)).await.unwrap();
        assert_eq!(prune(db, Utc::now()).await.unwrap(), 1);
        assert!(find(db, "live").await.unwrap().is_some());
    }
    db_test!(ended_sessions_are_pruned_on, ended_sessions_are_pruned);
}
