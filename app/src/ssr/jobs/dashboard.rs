//! What the dashboard and a job's page show: counts per state, problems,
//! the latest runs, calendars and daily totals. Reads only the jobs table,
//! the newest runs and the daily figures, so the cost follows the number of
//! jobs, not the years of history.

use std::collections::{BTreeMap, HashMap};

use crate::i18n::{Locale, td_string};

use chrono::{Duration, Utc};

use super::{
    store::{
        jobs::{self as jobs_db, JobFilter, JobRow},
        runs::{self as runs_db, RunFilter},
    },
    views,
};
use crate::{
    error::AppError,
    model::{
        dashboard::{CalendarCell, CalendarRow, Dashboard, DayTotals, JobPage, StateCount},
        job::JobState,
        user::Role,
    },
    ssr::{
        accounts::{self, Access, RequestInfo},
        infra::state::AppState,
    },
};

/// The last `days` days (in `tz`), oldest first, as `YYYY-MM-DD`.
pub fn last_days(tz: chrono_tz::Tz, days: i64) -> Vec<String> {
    let today = Utc::now().with_timezone(&tz).date_naive();
    (0..days).rev().map(|n| (today - Duration::days(n)).format("%Y-%m-%d").to_string()).collect()
}

fn cell_of(row: Option<&runs_db::DailyRow>) -> CalendarCell {
    match row {
        None => CalendarCell::None,
        Some(d) if d.failed > 0 => CalendarCell::Failed,
        Some(d) if d.missed > 0 => CalendarCell::Missed,
        Some(d) if d.warning > 0 => CalendarCell::Warning,
        Some(d) if d.success > 0 => CalendarCell::Success,
        Some(_) => CalendarCell::None,
    }
}

/// Calendar rows for these jobs over `days`.
async fn calendar(state: &AppState, rows: &[JobRow], days: &[String]) -> Result<Vec<CalendarRow>, AppError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let first = days.first().cloned().unwrap_or_default();
    let daily = runs_db::daily_since(&state.db, &first, Some(&ids)).await?;
    let by_job_day: HashMap<(i64, &str), &runs_db::DailyRow> =
        daily.iter().map(|d| ((d.job_id, d.day.as_str()), d)).collect();
    Ok(rows
        .iter()
        .map(|row| CalendarRow {
            job_id: row.id,
            job_name: row.name.clone(),
            state: row.state,
            cells: days.iter().map(|day| cell_of(by_job_day.get(&(row.id, day.as_str())).copied())).collect(),
        })
        .collect())
}

/// Everything the dashboard shows (viewers and up): counts per state,
/// problems, the latest runs, a 14-day calendar and daily totals.
pub async fn dashboard(state: &AppState, info: &RequestInfo) -> Result<Dashboard, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let tz = state.settings.timezone;
    let counts = jobs_db::count_by_state(&state.db).await?;
    let total_jobs = counts.iter().map(|(_, n)| n).sum();
    let state_counts: BTreeMap<JobState, i64> = counts.into_iter().collect();
    let problems = jobs_db::problems(&state.db, 20).await?;
    // The calendar shows the problem jobs, then others by name.
    let mut calendar_rows = problems.clone();
    if calendar_rows.len() < 30 {
        let others = jobs_db::list(&state.db, &JobFilter::default(), 30).await?;
        for row in others {
            if calendar_rows.len() >= 30 {
                break;
            }
            if !calendar_rows.iter().any(|r| r.id == row.id) {
                calendar_rows.push(row);
            }
        }
    }
    let ids: Vec<i64> = problems.iter().map(|r| r.id).collect();
    let tags = jobs_db::tags_of(&state.db, &ids).await?;
    let acks = super::ack::active_of(state, &ids, Utc::now()).await?;
    let days = last_days(tz, 14);
    let calendar = calendar(state, &calendar_rows, &days).await?;
    let totals =
        runs_db::totals_per_day(&state.db, days.first().map(String::as_str).unwrap_or_default()).await?;
    let by_day: HashMap<&str, &runs_db::DailyRow> = totals.iter().map(|t| (t.day.as_str(), t)).collect();
    let daily = days
        .iter()
        .map(|day| {
            let t = by_day.get(day.as_str());
            DayTotals {
                day: day.clone(),
                success: t.map_or(0, |t| t.success),
                warning: t.map_or(0, |t| t.warning),
                failed: t.map_or(0, |t| t.failed),
                missed: t.map_or(0, |t| t.missed),
                average_duration_seconds: t
                    .and_then(|t| (t.duration_count > 0).then(|| t.duration_seconds_sum / t.duration_count)),
                bytes: t.map_or(0, |t| t.bytes_sum),
            }
        })
        .collect();
    let latest = runs_db::list(&state.db, &RunFilter::default(), 15).await?;
    Ok(Dashboard {
        counts: JobState::ALL
            .into_iter()
            .map(|s| StateCount { state: s, count: *state_counts.get(&s).unwrap_or(&0) })
            .collect(),
        total_jobs,
        problems: problems.iter().map(|r| views::summary(r, &tags, &acks)).collect(),
        latest_runs: latest.iter().map(|r| (views::run(r), r.job_name.clone())).collect(),
        days,
        calendar,
        daily,
        generated_at: Utc::now(),
        machines_outside_rpo: jobs_db::machines_outside_rpo(&state.db).await?,
    })
}

