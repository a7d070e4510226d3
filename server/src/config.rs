//! Layered configuration: built-in defaults → an optional TOML file →
//! `BMS_*` environment variables, then validation.
//!
//! Environment values are inserted as strings and extracted "lossily", so a
//! numeric-looking secret stays a string while numeric settings still parse.
//! Unknown keys, in the file or the environment, are errors that name the key.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use app::ssr::infra::settings::{BackupSettings, DatabaseUrl, Environment, LogFormat, Retention, Settings};
use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// The prefix of every configuration environment variable.
pub const ENV_PREFIX: &str = "BMS_";

/// `BMS_CONFIG` names the file; it is not itself a setting.
const CONFIG_FILE_VAR: &str = "BMS_CONFIG";

/// Minimum length of a production JWT secret, in bytes.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Minimum length of `encryption_key` (base64 of 32 bytes is 44).
pub const MIN_ENCRYPTION_KEY_CHARS: usize = 32;

/// The settings as written in files and the environment, before validation.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    env: String,
    listen: String,
    data_dir: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwt_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encryption_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_password: Option<String>,
    log_format: String,
    log_level: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_dir: Option<PathBuf>,
    log_retention_days: u32,
    session_hours: u32,
    session_max_days: u32,
    veeam_config_backup_max_days: u32,
    veeam_license_warn_days: u32,
    login_rate_per_minute: u32,
    api_rate_per_minute: u32,
    trust_proxy: bool,
    trusted_proxy_hops: u32,
    allow_insecure_http: bool,
    timezone: String,
    monitor_interval_seconds: u64,
    notify_max_attempts: u32,
    notify_timeout_seconds: u64,
    outbound_deny_private: bool,
    calendar_japanese_holidays: bool,
    metrics_allow: String,
    retention_runs_days: u32,
    disk_low_percent: u8,
    retention_events_days: u32,
    retention_audit_days: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup_recipient: Option<String>,
    backup_time: String,
    backup_keep_days: u32,
    backup_daily: bool,
}

impl Default for RawSettings {
    fn default() -> Self {
        Self {
            env: "development".into(),
            listen: "127.0.0.1:5000".into(),
            data_dir: PathBuf::from("data"),
            database_url: None,
            base_url: None,
            jwt_secret: None,
            encryption_key: None,
            admin_password: None,
            log_format: "text".into(),
            log_level: "info".into(),
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
            allow_insecure_http: false,
            timezone: "Asia/Tokyo".into(),
            monitor_interval_seconds: 15,
            notify_max_attempts: 12,
            notify_timeout_seconds: 20,
            outbound_deny_private: false,
            calendar_japanese_holidays: true,
            metrics_allow: String::new(),
            retention_runs_days: Retention::default().runs_days,
            disk_low_percent: 10,
            retention_events_days: Retention::default().events_days,
            retention_audit_days: Retention::default().audit_days,
            backup_dir: None,
            backup_recipient: None,
            backup_time: "03:00".into(),
            backup_keep_days: 30,
            backup_daily: true,
        }
    }
}

/// Every key [`RawSettings`] accepts; `BMS_<KEY>` in the environment.
const KEYS: &[&str] = &[
    "env",
    "listen",
    "data_dir",
    "database_url",
    "base_url",
    "jwt_secret",
    "encryption_key",
    "admin_password",
    "log_format",
    "log_level",
    "log_dir",
    "log_retention_days",
    "session_hours",
    "session_max_days",
    "veeam_config_backup_max_days",
    "veeam_license_warn_days",
    "login_rate_per_minute",
    "api_rate_per_minute",
    "trust_proxy",
    "trusted_proxy_hops",
    "allow_insecure_http",
    "timezone",
    "monitor_interval_seconds",
    "notify_max_attempts",
    "notify_timeout_seconds",
    "outbound_deny_private",
    "calendar_japanese_holidays",
    "metrics_allow",
    "retention_runs_days",
    "disk_low_percent",
    "retention_events_days",
    "retention_audit_days",
    "backup_dir",
    "backup_recipient",
    "backup_time",
    "backup_keep_days",
    "backup_daily",
];

