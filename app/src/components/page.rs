//! Building blocks every page uses: the page header and the empty state.

use leptos::prelude::*;
use leptos_meta::Title;

/// The page's `<title>` and `<h1>`, with an optional lead paragraph.
#[component]
pub fn PageHeader(
    /// The page title, reactive so it follows the language.
    #[prop(into)]
    title: Signal<String>,
    /// One sentence on what the page is for.
    #[prop(optional, into)]
    intro: Option<Signal<String>>,
) -> impl IntoView {
    view! {
        <Title text=move || title.get() />
        <header class="page-header">
            <h1>{move || title.get()}</h1>
            {intro.map(|intro| view! { <p class="lead">{move || intro.get()}</p> })}
        </header>
    }
}

/// A box telling the user why a list is empty and what to do about it.
#[component]
pub fn EmptyState(
    /// What to do next.
    #[prop(into)]
    message: Signal<String>,
    /// An optional call to action under the message.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="empty-state" role="status">
            <p>{move || message.get()}</p>
            {children.map(|c| c())}
        </section>
    }
}
