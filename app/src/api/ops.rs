//! The console's own backups and data retention for the UI (Settings →
//! Backups; administrators).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::ops::{BackupsPage, ConsoleBackup},
};

#[cfg(feature = "ssr")]
use super::server;

/// The backups, their settings and data retention.
#[server(prefix = "/api/fn", endpoint = "backups/page")]
pub async fn backups_overview() -> Result<BackupsPage, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::backup::page(&state, &info).await
}

/// Takes a backup of the console's database now.
#[server(prefix = "/api/fn", endpoint = "backups/create")]
pub async fn create_backup() -> Result<ConsoleBackup, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::ops::backup::back_up_now(&state, &info).await
}
