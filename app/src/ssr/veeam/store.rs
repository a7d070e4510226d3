//! The `veeam_servers`, `repositories`, `repository_samples` and
//! `system_events` tables. (The Veeam link columns of `jobs` belong to
//! the jobs domain.)

use chrono::{DateTime, Utc};

use crate::{
    model::veeam::{ServerStatus, TlsMode},
    on_db, on_tx,
    ssr::infra::db::{Db, delete_batched, is_unique_violation, read_row, readable},
};

/// A row of `veeam_servers`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerRow {
    /// Primary key.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Base URL.
    pub base_url: String,
    /// Account.
    pub username: String,
    /// `v1:` AES-GCM text.
    pub password_encrypted: String,
    /// Chosen revision.
    pub api_version: Option<String>,
    /// Detected revision.
    pub detected_api_version: Option<String>,
    /// How its certificate is checked.
    pub tls_mode: TlsMode,
    /// Trusted PEM.
    pub ca_pem: Option<String>,
    /// Seconds between syncs.
    pub sync_interval_seconds: i64,
    /// Synced at all.
    pub enabled: bool,
    /// How its last sync went.
    pub status: ServerStatus,
    /// Last good sync.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Last failure.
    pub last_error: Option<String>,
    /// Its kind.
    pub last_error_code: Option<String>,
    /// Newest session creation time seen.
    pub sessions_synced_until: Option<DateTime<Utc>>,
    /// Phase of the sync in progress.
    pub sync_phase: Option<String>,
    /// Done in this phase.
    pub sync_done: Option<i64>,
    /// Total in this phase.
    pub sync_total: Option<i64>,
    /// Start of the sync in progress.
    pub sync_started_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
    /// Configuration backup enabled (None: not read).
    pub config_backup_enabled: Option<bool>,
    /// Its last success.
    pub config_backup_last_success: Option<DateTime<Utc>>,
    /// Licence status.
    pub license_status: Option<String>,
    /// Licence end.
    pub license_expires_at: Option<DateTime<Utc>>,
    /// Raised signals, one per line.
    pub signals_raised: String,
    /// What the account may not read, one per line.
    pub signal_notes: String,
    /// The server's time zone.
    pub time_zone: Option<String>,
}

macro_rules! server_columns {
    () => {
        "id, name, base_url, username, password_encrypted, api_version, detected_api_version, \
         tls_mode, ca_pem, sync_interval_seconds, enabled, status, last_sync_at, last_error, last_error_code, \
         sessions_synced_until, sync_phase, sync_done, sync_total, sync_started_at, created_at, updated_at, \
         config_backup_enabled, config_backup_last_success, license_status, license_expires_at, signals_raised, \
         signal_notes, time_zone"
    };
}

/// What admins set on a server.
#[derive(Debug, Clone)]
pub struct ServerFields<'a> {
    /// Name.
    pub name: &'a str,
    /// URL.
    pub base_url: &'a str,
    /// Account.
    pub username: &'a str,
    /// Encrypted password.
    pub password_encrypted: &'a str,
    /// Chosen revision.
    pub api_version: Option<&'a str>,
    /// TLS mode.
    pub tls_mode: &'a str,
    /// PEM.
    pub ca_pem: Option<&'a str>,
    /// Interval.
    pub sync_interval_seconds: i64,
    /// Enabled.
    pub enabled: bool,
}

/// A server's name is taken, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteServerError {
    /// Duplicate name.
    #[error("a server with this name exists")]
    NameTaken,
    /// Database.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn conflict(e: sqlx::Error) -> WriteServerError {
    if is_unique_violation(&e) { WriteServerError::NameTaken } else { WriteServerError::Db(e) }
}

/// Every server, by name.
pub async fn list_servers(db: &Db) -> Result<Vec<ServerRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", server_columns!(), " from veeam_servers order by name");
    on_db!(db, |pool| Ok(readable("veeam_servers", &sqlx::query(SQL).fetch_all(pool).await?)))
}

/// One server.
pub async fn find_server(db: &Db, id: i64) -> Result<Option<ServerRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", server_columns!(), " from veeam_servers where id = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("veeam_servers", r)).transpose()
    })
}

