//! Reaching a Veeam server: one client per server, kept per process and
//! rebuilt when the server's settings change, and the errors of getting
//! one or of a sync.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::{
    client::{Client, Options, Target, Tls, VeeamError, detect_revision},
    store::{self as db, ServerRow},
};
use crate::{
    model::veeam::TlsMode,
    ssr::infra::{outbound::Policy, state::AppState},
};

/// A cached client: the server row's version it was made from, the API
/// revision, the client.
type Cached = (DateTime<Utc>, String, Arc<Client>);

/// Clients per server, rebuilt when the server's settings change. Kept in
/// the state's slots (see [`hub`]).
#[derive(Default)]
pub struct VeeamHub {
    clients: Mutex<HashMap<i64, Cached>>,
    /// Options for new clients (tests shorten the timeouts).
    pub options: Mutex<Options>,
}

impl std::fmt::Debug for VeeamHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VeeamHub")
    }
}

/// This process's Veeam clients.
pub fn hub(state: &AppState) -> Arc<VeeamHub> {
    state.slots.get::<VeeamHub>()
}

/// Why a sync did not run or failed, or a client could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No such server.
    #[error("no such Veeam server")]
    NoServer,
    /// Another sync of this server is running.
    #[error("a sync of this server is already running")]
    Busy,
    /// The stored password cannot be decrypted.
    #[error(transparent)]
    Secret(#[from] crate::ssr::infra::secrets::DecryptError),
    /// Veeam failed.
    #[error(transparent)]
    Veeam(#[from] VeeamError),
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

/// The client settings of a server row.
pub fn target_of(state: &AppState, row: &ServerRow, api_version: &str) -> Result<Target, SyncError> {
    let password: SecretString = state.cipher.decrypt(&row.password_encrypted)?;
    let tls = match row.tls_mode {
        TlsMode::Verify => Tls::Verify,
        TlsMode::CustomCa => Tls::CustomCa(row.ca_pem.clone().unwrap_or_default()),
        TlsMode::Insecure => Tls::Insecure,
    };
    let base_url = url::Url::parse(&row.base_url)
        .map_err(|e| VeeamError::Unreachable(format!("the address is not a URL: {e}")))?;
    Ok(Target {
        base_url,
        username: row.username.clone(),
        password,
        api_version: api_version.to_owned(),
        tls,
    })
}

/// The options new clients get, with the outbound policy of the settings.
pub fn options(state: &AppState) -> Options {
    let options = hub(state).options.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Options { outbound: Policy::from_settings(&state.settings), ..options }
}

/// The client of a server, detecting its revision first when none is set.
pub async fn client_for(state: &AppState, row: &ServerRow) -> Result<Arc<Client>, SyncError> {
    let options = options(state);
    let version = match row.api_version.clone().or_else(|| row.detected_api_version.clone()) {
        Some(version) => version,
        None => {
            let version = detect_revision(&target_of(state, row, "")?, &options).await?;
            db::set_detected_version(&state.db, row.id, &version).await?;
            version
        }
    };
    let hub = hub(state);
    let mut clients = hub.clients.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((updated, cached_version, client)) = clients.get(&row.id)
        && *updated == row.updated_at
        && *cached_version == version
    {
        return Ok(client.clone());
    }
    let client = Arc::new(Client::new(target_of(state, row, &version)?, options)?);
    clients.insert(row.id, (row.updated_at, version, client.clone()));
    Ok(client)
}

/// Forgets a server's client (after an edit or removal).
pub fn forget(state: &AppState, server_id: i64) {
    hub(state).clients.lock().unwrap_or_else(|e| e.into_inner()).remove(&server_id);
}
