//! Signing in and out, the current user, one's own password and language,
//! and the one-time flash of no-JavaScript forms.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{flash::Flash, user::Me},
};

/// The signed-in user, or `None` for an anonymous visitor.
#[server(prefix = "/api/fn", endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    let (state, info) = server::ctx()?;
    if info.principal.is_none() {
        return Ok(None);
    }
    crate::ssr::accounts::me(&state, &info).await.map(Some)
}

/// Signs in and goes to `next` (or to the password change when a one-time
/// password was used).
#[server(prefix = "/api/fn", endpoint = "auth/login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::ssr::accounts::{self, auth};
    let (state, info) = server::ctx()?;
    let signed_in = accounts::sign_in(
        &state,
        &info,
        &username,
        secrecy::SecretString::from(password),
        auth::TokenKind::Session,
    )
    .await?;
    let ttl = accounts::token_ttl(&state);
    server::set_cookie(&auth::session_cookie(&state.settings, &signed_in.token, ttl));
    // The profile's language becomes the browser's.
    server::set_cookie(&locale_cookie(&state, signed_in.user.locale.as_str()));
    let next = crate::prefs::safe_return_path(next.as_deref().unwrap_or("/"));
    if signed_in.user.must_change_password {
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        leptos_axum::redirect(&format!("/change-password?next={encoded}"));
    } else {
        leptos_axum::redirect(next);
    }
    Ok(())
}

#[cfg(feature = "ssr")]
fn locale_cookie(state: &crate::ssr::infra::state::AppState, locale: &str) -> String {
    let secure = if state.settings.is_https() { "; Secure" } else { "" };
    format!(
        "{}={locale}; Path=/; Max-Age={}; SameSite=Lax{secure}",
        crate::prefs::LOCALE_COOKIE,
        crate::prefs::PREF_MAX_AGE_SECONDS
    )
}

/// Signs out and goes to the sign-in page.
#[server(prefix = "/api/fn", endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::accounts::sign_out(&state, &info).await;
    server::set_cookie(&crate::ssr::accounts::auth::clear_session_cookie(&state.settings));
    leptos_axum::redirect("/login");
    Ok(())
}

/// Changes the caller's password, keeps them signed in here (every other
/// session and API token ends), and goes to `next`.
#[server(prefix = "/api/fn", endpoint = "auth/password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::{i18n::td_string, model::user::PasswordChange, ssr::accounts};
    let (state, info) = server::ctx()?;
    if new_password != confirm_password {
        return Err(AppError::validation(
            "confirm_password",
            td_string!(info.locale, errors.password_mismatch).to_string(),
        ));
    }
    let fresh =
        accounts::change_own_password(&state, &info, PasswordChange { current_password, new_password })
            .await?;
    if let Some(signed_in) = fresh {
        let ttl = accounts::token_ttl(&state);
        server::set_cookie(&crate::ssr::accounts::auth::session_cookie(
            &state.settings,
            &signed_in.token,
            ttl,
        ));
    }
    leptos_axum::redirect(crate::prefs::safe_return_path(next.as_deref().unwrap_or("/")));
    Ok(())
}

/// Sets the caller's language (profile and browser).
#[server(prefix = "/api/fn", endpoint = "auth/locale")]
pub async fn set_my_locale(locale: String) -> Result<(), AppError> {
    use crate::{i18n::td_string, model::user::UiLocale};
    let (state, info) = server::ctx()?;
    let parsed = UiLocale::parse(&locale).ok_or_else(|| {
        AppError::validation("locale", td_string!(info.locale, errors.locale_invalid).to_string())
    })?;
    crate::ssr::accounts::set_own_locale(&state, &info, parsed).await?;
    server::set_cookie(&locale_cookie(&state, parsed.as_str()));
    Ok(())
}

/// The result of the last no-JavaScript form post, shown once.
#[server(prefix = "/api/fn", endpoint = "auth/flash")]
pub async fn take_flash() -> Result<Option<Flash>, AppError> {
    let (state, _) = server::ctx()?;
    let parts = use_context::<axum::http::request::Parts>().ok_or(AppError::Internal)?;
    let flash = crate::ssr::infra::web::flash::read(&state.keys, &parts.headers);
    if flash.is_some() {
        server::set_cookie(&crate::ssr::infra::web::flash::clear_cookie());
    }
    Ok(flash)
}

#[cfg(feature = "ssr")]
use super::server;
