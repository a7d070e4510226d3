//! `/settings`: the settings page.

use leptos::prelude::*;

use crate::components::{
    auth::Protected,
    page::{EmptyState, PageHeader},
};
use crate::i18n::*;
use crate::model::user::Role;

/// The settings page.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Protected min=Role::Admin>
        <PageHeader
            title=Signal::derive(move || t_string!(i18n, pages.settings.title).to_string())
            intro=Signal::derive(move || t_string!(i18n, pages.settings.intro).to_string())
        />
        <EmptyState message=Signal::derive(move || t_string!(i18n, pages.settings.next).to_string()) />
        </Protected>
    }
}
