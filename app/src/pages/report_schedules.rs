//! `/reports/schedules`: scheduled report e-mails. Everyone signed in sees
//! them; administrators add, change, remove and send them now. Plain
//! forms: they work before the WASM has loaded.

use leptos::prelude::*;

use crate::{
    api::report_schedules::{
        DeleteReportSchedule, ReportSchedulesData, SaveReportSchedule, SendReportScheduleNow,
        report_schedules,
    },
    components::{
        auth::{LoadError, Protected},
        form::{FieldError, FormAlert, last_error},
        page::{EmptyState, PageHeader},
    },
    error::AppError,
    i18n::*,
    model::{
        report::{Cadence, ReportPreset, ReportSchedule, SCHEDULE_PERIODS, WEEKDAYS},
        user::Role,
    },
};

#[derive(Clone, Copy)]
struct Actions {
    save: ServerAction<SaveReportSchedule>,
    delete: ServerAction<DeleteReportSchedule>,
    send_now: ServerAction<SendReportScheduleNow>,
}

fn cadence_name(locale: Locale, cadence: Cadence) -> String {
    match cadence {
        Cadence::Daily => td_string!(locale, report_schedules.cadences.daily).to_string(),
        Cadence::Weekly => td_string!(locale, report_schedules.cadences.weekly).to_string(),
        Cadence::Monthly => td_string!(locale, report_schedules.cadences.monthly).to_string(),
    }
}

fn weekday_name(locale: Locale, day: &str) -> String {
    match day {
        "mon" => td_string!(locale, report_schedules.weekdays.mon).to_string(),
        "tue" => td_string!(locale, report_schedules.weekdays.tue).to_string(),
        "wed" => td_string!(locale, report_schedules.weekdays.wed).to_string(),
        "thu" => td_string!(locale, report_schedules.weekdays.thu).to_string(),
        "fri" => td_string!(locale, report_schedules.weekdays.fri).to_string(),
        "sat" => td_string!(locale, report_schedules.weekdays.sat).to_string(),
        _ => td_string!(locale, report_schedules.weekdays.sun).to_string(),
    }
}

fn period_name(locale: Locale, period: ReportPreset) -> String {
    match period {
        ReportPreset::Yesterday => td_string!(locale, report_schedules.periods.yesterday).to_string(),
        ReportPreset::Last7Days => td_string!(locale, report_schedules.periods.last_7_days).to_string(),
        ReportPreset::Last30Days => td_string!(locale, report_schedules.periods.last_30_days).to_string(),
        ReportPreset::LastMonth => td_string!(locale, report_schedules.periods.last_month).to_string(),
        ReportPreset::ThisMonth | ReportPreset::Custom => {
            td_string!(locale, report_schedules.periods.this_month).to_string()
        }
    }
}

/// "Monthly, last day, 06:00 (Asia/Tokyo)".
fn when(locale: Locale, s: &ReportSchedule) -> String {
    let day = match s.cadence {
        Cadence::Daily => None,
        Cadence::Weekly => s.weekday.as_deref().map(|d| weekday_name(locale, d)),
        Cadence::Monthly => s.month_day.as_deref().map(|d| {
            if d == "last" { td_string!(locale, report_schedules.last_day).to_string() } else { d.to_owned() }
        }),
    };
    let mut parts = vec![cadence_name(locale, s.cadence)];
    parts.extend(day);
    format!("{} {} ({})", parts.join(", "), s.time_of_day, s.time_zone)
}

