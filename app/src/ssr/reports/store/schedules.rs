//! The SQL of `report_schedules` and `report_schedule_channels`.
//!
//! Queuing a scheduled report writes its deliveries into the notification
//! outbox with the statement the outbox publishes
//! ([`outbox::QUEUE_SQL`]), in the transaction that moves the schedule on,
//! so an occurrence is queued exactly when the schedule is moved past it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::{
    model::report::Cadence,
    on_db, on_tx,
    ssr::{
        infra::db::{Db, is_unique_violation, readable},
        notify::outbox,
    },
};

/// A row of `report_schedules`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScheduleRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Enabled.
    pub enabled: bool,
    /// Cadence.
    pub cadence: Cadence,
    /// `mon` … `sun`.
    pub weekday: Option<String>,
    /// `1` … `28`, `last`.
    pub month_day: Option<String>,
    /// `HH:MM`.
    pub time_of_day: String,
    /// IANA zone.
    pub time_zone: String,
    /// A report preset's name.
    pub period: String,
    /// `job`, `tag`, `source`.
    pub group_by: String,
    /// Tag filter.
    pub tag: Option<String>,
    /// `push`, `veeam`.
    pub source: Option<String>,
    /// Veeam server filter.
    pub veeam_server_id: Option<i64>,
    /// Comma-separated job ids.
    pub job_ids: String,
    /// `ja`, `en`.
    pub lang: String,
    /// Creator's username.
    pub created_by: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Changed.
    pub updated_at: DateTime<Utc>,
    /// Next occurrence.
    pub next_send_at: DateTime<Utc>,
    /// Last queued.
    pub last_sent_at: Option<DateTime<Utc>>,
    /// `YYYY-MM-DD`.
    pub last_period_from: Option<String>,
    /// `YYYY-MM-DD`.
    pub last_period_until: Option<String>,
}

macro_rules! columns {
    () => {
        "id, name, enabled, cadence, weekday, month_day, time_of_day, time_zone, period, group_by, tag, \
         source, veeam_server_id, job_ids, lang, created_by, created_at, updated_at, next_send_at, \
         last_sent_at, last_period_from, last_period_until"
    };
}

/// The fields a write sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// Name.
    pub name: String,
    /// Enabled.
    pub enabled: bool,
    /// Cadence.
    pub cadence: Cadence,
    /// Weekly.
    pub weekday: Option<String>,
    /// Monthly.
    pub month_day: Option<String>,
    /// `HH:MM`.
    pub time_of_day: String,
    /// IANA zone.
    pub time_zone: String,
    /// Preset name.
    pub period: String,
    /// Grouping.
    pub group_by: String,
    /// Tag.
    pub tag: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// Veeam server.
    pub veeam_server_id: Option<i64>,
    /// Comma-separated job ids.
    pub job_ids: String,
    /// Language.
    pub lang: String,
    /// The next occurrence.
    pub next_send_at: DateTime<Utc>,
    /// E-mail channels.
    pub channel_ids: Vec<i64>,
}

/// A duplicate name, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Duplicate name.
    #[error("a scheduled report with this name exists")]
    NameTaken,
    /// Database.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn conflict(e: sqlx::Error) -> WriteError {
    if is_unique_violation(&e) { WriteError::NameTaken } else { WriteError::Db(e) }
}

/// Every schedule by name.
pub async fn list(db: &Db) -> Result<Vec<ScheduleRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", columns!(), " from report_schedules order by name, id");
    on_db!(db, |pool| Ok(readable("report_schedules", &sqlx::query(SQL).fetch_all(pool).await?)))
}

/// One schedule.
pub async fn find(db: &Db, id: i64) -> Result<Option<ScheduleRow>, sqlx::Error> {
    const SQL: &str = concat!("select ", columns!(), " from report_schedules where id = $1");
    on_db!(db, |pool| {
        let rows = sqlx::query(SQL).bind(id).fetch_all(pool).await?;
        Ok(readable("report_schedules", &rows).into_iter().next())
    })
}

/// The enabled schedules due at `now` (`next_send_at <= now`).
pub async fn due(db: &Db, now: DateTime<Utc>) -> Result<Vec<ScheduleRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "select ",
        columns!(),
        " from report_schedules where enabled and next_send_at <= $1 order by next_send_at, id limit 100"
    );
    on_db!(db, |pool| Ok(readable("report_schedules", &sqlx::query(SQL).bind(now).fetch_all(pool).await?)))
}

/// Each schedule's channels.
pub async fn channels(db: &Db) -> Result<HashMap<i64, Vec<i64>>, sqlx::Error> {
    let pairs: Vec<(i64, i64)> = on_db!(db, |pool| {
        sqlx::query_as("select schedule_id, channel_id from report_schedule_channels order by channel_id")
            .fetch_all(pool)
            .await
    })?;
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (schedule, channel) in pairs {
        out.entry(schedule).or_default().push(channel);
    }
    Ok(out)
}

/// One schedule's channels.
pub async fn channels_of(db: &Db, id: i64) -> Result<Vec<i64>, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query_scalar(
            "select channel_id from report_schedule_channels where schedule_id = $1 order by channel_id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })
}

