//! Scheduled report e-mails: administrators define them (anyone signed in
//! reads them); the `report-schedules` task queues each occurrence in the
//! notification outbox and sends the queued ones.
//!
//! An occurrence's period is resolved as of the occurrence's local day in
//! the schedule's zone (not as of when the console got round to it) and
//! fixed in the delivery's payload, so a retry sends the same period. When
//! the console was down over one or several occurrences, the schedule is
//! sent once when it is back and moved to the first occurrence after now;
//! the move is guarded by the `next_send_at` it was read with, so of two
//! instances only one queues it.
//!
//! This module uses the root's [`super::resolve`] and [`super::compute`];
//! the root never names this module, so there is no cycle.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{
    mail,
    occurrence::{MonthDay, Recurrence, Timing, parse_time, parse_weekday},
    store::schedules::{self as store, Fields, Queued, ScheduleRow, Sent, WriteError},
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        job::JobSource,
        report::{
            Cadence, GroupBy, ReportPreset, ReportQuery, ReportSchedule, ReportScheduleInput,
            ReportSchedulePatch, ReportSendOutcome, SCHEDULE_PERIODS,
        },
        user::Role,
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self as audit_trail, Event, Target},
        },
        infra::{
            input::{join, split},
            state::AppState,
        },
        notify::{
            SendError, channels,
            email::{Attachment, Composed},
            outbox::{self, WorkOutcome},
        },
    },
};

/// The name of the supervised task.
pub const TASK: &str = "report-schedules";

fn locale_of(lang: &str) -> Locale {
    if lang == "en" { Locale::en } else { Locale::ja }
}

/// The timing of a stored schedule; `None` (logged) when a stored value is
/// not one the code knows.
pub fn timing(row: &ScheduleRow) -> Option<Timing> {
    let days = match row.cadence {
        Cadence::Daily => Some(Recurrence::Daily),
        Cadence::Weekly => row.weekday.as_deref().and_then(parse_weekday).map(Recurrence::Weekly),
        Cadence::Monthly => row.month_day.as_deref().and_then(MonthDay::parse).map(Recurrence::Monthly),
    };
    let timing = match (days, parse_time(&row.time_of_day), row.time_zone.parse::<Tz>()) {
        (Some(days), Some(time), Ok(zone)) => Some(Timing { days, time, zone }),
        _ => None,
    };
    if timing.is_none() {
        tracing::error!(schedule_id = row.id, "a scheduled report's stored timing cannot be read; left out");
    }
    timing
}

fn to_model(row: ScheduleRow, channel_ids: Vec<i64>) -> Option<ReportSchedule> {
    let period = ReportPreset::parse(&row.period);
    let group_by = GroupBy::parse(&row.group_by);
    let source = match row.source.as_deref() {
        None => Some(None),
        Some(s) => JobSource::parse(s).map(Some),
    };
    let day = |d: &Option<String>| d.as_deref().and_then(|d| d.parse::<NaiveDate>().ok());
    let (Some(period), Some(group_by), Some(source)) = (period, group_by, source) else {
        tracing::error!(schedule_id = row.id, "a scheduled report's stored filters cannot be read; left out");
        return None;
    };
    Some(ReportSchedule {
        id: row.id,
        enabled: row.enabled,
        cadence: row.cadence,
        weekday: row.weekday.clone(),
        month_day: row.month_day.clone(),
        time_of_day: row.time_of_day.clone(),
        time_zone: row.time_zone.clone(),
        period,
        group_by,
        tag: row.tag.clone(),
        source,
        veeam_server_id: row.veeam_server_id,
        job_ids: split(&row.job_ids),
        lang: row.lang.clone(),
        channel_ids,
        created_by: row.created_by.clone(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        next_send_at: row.next_send_at,
        last_sent_at: row.last_sent_at,
        last_period_from: day(&row.last_period_from),
        last_period_until: day(&row.last_period_until),
        name: row.name,
    })
}

/// Every scheduled report (anyone signed in, `read` tokens included).
pub async fn list(state: &AppState, info: &RequestInfo) -> Result<Vec<ReportSchedule>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let mut channels = store::channels(&state.db).await?;
    Ok(store::list(&state.db)
        .await?
        .into_iter()
        .filter_map(|row| {
            let ids = channels.remove(&row.id).unwrap_or_default();
            to_model(row, ids)
        })
        .collect())
}

