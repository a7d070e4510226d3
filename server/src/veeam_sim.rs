//! A Veeam Backup & Replication REST API simulator (`backup-mgmt veeam-sim`).
//!
//! Serves the subset of VBR's REST API the console uses, with Veeam's
//! paths, headers, envelopes, error bodies and the enum spelling of the
//! requested revision (`running` up to 1.3-rev0, `Running` from 1.3-rev1),
//! over HTTPS with a self-signed certificate or plain HTTP. Jobs run on
//! daily schedules on the simulator's clock (which can be frozen, sped up
//! or moved on); sessions go Starting → Working → Postprocessing → Stopped
//! and end in success, warning or failure; repositories fill up.
//!
//! Faults for tests and demos, by flag or `POST /sim/faults`: latency, 500s,
//! early token expiry, revoked tokens, dropped connections, oversized pages.
//! `POST /sim/advance {"seconds": N}` moves the clock; `GET /sim/stats`
//! counts what it holds.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    Form, Json, Router,
    extract::{Path, Query, Request, State},
    http::{HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Timelike, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// Revisions in the order VBR introduced them (1.0-x is no longer served).
pub const REVISIONS: &[&str] =
    &["1.1-rev0", "1.1-rev1", "1.1-rev2", "1.2-rev0", "1.2-rev1", "1.3-rev0", "1.3-rev1", "1.3-rev2"];

const NIL: &str = "00000000-0000-0000-0000-000000000000";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The newest revision served (`1.2-rev1` is VBR 12.3, `1.3-rev2` VBR 13.1).
    pub api_version: String,
    /// Backup jobs.
    pub jobs: usize,
    /// Days of session history at start.
    pub history_days: u32,
    /// Seed of everything random.
    pub seed: u64,
    /// Account.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Simulated seconds per real second (0 freezes the clock).
    pub speed: f64,
    /// Access token lifetime in seconds (Veeam: 900).
    pub token_lifetime: i64,
    /// Minutes a session started from the API takes.
    pub run_minutes: i64,
    /// Whether jobs keep running on their schedules after start (history is made either way).
    pub schedules: bool,
    /// Faults from the start.
    pub faults: Faults,
    /// How far behind the real clock the simulated one starts, so a test can
    /// move it forward without reaching the future (the console refuses
    /// sessions dated ahead of its own clock).
    pub behind: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            api_version: "1.3-rev2".into(),
            jobs: 20,
            history_days: 14,
            seed: 1,
            username: "administrator".into(),
            password: "simulator".into(),
            speed: 1.0,
            token_lifetime: 900,
            run_minutes: 2,
            schedules: true,
            faults: Faults::default(),
            behind: Duration::zero(),
        }
    }
}

/// Injected faults.
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before every answer, in milliseconds.
    pub latency_ms: u64,
    /// Answer this many of the next API calls with 500.
    pub fail_next: u32,
    /// Drop the connection on this many of the next API calls.
    pub drop_next: u32,
    /// Tokens issued from now on expire after this many seconds (while their `expires_in` still says the full lifetime).
    pub token_expires_after: Option<i64>,
    /// Revoke every token issued so far (once; reads back as false).
    pub revoke_tokens: bool,
    /// Ignore `limit` and answer pages of 250 items.
    pub oversized_pages: bool,
    /// Report job states and workloads a client cannot know (`Postponed`, `Mainframe`).
    pub unknown_enum_values: bool,
}

struct SimJob {
    id: String,
    name: String,
    description: String,
    disabled: bool,
    repository: usize,
    objects: i64,
    minute_of_day: u32,
    next_run: DateTime<Utc>,
}

struct SimSession {
    id: String,
    job: usize,
    created: DateTime<Utc>,
    planned_end: DateTime<Utc>,
    result: &'static str,
    message: String,
    bytes: i64,
    usn: i64,
    stopped_at: Option<DateTime<Utc>>,
    initiated_by: &'static str,
    retry_of: Option<String>,
}

struct SimRepo {
    id: String,
    name: String,
    kind: &'static str,
    path: String,
    capacity_gb: f64,
    used_at_start_gb: f64,
    growth_gb_per_day: f64,
}

struct TokenInfo {
    expires: DateTime<Utc>,
    revoked: bool,
}