/// Adds a schedule with its channels; its id.
pub async fn insert(
    db: &Db,
    fields: &Fields,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<i64, WriteError> {
    on_tx!(db, |tx, _lock| {
        let id: i64 = sqlx::query_scalar(
            "insert into report_schedules (name, enabled, cadence, weekday, month_day, time_of_day, time_zone, \
             period, group_by, tag, source, veeam_server_id, job_ids, lang, created_by, created_at, updated_at, \
             next_send_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17) \
             returning id",
        )
        .bind(&fields.name)
        .bind(fields.enabled)
        .bind(fields.cadence)
        .bind(&fields.weekday)
        .bind(&fields.month_day)
        .bind(&fields.time_of_day)
        .bind(&fields.time_zone)
        .bind(&fields.period)
        .bind(&fields.group_by)
        .bind(&fields.tag)
        .bind(&fields.source)
        .bind(fields.veeam_server_id)
        .bind(&fields.job_ids)
        .bind(&fields.lang)
        .bind(created_by)
        .bind(now)
        .bind(fields.next_send_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(conflict)?;
        for channel in &fields.channel_ids {
            sqlx::query("insert into report_schedule_channels (schedule_id, channel_id) values ($1, $2)")
                .bind(id)
                .bind(channel)
                .execute(&mut *tx)
                .await?;
        }
        Ok::<_, WriteError>(id)
    })
}

/// Replaces a schedule's fields and channels; false when it does not exist.
pub async fn update(db: &Db, id: i64, fields: &Fields, now: DateTime<Utc>) -> Result<bool, WriteError> {
    on_tx!(db, |tx, _lock| {
        let changed = sqlx::query(
            "update report_schedules set name = $2, enabled = $3, cadence = $4, weekday = $5, month_day = $6, \
             time_of_day = $7, time_zone = $8, period = $9, group_by = $10, tag = $11, source = $12, \
             veeam_server_id = $13, job_ids = $14, lang = $15, updated_at = $16, next_send_at = $17 \
             where id = $1",
        )
        .bind(id)
        .bind(&fields.name)
        .bind(fields.enabled)
        .bind(fields.cadence)
        .bind(&fields.weekday)
        .bind(&fields.month_day)
        .bind(&fields.time_of_day)
        .bind(&fields.time_zone)
        .bind(&fields.period)
        .bind(&fields.group_by)
        .bind(&fields.tag)
        .bind(&fields.source)
        .bind(fields.veeam_server_id)
        .bind(&fields.job_ids)
        .bind(&fields.lang)
        .bind(now)
        .bind(fields.next_send_at)
        .execute(&mut *tx)
        .await
        .map_err(conflict)?
        .rows_affected()
            == 1;
        if !changed {
            return Ok(false);
        }
        sqlx::query("delete from report_schedule_channels where schedule_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for channel in &fields.channel_ids {
            sqlx::query("insert into report_schedule_channels (schedule_id, channel_id) values ($1, $2)")
                .bind(id)
                .bind(channel)
                .execute(&mut *tx)
                .await?;
        }
        Ok::<_, WriteError>(true)
    })
}

/// Removes a schedule; false when it did not exist.
pub async fn delete(db: &Db, id: i64) -> Result<bool, sqlx::Error> {
    on_db!(db, |pool| {
        sqlx::query("delete from report_schedules where id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// One e-mail to queue in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The outbox's dedup key.
    pub dedup_key: String,
    /// The e-mail channel.
    pub channel_id: i64,
    /// `report:<schedule id>`.
    pub subject: String,
    /// The payload (JSON), composed into the e-mail when sent.
    pub payload: String,
}

/// What a send changes on the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The schedule.
    pub id: i64,
    /// For an occurrence: the `next_send_at` it was read with and the one
    /// to move to (`None`: "send now", which leaves the schedule's time).
    pub advance: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// When queued.
    pub sent_at: DateTime<Utc>,
    /// The period's first day, `YYYY-MM-DD`.
    pub from: String,
    /// The period's last day.
    pub until: String,
}

/// In one transaction: moves the schedule on (only if its `next_send_at`
/// is still the one read, so of two instances one wins and the other does
/// nothing) and queues `deliveries` (channels that are off are skipped).
/// How many were queued, or `None` when the occurrence was someone else's
/// (or the schedule is gone).
pub async fn send(db: &Db, sent: &Sent, deliveries: &[Queued]) -> Result<Option<usize>, sqlx::Error> {
    on_tx!(db, |tx, _lock| {
        let moved = match sent.advance {
            Some((old, new)) => sqlx::query(
                "update report_schedules set next_send_at = $3, last_sent_at = $4, last_period_from = $5, \
                 last_period_until = $6 where id = $1 and next_send_at = $2 and enabled",
            )
            .bind(sent.id)
            .bind(old)
            .bind(new)
            .bind(sent.sent_at)
            .bind(&sent.from)
            .bind(&sent.until)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => sqlx::query(
                "update report_schedules set last_sent_at = $2, last_period_from = $3, last_period_until = $4 \
                 where id = $1",
            )
            .bind(sent.id)
            .bind(sent.sent_at)
            .bind(&sent.from)
            .bind(&sent.until)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if moved != 1 {
            return Ok(None);
        }
        let mut queued = 0;
        for delivery in deliveries {
            queued += sqlx::query(outbox::QUEUE_SQL)
                .bind(&delivery.dedup_key)
                .bind(delivery.channel_id)
                .bind(None::<i64>)
                .bind(outbox::SCHEDULED_REPORT)
                .bind(None::<i64>)
                .bind(&delivery.subject)
                .bind(&delivery.payload)
                .bind(sent.sent_at)
                .execute(&mut *tx)
                .await?
                .rows_affected() as usize;
        }
        Ok::<_, sqlx::Error>(Some(queued))
    })
}
