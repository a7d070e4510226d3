//! `/users`: the users page.

use leptos::prelude::*;

use crate::components::page::{EmptyState, PageHeader};
use crate::i18n::*;

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PageHeader
            title=Signal::derive(move || t_string!(i18n, pages.users.title).to_string())
            intro=Signal::derive(move || t_string!(i18n, pages.users.intro).to_string())
        />
        <EmptyState message=Signal::derive(move || t_string!(i18n, pages.users.next).to_string()) />
    }
}