struct Sim {
    config: SimConfig,
    zone: FixedOffset,
    started_real: Instant,
    started_sim: DateTime<Utc>,
    offset: Duration,
    jobs: Vec<SimJob>,
    sessions: Vec<SimSession>,
    by_id: HashMap<String, usize>,
    /// Indexes into `sessions` per job, oldest first.
    by_job: Vec<Vec<usize>>,
    repos: Vec<SimRepo>,
    tokens: HashMap<String, TokenInfo>,
    refresh_tokens: HashMap<String, DateTime<Utc>>,
    faults: Faults,
    usn: i64,
    rng: StdRng,
    password_grants: u64,
    refresh_grants: u64,
}

fn uuid(rng: &mut StdRng) -> String {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid().to_string()
}

fn secret(rng: &mut StdRng) -> String {
    (0..40).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

/// Veeam's timestamp: seven fractional digits and the server's offset.
fn stamp(t: DateTime<Utc>, zone: FixedOffset) -> String {
    let local = t.with_timezone(&zone);
    format!("{}.{:07}{}", local.format("%Y-%m-%dT%H:%M:%S"), local.nanosecond() / 100, local.format("%:z"))
}

impl Sim {
    fn new(config: SimConfig) -> Self {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let now = Utc::now() - config.behind;
        let zone = FixedOffset::east_opt(9 * 3600).unwrap_or(FixedOffset::east_opt(0).expect("UTC"));
        let kinds = ["WinLocal", "LinuxHardened", "Smb", "S3Compatible"];
        let repos = (0..4)
            .map(|i| {
                let capacity = [20_000.0, 50_000.0, 12_000.0, 100_000.0][i];
                SimRepo {
                    id: uuid(&mut rng),
                    name: ["Tokyo Repository", "Osaka Hardened", "NAS Archive", "S3 Offsite"][i].into(),
                    kind: kinds[i],
                    path: ["D:\\Backups", "/mnt/backup", "\\\\nas01\\veeam", "veeam-offsite"][i].into(),
                    capacity_gb: capacity,
                    used_at_start_gb: capacity
                        * if i == 2 { rng.random_range(0.86..0.88) } else { rng.random_range(0.45..0.8) },
                    growth_gb_per_day: capacity * if i == 2 { 0.0015 } else { rng.random_range(0.002..0.01) },
                }
            })
            .collect();
        let history_start = now - Duration::days(i64::from(config.history_days));
        let prefixes = ["FS", "SQL", "Exchange", "VM", "Web", "AD", "ERP", "File"];
        let sites = ["Tokyo", "Osaka", "Nagoya", "Fukuoka", "Sapporo"];
        let jobs = (0..config.jobs)
            .map(|i| {
                let minute_of_day = rng.random_range(0..24 * 60);
                SimJob {
                    id: uuid(&mut rng),
                    // The seed is part of the name, so simulators with different
                    // seeds can feed one console without name clashes.
                    name: format!(
                        "{} {} Backup {:02}-{:04}",
                        sites[i % sites.len()],
                        prefixes[i % prefixes.len()],
                        config.seed % 100,
                        i + 1
                    ),
                    description: format!("Simulated job {}", i + 1),
                    disabled: false,
                    repository: i % 4,
                    objects: rng.random_range(1..40),
                    minute_of_day,
                    next_run: next_occurrence(history_start, minute_of_day, zone),
                }
            })
            .collect();
        let faults = config.faults.clone();
        let mut sim = Self {
            config,
            zone,
            started_real: Instant::now(),
            started_sim: now,
            offset: Duration::zero(),
            jobs,
            sessions: Vec::new(),
            by_id: HashMap::new(),
            by_job: Vec::new(),
            repos,
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            faults,
            usn: 0,
            rng,
            password_grants: 0,
            refresh_grants: 0,
        };
        sim.materialise(now);
        // Every tenth job is busy right now (started by someone 10 minutes ago).
        for job in (0..sim.jobs.len()).step_by(10) {
            if sim.running_session(job, now).is_none() {
                sim.add_session(
                    job,
                    now - Duration::minutes(10),
                    Some(Duration::minutes(40)),
                    "administrator",
                    None,
                );
            }
        }
        sim.sessions.sort_by_key(|s| s.created);
        sim.reindex();
        sim
    }

    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started_real.elapsed().as_secs_f64() * self.config.speed;
        self.started_sim + Duration::milliseconds((elapsed * 1000.0) as i64) + self.offset
    }

    fn reindex(&mut self) {
        self.by_id = self.sessions.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        self.by_job = vec![Vec::new(); self.jobs.len()];
        for (i, s) in self.sessions.iter().enumerate() {
            self.by_job[s.job].push(i);
        }
    }

    fn add_session(
        &mut self,
        job: usize,
        created: DateTime<Utc>,
        length: Option<Duration>,
        initiated_by: &'static str,
        retry_of: Option<String>,
    ) -> usize {
        let roll: f64 = self.rng.random();
        let (result, message) = if roll < 0.86 {
            ("Success", String::new())
        } else if roll < 0.94 {
            ("Warning", "Changed block tracking cannot be enabled: one or more snapshots present.".to_owned())
        } else {
            (
                "Failed",
                "Error: The network path was not found. Failed to connect to the repository.".to_owned(),
            )
        };
        let length = length.unwrap_or_else(|| Duration::seconds(self.rng.random_range(300..5400)));
        self.usn += 1;
        let session = SimSession {
            id: uuid(&mut self.rng),
            job,
            created,
            planned_end: created + length,
            result,
            message,
            bytes: self.rng.random_range(1_i64 << 30..600_i64 << 30),
            usn: self.usn,
            stopped_at: None,
            initiated_by,
            retry_of,
        };
        self.by_id.insert(session.id.clone(), self.sessions.len());
        if self.by_job.len() < self.jobs.len() {
            self.by_job.resize(self.jobs.len(), Vec::new());
        }
        self.by_job[job].push(self.sessions.len());
        self.sessions.push(session);
        self.sessions.len() - 1
    }

    /// Creates the sessions schedules started up to `now`.
    fn materialise(&mut self, now: DateTime<Utc>) {
        if !self.config.schedules && now > self.started_sim {
            return;
        }
        let mut added = false;
        for job in 0..self.jobs.len() {
            while self.jobs[job].next_run <= now {
                let at = self.jobs[job].next_run;
                self.jobs[job].next_run =
                    next_occurrence(at + Duration::seconds(1), self.jobs[job].minute_of_day, self.zone);
                if !self.jobs[job].disabled && self.running_session(job, at).is_none() {
                    self.add_session(job, at, None, "SYSTEM", None);
                    added = true;
                }
            }
        }
        if added {
            self.sessions.sort_by_key(|s| s.created);
            self.reindex();
        }
    }

    fn session_end(&self, s: &SimSession) -> DateTime<Utc> {
        s.stopped_at.map_or(s.planned_end, |stop| stop.min(s.planned_end))
    }

    fn is_running(&self, s: &SimSession, now: DateTime<Utc>) -> bool {
        s.created <= now && now < self.session_end(s)
    }

    fn of_job(&self, job: usize) -> impl DoubleEndedIterator<Item = (usize, &SimSession)> {
        self.by_job.get(job).into_iter().flatten().map(|&i| (i, &self.sessions[i]))
    }

    fn running_session(&self, job: usize, now: DateTime<Utc>) -> Option<usize> {
        self.of_job(job).rev().find(|(_, s)| self.is_running(s, now)).map(|(i, _)| i)
    }

    fn last_session(&self, job: usize, now: DateTime<Utc>) -> Option<&SimSession> {
        self.of_job(job).rev().map(|(_, s)| s).find(|s| s.created <= now)
    }

    fn last_finished(&self, job: usize, now: DateTime<Utc>) -> Option<&SimSession> {
        self.of_job(job).rev().map(|(_, s)| s).find(|s| self.session_end(s) <= now)
    }
}

