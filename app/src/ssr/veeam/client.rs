//! A client for the Veeam Backup & Replication REST API.
//!
//! OAuth2 password grant with refresh before the token runs out (and a new
//! password grant when the refresh is refused or a token is revoked), the
//! `x-api-version` header on every call, paging through whole collections,
//! retries with back-off on 5xx and connection errors, and a circuit
//! breaker so a dead server costs one fast failure per call.
//!
//! Requests go only to addresses the outbound policy allows and never
//! follow a redirect (the password must not be carried elsewhere); what
//! the server says is cut short, rid of the password and of control
//! characters before it becomes an error, a message or a log line.

use std::{
    sync::Mutex,
    time::{Duration, Instant},
};

use chrono::{DateTime, SecondsFormat, Utc};
use rand::Rng;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::wire::{
    BackupModel, BackupObjectModel, ConfigBackupModel, ErrorBody, JobModel, JobStateModel, LicenseModel,
    MalwareEventModel, Page, RepositoryStateModel, RestorePointModel, ServerInfo, ServerTime, SessionModel,
    Token,
};
use crate::ssr::infra::outbound::{self, Policy};

/// API revisions this console speaks, newest first (VBR 12.3 and later).
pub const SUPPORTED_REVISIONS: &[&str] = &["1.3-rev2", "1.3-rev1", "1.3-rev0", "1.2-rev1", "1.2-rev0"];

/// Whether `POST /jobs/{id}/retry` exists in a revision (VBR 13, 1.3-rev0 and later).
pub fn has_retry(revision: &str) -> bool {
    revision.starts_with("1.3")
}

/// How the server's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tls {
    /// Against the system's trusted roots.
    Verify,
    /// Against this CA or certificate (PEM).
    CustomCa(String),
    /// Not at all (an explicit per-server opt-in for self-signed certificates).
    Insecure,
}

/// Timeouts, retries and paging.
#[derive(Clone, Debug)]
pub struct Options {
    /// Per request.
    pub timeout: Duration,
    /// Tries per call on 5xx and connection errors.
    pub attempts: u32,
    /// First back-off; doubles per try.
    pub backoff: Duration,
    /// Items per page (Veeam's default is 200).
    pub page_size: u32,
    /// Failed calls in a row that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit fails calls at once (doubles while it stays down, up to 16×).
    pub breaker_cooldown: Duration,
    /// Which addresses may be reached.
    pub outbound: Policy,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: Duration::from_millis(500),
            page_size: 500,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(60),
            outbound: Policy::default(),
        }
    }
}

/// Where and as whom to connect.
#[derive(Clone, Debug)]
pub struct Target {
    /// e.g. `https://vbr.example.local:9419/`.
    pub base_url: Url,
    /// Account.
    pub username: String,
    /// Its password.
    pub password: SecretString,
    /// The `x-api-version` to send.
    pub api_version: String,
    /// Certificate checking.
    pub tls: Tls,
}

/// What went wrong talking to Veeam.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VeeamError {
    /// No connection could be made.
    #[error("cannot reach the server: {0}")]
    Unreachable(String),
    /// TLS failed on the certificate.
    #[error("the server's certificate is not trusted: {0}")]
    Certificate(String),
    /// No answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The password grant was refused.
    #[error("the user name or password was refused: {0}")]
    Credentials(String),
    /// The server rejected the `x-api-version`.
    #[error("the server does not support API revision {version}: {message}")]
    UnsupportedVersion {
        /// What was asked for.
        version: String,
        /// What the server said.
        message: String,
    },
    /// Veeam's error body.
    #[error("Veeam answered {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `errorCode`.
        code: String,
        /// `message`.
        message: String,
    },
    /// The body was not what the spec says.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    /// The address may not be reached (link-local, cloud metadata, or
    /// private with `outbound_deny_private`).
    #[error("the address may not be reached: {0}")]
    Refused(String),
    /// Recent calls failed; not trying again yet.
    #[error("the server is unreachable (not retried until {retry_at}): {last_error}")]
    CircuitOpen {
        /// When calls are tried again.
        retry_at: DateTime<Utc>,
        /// The failure that opened it.
        last_error: String,
    },
}

