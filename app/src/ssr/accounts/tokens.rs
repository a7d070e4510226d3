//! API tokens: created by their owner (secret shown once), listed with
//! their last use, revoked by their owner or an administrator.

use chrono::Utc;

use super::{
    audit::{self as audit_trail, Event, Target},
    auth::{self, Access, RequestInfo},
    store::api_tokens,
};
use crate::ssr::infra::state::AppState;
use crate::{
    error::AppError,
    i18n::td_string,
    model::{
        token::{ApiToken, CreatedApiToken, NewApiToken},
        user::Role,
    },
};

/// How many characters of the secret are kept for display.
const PREFIX_LEN: usize = 12;

fn from_row(row: api_tokens::ApiTokenRow) -> ApiToken {
    ApiToken {
        id: row.id,
        user_id: row.user_id,
        username: row.username,
        name: row.name,
        scope: row.scope,
        prefix: row.prefix,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        revoked_at: row.revoked_at,
        job_ids: row.job_ids.as_deref().and_then(|j| serde_json::from_str(j).ok()),
        tags: row.tags.as_deref().and_then(|t| serde_json::from_str(t).ok()),
    }
}

/// The most jobs and tags a token can be limited to.
const MAX_LIMIT_JOBS: usize = 100;
const MAX_LIMIT_TAGS: usize = 20;

/// A token's checked limits (absent: every job).
struct Limits {
    job_ids: Option<Vec<i64>>,
    tags: Option<Vec<String>>,
}

/// Checks a token's job and tag limits: positive ids, tags as jobs have
/// them (1–50 letters, digits, `. _ - :`), lower-cased and sorted.
fn read_limits(
    locale: crate::i18n::Locale,
    job_ids: Option<Vec<i64>>,
    tags: Option<Vec<String>>,
) -> Result<Limits, AppError> {
    let job_ids = match job_ids {
        Some(mut ids) => {
            if ids.len() > MAX_LIMIT_JOBS || ids.iter().any(|id| *id <= 0) {
                return Err(AppError::validation("job_ids", td_string!(locale, errors.token_job_ids)));
            }
            ids.sort_unstable();
            ids.dedup();
            Some(ids)
        }
        None => None,
    };
    let tags = match tags {
        Some(tags) => {
            // As a job's tags: trimmed, lower-cased, empty ones skipped.
            let mut out: Vec<String> =
                tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
            out.sort();
            out.dedup();
            let valid = |t: &String| {
                t.chars().count() <= 50
                    && t.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
            };
            if tags.len() > MAX_LIMIT_TAGS || !out.iter().all(valid) {
                return Err(AppError::validation("tags", td_string!(locale, errors.token_tags)));
            }
            Some(out)
        }
        None => None,
    };
    Ok(Limits { job_ids, tags })
}

/// The caller's tokens; with `everyone`, an administrator sees all tokens.
pub async fn list(state: &AppState, info: &RequestInfo, everyone: bool) -> Result<Vec<ApiToken>, AppError> {
    let principal = info.require(Role::Viewer, Access::Account)?;
    let owner = if everyone {
        principal.authorize(Role::Admin, Access::Account)?;
        None
    } else {
        Some(principal.user_id)
    };
    Ok(api_tokens::list(&state.db, owner).await?.into_iter().map(from_row).collect())
}

/// Creates a token for the caller. Tokens cannot create tokens: this needs
/// a browser session or a bearer JWT.
pub async fn create(
    state: &AppState,
    info: &RequestInfo,
    new: NewApiToken,
) -> Result<CreatedApiToken, AppError> {
    let principal = info.require(Role::Viewer, Access::Account)?;
    let locale = info.locale;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", td_string!(locale, errors.token_name).to_string()));
    }
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(AppError::validation("expires_at", td_string!(locale, errors.expiry_past).to_string()));
    }
    let Limits { job_ids, tags } = read_limits(locale, new.job_ids, new.tags)?;
    let job_ids_json = job_ids.as_ref().map(serde_json::to_string).transpose().map_err(AppError::internal)?;
    let tags_json = tags.as_ref().map(serde_json::to_string).transpose().map_err(AppError::internal)?;
    let secret = auth::new_api_token_secret();
    let hash = auth::hash_api_token_secret(&secret);
    let prefix: String = secret.chars().take(PREFIX_LEN).collect();
    let record = api_tokens::NewToken {
        user_id: principal.user_id,
        name,
        scope: new.scope.as_str(),
        secret_hash: &hash,
        prefix: &prefix,
        expires_at: new.expires_at,
        job_ids: job_ids_json,
        tags: tags_json,
    };
    let id = api_tokens::create(&state.db, &record).await?;
    let limits = match (&job_ids, &tags) {
        (None, None) => "every job".to_owned(),
        (ids, tags) => format!("jobs {ids:?}, tags {tags:?}"),
    };
    let event = Event::ok("token.create", Target::new("token", id, name)).details(format!(
        "scope {}, {}, {limits}",
        new.scope.as_str(),
        new.expires_at.map_or_else(|| "no expiry".to_owned(), |at| format!("expires {}", at.to_rfc3339()))
    ));
    audit_trail::record(state, info, Some(principal), event).await;
    let row = api_tokens::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(CreatedApiToken { token: from_row(row), secret })
}

/// Revokes a token: one's own, or anyone's for an administrator.
pub async fn revoke(state: &AppState, info: &RequestInfo, id: i64) -> Result<ApiToken, AppError> {
    let principal = info.require(Role::Viewer, Access::Account)?;
    let row = api_tokens::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if row.user_id != principal.user_id {
        // Someone else's token: only an administrator may know it exists.
        principal.authorize(Role::Admin, Access::Account).map_err(|_| AppError::NotFound)?;
    }
    api_tokens::revoke(&state.db, id).await?;
    let event = Event::ok("token.revoke", Target::new("token", id, row.name.clone()))
        .details(format!("owner {}", row.username));
    audit_trail::record(state, info, Some(principal), event).await;
    let row = api_tokens::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok(from_row(row))
}
