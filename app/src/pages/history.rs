//! `/history`: runs across all jobs.

use leptos::prelude::*;

use crate::{
    components::{
        auth::Protected,
        live::use_live_refresh,
        page::PageHeader,
        runs::{RunHistory, use_runs},
    },
    i18n::*,
    model::user::Role,
};

/// The history page.
#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = use_i18n();
    let refresh = use_live_refresh();
    let runs = use_runs(Signal::stored(None), refresh);
    view! {
        <Protected min=Role::Viewer>
            <PageHeader
                title=Signal::derive(move || t_string!(i18n, runs.history).to_string())
                intro=Signal::derive(move || t_string!(i18n, runs.history_intro).to_string())
            />
            <section class="card">
                <RunHistory runs=runs show_job=true action="/history".to_owned() />
            </section>
        </Protected>
    }
}