/// The scheduled reports page.
#[component]
pub fn ReportSchedulesPage() -> impl IntoView {
    let i18n = use_i18n();
    let actions = Actions {
        save: ServerAction::<SaveReportSchedule>::new(),
        delete: ServerAction::<DeleteReportSchedule>::new(),
        send_now: ServerAction::<SendReportScheduleNow>::new(),
    };
    let data = Resource::new(
        move || {
            (actions.save.version().get(), actions.delete.version().get(), actions.send_now.version().get())
        },
        |_| report_schedules(),
    );
    view! {
        <Protected min=Role::Viewer>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, report_schedules.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, report_schedules.intro).to_string())
            />
            <p><a href="/reports">{t!(i18n, report_schedules.back)}</a></p>
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) => view! { <Schedules page=page actions=actions /> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn Schedules(page: ReportSchedulesData, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let sent = actions.send_now;
    let list = page.schedules.clone();
    let empty = list.is_empty();
    let rows = page.clone();
    view! {
        <section class="card" data-testid="report-schedules">
            {move || match sent.value().get() {
                Some(Ok(outcome)) => Some(view! {
                    <p class="alert alert-ok" role="status" data-testid="sent-now">
                        {t_string!(i18n, report_schedules.sent_now, count = outcome.queued, from = outcome.from.to_string(), until = outcome.until.to_string()).to_string()}
                    </p>
                }),
                _ => None,
            }}
            <FormAlert error=last_error(sent.value()) />
            <FormAlert error=last_error(actions.delete.value()) />
            {(!page.can_edit).then(|| view! { <p class="hint">{t!(i18n, report_schedules.admin_only)}</p> })}
            {if empty {
                view! { <EmptyState message=Signal::derive(move || t_string!(i18n, report_schedules.none).to_string()) /> }.into_any()
            } else {
                view! {
                    <ul class="server-list">
                        {list.into_iter().map(|s| view! { <ScheduleCard schedule=s page=rows.clone() actions=actions /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {page.can_edit.then(|| if page.channels.is_empty() {
                view! { <p class="hint">{t!(i18n, report_schedules.no_channels)}</p> }.into_any()
            } else {
                let page = page.clone();
                view! {
                    <details class="confirm" open=empty>
                        <summary class="button">{t!(i18n, report_schedules.new)}</summary>
                        <ActionForm action=actions.save attr:class="form form-grid" attr:data-testid="add-report-schedule">
                            {move || matches!(actions.save.value().get(), Some(Ok(_))).then(|| view! {
                                <p class="alert alert-ok" role="status" data-testid="saved">{t!(i18n, report_schedules.saved)}</p>
                            })}
                            <FormAlert error=last_error(actions.save.value()) />
                            <ScheduleFields schedule=None page=page error=last_error(actions.save.value()) prefix="new-schedule".to_owned() />
                            <div class="span-2">
                                <button type="submit" class="button" disabled=move || actions.save.pending().get()>{t!(i18n, report_schedules.create)}</button>
                            </div>
                        </ActionForm>
                    </details>
                }.into_any()
            })}
        </section>
    }
}

#[component]
fn ScheduleCard(schedule: ReportSchedule, page: ReportSchedulesData, actions: Actions) -> impl IntoView {
    let i18n = use_i18n();
    let id = schedule.id;
    let s = schedule.clone();
    let sends_to: Vec<String> = schedule
        .channel_ids
        .iter()
        .filter_map(|cid| page.channels.iter().find(|(i, _, _)| i == cid).map(|(_, n, _)| n.clone()))
        .collect();
    let (next, last) = page
        .local_times
        .iter()
        .find(|(sid, _, _)| *sid == id)
        .map(|(_, next, last)| (next.clone(), last.clone()))
        .unwrap_or_default();
    let last_period = match (schedule.last_period_from, schedule.last_period_until) {
        (Some(from), Some(until)) => Some(format!("{from} – {until}")),
        _ => None,
    };
    let period = schedule.period;
    let can_edit = page.can_edit;
    let name = schedule.name.clone();
    let lang = schedule.lang.to_uppercase();
    let enabled = schedule.enabled;
    view! {
        <li class="server-card" data-testid="report-schedule" data-name=name.clone()>
            <div class="server-head">
                <h3>{name.clone()}</h3>
                <span class="badge">{lang}</span>
                {(!enabled).then(|| view! { <span class="badge badge-warning">{t!(i18n, notify.ui.disabled)}</span> })}
            </div>
            <dl class="facts">
                <dt>{t!(i18n, report_schedules.when)}</dt>
                <dd>{move || when(i18n.get_locale(), &s)}</dd>
                <dt>{t!(i18n, report_schedules.period)}</dt>
                <dd>{move || period_name(i18n.get_locale(), period)}</dd>
                <dt>{t!(i18n, report_schedules.channels)}</dt>
                <dd>{sends_to.join(", ")}</dd>
                <dt>{t!(i18n, report_schedules.next_send_at)}</dt>
                <dd><time>{next}</time></dd>
                <dt>{t!(i18n, report_schedules.last_sent_at)}</dt>
                <dd>{last.unwrap_or_else(|| "—".to_owned())}</dd>
                <dt>{t!(i18n, report_schedules.last_period)}</dt>
                <dd>{last_period.unwrap_or_else(|| "—".to_owned())}</dd>
            </dl>
            {can_edit.then(|| view! {
                <div class="actions">
                    <ActionForm action=actions.send_now attr:class="inline">
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="button button-secondary" data-testid="send-now" disabled=move || actions.send_now.pending().get()>
                            {t!(i18n, report_schedules.send_now)}
                        </button>
                    </ActionForm>
                    <details class="confirm">
                        <summary class="button button-secondary">{t!(i18n, report_schedules.edit)}</summary>
                        <ActionForm action=actions.save attr:class="form form-grid">
                            <input type="hidden" name="form[id]" value=id />
                            <ScheduleFields schedule=Some(schedule.clone()) page=page.clone() error=last_error(actions.save.value()) prefix=format!("schedule-{id}") />
                            <div class="span-2"><button type="submit" class="button">{t!(i18n, report_schedules.save)}</button></div>
                        </ActionForm>
                    </details>
                    <details class="confirm">
                        <summary class="button button-danger">{t!(i18n, report_schedules.delete)}</summary>
                        <ActionForm action=actions.delete attr:class="form">
                            <input type="hidden" name="id" value=id />
                            <button type="submit" class="button button-danger">{t!(i18n, report_schedules.delete)}</button>
                        </ActionForm>
                    </details>
                </div>
            })}
        </li>
    }
}

#[component]
fn ScheduleFields(
    schedule: Option<ReportSchedule>,
    page: ReportSchedulesData,
    error: Signal<Option<AppError>>,
    prefix: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let new = schedule.is_none();
    let s = schedule.unwrap_or(ReportSchedule {
        id: 0,
        name: String::new(),
        enabled: true,
        cadence: Cadence::Monthly,
        weekday: Some("mon".into()),
        month_day: Some("1".into()),
        time_of_day: "08:00".into(),
        time_zone: page.default_timezone.clone(),
        period: ReportPreset::LastMonth,
        group_by: Default::default(),
        tag: None,
        source: None,
        veeam_server_id: None,
        job_ids: vec![],
        lang: "ja".into(),
        channel_ids: vec![],
        created_by: None,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
        next_send_at: chrono::Utc::now(),
        last_sent_at: None,
        last_period_from: None,
        last_period_until: None,
    });
    let weekday = s.weekday.clone().unwrap_or_else(|| "mon".into());
    let month_day = s.month_day.clone().unwrap_or_else(|| "1".into());
    let channel_ids = s.channel_ids.clone();
    let only_channel = page.channels.len() == 1;
    let job_ids = s.job_ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(",");
    let id = |name: &str| format!("{prefix}-{name}");
    view! {
        <div class="field span-2">
            <label for=id("name")>{t!(i18n, report_schedules.name)}</label>
            <input id=id("name") type="text" name="form[name]" required maxlength="200" value=s.name.clone() />
            <FieldError error=error field="name" />
        </div>
        <div class="field">
            <label for=id("cadence")>{t!(i18n, report_schedules.cadence)}</label>
            <select id=id("cadence") name="form[cadence]">
                {Cadence::ALL.into_iter().map(|c| view! {
                    <option value=c.as_str() selected=c == s.cadence>{move || cadence_name(i18n.get_locale(), c)}</option>
                }).collect_view()}
            </select>
            <FieldError error=error field="cadence" />
        </div>
        <div class="field">
            <label for=id("time")>{t!(i18n, report_schedules.time_of_day)}</label>
            <input id=id("time") type="time" name="form[time_of_day]" required value=s.time_of_day.clone() />
            <FieldError error=error field="time_of_day" />
        </div>
        <div class="field">
            <label for=id("weekday")>{t!(i18n, report_schedules.weekday)}</label>
            <select id=id("weekday") name="form[weekday]">
                {WEEKDAYS.into_iter().map(|d| view! {
                    <option value=d selected=d == weekday>{move || weekday_name(i18n.get_locale(), d)}</option>
                }).collect_view()}
            </select>
            <FieldError error=error field="weekday" />
        </div>
        <div class="field">
            <label for=id("month-day")>{t!(i18n, report_schedules.month_day)}</label>
            <select id=id("month-day") name="form[month_day]">
                {(1..=28).map(|d| d.to_string()).map(|d| {
                    let selected = d == month_day;
                    view! { <option value=d.clone() selected=selected>{d.clone()}</option> }
                }).collect_view()}
                <option value="last" selected=month_day == "last">{t!(i18n, report_schedules.last_day)}</option>
            </select>
            <FieldError error=error field="month_day" />
        </div>
        <div class="field">
            <label for=id("zone")>{t!(i18n, report_schedules.time_zone)}</label>
            <input id=id("zone") type="text" name="form[time_zone]" maxlength="64" value=s.time_zone.clone() />
            <FieldError error=error field="time_zone" />
        </div>
        <div class="field">
            <label for=id("period")>{t!(i18n, report_schedules.period)}</label>
            <select id=id("period") name="form[period]">
                {new.then(|| view! { <option value="" selected=true>{t!(i18n, report_schedules.periods.default)}</option> })}
                {SCHEDULE_PERIODS.into_iter().map(|p| view! {
                    <option value=p.as_str() selected=!new && p == s.period>{move || period_name(i18n.get_locale(), p)}</option>
                }).collect_view()}
            </select>
            <FieldError error=error field="period" />
        </div>
        <div class="field">
            <label for=id("group")>{t!(i18n, report_schedules.group_by)}</label>
            <select id=id("group") name="form[group_by]">
                <option value="job" selected=s.group_by.as_str() == "job">{t!(i18n, report_schedules.groups.job)}</option>
                <option value="tag" selected=s.group_by.as_str() == "tag">{t!(i18n, report_schedules.groups.tag)}</option>
                <option value="source" selected=s.group_by.as_str() == "source">{t!(i18n, report_schedules.groups.source)}</option>
            </select>
            <FieldError error=error field="group_by" />
        </div>
        <div class="field">
            <label for=id("lang")>{t!(i18n, report_schedules.lang)}</label>
            <select id=id("lang") name="form[lang]">
                <option value="ja" selected=s.lang == "ja">"日本語"</option>
                <option value="en" selected=s.lang == "en">"English"</option>
            </select>
            <FieldError error=error field="lang" />
        </div>
        <div class="field">
            <label for=id("tag")>{t!(i18n, report_schedules.tag)}</label>
            <input id=id("tag") type="text" name="form[tag]" maxlength="100" value=s.tag.clone().unwrap_or_default() />
            <FieldError error=error field="tag" />
        </div>
        <div class="field">
            <label for=id("source")>{t!(i18n, report_schedules.source)}</label>
            <select id=id("source") name="form[source]">
                <option value="" selected=s.source.is_none()>{t!(i18n, report_schedules.any)}</option>
                <option value="push" selected=s.source.is_some_and(|x| x.as_str() == "push")>"push"</option>
                <option value="veeam" selected=s.source.is_some_and(|x| x.as_str() == "veeam")>"Veeam"</option>
            </select>
            <FieldError error=error field="source" />
        </div>
        <div class="field">
            <label for=id("server")>{t!(i18n, report_schedules.veeam_server_id)}</label>
            <input id=id("server") type="number" min="1" name="form[veeam_server_id]"
                value=s.veeam_server_id.map(|v| v.to_string()).unwrap_or_default() />
            <FieldError error=error field="veeam_server_id" />
        </div>
        <div class="field">
            <label for=id("jobs")>{t!(i18n, report_schedules.job_ids)}</label>
            <input id=id("jobs") type="text" name="form[job_ids]" value=job_ids />
            <FieldError error=error field="job_ids" />
        </div>
        <fieldset class="field span-2">
            <legend>{t!(i18n, report_schedules.channels)}</legend>
            <div class="checks">
                {page.channels.iter().map(|(cid, name, _)| view! {
                    <label class="choice">
                        <input type="checkbox" name=format!("form[channel_{cid}]") value="on"
                            checked=channel_ids.contains(cid) || (channel_ids.is_empty() && only_channel) />
                        <span>{name.clone()}</span>
                    </label>
                }).collect_view()}
            </div>
            <FieldError error=error field="channel_ids" />
        </fieldset>
        <label class="choice span-2">
            <input type="checkbox" name="form[enabled]" value="true" checked=s.enabled />
            <span>{t!(i18n, report_schedules.enabled)}</span>
        </label>
    }
}
