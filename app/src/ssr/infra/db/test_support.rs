//! Throw-away databases for tests, on both backends.
//!
//! SQLite databases live in a temporary directory. PostgreSQL databases are
//! created on the server named by `TEST_POSTGRES_URL` (a role allowed to
//! create databases), one fresh database per test. Without that variable
//! the PostgreSQL twin of a test is skipped, unless `TEST_REQUIRE_POSTGRES=1`
//! (set by the project's test command), which turns the skip into a failure.

use rand::Rng;
use sqlx::{Connection, Executor, PgConnection};

use super::Db;
use crate::ssr::infra::settings::DatabaseUrl;

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    /// The pool.
    pub db: Db,
    /// Its URL (for starting a whole server on it).
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("url", &self.url).finish()
    }
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on `TEST_POSTGRES_URL`.
    Postgres,
}

impl TestDb {
    /// A database on `backend`, or `None` when PostgreSQL is not configured
    /// (and not required).
    pub async fn new(backend: TestBackend) -> Option<Self> {
        match backend {
            TestBackend::Sqlite => Some(Self::sqlite().await),
            TestBackend::Postgres => Self::postgres().await,
        }
    }

    /// A migrated SQLite database in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = DatabaseUrl::new(format!("sqlite://{}/test.db", dir.path().display()));
        let db = Db::connect(&url).await.expect("open the SQLite test database");
        db.migrate().await.expect("migrate the SQLite test database");
        Self { db, url, _dir: Some(dir) }
    }

    /// A migrated, fresh PostgreSQL database, or `None` without `TEST_POSTGRES_URL`.
    pub async fn postgres() -> Option<Self> {
        let url = Self::empty_postgres().await?;
        let db = Db::connect(&url).await.expect("connect to the PostgreSQL test database");
        db.migrate().await.expect("migrate the PostgreSQL test database");
        Some(Self { db, url, _dir: None })
    }

    /// The URL of a fresh, empty PostgreSQL database (no tables, no
    /// connections), or `None` without `TEST_POSTGRES_URL`.
    pub async fn empty_postgres() -> Option<DatabaseUrl> {
        let url = url_without_database()?;
        let name = format!("bms_t_{:016x}", rand::rng().random::<u64>());
        let mut admin = PgConnection::connect(&url).await.expect("connect to TEST_POSTGRES_URL");
        admin
            .execute(sqlx::AssertSqlSafe(format!("create database {name}")))
            .await
            .expect("create the test database");
        let _ = admin.close().await;
        let mut test_url = url::Url::parse(&url).expect("TEST_POSTGRES_URL is a URL");
        test_url.set_path(&name);
        Some(DatabaseUrl::new(test_url.to_string()))
    }
}

/// `TEST_POSTGRES_URL`, or `None` (panicking if PostgreSQL is required).
fn url_without_database() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("TEST_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("TEST_REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        }
        _ => {
            eprintln!("TEST_POSTGRES_URL is not set: skipping the PostgreSQL twin of this test");
            None
        }
    }
}

/// Runs an async test body against SQLite and, as a second test, against
/// PostgreSQL: `db_test!(name, body)` where `body` is an
/// `async fn(&Db)`. Test names become `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:path) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                let test_db = $crate::ssr::infra::db::test_support::TestDb::sqlite().await;
                $body(&test_db.db).await;
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(test_db) = $crate::ssr::infra::db::test_support::TestDb::postgres().await {
                    $body(&test_db.db).await;
                }
            }
        }
    };
}