/// A configuration problem, worded for the person running the binary.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A key nobody reads: probably a typo.
    #[error("unknown configuration key `{key}` in {origin}; known keys: {known}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where it was found.
        origin: String,
        /// The keys that exist.
        known: String,
    },
    /// The file named by `--config`/`BMS_CONFIG` does not exist.
    #[error("the configuration file {0} does not exist")]
    MissingFile(String),
    /// A value is malformed.
    #[error("invalid value for `{key}` ({env}): {message}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Its environment variable.
        env: String,
        /// What is wrong.
        message: String,
    },
    /// The file could not be parsed, or a value has the wrong type.
    #[error("cannot read the configuration: {0}")]
    Unreadable(String),
}

fn bad_setting(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, env: format!("{ENV_PREFIX}{}", key.to_uppercase()), message: message.into() }
}

fn known_keys() -> String {
    KEYS.join(", ")
}

/// Loads and validates the settings from an optional file and the given
/// environment (pass `std::env::vars()`; tests pass their own).
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::MissingFile(path.display().to_string()));
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let mut env: Vec<(String, String)> =
        env.into_iter().filter(|(name, _)| name.starts_with(ENV_PREFIX) && name != CONFIG_FILE_VAR).collect();
    env.sort();
    for (name, value) in env {
        let key = name[ENV_PREFIX.len()..].to_ascii_lowercase();
        if !KEYS.contains(&key.as_str()) {
            return Err(ConfigError::UnknownKey {
                key: name,
                origin: "the environment".into(),
                known: known_keys(),
            });
        }
        figment = figment.merge(Serialized::default(&key, value));
    }
    let raw: RawSettings = figment.extract_lossy().map_err(|e| describe_figment_error(e, file))?;
    validate(raw)
}

/// Turns figment's error into one line that names the key and its source.
fn describe_figment_error(error: figment::Error, file: Option<&Path>) -> ConfigError {
    let origin = file.map_or_else(|| "the configuration".to_owned(), |p| p.display().to_string());
    match &error.kind {
        figment::error::Kind::UnknownField(key, _) => {
            ConfigError::UnknownKey { key: key.clone(), origin, known: known_keys() }
        }
        kind => match error.path.last().and_then(|k| KEYS.iter().find(|known| **known == k.as_str())) {
            Some(key) => bad_setting(key, kind.to_string()),
            None => ConfigError::Unreadable(error.to_string().replace('\n', " ")),
        },
    }
}

