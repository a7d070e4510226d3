//! `/runs/:id`: one run with its log excerpt.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::jobs::get_run,
    components::{
        auth::{LoadError, Protected},
        page::PageHeader,
        runs::AnomalyNote,
        status::{ResultBadge, format_bytes, format_duration},
        time::DateTime,
    },
    i18n::*,
    model::user::Role,
};

/// The run page.
#[component]
pub fn RunPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    let run = Resource::new(id, get_run);
    view! {
        <Protected min=Role::Viewer>
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match run.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(d) => {
                            let title = d.job_name.clone();
                            view! {
                                <PageHeader title=Signal::derive(move || t_string!(i18n, runs.run_of, name = title.clone()).to_string()) />
                                <section class="card">
                                    <dl class="facts">
                                        <dt>{t!(i18n, jobs.job)}</dt>
                                        <dd><a href=format!("/jobs/{}", d.run.job_id)>{d.job_name.clone()}</a></dd>
                                        <dt>{t!(i18n, runs.result)}</dt>
                                        <dd><ResultBadge result=d.run.result /></dd>
                                        <dt>{t!(i18n, runs.started)}</dt>
                                        <dd><DateTime at=d.run.started_at /></dd>
                                        <dt>{t!(i18n, runs.ended)}</dt>
                                        <dd>{d.run.ended_at.map(|at| view! { <DateTime at=at /> })}</dd>
                                        <dt>{t!(i18n, runs.duration)}</dt>
                                        <dd>{d.run.duration_seconds.map(format_duration)}</dd>
                                        <dt>{t!(i18n, runs.size)}</dt>
                                        <dd>
                                            {d.run.bytes_processed.map(format_bytes)}
                                            {d.run.anomaly.map(|a| view! { " " <AnomalyNote anomaly=a /> })}
                                        </dd>
                                        <dt>{t!(i18n, runs.exit_code)}</dt>
                                        <dd>{d.run.exit_code}</dd>
                                        <dt>{t!(i18n, runs.message)}</dt>
                                        <dd>{d.run.message.clone()}</dd>
                                        <dt>{t!(i18n, runs.external_id)}</dt>
                                        <dd><code>{d.run.external_id.clone()}</code></dd>
                                        <dt>{t!(i18n, runs.origin)}</dt>
                                        <dd>{d.origin.clone()}</dd>
                                    </dl>
                                    {d.log_excerpt.map(|log| view! {
                                        <h2>{t!(i18n, runs.log)}</h2>
                                        <pre class="code log" data-testid="run-log"><code>{log}</code></pre>
                                    })}
                                </section>
                            }.into_any()
                        }
                    }
                })}
            </Transition>
        </Protected>
    }
}