/// One scheduled report.
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<ReportSchedule, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let row = store::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let ids = store::channels_of(&state.db, id).await?;
    to_model(row, ids).ok_or(AppError::NotFound)
}

/// The e-mail channels a schedule may use: id, name, enabled (for forms).
pub async fn email_channels(
    state: &AppState,
    info: &RequestInfo,
) -> Result<Vec<(i64, String, bool)>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    Ok(channels::email_channels(state).await?)
}

/// Checks an input in the caller's language and turns it into the fields
/// to store (the next occurrence after `now` included).
async fn check(
    state: &AppState,
    locale: Locale,
    input: ReportScheduleInput,
    now: DateTime<Utc>,
) -> Result<Fields, AppError> {
    let invalid = |field: &str, message: String| AppError::validation(field, message);
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", td_string!(locale, report_schedules.errors.name).to_string()));
    }
    let cadence = Cadence::parse(input.cadence.trim())
        .ok_or_else(|| invalid("cadence", td_string!(locale, report_schedules.errors.cadence).to_string()))?;
    let weekday = input.weekday.map(|w| w.trim().to_owned()).filter(|w| !w.is_empty());
    let weekday_error =
        || invalid("weekday", td_string!(locale, report_schedules.errors.weekday).to_string());
    let weekday = match (cadence, weekday) {
        (Cadence::Weekly, Some(w)) => Some(parse_weekday(&w).map(|_| w).ok_or_else(weekday_error)?),
        (Cadence::Weekly, None) | (_, Some(_)) => return Err(weekday_error()),
        (_, None) => None,
    };
    let month_day = input.month_day.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty());
    let day_error =
        || invalid("month_day", td_string!(locale, report_schedules.errors.month_day).to_string());
    let month_day = match (cadence, month_day) {
        (Cadence::Monthly, Some(d)) => Some(MonthDay::parse(&d).map(|_| d).ok_or_else(day_error)?),
        (Cadence::Monthly, None) | (_, Some(_)) => return Err(day_error()),
        (_, None) => None,
    };
    let time = parse_time(input.time_of_day.trim()).ok_or_else(|| {
        invalid("time_of_day", td_string!(locale, report_schedules.errors.time_of_day).to_string())
    })?;
    let zone: Tz = match input.time_zone.map(|z| z.trim().to_owned()).filter(|z| !z.is_empty()) {
        None => state.settings.timezone,
        Some(z) => z.parse().map_err(|_| {
            invalid("time_zone", td_string!(locale, report_schedules.errors.time_zone).to_string())
        })?,
    };
    let period = match input.period.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()) {
        None => cadence.usual_period(),
        Some(p) => ReportPreset::parse(&p).filter(|p| SCHEDULE_PERIODS.contains(p)).ok_or_else(|| {
            invalid("period", td_string!(locale, report_schedules.errors.period).to_string())
        })?,
    };
    let group_by = match input.group_by.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
        None => GroupBy::Job,
        Some(g) => GroupBy::parse(g).ok_or_else(|| {
            invalid("group_by", td_string!(locale, report_schedules.errors.group_by).to_string())
        })?,
    };
    let tag = input.tag.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    if tag.as_ref().is_some_and(|t| t.chars().count() > 100) {
        return Err(invalid("tag", td_string!(locale, report_schedules.errors.tag).to_string()));
    }
    let source = match input.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(JobSource::parse(s).ok_or_else(|| {
            invalid("source", td_string!(locale, report_schedules.errors.source).to_string())
        })?),
    };
    if input.veeam_server_id.is_some_and(|id| id < 1) {
        return Err(invalid(
            "veeam_server_id",
            td_string!(locale, report_schedules.errors.veeam_server_id).to_string(),
        ));
    }
    let mut job_ids = input.job_ids.unwrap_or_default();
    job_ids.sort_unstable();
    job_ids.dedup();
    if job_ids.len() > 500 || job_ids.iter().any(|id| *id < 1) {
        return Err(invalid("job_ids", td_string!(locale, report_schedules.errors.job_ids).to_string()));
    }
    let lang =
        input.lang.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()).unwrap_or_else(|| "ja".into());
    if !matches!(lang.as_str(), "ja" | "en") {
        return Err(invalid("lang", td_string!(locale, report_schedules.errors.lang).to_string()));
    }
    let mut channel_ids = input.channel_ids;
    channel_ids.sort_unstable();
    channel_ids.dedup();
    let email: Vec<i64> = channels::email_channels(state).await?.into_iter().map(|(id, _, _)| id).collect();
    if channel_ids.is_empty() || channel_ids.len() > 50 || channel_ids.iter().any(|id| !email.contains(id)) {
        return Err(invalid(
            "channel_ids",
            td_string!(locale, report_schedules.errors.channel_ids).to_string(),
        ));
    }
    let days = match (cadence, weekday.as_deref(), month_day.as_deref()) {
        (Cadence::Weekly, Some(w), _) => parse_weekday(w).map(Recurrence::Weekly),
        (Cadence::Monthly, _, Some(d)) => MonthDay::parse(d).map(Recurrence::Monthly),
        _ => Some(Recurrence::Daily),
    }
    .unwrap_or(Recurrence::Daily);
    let next_send_at = Timing { days, time, zone }.next_after(now);
    Ok(Fields {
        name,
        enabled: input.enabled.unwrap_or(true),
        cadence,
        weekday,
        month_day,
        time_of_day: time.format("%H:%M").to_string(),
        time_zone: zone.name().to_owned(),
        period: period.as_str().to_owned(),
        group_by: group_by.as_str().to_owned(),
        tag,
        source: source.map(|s| s.as_str().to_owned()),
        veeam_server_id: input.veeam_server_id,
        job_ids: join(&job_ids),
        lang,
        next_send_at,
        channel_ids,
    })
}