fn next_occurrence(after: DateTime<Utc>, minute_of_day: u32, zone: FixedOffset) -> DateTime<Utc> {
    let local = after.with_timezone(&zone);
    let midnight = zone
        .from_local_datetime(&local.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .unwrap_or(local);
    let candidate = midnight + Duration::minutes(i64::from(minute_of_day));
    let candidate = if candidate < local { candidate + Duration::days(1) } else { candidate };
    candidate.with_timezone(&Utc)
}

/// How a request asked to be answered.
#[derive(Clone, Copy)]
struct Rev {
    /// 1.3 fields (highPriority, progress, …).
    v13: bool,
    /// PascalCase `EJobStatus`/`EJobWorkload` (1.3-rev1 and later).
    pascal: bool,
}

impl Rev {
    fn of(version: &str) -> Self {
        let index = REVISIONS.iter().position(|r| *r == version).unwrap_or(0);
        Self { v13: version.starts_with("1.3"), pascal: index >= 6 }
    }

    fn spell(self, pascal: &str) -> String {
        if self.pascal {
            pascal.to_owned()
        } else {
            let mut chars = pascal.chars();
            chars.next().map(|c| c.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
        }
    }
}

type Shared = Arc<Mutex<Sim>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Sim> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The simulator, with the sessions its schedules started up to now created.
fn current(shared: &Shared) -> (std::sync::MutexGuard<'_, Sim>, DateTime<Utc>) {
    let mut sim = lock(shared);
    let now = sim.now();
    sim.materialise(now);
    (sim, now)
}

fn error(status: StatusCode, code: &str, message: &str, resource: Option<&str>) -> Response {
    let mut body =
        json!({"errorCode": code, "message": message, "title": message, "status": status.as_u16()});
    if let Some(id) = resource {
        body["resourceId"] = json!(id);
    }
    (status, Json(body)).into_response()
}

/// Checks `x-api-version` (on every call) and the bearer token (on all but
/// the token request and serverTime), applies faults, and passes the
/// revision on.
async fn gate(State(shared): State<Shared>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/sim/") {
        return next.run(request).await;
    }
    let version =
        request.headers().get("x-api-version").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (latency, fail, drop) = {
        let mut sim = lock(&shared);
        let served =
            REVISIONS.iter().position(|r| *r == sim.config.api_version).unwrap_or(REVISIONS.len() - 1);
        if !REVISIONS[..=served].contains(&version.as_str()) {
            let message = format!(
                "The HTTP resource that matches the request URI '{path}' does not support the API version '{version}'."
            );
            return error(StatusCode::BAD_REQUEST, "NotImplemented", &message, None);
        }
        let fail = sim.faults.fail_next > 0;
        if fail {
            sim.faults.fail_next -= 1;
        }
        let drop = !fail && sim.faults.drop_next > 0;
        if drop {
            sim.faults.drop_next -= 1;
        }
        (sim.faults.latency_ms, fail, drop)
    };
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    if drop {
        // Ends the connection without an answer (no panic message: resume_unwind skips the hook).
        std::panic::resume_unwind(Box::new("simulated dropped connection"));
    }
    if fail {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UnknownError",
            "Simulated internal server error.",
            None,
        );
    }
    let public = path == "/api/oauth2/token" || path == "/api/v1/serverTime";
    if !public {
        let token = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .unwrap_or("")
            .to_owned();
        let sim = lock(&shared);
        match sim.tokens.get(&token) {
            None => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "AccessDenied",
                    "Authorization has been denied for this request.",
                    None,
                );
            }
            Some(info) if info.revoked || info.expires <= Utc::now() => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "ExpiredToken",
                    "The access token has expired or been revoked.",
                    None,
                );
            }
            Some(_) => {}
        }
    }
    request.extensions_mut().insert(Rev::of(&version));
    next.run(request).await
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

