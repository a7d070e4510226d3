//! Maintenance windows (administrators): one-off or weekly periods, in a
//! time zone, for all jobs, jobs with a tag or chosen jobs. Events they
//! cover are recorded (see `notification_suppressions`) but not sent.

use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::filter::{checked_filter, filter_covers};
use crate::{
    error::AppError,
    i18n::td_string,
    model::{
        notify::{JobFilter, MaintenanceWindow, MaintenanceWindowInput},
        user::Role,
    },
    on_db,
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self as audit_trail, Event, Target},
        },
        infra::{
            db::is_unique_violation,
            input::{join, parse_instant, split},
            state::AppState,
        },
    },
};

/// A stored window.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WindowRow {
    id: i64,
    name: String,
    kind: String,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    weekdays: String,
    start_time: Option<String>,
    end_time: Option<String>,
    time_zone: String,
    job_filter_kind: String,
    job_filter_tags: String,
    job_filter_job_ids: String,
    enabled: bool,
}

const COLUMNS: &str = "id, name, kind, starts_at, ends_at, weekdays, start_time, end_time, time_zone, \
     job_filter_kind, job_filter_tags, job_filter_job_ids, enabled";

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

fn day_name(day: Weekday) -> &'static str {
    DAYS.iter().find(|(_, d)| *d == day).map_or("mon", |(n, _)| n)
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

impl WindowRow {
    /// A weekly window for all jobs (tests of other modules).
    #[cfg(test)]
    pub fn weekly_for_tests(days: &str, start: &str, end: &str, zone: &str) -> Self {
        Self {
            id: 1,
            name: "w".into(),
            kind: "weekly".into(),
            starts_at: None,
            ends_at: None,
            weekdays: days.into(),
            start_time: Some(start.into()),
            end_time: Some(end.into()),
            time_zone: zone.into(),
            job_filter_kind: "all".into(),
            job_filter_tags: String::new(),
            job_filter_job_ids: String::new(),
            enabled: true,
        }
    }

    /// The window's id.
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Whether the window is in force at `at`.
    pub fn in_force(&self, at: DateTime<Utc>) -> bool {
        if !self.enabled {
            return false;
        }
        match self.kind.as_str() {
            "once" => match (self.starts_at, self.ends_at) {
                (Some(start), Some(end)) => start <= at && at < end,
                _ => false,
            },
            _ => {
                let (Some(start), Some(end), Ok(tz)) = (
                    self.start_time.as_deref().and_then(parse_time),
                    self.end_time.as_deref().and_then(parse_time),
                    self.time_zone.parse::<Tz>(),
                ) else {
                    return false;
                };
                let local = at.with_timezone(&tz).naive_local();
                let days: Vec<&str> = self.weekdays.split(',').map(str::trim).collect();
                let overnight = end <= start;
                // Today's window, or yesterday's running past midnight.
                let today = days.contains(&day_name(local.weekday()));
                let yesterday = days.contains(&day_name(local.weekday().pred()));
                let t = local.time();
                if overnight {
                    (today && t >= start) || (yesterday && t < end)
                } else {
                    today && t >= start && t < end
                }
            }
        }
    }

    /// Whether it covers a job (or, with `None`, a server/repository event).
    pub fn covers(&self, job: Option<(i64, &[String])>) -> bool {
        filter_covers(&self.job_filter_kind, &self.job_filter_tags, &self.job_filter_job_ids, job)
    }
}

fn to_model(r: WindowRow, now: DateTime<Utc>) -> MaintenanceWindow {
    let active_now = r.in_force(now);
    let zone: Tz = r.time_zone.parse().unwrap_or_else(|_| {
        tracing::error!(window_id = r.id, zone = %r.time_zone, "a maintenance window's stored time zone is unknown; shown in UTC");
        chrono_tz::UTC
    });
    let local =
        |at: Option<DateTime<Utc>>| at.map(|t| t.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string());
    MaintenanceWindow {
        starts_local: local(r.starts_at),
        ends_local: local(r.ends_at),
        id: r.id,
        name: r.name,
        kind: r.kind,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        weekdays: split(&r.weekdays),
        start_time: r.start_time,
        end_time: r.end_time,
        time_zone: r.time_zone,
        job_filter: JobFilter {
            kind: r.job_filter_kind,
            tags: split(&r.job_filter_tags),
            job_ids: split(&r.job_filter_job_ids),
        },
        enabled: r.enabled,
        active_now,
    }
}

