//! The SQL of the notification tables: `notification_channels`,
//! `notifier_cursors`, `notification_deliveries`,
//! `notification_suppressions` and `console_events` (rules and windows
//! keep their own few statements beside their checks).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{
    message::EventKind,
    policy::{Action, Held},
};

use crate::{
    model::notify::ChannelKind,
    on_db, on_tx,
    ssr::infra::db::{Db, delete_batched, is_unique_violation, read_row, readable},
};

/// A row of `notification_channels`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChannelRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: ChannelKind,
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
    on_db!(db, |pool| Ok(readable("notification_channels", &sqlx::query(SQL).fetch_all(pool).await?)))
}

/// One channel.
pub async fn find(db: &Db, id: i64) -> Result<Option<ChannelRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", columns!(), " from notification_channels where id = $1");
    on_db!(db, |pool| {
        let row = sqlx::query(SQL).bind(id).fetch_optional(pool).await?;
        row.as_ref().map(|r| read_row("notification_channels", r)).transpose()
    })
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

/// Where a producer's cursor stands (0 before its first pass).
pub async fn cursor(db: &Db, name: &str) -> Result<i64, sqlx::Error> {
    let position: Option<i64> = on_db!(db, |pool| {
        sqlx::query_scalar("select position from notifier_cursors where name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
    })?;
    Ok(position.unwrap_or(0))
}

/// The enabled channels.
pub async fn enabled_channels(db: &Db) -> Result<HashSet<i64>, sqlx::Error> {
    let ids: Vec<i64> = on_db!(db, |pool| {
        sqlx::query_scalar("select id from notification_channels where enabled").fetch_all(pool).await
    })?;
    Ok(ids.into_iter().collect())
}

/// Whether a rule's newest delivery about a subject is a problem (not the
/// recovery `recovery`): it told a problem that has not been answered.
pub async fn open_problem(
    db: &Db,
    rule_id: i64,
    subject: &str,
    recovery: EventKind,
) -> Result<bool, sqlx::Error> {
    let (problem, recovered): (Option<i64>, Option<i64>) = on_db!(db, |pool| {
        sqlx::query_as(
            "select max(case when event <> $3 then id end), max(case when event = $3 then id end) \
             from notification_deliveries where rule_id = $1 and subject = $2",
        )
        .bind(rule_id)
        .bind(subject)
        .bind(recovery.as_str())
        .fetch_one(pool)
        .await
    })?;
    Ok(problem.is_some_and(|p| recovered.is_none_or(|r| r < p)))
}

/// The jobs a rule has told about, with its newest delivery about each.
pub async fn told_jobs(db: &Db, rule_id: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select job_id, max(id) from notification_deliveries where rule_id = $1 and job_id is not null \
             group by job_id",
        )
        .bind(rule_id)
        .fetch_all(pool)
        .await
    })
}

/// A delivery's kind, message and when it was queued.
pub async fn delivery_notice(
    db: &Db,
    id: i64,
) -> Result<Option<(String, String, DateTime<Utc>)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as("select event, notice, created_at from notification_deliveries where id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// The runs held back during an outage (`correlated`): name and when expected.
pub async fn missed_during(
    db: &Db,
    outage_event_id: i64,
) -> Result<Vec<(String, DateTime<Utc>)>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select subject_name, min(occurred_at) from notification_suppressions \
             where reason = 'correlated' and outage_event_id = $1 \
             group by subject_name, run_id order by min(occurred_at), subject_name",
        )
        .bind(outage_event_id)
        .fetch_all(pool)
        .await
    })
}

/// Queues one delivery ($1 dedup key, $2 channel, $3 rule, $4 event, $5 job,
/// $6 subject, $7 notice, $8 now), unless the channel is off or the key is known.
pub const QUEUE_SQL: &str = "insert into notification_deliveries (dedup_key, channel_id, rule_id, event, job_id, \
     subject, notice, status, attempts, next_attempt_at, created_at) \
     select $1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8 \
     where exists (select 1 from notification_channels where id = $2 and enabled) \
     on conflict (dedup_key) do nothing";

