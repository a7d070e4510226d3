//! The database: SQLite (embedded default) or PostgreSQL, chosen by the
//! URL's scheme.
//!
//! Every query is written once, in SQL both backends accept (lowercase,
//! `$N` placeholders, explicit column lists), and run through [`on_db!`],
//! which expands the same code for each pool type, or [`on_tx!`] for a
//! write transaction. Where the backends really differ (row locking,
//! upserts of some shapes) the store matches on [`Db`] explicitly. The
//! SQL itself lives with the domain that owns each table
//! (`jobs::store`, `veeam::store`, ...); this module only connects.

#[cfg(any(test, feature = "test-support"))]
pub mod test_support;

use std::{path::Path, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use sqlx::{
    ConnectOptions, Connection, PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::settings::DatabaseUrl;

/// A connection pool on one of the supported backends.
#[derive(Clone, Debug)]
pub enum Db {
    /// The embedded default.
    Sqlite(SqlitePool),
    /// For several instances behind a load balancer.
    Postgres(PgPool),
}

/// Which backend a [`Db`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, as reported by `/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`.
///
/// The body is compiled once per backend, so one query text serves both.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::ssr::infra::db::Db::Sqlite($pool) => $body,
            $crate::ssr::infra::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` in a write transaction on the concrete backend, with
/// `$tx` bound to the transaction and `$lock` to whether `select ... for
/// update` is needed to lock a row (PostgreSQL; SQLite's `begin immediate`
/// already holds the database's write lock for the whole transaction, so a
/// read-then-write cannot race another writer).
///
/// The body runs as an async block of its own, so a `return` or `?` inside
/// it ends the body, never the caller: the transaction commits exactly when
/// the body's result is `Ok` (an early `return Ok(..)` included) and rolls
/// back when it is `Err`. `$body` must evaluate to a `Result` whose error
/// converts from `sqlx::Error`.
#[macro_export]
macro_rules! on_tx {
    ($db:expr, |$tx:ident, $lock:ident| $body:expr) => {
        match $db {
            $crate::ssr::infra::db::Db::Sqlite(pool) => {
                let mut $tx = pool.begin_with("begin immediate").await?;
                let $lock = false;
                let out = async { $body }.await;
                $crate::ssr::infra::db::finish($tx, out).await
            }
            $crate::ssr::infra::db::Db::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let $lock = true;
                let out = async { $body }.await;
                $crate::ssr::infra::db::finish($tx, out).await
            }
        }
    };
}

/// Ends a transaction by its body's result: commits on `Ok`, rolls back on
/// `Err` (a failed rollback is logged; the body's error is what the caller
/// needs to see). Used by [`on_tx!`].
pub async fn finish<DB, T, E>(tx: sqlx::Transaction<'_, DB>, out: Result<T, E>) -> Result<T, E>
where
    DB: sqlx::Database,
    E: From<sqlx::Error>,
{
    match out {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(error) => {
            if let Err(e) = tx.rollback().await {
                tracing::warn!(error = %e, "rolling back a failed transaction failed");
            }
            Err(error)
        }
    }
}

/// Reads one row into `R`. A row that cannot be read (a stored value the
/// code does not know, such as a job state written by a newer version or
/// by hand) is an error that names its table and id in the log: it is
/// never read as a default.
pub fn read_row<'r, R, Row>(table: &'static str, row: &'r Row) -> Result<R, sqlx::Error>
where
    Row: sqlx::Row,
    R: sqlx::FromRow<'r, Row>,
    &'static str: sqlx::ColumnIndex<Row>,
    i64: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
{
    R::from_row(row).inspect_err(|error| {
        let id: Option<i64> = row.try_get("id").ok();
        tracing::error!(table, id, %error, "a stored row cannot be read");
    })
}

/// Whether an error is a stored value that cannot be read (see
/// [`read_row`]) rather than the database failing.
pub fn is_unreadable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_))
}

