//! The frame around every page: header with navigation, preferences and
//! the account menu, the main region, and the footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::{
    auth::{UserMenu, use_current_user},
    prefs::{LanguageSwitcher, ThemeToggle},
};
use crate::i18n::*;
use crate::model::user::Role;

/// Header, navigation, `<main>` and footer around `children`.
#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <a class="skip-link" href="#main">
            {t!(i18n, skip_to_content)}
        </a>
        <header class="app-header">
            <div class="app-bar">
                <a class="brand" href="/">
                    <img src="/icons/favicon.svg" alt="" width="28" height="28" />
                    <span class="brand-full">{t!(i18n, app_name)}</span>
                    <span class="brand-short">{t!(i18n, app_short_name)}</span>
                </a>
                <div class="app-tools">
                    <LanguageSwitcher />
                    <ThemeToggle />
                    <UserMenu />
                </div>
            </div>
            <MainNav />
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
        <footer class="app-footer">
            <span>{t!(i18n, footer.version, version = crate::VERSION)}</span>
        </footer>
    }
}

/// The main navigation, for signed-in users; administrator pages only for
/// administrators (the server checks regardless).
#[component]
fn MainNav() -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user().0;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let role = user.await.ok().flatten().map(|me| me.user.role)?;
                let admin = role >= Role::Admin;
                Some(view! {
                    <nav class="main-nav" aria-label=move || t_string!(i18n, nav.label).to_string()>
                        <ul>
                            <li><A href="/" exact=true>{t!(i18n, nav.dashboard)}</A></li>
                            <li><A href="/jobs">{t!(i18n, nav.jobs)}</A></li>
                            <li><A href="/history">{t!(i18n, nav.history)}</A></li>
                            <li><A href="/repositories">{t!(i18n, nav.repositories)}</A></li>
                            <li><A href="/reports">{t!(i18n, nav.reports)}</A></li>
                            {admin.then(|| view! {
                                <li><A href="/settings">{t!(i18n, nav.settings)}</A></li>
                                <li><A href="/users">{t!(i18n, nav.users)}</A></li>
                                <li><A href="/notifications">{t!(i18n, nav.notifications)}</A></li>
                                <li><A href="/audit">{t!(i18n, nav.audit)}</A></li>
                            })}
                        </ul>
                    </nav>
                })
            })}
        </Transition>
    }
}