async fn token(State(shared): State<Shared>, Form(form): Form<TokenForm>) -> Response {
    let mut sim = lock(&shared);
    let real_now = Utc::now();
    match form.grant_type.to_ascii_lowercase().as_str() {
        "password" => {
            if form.username.as_deref() != Some(sim.config.username.as_str())
                || form.password.as_deref() != Some(sim.config.password.as_str())
            {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "AccessDenied",
                    "Unable to perform authorization: The provided user credentials are invalid.",
                    None,
                );
            }
            sim.password_grants += 1;
        }
        "refresh_token" => {
            let presented = form.refresh_token.unwrap_or_default();
            match sim.refresh_tokens.remove(&presented) {
                Some(expires) if expires > real_now => sim.refresh_grants += 1,
                _ => {
                    return error(
                        StatusCode::UNAUTHORIZED,
                        "AccessDenied",
                        "The refresh token is invalid or has expired.",
                        None,
                    );
                }
            }
        }
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                "UnknownError",
                &format!("Unsupported grant type '{other}'."),
                None,
            );
        }
    }
    let lifetime = sim.config.token_lifetime;
    let actual = sim.faults.token_expires_after.unwrap_or(lifetime);
    let access = secret(&mut sim.rng);
    let refresh = secret(&mut sim.rng);
    sim.tokens
        .insert(access.clone(), TokenInfo { expires: real_now + Duration::seconds(actual), revoked: false });
    sim.refresh_tokens.insert(refresh.clone(), real_now + Duration::days(14));
    let zone = sim.zone;
    Json(json!({
        "access_token": access,
        "token_type": "bearer",
        "refresh_token": refresh,
        "expires_in": lifetime,
        ".issued": stamp(real_now, zone),
        ".expires": stamp(real_now + Duration::seconds(lifetime), zone),
    }))
    .into_response()
}

async fn logout(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .to_owned();
    lock(&shared).tokens.remove(&token);
    Json(json!({})).into_response()
}