fn write_error(locale: Locale, e: WriteError) -> AppError {
    match e {
        WriteError::NameTaken => {
            AppError::validation("name", td_string!(locale, report_schedules.errors.name_taken))
        }
        WriteError::Db(e) => e.into(),
    }
}

/// Adds a scheduled report (administrators).
pub async fn create(
    state: &AppState,
    info: &RequestInfo,
    input: ReportScheduleInput,
) -> Result<ReportSchedule, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let now = Utc::now();
    let fields = check(state, info.locale, input, now).await?;
    let id = store::insert(&state.db, &fields, &principal.username, now)
        .await
        .map_err(|e| write_error(info.locale, e))?;
    let event = Event::ok("report_schedule.create", Target::new("report_schedule", id, fields.name.clone()))
        .details(fields.cadence.as_str());
    audit_trail::record(state, info, Some(principal), event).await;
    get(state, info, id).await
}

/// The input that replaces a schedule: its current fields with `patch`'s.
fn merged(current: &ReportSchedule, patch: ReportSchedulePatch) -> ReportScheduleInput {
    let cadence = patch.cadence.unwrap_or_else(|| current.cadence.as_str().to_owned());
    // A weekday or day of month is kept only while the cadence takes it.
    let weekday = patch.weekday.or_else(|| (cadence == "weekly").then(|| current.weekday.clone()).flatten());
    let month_day =
        patch.month_day.or_else(|| (cadence == "monthly").then(|| current.month_day.clone()).flatten());
    ReportScheduleInput {
        name: patch.name.unwrap_or_else(|| current.name.clone()),
        enabled: Some(patch.enabled.unwrap_or(current.enabled)),
        cadence,
        weekday,
        month_day,
        time_of_day: patch.time_of_day.unwrap_or_else(|| current.time_of_day.clone()),
        time_zone: Some(patch.time_zone.unwrap_or_else(|| current.time_zone.clone())),
        period: Some(patch.period.unwrap_or_else(|| current.period.as_str().to_owned())),
        group_by: Some(patch.group_by.unwrap_or_else(|| current.group_by.as_str().to_owned())),
        tag: patch.tag.or_else(|| current.tag.clone()),
        source: patch.source.or_else(|| current.source.map(|s| s.as_str().to_owned())),
        veeam_server_id: match patch.veeam_server_id {
            Some(0) => None,
            Some(id) => Some(id),
            None => current.veeam_server_id,
        },
        job_ids: Some(patch.job_ids.unwrap_or_else(|| current.job_ids.clone())),
        lang: Some(patch.lang.unwrap_or_else(|| current.lang.clone())),
        channel_ids: patch.channel_ids.unwrap_or_else(|| current.channel_ids.clone()),
    }
}

