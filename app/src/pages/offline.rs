//! `/offline`: the page the service worker shows when a navigation fails
//! for want of a network. It carries no user data, so it may be cached.

use leptos::prelude::*;

use crate::components::page::PageHeader;
use crate::i18n::*;

/// The offline fallback page.
#[component]
pub fn OfflinePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="offline" data-testid="offline">
            <PageHeader title=Signal::derive(move || t_string!(i18n, pages.offline.title).to_string()) />
            <p>{t!(i18n, pages.offline.body)}</p>
            <p>
                <a class="button" href="/">
                    {t!(i18n, pages.offline.retry)}
                </a>
            </p>
        </div>
    }
}
