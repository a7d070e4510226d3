//! `/jobs/:id`: one job: its state, schedule in words, calendar, charts,
//! history, ping URLs with examples, and (for operators) pause, resume,
//! edit and delete.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::{
        jobs::{DeleteJob, PauseJob, ResumeJob, get_job_page},
        ops::{CreateBadge, RevokeBadge, job_badges},
        veeam::JobAction,
    },
    components::{
        auth::{LoadError, Protected},
        charts::{CalendarCells, Unit, ValueBars, run_bars},
        form::{FieldError, FormAlert, last_error},
        live::use_live_refresh,
        page::PageHeader,
        runs::{RunHistory, use_runs},
        status::{ResultBadge, StateBadge, format_duration},
        time::DateTime,
    },
    i18n::*,
    model::{
        dashboard::JobPage as JobPageData,
        job::{JobSource, JobState},
        ops::StatusBadge,
        user::Role,
    },
};

/// The job page.
#[component]
pub fn JobPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    let refresh = use_live_refresh();
    let pause = ServerAction::<PauseJob>::new();
    let resume = ServerAction::<ResumeJob>::new();
    let veeam_action = ServerAction::<JobAction>::new();
    let page = Resource::new(
        move || {
            (id(), refresh.get(), pause.version().get(), resume.version().get(), veeam_action.version().get())
        },
        |(id, ..)| get_job_page(id),
    );
    let runs = use_runs(Signal::derive(move || Some(id())), refresh);
    // Status badges (operators; a viewer's call is refused and shows nothing).
    let create_badge = ServerAction::<CreateBadge>::new();
    let revoke_badge = ServerAction::<RevokeBadge>::new();
    let badges = Resource::new(
        move || (id(), create_badge.version().get(), revoke_badge.version().get()),
        |(id, ..)| job_badges(id),
    );
    view! {
        <Protected min=Role::Viewer>
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(p) => view! { <JobView p=p pause=pause resume=resume veeam_action=veeam_action /> }.into_any(),
                    }
                })}
            </Transition>
            <section class="card">
                <h2>{t!(i18n, runs.history)}</h2>
                {move || view! { <RunHistory runs=runs show_job=false action=format!("/jobs/{}", id()) /> }}
            </section>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match (page.await, badges.await) {
                        (Ok(p), Ok(list)) if p.can_operate => view! {
                            <Badges job_id=p.job.id tags=p.job.tags.clone() list=list create=create_badge revoke=revoke_badge />
                        }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn JobView(
    p: JobPageData,
    pause: ServerAction<PauseJob>,
    resume: ServerAction<ResumeJob>,
    veeam_action: ServerAction<JobAction>,
) -> impl IntoView {
    let i18n = use_i18n();
    let job = p.job.clone();
    let name = job.name.clone();
    let delete = ServerAction::<DeleteJob>::new();
    let delete_error = last_error(delete.value());
    let pause_error =
        Signal::derive(move || last_error(pause.value()).get().or_else(|| last_error(resume.value()).get()));
    let durations = run_bars(&p.recent, Unit::Seconds);
    let sizes = run_bars(&p.recent, Unit::Bytes);
    let has_sizes = p.recent.iter().any(|r| r.bytes_processed.is_some());
    view! {
        <div class="page-header-row">
            <PageHeader title=Signal::derive(move || name.clone()) />
            <div class="header-badges">
                <StateBadge state=job.state />
                {(job.source == JobSource::Veeam).then(|| view! { <span class="badge">"Veeam"</span> })}
            </div>
        </div>
        {(!job.description.is_empty()).then(|| view! { <p class="lead">{job.description.clone()}</p> })}
        <FormAlert error=pause_error />
        <crate::components::ack::AckPanel job_id=job.id problem=job.problem ack=job.acknowledgement.clone() can_operate=p.can_operate />
        {match (p.veeam.clone(), job.removed_at.is_some()) {
            (_, true) => Some(view! { <p class="alert alert-warning">{t!(i18n, veeam.actions.removed)}</p> }.into_any()),
            (Some(info), false) => Some(view! {
                <VeeamActions job_id=job.id info=info.clone() can_operate=p.can_operate action=veeam_action />
                <Machines machines=info.machines rpo_hours=job.rpo_hours />
            }.into_any()),
            (None, false) => None,
        }}
        <div class="grid-2">
            <section class="card">
                <dl class="facts" data-testid="job-facts">
                    <dt>{t!(i18n, jobs.schedule_label)}</dt>
                    <dd data-testid="schedule-text">
                        {p.schedule_text.clone()}
                        {job.business_days_only.then(|| view! {
                            " "
                            <a class="badge" href="/settings/calendar" data-testid="business-days-only" title=move || t_string!(i18n, calendar.business_days_only).to_string()>
                                {t!(i18n, calendar.business_days_badge)}
                            </a>
                        })}
                    </dd>
                    <dt>{t!(i18n, jobs.next_expected)}</dt>
                    <dd>{match (job.paused, job.next_expected_at) {
                        (true, _) => match job.paused_until {
                            Some(until) => view! { {t!(i18n, jobs.paused_until)} " " <DateTime at=until /> }.into_any(),
                            None => t!(i18n, states.paused).into_any(),
                        },
                        (false, Some(at)) => view! { <DateTime at=at /> }.into_any(),
                        (false, None) => view! { <span class="muted">"—"</span> }.into_any(),
                    }}</dd>
                    <dt>{t!(i18n, jobs.last_run)}</dt>
                    <dd>{job.last_run.clone().map(|r| view! {
                        <ResultBadge result=r.result />
                        " "
                        <a href=format!("/runs/{}", r.id)><DateTime at=r.started_at /></a>
                        {r.duration_seconds.map(|s| view! { " · " {format_duration(s)} })}
                    })}</dd>
                    <dt>{t!(i18n, jobs.grace_minutes)}</dt>
                    <dd>{format_duration(job.grace_seconds)}</dd>
                    <dt>{t!(i18n, jobs.max_duration_minutes)}</dt>
                    <dd>{job.max_duration_seconds.map_or_else(|| "—".to_owned(), format_duration)}</dd>
                    <dt>{t!(i18n, jobs.owner)}</dt>
                    <dd>{p.owner_name.clone().unwrap_or_else(|| "—".to_owned())}</dd>
                    <dt>{t!(i18n, jobs.tags)}</dt>
                    <dd>{job.tags.iter().map(|t| view! { <a class="badge" href=format!("/jobs?tag={t}")>{t.clone()}</a> }).collect_view()}</dd>
                </dl>
                {p.can_operate.then(|| {
                    let id = job.id;
                    let job_name = job.name.clone();
                    view! {
                        <div class="actions">
                            <a class="button button-secondary" href=format!("/jobs/{id}/edit")>{t!(i18n, jobs.edit)}</a>
                            {if job.state == JobState::Paused {
                                view! {
                                    <ActionForm action=resume attr:class="inline">
                                        <input type="hidden" name="id" value=id />
                                        <button type="submit" class="button" data-testid="resume">{t!(i18n, jobs.resume)}</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <details class="confirm">
                                        <summary class="button button-secondary">{t!(i18n, jobs.pause)}</summary>
                                        <ActionForm action=pause attr:class="form inline-form">
                                            <input type="hidden" name="id" value=id />
                                            <label>
                                                <span>{t!(i18n, jobs.pause_until)}</span>
                                                <input type="datetime-local" name="until" />
                                            </label>
                                            <button type="submit" class="button" data-testid="pause">{t!(i18n, jobs.pause)}</button>
                                        </ActionForm>
                                    </details>
                                }.into_any()
                            }}
                            <details class="confirm">
                                <summary class="button button-danger">{t!(i18n, users.delete)}</summary>
                                <ActionForm action=delete attr:class="form">
                                    <input type="hidden" name="id" value=id />
                                    <FormAlert error=delete_error />
                                    <label>
                                        <span>{t!(i18n, jobs.delete_confirm, name = job_name.clone())}</span>
                                        <input type="text" name="confirm_name" autocomplete="off" required />
                                    </label>
                                    <FieldError error=delete_error field="confirm_name" />
                                    <button type="submit" class="button button-danger">{t!(i18n, jobs.delete_yes)}</button>
                                </ActionForm>
                            </details>
                        </div>
                    }
                })}
            </section>
            <section class="card">
                <h2>{t!(i18n, jobs.last_30_days)}</h2>
                <div class="table-wrap calendar-wrap">
                    <table class="calendar calendar-single">
                        <tbody>
                            <tr><CalendarCells cells=p.calendar.clone() days=p.days.clone() /></tr>
                        </tbody>
                    </table>
                </div>
                <h3>{t!(i18n, dashboard.chart_durations)}</h3>
                <ValueBars items=durations unit=Unit::Seconds label=Signal::derive(move || t_string!(i18n, dashboard.chart_durations).to_string()) />
                {has_sizes.then(|| view! {
                    <h3>{t!(i18n, jobs.sizes)}</h3>
                    <ValueBars items=sizes unit=Unit::Bytes label=Signal::derive(move || t_string!(i18n, jobs.sizes).to_string()) />
                })}
            </section>
        </div>
        {job.ping_url.clone().map(|url| view! { <PingHelp url=url /> })}
    }
}

/// Status badges of the job and its tags (operators): a preview, the
/// Markdown and HTML to paste, revoke; and a form to make one.
#[component]
fn Badges(
    job_id: i64,
    tags: Vec<String>,
    list: Vec<StatusBadge>,
    create: ServerAction<CreateBadge>,
    revoke: ServerAction<RevokeBadge>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error =
        Signal::derive(move || last_error(create.value()).get().or_else(|| last_error(revoke.value()).get()));
    view! {
        <section class="card" data-testid="badges">
            <h2>{t!(i18n, badges.title)}</h2>
            <p class="hint">{t!(i18n, badges.intro)}</p>
            <FormAlert error=error />
            {if list.is_empty() {
                view! { <p class="muted" data-testid="no-badges">{t!(i18n, badges.empty)}</p> }.into_any()
            } else {
                view! {
                    <ul class="server-list">
                        {list.into_iter().map(|b| {
                            let subject = b.tag.clone().map(|t| format!("#{t}"));
                            view! {
                                <li class="server-card" data-testid="badge">
                                    <div class="server-head">
                                        <img src=b.url.clone() alt=move || t_string!(i18n, badges.preview).to_string() height="20" />
                                        {subject.map(|s| view! { <span class="badge">{s}</span> })}
                                    </div>
                                    <label class="field">
                                        <span>"Markdown"</span>
                                        <input type="text" readonly class="mono" value=b.markdown.clone() data-testid="badge-markdown" />
                                    </label>
                                    <label class="field">
                                        <span>"HTML"</span>
                                        <input type="text" readonly class="mono" value=b.html.clone() data-testid="badge-html" />
                                    </label>
                                    <ActionForm action=revoke attr:class="inline">
                                        <input type="hidden" name="id" value=b.id />
                                        <button type="submit" class="button button-danger" data-testid="revoke-badge">{t!(i18n, badges.revoke)}</button>
                                    </ActionForm>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <ActionForm action=create attr:class="form inline-form" attr:data-testid="create-badge">
                <input type="hidden" name="job_id" value=job_id />
                <label>
                    <span>{t!(i18n, badges.for_what)}</span>
                    <select name="tag">
                        <option value="">{t!(i18n, badges.this_job)}</option>
                        {tags.into_iter().map(|t| view! { <option value=t.clone()>{format!("#{t}")}</option> }).collect_view()}
                    </select>
                </label>
                <label class="choice">
                    <input type="checkbox" name="show_age" value="on" />
                    <span>{t!(i18n, badges.show_age)}</span>
                </label>
                <button type="submit" class="button" disabled=move || create.pending().get()>{t!(i18n, badges.create)}</button>
            </ActionForm>
        </section>
    }
}

/// Veeam's state of the job and, for operators, start/stop/retry/enable/disable.
#[component]
fn VeeamActions(
    job_id: i64,
    info: crate::model::dashboard::VeeamJobInfo,
    can_operate: bool,
    action: ServerAction<JobAction>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = last_error(action.value());
    let status_text = info.status.clone();
    let disabled = info.status == "disabled";
    let running = info.status == "running" || info.status == "starting";
    let mut verbs: Vec<&'static str> = Vec::new();
    if !disabled {
        verbs.push(if running { "stop" } else { "start" });
        if info.retry && !running {
            verbs.push("retry");
        }
    }
    verbs.push(if disabled { "enable" } else { "disable" });
    view! {
        <section class="card veeam-actions" data-testid="veeam-actions">
            <h2>{t!(i18n, veeam.actions.title)}</h2>
            <p>{t!(i18n, veeam.actions.status)} ": " <span class="badge" data-testid="veeam-status" data-status=info.status.clone()>{move || veeam_status_text(i18n.get_locale(), &status_text)}</span></p>
            {move || match action.value().get() {
                Some(Ok(outcome)) => Some(view! { <p class="alert alert-ok" role="status" data-testid="action-outcome">{outcome.message}</p> }),
                _ => None,
            }}
            <FormAlert error=error />
            {can_operate.then(|| view! {
                <div class="actions">
                    {verbs.into_iter().map(|verb| view! {
                        <ActionForm action=action attr:class="inline">
                            <input type="hidden" name="id" value=job_id />
                            <input type="hidden" name="action" value=verb />
                            <button type="submit"
                                class=if matches!(verb, "stop" | "disable") { "button button-secondary" } else { "button" }
                                data-testid=format!("veeam-{verb}") disabled=move || action.pending().get()>
                                {move || match verb {
                                    "start" => t_string!(i18n, veeam.actions.start).to_string(),
                                    "stop" => t_string!(i18n, veeam.actions.stop).to_string(),
                                    "retry" => t_string!(i18n, veeam.actions.retry).to_string(),
                                    "enable" => t_string!(i18n, veeam.actions.enable).to_string(),
                                    _ => t_string!(i18n, veeam.actions.disable).to_string(),
                                }}
                            </button>
                        </ActionForm>
                    }).collect_view()}
                    {move || action.pending().get().then(|| view! { <span class="muted" aria-busy="true">{t!(i18n, veeam.actions.working)}</span> })}
                </div>
            })}
        </section>
    }
}

/// Veeam's state of a job in words.
fn veeam_status_text(locale: Locale, status: &str) -> String {
    match status {
        "running" => td_string!(locale, veeam.status.running).to_string(),
        "inactive" => td_string!(locale, veeam.status.inactive).to_string(),
        "disabled" => td_string!(locale, veeam.status.disabled).to_string(),
        "enabled" => td_string!(locale, veeam.status.enabled).to_string(),
        "starting" => td_string!(locale, veeam.status.starting).to_string(),
        "stopping" => td_string!(locale, veeam.status.stopping).to_string(),
        "stopped" => td_string!(locale, veeam.status.stopped).to_string(),
        other => other.to_owned(),
    }
}

/// The job's ping URLs with copy-paste examples.
#[component]
fn PingHelp(url: String) -> impl IntoView {
    let i18n = use_i18n();
    let curl = format!(
        "# {start}\ncurl -fsS -m 10 --retry 5 -X POST {url}/start\n# {ok}\ncurl -fsS -m 10 --retry 5 -X POST --data-binary @backup.log {url}\n# {fail}\ncurl -fsS -m 10 --retry 5 -X POST {url}/fail\n# {code}\ncurl -fsS -m 10 --retry 5 -X POST {url}/$?",
        start = t_string!(i18n, jobs.ping_start),
        ok = t_string!(i18n, jobs.ping_success),
        fail = t_string!(i18n, jobs.ping_fail),
        code = t_string!(i18n, jobs.ping_exit_code),
    );
    let wrapper = format!("BACKUP_PING_URL={url} ./report-run.sh restic backup /srv/data");
    let powershell = format!(
        "Invoke-RestMethod -Method Post -Uri \"{url}/start\"\n# ... wbadmin / robocopy ...\nInvoke-RestMethod -Method Post -Uri \"{url}/$LASTEXITCODE\""
    );
    view! {
        <section class="card" data-testid="ping-help">
            <h2>{t!(i18n, jobs.report_runs)}</h2>
            <p class="hint">{t!(i18n, jobs.ping_intro)}</p>
            <p><code class="secret" data-testid="ping-url">{url.clone()}</code></p>
            <h3>"curl"</h3>
            <pre class="code"><code>{curl}</code></pre>
            <h3>"report-run.sh"</h3>
            <p class="hint">{t!(i18n, jobs.wrapper_hint)}</p>
            <pre class="code"><code>{wrapper}</code></pre>
            <h3>"PowerShell"</h3>
            <pre class="code"><code>{powershell}</code></pre>
        </section>
    }
}

/// A Veeam job's protected machines with the age of their newest restore
/// point, oldest first, those outside the RPO marked.
#[component]
fn Machines(machines: Vec<crate::model::job::ProtectedMachine>, rpo_hours: Option<i64>) -> impl IntoView {
    let i18n = use_i18n();
    let now = chrono::Utc::now();
    let outside = machines.iter().filter(|m| m.outside_rpo).count();
    view! {
        <section class="card" data-testid="machines">
            <h2>{t!(i18n, veeam.machines.title)}</h2>
            <p class="muted">
                {match rpo_hours {
                    Some(hours) => t_string!(i18n, veeam.machines.rpo, hours = hours).to_string(),
                    None => t_string!(i18n, veeam.machines.no_rpo).to_string(),
                }}
                {(outside > 0).then(|| view! { " · " <strong>{t!(i18n, veeam.machines.count, count = outside)}</strong> })}
            </p>
            {if machines.is_empty() {
                view! { <p class="empty">{t!(i18n, veeam.machines.empty)}</p> }.into_any()
            } else {
                view! {
                    <div class="table-scroll">
                        <table>
                            <caption class="visually-hidden">{t!(i18n, veeam.machines.intro)}</caption>
                            <thead><tr>
                                <th scope="col">{t!(i18n, veeam.machines.name)}</th>
                                <th scope="col">{t!(i18n, veeam.machines.newest)}</th>
                                <th scope="col">{t!(i18n, veeam.machines.age)}</th>
                            </tr></thead>
                            <tbody>
                                {machines.into_iter().map(|m| {
                                    let age = format_duration((now - m.newest_point_at).num_seconds().max(0));
                                    view! {
                                        <tr data-outside=m.outside_rpo.to_string()>
                                            <td>{m.name.clone()}
                                                {m.malware_status.clone().filter(|s| !s.eq_ignore_ascii_case("clean")).map(|s| view! {
                                                    " " <span class="badge badge-failed">{t!(i18n, veeam.machines.malware, status = s)}</span>
                                                })}
                                            </td>
                                            <td><DateTime at=m.newest_point_at /></td>
                                            <td>{age}
                                                {m.outside_rpo.then(|| view! { " " <span class="badge badge-failed">{t!(i18n, veeam.machines.outside)}</span> })}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