async fn server_time(State(shared): State<Shared>, rev: axum::Extension<Rev>) -> Response {
    let sim = lock(&shared);
    let mut body =
        json!({"serverTime": stamp(sim.now(), sim.zone), "timeZone": "(UTC+09:00) Osaka, Sapporo, Tokyo"});
    if rev.v13 {
        body["ianaTimeZoneId"] = json!("Asia/Tokyo");
    }
    Json(body).into_response()
}

async fn server_info(State(shared): State<Shared>, rev: axum::Extension<Rev>) -> Response {
    let sim = lock(&shared);
    let build = if sim.config.api_version.starts_with("1.3") { "13.1.0.411" } else { "12.3.1.1139" };
    let mut body = json!({
        "vbrId": "4f9a8b2e-1c7d-4e55-9a6b-0d2c3e4f5a6b",
        "name": "vbr-sim.local",
        "buildVersion": build,
        "patches": [],
        "databaseVendor": "PostgreSql",
        "sqlServerEdition": "",
        "sqlServerVersion": "15.4",
        "databaseSchemaVersion": "1280",
        "databaseContentVersion": "120",
    });
    if rev.v13 {
        body["veeamRegistration"] = json!({"isRegistered": false});
        body["platform"] = json!("Windows");
    }
    Json(body).into_response()
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
    skip: Option<i64>,
    limit: Option<i64>,
    order_asc: Option<bool>,
    type_filter: Option<String>,
    created_after_filter: Option<String>,
    job_id_filter: Option<String>,
}

/// One page of `items` (serialised only for the page) in Veeam's envelope.
fn page<T>(sim: &Sim, items: Vec<T>, query: &PageQuery, to_json: impl Fn(T) -> Value) -> Value {
    let total = items.len() as i64;
    let skip = query.skip.unwrap_or(0).max(0);
    let limit = if sim.faults.oversized_pages { 250 } else { query.limit.unwrap_or(200).clamp(0, 1_000_000) };
    let data: Vec<Value> = items.into_iter().skip(skip as usize).take(limit as usize).map(to_json).collect();
    json!({"data": data, "pagination": {"total": total, "count": data.len(), "skip": skip, "limit": limit}})
}

fn job_state(sim: &Sim, index: usize, now: DateTime<Utc>, rev: Rev) -> Value {
    let job = &sim.jobs[index];
    let running = sim.running_session(index, now).map(|i| &sim.sessions[i]);
    let status = if sim.faults.unknown_enum_values {
        "Postponed"
    } else if job.disabled {
        "Disabled"
    } else if running.is_some() {
        "Running"
    } else {
        "Inactive"
    };
    let repo = &sim.repos[job.repository];
    let mut body = json!({
        "id": job.id,
        "name": job.name,
        "type": if rev.v13 { "VSphereBackup" } else { "Backup" },
        "description": job.description,
        "status": rev.spell(status),
        "lastResult": sim.last_finished(index, now).map_or("None", |s| if s.stopped_at.is_some_and(|t| t < s.planned_end) { "Failed" } else { s.result }),
        "workload": if sim.faults.unknown_enum_values { "Mainframe".to_owned() } else { rev.spell("Vm") },
        "repositoryId": repo.id,
        "repositoryName": repo.name,
        "objectsCount": job.objects,
    });
    if let Some(last) = sim.last_session(index, now) {
        body["lastRun"] = json!(stamp(last.created, sim.zone));
        body["sessionId"] = json!(last.id);
    }
    if !job.disabled {
        body["nextRun"] = json!(stamp(job.next_run, sim.zone));
    }
    if rev.v13 {
        body["highPriority"] = json!(false);
        body["progressPercent"] = json!(running.map_or(0, |s| progress(sim, s, now)));
        body["nextRunPolicy"] =
            json!(job.next_run.with_timezone(&sim.zone).format("%-m/%-d/%Y %-I:%M %p").to_string());
    }
    body
}

fn progress(sim: &Sim, s: &SimSession, now: DateTime<Utc>) -> i64 {
    let end = sim.session_end(s);
    if now >= end {
        return 100;
    }
    let total = (s.planned_end - s.created).num_seconds().max(1);
    ((now - s.created).num_seconds().max(0) * 100 / total).min(99)
}