/// Adds a server; its id.
pub async fn insert_server(db: &Db, f: &ServerFields<'_>) -> Result<i64, WriteServerError> {
    let now = Utc::now();
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "insert into veeam_servers (name, base_url, username, password_encrypted, api_version, tls_mode, \
             ca_pem, sync_interval_seconds, enabled, created_at, updated_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) returning id",
        )
        .bind(f.name)
        .bind(f.base_url)
        .bind(f.username)
        .bind(f.password_encrypted)
        .bind(f.api_version)
        .bind(f.tls_mode)
        .bind(f.ca_pem)
        .bind(f.sync_interval_seconds)
        .bind(f.enabled)
        .bind(now)
        .fetch_one(pool)
        .await
    })
    .map_err(conflict)
}

/// Replaces a server's settings. A changed address or chosen revision
/// forgets the detected revision (it is detected again on the next contact).
pub async fn update_server(db: &Db, id: i64, f: &ServerFields<'_>) -> Result<bool, WriteServerError> {
    let now = Utc::now();
    on_db!(db, |pool| {
        sqlx::query(
            "update veeam_servers set name = $1, base_url = $2, username = $3, password_encrypted = $4, \
             api_version = $5, tls_mode = $6, ca_pem = $7, sync_interval_seconds = $8, enabled = $9, \
             detected_api_version = case when api_version is distinct from $5 or base_url <> $2 \
             then null else detected_api_version end, updated_at = $10 where id = $11",
        )
        .bind(f.name)
        .bind(f.base_url)
        .bind(f.username)
        .bind(f.password_encrypted)
        .bind(f.api_version)
        .bind(f.tls_mode)
        .bind(f.ca_pem)
        .bind(f.sync_interval_seconds)
        .bind(f.enabled)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .map(|n| n == 1)
    .map_err(conflict)
}

/// Removes a server (untie its jobs first: `jobs::detach_server`).
pub async fn delete_server(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("delete from veeam_servers where id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Takes the sync of a server unless one is running (on any instance) and
/// younger than `stale_before`. True when this caller may sync.
pub async fn claim_sync(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "update veeam_servers set sync_phase = 'starting', sync_done = 0, sync_total = null, \
             sync_started_at = $2 where id = $1 and (sync_phase is null or sync_started_at < $3)",
        )
        .bind(id)
        .bind(now)
        .bind(stale_before)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
    .map(|n| n == 1)
}

/// Records a sync's progress.
pub async fn set_progress(
    db: &Db,
    id: i64,
    phase: &str,
    done: i64,
    total: Option<i64>,
) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update veeam_servers set sync_phase = $2, sync_done = $3, sync_total = $4 where id = $1")
            .bind(id)
            .bind(phase)
            .bind(done)
            .bind(total)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
    .map(|_| ())
}

/// Records the detected revision.
pub async fn set_detected_version(db: &Db, id: i64, version: &str) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update veeam_servers set detected_api_version = $2 where id = $1")
            .bind(id)
            .bind(version)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
    .map(|_| ())
}

/// Ends a sync: success moves the session cursor on. A server that stops
/// answering (or answers again) records a `veeam_unreachable` (or
/// `veeam_recovered`) event in the same transaction, for notifications.
pub async fn finish_sync(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
    outcome: Result<Option<DateTime<Utc>>, (&str, &str, &str)>,
) -> Result<(), sqlx::Error> {
    on_tx!(db, |tx, lock| {
        let before: Option<(String, String)> = sqlx::query_as(if lock {
            "select status, name from veeam_servers where id = $1 for update"
        } else {
            "select status, name from veeam_servers where id = $1"
        })
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((before, name)) = before else { return Ok(()) };
        let was_down = matches!(before.as_str(), "unreachable" | "error");
        let event = match &outcome {
            Ok(until) => {
                sqlx::query(
                    "update veeam_servers set status = 'ok', last_sync_at = $2, last_error = null, \
                     last_error_code = null, sessions_synced_until = coalesce($3, sessions_synced_until), \
                     sync_phase = null, sync_done = null, sync_total = null, sync_started_at = null where id = $1",
                )
                .bind(id)
                .bind(now)
                .bind(*until)
                .execute(&mut *tx)
                .await?;
                was_down.then_some(("veeam_recovered", None))
            }
            Err((status, code, message)) => {
                sqlx::query(
                    "update veeam_servers set status = $2, last_error = $3, last_error_code = $4, \
                     sync_phase = null, sync_done = null, sync_total = null, sync_started_at = null where id = $1",
                )
                .bind(id)
                .bind(*status)
                .bind(*message)
                .bind(*code)
                .execute(&mut *tx)
                .await?;
                (!was_down).then_some(("veeam_unreachable", Some((*message).to_owned())))
            }
        };
        if let Some((kind, details)) = event {
            sqlx::query(
                "insert into system_events (kind, veeam_server_id, subject_name, details, occurred_at) \
                 values ($1, $2, $3, $4, $5)",
            )
            .bind(kind)
            .bind(id)
            .bind(&name)
            .bind(details)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    })
}

/// A repository as Veeam reports it.
#[derive(Debug, Clone)]
pub struct RepositoryFields<'a> {
    /// Veeam's id.
    pub external_id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Type.
    pub kind: &'a str,
    /// Host.
    pub host_name: Option<&'a str>,
    /// Path.
    pub path: Option<&'a str>,
    /// GB.
    pub capacity_gb: f64,
    /// GB.
    pub free_gb: f64,
    /// GB.
    pub used_gb: f64,
    /// Online.
    pub online: bool,
}

/// Stores a repository's state and today's sample.
pub async fn upsert_repository(
    db: &Db,
    server_id: i64,
    day: &str,
    r: &RepositoryFields<'_>,
) -> Result<i64, sqlx::Error> {
    let now = Utc::now();
    on_tx!(db, |tx, _lock| {
        let before: Option<(f64, f64, i64)> = sqlx::query_as(
            "select capacity_gb, free_gb, warning_free_percent from repositories \
             where veeam_server_id = $1 and external_id = $2",
        )
        .bind(server_id)
        .bind(r.external_id)
        .fetch_optional(&mut *tx)
        .await?;
        let low = |capacity: f64, free: f64, threshold: i64| {
            capacity > 0.0 && free * 100.0 / capacity < threshold as f64
        };
        let threshold = before.map_or(15, |(_, _, t)| t);
        let went_low = low(r.capacity_gb, r.free_gb, threshold)
            && !before.is_some_and(|(capacity, free, t)| low(capacity, free, t));
        let id: i64 = sqlx::query_scalar(
            "insert into repositories (veeam_server_id, external_id, name, kind, host_name, path, capacity_gb, \
             free_gb, used_gb, online, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             on conflict (veeam_server_id, external_id) do update set name = excluded.name, kind = excluded.kind, \
             host_name = excluded.host_name, path = excluded.path, capacity_gb = excluded.capacity_gb, \
             free_gb = excluded.free_gb, used_gb = excluded.used_gb, online = excluded.online, removed_at = null, \
             updated_at = excluded.updated_at returning id",
        )
        .bind(server_id)
        .bind(r.external_id)
        .bind(r.name)
        .bind(r.kind)
        .bind(r.host_name)
        .bind(r.path)
        .bind(r.capacity_gb)
        .bind(r.free_gb)
        .bind(r.used_gb)
        .bind(r.online)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "insert into repository_samples (repository_id, day, capacity_gb, free_gb, used_gb) \
             values ($1, $2, $3, $4, $5) on conflict (repository_id, day) do update set \
             capacity_gb = excluded.capacity_gb, free_gb = excluded.free_gb, used_gb = excluded.used_gb",
        )
        .bind(id)
        .bind(day)
        .bind(r.capacity_gb)
        .bind(r.free_gb)
        .bind(r.used_gb)
        .execute(&mut *tx)
        .await?;
        if went_low {
            // For notifications (`repository_low_space`).
            sqlx::query(
                "insert into system_events (kind, veeam_server_id, repository_id, subject_name, details, occurred_at) \
                 values ('repository_low_space', $1, $2, $3, $4, $5)",
            )
            .bind(server_id)
            .bind(id)
            .bind(r.name)
            .bind(format!(
                "{:.1} % free ({:.0} GB of {:.0} GB); threshold {threshold} %",
                r.free_gb * 100.0 / r.capacity_gb,
                r.free_gb,
                r.capacity_gb
            ))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Ok::<_, sqlx::Error>(id)
    })
}

/// Marks a server's repositories that Veeam no longer lists.
pub async fn mark_repositories_removed(db: &Db, server_id: i64, keep: &[i64]) -> Result<(), sqlx::Error> {
    let ids: Vec<(i64,)> = on_db!(db, |pool| {
        sqlx::query_as("select id from repositories where veeam_server_id = $1 and removed_at is null")
            .bind(server_id)
            .fetch_all(pool)
            .await
    })?;
    let now = Utc::now();
    for (id,) in ids.into_iter().filter(|(id,)| !keep.contains(id)) {
        on_db!(db, |pool| {
            sqlx::query("update repositories set removed_at = $2 where id = $1")
                .bind(id)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

/// A repository row with its server's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RepositoryRow {
    /// Id.
    pub id: i64,
    /// Server.
    pub veeam_server_id: i64,
    /// Server name.
    pub server_name: String,
    /// Name.
    pub name: String,
    /// Type.
    pub kind: String,
    /// Host.
    pub host_name: Option<String>,
    /// Path.
    pub path: Option<String>,
    /// GB.
    pub capacity_gb: f64,
    /// GB.
    pub free_gb: f64,
    /// GB.
    pub used_gb: f64,
    /// Online.
    pub online: bool,
    /// Threshold.
    pub warning_free_percent: i64,
    /// Synced.
    pub updated_at: DateTime<Utc>,
}

/// Every current repository.
pub async fn list_repositories(db: &Db) -> Result<Vec<RepositoryRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select r.id, r.veeam_server_id, s.name as server_name, r.name, r.kind, r.host_name, r.path, \
             r.capacity_gb, r.free_gb, r.used_gb, r.online, r.warning_free_percent, r.updated_at \
             from repositories r join veeam_servers s on s.id = r.veeam_server_id \
             where r.removed_at is null order by s.name, r.name",
        )
        .fetch_all(pool)
        .await
    })
}

