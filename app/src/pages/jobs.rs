//! `/jobs`: the jobs page.

use leptos::prelude::*;

use crate::components::{
    auth::Protected,
    page::{EmptyState, PageHeader},
};
use crate::i18n::*;
use crate::model::user::Role;

/// The jobs page.
#[component]
pub fn JobsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Protected min=Role::Viewer>
        <PageHeader
            title=Signal::derive(move || t_string!(i18n, pages.jobs.title).to_string())
            intro=Signal::derive(move || t_string!(i18n, pages.jobs.intro).to_string())
        />
        <EmptyState message=Signal::derive(move || t_string!(i18n, pages.jobs.next).to_string()) />
        </Protected>
    }
}
