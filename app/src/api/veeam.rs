//! Veeam servers, job actions and repositories, for the UI.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::veeam::{ActionOutcome, ConnectionTest, Repository, VeeamServer, VeeamServerForm},
};

#[cfg(feature = "ssr")]
use super::server;

/// Every Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/servers")]
pub async fn list_servers() -> Result<Vec<VeeamServer>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::list(&state, &info).await
}

/// Adds a Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/create")]
pub async fn create_server(#[server(flatten)] form: VeeamServerForm) -> Result<VeeamServer, AppError> {
    let (state, info) = server::ctx()?;
    let input = crate::ssr::veeam::read_form(info.locale, form)?;
    crate::ssr::veeam::create(&state, &info, input).await
}

/// Changes a Veeam server (administrators); an empty password keeps the stored one.
#[server(prefix = "/api/fn", endpoint = "veeam/update")]
pub async fn update_server(
    id: i64,
    #[server(flatten)] form: VeeamServerForm,
) -> Result<VeeamServer, AppError> {
    let (state, info) = server::ctx()?;
    let patch = crate::ssr::veeam::read_patch_form(info.locale, form)?;
    crate::ssr::veeam::update(&state, &info, id, patch).await
}

/// Removes a Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/delete")]
pub async fn delete_server(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::delete(&state, &info, id).await
}

/// Tests the connection to a Veeam server (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/test")]
pub async fn test_server(id: i64) -> Result<ConnectionTest, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::test(&state, &info, id).await
}

/// Starts a sync of a Veeam server now (administrators).
#[server(prefix = "/api/fn", endpoint = "veeam/sync")]
pub async fn sync_server(id: i64) -> Result<VeeamServer, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::sync_now(&state, &info, id).await
}

/// Starts, stops, retries, enables or disables a Veeam job (operators).
#[server(prefix = "/api/fn", endpoint = "veeam/action")]
pub async fn job_action(id: i64, action: String) -> Result<ActionOutcome, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::job_action(&state, &info, id, &action).await
}

/// Every repository with its space (everyone signed in).
#[server(prefix = "/api/fn", endpoint = "veeam/repositories")]
pub async fn list_repositories() -> Result<Vec<Repository>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::repositories(&state, &info).await
}

/// Sets a repository's low-space threshold in percent free (operators).
#[server(prefix = "/api/fn", endpoint = "veeam/repository-threshold")]
pub async fn set_repository_threshold(id: i64, warning_free_percent: i64) -> Result<Repository, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::veeam::set_repository_threshold(&state, &info, id, warning_free_percent).await
}
