//! Veeam servers and repositories, as the UI and the API see them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a Veeam server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// Against the system's trusted roots.
    #[default]
    Verify,
    /// Against the CA or certificate in `ca_pem`.
    CustomCa,
    /// Not at all: accepts a self-signed certificate (explicit opt-in).
    Insecure,
}

impl TlsMode {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Verify => "verify",
            TlsMode::CustomCa => "custom_ca",
            TlsMode::Insecure => "insecure",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "verify" => Some(TlsMode::Verify),
            "custom_ca" => Some(TlsMode::CustomCa),
            "insecure" => Some(TlsMode::Insecure),
            _ => None,
        }
    }
}

/// How a server's last sync went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServerStatus {
    /// Not synced yet.
    #[default]
    New,
    /// The last sync worked.
    Ok,
    /// The server could not be reached (its circuit is open).
    Unreachable,
    /// The server answered with an error (password, certificate, revision).
    Error,
}

impl ServerStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::New => "new",
            ServerStatus::Ok => "ok",
            ServerStatus::Unreachable => "unreachable",
            ServerStatus::Error => "error",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "new" => Some(ServerStatus::New),
            "ok" => Some(ServerStatus::Ok),
            "unreachable" => Some(ServerStatus::Unreachable),
            "error" => Some(ServerStatus::Error),
            _ => None,
        }
    }
}

/// A sync in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SyncProgress {
    /// `jobs`, `sessions`, `recording`, `repositories`.
    pub phase: String,
    /// Items done in this phase.
    pub done: i64,
    /// Items in this phase, once known.
    pub total: Option<i64>,
    /// When the sync started.
    pub started_at: Option<DateTime<Utc>>,
}

/// A Veeam Backup & Replication server (the password is never sent back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamServer {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// e.g. `https://vbr01.example.local:9419/`.
    pub base_url: String,
    /// Account used by the console (a Veeam Backup Viewer is enough for monitoring).
    pub username: String,
    /// The revision in use: chosen, else detected; `null` before the first contact.
    pub api_version: Option<String>,
    /// Whether the revision was chosen (`false`: detected from the server).
    pub api_version_pinned: bool,
    /// Certificate checking.
    pub tls_mode: TlsMode,
    /// The trusted CA or certificate for `custom_ca`.
    pub ca_pem: Option<String>,
    /// Seconds between syncs.
    pub sync_interval_seconds: i64,
    /// Synced at all.
    pub enabled: bool,
    /// How the last sync went.
    pub status: ServerStatus,
    /// When the last sync ended successfully.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The last failure, in plain words.
    pub last_error: Option<String>,
    /// The last failure's kind: `unreachable`, `certificate`, `timeout`,
    /// `credentials`, `unsupported_version`, `api`, `decode`, `refused`
    /// (an address the console may not reach), `circuit_open`.
    pub last_error_code: Option<String>,
    /// The sync in progress, if any.
    pub sync_progress: Option<SyncProgress>,
    /// Jobs synced from it.
    pub jobs: i64,
    /// Veeam's own signals as last read.
    pub signals: VeeamSignals,
}

/// Veeam's own security and health signals of a server, as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamSignals {
    /// Raised now: `config_backup_stale`, `license_expiring`, `malware:<machine>`.
    pub raised: Vec<String>,
    /// What the account may not read (`license_forbidden`, `config_backup_forbidden`,
    /// `malware_forbidden`) or could not read (`…_unavailable`).
    pub notes: Vec<String>,
    /// Whether the configuration backup is enabled (null: not read).
    pub config_backup_enabled: Option<bool>,
    /// Its last success.
    pub config_backup_last_success: Option<DateTime<Utc>>,
    /// `Valid`, `Expired` or `Invalid` (null: not read).
    pub license_status: Option<String>,
    /// When the licence ends.
    pub license_expires_at: Option<DateTime<Utc>>,
    /// The VBR server's time zone (the zone of its schedules).
    pub time_zone: Option<String>,
}

/// A new server, or every field of an edited one (`password` may be empty
/// on edit to keep the stored one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamServerInput {
    /// Display name (1–200 characters, not counting spaces around it).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: String,
    /// `https://host[:port]/`; port 9419 when none is given.
    pub base_url: String,
    /// Account (1–200 characters, not counting spaces around it).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub username: String,
    /// Password (write-only, required, at most 1,000 bytes).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(required = true, min_length = 1, max_length = 1000))]
    pub password: Option<String>,
    /// `1.2-rev0`, `1.2-rev1`, `1.3-rev0`, `1.3-rev1` or `1.3-rev2`; empty
    /// or `auto` to detect.
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(|[Aa][Uu][Tt][Oo]|1\.3-[Rr][Ee][Vv][012]|1\.2-[Rr][Ee][Vv][01]) *$")
    )]
    pub api_version: Option<String>,
    /// Certificate checking (default `verify`).
    #[serde(default)]
    pub tls_mode: TlsMode,
    /// PEM of the CA or certificate to trust, for `custom_ca`.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Seconds between syncs (60–86400, default 300).
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(minimum = 60, maximum = 86_400))]
    pub sync_interval_seconds: Option<i64>,
    /// Synced at all (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// A server as the settings page's add and edit forms post it: text, as
