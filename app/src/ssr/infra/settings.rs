//! The server's validated settings.
//!
//! Loading and layering (defaults → TOML file → `BMS_*` environment) lives
//! in the `server` crate; this is the typed result every part of the server
//! reads. Secrets are `SecretString`s and the database URL redacts its
//! password, so `{:?}` of a `Settings` is safe to log.

use std::{fmt, net::SocketAddr, path::PathBuf};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// Development or production. Production refuses insecure defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Local use: a generated JWT secret is acceptable.
    Development,
    /// Real deployments: every secret must be configured.
    Production,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How long history is kept, in days; 0 keeps it for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Retention {
    /// Successful and warning runs (their days stay in the daily roll-ups,
    /// which reports over old periods read).
    pub runs_days: u32,
    /// Job and system events, notification deliveries and held-back
    /// events, repository space samples.
    pub events_days: u32,
    /// The audit log; failed and missed runs and anomalies (the incidents
    /// reports list) are kept as long, or as long as runs if that is longer.
    pub audit_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { runs_days: 400, events_days: 400, audit_days: 3 * 365 }
    }
}

impl Retention {
    /// How long failed and missed runs and anomalies are kept (0: for ever).
    pub fn problem_runs_days(&self) -> u32 {
        if self.runs_days == 0 || self.audit_days == 0 { 0 } else { self.runs_days.max(self.audit_days) }
    }
}

/// The console's own backups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSettings {
    /// Where backup files go (`backup_dir`, default `<data_dir>/backups`).
    pub dir: PathBuf,
    /// The age public key (`age1…`) backups are encrypted to
    /// (`backup_recipient`). Without it, production refuses to back up and
    /// development writes unencrypted files with a warning.
    pub recipient: Option<String>,
    /// When the daily backup is taken, in the console's time zone (`backup_time`).
    pub time: chrono::NaiveTime,
    /// Backup files older than this many days are removed; the newest stays (`backup_keep_days`).
    pub keep_days: u32,
    /// Whether the daily backup runs (not read from configuration: always
    /// on; tests turn it off and call the pass themselves).
    pub daily: bool,
}

impl BackupSettings {
    /// The defaults for a data directory: `<data_dir>/backups`, 03:00, 30 days.
    pub fn defaults(data_dir: &std::path::Path) -> Self {
        Self {
            dir: data_dir.join("backups"),
            recipient: None,
            time: chrono::NaiveTime::from_hms_opt(3, 0, 0).unwrap_or_default(),
            keep_days: 30,
            daily: true,
        }
    }
}