/// Samples from `since_day` on: (repository id, day, capacity, free).
pub async fn samples_since(db: &Db, since_day: &str) -> Result<Vec<(i64, String, f64, f64)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select repository_id, day, capacity_gb, free_gb from repository_samples where day >= $1 \
             order by repository_id, day",
        )
        .bind(since_day)
        .fetch_all(pool)
        .await
    })
}

/// Sets a repository's warning threshold; false when it does not exist.
pub async fn set_threshold(db: &Db, id: i64, percent: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update repositories set warning_free_percent = $2 where id = $1")
            .bind(id)
            .bind(percent)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// A repository's name.
pub async fn repository_name(db: &Db, id: i64) -> Result<Option<String>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("select name from repositories where id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// A new server event, possibly about one job.
#[derive(Debug, Clone)]
pub struct NewSystemEvent<'a> {
    /// Its kind (`rpo_breached`, `veeam_job_unscheduled`, …).
    pub kind: &'a str,
    /// The server.
    pub veeam_server_id: Option<i64>,
    /// The job it is about.
    pub job_id: Option<i64>,
    /// What its recovery answers (`rpo:<job>`, `veeam-job:<job>`, …).
    pub subject: &'a str,
    /// The job's or server's name.
    pub subject_name: &'a str,
    /// What the message tells.
    pub details: Option<&'a str>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// Records a server event (the notifier tells it by the rules).
pub async fn record_event(db: &Db, event: &NewSystemEvent<'_>) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "insert into system_events (kind, veeam_server_id, job_id, subject, subject_name, details, occurred_at) \
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(event.kind)
        .bind(event.veeam_server_id)
        .bind(event.job_id)
        .bind(event.subject)
        .bind(event.subject_name)
        .bind(event.details)
        .bind(event.occurred_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// A server or repository event (`veeam_unreachable`, `veeam_recovered`,
/// `repository_low_space`), for notifications.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SystemEventRow {
    /// Id (the notifier's cursor).
    pub id: i64,
    /// What happened.
    pub kind: String,
    /// The server.
    pub veeam_server_id: Option<i64>,
    /// The repository.
    pub repository_id: Option<i64>,
    /// The server's or repository's name.
    pub subject_name: String,
    /// The error, or the free space.
    pub details: Option<String>,
    /// When.
    pub occurred_at: DateTime<Utc>,
    /// The job it is about (RPO, a Veeam job's schedule, an acknowledgement).
    pub job_id: Option<i64>,
    /// What a recovery answers, when not the server or repository.
    pub subject: Option<String>,
}

/// Up to `limit` events after id `after`, oldest first.
pub async fn events_after(db: &Db, after: i64, limit: i64) -> Result<Vec<SystemEventRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select id, kind, veeam_server_id, repository_id, subject_name, details, occurred_at, job_id, subject \
             from system_events where id > $1 order by id limit $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// The newest event id.
pub async fn last_event_id(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_scalar("select coalesce(max(id), 0) from system_events")
        .fetch_one(pool)
        .await)
}

/// The `veeam_unreachable` event in force for a server at `at`: its latest
/// status event then, when that says unreachable.
pub async fn outage_at(db: &Db, server_id: i64, at: DateTime<Utc>) -> Result<Option<i64>, sqlx::Error> {
    let latest: Option<(i64, String)> = on_db!(db, |pool| {
        sqlx::query_as(
            "select id, kind from system_events where veeam_server_id = $1 \
             and kind in ('veeam_unreachable', 'veeam_recovered') and occurred_at <= $2 \
             order by occurred_at desc, id desc limit 1",
        )
        .bind(server_id)
        .bind(at)
        .fetch_optional(pool)
        .await
    })?;
    Ok(latest.filter(|(_, kind)| kind == "veeam_unreachable").map(|(id, _)| id))
}

/// The `veeam_unreachable` event a `veeam_recovered` event `recovered` ends.
pub async fn outage_before(db: &Db, server_id: i64, recovered: i64) -> Result<Option<i64>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "select max(id) from system_events where veeam_server_id = $1 and kind = 'veeam_unreachable' \
             and id < $2",
        )
        .bind(server_id)
        .bind(recovered)
        .fetch_one(pool)
        .await
    })
}

