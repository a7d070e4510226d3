//! The page for every unknown address, served with status 404.

use leptos::prelude::*;

use crate::components::page::PageHeader;
use crate::i18n::*;

/// Shown for unknown routes; sets the response status to 404 during SSR.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    let i18n = use_i18n();
    view! {
        <div class="not-found" data-testid="not-found">
            <PageHeader title=Signal::derive(move || t_string!(i18n, pages.not_found.title).to_string()) />
            <p>{t!(i18n, pages.not_found.body)}</p>
            <p>
                <a class="button" href="/">
                    {t!(i18n, pages.not_found.home)}
                </a>
            </p>
        </div>
    }
}