impl VeeamError {
    /// A stable code for the UI and the API: `unreachable`, `certificate`,
    /// `timeout`, `credentials`, `unsupported_version`, `api`, `decode`,
    /// `refused`, `circuit_open`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "unreachable",
            Self::Certificate(_) => "certificate",
            Self::Timeout => "timeout",
            Self::Credentials(_) => "credentials",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::Api { .. } => "api",
            Self::Decode(_) => "decode",
            Self::Refused(_) => "refused",
            Self::CircuitOpen { .. } => "circuit_open",
        }
    }

    /// Whether trying again may help (and whether it counts against the breaker).
    fn transient(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Timeout)
            || matches!(self, Self::Api { status, .. } if *status >= 500)
    }

    /// Whether the server is down rather than refusing us.
    pub fn is_outage(&self) -> bool {
        self.transient() || matches!(self, Self::CircuitOpen { .. })
    }
}

struct TokenState {
    access: SecretString,
    refresh: Option<SecretString>,
    refresh_at: Instant,
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    opened: u32,
    open_until: Option<(Instant, DateTime<Utc>)>,
    last_error: Option<String>,
}

/// A connection to one Veeam server. Cheap to share (`Arc`); calls may run
/// concurrently.
pub struct Client {
    http: reqwest::Client,
    target: Target,
    options: Options,
    token: tokio::sync::Mutex<Option<TokenState>>,
    breaker: Mutex<Breaker>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.target.base_url.as_str())
            .field("username", &self.target.username)
            .field("api_version", &self.target.api_version)
            .finish_non_exhaustive()
    }
}

/// Whether `error` was caused by a refused address.
fn refused(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        if inner.is::<outbound::RefusedName>() {
            return true;
        }
        source = inner.source();
    }
    false
}

impl Client {
    /// What the server (or the network) said, fit for an error: no URL, no
    /// password, no control characters, at most 300 characters.
    fn clean(&self, text: &str) -> String {
        outbound::clean(text, &[self.target.password.expose_secret().to_owned()])
    }

    fn transport_error(&self, error: reqwest::Error) -> VeeamError {
        let timeout = error.is_timeout();
        let refused = refused(&error);
        let text = outbound::describe(error, &[self.target.password.expose_secret().to_owned()]);
        if refused {
            VeeamError::Refused(text)
        } else if timeout {
            VeeamError::Timeout
        } else if text.contains("certificate")
            || text.contains("UnknownIssuer")
            || text.contains("CertNotValid")
        {
            VeeamError::Certificate(text)
        } else {
            VeeamError::Unreachable(text)
        }
    }
}

