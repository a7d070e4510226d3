//! Veeam servers, job actions and repositories, for the UI.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::veeam::{ActionOutcome, ConnectionTest, Repository, VeeamServer},
};

#[cfg(feature = "ssr")]
use super::server;

/// A form's server fields (the add form and the edit form).
#[cfg(feature = "ssr")]
#[allow(clippy::too_many_arguments)]
fn input(
    name: String,
    base_url: String,
    username: String,
    password: Option<String>,
    api_version: Option<String>,
    tls_mode: Option<String>,
    ca_pem: Option<String>,
    sync_interval_seconds: Option<String>,
    enabled: Option<String>,
    locale: crate::i18n::Locale,
) -> Result<crate::model::veeam::VeeamServerInput, AppError> {
    use crate::i18n::td_string;
    use crate::model::veeam::TlsMode;
    let tls_mode = match super::non_empty(tls_mode) {
        None => TlsMode::Verify,
        Some(mode) => TlsMode::parse(&mode)
            .ok_or_else(|| AppError::validation("tls_mode", "verify, custom_ca or insecure"))?,
    };
    let sync_interval_seconds = match super::non_empty(sync_interval_seconds) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            AppError::validation(
                "sync_interval_seconds",
                td_string!(locale, veeam.errors.interval).to_string(),
            )
        })?),
    };
    Ok(crate::model::veeam::VeeamServerInput {
        name,
        base_url,
        username,
        password: super::non_empty(password),
        api_version: super::non_empty(api_version),
        tls_mode,
        ca_pem: super::non_empty(ca_pem),
        sync_interval_seconds,
        enabled: Some(enabled.is_some_and(|v| v != "false")),
    })
}

/// Every Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/servers")]
pub async fn list_servers() -> Result<Vec<VeeamServer>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::list(&state, &info).await
}

/// Adds a Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/create")]
#[allow(clippy::too_many_arguments)]
pub async fn create_server(
    name: String,
    base_url: String,
    username: String,
    password: Option<String>,
    api_version: Option<String>,
    tls_mode: Option<String>,
    ca_pem: Option<String>,
    sync_interval_seconds: Option<String>,
    enabled: Option<String>,
) -> Result<VeeamServer, AppError> {
    let (state, info) = server::ctx()?;
    let body = input(
        name,
        base_url,
        username,
        password,
        api_version,
        tls_mode,
        ca_pem,
        sync_interval_seconds,
        enabled,
        info.locale,
    )?;
    crate::ssr::veeam::servers::create(&state, &info, body).await
}

/// Changes a Veeam server (administrators); an empty password keeps the stored one.
#[server(prefix = "/api/fn", endpoint = "veeam/update")]
#[allow(clippy::too_many_arguments)]
pub async fn update_server(
    id: i64,
    name: String,
    base_url: String,
    username: String,
    password: Option<String>,
    api_version: Option<String>,
    tls_mode: Option<String>,
    ca_pem: Option<String>,
    sync_interval_seconds: Option<String>,
    enabled: Option<String>,
) -> Result<VeeamServer, AppError> {
    let (state, info) = server::ctx()?;
    let body = input(
        name,
        base_url,
        username,
        password,
        api_version.or(Some(String::new())),
        tls_mode,
        ca_pem,
        sync_interval_seconds,
        enabled,
        info.locale,
    )?;
    let patch = crate::model::veeam::VeeamServerPatch {
        name: Some(body.name),
        base_url: Some(body.base_url),
        username: Some(body.username),
        password: body.password,
        api_version: Some(body.api_version.unwrap_or_default()),
        tls_mode: Some(body.tls_mode),
        ca_pem: Some(body.ca_pem.unwrap_or_default()),
        sync_interval_seconds: body.sync_interval_seconds,
        enabled: body.enabled,
    };
    crate::ssr::veeam::servers::update(&state, &info, id, patch).await
}

/// Removes a Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/delete")]
pub async fn delete_server(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::delete(&state, &info, id).await
}

/// Tests the connection to a Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/test")]
pub async fn test_server(id: i64) -> Result<ConnectionTest, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::test(&state, &info, id).await
}

/// Starts a sync of a Veeam server now (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/sync")]
pub async fn sync_server(id: i64) -> Result<VeeamServer, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::sync_now(&state, &info, id).await
}

/// Starts, stops, retries, enables or disables a Veeam job (operators).
#[server(prefix = "/api/fn", endpoint = "veeam/action")]
pub async fn job_action(id: i64, action: String) -> Result<ActionOutcome, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::job_action(&state, &info, id, &action).await
}

/// Every repository with its space (everyone signed in).
#[server(prefix = "/api/fn", endpoint = "veeam/repositories")]
pub async fn list_repositories() -> Result<Vec<Repository>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::repositories(&state, &info).await
}

/// Sets a repository's low-space threshold in percent free (operators).
#[server(prefix = "/api/fn", endpoint = "veeam/repository-threshold")]
pub async fn set_repository_threshold(id: i64, warning_free_percent: i64) -> Result<Repository, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::servers::set_repository_threshold(&state, &info, id, warning_free_percent).await
}