/// Writes what the policy decided, in one transaction. With a cursor
/// (`name`, where it stood when the events were read, where it moves to),
/// nothing is written unless the cursor still stands where it stood (else
/// another instance already did this batch): the deliveries and the move
/// commit together, so no event is lost or queued twice. Returns how many
/// deliveries were queued, or `None` when the batch was someone else's.
pub async fn apply(
    db: &Db,
    cursor: Option<(&str, i64, i64)>,
    actions: &[Action],
    now: DateTime<Utc>,
) -> Result<Option<usize>, sqlx::Error> {
    on_tx!(db, |tx, lock| {
        if let Some((name, from, _)) = cursor {
            sqlx::query(
                "insert into notifier_cursors (name, position) values ($1, 0) on conflict (name) do nothing",
            )
            .bind(name)
            .execute(&mut *tx)
            .await?;
            let position: i64 = sqlx::query_scalar(if lock {
                "select position from notifier_cursors where name = $1 for update"
            } else {
                "select position from notifier_cursors where name = $1"
            })
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
            if position != from {
                return Ok(None);
            }
        }
        let mut queued = 0;
        for action in actions {
            match action {
                Action::Queue { dedup_key, channel_id, rule_id, event, job_id, subject, notice } => {
                    let notice =
                        serde_json::to_string(notice).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
                    let inserted = sqlx::query(QUEUE_SQL)
                        .bind(dedup_key)
                        .bind(channel_id)
                        .bind(rule_id)
                        .bind(event.as_str())
                        .bind(job_id)
                        .bind(subject)
                        .bind(notice)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    queued += inserted.rows_affected() as usize;
                }
                Action::Hold {
                    rule_id,
                    event,
                    job_id,
                    run_id,
                    veeam_server_id,
                    subject_name,
                    why,
                    occurred_at,
                } => {
                    let (reason, window_id, outage_event_id) = match why {
                        Held::Maintenance { window_id } => ("maintenance", Some(*window_id), None),
                        Held::Correlated { outage_event_id, .. } => {
                            ("correlated", None, Some(*outage_event_id))
                        }
                    };
                    sqlx::query(
                        "insert into notification_suppressions (rule_id, event, job_id, run_id, subject_name, \
                         reason, maintenance_window_id, veeam_server_id, outage_event_id, occurred_at, created_at) \
                         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                    )
                    .bind(rule_id)
                    .bind(event.as_str())
                    .bind(job_id)
                    .bind(run_id)
                    .bind(subject_name)
                    .bind(reason)
                    .bind(window_id)
                    .bind(veeam_server_id)
                    .bind(outage_event_id)
                    .bind(occurred_at)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        if let Some((name, _, to)) = cursor {
            sqlx::query("update notifier_cursors set position = $1 where name = $2")
                .bind(to)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        Ok::<_, sqlx::Error>(Some(queued))
    })
}

/// A delivery due to be sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    /// Its id.
    pub id: i64,
    /// Where.
    pub channel_id: i64,
    /// Its kind (`run_failed`, ...).
    pub event: String,
    /// The message (JSON of a `Notice`).
    pub notice: String,
    /// Tries so far.
    pub attempts: i64,
}

/// Up to 20 deliveries due at `now` and not leased, oldest first; of one
/// job and channel only the oldest (they go in order). `composed`: the
/// deliveries of `event` composed at send time (scheduled reports) rather
/// than the others.
pub async fn due(db: &Db, now: DateTime<Utc>, composed: bool, event: &str) -> Result<Vec<Due>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select d.id, d.channel_id, d.event, d.notice, d.attempts from notification_deliveries d \
             where d.status = 'pending' and d.next_attempt_at <= $1 and (d.locked_until is null or d.locked_until < $1) \
             and (d.event = $3) = $2 \
             and not exists (select 1 from notification_deliveries e where e.status = 'pending' \
             and e.channel_id = d.channel_id and e.job_id = d.job_id and e.id < d.id) \
             order by d.id limit 20",
        )
        .bind(now)
        .bind(composed)
        .bind(event)
        .fetch_all(pool)
        .await
    })
}

