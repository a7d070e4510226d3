//! Notification rules (administrators): which events go to which
//! channels for which jobs.

use chrono::{DateTime, Utc};

use super::{
    filter::{self, checked_filter},
    message::EventKind,
    policy, store,
};
use crate::{
    error::AppError,
    i18n::td_string,
    model::{
        notify::{JobFilter, Rule, RuleInput},
        user::Role,
    },
    on_db,
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self as audit_trail, Event, Target},
        },
        infra::{
            db::{Db, is_unique_violation},
            input::{join, split},
            state::AppState,
        },
    },
};

#[derive(Debug, Clone, sqlx::FromRow)]
struct RuleRow {
    id: i64,
    name: String,
    events: String,
    channel_ids: String,
    job_filter_kind: String,
    job_filter_tags: String,
    job_filter_job_ids: String,
    min_consecutive_failures: i64,
    repeat_every_hours: Option<i64>,
    enabled: bool,
}

const COLUMNS: &str = "id, name, events, channel_ids, job_filter_kind, job_filter_tags, job_filter_job_ids, \
     min_consecutive_failures, repeat_every_hours, enabled";

fn to_model(r: RuleRow) -> Rule {
    Rule {
        id: r.id,
        name: r.name,
        events: split(&r.events),
        channel_ids: split(&r.channel_ids),
        job_filter: JobFilter {
            kind: r.job_filter_kind,
            tags: split(&r.job_filter_tags),
            job_ids: split(&r.job_filter_job_ids),
        },
        min_consecutive_failures: r.min_consecutive_failures,
        repeat_every_hours: r.repeat_every_hours,
        enabled: r.enabled,
    }
}

async fn check(state: &AppState, info: &RequestInfo, input: &RuleInput) -> Result<JobFilter, AppError> {
    let locale = info.locale;
    if input.name.trim().is_empty() || input.name.trim().chars().count() > 200 {
        return Err(AppError::validation("name", td_string!(locale, notify.errors.rule_name)));
    }
    let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    if input.events.is_empty() || input.events.iter().any(|e| !known.contains(&e.as_str())) {
        let list = known.join(", ");
        return Err(AppError::validation("events", td_string!(locale, notify.errors.events, known = list)));
    }
    if input.channel_ids.is_empty() {
        return Err(AppError::validation("channel_ids", td_string!(locale, notify.errors.channels)));
    }
    for id in &input.channel_ids {
        if store::find(&state.db, *id).await?.is_none() {
            return Err(AppError::validation("channel_ids", td_string!(locale, notify.errors.channels)));
        }
    }
    let filter = checked_filter(locale, input.job_filter.clone())?;
    if !(1..=100).contains(&input.min_consecutive_failures.unwrap_or(1)) {
        return Err(AppError::validation(
            "min_consecutive_failures",
            td_string!(locale, notify.errors.consecutive),
        ));
    }
    if input.repeat_every_hours.is_some_and(|h| !(1..=168).contains(&h)) {
        return Err(AppError::validation("repeat_every_hours", td_string!(locale, notify.errors.repeat)));
    }
    Ok(filter)
}

/// Every rule (administrators).
pub async fn list(state: &AppState, info: &RequestInfo) -> Result<Vec<Rule>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let sql = sqlx::AssertSqlSafe(format!("select {COLUMNS} from notification_rules order by name"));
    let rows: Vec<RuleRow> = on_db!(&state.db, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(to_model).collect())
}

/// One rule (administrators).
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<Rule, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let sql = sqlx::AssertSqlSafe(format!("select {COLUMNS} from notification_rules where id = $1"));
    let row: Option<RuleRow> =
        on_db!(&state.db, |pool| sqlx::query_as(sql).bind(id).fetch_optional(pool).await)?;
    row.map(to_model).ok_or(AppError::NotFound)
}