/// The newest restore point of one protected machine, as read from Veeam.
#[derive(Debug, Clone, PartialEq)]
pub struct MachinePoint {
    /// The console's job.
    pub job_id: i64,
    /// The machine's name.
    pub name: String,
    /// Veeam's backup.
    pub backup_id: String,
    /// When the point was made.
    pub at: DateTime<Utc>,
    /// Its id.
    pub point_id: String,
    /// Veeam's malware status of the point, when sent.
    pub malware_status: Option<String>,
}

/// A protected machine and its newest restore point.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MachineRow {
    /// The console's job.
    pub job_id: i64,
    /// The machine's name.
    pub name: String,
    /// Its newest restore point.
    pub newest_point_at: DateTime<Utc>,
    /// Veeam's malware status of that point.
    pub malware_status: Option<String>,
    /// That point's id.
    pub newest_point_id: String,
}

/// Stores machines' newest restore points (keeping a newer one already
/// stored), in one transaction.
pub async fn upsert_machines(
    db: &Db,
    server_id: i64,
    points: &[MachinePoint],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if points.is_empty() {
        return Ok(());
    }
    on_tx!(db, |tx, _lock| {
        for p in points {
            sqlx::query(
                "insert into veeam_machines (veeam_server_id, job_id, name, backup_id, newest_point_at, \
                 newest_point_id, malware_status, updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8) \
                 on conflict (job_id, name) do update set backup_id = excluded.backup_id, \
                 newest_point_at = excluded.newest_point_at, newest_point_id = excluded.newest_point_id, \
                 malware_status = excluded.malware_status, updated_at = excluded.updated_at, \
                 veeam_server_id = excluded.veeam_server_id \
                 where excluded.newest_point_at >= veeam_machines.newest_point_at",
            )
            .bind(server_id)
            .bind(p.job_id)
            .bind(&p.name)
            .bind(&p.backup_id)
            .bind(p.at)
            .bind(&p.point_id)
            .bind(&p.malware_status)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Ok::<_, sqlx::Error>(())
    })
}

/// The machines of a server's jobs (worst first per job).
pub async fn machines_of_server(db: &Db, server_id: i64) -> Result<Vec<MachineRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select job_id, name, newest_point_at, malware_status, newest_point_id from veeam_machines \
             where veeam_server_id = $1 order by job_id, newest_point_at, name",
        )
        .bind(server_id)
        .fetch_all(pool)
        .await
    })
}