/// A database URL whose `Debug` and `Display` hide the password.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// Wraps a URL. Validation happens when settings are loaded.
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The scheme, lower-cased (`sqlite`, `postgres`, ...).
    pub fn scheme(&self) -> String {
        self.expose().split(':').next().unwrap_or_default().to_ascii_lowercase()
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match Url::parse(self.expose()) {
            Ok(mut url) if url.password().is_some() => {
                // set_password only fails for URLs that cannot have one.
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            Err(_) => "<unparsable database URL>".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Everything the server needs to know, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Development or production.
    pub environment: Environment,
    /// The address the HTTP server binds.
    pub listen: SocketAddr,
    /// Where the SQLite database and generated files live.
    pub data_dir: PathBuf,
    /// Which database to use; the scheme chooses the backend.
    pub database_url: DatabaseUrl,
    /// The console's public URL, used in links, e-mails and the CSRF check.
    pub base_url: Url,
    /// The JWT signing secret, if configured.
    pub jwt_secret: Option<SecretString>,
    /// The key of secrets stored in the database, if configured.
    pub encryption_key: Option<SecretString>,
    /// The password for the first admin, for unattended installs.
    pub admin_password: Option<SecretString>,
    /// Log line format.
    pub log_format: LogFormat,
    /// The `tracing` filter, such as `info` or `info,sqlx=warn`.
    pub log_level: String,
    /// Where `app.log`, `error.log` and `access.log` are written, besides
    /// stdout (`log_dir`; none: stdout only).
    pub log_dir: Option<PathBuf>,
    /// Rotated log files older than this many days are removed (`log_retention_days`).
    pub log_retention_days: u32,
    /// How long a sign-in lasts without activity; active sessions are renewed.
    pub session_hours: u32,
    /// How long a session may last however active it is (days).
    pub session_max_days: u32,
    /// A Veeam server whose last successful configuration backup is older
    /// than this many days raises `veeam_config_backup_stale`.
    pub veeam_config_backup_max_days: u32,
    /// A Veeam licence that ends within this many days raises `veeam_license_expiring`.
    pub veeam_license_warn_days: u32,
    /// Sign-in attempts allowed per minute per client address and per username.
    pub login_rate_per_minute: u32,
    /// Requests to `/api/v1` allowed per minute per client address (0: no limit).
    pub api_rate_per_minute: u32,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy: bool,
    /// How many trusted proxies append to `X-Forwarded-For`: the client is
    /// the address this many entries from the right.
    pub trusted_proxy_hops: u32,
    /// The time zone of schedules without one, daily figures and messages.
    pub timezone: chrono_tz::Tz,
    /// How often the scheduler looks for late, missed and overdue jobs.
    pub monitor_interval_seconds: u64,
    /// Whether the scheduler runs the monitor at all. Always on in a
    /// console (no setting turns it off: a console that never marks a
    /// job missed would look healthy while nothing runs); tests that drive
    /// the monitor themselves, with a clock of their own, turn it off.
    pub background_monitor: bool,
    /// Tries of a notification before it is dead (12: about 2.7 hours of retries).
    pub notify_max_attempts: u32,
    /// How long one notification send may take.
    pub notify_timeout: std::time::Duration,
    /// Refuse outbound requests (webhooks, chat, Veeam, SMTP) to loopback
    /// and private addresses too; link-local and cloud metadata addresses
    /// are refused always.
    pub outbound_deny_private: bool,
    /// Japanese public holidays are closed days of the business calendar
    /// (weekends and the company's closures always are).
    pub calendar_japanese_holidays: bool,
    /// Addresses that may read `/metrics` without credentials (a
    /// Prometheus server on the internal network); everyone else needs a
    /// `read` token or a sign-in. Empty: nobody anonymous.
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// How long history is kept.
    pub retention: Retention,
    /// Below this share of free space (per cent) on the data directory's
    /// file system, `console_disk_low` is raised (`disk_low_percent`).
    pub disk_low_percent: u8,
    /// The console's own backups.
    pub backup: BackupSettings,
    /// How often the watchdog looks at the background tasks (not read
    /// from configuration: ten seconds; tests shorten it).
    pub watchdog_interval: std::time::Duration,
}

impl Settings {
    /// Whether the console is served over https (cookies get `Secure`, HSTS is sent).
    pub fn is_https(&self) -> bool {
        self.base_url.scheme() == "https"
    }

    /// The default SQLite URL for a data directory.
    pub fn default_database_url(data_dir: &std::path::Path) -> DatabaseUrl {
        let path = data_dir.join("backup-mgmt.db");
        DatabaseUrl::new(format!("sqlite://{}", path.display()))
    }

    /// Settings for tests and tools: development mode, loopback, a given data directory.
    pub fn for_tests(data_dir: PathBuf, database_url: Option<DatabaseUrl>) -> Self {
        let listen: SocketAddr = ([127, 0, 0, 1], 0).into();
        let backup = BackupSettings { daily: false, ..BackupSettings::defaults(&data_dir) };
        Self {
            environment: Environment::Development,
            listen,
            database_url: database_url.unwrap_or_else(|| Self::default_database_url(&data_dir)),
            data_dir,
            base_url: Url::parse("http://127.0.0.1/").expect("a valid literal URL"),
            jwt_secret: Some(SecretString::from("test secret: not for production use, 32+ bytes".to_owned())),
            encryption_key: Some(SecretString::from(
                "test key: not for production use, 32+ chars".to_owned(),
            )),
            admin_password: None,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            log_dir: None,
            log_retention_days: 90,
            session_hours: 12,
            session_max_days: 7,
            veeam_config_backup_max_days: 7,
            veeam_license_warn_days: 30,
            login_rate_per_minute: 5,
            api_rate_per_minute: 600,
            trust_proxy: false,
            trusted_proxy_hops: 1,
            timezone: chrono_tz::Asia::Tokyo,
            monitor_interval_seconds: 15,
            background_monitor: true,
            notify_max_attempts: 12,
            notify_timeout: std::time::Duration::from_secs(20),
            outbound_deny_private: false,
            calendar_japanese_holidays: true,
            metrics_allow: Vec::new(),
            retention: Retention::default(),
            disk_low_percent: 10,
            backup,
            watchdog_interval: std::time::Duration::from_secs(10),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_never_show_their_password() {
        let url = DatabaseUrl::new("postgres://bms:s3cret@db.example:5432/bms");
        assert_eq!(url.to_string(), "postgres://bms:***@db.example:5432/bms");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.expose(), "postgres://bms:s3cret@db.example:5432/bms");
        assert_eq!(url.scheme(), "postgres");
    }

    #[test]
    fn settings_debug_output_hides_secrets() {
        let mut settings = Settings::for_tests(PathBuf::from("/tmp/x"), None);
        settings.jwt_secret = Some(SecretString::from("jwt-very-secret-value"));
        settings.admin_password = Some(SecretString::from("admin-very-secret"));
        let debug = format!("{settings:?}");
        assert!(!debug.contains("jwt-very-secret-value"));
        assert!(!debug.contains("admin-very-secret"));
    }
}