fn session_json(sim: &Sim, s: &SimSession, now: DateTime<Utc>, rev: Rev) -> Value {
    let job = &sim.jobs[s.job];
    let end = sim.session_end(s);
    let finished = now >= end;
    let canceled = s.stopped_at.is_some_and(|t| t < s.planned_end) && finished;
    let state = if finished {
        "Stopped"
    } else if s.stopped_at.is_some() {
        "Stopping"
    } else if now < s.created + Duration::seconds(5) {
        "Starting"
    } else if now >= s.planned_end - (s.planned_end - s.created) / 10 {
        "Postprocessing"
    } else {
        "Working"
    };
    let done = progress(sim, s, now);
    let mut body = json!({
        "id": s.id,
        "name": job.name,
        "jobId": job.id,
        "sessionType": "BackupJob",
        "creationTime": stamp(s.created, sim.zone),
        "state": state,
        "progressPercent": done,
        "usn": s.usn,
        "platformName": "VMware",
        "platformId": NIL,
        "resourceId": job.id,
        "resourceReference": format!("/api/v1/jobs/{}", job.id),
    });
    body["result"] = if finished {
        let result = if canceled { "Failed" } else { s.result };
        let message = if canceled { "Job has been stopped by user.".to_owned() } else { s.message.clone() };
        json!({"result": result, "message": message, "isCanceled": canceled})
    } else {
        json!({"result": "None", "message": "", "isCanceled": false})
    };
    if finished {
        body["endTime"] = json!(stamp(end, sim.zone));
    }
    if rev.v13 {
        let elapsed = (end.min(now) - s.created).num_seconds().max(0);
        let processed = s.bytes * done / 100;
        body["initiatedBy"] = json!(s.initiated_by);
        body["algorithm"] = json!("Increment");
        body["progress"] = json!({
            "duration": format!("{:02}:{:02}:{:02}", elapsed / 3600, elapsed / 60 % 60, elapsed % 60),
            "processingRate": format!("{:.1} MB/s", processed as f64 / 1_048_576.0 / elapsed.max(1) as f64),
            "bottleneck": "Source",
            "processedSize": processed,
            "readSize": processed,
            "transferredSize": processed / 2,
            "progressPercent": done,
        });
        if let Some(original) = &s.retry_of {
            body["originalSessionId"] = json!(original);
            body["retryInfo"] = json!({"isRecheckRetry": false, "retryNumber": 1});
        }
    }
    body
}

async fn job_states(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (sim, now) = current(&shared);
    let items: Vec<usize> = (0..sim.jobs.len()).collect();
    Json(page(&sim, items, &query, |i| job_state(&sim, i, now, *rev))).into_response()
}

async fn sessions(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (sim, now) = current(&shared);
    let after = match query.created_after_filter.as_deref().map(app::ssr::veeam::wire::parse_time) {
        Some(None) => {
            return error(
                StatusCode::BAD_REQUEST,
                "UnknownError",
                "createdAfterFilter is not a valid date and time.",
                None,
            );
        }
        Some(Some(t)) => Some(t),
        None => None,
    };
    if query.type_filter.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("BackupJob")) {
        return Json(page(&sim, Vec::<usize>::new(), &query, |_| Value::Null)).into_response();
    }
    let job_filter = query.job_id_filter.as_deref().map(str::to_ascii_lowercase);
    let selected = sim.sessions.iter().filter(|s| {
        s.created <= now
            && after.is_none_or(|a| s.created > a)
            && job_filter.as_deref().is_none_or(|j| sim.jobs[s.job].id == j)
    });
    let mut items: Vec<&SimSession> = selected.collect();
    if !query.order_asc.unwrap_or(false) {
        items.reverse();
    }
    Json(page(&sim, items, &query, |s| session_json(&sim, s, now, *rev))).into_response()
}

async fn session(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Path(id): Path<String>,
) -> Response {
    let (sim, now) = current(&shared);
    match sim.by_id.get(&id.to_ascii_lowercase()).map(|i| &sim.sessions[*i]) {
        Some(s) if s.created <= now => Json(session_json(&sim, s, now, *rev)).into_response(),
        _ => error(StatusCode::NOT_FOUND, "NotFound", "Resource does not exist", Some(&id)),
    }
}

async fn repositories(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let sim = lock(&shared);
    let days = (sim.now() - sim.started_sim).num_seconds() as f64 / 86_400.0;
    let items: Vec<&SimRepo> = sim.repos.iter().collect();
    let body = page(&sim, items, &query, |r| {
        let used = (r.used_at_start_gb + r.growth_gb_per_day * days).clamp(0.0, r.capacity_gb);
        let mut body = json!({
            "id": r.id,
            "name": r.name,
            "type": r.kind,
            "description": format!("{} ({})", r.name, r.kind),
            "hostName": "vbr-sim.local",
            "path": r.path,
            "capacityGB": (r.capacity_gb * 10.0).round() / 10.0,
            "freeGB": ((r.capacity_gb - used) * 10.0).round() / 10.0,
            "usedSpaceGB": (used * 10.0).round() / 10.0,
            "isOnline": true,
        });
        if rev.v13 {
            body["isOutOfDate"] = json!(false);
        }
        body
    });
    Json(body).into_response()
}

