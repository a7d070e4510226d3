//! Reports, for the UI: the `/reports` page's figures. The CSV and PDF
//! exports are plain GET links to `/api/v1/reports/summary` (a download
//! needs a URL, not a server function).

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::report::{Report, ReportQuery},
};

/// The report for a period and filters (viewers and up).
#[server(prefix = "/api/fn", endpoint = "reports/summary")]
pub async fn get_report(#[server(flatten)] query: ReportQuery) -> Result<Report, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::reports::summary(&state, &info, &query).await
}

#[cfg(feature = "ssr")]
use super::server;
