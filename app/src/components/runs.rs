//! The run history table with its filters, for a job or across jobs.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::jobs::{RunsPage, list_runs},
    components::{
        auth::LoadError,
        page::EmptyState,
        status::{ResultBadge, format_bytes, format_duration, result_name},
        time::DateTime,
    },
    error::AppError,
    i18n::*,
    model::{
        job::{RunQuery, RunResult},
        report::{AnomalyKind, RunAnomaly},
    },
};

/// A successful run's anomaly in words, with the usual value: "⚠ Suspiciously
/// small (usually 10.0 GB)".
#[component]
pub fn AnomalyNote(anomaly: RunAnomaly) -> impl IntoView {
    let i18n = use_i18n();
    let usual =
        if anomaly.kind.is_bytes() { format_bytes(anomaly.median) } else { format_duration(anomaly.median) };
    let text = move || {
        let what = match anomaly.kind {
            AnomalyKind::BytesSmall => t_string!(i18n, runs.anomaly.bytes_small),
            AnomalyKind::BytesLarge => t_string!(i18n, runs.anomaly.bytes_large),
            AnomalyKind::DurationShort => t_string!(i18n, runs.anomaly.duration_short),
            AnomalyKind::DurationLong => t_string!(i18n, runs.anomaly.duration_long),
        };
        format!("⚠ {what} ({} {usual})", t_string!(i18n, runs.anomaly.usually))
    };
    view! { <span class="anomaly-note" data-anomaly=anomaly.kind.as_str()>{text}</span> }
}

/// The runs the page's query asks for (`result`, `tag`, `since`, `until`,
/// `cursor`), of one job or of all. Pages create it at their top level, not
/// inside `Protected`, so the server fetches it once per render.
pub fn use_runs(
    job_id: Signal<Option<i64>>,
    refresh: ReadSignal<u32>,
) -> Resource<Result<RunsPage, AppError>> {
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    Resource::new(
        move || {
            (
                job_id.get(),
                param("result"),
                param("tag"),
                param("since"),
                param("until"),
                param("cursor"),
                refresh.get(),
            )
        },
        move |(job_id, result, tag, since, until, cursor, _)| {
            list_runs(RunQuery {
                job_id: job_id.map(|id| id.to_string()),
                result,
                tag,
                since,
                until,
                cursor,
                limit: None,
            })
        },
    )
}

/// Filters (a GET form, so filtered views are links) and `runs` (from
/// [`use_runs`]), newest first, a page at a time. `show_job` adds the job
/// column and the tag filter; `action` is the page the form submits to.
#[component]
pub fn RunHistory(
    runs: Resource<Result<RunsPage, AppError>>,
    show_job: bool,
    action: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let param = move |name: &'static str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let action_for_links = action.clone();
    let next_link = move |cursor: String| {
        let mut pairs: Vec<(String, String)> = ["result", "tag", "since", "until"]
            .iter()
            .filter_map(|k| param(k).map(|v| ((*k).to_owned(), v)))
            .collect();
        pairs.push(("cursor".into(), cursor));
        let encoded: String =
            url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("{action_for_links}?{encoded}")
    };
    view! {
        <form method="get" action=action.clone() class="form form-grid filters" role="search">
            <label>
                <span>{t!(i18n, runs.result)}</span>
                <select name="result">
                    <option value="">{t!(i18n, audit.any)}</option>
                    {RunResult::ALL.into_iter().map(|r| view! {
                        <option value=r.as_str() selected=move || param("result").as_deref() == Some(r.as_str())>
                            {move || result_name(i18n.get_locale(), r)}
                        </option>
                    }).collect_view()}
                </select>
            </label>
            {show_job.then(|| view! {
                <label>
                    <span>{t!(i18n, jobs.tag)}</span>
                    <input type="text" name="tag" value=move || param("tag").unwrap_or_default() />
                </label>
            })}
            <label>
                <span>{t!(i18n, audit.since)}</span>
                <input type="date" name="since" value=move || param("since").unwrap_or_default() />
            </label>
            <label>
                <span>{t!(i18n, audit.until)}</span>
                <input type="date" name="until" value=move || param("until").unwrap_or_default() />
            </label>
            <div>
                <button type="submit" class="button button-secondary">{t!(i18n, common.filter)}</button>
            </div>
        </form>
        <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
            {move || {
                let next_link = next_link.clone();
                Suspend::new(async move {
                match runs.await {
                    Err(e) => view! { <LoadError error=e /> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <EmptyState message=Signal::derive(move || t_string!(i18n, runs.empty).to_string()) />
                    }.into_any(),
                    Ok(page) => view! {
                        <div class="table-wrap">
                            <table class="table" data-testid="runs-table">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, runs.started)}</th>
                                        {show_job.then(|| view! { <th>{t!(i18n, jobs.job)}</th> })}
                                        <th>{t!(i18n, runs.result)}</th>
                                        <th>{t!(i18n, runs.duration)}</th>
                                        <th>{t!(i18n, runs.size)}</th>
                                        <th>{t!(i18n, runs.message)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {page.items.into_iter().map(|(run, job)| view! {
                                        <tr data-testid="run-row" data-result=run.result.as_str()>
                                            <td><a href=format!("/runs/{}", run.id)><DateTime at=run.started_at /></a></td>
                                            {show_job.then(|| view! { <td><a href=format!("/jobs/{}", run.job_id)>{job}</a></td> })}
                                            <td><ResultBadge result=run.result /></td>
                                            <td>{run.duration_seconds.map(format_duration)}</td>
                                            <td>{run.bytes_processed.map(format_bytes)}</td>
                                            <td class="details">
                                                {run.anomaly.map(|a| view! { <AnomalyNote anomaly=a /> " " })}
                                                {run.message}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        {page.next_cursor.map(|c| view! {
                            <p><a class="button button-secondary" href=next_link(c)>{t!(i18n, common.older)}</a></p>
                        })}
                    }.into_any(),
                }
            })
            }}
        </Transition>
    }
}