/// Changes a scheduled report (administrators); fields left out are kept.
/// The next occurrence is worked out again from now.
pub async fn update(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    patch: ReportSchedulePatch,
) -> Result<ReportSchedule, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let current = get(state, info, id).await?;
    let now = Utc::now();
    let fields = check(state, info.locale, merged(&current, patch), now).await?;
    if !store::update(&state.db, id, &fields, now).await.map_err(|e| write_error(info.locale, e))? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("report_schedule.update", Target::new("report_schedule", id, fields.name.clone()));
    audit_trail::record(state, info, Some(principal), event).await;
    get(state, info, id).await
}

/// Replaces every field of a scheduled report (the page's form).
pub async fn replace(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    input: ReportScheduleInput,
) -> Result<ReportSchedule, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    get(state, info, id).await?;
    let now = Utc::now();
    let fields = check(state, info.locale, input, now).await?;
    if !store::update(&state.db, id, &fields, now).await.map_err(|e| write_error(info.locale, e))? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("report_schedule.update", Target::new("report_schedule", id, fields.name.clone()));
    audit_trail::record(state, info, Some(principal), event).await;
    get(state, info, id).await
}

/// Removes a scheduled report (administrators). E-mails already queued
/// are still sent.
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let current = get(state, info, id).await?;
    if !store::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("report_schedule.delete", Target::new("report_schedule", id, current.name));
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(())
}

/// What a delivery of a scheduled report carries: everything needed to
/// compute the same report again when it is sent (or sent again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The schedule's name (the delivery log's subject).
    pub subject_name: String,
    /// The schedule.
    pub schedule_id: i64,
    /// First day, fixed when queued.
    pub from: NaiveDate,
    /// Last day, fixed when queued.
    pub until: NaiveDate,
    /// The zone of the days.
    pub time_zone: String,
    /// `ja` or `en`.
    pub lang: String,
    /// Grouping.
    pub group_by: String,
    /// Tag filter.
    pub tag: Option<String>,
    /// Source filter.
    pub source: Option<String>,
    /// Veeam server filter.
    pub veeam_server_id: Option<i64>,
    /// Job filter (empty: all).
    pub job_ids: Vec<i64>,
}

impl Payload {
    /// The report query of this payload: its fixed days and filters.
    fn query(&self) -> ReportQuery {
        ReportQuery {
            period: Some(ReportPreset::Custom.as_str().to_owned()),
            from: Some(self.from.to_string()),
            until: Some(self.until.to_string()),
            group_by: Some(self.group_by.clone()),
            tag: self.tag.clone(),
            source: self.source.clone(),
            veeam_server_id: self.veeam_server_id.map(|id| id.to_string()),
            job_id: (!self.job_ids.is_empty()).then(|| join(&self.job_ids)),
            format: Some("pdf".to_owned()),
            lang: Some(self.lang.clone()),
        }
    }
}

/// The payload of a schedule's report for the period as of local day
/// `today` in the schedule's zone.
fn payload(row: &ScheduleRow, zone: Tz, today: NaiveDate) -> Result<Payload, AppError> {
    let locale = locale_of(&row.lang);
    let query = ReportQuery {
        period: Some(row.period.clone()),
        group_by: Some(row.group_by.clone()),
        tag: row.tag.clone(),
        source: row.source.clone(),
        veeam_server_id: row.veeam_server_id.map(|id| id.to_string()),
        job_id: Some(row.job_ids.clone()).filter(|j| !j.is_empty()),
        lang: Some(row.lang.clone()),
        ..ReportQuery::default()
    };
    let resolved = super::resolve(&query, zone, today, locale)?;
    Ok(Payload {
        subject_name: row.name.clone(),
        schedule_id: row.id,
        from: resolved.spec.period.from,
        until: resolved.spec.period.until,
        time_zone: zone.name().to_owned(),
        lang: row.lang.clone(),
        group_by: row.group_by.clone(),
        tag: row.tag.clone(),
        source: row.source.clone(),
        veeam_server_id: row.veeam_server_id,
        job_ids: split(&row.job_ids),
    })
}

