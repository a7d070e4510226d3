//! The Leptos application shared by the server (SSR, feature `ssr`) and the
//! browser (hydration, feature `hydrate`): the HTML shell, the route table,
//! pages, components, wire types and, behind `ssr`, everything server-only.

#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod pages;
pub mod prefs;
#[cfg(feature = "ssr")]
pub mod ssr;

/// The translation catalogues (`app/locales/*.json`), compiled by `build.rs`
/// into a module named `i18n`.
#[allow(missing_docs, clippy::all, unused)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}
pub use generated::i18n;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, Meta, MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{Route, Router, Routes},
    path,
};

use crate::components::{auth::provide_current_user, layout::AppLayout};
use crate::i18n::*;
use crate::pages::{
    audit::AuditPage,
    change_password::ChangePasswordPage,
    dashboard::DashboardPage,
    deliveries::DeliveriesPage,
    history::HistoryPage,
    job::JobPage,
    job_ack::JobAckPage,
    job_form::{EditJobPage, NewJobPage},
    jobs::JobsPage,
    login::LoginPage,
    not_found::NotFoundPage,
    offline::OfflinePage,
    profile::ProfilePage,
    report_schedules::ReportSchedulesPage,
    reports::ReportsPage,
    repositories::RepositoriesPage,
    run::RunPage,
    settings::{
        SettingsPage, backups::BackupsSettingsPage, calendar::CalendarSettingsPage,
        cluster::ClusterSettingsPage,
    },
    users::UsersPage,
};

/// The product's version, shown in the footer and in `/health`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The HTML document the server renders around [`App`].
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                // The stylesheet's name carries its hash in a release build.
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: meta tags, i18n, the current user, and the route table.
///
/// Pages render with `SsrMode::Async`: the server resolves the current user
/// (and the page's data) before sending anything, so it can still redirect
/// to the sign-in page or answer 403. Pages are small; nothing is lost by
/// not streaming them.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_current_user();
    #[cfg(feature = "ssr")]
    set_content_security_policy();

    view! {
        <I18nContextProvider
            cookie_name=prefs::LOCALE_COOKIE
            cookie_options=prefs::locale_cookie_options()
        >
            <Head />
            <Router>
                <AppLayout>
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/") view=DashboardPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs") view=JobsPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/new") view=NewJobPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id") view=JobPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id/edit") view=EditJobPage ssr=SsrMode::Async />
                        <Route path=path!("/jobs/:id/acknowledge") view=JobAckPage ssr=SsrMode::Async />
                        <Route path=path!("/history") view=HistoryPage ssr=SsrMode::Async />
                        <Route path=path!("/runs/:id") view=RunPage ssr=SsrMode::Async />
                        <Route path=path!("/repositories") view=RepositoriesPage ssr=SsrMode::Async />
                        <Route path=path!("/reports") view=ReportsPage ssr=SsrMode::Async />
                        <Route path=path!("/reports/schedules") view=ReportSchedulesPage ssr=SsrMode::Async />
                        <Route path=path!("/settings") view=SettingsPage ssr=SsrMode::Async />
                        <Route path=path!("/settings/calendar") view=CalendarSettingsPage ssr=SsrMode::Async />
                        <Route path=path!("/settings/backups") view=BackupsSettingsPage ssr=SsrMode::Async />
                        <Route path=path!("/settings/cluster") view=ClusterSettingsPage ssr=SsrMode::Async />
                        <Route path=path!("/users") view=UsersPage ssr=SsrMode::Async />
                        <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async />
                        <Route path=path!("/notifications") view=DeliveriesPage ssr=SsrMode::Async />
                        <Route path=path!("/profile") view=ProfilePage ssr=SsrMode::Async />
                        <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                        <Route path=path!("/change-password") view=ChangePasswordPage ssr=SsrMode::Async />
                        <Route path=path!("/offline") view=OfflinePage />
                    </Routes>
                </AppLayout>
            </Router>
        </I18nContextProvider>
    }
}

/// Everything in `<head>` that depends on the request (language) or is
/// static but belongs to the app rather than the shell.
#[component]
fn Head() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Link rel="manifest" href="/manifest.webmanifest" />
        <Link rel="icon" href="/icons/favicon.svg" type_="image/svg+xml" />
        <Link rel="apple-touch-icon" href="/icons/icon-192.png" />
        <Meta name="theme-color" content="#1d4ed8" />
        <Meta name="color-scheme" content="light dark" />
        <Meta name="description" content=move || t_string!(i18n, pages.dashboard.intro) />
        <Title formatter=move |page: String| {
            let app = t_string!(i18n, app_short_name);
            if page.is_empty() { app.to_string() } else { format!("{page} · {app}") }
        } />
    }
}

/// The page's Content-Security-Policy, naming the nonce Leptos puts on its
/// inline hydration script. No other inline script or style is allowed.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use leptos::nonce::use_nonce;
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let script = match use_nonce() {
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    let policy = format!("{}; {script}", ssr::infra::web::security::PAGE_CSP_BASE);
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
