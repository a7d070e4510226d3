//! `/jobs/:id/acknowledge`: the page the "Acknowledge" link of a message
//! opens. Sign-in first (the login page comes back here); an operator sees
//! the job's problem and acknowledges it with one click (a comment is
//! optional); a viewer is told they cannot.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::{
    api::jobs::{AcknowledgeJob, get_job_page},
    components::{
        ack::{AckBanner, AckForm, problem_text},
        auth::{LoadError, Protected},
        form::last_error,
        page::PageHeader,
        status::StateBadge,
    },
    i18n::*,
    model::{dashboard::JobPage as JobPageData, user::Role},
};

/// The confirmation page.
#[component]
pub fn JobAckPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id")).and_then(|v| v.parse::<i64>().ok()).unwrap_or_default();
    let page = Resource::new(id, get_job_page);
    view! {
        <Protected min=Role::Viewer>
            <PageHeader title=Signal::derive(move || t_string!(i18n, ack.title).to_string()) />
            <Transition fallback=move || view! { <p class="loading" aria-busy="true">{t!(i18n, common.loading)}</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Err(e) => view! { <LoadError error=e /> }.into_any(),
                        Ok(p) => view! { <AckConfirm p=p /> }.into_any(),
                    }
                })}
            </Transition>
        </Protected>
    }
}

#[component]
fn AckConfirm(p: JobPageData) -> impl IntoView {
    let i18n = use_i18n();
    let job = p.job;
    let id = job.id;
    let problem = job.problem;
    let can_operate = p.can_operate;
    let acknowledge = ServerAction::<AcknowledgeJob>::new();
    let error = last_error(acknowledge.value());
    let current = RwSignal::new(job.acknowledgement.clone());
    Effect::new(move || {
        if let Some(Ok(a)) = acknowledge.value().get() {
            current.set(Some(a));
        }
    });
    view! {
        <section class="card" data-testid="ack-confirm">
            <h2>
                <a href=format!("/jobs/{id}") data-testid="ack-job">{job.name.clone()}</a>
                " "
                <StateBadge state=job.state />
            </h2>
            {move || match (current.get(), problem, can_operate) {
                (Some(ack), _, _) => view! { <AckBanner ack=ack /> }.into_any(),
                (None, None, _) => view! { <p class="alert alert-ok" data-testid="ack-no-problem">{t!(i18n, ack.no_problem)}</p> }.into_any(),
                (None, Some(problem), false) => view! {
                    <p class="hint">{t!(i18n, ack.problem)} ": " <strong>{move || problem_text(i18n.get_locale(), problem)}</strong></p>
                    <p class="alert alert-warning" data-testid="ack-viewer">{t!(i18n, ack.viewer)}</p>
                }.into_any(),
                (None, Some(problem), true) => view! {
                    <crate::components::form::FormAlert error=error />
                    <AckForm job_id=id problem=problem action=acknowledge error=error />
                }.into_any(),
            }}
            <p><a href=format!("/jobs/{id}")>{t!(i18n, ack.back)}</a></p>
        </section>
    }
}