/// Reads every row that can be read; the others are logged (see
/// [`read_row`]) and left out, so one bad row does not hide a whole list.
pub fn readable<'r, R, Row>(table: &'static str, rows: &'r [Row]) -> Vec<R>
where
    Row: sqlx::Row,
    R: sqlx::FromRow<'r, Row>,
    &'static str: sqlx::ColumnIndex<Row>,
    i64: sqlx::Decode<'r, Row::Database> + sqlx::Type<Row::Database>,
{
    rows.iter().filter_map(|row| read_row(table, row).ok()).collect()
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL's scheme names no supported backend.
    #[error("unsupported database URL scheme `{0}`; use sqlite://PATH or postgres://USER:PASSWORD@HOST/DB")]
    UnsupportedScheme(String),
    /// The URL could not be parsed by the driver.
    #[error("invalid database URL {url}")]
    InvalidUrl {
        /// The redacted URL.
        url: String,
        /// The driver's complaint.
        source: sqlx::Error,
    },
    /// The directory for the SQLite file could not be created.
    #[error("cannot create the database directory {path}")]
    CreateDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database did not accept a connection.
    #[error("cannot connect to the database at {url}")]
    Connect {
        /// The redacted URL.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A migration failed.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// The `application_name` of the console's PostgreSQL connections (a
/// restore refuses while connections with it are open).
pub const APPLICATION_NAME: &str = "backup-mgmt";

/// How long to wait for a connection before giving up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    /// Opens a pool for `url`, creating the SQLite file (and its directory)
    /// if needed. Fails fast when the database cannot be reached.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, DbError> {
        let invalid = |source| DbError::InvalidUrl { url: url.redacted(), source };
        let unreachable = |source| DbError::Connect { url: url.redacted(), source };
        match url.scheme().as_str() {
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url.expose())
                    .map_err(invalid)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // Every commit reaches the disk before it is answered
                    // (a power cut loses nothing acknowledged); run reports
                    // are committed in batches, so this costs one sync per
                    // batch, not one per report.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                create_parent_dir(options.get_filename())?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(unreachable)?;
                Ok(Db::Sqlite(pool))
            }
            "postgres" | "postgresql" => {
                let options = PgConnectOptions::from_str(url.expose())
                    .map_err(invalid)?
                    .application_name(APPLICATION_NAME);
                // One direct connection first: a pool only reports "timed
                // out", while this names the cause (refused, bad password...).
                let probe = tokio::time::timeout(ACQUIRE_TIMEOUT, options.connect())
                    .await
                    .map_err(|_| unreachable(sqlx::Error::PoolTimedOut))?
                    .map_err(unreachable)?;
                let _ = probe.close().await;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(unreachable)?;
                Ok(Db::Postgres(pool))
            }
            other => Err(DbError::UnsupportedScheme(other.to_owned())),
        }
    }

    /// Applies every pending migration for this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Whether the database answers a trivial query within two seconds.
    pub async fn ping(&self) -> bool {
        let query =
            async { on_db!(self, |pool| sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool).await) };
        matches!(tokio::time::timeout(Duration::from_secs(2), query).await, Ok(Ok(1)))
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        on_db!(self, |pool| pool.close().await)
    }
}

/// Rows deleted per statement by [`delete_batched`]: small enough that
/// one statement holds SQLite's write lock for a few milliseconds.
pub const PRUNE_BATCH: i64 = 2_000;

/// The pause between two batches of [`delete_batched`], in which writers
/// waiting for the lock (a run being reported) get their turn.
pub const PRUNE_PAUSE: Duration = Duration::from_millis(25);

/// Deletes the rows of `table` (which has an `id` key) that `condition`
/// picks, [`PRUNE_BATCH`] rows per statement, each its own transaction,
/// pausing [`PRUNE_PAUSE`] between statements, until none are left. The
/// condition names the table's row `t` and the cutoff `$1`. Returns how
/// many rows went. `table` and `condition` are the caller's literals,
/// never input.
pub async fn delete_batched(
    db: &Db,
    table: &str,
    condition: &str,
    cutoff: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let sql = format!(
        "delete from {table} where id in (select t.id from {table} t where {condition} limit {PRUNE_BATCH})"
    );
    let mut deleted = 0;
    loop {
        let done = on_db!(db, |pool| sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .bind(cutoff)
            .execute(pool)
            .await?
            .rows_affected());
        deleted += done;
        if done < PRUNE_BATCH as u64 {
            return Ok(deleted);
        }
        tokio::time::sleep(PRUNE_PAUSE).await;
    }
}

fn create_parent_dir(file: &Path) -> Result<(), DbError> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|source| DbError::CreateDir { path: dir.display().to_string(), source }),
        _ => Ok(()),
    }
}

/// Whether an error is a unique-constraint violation (on either backend).
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn migration_names(backend: &str) -> BTreeSet<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/");
        std::fs::read_dir(format!("{dir}{backend}"))
            .expect("the migrations directory exists")
            .map(|entry| entry.expect("readable entry").file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn sqlite_and_postgres_migrations_stay_in_step() {
        let sqlite = migration_names("sqlite");
        let postgres = migration_names("postgres");
        assert!(!sqlite.is_empty());
        assert_eq!(
            sqlite, postgres,
            "every migration needs a twin with the same version and name for the other backend"
        );
    }

    use super::Db;
    use crate::db_test;

    async fn count(db: &Db) -> i64 {
        on_db!(db, |pool| {
            sqlx::query_scalar::<_, i64>("select count(*) from notifier_cursors").fetch_one(pool).await
        })
        .unwrap_or(-1)
    }

    async fn insert_then(db: &Db, name: &str, fail: bool) -> Result<&'static str, sqlx::Error> {
        on_tx!(db, |tx, _lock| {
            sqlx::query("insert into notifier_cursors (name, position) values ($1, 0)")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            if fail {
                return Err(sqlx::Error::Protocol("the body failed".into()));
            }
            // An early return after a write: the write commits.
            if !name.is_empty() {
                return Ok("returned early");
            }
            Ok::<_, sqlx::Error>("ran to the end")
        })
    }

    async fn a_transaction_commits_exactly_when_its_body_is_ok(db: &Db) {
        assert_eq!(insert_then(db, "early", false).await.ok(), Some("returned early"));
        assert_eq!(count(db).await, 1, "an early `return Ok` commits");
        assert!(insert_then(db, "failing", true).await.is_err());
        assert_eq!(count(db).await, 1, "an error rolls the write back");
    }
    db_test!(on_tx_commits_on, a_transaction_commits_exactly_when_its_body_is_ok);
}