/// One delivery per channel of the schedule; `key` tells this sending
/// apart from every other (the outbox drops a key it already has).
async fn deliveries(
    state: &AppState,
    row: &ScheduleRow,
    payload: &Payload,
    key: &str,
) -> Result<Vec<Queued>, AppError> {
    let text = serde_json::to_string(payload).map_err(AppError::internal)?;
    Ok(store::channels_of(&state.db, row.id)
        .await?
        .into_iter()
        .map(|channel_id| Queued {
            dedup_key: format!("report:{}:{key}:{channel_id}", row.id),
            channel_id,
            subject: format!("report:{}", row.id),
            payload: text.clone(),
        })
        .collect())
}

/// What one pass of the scheduler did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Schedules whose occurrence was queued.
    pub schedules: usize,
    /// Deliveries queued.
    pub queued: usize,
    /// The sending of queued reports.
    pub work: WorkOutcome,
}

/// Queues the schedules due at `now` (each once, however many of its
/// occurrences passed while the console was down) and sends the queued
/// reports that are due.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Result<Outcome, AppError> {
    let mut outcome = Outcome::default();
    for row in store::due(&state.db, now).await? {
        let Some(timing) = timing(&row) else { continue };
        let occurrence = row.next_send_at;
        // The period is the one of the occurrence, not of now.
        let payload = match payload(&row, timing.zone, timing.local_date(occurrence)) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(schedule_id = row.id, error = %e, "a scheduled report cannot be resolved");
                continue;
            }
        };
        let key = occurrence.timestamp().to_string();
        let queued = deliveries(state, &row, &payload, &key).await?;
        let sent = Sent {
            id: row.id,
            advance: Some((occurrence, timing.next_after(now.max(occurrence)))),
            sent_at: now,
            from: payload.from.to_string(),
            until: payload.until.to_string(),
        };
        if let Some(n) = store::send(&state.db, &sent, &queued).await? {
            outcome.schedules += 1;
            outcome.queued += n;
            tracing::info!(schedule_id = row.id, queued = n, from = %payload.from, until = %payload.until, "scheduled report queued");
        }
    }
    outcome.work = work_once(state, now).await?;
    Ok(outcome)
}

/// Sends the queued reports that are due at `now`.
pub async fn work_once(state: &AppState, now: DateTime<Utc>) -> Result<WorkOutcome, sqlx::Error> {
    let compose = |payload: String| {
        let state = state.clone();
        async move { compose(&state, &payload).await }
    };
    outbox::work_composed(state, now, &compose).await
}

/// Queues a schedule's report for its current period now, leaving its
/// next occurrence as it is (administrators).
pub async fn send_now(state: &AppState, info: &RequestInfo, id: i64) -> Result<ReportSendOutcome, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = store::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let zone: Tz = row.time_zone.parse().map_err(AppError::internal)?;
    let now = Utc::now();
    let payload = payload(&row, zone, now.with_timezone(&zone).date_naive())?;
    let key = format!("now:{}", now.timestamp_nanos_opt().unwrap_or_default());
    let queued = deliveries(state, &row, &payload, &key).await?;
    let sent = Sent {
        id,
        advance: None,
        sent_at: now,
        from: payload.from.to_string(),
        until: payload.until.to_string(),
    };
    let count = store::send(&state.db, &sent, &queued).await?.ok_or(AppError::NotFound)?;
    let event = Event::ok("report_schedule.send_now", Target::new("report_schedule", id, row.name))
        .details(format!("{} – {}", payload.from, payload.until));
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(ReportSendOutcome {
        queued: i64::try_from(count).unwrap_or(i64::MAX),
        from: payload.from,
        until: payload.until,
    })
}

