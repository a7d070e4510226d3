//! Jobs, runs and the dashboard, for the UI.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    model::{
        Page,
        dashboard::{Dashboard, JobPage},
        job::{Job, JobQuery, Run, RunQuery},
    },
};

/// A page of runs with their job names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsPage {
    /// Runs with job names, newest first.
    pub items: Vec<(Run, String)>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

/// What the job form offers: owners to choose from and the default zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobFormOptions {
    /// (id, username) of every active user.
    pub owners: Vec<(i64, String)>,
    /// The console's default time zone.
    pub default_timezone: String,
}

/// The dashboard's data.
#[server(prefix = "/api/fn", endpoint = "jobs/dashboard")]
pub async fn get_dashboard() -> Result<Dashboard, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::jobs::dashboard(&state, &info).await
}

/// A page of jobs by name, filtered.
#[server(prefix = "/api/fn", endpoint = "jobs/list")]
pub async fn list_jobs(#[server(flatten)] query: JobQuery) -> Result<Page<Job>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::jobs::list(&state, &info, query).await
}

/// Every tag in use, with its number of jobs.
#[server(prefix = "/api/fn", endpoint = "jobs/tags")]
pub async fn list_tags() -> Result<Vec<(String, i64)>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::jobs::tags(&state, &info).await
}

/// The job page's data: the job's, and for a Veeam job its Veeam part.
#[server(prefix = "/api/fn", endpoint = "jobs/page")]
pub async fn get_job_page(id: i64) -> Result<JobPage, AppError> {
    let (state, info) = server::ctx()?;
    let mut page = crate::ssr::jobs::job_page(&state, &info, id).await?;
    page.veeam = crate::ssr::veeam::job_info(&state, id).await?;
    Ok(page)
}

/// Owners and the default zone for the job form (operators and up).
#[server(prefix = "/api/fn", endpoint = "jobs/form-choices")]
pub async fn job_form_choices() -> Result<JobFormOptions, AppError> {
    let (state, info) = server::ctx()?;
    let owners = crate::ssr::accounts::user_choices(&state, &info).await?;
    Ok(JobFormOptions { owners, default_timezone: state.settings.timezone.name().to_owned() })
}

/// The job form's fields, as a browser posts them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobForm {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Comma- or space-separated tags.
    #[serde(default)]
    pub tags: Option<String>,
    /// `none`, `cron` or `interval`.
    #[serde(default)]
    pub schedule_kind: Option<String>,
    /// Cron expression.
    #[serde(default)]
    pub cron: Option<String>,
    /// IANA zone.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Interval in minutes.
    #[serde(default)]
    pub interval_minutes: Option<String>,
    /// Grace in minutes.
    #[serde(default)]
    pub grace_minutes: Option<String>,
    /// Maximum duration in minutes.
    #[serde(default)]
    pub max_duration_minutes: Option<String>,
    /// Owner's user id.
    #[serde(default)]
    pub owner_id: Option<String>,
    /// RPO in hours (empty: none).
    #[serde(default)]
    pub rpo_hours: Option<String>,
    /// `on`: a Veeam job follows its schedule in Veeam.
    #[serde(default)]
    pub follow_veeam: Option<String>,
    /// `on`: expected on business days only (an unchecked box sends nothing).
    #[serde(default)]
    pub business_days_only: Option<String>,
}

#[cfg(feature = "ssr")]
impl JobForm {
    /// Converts the form into the API's job input (minutes become seconds).
    fn into_new_job(self, locale: crate::i18n::Locale) -> Result<crate::model::job::NewJob, AppError> {
        use super::non_empty;
        use crate::{
            i18n::td_string,
            model::schedule::{Schedule, ScheduleKind},
        };
        let minutes =
            |field: &str, value: Option<String>, message: String| -> Result<Option<i64>, AppError> {
                match non_empty(value) {
                    None => Ok(None),
                    Some(v) => v
                        .parse::<i64>()
                        .ok()
                        .and_then(|m| m.checked_mul(60))
                        .map(Some)
                        .ok_or_else(|| AppError::validation(field, message)),
                }
            };
        let kind = match non_empty(self.schedule_kind) {
            None => ScheduleKind::None,
            Some(kind) => ScheduleKind::parse(&kind).ok_or_else(|| {
                AppError::validation(
                    "schedule.kind",
                    td_string!(locale, errors.invalid_choice, allowed = "none, cron, interval"),
                )
            })?,
        };
        let interval = minutes(
            "schedule.interval_seconds",
            self.interval_minutes,
            td_string!(locale, jobs.errors.interval, min = 60, max = 2678400).to_string(),
        )?;
        let schedule = Schedule {
            kind,
            cron: non_empty(self.cron),
            timezone: non_empty(self.timezone),
            interval_seconds: if kind == ScheduleKind::Interval { interval } else { None },
        };
        let grace =
            minutes("grace_seconds", self.grace_minutes, td_string!(locale, jobs.errors.grace).to_string())?;
        let max_duration = minutes(
            "max_duration_seconds",
            self.max_duration_minutes,
            td_string!(locale, jobs.errors.max_duration).to_string(),
        )?;
        let owner_id = match non_empty(self.owner_id) {
            None => None,
            Some(v) => Some(v.parse::<i64>().map_err(|_| {
                AppError::validation("owner_id", td_string!(locale, jobs.errors.owner).to_string())
            })?),
        };
        Ok(crate::model::job::NewJob {
            name: self.name,
            description: self.description,
            source: None,
            tags: self.tags.map(|t| t.split([',', ' ', '、']).map(str::to_owned).collect()),
            schedule: Some(schedule),
            grace_seconds: grace,
            max_duration_seconds: max_duration,
            owner_id,
            business_days_only: self.business_days_only.as_deref() == Some("on"),
        })
    }
}

