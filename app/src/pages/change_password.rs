//! `/change-password`: where a one-time password is replaced (forced at
//! first sign-in) before anything else can be done.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{auth::Protected, page::PageHeader, password::PasswordForm},
    i18n::*,
    model::user::Role,
};

/// The password change page.
#[component]
pub fn ChangePasswordPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let next = Signal::derive(move || {
        crate::prefs::safe_return_path(&query.with(|q| q.get("next")).unwrap_or_default()).to_owned()
    });
    view! {
        <Protected min=Role::Viewer>
            <div class="narrow">
                <PageHeader
                    title=Signal::derive(move || t_string!(i18n, auth.change_password_title).to_string())
                    intro=Signal::derive(move || t_string!(i18n, auth.change_password_intro).to_string())
                />
                <PasswordForm next=next />
            </div>
        </Protected>
    }
}
