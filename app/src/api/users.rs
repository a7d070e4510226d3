//! The users an administrator manages.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::user::{User, UserWithPassword},
};

#[cfg(feature = "ssr")]
fn parse_role(value: &str, locale: crate::i18n::Locale) -> Result<crate::model::user::Role, AppError> {
    crate::model::user::Role::parse(value).ok_or_else(|| {
        AppError::validation("role", crate::i18n::td_string!(locale, errors.role_invalid).to_string())
    })
}

#[cfg(feature = "ssr")]
fn parse_locale(value: &str, locale: crate::i18n::Locale) -> Result<crate::model::user::UiLocale, AppError> {
    crate::model::user::UiLocale::parse(value).ok_or_else(|| {
        AppError::validation("locale", crate::i18n::td_string!(locale, errors.locale_invalid).to_string())
    })
}

/// Every user.
#[server(prefix = "/api/fn", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<User>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::accounts::list_users(&state, &info).await
}

/// Creates a user; without a password a one-time password is returned once.
#[server(prefix = "/api/fn", endpoint = "users/create")]
pub async fn create_user(
    username: String,
    email: String,
    role: String,
    locale: String,
    password: Option<String>,
) -> Result<UserWithPassword, AppError> {
    use crate::model::{flash::Flash, user::NewUser};
    let (state, info) = server::ctx()?;
    let new = NewUser {
        username,
        email,
        role: parse_role(&role, info.locale)?,
        locale: parse_locale(&locale, info.locale)?,
        password: super::non_empty(password),
    };
    let created = crate::ssr::accounts::create_user(&state, &info, new).await?;
    if let Some(password) = &created.one_time_password {
        let flash =
            Flash::OneTimePassword { username: created.user.username.clone(), password: password.clone() };
        server::flash_if_form_post(&state, &flash);
    }
    Ok(created)
}

/// Changes a user's e-mail, role, language or disabled flag.
#[server(prefix = "/api/fn", endpoint = "users/update")]
pub async fn update_user(
    id: i64,
    email: Option<String>,
    role: Option<String>,
    locale: Option<String>,
    disabled: Option<String>,
) -> Result<User, AppError> {
    use crate::model::user::UserPatch;
    let (state, info) = server::ctx()?;
    let patch = UserPatch {
        email: super::non_empty(email),
        role: super::non_empty(role).map(|r| parse_role(&r, info.locale)).transpose()?,
        locale: super::non_empty(locale).map(|l| parse_locale(&l, info.locale)).transpose()?,
        disabled: super::non_empty(disabled).map(|d| d == "true"),
    };
    crate::ssr::accounts::update_user(&state, &info, id, patch).await
}

/// Gives a user a new one-time password, returned once.
#[server(prefix = "/api/fn", endpoint = "users/reset-password")]
pub async fn reset_user_password(id: i64) -> Result<UserWithPassword, AppError> {
    use crate::model::flash::Flash;
    let (state, info) = server::ctx()?;
    let reset = crate::ssr::accounts::reset_password(&state, &info, id).await?;
    if let Some(password) = &reset.one_time_password {
        let flash =
            Flash::OneTimePassword { username: reset.user.username.clone(), password: password.clone() };
        server::flash_if_form_post(&state, &flash);
    }
    Ok(reset)
}

/// Deletes a user.
#[server(prefix = "/api/fn", endpoint = "users/delete")]
pub async fn delete_user(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::accounts::delete_user(&state, &info, id).await
}

#[cfg(feature = "ssr")]
use super::server;