/// Creates a job and opens its page.
#[server(prefix = "/api/fn", endpoint = "jobs/create")]
pub async fn create_job(form: JobForm) -> Result<Job, AppError> {
    let (state, info) = server::ctx()?;
    let job = crate::ssr::jobs::create(&state, &info, form.into_new_job(info.locale)?).await?;
    leptos_axum::redirect(&format!("/jobs/{}", job.id));
    Ok(job)
}

/// Saves a job's definition and opens its page.
#[server(prefix = "/api/fn", endpoint = "jobs/update")]
pub async fn update_job(id: i64, form: JobForm) -> Result<Job, AppError> {
    use crate::model::job::JobPatch;
    let (state, info) = server::ctx()?;
    let rpo_hours = match super::non_empty(form.rpo_hours.clone()) {
        None => None,
        Some(v) => Some(v.parse::<i64>().map_err(|_| {
            AppError::validation(
                "rpo_hours",
                crate::i18n::td_string!(info.locale, jobs.errors.rpo_hours).to_string(),
            )
        })?),
    };
    let follow_veeam = form.follow_veeam.as_deref() == Some("on");
    let new = form.into_new_job(info.locale)?;
    let current = crate::ssr::jobs::get(&state, &info, id).await?;
    let patch = JobPatch {
        name: Some(new.name),
        description: new.description,
        tags: Some(new.tags.unwrap_or_default()),
        schedule: new.schedule,
        grace_seconds: new.grace_seconds,
        max_duration_seconds: Some(new.max_duration_seconds),
        owner_id: Some(new.owner_id),
        rpo_hours: Some(rpo_hours),
        schedule_from: (current.source == crate::model::job::JobSource::Veeam).then_some(if follow_veeam {
            crate::model::job::ScheduleFrom::Veeam
        } else {
            crate::model::job::ScheduleFrom::Console
        }),
        business_days_only: Some(new.business_days_only),
    };
    let job = crate::ssr::jobs::update(&state, &info, id, patch).await?;
    leptos_axum::redirect(&format!("/jobs/{id}"));
    Ok(job)
}

/// Deletes a job and its history once its name is typed to confirm.
#[server(prefix = "/api/fn", endpoint = "jobs/delete")]
pub async fn delete_job(id: i64, confirm_name: String) -> Result<(), AppError> {
    use crate::i18n::td_string;
    let (state, info) = server::ctx()?;
    let job = crate::ssr::jobs::get(&state, &info, id).await?;
    if confirm_name.trim() != job.name {
        return Err(AppError::validation(
            "confirm_name",
            td_string!(info.locale, jobs.errors.confirm).to_string(),
        ));
    }
    crate::ssr::jobs::delete(&state, &info, id).await?;
    leptos_axum::redirect("/jobs");
    Ok(())
}

/// Pauses a job; `until` is a local date and time in the console's zone.
#[server(prefix = "/api/fn", endpoint = "jobs/pause")]
pub async fn pause_job(id: i64, until: Option<String>) -> Result<Job, AppError> {
    let (state, info) = server::ctx()?;
    let until =
        crate::ssr::infra::input::instant_field(info.locale, "until", until, state.settings.timezone)?;
    crate::ssr::jobs::pause(&state, &info, id, until).await
}

/// Resumes a paused job.
#[server(prefix = "/api/fn", endpoint = "jobs/resume")]
pub async fn resume_job(id: i64) -> Result<Job, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::jobs::resume(&state, &info, id).await
}

/// Acknowledges a job's current problem with an optional comment; `until`
/// is a local date and time in the console's zone.
#[server(prefix = "/api/fn", endpoint = "jobs/acknowledge")]
pub async fn acknowledge_job(
    id: i64,
    comment: Option<String>,
    until: Option<String>,
) -> Result<crate::model::job::Acknowledgement, AppError> {
    let (state, info) = server::ctx()?;
    let until =
        crate::ssr::infra::input::instant_field(info.locale, "until", until, state.settings.timezone)?;
    let request = crate::model::job::AcknowledgeRequest { comment, until };
    crate::ssr::notify::ack::acknowledge(&state, &info, id, request).await
}

/// Withdraws a job's acknowledgement.
#[server(prefix = "/api/fn", endpoint = "jobs/unacknowledge")]
pub async fn withdraw_acknowledgement(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::ack::withdraw(&state, &info, id).await
}

/// Runs across jobs or of one job, filtered, newest first.
#[server(prefix = "/api/fn", endpoint = "runs/list")]
pub async fn list_runs(#[server(flatten)] query: RunQuery) -> Result<RunsPage, AppError> {
    let (state, info) = server::ctx()?;
    let (items, next_cursor) = crate::ssr::jobs::list_runs_with_names(&state, &info, query).await?;
    Ok(RunsPage { items, next_cursor })
}

#[cfg(feature = "ssr")]
use super::server;

/// One run with its log.
#[server(prefix = "/api/fn", endpoint = "runs/get")]
pub async fn get_run(id: i64) -> Result<crate::model::job::RunDetail, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::jobs::get_run(&state, &info, id).await
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn minutes_too_large_for_seconds_are_a_clear_error_not_an_overflow() {
        for field in ["grace", "max_duration", "interval"] {
            let huge = Some(i64::MAX.to_string());
            let mut form = JobForm { name: "nightly".into(), ..JobForm::default() };
            match field {
                "grace" => form.grace_minutes = huge,
                "max_duration" => form.max_duration_minutes = huge,
                _ => {
                    form.schedule_kind = Some("interval".into());
                    form.interval_minutes = huge;
                }
            }
            match form.into_new_job(crate::i18n::Locale::en) {
                Err(AppError::Validation { field: Some(f), .. }) => assert!(f.contains(field), "{f}"),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