async fn job_action(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Path((id, action)): Path<(String, String)>,
    body: Option<Json<Value>>,
) -> Response {
    let (mut sim, now) = current(&shared);
    let Some(job) = sim.jobs.iter().position(|j| j.id.eq_ignore_ascii_case(&id)) else {
        return error(StatusCode::NOT_FOUND, "NotFound", "Resource does not exist", Some(&id));
    };
    let running = sim.running_session(job, now);
    match action.as_str() {
        "start" | "retry" => {
            if action == "retry" && !rev.v13 {
                return error(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "The requested resource does not exist.",
                    None,
                );
            }
            if action == "start" && body.as_ref().and_then(|b| b.get("performActiveFull")).is_none() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "UnknownError",
                    "The performActiveFull field is required.",
                    None,
                );
            }
            if sim.jobs[job].disabled {
                return error(StatusCode::BAD_REQUEST, "UnknownError", "Job is disabled.", Some(&id));
            }
            if running.is_some() {
                return error(StatusCode::BAD_REQUEST, "UnknownError", "Job is already running.", Some(&id));
            }
            let retry_of =
                if action == "retry" { sim.last_finished(job, now).map(|s| s.id.clone()) } else { None };
            let minutes = sim.config.run_minutes.max(1);
            let index =
                sim.add_session(job, now, Some(Duration::minutes(minutes)), "administrator", retry_of);
            let body = session_json(&sim, &sim.sessions[index], now, *rev);
            (StatusCode::CREATED, Json(body)).into_response()
        }
        "stop" => {
            if body.as_ref().and_then(|b| b.get("gracefulStop")).is_none() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "UnknownError",
                    "The gracefulStop field is required.",
                    None,
                );
            }
            let Some(index) = running else {
                return error(StatusCode::BAD_REQUEST, "UnknownError", "Job is not running.", Some(&id));
            };
            sim.usn += 1;
            let usn = sim.usn;
            let session = &mut sim.sessions[index];
            session.stopped_at = Some(now + Duration::seconds(5));
            session.usn = usn;
            let body = session_json(&sim, &sim.sessions[index], now, *rev);
            (StatusCode::CREATED, Json(body)).into_response()
        }
        "enable" | "disable" => {
            sim.jobs[job].disabled = action == "disable";
            if rev.v13 { StatusCode::NO_CONTENT.into_response() } else { Json(json!({})).into_response() }
        }
        _ => error(StatusCode::NOT_FOUND, "NotFound", "The requested resource does not exist.", None),
    }
}

async fn set_faults(State(shared): State<Shared>, Json(faults): Json<Faults>) -> Response {
    let mut sim = lock(&shared);
    if faults.revoke_tokens {
        for token in sim.tokens.values_mut() {
            token.revoked = true;
        }
        sim.refresh_tokens.clear();
    }
    sim.faults = Faults { revoke_tokens: false, ..faults };
    Json(json!(sim.faults)).into_response()
}

#[derive(Deserialize)]
struct Advance {
    seconds: i64,
}

async fn advance(State(shared): State<Shared>, Json(by): Json<Advance>) -> Response {
    let mut sim = lock(&shared);
    sim.offset += Duration::seconds(by.seconds);
    let now = sim.now();
    sim.materialise(now);
    Json(json!({"now": stamp(now, sim.zone)})).into_response()
}

async fn stats(State(shared): State<Shared>) -> Response {
    let (sim, now) = current(&shared);
    let visible: Vec<&SimSession> = sim.sessions.iter().filter(|s| s.created <= now).collect();
    let running = visible.iter().filter(|s| sim.is_running(s, now)).count();
    Json(json!({
        "now": stamp(now, sim.zone),
        "jobs": sim.jobs.len(),
        "sessions": visible.len(),
        "running": running,
        "api_version": sim.config.api_version,
        "password_grants": sim.password_grants,
        "refresh_grants": sim.refresh_grants,
    }))
    .into_response()
}

async fn jobs(State(shared): State<Shared>) -> Response {
    let (sim, now) = current(&shared);
    let jobs: Vec<Value> = (0..sim.jobs.len())
        .map(|i| json!({"id": sim.jobs[i].id, "name": sim.jobs[i].name, "running": sim.running_session(i, now).is_some()}))
        .collect();
    Json(json!(jobs)).into_response()
}