/// Every enabled window (the producer checks events against them).
pub const ENABLED_SQL: &str = "select id, name, kind, starts_at, ends_at, weekdays, start_time, end_time, time_zone, \
     job_filter_kind, job_filter_tags, job_filter_job_ids, enabled from maintenance_windows where enabled";

struct Checked {
    name: String,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    weekdays: Vec<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    time_zone: String,
    filter: JobFilter,
}

fn check(state: &AppState, info: &RequestInfo, input: &MaintenanceWindowInput) -> Result<Checked, AppError> {
    let locale = info.locale;
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", td_string!(locale, maintenance.errors.name)));
    }
    let zone_text = input.time_zone.clone().unwrap_or_else(|| state.settings.timezone.name().to_owned());
    let tz: Tz = zone_text
        .trim()
        .parse()
        .map_err(|_| AppError::validation("time_zone", td_string!(locale, maintenance.errors.time_zone)))?;
    let filter = checked_filter(locale, input.job_filter.clone())?;
    let mut checked = Checked {
        name,
        starts_at: None,
        ends_at: None,
        weekdays: vec![],
        start_time: None,
        end_time: None,
        time_zone: tz.name().to_owned(),
        filter,
    };
    match input.kind.as_str() {
        "once" => {
            let start = input.starts_at.as_deref().and_then(|s| parse_instant(s, tz));
            let end = input.ends_at.as_deref().and_then(|s| parse_instant(s, tz));
            let Some(start) = start else {
                return Err(AppError::validation(
                    "starts_at",
                    td_string!(locale, maintenance.errors.instant),
                ));
            };
            let Some(end) = end else {
                return Err(AppError::validation("ends_at", td_string!(locale, maintenance.errors.instant)));
            };
            if end <= start || end - start > Duration::days(366) {
                return Err(AppError::validation("ends_at", td_string!(locale, maintenance.errors.order)));
            }
            checked.starts_at = Some(start);
            checked.ends_at = Some(end);
        }
        "weekly" => {
            let mut days: Vec<String> = Vec::new();
            for day in &input.weekdays {
                let day = day.trim().to_lowercase();
                let Some((name, _)) = DAYS.iter().find(|(n, _)| day.starts_with(n)) else {
                    return Err(AppError::validation(
                        "weekdays",
                        td_string!(locale, maintenance.errors.weekdays),
                    ));
                };
                if !days.iter().any(|d| d == name) {
                    days.push((*name).to_owned());
                }
            }
            if days.is_empty() {
                return Err(AppError::validation(
                    "weekdays",
                    td_string!(locale, maintenance.errors.weekdays),
                ));
            }
            days.sort_by_key(|d| DAYS.iter().position(|(n, _)| n == d));
            let start = input.start_time.as_deref().and_then(parse_time);
            let end = input.end_time.as_deref().and_then(parse_time);
            let (Some(start), Some(end)) = (start, end) else {
                let field = if start.is_none() { "start_time" } else { "end_time" };
                return Err(AppError::validation(field, td_string!(locale, maintenance.errors.time)));
            };
            if start == end {
                return Err(AppError::validation("end_time", td_string!(locale, maintenance.errors.order)));
            }
            checked.weekdays = days;
            checked.start_time = Some(start.format("%H:%M").to_string());
            checked.end_time = Some(end.format("%H:%M").to_string());
        }
        _ => return Err(AppError::validation("kind", td_string!(locale, maintenance.errors.kind))),
    }
    Ok(checked)
}

/// Every window (administrators).
pub async fn list(state: &AppState, info: &RequestInfo) -> Result<Vec<MaintenanceWindow>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let sql = sqlx::AssertSqlSafe(format!("select {COLUMNS} from maintenance_windows order by name"));
    let rows: Vec<WindowRow> = on_db!(&state.db, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
    let now = Utc::now();
    Ok(rows.into_iter().map(|r| to_model(r, now)).collect())
}

/// One window (administrators).
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<MaintenanceWindow, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let sql = sqlx::AssertSqlSafe(format!("select {COLUMNS} from maintenance_windows where id = $1"));
    let row: Option<WindowRow> =
        on_db!(&state.db, |pool| sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    row.map(|r| to_model(r, Utc::now())).ok_or(AppError::NotFound)
}