/// A setting that is given: blank counts as absent, and the value is kept
/// as written (unlike form input, a secret or password may start or end
/// with a space).
fn given(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

fn validate(raw: RawSettings) -> Result<Settings, ConfigError> {
    let listen: SocketAddr = raw.listen.trim().parse().map_err(|_| {
        bad_setting("listen", format!("`{}` is not an address such as 127.0.0.1:5000", raw.listen))
    })?;

    let log_format = match raw.log_format.trim().to_ascii_lowercase().as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => return Err(bad_setting("log_format", format!("expected `text` or `json`, not `{other}`"))),
    };

    let database_url = match given(raw.database_url) {
        None => Settings::default_database_url(&raw.data_dir),
        Some(url) => {
            let url = url.trim().to_owned();
            let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
            match scheme.as_deref() {
                Some("sqlite") => {}
                Some("postgres" | "postgresql") => {
                    Url::parse(&url)
                        .map_err(|e| bad_setting("database_url", format!("not a valid URL: {e}")))?;
                }
                _ => {
                    return Err(bad_setting(
                        "database_url",
                        "expected sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB",
                    ));
                }
            }
            DatabaseUrl::new(url)
        }
    };

    let base_url = match given(raw.base_url) {
        Some(url) => {
            let parsed = Url::parse(url.trim())
                .map_err(|e| bad_setting("base_url", format!("not a valid URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                return Err(bad_setting("base_url", "expected an http:// or https:// URL with a host"));
            }
            parsed
        }
        None => default_base_url(listen),
    };

    let environment = match raw.env.trim().to_ascii_lowercase().as_str() {
        "development" | "dev" => Environment::Development,
        "production" | "prod" => Environment::Production,
        other => {
            return Err(bad_setting("env", format!("expected `development` or `production`, not `{other}`")));
        }
    };
    let production = environment == Environment::Production || base_url.scheme() == "https";

    let jwt_secret = given(raw.jwt_secret);
    match &jwt_secret {
        Some(secret) if secret.len() < MIN_JWT_SECRET_BYTES => {
            return Err(bad_setting(
                "jwt_secret",
                format!("must be at least {MIN_JWT_SECRET_BYTES} bytes long"),
            ));
        }
        None if production => {
            return Err(bad_setting(
                "jwt_secret",
                format!(
                    "production mode (BMS_ENV=production or an https base URL) needs a secret of at least \
                     {MIN_JWT_SECRET_BYTES} bytes; generate one with `openssl rand -base64 48`"
                ),
            ));
        }
        _ => {}
    }

    let encryption_key = given(raw.encryption_key);
    match &encryption_key {
        Some(key) if key.trim().len() < MIN_ENCRYPTION_KEY_CHARS => {
            return Err(bad_setting(
                "encryption_key",
                format!(
                    "must be 32 bytes in base64 or a passphrase of at least {MIN_ENCRYPTION_KEY_CHARS} characters"
                ),
            ));
        }
        None if production => {
            return Err(bad_setting(
                "encryption_key",
                "production mode (BMS_ENV=production or an https base URL) needs a key for the secrets stored in \
                 the database; generate one with `openssl rand -base64 32`",
            ));
        }
        _ => {}
    }

    if production && base_url.scheme() == "http" && !raw.allow_insecure_http {
        return Err(bad_setting(
            "base_url",
            format!(
                "production mode serves the console at `{base_url}`, which is plain http: passwords and \
                 session cookies would cross the network readable. Set an https base URL, or set \
                 allow_insecure_http = true (BMS_ALLOW_INSECURE_HTTP) when a TLS-terminating proxy on the \
                 same host serves it"
            ),
        ));
    }

    let admin_password = given(raw.admin_password);
    if let Some(password) = &admin_password {
        app::ssr::accounts::password::check_policy(password)
            .map_err(|e| bad_setting("admin_password", e.to_string()))?;
    }

    if !(1..=24 * 30).contains(&raw.session_hours) {
        return Err(bad_setting("session_hours", "expected a number of hours from 1 to 720"));
    }
    if !(1..=365).contains(&raw.session_max_days) {
        return Err(bad_setting("session_max_days", "expected a number of days from 1 to 365"));
    }
    if !(1..=365).contains(&raw.veeam_config_backup_max_days) {
        return Err(bad_setting("veeam_config_backup_max_days", "expected a number of days from 1 to 365"));
    }
    if !(1..=365).contains(&raw.veeam_license_warn_days) {
        return Err(bad_setting("veeam_license_warn_days", "expected a number of days from 1 to 365"));
    }
    if !(1..=10).contains(&raw.trusted_proxy_hops) {
        return Err(bad_setting("trusted_proxy_hops", "expected 1 to 10 proxies"));
    }
    if raw.login_rate_per_minute == 0 {
        return Err(bad_setting("login_rate_per_minute", "must be at least 1"));
    }
    let timezone: chrono_tz::Tz = raw.timezone.trim().parse().map_err(|_| {
        bad_setting("timezone", format!("`{}` is not an IANA time zone such as Asia/Tokyo", raw.timezone))
    })?;
    if !(1..=3600).contains(&raw.monitor_interval_seconds) {
        return Err(bad_setting("monitor_interval_seconds", "expected 1 to 3600 seconds"));
    }
    if !(1..=100).contains(&raw.notify_max_attempts) {
        return Err(bad_setting("notify_max_attempts", "expected 1 to 100 tries"));
    }
    if !(1..=300).contains(&raw.notify_timeout_seconds) {
        return Err(bad_setting("notify_timeout_seconds", "expected 1 to 300 seconds"));
    }

    let metrics_allow = parse_networks(&raw.metrics_allow).map_err(|bad| {
        bad_setting(
            "metrics_allow",
            format!("`{bad}` is not an address or a network such as 10.0.0.5 or 10.0.0.0/24 (separate several with commas)"),
        )
    })?;

    let days = |key: &'static str, value: u32, least: u32| {
        if value == 0 || (least..=36_500).contains(&value) {
            Ok(value)
        } else {
            Err(bad_setting(key, format!("expected 0 (keep for ever) or {least} to 36500 days")))
        }
    };
    let retention = Retention {
        runs_days: days("retention_runs_days", raw.retention_runs_days, 90)?,
        events_days: days("retention_events_days", raw.retention_events_days, 7)?,
        audit_days: days("retention_audit_days", raw.retention_audit_days, 90)?,
    };

    if !(1..=99).contains(&raw.disk_low_percent) {
        return Err(bad_setting("disk_low_percent", "expected 1 to 99 per cent"));
    }
    if !(1..=3650).contains(&raw.log_retention_days) {
        return Err(bad_setting("log_retention_days", "expected 1 to 3650 days"));
    }
    let backup_recipient = given(raw.backup_recipient);
    if let Some(recipient) = &backup_recipient {
        app::ssr::ops::backup::check_recipient(recipient).map_err(|e| bad_setting("backup_recipient", e))?;
    }
    let backup_time = chrono::NaiveTime::parse_from_str(raw.backup_time.trim(), "%H:%M").map_err(|_| {
        bad_setting("backup_time", format!("`{}` is not a time such as 03:00", raw.backup_time))
    })?;
    if !(1..=3650).contains(&raw.backup_keep_days) {
        return Err(bad_setting("backup_keep_days", "expected 1 to 3650 days"));
    }
    let backup = BackupSettings {
        dir: raw.backup_dir.unwrap_or_else(|| raw.data_dir.join("backups")),
        recipient: backup_recipient.map(|r| r.trim().to_owned()),
        time: backup_time,
        keep_days: raw.backup_keep_days,
        daily: raw.backup_daily,
    };

    Ok(Settings {
        environment: if production { Environment::Production } else { Environment::Development },
        listen,
        data_dir: raw.data_dir,
        database_url,
        base_url,
        jwt_secret: jwt_secret.map(SecretString::from),
        encryption_key: encryption_key.map(SecretString::from),
        admin_password: admin_password.map(SecretString::from),
        log_format,
        log_level: raw.log_level,
        log_dir: raw.log_dir.filter(|d| !d.as_os_str().is_empty()),
        log_retention_days: raw.log_retention_days,
        session_hours: raw.session_hours,
        session_max_days: raw.session_max_days,
        veeam_config_backup_max_days: raw.veeam_config_backup_max_days,
        veeam_license_warn_days: raw.veeam_license_warn_days,
        login_rate_per_minute: raw.login_rate_per_minute,
        api_rate_per_minute: raw.api_rate_per_minute,
        trust_proxy: raw.trust_proxy,
        trusted_proxy_hops: raw.trusted_proxy_hops,
        timezone,
        monitor_interval_seconds: raw.monitor_interval_seconds,
        background_monitor: true,
        notify_max_attempts: raw.notify_max_attempts,
        notify_timeout: std::time::Duration::from_secs(raw.notify_timeout_seconds),
        outbound_deny_private: raw.outbound_deny_private,
        calendar_japanese_holidays: raw.calendar_japanese_holidays,
        metrics_allow,
        retention,
        disk_low_percent: raw.disk_low_percent,
        backup,
        watchdog_interval: app::ssr::notify::watchdog::DEFAULT_INTERVAL,
    })
}

/// A comma-separated list of addresses (`10.0.0.5`, `::1`) and networks
/// (`10.0.0.0/24`); an address is a network of one. The first entry that
/// is neither is the error.
fn parse_networks(list: &str) -> Result<Vec<ipnet::IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| entry.to_owned())
        })
        .collect()
}

