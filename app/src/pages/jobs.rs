//! `/jobs`: the jobs page.

use leptos::prelude::*;

use crate::components::page::{EmptyState, PageHeader};
use crate::i18n::*;

/// The jobs page.
#[component]
pub fn JobsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageHeader
            title=Signal::derive(move || t_string!(i18n, pages.jobs.title).to_string())
            intro=Signal::derive(move || t_string!(i18n, pages.jobs.intro).to_string())
        />
        <EmptyState message=Signal::derive(move || t_string!(i18n, pages.jobs.next).to_string()) />
    }
}
