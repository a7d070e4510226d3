//! `bench-reference [LISTEN] [DB_PATH]` (or `BENCH_LISTEN`, `BENCH_DB`): the
//! least an axum program on SQLite does per report, for
//! scripts/bench/compare.sh. `GET /hello` answers "hello"; `POST /insert`
//! stores its body as one row and answers after the commit. The database is
//! opened as the console opened it before issue 17 (WAL, synchronous NORMAL:
//! the naive ceiling; the console now syncs each batch with FULL),
//! busy timeout 10 s, a pool of 8 connections.

use std::{env, time::Duration};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = env::args().skip(1);
    let listen =
        args.next().or_else(|| env::var("BENCH_LISTEN").ok()).unwrap_or_else(|| "127.0.0.1:5900".into());
    let path =
        args.next().or_else(|| env::var("BENCH_DB").ok()).unwrap_or_else(|| "bench-reference.db".into());
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    sqlx::query("create table if not exists runs (id integer primary key, body text not null, created_at text not null)")
        .execute(&pool)
        .await?;
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .route("/insert", post(insert))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("bench-reference listening on {} with {path}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

/// One row per request, in its own transaction (autocommit), answered after the commit.
async fn insert(State(pool): State<SqlitePool>, body: Bytes) -> (StatusCode, &'static str) {
    let stored =
        sqlx::query("insert into runs (body, created_at) values (?, strftime('%Y-%m-%dT%H:%M:%fZ'))")
            .bind(String::from_utf8_lossy(&body).into_owned())
            .execute(&pool)
            .await;
    match stored {
        Ok(_) => (StatusCode::OK, "OK\n"),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "insert failed\n"),
    }
}