/// Adds (`id` none) or replaces a window (administrators).
pub async fn save(
    state: &AppState,
    info: &RequestInfo,
    id: Option<i64>,
    input: MaintenanceWindowInput,
) -> Result<MaintenanceWindow, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let c = check(state, info, &input)?;
    let now = Utc::now();
    let enabled = input.enabled.unwrap_or(true);
    let result: Result<i64, sqlx::Error> = on_db!(&state.db, |pool| {
        let query = match id {
            None => sqlx::query_scalar(
                "insert into maintenance_windows (name, kind, starts_at, ends_at, weekdays, start_time, end_time, \
                 time_zone, job_filter_kind, job_filter_tags, job_filter_job_ids, enabled, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) returning id",
            ),
            Some(_) => sqlx::query_scalar(
                "update maintenance_windows set name = $1, kind = $2, starts_at = $3, ends_at = $4, weekdays = $5, \
                 start_time = $6, end_time = $7, time_zone = $8, job_filter_kind = $9, job_filter_tags = $10, \
                 job_filter_job_ids = $11, enabled = $12, updated_at = $13 where id = $14 returning id",
            ),
        };
        query
            .bind(&c.name)
            .bind(&input.kind)
            .bind(c.starts_at)
            .bind(c.ends_at)
            .bind(join(&c.weekdays))
            .bind(&c.start_time)
            .bind(&c.end_time)
            .bind(&c.time_zone)
            .bind(&c.filter.kind)
            .bind(join(&c.filter.tags))
            .bind(join(&c.filter.job_ids))
            .bind(enabled)
            .bind(now)
            .bind(id.unwrap_or_default())
            .fetch_optional(pool)
            .await
            .map(|saved: Option<i64>| saved.unwrap_or(-1))
    });
    let saved = match result {
        Ok(-1) => return Err(AppError::NotFound),
        Ok(saved) => saved,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::validation("name", td_string!(info.locale, maintenance.errors.name_taken)));
        }
        Err(e) => return Err(e.into()),
    };
    let action = if id.is_some() { "maintenance.update" } else { "maintenance.create" };
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok(action, Target::new("maintenance_window", saved, c.name)),
    )
    .await;
    get(state, info, saved).await
}

/// Removes a window (administrators).
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let window = get(state, info, id).await?;
    on_db!(&state.db, |pool| {
        sqlx::query("delete from maintenance_windows where id = $1").bind(id).execute(pool).await.map(|_| ())
    })?;
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("maintenance.delete", Target::new("maintenance_window", id, window.name)),
    )
    .await;
    Ok(())
}

/// Every enabled window (the notification policy checks events against them).
pub async fn enabled(db: &crate::ssr::infra::db::Db) -> Result<Vec<WindowRow>, sqlx::Error> {
    on_db!(db, |pool| sqlx::query_as(ENABLED_SQL).fetch_all(pool).await)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    fn weekly(days: &str, start: &str, end: &str) -> WindowRow {
        WindowRow::weekly_for_tests(days, start, end, "Asia/Tokyo")
    }

    fn tokyo(text: &str) -> DateTime<Utc> {
        parse_instant(text, chrono_tz::Asia::Tokyo).unwrap()
    }

    #[test]
    fn weekly_windows_follow_their_zone_and_may_run_past_midnight() {
        // 2026-11-22 is a Sunday.
        let w = weekly("sun", "22:00", "02:00");
        assert!(!w.in_force(tokyo("2026-11-22T21:59")));
        assert!(w.in_force(tokyo("2026-11-22T22:00")));
        assert!(w.in_force(tokyo("2026-11-23T01:59")), "Monday early morning belongs to Sunday's window");
        assert!(!w.in_force(tokyo("2026-11-23T02:00")));
        assert!(!w.in_force(tokyo("2026-11-23T22:30")), "not on Mondays");
        let day = weekly("mon,tue", "09:00", "17:00");
        assert!(day.in_force(tokyo("2026-11-24T12:00")));
        assert!(!day.in_force(tokyo("2026-11-24T17:00")));
        assert!(!day.in_force(tokyo("2026-11-25T12:00")));
    }

    #[test]
    fn local_and_rfc3339_instants_are_read() {
        assert_eq!(tokyo("2026-11-22T09:00").to_rfc3339(), "2026-11-22T00:00:00+00:00");
        assert_eq!(tokyo("2026-11-22T09:00:00+09:00"), tokyo("2026-11-22T09:00"));
        assert!(parse_instant("tomorrow", chrono_tz::UTC).is_none());
    }
}