/// `http://<listen>/`, with `localhost` for a wildcard address.
fn default_base_url(listen: SocketAddr) -> Url {
    let host = if listen.ip().is_unspecified() { "localhost".to_owned() } else { listen.ip().to_string() };
    let host = if listen.is_ipv6() && !listen.ip().is_unspecified() { format!("[{host}]") } else { host };
    Url::parse(&format!("http://{host}:{}/", listen.port())).expect("a URL built from a socket address")
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use std::io::Write;

    use secrecy::ExposeSecret;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_give_a_local_sqlite_console_on_port_5000() {
        let settings = load(None, env(&[("PATH", "/usr/bin"), ("HOME", "/root")])).unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:5000");
        assert_eq!(settings.database_url.expose(), "sqlite://data/backup-mgmt.db");
        assert_eq!(settings.base_url.as_str(), "http://127.0.0.1:5000/");
        assert_eq!(settings.environment, Environment::Development);
        assert_eq!(settings.log_format, LogFormat::Text);
    }

    #[test]
    fn environment_variables_override_the_file_which_overrides_defaults() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "listen = \"0.0.0.0:8080\"\nlog_format = \"json\"\ndata_dir = \"/var/lib/bms\"")
            .unwrap();
        let settings = load(Some(file.path()), env(&[("BMS_LISTEN", "127.0.0.1:9000")])).unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(settings.database_url.expose(), "sqlite:///var/lib/bms/backup-mgmt.db");
    }

    #[test]
    fn an_unknown_environment_variable_is_named_in_the_error() {
        let error = load(None, env(&[("BMS_LISTNE", "127.0.0.1:1")])).unwrap_err().to_string();
        assert!(error.contains("BMS_LISTNE"), "{error}");
        assert!(error.contains("listen"), "{error}");
    }

    #[test]
    fn an_unknown_key_in_the_file_is_named_in_the_error() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "lissten = \"0.0.0.0:8080\"").unwrap();
        let error = load(Some(file.path()), env(&[])).unwrap_err().to_string();
        assert!(error.contains("`lissten`"), "{error}");
        assert!(!error.contains('\n'));
    }

    #[test]
    fn a_missing_config_file_is_an_error() {
        let error = load(Some(Path::new("/nonexistent/bms.toml")), env(&[])).unwrap_err().to_string();
        assert!(error.contains("/nonexistent/bms.toml"), "{error}");
    }

    #[test]
    fn bms_config_itself_is_not_an_unknown_key() {
        assert!(load(None, env(&[("BMS_CONFIG", "/etc/bms.toml")])).is_ok());
    }

    #[test]
    fn malformed_values_are_rejected_with_the_key_named() {
        for (var, value, key) in [
            ("BMS_DATABASE_URL", "mysql://x/y", "database_url"),
            ("BMS_DATABASE_URL", "postgres://exa mple", "database_url"),
            ("BMS_LISTEN", "localhost", "listen"),
            ("BMS_BASE_URL", "ftp://example.com", "base_url"),
            ("BMS_LOG_FORMAT", "xml", "log_format"),
            ("BMS_ENV", "staging", "env"),
            ("BMS_JWT_SECRET", "short", "jwt_secret"),
            ("BMS_ADMIN_PASSWORD", "short", "admin_password"),
            ("BMS_SESSION_HOURS", "0", "session_hours"),
            ("BMS_SESSION_HOURS", "twelve", "session_hours"),
            ("BMS_TRUST_PROXY", "maybe", "trust_proxy"),
            ("BMS_TRUSTED_PROXY_HOPS", "0", "trusted_proxy_hops"),
            ("BMS_SESSION_MAX_DAYS", "0", "session_max_days"),
            ("BMS_SESSION_MAX_DAYS", "a week", "session_max_days"),
            ("BMS_ALLOW_INSECURE_HTTP", "sometimes", "allow_insecure_http"),
            ("BMS_TIMEZONE", "Mars/Olympus", "timezone"),
            ("BMS_NOTIFY_MAX_ATTEMPTS", "0", "notify_max_attempts"),
            ("BMS_NOTIFY_MAX_ATTEMPTS", "many", "notify_max_attempts"),
            ("BMS_NOTIFY_TIMEOUT_SECONDS", "0", "notify_timeout_seconds"),
            ("BMS_OUTBOUND_DENY_PRIVATE", "sometimes", "outbound_deny_private"),
            ("BMS_CALENDAR_JAPANESE_HOLIDAYS", "perhaps", "calendar_japanese_holidays"),
            ("BMS_METRICS_ALLOW", "10.0.0.0/33", "metrics_allow"),
            ("BMS_RETENTION_RUNS_DAYS", "30", "retention_runs_days"),
            ("BMS_RETENTION_AUDIT_DAYS", "99999", "retention_audit_days"),
            ("BMS_BACKUP_RECIPIENT", "age1notakey", "backup_recipient"),
            ("BMS_BACKUP_TIME", "25:00", "backup_time"),
            ("BMS_BACKUP_KEEP_DAYS", "0", "backup_keep_days"),
            ("BMS_DISK_LOW_PERCENT", "100", "disk_low_percent"),
            ("BMS_LOG_RETENTION_DAYS", "0", "log_retention_days"),
        ] {
            let error = load(None, env(&[(var, value)])).unwrap_err().to_string();
            assert!(error.contains(key) && error.contains(var), "{var}={value}: {error}");
        }
    }

    #[test]
    fn numeric_looking_secrets_stay_strings() {
        let digits = "1".repeat(40);
        let settings = load(None, env(&[("BMS_JWT_SECRET", &digits)])).unwrap();
        assert_eq!(settings.jwt_secret.unwrap().expose_secret(), digits);
    }

    #[test]
    fn production_mode_refuses_to_start_without_a_jwt_secret() {
        let error = load(None, env(&[("BMS_ENV", "production")])).unwrap_err().to_string();
        assert!(error.contains("BMS_JWT_SECRET"), "{error}");
        let error =
            load(None, env(&[("BMS_BASE_URL", "https://backup.example.co.jp")])).unwrap_err().to_string();
        assert!(error.contains("BMS_JWT_SECRET"), "{error}");
        let secret = "x".repeat(32);
        let error = load(None, env(&[("BMS_ENV", "production"), ("BMS_JWT_SECRET", &secret)]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("BMS_ENCRYPTION_KEY"), "{error}");
        let key = "k".repeat(44);
        let settings = load(
            None,
            env(&[
                ("BMS_ENV", "production"),
                ("BMS_JWT_SECRET", &secret),
                ("BMS_ENCRYPTION_KEY", &key),
                ("BMS_BASE_URL", "https://backup.example.co.jp"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.environment, Environment::Production);
        assert!(!format!("{settings:?}").contains(&key));
    }

    #[test]
    fn production_mode_refuses_a_plain_http_base_url_unless_allowed() {
        let secret = "x".repeat(32);
        let key = "k".repeat(44);
        let production =
            [("BMS_ENV", "production"), ("BMS_JWT_SECRET", &secret), ("BMS_ENCRYPTION_KEY", &key)];
        let error = load(None, env(&production)).unwrap_err().to_string();
        assert!(error.contains("BMS_BASE_URL") && error.contains("BMS_ALLOW_INSECURE_HTTP"), "{error}");
        let mut behind_proxy = production.to_vec();
        behind_proxy.push(("BMS_ALLOW_INSECURE_HTTP", "true"));
        let settings = load(None, env(&behind_proxy)).unwrap();
        assert_eq!(settings.base_url.scheme(), "http");
        assert_eq!(settings.environment, Environment::Production);
        assert!(load(None, env(&[])).is_ok(), "development mode keeps plain http");
    }

    #[test]
    fn every_raw_setting_has_a_known_key() {
        let raw = RawSettings {
            database_url: Some(String::new()),
            base_url: Some(String::new()),
            jwt_secret: Some(String::new()),
            encryption_key: Some(String::new()),
            admin_password: Some(String::new()),
            log_dir: Some(PathBuf::new()),
            backup_dir: Some(PathBuf::new()),
            backup_recipient: Some(String::new()),
            ..RawSettings::default()
        };
        let value = serde_json::to_value(raw).unwrap();
        let mut fields: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        fields.sort_unstable();
        let mut keys = KEYS.to_vec();
        keys.sort_unstable();
        assert_eq!(fields, keys);
    }
}