/// browsers send it (with or without JavaScript), read once on the server
/// into a [`VeeamServerInput`] with the same checks as the JSON API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VeeamServerForm {
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Address.
    #[serde(default)]
    pub base_url: String,
    /// Account.
    #[serde(default)]
    pub username: String,
    /// Password; empty keeps the stored one when editing.
    #[serde(default)]
    pub password: Option<String>,
    /// Revision; empty or `auto` to detect.
    #[serde(default)]
    pub api_version: Option<String>,
    /// `verify`, `custom_ca` or `insecure`.
    #[serde(default)]
    pub tls_mode: Option<String>,
    /// Trusted PEM.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Seconds between syncs.
    #[serde(default)]
    pub sync_interval_seconds: Option<String>,
    /// A checkbox: present (any value but `false`) when checked.
    #[serde(default)]
    pub enabled: Option<String>,
}

/// A partial update of a server (JSON API `PATCH`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VeeamServerPatch {
    /// Display name (1–200 characters).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub name: Option<String>,
    /// Address.
    pub base_url: Option<String>,
    /// Account (1–200 characters).
    #[cfg_attr(feature = "ssr", schema(max_length = 200, pattern = r"\S"))]
    pub username: Option<String>,
    /// New password (write-only, at most 1,000 bytes; empty keeps the stored one).
    #[cfg_attr(feature = "ssr", schema(max_length = 1000))]
    pub password: Option<String>,
    /// Revision; empty or `auto` to detect.
    #[cfg_attr(
        feature = "ssr",
        schema(pattern = r"^ *(|[Aa][Uu][Tt][Oo]|1\.3-[Rr][Ee][Vv][012]|1\.2-[Rr][Ee][Vv][01]) *$")
    )]
    pub api_version: Option<String>,
    /// Certificate checking.
    pub tls_mode: Option<TlsMode>,
    /// Trusted PEM.
    pub ca_pem: Option<String>,
    /// Seconds between syncs (60–86400).
    #[cfg_attr(feature = "ssr", schema(minimum = 60, maximum = 86_400))]
    pub sync_interval_seconds: Option<i64>,
    /// Synced at all.
    pub enabled: Option<bool>,
}

/// What "test connection" found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConnectionTest {
    /// Signed in and read the server's info.
    pub ok: bool,
    /// The failure's kind (see `VeeamServer.last_error_code`).
    pub code: Option<String>,
    /// What happened, in plain words in the caller's language.
    pub message: String,
    /// The revision that worked.
    pub api_version: Option<String>,
    /// VBR build, e.g. `13.1.0.411`.
    pub build_version: Option<String>,
}

/// Free space of a repository on one day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SpaceSample {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Free GB.
    pub free_gb: f64,
    /// Capacity GB.
    pub capacity_gb: f64,
}

/// A backup repository with its space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Repository {
    /// Id.
    pub id: i64,
    /// The Veeam server.
    pub server_id: i64,
    /// Its name.
    pub server_name: String,
    /// Name.
    pub name: String,
    /// Veeam's repository type (`WinLocal`, `LinuxHardened`, …).
    pub kind: String,
    /// Host.
    pub host_name: Option<String>,
    /// Path.
    pub path: Option<String>,
    /// Capacity in GB.
    pub capacity_gb: f64,
    /// Free space in GB.
    pub free_gb: f64,
    /// Used space in GB.
    pub used_gb: f64,
    /// Free space in percent of capacity.
    pub free_percent: f64,
    /// Warn below this free percentage (default 15).
    pub warning_free_percent: i64,
    /// Free space is below the threshold.
    pub low_space: bool,
    /// Reachable by Veeam.
    pub online: bool,
    /// When last synced.
    pub updated_at: DateTime<Utc>,
    /// Free space per day over the last 30 days, oldest first.
    pub history: Vec<SpaceSample>,
}

/// A job action's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActionOutcome {
    /// `start`, `stop`, `retry`, `enable`, `disable`.
    pub action: String,
    /// What Veeam said, in plain words.
    pub message: String,
    /// The Veeam session started or stopped, if any.
    pub session_id: Option<String>,
    /// The console's run for that session, if recorded.
    pub run_id: Option<i64>,
}

#[cfg(feature = "ssr")]
super::text_enum!(TlsMode, "TLS mode");
#[cfg(feature = "ssr")]
super::text_enum!(ServerStatus, "server status");