impl Client {
    /// A client for `target`. Fails only on an unusable CA certificate.
    pub fn new(target: Target, options: Options) -> Result<Self, VeeamError> {
        let mut builder = outbound::builder(options.outbound)
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)));
        match &target.tls {
            Tls::Verify => {}
            Tls::CustomCa(pem) => {
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(|e| {
                    VeeamError::Certificate(format!("the CA certificate cannot be read: {e}"))
                })?;
                if certs.is_empty() {
                    return Err(VeeamError::Certificate("no certificate found in the PEM text".into()));
                }
                for cert in certs {
                    builder = builder.add_root_certificate(cert);
                }
            }
            Tls::Insecure => builder = builder.danger_accept_invalid_certs(true),
        }
        let http = builder.build().map_err(|e| VeeamError::Unreachable(outbound::describe(e, &[])))?;
        Ok(Self { http, target, options, token: tokio::sync::Mutex::new(None), breaker: Mutex::default() })
    }

    /// The revision this client sends.
    pub fn api_version(&self) -> &str {
        &self.target.api_version
    }

    /// The URL of `path`, when its address may be reached (reqwest checks
    /// names as it resolves them; a literal address is checked here).
    fn url(&self, path: &str) -> Result<Url, VeeamError> {
        let url = self
            .target
            .base_url
            .join(path.trim_start_matches('/'))
            .map_err(|e| VeeamError::Decode(e.to_string()))?;
        outbound::check_url(&url, self.options.outbound).map_err(|e| VeeamError::Refused(e.to_string()))?;
        Ok(url)
    }

    /// The error that opened the circuit, while it is open.
    pub fn circuit(&self) -> Option<VeeamError> {
        let breaker = self.breaker.lock().unwrap_or_else(|e| e.into_inner());
        match breaker.open_until {
            Some((until, retry_at)) if Instant::now() < until => Some(VeeamError::CircuitOpen {
                retry_at,
                last_error: breaker.last_error.clone().unwrap_or_default(),
            }),
            _ => None,
        }
    }

    fn record(&self, outcome: Result<(), &VeeamError>) {
        let mut breaker = self.breaker.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(()) => *breaker = Breaker::default(),
            Err(error) if error.transient() => {
                breaker.failures += 1;
                breaker.last_error = Some(error.to_string());
                if breaker.failures >= self.options.breaker_threshold {
                    let factor = 1u32 << breaker.opened.min(4);
                    let cooldown = self.options.breaker_cooldown * factor;
                    breaker.opened += 1;
                    breaker.failures = 0;
                    let retry_at = Utc::now() + chrono::Duration::from_std(cooldown).unwrap_or_default();
                    breaker.open_until = Some((Instant::now() + cooldown, retry_at));
                    tracing::warn!(server = %self.target.base_url, error = %error, ?cooldown, "Veeam server marked unreachable");
                }
            }
            Err(_) => {}
        }
    }

    async fn backoff(&self, attempt: u32) {
        let base = self.options.backoff * (1u32 << attempt.min(6));
        let jitter = rand::rng().random_range(0.8..1.2);
        tokio::time::sleep(base.mul_f64(jitter)).await;
    }

    async fn decode_error(&self, status: StatusCode, response: reqwest::Response) -> VeeamError {
        if status.is_redirection() {
            return VeeamError::Api {
                status: status.as_u16(),
                code: "Redirect".into(),
                message: "the server redirects elsewhere and redirects are not followed; check the address"
                    .into(),
            };
        }
        let text: String = response.text().await.unwrap_or_default().chars().take(4000).collect();
        match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => VeeamError::Api {
                status: status.as_u16(),
                code: outbound::cut(&outbound::escape_control(&body.error_code), 100),
                message: self.clean(&body.message),
            },
            Err(_) => {
                VeeamError::Api { status: status.as_u16(), code: String::new(), message: self.clean(&text) }
            }
        }
    }

    async fn grant(&self, form: &[(&str, &str)]) -> Result<TokenState, VeeamError> {
        let response = self
            .http
            .post(self.url("api/oauth2/token")?)
            .header("x-api-version", &self.target.api_version)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            let token: Token = response.json().await.map_err(|e| {
                VeeamError::Decode(outbound::describe(e, &[self.target.password.expose_secret().to_owned()]))
            })?;
            let lifetime = Duration::from_secs(token.expires_in.max(1) as u64);
            let margin = (lifetime / 4).min(Duration::from_secs(60));
            return Ok(TokenState {
                access: SecretString::from(token.access_token),
                refresh: token.refresh_token.map(SecretString::from),
                refresh_at: Instant::now() + lifetime - margin,
            });
        }
        let error = self.decode_error(status, response).await;
        Err(match error {
            VeeamError::Api { status: 400, code, message }
                if code == "NotImplemented"
                    || message.contains("API version")
                    || message.contains("RESTAPI version") =>
            {
                let _ = code;
                VeeamError::UnsupportedVersion { version: self.target.api_version.clone(), message }
            }
            VeeamError::Api { status: 401 | 403, message, .. } => VeeamError::Credentials(message),
            other => other,
        })
    }

    async fn password_grant(&self) -> Result<TokenState, VeeamError> {
        let password = self.target.password.expose_secret();
        self.grant(&[("grant_type", "password"), ("username", &self.target.username), ("password", password)])
            .await
    }

    /// A valid access token: the current one, a refreshed one when it is
    /// about to run out, or a new password grant.
    async fn access_token(&self, force_new: bool) -> Result<SecretString, VeeamError> {
        let mut slot = self.token.lock().await;
        if force_new {
            *slot = None;
        }
        if let Some(token) = slot.as_ref()
            && Instant::now() < token.refresh_at
        {
            return Ok(token.access.clone());
        }
        let refreshed = match slot.as_ref().and_then(|t| t.refresh.clone()) {
            Some(refresh) => {
                match self
                    .grant(&[("grant_type", "refresh_token"), ("refresh_token", refresh.expose_secret())])
                    .await
                {
                    Ok(token) => Some(token),
                    Err(error) if error.transient() => return Err(error),
                    Err(error) => {
                        tracing::info!(server = %self.target.base_url, %error, "token refresh refused; signing in again");
                        None
                    }
                }
            }
            None => None,
        };
        let token = match refreshed {
            Some(token) => token,
            None => self.password_grant().await?,
        };
        let access = token.access.clone();
        *slot = Some(token);
        Ok(access)
    }

    /// One API call with retries; `Ok(None)` for an empty body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, Option<Value>), VeeamError> {
        if let Some(open) = self.circuit() {
            return Err(open);
        }
        let outcome = self.call_with_retries(method, path, query, body).await;
        self.record(outcome.as_ref().map(|_| ()));
        outcome
    }

    async fn call_with_retries(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, Option<Value>), VeeamError> {
        let url = self.url(path)?;
        let mut attempt = 0;
        let mut reauthenticated = false;
        loop {
            let result = async {
                let token = self.access_token(false).await?;
                let mut request = self
                    .http
                    .request(method.clone(), url.clone())
                    .query(query)
                    .header("x-api-version", &self.target.api_version)
                    .header("accept", "application/json")
                    .bearer_auth(token.expose_secret());
                if let Some(body) = body {
                    request = request.json(body);
                }
                let response = request.send().await.map_err(|e| self.transport_error(e))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(self.decode_error(status, response).await);
                }
                let bytes = response.bytes().await.map_err(|e| self.transport_error(e))?;
                if bytes.is_empty() {
                    return Ok((status, None));
                }
                let value: Value = serde_json::from_slice(&bytes)
                    .map_err(|e| VeeamError::Decode(self.clean(&e.to_string())))?;
                Ok((status, Some(value)))
            }
            .await;
            match result {
                Ok(answer) => return Ok(answer),
                // Expired early or revoked: sign in again, once per call.
                Err(VeeamError::Api { status: 401, .. }) if !reauthenticated => {
                    reauthenticated = true;
                    self.access_token(true).await?;
                }
                Err(error) if error.transient() && attempt + 1 < self.options.attempts => {
                    tracing::debug!(server = %self.target.base_url, %error, attempt, "Veeam call failed; retrying");
                    self.backoff(attempt).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T, VeeamError> {
        let (_, body) = self.call(Method::GET, path, query, None).await?;
        serde_json::from_value(body.unwrap_or(Value::Null))
            .map_err(|e| VeeamError::Decode(self.clean(&format!("{path}: {e}"))))
    }

    /// Every item of a collection, page by page until `total`; `progress`
    /// hears (items so far, total) after each page.
    pub async fn collect<T: DeserializeOwned>(
        &self,
        path: &str,
        filters: &[(&str, String)],
        progress: &mut (dyn FnMut(usize, i64) + Send),
    ) -> Result<Vec<T>, VeeamError> {
        let mut items = Vec::new();
        let mut skip: i64 = 0;
        loop {
            let mut query = filters.to_vec();
            query.push(("skip", skip.to_string()));
            query.push(("limit", self.options.page_size.to_string()));
            let page: Page<T> = self.get(path, &query).await?;
            let count = page.data.len() as i64;
            items.extend(page.data);
            // Advance by what came back, not by the limit asked for: a
            // server may send more or fewer than asked.
            skip += count;
            progress(items.len(), page.pagination.total);
            if count == 0 || skip >= page.pagination.total {
                return Ok(items);
            }
        }
    }

    /// Signs in (checking the address, certificate, credentials and
    /// revision) and reads `serverInfo`.
    pub async fn check(&self) -> Result<ServerInfo, VeeamError> {
        if let Some(open) = self.circuit() {
            return Err(open);
        }
        let outcome = self.access_token(true).await;
        self.record(outcome.as_ref().map(|_| ()));
        outcome?;
        self.get("api/v1/serverInfo", &[]).await
    }

    /// Every job's state.
    pub async fn job_states(&self) -> Result<Vec<JobStateModel>, VeeamError> {
        self.collect("api/v1/jobs/states", &[], &mut |_, _| {}).await
    }

    /// Backup job sessions created after `after` (all when `None`), oldest first.
    pub async fn sessions(
        &self,
        after: Option<DateTime<Utc>>,
        progress: &mut (dyn FnMut(usize, i64) + Send),
    ) -> Result<Vec<SessionModel>, VeeamError> {
        let mut filters = vec![
            ("typeFilter", "BackupJob".to_owned()),
            ("orderColumn", "CreationTime".to_owned()),
            ("orderAsc", "true".to_owned()),
        ];
        if let Some(after) = after {
            filters.push(("createdAfterFilter", after.to_rfc3339_opts(SecondsFormat::Micros, true)));
        }
        self.collect("api/v1/sessions", &filters, progress).await
    }

    /// One session.
    pub async fn session(&self, id: &str) -> Result<SessionModel, VeeamError> {
        self.get(&format!("api/v1/sessions/{id}"), &[]).await
    }

    /// Every repository's capacity and free space.
    pub async fn repository_states(&self) -> Result<Vec<RepositoryStateModel>, VeeamError> {
        self.collect("api/v1/backupInfrastructure/repositories/states", &[], &mut |_, _| {}).await
    }

    async fn post_session(&self, path: &str, body: Value) -> Result<SessionModel, VeeamError> {
        let (_, answer) = self.call(Method::POST, path, &[], Some(&body)).await?;
        serde_json::from_value(answer.unwrap_or(Value::Null))
            .map_err(|e| VeeamError::Decode(self.clean(&format!("{path}: {e}"))))
    }

    /// Starts a job; the new session.
    pub async fn start_job(&self, job_id: &str) -> Result<SessionModel, VeeamError> {
        self.post_session(&format!("api/v1/jobs/{job_id}/start"), json!({"performActiveFull": false})).await
    }

    /// Stops a job gracefully; its session.
    pub async fn stop_job(&self, job_id: &str) -> Result<SessionModel, VeeamError> {
        self.post_session(&format!("api/v1/jobs/{job_id}/stop"), json!({"gracefulStop": true})).await
    }

    /// Retries a job's failed objects (1.3 and later).
    pub async fn retry_job(&self, job_id: &str) -> Result<SessionModel, VeeamError> {
        if !has_retry(&self.target.api_version) {
            return Err(VeeamError::UnsupportedVersion {
                version: self.target.api_version.clone(),
                message: "retrying a job needs API revision 1.3 (VBR 13) or later".into(),
            });
        }
        self.post_session(&format!("api/v1/jobs/{job_id}/retry"), json!({})).await
    }

    /// The server's clock (no sign-in needed, but the token is sent anyway).
    pub async fn server_time(&self) -> Result<ServerTime, VeeamError> {
        self.get("api/v1/serverTime", &[]).await
    }

    /// Every job with its schedule.
    pub async fn jobs(&self) -> Result<Vec<JobModel>, VeeamError> {
        self.collect("api/v1/jobs", &[], &mut |_, _| {}).await
    }

    /// Every backup (one per job and repository).
    pub async fn backups(&self) -> Result<Vec<BackupModel>, VeeamError> {
        self.collect("api/v1/backups", &[], &mut |_, _| {}).await
    }

    /// Restore points created after `after` (all when `None`), oldest first.
    pub async fn restore_points(
        &self,
        after: Option<DateTime<Utc>>,
        progress: &mut (dyn FnMut(usize, i64) + Send),
    ) -> Result<Vec<RestorePointModel>, VeeamError> {
        let mut filters = vec![("orderColumn", "CreationTime".to_owned()), ("orderAsc", "true".to_owned())];
        if let Some(after) = after {
            filters.push(("createdAfterFilter", after.to_rfc3339_opts(SecondsFormat::Micros, true)));
        }
        self.collect("api/v1/restorePoints", &filters, progress).await
    }

    /// A backup object's newest restore point. 1.3 pages and sorts this
    /// collection (one item is asked for); 1.2 sends it whole, unsorted.
    pub async fn newest_restore_point(
        &self,
        backup_object_id: &str,
    ) -> Result<Option<RestorePointModel>, VeeamError> {
        let path = format!("api/v1/backupObjects/{backup_object_id}/restorePoints");
        let query: Vec<(&str, String)> = if self.target.api_version.starts_with("1.3") {
            vec![
                ("orderColumn", "CreationTime".to_owned()),
                ("orderAsc", "false".to_owned()),
                ("skip", "0".to_owned()),
                ("limit", "1".to_owned()),
            ]
        } else {
            Vec::new()
        };
        let page: Page<RestorePointModel> = self.get(&path, &query).await?;
        Ok(page.data.into_iter().max_by_key(|p| p.creation_time))
    }

    /// Every backup object (machine).
    pub async fn backup_objects(&self) -> Result<Vec<BackupObjectModel>, VeeamError> {
        self.collect("api/v1/backupObjects", &[], &mut |_, _| {}).await
    }

    /// Malware detection events detected after `after` (all when `None`);
    /// 1.1-rev1 (VBR 12.1) and later, a 404 `Api` error before.
    pub async fn malware_events(
        &self,
        after: Option<DateTime<Utc>>,
    ) -> Result<Vec<MalwareEventModel>, VeeamError> {
        let mut filters = Vec::new();
        if let Some(after) = after {
            filters.push(("detectedAfterTimeUtcFilter", after.to_rfc3339_opts(SecondsFormat::Micros, true)));
        }
        self.collect("api/v1/malwareDetection/events", &filters, &mut |_, _| {}).await
    }

    /// The configuration backup's settings and last success.
    pub async fn config_backup(&self) -> Result<ConfigBackupModel, VeeamError> {
        self.get("api/v1/configBackup", &[]).await
    }

    /// The installed license; `Api { status: 403, .. }` for an account
    /// without the right (Backup Viewer).
    pub async fn license(&self) -> Result<LicenseModel, VeeamError> {
        self.get("api/v1/license", &[]).await
    }

    /// Enables or disables a job.
    pub async fn set_job_enabled(&self, job_id: &str, enabled: bool) -> Result<(), VeeamError> {
        let verb = if enabled { "enable" } else { "disable" };
        self.call(Method::POST, &format!("api/v1/jobs/{job_id}/{verb}"), &[], None).await.map(|_| ())
    }
}

/// Finds the newest revision both sides speak by signing in with each in
/// turn (an unsupported one is refused with 400 before credentials count).
pub async fn detect_revision(target: &Target, options: &Options) -> Result<String, VeeamError> {
    let mut last = None;
    for revision in SUPPORTED_REVISIONS {
        let client =
            Client::new(Target { api_version: (*revision).to_owned(), ..target.clone() }, options.clone())?;
        match client.password_grant().await {
            Ok(_) => return Ok((*revision).to_owned()),
            Err(error @ VeeamError::UnsupportedVersion { .. }) => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(match last {
        Some(VeeamError::UnsupportedVersion { message, .. }) => VeeamError::UnsupportedVersion {
            version: format!(
                "{} … {}",
                SUPPORTED_REVISIONS[SUPPORTED_REVISIONS.len() - 1],
                SUPPORTED_REVISIONS[0]
            ),
            message,
        },
        Some(other) => other,
        None => VeeamError::Decode("no revision to try".into()),
    })
}
