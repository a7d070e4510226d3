//! `/jobs/new` and `/jobs/:id/edit`: the job form.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::jobs::{CreateJob, JobFormOptions, UpdateJob, get_job_page, job_form_choices},
    components::{
        auth::{LoadError, Protected},
        form::{FieldError, FormAlert, last_error},
        page::PageHeader,
    },
    error::AppError,
    i18n::*,
    model::{job::Job, schedule::ScheduleKind, user::Role},
};

/// `/jobs/new`.
#[component]
pub fn NewJobPage() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateJob>::new();
    let error = last_error(create.value());
    let choices = Resource::new(|| (), |_| job_form_choices());
    view! {
        <Protected min=Role::Operator>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, jobs.new_job).to_string())
                intro=Signal::derive(move || t_string!(i18n, jobs.form_intro).to_string())
            />
            <ActionForm action=create attr:class="card form" attr:data-testid="job-form">
                <JobFields job=None error=error choices=choices />
                <button type="submit" class="button" disabled=move || create.pending().get()>{t!(i18n, jobs.create)}</button>
            </ActionForm>
        </Protected>
    }
}

/// `/jobs/:id/edit`.
#[component]
pub fn EditJobPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    let page = Resource::new(id, get_job_page);
    let update = ServerAction::<UpdateJob>::new();
    let error = last_error(update.value());
    let choices = Resource::new(|| (), |_| job_form_choices());
    view! {
        <Protected min=Role::Operator>
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(p) => {
                            let name = p.job.name.clone();
                            view! {
                                <PageHeader title=Signal::derive(move || t_string!(i18n, jobs.edit_title, name = name.clone()).to_string()) />
                                <ActionForm action=update attr:class="card form" attr:data-testid="job-form">
                                    <input type="hidden" name="id" value=p.job.id />
                                    <JobFields job=Some(p.job) error=error choices=choices />
                                    <button type="submit" class="button" disabled=move || update.pending().get()>{t!(i18n, common.save)}</button>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </Protected>
    }
}

fn minutes(seconds: Option<i64>) -> String {
    seconds.map(|s| (s / 60).to_string()).unwrap_or_default()
}

/// The fields shared by both forms (posted as `form[...]`).
#[component]
fn JobFields(
    job: Option<Job>,
    error: Signal<Option<AppError>>,
    choices: Resource<Result<JobFormOptions, AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let job = job.unwrap_or_else(|| Job {
        id: 0,
        name: String::new(),
        description: String::new(),
        source: Default::default(),
        tags: vec![],
        schedule: Default::default(),
        grace_seconds: 3600,
        max_duration_seconds: None,
        state: crate::model::job::JobState::New,
        paused: false,
        paused_until: None,
        problem: None,
        acknowledgement: None,
        last_run: None,
        next_expected_at: None,
        ping_url: None,
        owner_id: None,
        veeam_job_id: None,
        removed_at: None,
        created_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        updated_at: chrono::DateTime::<chrono::Utc>::MIN_UTC,
        schedule_from: Default::default(),
        veeam_schedule: None,
        rpo_hours: None,
        rpo_machines_breached: 0,
        business_days_only: false,
    });
    let is_veeam = job.source == crate::model::job::JobSource::Veeam;
    let follows_veeam = job.schedule_from == crate::model::job::ScheduleFrom::Veeam;
    let rpo = job.rpo_hours.map(|h| h.to_string()).unwrap_or_default();
    let business_days_only = job.business_days_only;
    let editing = job.id != 0;
    let kind = job.schedule.kind;
    let owner = job.owner_id;
    let zone = job.schedule.timezone.clone();
    view! {
        <FormAlert error=error />
        <div class="field">
            <label for="job-name">{t!(i18n, jobs.name)}</label>
            <input id="job-name" name="form[name]" type="text" required maxlength="200" value=job.name.clone() />
            <FieldError error=error field="name" />
        </div>
        <div class="field">
            <label for="job-description">{t!(i18n, jobs.description)}</label>
            <textarea id="job-description" name="form[description]" rows="2" maxlength="2000">{job.description.clone()}</textarea>
            <FieldError error=error field="description" />
        </div>
        <div class="field">
            <label for="job-tags">{t!(i18n, jobs.tags)}</label>
            <input id="job-tags" name="form[tags]" type="text" value=job.tags.join(", ") aria-describedby="job-tags-hint" />
            <small id="job-tags-hint" class="hint">{t!(i18n, jobs.tags_hint)}</small>
            <FieldError error=error field="tags" />
        </div>
        <fieldset class="fieldset">
            <legend>{t!(i18n, jobs.schedule_label)}</legend>
            <div class="radio-row">
                {[ScheduleKind::None, ScheduleKind::Cron, ScheduleKind::Interval].into_iter().map(|k| view! {
                    <label class="radio">
                        <input type="radio" name="form[schedule_kind]" value=k.as_str() checked=k == kind />
                        {move || match k {
                            ScheduleKind::None => t_string!(i18n, jobs.kind_none).to_string(),
                            ScheduleKind::Cron => t_string!(i18n, jobs.kind_cron).to_string(),
                            ScheduleKind::Interval => t_string!(i18n, jobs.kind_interval).to_string(),
                        }}
                    </label>
                }).collect_view()}
            </div>
            <div class="form-grid">
                <div class="field">
                    <label for="job-cron">{t!(i18n, jobs.cron)}</label>
                    <input id="job-cron" name="form[cron]" type="text" placeholder="0 2 * * *" value=job.schedule.cron.clone().unwrap_or_default() aria-describedby="job-cron-hint" />
                    <small id="job-cron-hint" class="hint">{t!(i18n, jobs.cron_hint)}</small>
                    <FieldError error=error field="schedule.cron" />
                </div>
                <div class="field">
                    <label for="job-timezone">{t!(i18n, jobs.timezone)}</label>
                    <Transition fallback=|| ()>
                        {move || {
                            let zone = zone.clone();
                            Suspend::new(async move {
                                let default = choices.await.map(|c| c.default_timezone).unwrap_or_default();
                                view! {
                                    <input id="job-timezone" name="form[timezone]" type="text" value=zone.unwrap_or(default) list="zones" />
                                }
                            })
                        }}
                    </Transition>
                    <datalist id="zones">
                        {["Asia/Tokyo", "UTC", "Asia/Seoul", "Asia/Shanghai", "Asia/Singapore", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles"]
                            .into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
                    </datalist>
                    <FieldError error=error field="schedule.timezone" />
                </div>
                <div class="field">
                    <label for="job-interval">{t!(i18n, jobs.interval_minutes)}</label>
                    <input id="job-interval" name="form[interval_minutes]" type="number" min="1" inputmode="numeric" value=minutes(job.schedule.interval_seconds) />
                    <FieldError error=error field="schedule.interval_seconds" />
                </div>
            </div>
        </fieldset>
        <div class="form-grid">
            <div class="field">
                <label for="job-grace">{t!(i18n, jobs.grace_minutes)}</label>
                <input id="job-grace" name="form[grace_minutes]" type="number" min="0" inputmode="numeric" value=minutes(Some(job.grace_seconds)) aria-describedby="job-grace-hint" />
                <small id="job-grace-hint" class="hint">{t!(i18n, jobs.grace_hint)}</small>
                <FieldError error=error field="grace_seconds" />
            </div>
            <div class="field">
                <label for="job-max">{t!(i18n, jobs.max_duration_minutes)}</label>
                <input id="job-max" name="form[max_duration_minutes]" type="number" min="1" inputmode="numeric" value=minutes(job.max_duration_seconds) aria-describedby="job-max-hint" />
                <small id="job-max-hint" class="hint">{t!(i18n, jobs.max_duration_hint)}</small>
                <FieldError error=error field="max_duration_seconds" />
            </div>
            <div class="field">
                <label for="job-owner">{t!(i18n, jobs.owner)}</label>
                <select id="job-owner" name="form[owner_id]">
                    <option value="">"—"</option>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            choices.await.map(|c| c.owners).unwrap_or_default().into_iter().map(|(id, name)| view! {
                                <option value=id selected=owner == Some(id)>{name}</option>
                            }).collect_view()
                        })}
                    </Transition>
                </select>
                <FieldError error=error field="owner_id" />
            </div>
            <Show when=move || editing>
                <div class="field">
                    <label for="job-rpo">{t!(i18n, jobs.rpo_hours)}</label>
                    <input id="job-rpo" name="form[rpo_hours]" type="number" min="1" max="8760" inputmode="numeric" value=rpo.clone() aria-describedby="job-rpo-hint" />
                    <small id="job-rpo-hint" class="hint">{t!(i18n, jobs.rpo_hint)}</small>
                    <FieldError error=error field="rpo_hours" />
                </div>
            </Show>
            <div class="field">
                <label class="check">
                    <input type="checkbox" name="form[business_days_only]" value="on" checked=business_days_only aria-describedby="job-business-days-hint" />
                    {t!(i18n, calendar.business_days_only)}
                </label>
                <small id="job-business-days-hint" class="hint">{t!(i18n, calendar.business_days_only_hint)}</small>
            </div>
            <Show when=move || is_veeam>
                <div class="field">
                    <label class="check">
                        <input type="checkbox" name="form[follow_veeam]" value="on" checked=follows_veeam />
                        {t!(i18n, jobs.follow_veeam)}
                    </label>
                    <small class="hint">{t!(i18n, jobs.follow_veeam_hint)}</small>
                </div>
            </Show>
        </div>
    }
}
