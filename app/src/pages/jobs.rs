//! `/jobs`: every job, with filters, a page at a time.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::jobs::{list_jobs, list_tags},
    components::{
        auth::{LoadError, Protected, use_current_user},
        page::{EmptyState, PageHeader},
        status::{ResultBadge, StateBadge, state_name},
        time::DateTime,
    },
    i18n::*,
    model::job::JobQuery,
    model::{job::JobState, user::Role},
};

/// The jobs page.
#[component]
pub fn JobsPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let jobs = Resource::new(
        move || (param("job_state"), param("tag"), param("q"), param("cursor")),
        |(state, tag, q, cursor)| list_jobs(JobQuery { state, tag, q, cursor, ..JobQuery::default() }),
    );
    let tags = Resource::new(|| (), |_| list_tags());
    let user = use_current_user().0;
    let can_create = Signal::derive(move || {
        user.get().and_then(|r| r.ok().flatten()).is_some_and(|me| me.user.role >= Role::Operator)
    });
    let next_link = move |cursor: String| {
        let mut pairs: Vec<(String, String)> =
            ["job_state", "tag", "q"].iter().filter_map(|k| param(k).map(|v| ((*k).to_owned(), v))).collect();
        pairs.push(("cursor".into(), cursor));
        let encoded: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("/jobs?{encoded}")
    };
    view! {
        <Protected min=Role::Viewer>
            <div class="page-header-row">
                <PageHeader
                    title=Signal::derive(move || t_string!(i18n, pages.jobs.title).to_string())
                    intro=Signal::derive(move || t_string!(i18n, pages.jobs.intro).to_string())
                />
                {move || can_create.get().then(|| view! {
                    <a class="button" href="/jobs/new" data-testid="new-job">{t!(i18n, jobs.new_job)}</a>
                })}
            </div>
            <form method="get" action="/jobs" class="card form form-grid filters" role="search">
                <label>
                    <span>{t!(i18n, jobs.search)}</span>
                    <input type="search" name="q" value=move || param("q").unwrap_or_default() />
                </label>
                <label>
                    <span>{t!(i18n, jobs.state)}</span>
                    <select name="job_state">
                        <option value="">{t!(i18n, audit.any)}</option>
                        {JobState::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=move || param("job_state").as_deref() == Some(s.as_str())>
                                {move || state_name(i18n.get_locale(), s)}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{t!(i18n, jobs.tag)}</span>
                    <select name="tag">
                        <option value="">{t!(i18n, audit.any)}</option>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                tags.await.unwrap_or_default().into_iter().map(|(tag, n)| {
                                    let value = tag.clone();
                                    view! {
                                        <option value=value.clone() selected=move || param("tag").as_deref() == Some(value.as_str())>
                                            {format!("{tag} ({n})")}
                                        </option>
                                    }
                                }).collect_view()
                            })}
                        </Transition>
                    </select>
                </label>
                <div>
                    <button type="submit" class="button">{t!(i18n, common.filter)}</button>
                    " "
                    <a href="/jobs" class="button button-secondary">{t!(i18n, common.reset)}</a>
                </div>
            </form>
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match jobs.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(page) if page.items.is_empty() => view! {
                            <EmptyState message=Signal::derive(move || t_string!(i18n, jobs.empty).to_string()) />
                        }.into_any(),
                        Ok(page) => view! {
                            <div class="table-wrap">
                                <table class="table" data-testid="jobs-table">
                                    <thead>
                                        <tr>
                                            <th>{t!(i18n, jobs.job)}</th>
                                            <th>{t!(i18n, jobs.state)}</th>
                                            <th>{t!(i18n, jobs.last_run)}</th>
                                            <th>{t!(i18n, jobs.next_expected)}</th>
                                            <th>{t!(i18n, jobs.tags)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.items.into_iter().map(|job| view! {
                                            <tr data-testid="job-row" data-job=job.name.clone()>
                                                <td>
                                                    <a href=format!("/jobs/{}", job.id)><strong>{job.name.clone()}</strong></a>
                                                    {(job.source == crate::model::job::JobSource::Veeam).then(|| view! { <span class="badge">"Veeam"</span> })}
                                                </td>
                                                <td><StateBadge state=job.state /></td>
                                                <td>{job.last_run.map(|r| view! {
                                                    <ResultBadge result=r.result />
                                                    " "
                                                    <DateTime at=r.started_at />
                                                })}</td>
                                                <td>{job.next_expected_at.map(|at| view! { <DateTime at=at /> })}</td>
                                                <td>{job.tags.into_iter().map(|t| view! {
                                                    <a class="badge" href=format!("/jobs?tag={t}")>{t.clone()}</a>
                                                }).collect_view()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            {page.next_cursor.map(|c| view! {
                                <p><a class="button button-secondary" href=next_link(c)>{t!(i18n, common.next_page)}</a></p>
                            })}
                        }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}