/// Leases a delivery until `until` and counts a try; false when another
/// worker has it.
pub async fn claim(db: &Db, id: i64, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "update notification_deliveries set locked_until = $2, attempts = attempts + 1 \
             where id = $1 and status = 'pending' and (locked_until is null or locked_until < $3)",
        )
        .bind(id)
        .bind(until)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Records a try's outcome: `sent`, `pending` (tried again at `next`) or `dead`.
pub async fn finish(
    db: &Db,
    id: i64,
    status: &str,
    next: Option<DateTime<Utc>>,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "update notification_deliveries set status = $2, next_attempt_at = coalesce($3, next_attempt_at), \
             locked_until = null, last_error = coalesce($4, last_error), \
             sent_at = case when $2 = 'sent' then $5 else sent_at end where id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(next)
        .bind(error)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Marks a delivery `dead` with its last error and, in the same
/// transaction, records `report` (its `delivery_dead` event), so a
/// delivery given up is never left untold by a crash in between.
pub async fn finish_dead(
    db: &Db,
    id: i64,
    error: Option<&str>,
    report: Option<&NewConsoleEvent>,
) -> Result<(), sqlx::Error> {
    on_tx!(db, |tx, _lock| {
        sqlx::query(
            "update notification_deliveries set status = 'dead', locked_until = null, \
             last_error = coalesce($2, last_error) where id = $1",
        )
        .bind(id)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        if let Some(event) = report {
            sqlx::query(INSERT_CONSOLE_EVENT)
                .bind(event.kind.as_str())
                .bind(&event.subject)
                .bind(&event.subject_name)
                .bind(&event.details)
                .bind(event.channel_id)
                .bind(event.delivery_id)
                .bind(event.occurred_at)
                .execute(&mut *tx)
                .await?;
        }
        Ok::<_, sqlx::Error>(())
    })
}

/// An event about the console to record (`console_events`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewConsoleEvent {
    /// `console_degraded`, `console_recovered` or `delivery_dead`.
    pub kind: EventKind,
    /// `task:<name>` or `delivery:<id>`.
    pub subject: String,
    /// The task's name, or the failed channel's.
    pub subject_name: String,
    /// Why.
    pub details: Option<String>,
    /// `delivery_dead`: the channel that failed.
    pub channel_id: Option<i64>,
    /// `delivery_dead`: the delivery given up.
    pub delivery_id: Option<i64>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

const INSERT_CONSOLE_EVENT: &str = "insert into console_events (kind, subject, subject_name, details, \
     channel_id, delivery_id, occurred_at) values ($1, $2, $3, $4, $5, $6, $7)";

/// Records an event about the console.
pub async fn record_console_event(db: &Db, event: &NewConsoleEvent) -> Result<(), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(INSERT_CONSOLE_EVENT)
            .bind(event.kind.as_str())
            .bind(&event.subject)
            .bind(&event.subject_name)
            .bind(&event.details)
            .bind(event.channel_id)
            .bind(event.delivery_id)
            .bind(event.occurred_at)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// A row of `console_events`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ConsoleEventRow {
    /// Id (the notifier's cursor).
    pub id: i64,
    /// `console_degraded`, `console_recovered` or `delivery_dead`.
    pub kind: String,
    /// `task:<name>` or `delivery:<id>`.
    pub subject: String,
    /// The task's name, or the failed channel's.
    pub subject_name: String,
    /// Why.
    pub details: Option<String>,
    /// `delivery_dead`: the channel that failed.
    pub channel_id: Option<i64>,
    /// `delivery_dead`: the delivery given up.
    pub delivery_id: Option<i64>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// Up to `limit` console events after id `after`, oldest first.
pub async fn console_events_after(
    db: &Db,
    after: i64,
    limit: i64,
) -> Result<Vec<ConsoleEventRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select id, kind, subject, subject_name, details, channel_id, delivery_id, occurred_at \
             from console_events where id > $1 order by id limit $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// A row of the delivery log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    /// Id.
    pub id: i64,
    /// Channel.
    pub channel_id: i64,
    /// Kind.
    pub event: String,
    /// Job.
    pub job_id: Option<i64>,
    /// Message (JSON).
    pub notice: String,
    /// `pending`, `sent` or `dead`.
    pub status: String,
    /// Tries.
    pub attempts: i64,
    /// Last failure.
    pub last_error: Option<String>,
    /// Queued.
    pub created_at: DateTime<Utc>,
    /// Sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Next try.
    pub next_attempt_at: DateTime<Utc>,
}

