//! The theme toggle and the language switcher in the header.
//!
//! Each is a real `<form>` that posts to `/prefs/*` and comes back to the
//! same page, so it works before the WASM has loaded; once hydrated, the
//! submit is handled in the browser without a page load.

use codee::string::FromToStringCodec;
use leptos::prelude::*;
use leptos_meta::Html;
use leptos_router::hooks::use_location;
use leptos_use::use_cookie_with_options;

use crate::i18n::*;
use crate::prefs::{THEME_COOKIE, Theme, cookie_options};

/// The current path and query, for the forms' `return_to` field.
fn current_path() -> Signal<String> {
    let location = use_location();
    Signal::derive(move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() { path } else { format!("{path}?{search}") }
    })
}

/// Cycles the colour theme (auto → light → dark) and remembers the choice.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let i18n = use_i18n();
    let (cookie, set_cookie) =
        use_cookie_with_options::<Theme, FromToStringCodec>(THEME_COOKIE, cookie_options());
    let theme = Signal::derive(move || cookie.get().unwrap_or_default());
    let return_to = current_path();

    let name = move |t: Theme| match t {
        Theme::System => t_string!(i18n, theme.system).to_string(),
        Theme::Light => t_string!(i18n, theme.light).to_string(),
        Theme::Dark => t_string!(i18n, theme.dark).to_string(),
    };
    let hint = move || {
        let current = theme.get();
        t_string!(i18n, theme.hint, current = name(current), next = name(current.next())).to_string()
    };
    let icon = move || match theme.get() {
        Theme::System => "◐",
        Theme::Light => "☀",
        Theme::Dark => "☾",
    };

    view! {
        <Html {..} data-theme=move || theme.get().as_str() />
        <form
            method="post"
            action="/prefs/theme"
            class="pref-form"
            on:submit=move |ev| {
                ev.prevent_default();
                set_cookie.set(Some(theme.get_untracked().next()));
            }
        >
            <input type="hidden" name="theme" value=move || theme.get().next().as_str() />
            <input type="hidden" name="return_to" value=return_to />
            <button
                type="submit"
                class="pref-button"
                data-testid="theme-toggle"
                data-theme-state=move || theme.get().as_str()
                title=hint
                aria-label=hint
            >
                <span class="pref-icon" aria-hidden="true">
                    {icon}
                </span>
                <span class="pref-label">{move || name(theme.get())}</span>
            </button>
        </form>
    }
}

/// Switches between English and Japanese; the choice is remembered in a cookie.
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let return_to = current_path();
    let button = move |locale: Locale, label: &'static str, short: &'static str| {
        let pressed = move || (i18n.get_locale() == locale).to_string();
        view! {
            <button
                type="submit"
                name="locale"
                value=locale.as_str()
                lang=locale.as_str()
                class="pref-button lang-button"
                data-testid=format!("lang-{}", locale.as_str())
                aria-pressed=pressed
                aria-label=label
                on:click=move |ev| {
                    ev.prevent_default();
                    i18n.set_locale(locale);
                }
            >
                <span class="lang-full">{label}</span>
                <span class="lang-short" aria-hidden="true">
                    {short}
                </span>
            </button>
        }
    };

    view! {
        <form
            method="post"
            action="/prefs/locale"
            class="pref-form lang-switch"
            role="group"
            aria-label=move || t_string!(i18n, lang.label).to_string()
        >
            <input type="hidden" name="return_to" value=return_to />
            {button(Locale::en, td_string!(Locale::en, lang.en), td_string!(Locale::en, lang.en_short))}
            {button(Locale::ja, td_string!(Locale::ja, lang.ja), td_string!(Locale::ja, lang.ja_short))}
        </form>
    }
}