/// The simulator's routes on `state`.
fn router(shared: Shared) -> Router {
    Router::new()
        .route("/api/oauth2/token", post(token))
        .route("/api/oauth2/logout", post(logout))
        .route("/api/v1/serverTime", get(server_time))
        .route("/api/v1/serverInfo", get(server_info))
        .route("/api/v1/jobs/states", get(job_states))
        .route("/api/v1/jobs/{id}/{action}", post(job_action))
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/sessions/{id}", get(session))
        .route("/api/v1/backupInfrastructure/repositories/states", get(repositories))
        .route("/sim/faults", post(set_faults))
        .route("/sim/advance", post(advance))
        .route("/sim/stats", get(stats))
        .route("/sim/jobs", get(jobs))
        .fallback(|| async {
            error(StatusCode::NOT_FOUND, "NotFound", "The requested resource does not exist.", None)
        })
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .layer(axum::middleware::map_response(|mut response: Response| async move {
            let headers = response.headers_mut();
            headers.insert("strict-transport-security", http::HeaderValue::from_static("max-age=31536000"));
            headers.insert("x-frame-options", http::HeaderValue::from_static("DENY"));
            headers.insert("x-content-type-options", http::HeaderValue::from_static("nosniff"));
            response
        }))
        .with_state(shared)
}

/// A running simulator.
pub struct Simulator {
    /// Where it listens.
    pub address: SocketAddr,
    /// `https://…/` or `http://…/`.
    pub base_url: String,
    /// Its certificate (self-signed), PEM; `None` on plain HTTP.
    pub certificate_pem: Option<String>,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Simulator {
    /// Starts a simulator on `listener`, over HTTPS unless `plain_http`.
    pub async fn start(config: SimConfig, listener: TcpListener, plain_http: bool) -> anyhow::Result<Self> {
        let address = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Sim::new(config)));
        let app = router(shared.clone());
        if plain_http {
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            return Ok(Self {
                address,
                base_url: format!("http://{address}/"),
                certificate_pem: None,
                shared,
                task,
            });
        }
        let mut names = vec!["localhost".to_owned(), address.ip().to_string()];
        names.dedup();
        let certified = rcgen::generate_simple_self_signed(names)?;
        let pem = certified.cert.pem();
        let key =
            tokio_rustls::rustls::pki_types::PrivateKeyDer::try_from(certified.key_pair.serialize_der())
                .map_err(|e| anyhow::anyhow!("private key: {e}"))?;
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut tls = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)?;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(stream).await else { return };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ =
                        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                            .await;
                });
            }
        });
        Ok(Self {
            address,
            base_url: format!("https://{address}/"),
            certificate_pem: Some(pem),
            shared,
            task,
        })
    }

    /// Sets faults (as `POST /sim/faults` does).
    pub fn set_faults(&self, faults: Faults) {
        let mut sim = lock(&self.shared);
        if faults.revoke_tokens {
            for token in sim.tokens.values_mut() {
                token.revoked = true;
            }
            sim.refresh_tokens.clear();
        }
        sim.faults = Faults { revoke_tokens: false, ..faults };
    }

    /// Moves the clock on.
    pub fn advance(&self, by: Duration) {
        let mut sim = lock(&self.shared);
        sim.offset += by;
        let now = sim.now();
        sim.materialise(now);
    }

    /// Sessions visible now (created up to the simulator's now): (id, finished).
    pub fn sessions(&self) -> Vec<(String, bool)> {
        let mut sim = lock(&self.shared);
        let now = sim.now();
        sim.materialise(now);
        sim.sessions
            .iter()
            .filter(|s| s.created <= now)
            .map(|s| (s.id.clone(), !sim.is_running(s, now)))
            .collect()
    }

    /// Password and refresh grants answered so far.
    pub fn grants(&self) -> (u64, u64) {
        let sim = lock(&self.shared);
        (sim.password_grants, sim.refresh_grants)
    }

    /// A job with no session running now: (id, name).
    pub fn idle_job(&self) -> Option<(String, String)> {
        let (sim, now) = current(&self.shared);
        (0..sim.jobs.len())
            .find(|&i| sim.running_session(i, now).is_none() && !sim.jobs[i].disabled)
            .map(|i| (sim.jobs[i].id.clone(), sim.jobs[i].name.clone()))
    }

    /// Job ids and names.
    pub fn jobs(&self) -> Vec<(String, String)> {
        lock(&self.shared).jobs.iter().map(|j| (j.id.clone(), j.name.clone())).collect()
    }

    /// Waits until the task ends (never, unless aborted).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}
