//! `/`: the dashboard. Whether every backup ran, succeeded and is recent
//! enough, at a glance; updated live as runs arrive.

use leptos::prelude::*;

use crate::{
    api::jobs::get_dashboard,
    components::{
        auth::{LoadError, Protected},
        charts::{CalendarCells, DailyResultsChart, Unit, ValueBars},
        live::use_live_refresh,
        page::{EmptyState, PageHeader},
        status::{ResultBadge, StateBadge, format_duration},
        time::DateTime,
    },
    error::AppError,
    i18n::*,
    model::{dashboard::Dashboard, job::JobState, user::Role},
};

/// The dashboard page.
#[component]
pub fn DashboardPage() -> impl IntoView {
    let i18n = use_i18n();
    // Created here, outside `Protected`, so the server renders (and fetches)
    // it once: children of a `Suspend` may be built more than once.
    let refresh = use_live_refresh();
    let data = Resource::new(move || refresh.get(), |_| get_dashboard());
    view! {
        <Protected min=Role::Viewer>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, pages.dashboard.title).to_string())
                intro=Signal::derive(move || t_string!(i18n, pages.dashboard.intro).to_string())
            />
            <DashboardBody data=data />
        </Protected>
    }
}

#[component]
fn DashboardBody(data: Resource<Result<Dashboard, AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(d) if d.total_jobs == 0 => view! {
                        <EmptyState message=Signal::derive(move || t_string!(i18n, dashboard.empty).to_string())>
                            <p><a class="button" href="/jobs/new">{t!(i18n, jobs.new_job)}</a></p>
                        </EmptyState>
                    }.into_any(),
                    Ok(d) => view! { <DashboardView d=d /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DashboardView(d: Dashboard) -> impl IntoView {
    let i18n = use_i18n();
    let rate = success_rate(&d);
    let problems = d.problems.clone();
    let counts = d.counts.clone();
    let days = d.days.clone();
    let calendar = d.calendar.clone();
    let duration_bars: Vec<(String, Option<i64>, &'static str)> = d
        .daily
        .iter()
        .map(|t| (t.day.get(5..).unwrap_or(&t.day).replace('-', "/"), t.average_duration_seconds, "duration"))
        .collect();
    view! {
        <section class="state-counts" aria-label=move || t_string!(i18n, dashboard.states).to_string() data-testid="state-counts">
            {counts.into_iter().filter(|c| c.count > 0 || matches!(c.state, JobState::Ok | JobState::Failed | JobState::Missed)).map(|c| {
                let href = format!("/jobs?job_state={}", c.state.as_str());
                view! {
                    <a class=format!("count-card count-{}", c.state.as_str()) href=href data-state=c.state.as_str()>
                        <span class="count-number">{c.count}</span>
                        <StateBadge state=c.state />
                    </a>
                }
            }).collect_view()}
            {(d.machines_outside_rpo > 0).then(|| {
                let count = d.machines_outside_rpo;
                view! {
                    <a class="count-card count-failed" href="/jobs?source=veeam" data-testid="rpo-count">
                        <span class="count-number">{count}</span>
                        <span class="badge badge-failed">{t!(i18n, veeam.machines.outside)}</span>
                    </a>
                }
            })}
        </section>

        <div class="grid-2">
            <section class="card">
                <h2>{t!(i18n, dashboard.problems)}</h2>
                {if problems.is_empty() {
                    view! { <p class="all-good" data-testid="all-good">{t!(i18n, dashboard.all_good)}</p> }.into_any()
                } else {
                    view! {
                        <ul class="problem-list" data-testid="problems">
                            {problems.into_iter().map(|p| view! {
                                <li>
                                    <StateBadge state=p.state />
                                    <a href=format!("/jobs/{}", p.id)>{p.name}</a>
                                    {p.last_run_at.map(|at| view! { <span class="muted"><DateTime at=at /></span> })}
                                    {p.acknowledgement.map(|a| view! {
                                        <span class="ack-note" data-testid="problem-ack" title=a.comment.clone().unwrap_or_default()>
                                            {t!(i18n, ack.by, by = a.by.clone())} " " <DateTime at=a.at />
                                            {a.comment.clone().map(|c| view! { ": " {c} })}
                                        </span>
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <section class="card">
                <h2>{t!(i18n, dashboard.latest_runs)}</h2>
                <ul class="run-list" data-testid="latest-runs">
                    {d.latest_runs.into_iter().map(|(run, job)| view! {
                        <li>
                            <ResultBadge result=run.result />
                            <a href=format!("/jobs/{}", run.job_id)>{job}</a>
                            <span class="muted"><DateTime at=run.started_at /></span>
                            {run.duration_seconds.map(|s| view! { <span class="muted">{format_duration(s)}</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        </div>

        <section class="card">
            <h2>{t!(i18n, dashboard.calendar)}</h2>
            <p class="hint">{t!(i18n, dashboard.calendar_hint)}</p>
            <div class="table-wrap calendar-wrap">
                <table class="calendar" data-testid="calendar">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, jobs.job)}</th>
                            {days.iter().map(|day| view! { <th scope="col" class="day">{day.get(8..).unwrap_or(day).to_owned()}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {calendar.into_iter().map(|row| {
                            let days = days.clone();
                            view! {
                                <tr>
                                    <th scope="row"><a href=format!("/jobs/{}", row.job_id)>{row.job_name}</a></th>
                                    <CalendarCells cells=row.cells days=days />
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="legend">
                <span class="cell-key cell-success"></span>{t!(i18n, results.success)}
                <span class="cell-key cell-warning"></span>{t!(i18n, results.warning)}
                <span class="cell-key cell-failed"></span>{t!(i18n, results.failed)}
                <span class="cell-key cell-missed"></span>{t!(i18n, results.missed)}
                <span class="cell-key cell-none"></span>{t!(i18n, dashboard.no_run)}
            </p>
        </section>

        <div class="grid-2">
            <section class="card">
                <h2>{t!(i18n, dashboard.chart_results)}</h2>
                <DailyResultsChart days=d.daily.clone() />
                <p class="hint">{t!(i18n, dashboard.success_rate, rate = rate.clone())}</p>
            </section>
            <section class="card">
                <h2>{t!(i18n, dashboard.chart_durations)}</h2>
                <ValueBars items=duration_bars unit=Unit::Seconds label=Signal::derive(move || t_string!(i18n, dashboard.chart_durations).to_string()) />
            </section>
        </div>
    }
}

/// Successful runs among finished ones over the calendar's days, in percent.
fn success_rate(d: &Dashboard) -> String {
    let ok: i64 = d.daily.iter().map(|t| t.success + t.warning).sum();
    let all: i64 = d.daily.iter().map(|t| t.success + t.warning + t.failed + t.missed).sum();
    if all == 0 { "–".to_owned() } else { format!("{:.1}", ok as f64 * 100.0 / all as f64) }
}