/// Adds (`id` none) or replaces a rule (administrators).
pub async fn save(
    state: &AppState,
    info: &RequestInfo,
    id: Option<i64>,
    input: RuleInput,
) -> Result<Rule, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let filter = check(state, info, &input).await?;
    // Events in the order the UI lists them, once each.
    let mut input = input;
    input.events.sort_by_key(|e| EventKind::ALL.iter().position(|k| k.as_str() == e));
    input.events.dedup();
    let now: DateTime<Utc> = Utc::now();
    let name = input.name.trim().to_owned();
    let tags = filter.tags.clone();
    let result: Result<i64, sqlx::Error> = match id {
        None => on_db!(&state.db, |pool| {
            sqlx::query_scalar(
                "insert into notification_rules (name, events, channel_ids, job_filter_kind, job_filter_tags, \
                 job_filter_job_ids, min_consecutive_failures, repeat_every_hours, enabled, created_at, updated_at) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) returning id",
            )
            .bind(&name)
            .bind(join(&input.events))
            .bind(join(&input.channel_ids))
            .bind(&filter.kind)
            .bind(join(&tags))
            .bind(join(&filter.job_ids))
            .bind(input.min_consecutive_failures.unwrap_or(1))
            .bind(input.repeat_every_hours)
            .bind(input.enabled.unwrap_or(true))
            .bind(now)
            .fetch_one(pool)
            .await
        }),
        Some(id) => on_db!(&state.db, |pool| {
            sqlx::query(
                "update notification_rules set name = $2, events = $3, channel_ids = $4, job_filter_kind = $5, \
                 job_filter_tags = $6, job_filter_job_ids = $7, min_consecutive_failures = $8, \
                 repeat_every_hours = $9, enabled = $10, updated_at = $11 where id = $1",
            )
            .bind(id)
            .bind(&name)
            .bind(join(&input.events))
            .bind(join(&input.channel_ids))
            .bind(&filter.kind)
            .bind(join(&tags))
            .bind(join(&filter.job_ids))
            .bind(input.min_consecutive_failures.unwrap_or(1))
            .bind(input.repeat_every_hours)
            .bind(input.enabled.unwrap_or(true))
            .bind(now)
            .execute(pool)
            .await
            .map(|r| if r.rows_affected() == 1 { id } else { -1 })
        }),
    };
    let saved = match result {
        Ok(-1) => return Err(AppError::NotFound),
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            return Err(AppError::validation("name", td_string!(info.locale, notify.errors.rule_name_taken)));
        }
        Err(e) => return Err(e.into()),
    };
    let action = if id.is_some() { "rule.update" } else { "rule.create" };
    audit_trail::record(state, info, Some(principal), Event::ok(action, Target::new("rule", saved, name)))
        .await;
    get(state, info, saved).await
}

/// Removes a rule (administrators).
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let rule = get(state, info, id).await?;
    on_db!(&state.db, |pool| {
        sqlx::query("delete from notification_rules where id = $1").bind(id).execute(pool).await.map(|_| ())
    })?;
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("rule.delete", Target::new("rule", id, rule.name)),
    )
    .await;
    Ok(())
}

/// The enabled rules, as the notification policy reads them.
pub async fn enabled(db: &Db) -> Result<Vec<policy::Rule>, sqlx::Error> {
    let sql =
        sqlx::AssertSqlSafe(format!("select {COLUMNS} from notification_rules where enabled order by id"));
    let rows: Vec<RuleRow> = on_db!(db, |pool| sqlx::query_as(sql).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|r| policy::Rule {
            id: r.id,
            events: r
                .events
                .split(',')
                .filter_map(|e| {
                    let kind = EventKind::ALL.into_iter().find(|k| k.as_str() == e.trim());
                    if kind.is_none() {
                        tracing::error!(
                            rule_id = r.id,
                            event = e,
                            "a rule's stored event is unknown; left out"
                        );
                    }
                    kind
                })
                .collect(),
            channel_ids: split(&r.channel_ids),
            filter: filter::JobFilter::from_columns(
                &r.job_filter_kind,
                &r.job_filter_tags,
                &r.job_filter_job_ids,
            ),
            min_consecutive_failures: usize::try_from(r.min_consecutive_failures.max(1)).unwrap_or(1),
            repeat_every_hours: r.repeat_every_hours,
        })
        .collect())
}