/// The machines of a job, oldest newest-restore-point first.
pub async fn machines_of_job(db: &Db, job_id: i64) -> Result<Vec<MachineRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select job_id, name, newest_point_at, malware_status, newest_point_id from veeam_machines \
             where job_id = $1 order by newest_point_at, name",
        )
        .bind(job_id)
        .fetch_all(pool)
        .await
    })
}

/// Where incremental restore point reads start.
pub async fn set_restore_points_synced_until(
    db: &Db,
    server_id: i64,
    until: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("update veeam_servers set restore_points_synced_until = $2 where id = $1")
            .bind(server_id)
            .bind(until)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Veeam's signals of a server as last read.
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct SignalsRow {
    /// Where restore point reads continue from.
    pub restore_points_synced_until: Option<DateTime<Utc>>,
    /// Configuration backup enabled (None: not read).
    pub config_backup_enabled: Option<bool>,
    /// Its last success.
    pub config_backup_last_success: Option<DateTime<Utc>>,
    /// `Valid`, `Expired`, `Invalid` (None: not read).
    pub license_status: Option<String>,
    /// When the licence ends.
    pub license_expires_at: Option<DateTime<Utc>>,
    /// Raised signals, one per line.
    pub signals_raised: String,
    /// What the account may not read, one per line.
    pub signal_notes: String,
    /// The server's time zone.
    pub time_zone: Option<String>,
}

/// A server's signals.
pub async fn signals(db: &Db, server_id: i64) -> Result<SignalsRow, sqlx::Error> {
    let row: Option<SignalsRow> = on_db!(db, |pool| {
        sqlx::query_as(
            "select restore_points_synced_until, config_backup_enabled, config_backup_last_success, \
             license_status, license_expires_at, signals_raised, signal_notes, time_zone \
             from veeam_servers where id = $1",
        )
        .bind(server_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.unwrap_or_default())
}

/// Stores the signals read now.
pub async fn set_signals(db: &Db, server_id: i64, signals: &SignalsRow) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "update veeam_servers set config_backup_enabled = $2, config_backup_last_success = $3, \
             license_status = $4, license_expires_at = $5, signals_raised = $6, signal_notes = $7, \
             time_zone = $8 where id = $1",
        )
        .bind(server_id)
        .bind(signals.config_backup_enabled)
        .bind(signals.config_backup_last_success)
        .bind(&signals.license_status)
        .bind(signals.license_expires_at)
        .bind(&signals.signals_raised)
        .bind(&signals.signal_notes)
        .bind(&signals.time_zone)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Stores a malware event read from Veeam (once per Veeam id; its state is kept current).
pub async fn upsert_malware_event(
    db: &Db,
    server_id: i64,
    event: &super::wire::MalwareEventModel,
    job_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "insert into veeam_malware_events (veeam_server_id, external_id, job_id, machine_name, detected_at, \
             state, severity, details) values ($1, $2, $3, $4, $5, $6, $7, $8) \
             on conflict (veeam_server_id, external_id) do update set state = excluded.state, \
             severity = excluded.severity, job_id = coalesce(excluded.job_id, veeam_malware_events.job_id)",
        )
        .bind(server_id)
        .bind(&event.id)
        .bind(job_id)
        .bind(event.machine_name.as_deref().unwrap_or(""))
        .bind(event.detected_at)
        .bind(&event.state)
        .bind(&event.severity)
        .bind(&event.details)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Deletes, in batches, system events recorded before `before` that the
/// notifier has read (ids up to `read_up_to`), except each server's newest
/// (an outage in force is told by it), and repository samples of days
/// before `first_day_kept`. Returns how many rows went.
pub async fn prune(
    db: &Db,
    before: DateTime<Utc>,
    read_up_to: i64,
    first_day_kept: &str,
) -> Result<u64, sqlx::Error> {
    let condition = format!(
        "t.occurred_at < $1 and t.id <= {read_up_to} and exists (select 1 from system_events n \
         where coalesce(n.veeam_server_id, 0) = coalesce(t.veeam_server_id, 0) and n.id > t.id)"
    );
    let mut deleted = delete_batched(db, "system_events", &condition, before).await?;
    deleted += on_db!(db, |pool| sqlx::query("delete from repository_samples where day < $1")
        .bind(first_day_kept)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(deleted)
}