/// The newest deliveries, filtered.
pub async fn deliveries(
    db: &Db,
    status: Option<&str>,
    channel_id: Option<i64>,
    job_id: Option<i64>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select id, channel_id, event, job_id, notice, status, attempts, last_error, created_at, sent_at, \
             next_attempt_at from notification_deliveries where ($1 is null or status = $1) \
             and ($2 is null or channel_id = $2) and ($3 is null or job_id = $3) \
             order by created_at desc, id desc limit $4",
        )
        .bind(status)
        .bind(channel_id)
        .bind(job_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Queues a sent or dead delivery again, now; false when there is none.
pub async fn resend(db: &Db, id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query(
            "update notification_deliveries set status = 'pending', attempts = 0, next_attempt_at = $2, \
             locked_until = null where id = $1 and status <> 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Deliveries waiting to be sent.
pub async fn queue_length(db: &Db) -> Result<i64, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar("select count(*) from notification_deliveries where status = 'pending'")
            .fetch_one(pool)
            .await
    })
}

/// The deliveries waiting to be sent and when the oldest of them was queued.
pub async fn queue_facts(db: &Db) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select count(*), min(created_at) from notification_deliveries where status = 'pending'",
        )
        .fetch_one(pool)
        .await
    })
}

/// A row of `notification_suppressions`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SuppressionRow {
    /// Id.
    pub id: i64,
    /// Rule.
    pub rule_id: Option<i64>,
    /// Kind.
    pub event: String,
    /// Job.
    pub job_id: Option<i64>,
    /// Name.
    pub subject_name: String,
    /// `maintenance` or `correlated`.
    pub reason: String,
    /// Window.
    pub maintenance_window_id: Option<i64>,
    /// Server.
    pub veeam_server_id: Option<i64>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

/// Events held back, newest first.
pub async fn suppressions(
    db: &Db,
    job_id: Option<i64>,
    limit: i64,
) -> Result<Vec<SuppressionRow>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_as(
            "select id, rule_id, event, job_id, subject_name, reason, maintenance_window_id, veeam_server_id, \
             occurred_at from notification_suppressions where ($1 is null or job_id = $1) \
             order by id desc limit $2",
        )
        .bind(job_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Deletes, in batches, what is older than `before`: deliveries sent or
/// given up (a pending one stays however old, and so does a rule's newest
/// delivery about a subject: recoveries and reminders are decided from
/// it), held-back events, and
/// console events the notifier has read (ids up to `console_read_up_to`).
/// Returns how many rows went.
pub async fn prune(db: &Db, before: DateTime<Utc>, console_read_up_to: i64) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    // console_events point at deliveries (set null on delete): them first.
    deleted += delete_batched(
        db,
        "console_events",
        &format!("t.occurred_at < $1 and t.id <= {console_read_up_to}"),
        before,
    )
    .await?;
    deleted += delete_batched(
        db,
        "notification_deliveries",
        "t.created_at < $1 and t.status in ('sent', 'dead') and (t.rule_id is null or exists \
         (select 1 from notification_deliveries n where n.rule_id = t.rule_id \
         and coalesce(n.subject, '') = coalesce(t.subject, '') and coalesce(n.job_id, 0) = coalesce(t.job_id, 0) \
         and n.id > t.id))",
        before,
    )
    .await?;
    deleted += delete_batched(db, "notification_suppressions", "t.created_at < $1", before).await?;
    Ok(deleted)
}
