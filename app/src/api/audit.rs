//! The audit log page's data.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{
        Page,
        audit::{AuditEntry, AuditQuery},
    },
};

/// One page of the audit log, newest first (administrators only).
#[server(prefix = "/api/fn", endpoint = "audit/list")]
pub async fn list_audit(#[server(flatten)] query: AuditQuery) -> Result<Page<AuditEntry>, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::accounts::audit::list(&state, &info, query).await
}

#[cfg(feature = "ssr")]
use super::server;