/// The job page (viewers and up): the job, its schedule in words, a 30-day
/// calendar and its recent runs for the charts. The Veeam part (`veeam`)
/// is the Veeam domain's to fill in.
pub async fn job_page(state: &AppState, info: &RequestInfo, id: i64) -> Result<JobPage, AppError> {
    let principal = info.require(Role::Viewer, Access::Read)?;
    let row = jobs_db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let expected = row.expected(state.settings.timezone);
    let schedule_text = schedule_text(&row, &expected, info.locale);
    let owner_name = match row.owner_id {
        Some(owner) => accounts::username_of(state, owner).await?,
        None => None,
    };
    let days = last_days(state.settings.timezone, 30);
    let calendar =
        calendar(state, std::slice::from_ref(&row), &days).await?.pop().map(|r| r.cells).unwrap_or_default();
    let recent = runs_db::recent_of_job(&state.db, id, 30).await?;
    let job = views::jobs(state, info, vec![row]).await?.remove(0);
    Ok(JobPage {
        veeam: None,
        schedule_text,
        owner_name,
        days,
        calendar,
        recent: recent.iter().map(views::run).collect(),
        can_operate: principal.role >= Role::Operator,
        job,
    })
}

/// The schedule in words; for a job that follows Veeam, said so ("from
/// Veeam: every day at 22:00 (JST)"), with what Veeam's own schedule is
/// when it maps to no cron or interval, and whether it runs at all.
fn schedule_text(row: &jobs_db::JobRow, expected: &super::schedule::Expected, locale: Locale) -> String {
    if row.schedule_from != "veeam" {
        return expected.describe(locale);
    }
    let what = match row.veeam_schedule_state.as_deref() {
        Some("disabled") => td_string!(locale, jobs.schedule.veeam_disabled).to_string(),
        Some("unscheduled") => td_string!(locale, jobs.schedule.veeam_unscheduled).to_string(),
        _ => match row.veeam_schedule_summary.as_deref() {
            Some(summary) if row.veeam_schedule_kind.as_deref() == Some("next_run") => {
                let kind = match summary.split_once(':') {
                    Some(("after", job)) => {
                        td_string!(locale, jobs.schedule.veeam_after, job = job.to_owned()).to_string()
                    }
                    _ if summary == "continuous" => {
                        td_string!(locale, jobs.schedule.veeam_continuous).to_string()
                    }
                    _ if summary == "window" => td_string!(locale, jobs.schedule.veeam_window).to_string(),
                    _ => summary.to_owned(),
                };
                format!("{kind} ({})", expected.describe(locale))
            }
            _ => expected.describe(locale),
        },
    };
    td_string!(locale, jobs.schedule.from_veeam, schedule = what).to_string()
}
