//! The console's own backups and data retention for the UI (Settings →
//! Backups; administrators).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::ops::{BackupsPage, ClusterPage, ConsoleBackup, StatusBadge},
};

#[cfg(feature = "ssr")]
use super::server;

/// The backups, their settings and data retention.
#[server(prefix = "/api/fn", endpoint = "backups/page")]
pub async fn backups_overview() -> Result<BackupsPage, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::backup::page(&state, &info).await
}

/// The instances on the database and which one leads (Settings → Cluster).
#[server(prefix = "/api/fn", endpoint = "cluster/page")]
pub async fn cluster_overview() -> Result<ClusterPage, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::cluster::page(&state, &info).await
}

/// Takes a backup of the console's database now.
#[server(prefix = "/api/fn", endpoint = "backups/create")]
pub async fn create_backup() -> Result<ConsoleBackup, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::backup::back_up_now(&state, &info).await
}

/// The status badges of a job and its tags (operators and administrators).
#[server(prefix = "/api/fn", endpoint = "badges/list")]
pub async fn job_badges(job_id: i64) -> Result<Vec<StatusBadge>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::badges::of_job(&state, &info, job_id).await
}

/// Makes a status badge for a job or one of its tags.
#[server(prefix = "/api/fn", endpoint = "badges/create")]
pub async fn create_badge(
    job_id: i64,
    tag: Option<String>,
    show_age: Option<String>,
) -> Result<StatusBadge, AppError> {
    let (state, info) = server::ctx()?;
    let show_age = show_age.is_some_and(|v| v == "on" || v == "true");
    crate::ssr::ops::badges::create(&state, &info, job_id, tag, show_age).await
}

/// Revokes a status badge.
#[server(prefix = "/api/fn", endpoint = "badges/revoke")]
pub async fn revoke_badge(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::badges::revoke(&state, &info, id).await
}