/// Makes the e-mail of a queued report: computes the report for the
/// payload's fixed period, renders the PDF (on a blocking thread) and the
/// summary. A failure is tried again like a failed send.
async fn compose(state: &AppState, payload: &str) -> Result<Composed, SendError> {
    let payload: Payload = serde_json::from_str(payload)
        .map_err(|e| SendError::Permanent(format!("unreadable scheduled report: {e}")))?;
    let zone: Tz = payload
        .time_zone
        .parse()
        .map_err(|_| SendError::Permanent(format!("unknown time zone {}", payload.time_zone)))?;
    let locale = locale_of(&payload.lang);
    let now = Utc::now();
    let failed = |e: AppError| match e {
        AppError::Validation { .. } => SendError::Permanent(e.to_string()),
        e => SendError::Temporary(e.to_string()),
    };
    let resolved = super::resolve(&payload.query(), zone, now.with_timezone(&zone).date_naive(), locale)
        .map_err(failed)?;
    let report = super::compute(state, &resolved.spec, now).await.map_err(failed)?;
    let rendered = report.clone();
    let pdf = tokio::task::spawn_blocking(move || super::pdf::render(&rendered, locale))
        .await
        .map_err(|e| SendError::Temporary(format!("the PDF could not be made: {e}")))?
        .map_err(|e| SendError::Temporary(e.to_string()))?;
    let link = format!("{}reports", state.settings.base_url);
    let summary = mail::summary(&report, &payload.subject_name, locale, &link);
    Ok(Composed {
        subject: summary.subject,
        text: summary.text,
        html: summary.html,
        attachment: Some(Attachment {
            file_name: super::file_name(&report, "pdf"),
            content_type: "application/pdf".to_owned(),
            body: pdf,
        }),
    })
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    fn current() -> ReportSchedule {
        ReportSchedule {
            id: 1,
            name: "monthly".into(),
            enabled: true,
            cadence: Cadence::Monthly,
            weekday: None,
            month_day: Some("last".into()),
            time_of_day: "08:00".into(),
            time_zone: "Asia/Tokyo".into(),
            period: ReportPreset::LastMonth,
            group_by: GroupBy::Job,
            tag: Some("db".into()),
            source: None,
            veeam_server_id: Some(3),
            job_ids: vec![],
            lang: "ja".into(),
            channel_ids: vec![7],
            created_by: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            next_send_at: Utc::now(),
            last_sent_at: None,
            last_period_from: None,
            last_period_until: None,
        }
    }

    #[test]
    fn a_patch_keeps_what_it_leaves_out_and_clears_what_it_empties() {
        let input = merged(&current(), ReportSchedulePatch { name: Some("x".into()), ..Default::default() });
        assert_eq!(input.name, "x");
        assert_eq!(input.month_day.as_deref(), Some("last"));
        assert_eq!(input.tag.as_deref(), Some("db"));
        assert_eq!(input.veeam_server_id, Some(3));
        let input = merged(
            &current(),
            ReportSchedulePatch { tag: Some(String::new()), veeam_server_id: Some(0), ..Default::default() },
        );
        assert_eq!(input.tag.as_deref(), Some(""));
        assert_eq!(input.veeam_server_id, None);
    }

    #[test]
    fn changing_the_cadence_drops_the_day_it_no_longer_takes() {
        let input = merged(
            &current(),
            ReportSchedulePatch {
                cadence: Some("weekly".into()),
                weekday: Some("mon".into()),
                ..Default::default()
            },
        );
        assert_eq!(input.month_day, None);
        assert_eq!(input.weekday.as_deref(), Some("mon"));
    }

    #[test]
    fn a_payload_asks_for_its_fixed_days() {
        let payload = Payload {
            subject_name: "m".into(),
            schedule_id: 1,
            from: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            until: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            time_zone: "Asia/Tokyo".into(),
            lang: "en".into(),
            group_by: "job".into(),
            tag: None,
            source: None,
            veeam_server_id: None,
            job_ids: vec![2, 5],
        };
        let query = payload.query();
        assert_eq!(query.period.as_deref(), Some("custom"));
        assert_eq!(query.from.as_deref(), Some("2026-11-01"));
        assert_eq!(query.until.as_deref(), Some("2026-11-30"));
        assert_eq!(query.job_id.as_deref(), Some("2,5"));
    }
}
