//! The frame around every page: header with navigation and preferences,
//! the main region, and the footer.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::components::prefs::{LanguageSwitcher, ThemeToggle};
use crate::i18n::*;

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
                </div>
            </div>
            <nav class="main-nav" aria-label=move || t_string!(i18n, nav.label).to_string()>
                <ul>
                    <li>
                        <A href="/" exact=true>
                            {t!(i18n, nav.dashboard)}
                        </A>
                    </li>
                    <li>
                        <A href="/jobs">{t!(i18n, nav.jobs)}</A>
                    </li>
                    <li>
                        <A href="/reports">{t!(i18n, nav.reports)}</A>
                    </li>
                    <li>
                        <A href="/settings">{t!(i18n, nav.settings)}</A>
                    </li>
                    <li>
                        <A href="/users">{t!(i18n, nav.users)}</A>
                    </li>
                </ul>
            </nav>
        </header>
        <main id="main" class="app-main" tabindex="-1">
            {children()}
        </main>
        <footer class="app-footer">
            <span>{t!(i18n, footer.version, version = crate::VERSION)}</span>
        </footer>
    }
}
