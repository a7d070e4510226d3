//! One's own API tokens.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::token::{ApiToken, CreatedApiToken},
};

/// The caller's tokens, newest first.
#[server(prefix = "/api/fn", endpoint = "tokens/list")]
pub async fn list_my_tokens() -> Result<Vec<ApiToken>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::accounts::tokens::list(&state, &info, false).await
}

/// Creates a token; its secret is returned this once. `tags` (comma- or
/// space-separated, optional) limits it to jobs with one of them.
#[server(prefix = "/api/fn", endpoint = "tokens/create")]
pub async fn create_token(
    name: String,
    scope: String,
    expires_in_days: Option<String>,
    tags: Option<String>,
) -> Result<CreatedApiToken, AppError> {
    use crate::{
        i18n::td_string,
        model::{
            flash::Flash,
            token::{NewApiToken, TokenScope},
        },
    };
    let (state, info) = server::ctx()?;
    let scope = TokenScope::parse(scope.trim()).ok_or_else(|| {
        AppError::validation("scope", td_string!(info.locale, errors.token_scope).to_string())
    })?;
    let expires_at = match super::non_empty(expires_in_days) {
        None => None,
        Some(days) => match days.parse::<i64>() {
            Ok(days) if (1..=3650).contains(&days) => Some(chrono::Utc::now() + chrono::Duration::days(days)),
            _ => {
                return Err(AppError::validation(
                    "expires_in_days",
                    td_string!(info.locale, errors.expiry_days).to_string(),
                ));
            }
        },
    };
    let tags = super::non_empty(tags).map(|t| {
        t.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let new = NewApiToken { name, scope, expires_at, job_ids: None, tags };
    let created = crate::ssr::accounts::tokens::create(&state, &info, new).await?;
    let flash = Flash::TokenSecret { name: created.token.name.clone(), secret: created.secret.clone() };
    server::flash_if_form_post(&state, &flash);
    Ok(created)
}

/// Revokes one of the caller's tokens.
#[server(prefix = "/api/fn", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: i64) -> Result<ApiToken, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::accounts::tokens::revoke(&state, &info, id).await
}

#[cfg(feature = "ssr")]
use super::server;
