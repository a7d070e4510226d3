//! `POST /prefs/theme` and `POST /prefs/locale`: the no-JavaScript path of
//! the header's theme toggle and language switcher. Each sets its cookie
//! and sends the browser back to the page it came from.

use app::{
    i18n::{I18nLocaleTrait, Locale},
    prefs::{LOCALE_COOKIE, PREF_MAX_AGE_SECONDS, THEME_COOKIE, Theme, safe_return_path},
    ssr::infra::state::AppState,
};
use axum::{
    Form,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

/// The theme form.
#[derive(Debug, Deserialize)]
pub struct ThemeForm {
    theme: String,
    #[serde(default)]
    return_to: String,
}

/// The language form.
#[derive(Debug, Deserialize)]
pub struct LocaleForm {
    locale: String,
    #[serde(default)]
    return_to: String,
}

/// `value` is one of our own tokens (`dark`, `ja`...), so it needs no escaping.
fn preference_cookie(state: &AppState, name: &'static str, value: &str) -> String {
    let secure = if state.settings.is_https() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={PREF_MAX_AGE_SECONDS}; SameSite=Lax{secure}")
}

fn back_with_cookie(cookie: String, return_to: &str) -> Response {
    ([(header::SET_COOKIE, cookie)], Redirect::to(safe_return_path(return_to))).into_response()
}

/// Stores the theme choice.
pub async fn set_theme(State(state): State<AppState>, Form(form): Form<ThemeForm>) -> Response {
    match form.theme.parse::<Theme>() {
        Ok(theme) => {
            back_with_cookie(preference_cookie(&state, THEME_COOKIE, theme.as_str()), &form.return_to)
        }
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// Stores the language choice.
pub async fn set_locale(State(state): State<AppState>, Form(form): Form<LocaleForm>) -> Response {
    match form.locale.parse::<Locale>() {
        Ok(locale) => {
            back_with_cookie(preference_cookie(&state, LOCALE_COOKIE, locale.as_str()), &form.return_to)
        }
        Err(_) => (StatusCode::BAD_REQUEST, "unknown language; expected en or ja").into_response(),
    }
}
