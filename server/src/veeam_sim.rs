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
    /// Protected machines per job; each successful or warning run makes one
    /// restore point per machine at its end.
    pub machines_per_job: usize,
    /// Mix schedule kinds by job index (weekdays, every 4 hours, after the
    /// previous job, monthly); all jobs run daily when false.
    pub schedule_kinds: bool,
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
            machines_per_job: 3,
            schedule_kinds: false,
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
    /// Job ids whose schedule is switched off (no nextRun, no new sessions).
    pub unscheduled_jobs: Vec<String>,
    /// Job ids whose scheduled runs silently do not happen (schedule and nextRun unchanged).
    pub skipped_jobs: Vec<String>,
    /// Machine names that get no new restore points from now on.
    pub stale_machines: Vec<String>,
    /// Machine names whose newest restore point gets a malware detection
    /// event (`Infected`); taking a name out marks its event a false positive.
    pub malware_machines: Vec<String>,
    /// The last successful configuration backup is this many days old.
    pub config_backup_age_days: Option<i64>,
    /// Configuration backup switched off.
    pub config_backup_disabled: bool,
    /// The license expires in this many days (negative: expired).
    pub license_expires_in_days: Option<i64>,
    /// `GET /license` answers 403, as for a Backup Viewer account.
    pub license_forbidden: bool,
}

fn listed(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v.eq_ignore_ascii_case(value))
}

/// How a job is scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schedule {
    /// Every day at `minute_of_day`.
    Daily,
    /// Monday to Friday at `minute_of_day`.
    WeekDays,
    /// Every `hours` hours from midnight, at `minute_of_day % 60` past the hour.
    Periodic { hours: u32 },
    /// When the job with this index finishes.
    After(usize),
    /// On this day of every month at `minute_of_day`.
    Monthly { day: u32 },
}

struct MalwareEvent {
    id: String,
    machine: String,
    object_id: String,
    point_id: String,
    detected: DateTime<Utc>,
    resolved: bool,
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
    schedule: Schedule,
    /// Length of its scheduled runs when another job runs after it.
    typical: Option<Duration>,
    machines: Vec<String>,
    machine_ids: Vec<String>,
    backup_id: String,
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
    history_start: DateTime<Utc>,
    /// Backup object id → (job, machine).
    objects: HashMap<String, (usize, usize)>,
    /// Machine name → (job, machine).
    machine_index: HashMap<String, (usize, usize)>,
    stale_since: HashMap<String, DateTime<Utc>>,
    malware: Vec<MalwareEvent>,
    /// Sessions that make restore points, by end (built when first needed).
    points: Option<PointIndex>,
}

/// (usn, session count) it was built for, and (end, session index) of every
/// session that makes restore points, by end.
/// With running totals of restore points (all machines) before each entry.
type PointIndex = (i64, usize, Vec<(DateTime<Utc>, u32)>, Vec<u64>);

/// A deterministic UUID from `parts`.
fn derived_uuid(parts: &[&str]) -> String {
    use std::hash::{Hash, Hasher};
    let mut bytes = [0u8; 16];
    for (half, salt) in [(0usize, 0x5eed_u64), (8, 0xbeef)] {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut hasher);
        parts.hash(&mut hasher);
        bytes[half..half + 8].copy_from_slice(&hasher.finish().to_le_bytes());
    }
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
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
        let kinds = config.schedule_kinds;
        let per_job = config.machines_per_job;
        let mut jobs: Vec<SimJob> = (0..config.jobs)
            .map(|i| {
                let minute_of_day = rng.random_range(0..24 * 60);
                let schedule = match i % 10 {
                    _ if !kinds => Schedule::Daily,
                    3 => Schedule::WeekDays,
                    7 => Schedule::Periodic { hours: 4 },
                    8 => Schedule::After(i - 1),
                    9 => Schedule::Monthly { day: 1 + (i as u32 / 10) % 28 },
                    _ => Schedule::Daily,
                };
                let id = uuid(&mut rng);
                let machines: Vec<String> = (0..per_job)
                    .map(|m| {
                        format!(
                            "{}-{}-{:04}-{:02}",
                            sites[i % sites.len()].to_ascii_lowercase(),
                            prefixes[i % prefixes.len()].to_ascii_lowercase(),
                            i + 1,
                            m + 1
                        )
                    })
                    .collect();
                let machine_ids =
                    (0..per_job).map(|m| derived_uuid(&[&id, "object", &m.to_string()])).collect();
                SimJob {
                    backup_id: derived_uuid(&[&id, "backup"]),
                    schedule,
                    typical: None,
                    machines,
                    machine_ids,
                    id,
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
                    next_run: next_run_of(schedule, history_start, minute_of_day, zone),
                }
            })
            .collect();
        for i in 0..jobs.len() {
            if let Schedule::After(before) = jobs[i].schedule {
                jobs[before].typical = Some(Duration::minutes(30 + (i as i64 % 4) * 10));
            }
        }
        let mut objects = HashMap::new();
        let mut machine_index = HashMap::new();
        for (j, job) in jobs.iter().enumerate() {
            for m in 0..job.machines.len() {
                objects.insert(job.machine_ids[m].clone(), (j, m));
                machine_index.insert(job.machines[m].clone(), (j, m));
            }
        }
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
            history_start,
            objects,
            machine_index,
            stale_since: HashMap::new(),
            malware: Vec::new(),
            points: None,
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
        sim.apply_faults(now);
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
                let (schedule, minute) = (self.jobs[job].schedule, self.jobs[job].minute_of_day);
                self.jobs[job].next_run = next_run_of(schedule, at + Duration::seconds(1), minute, self.zone);
                if self.runs_on_schedule(job) && self.running_session(job, at).is_none() {
                    let index = self.add_session(job, at, self.jobs[job].typical, "SYSTEM", None);
                    added = true;
                    let end = self.sessions[index].planned_end;
                    let follower = job + 1;
                    if self.jobs.get(follower).is_some_and(|f| f.schedule == Schedule::After(job))
                        && self.runs_on_schedule(follower)
                        && self.running_session(follower, end).is_none()
                    {
                        self.add_session(follower, end, None, "SYSTEM", None);
                    }
                }
            }
        }
        if added {
            self.sessions.sort_by_key(|s| s.created);
            self.reindex();
        }
    }

    /// Whether a scheduled run of `job` happens (not disabled, unscheduled or skipped).
    fn runs_on_schedule(&self, job: usize) -> bool {
        let j = &self.jobs[job];
        !j.disabled
            && !listed(&self.faults.unscheduled_jobs, &j.id)
            && !listed(&self.faults.skipped_jobs, &j.id)
    }

    fn unscheduled(&self, job: usize) -> bool {
        listed(&self.faults.unscheduled_jobs, &self.jobs[job].id)
    }

    /// The next scheduled run as `jobs/states` reports it.
    fn next_run(&self, job: usize) -> Option<DateTime<Utc>> {
        let j = &self.jobs[job];
        if j.disabled || self.unscheduled(job) {
            return None;
        }
        match j.schedule {
            Schedule::After(before) => {
                let b = &self.jobs[before];
                if b.disabled || self.unscheduled(before) {
                    None
                } else {
                    Some(b.next_run + b.typical.unwrap_or_else(|| Duration::minutes(30)))
                }
            }
            _ => Some(j.next_run),
        }
    }

    /// Takes new faults in: machines going stale, malware raised or cleared.
    fn apply_faults(&mut self, now: DateTime<Utc>) {
        let stale = self.faults.stale_machines.clone();
        self.stale_since.retain(|name, _| listed(&stale, name));
        for name in stale {
            self.stale_since.entry(name.to_ascii_lowercase()).or_insert(now);
        }
        let infected = self.faults.malware_machines.clone();
        for event in &mut self.malware {
            if !listed(&infected, &event.machine) {
                event.resolved = true;
            }
        }
        for name in infected {
            let name = name.to_ascii_lowercase();
            if self.malware.iter().any(|e| !e.resolved && e.machine == name) {
                continue;
            }
            let Some(&(job, m)) = self.machine_index.get(&name) else { continue };
            let newest = self
                .of_job(job)
                .filter_map(|(_, s)| self.point_time(s, now).map(|t| (t, s)))
                .filter(|(t, _)| self.keeps(job, m, *t))
                .max_by_key(|(t, _)| *t)
                .map(|(_, s)| s.id.clone());
            let Some(session) = newest else { continue };
            let point_id = derived_uuid(&[&session, &m.to_string()]);
            self.malware.push(MalwareEvent {
                id: derived_uuid(&["malware", &point_id, &self.malware.len().to_string()]),
                machine: name,
                object_id: self.jobs[job].machine_ids[m].clone(),
                point_id,
                detected: now,
                resolved: false,
            });
        }
    }

    /// When `s` made its restore points, if it made any by `now`.
    fn point_time(&self, s: &SimSession, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let end = self.session_end(s);
        let canceled = s.stopped_at.is_some_and(|t| t < s.planned_end);
        (end <= now && !canceled && matches!(s.result, "Success" | "Warning")).then_some(end)
    }

    /// Whether machine `m` of `job` got a restore point at `at` (not stale by then).
    fn keeps(&self, job: usize, m: usize, at: DateTime<Utc>) -> bool {
        self.stale_since.is_empty()
            || self.stale_since.get(&self.jobs[job].machines[m]).is_none_or(|since| at <= *since)
    }

    /// Machines of `s`'s job with a restore point from it.
    fn point_machines(&self, s: &SimSession, at: DateTime<Utc>) -> usize {
        let count = self.jobs[s.job].machines.len();
        if self.stale_since.is_empty() {
            count
        } else {
            (0..count).filter(|&m| self.keeps(s.job, m, at)).count()
        }
    }

    /// Sessions that make restore points, by end time (built again when sessions change).
    fn ensure_points(&mut self) {
        if self
            .points
            .as_ref()
            .is_some_and(|(usn, len, _, _)| *usn == self.usn && *len == self.sessions.len())
        {
            return;
        }
        let mut list: Vec<(DateTime<Utc>, u32)> = self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.point_time(s, DateTime::<Utc>::MAX_UTC).map(|t| (t, i as u32)))
            .collect();
        list.sort_unstable();
        let mut before = Vec::with_capacity(list.len() + 1);
        let mut sum = 0u64;
        before.push(0);
        for &(_, i) in &list {
            sum += self.jobs[self.sessions[i as usize].job].machines.len() as u64;
            before.push(sum);
        }
        self.points = Some((self.usn, self.sessions.len(), list, before));
    }

    fn point_json(&self, s: &SimSession, m: usize, at: DateTime<Utc>, rev: Rev) -> Value {
        let job = &self.jobs[s.job];
        let id = derived_uuid(&[&s.id, &m.to_string()]);
        let infected = self.malware.iter().any(|e| !e.resolved && e.point_id == id);
        let mut body = json!({
            "id": id,
            "name": job.machines[m],
            "platformName": "VMware",
            "platformId": NIL,
            "creationTime": stamp(at, self.zone),
            "backupId": job.backup_id,
            "type": "Increment",
            "sessionId": s.id,
            "allowedOperations": ["StartViVMInstantRecovery", "StartEntireVmRestore", "StartFlrRestore"],
            "malwareStatus": if infected { "Infected" } else { "Clean" },
        });
        if rev.v13 {
            body["guestOsFamily"] = json!("Windows");
        }
        body
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

/// The first run of `schedule` at or after `after` (never for `After`, which follows its job).
fn next_run_of(
    schedule: Schedule,
    after: DateTime<Utc>,
    minute_of_day: u32,
    zone: FixedOffset,
) -> DateTime<Utc> {
    use chrono::{Datelike, Weekday};
    match schedule {
        Schedule::Daily => next_occurrence(after, minute_of_day, zone),
        Schedule::WeekDays => {
            let mut from = after;
            loop {
                let at = next_occurrence(from, minute_of_day, zone);
                if !matches!(at.with_timezone(&zone).weekday(), Weekday::Sat | Weekday::Sun) {
                    return at;
                }
                from = at + Duration::seconds(1);
            }
        }
        Schedule::Monthly { day } => {
            let mut from = after;
            for _ in 0..64 {
                let at = next_occurrence(from, minute_of_day, zone);
                if at.with_timezone(&zone).day() == day {
                    return at;
                }
                from = at + Duration::seconds(1);
            }
            next_occurrence(after, minute_of_day, zone)
        }
        Schedule::Periodic { hours } => {
            let step = i64::from(hours.max(1)) * 60;
            let first = i64::from(minute_of_day % 60);
            let local = after.with_timezone(&zone);
            let midnight = zone
                .from_local_datetime(&local.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default())
                .single()
                .unwrap_or(local);
            let mut at = midnight + Duration::minutes(first);
            while at < local {
                at += Duration::minutes(step);
            }
            at.with_timezone(&Utc)
        }
        Schedule::After(_) => DateTime::<Utc>::MAX_UTC,
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
    /// `/malwareDetection/events` (1.1-rev1, VBR 12.1, and later).
    malware: bool,
}

impl Rev {
    fn of(version: &str) -> Self {
        let index = REVISIONS.iter().position(|r| *r == version).unwrap_or(0);
        Self { v13: version.starts_with("1.3"), pascal: index >= 6, malware: index >= 1 }
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
    backup_id_filter: Option<String>,
    detected_after_time_utc_filter: Option<String>,
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
    let next_run = sim.next_run(index);
    if let Some(next) = next_run {
        body["nextRun"] = json!(stamp(next, sim.zone));
    }
    if rev.v13 {
        body["highPriority"] = json!(false);
        body["progressPercent"] = json!(running.map_or(0, |s| progress(sim, s, now)));
        let policy = if sim.unscheduled(index) {
            "<Not scheduled>".to_owned()
        } else if let Schedule::After(before) = job.schedule {
            format!("After job: {}", sim.jobs[before].name)
        } else {
            job.next_run.with_timezone(&sim.zone).format("%-m/%-d/%Y %-I:%M %p").to_string()
        };
        body["nextRunPolicy"] = json!(policy);
        if let Schedule::After(before) = job.schedule {
            body["runAfterJob"] = json!({"jobId": sim.jobs[before].id, "jobName": sim.jobs[before].name});
        }
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
    let now = sim.now();
    sim.materialise(now);
    sim.apply_faults(now);
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
    let (mut sim, now) = current(&shared);
    let visible: Vec<&SimSession> = sim.sessions.iter().filter(|s| s.created <= now).collect();
    let running = visible.iter().filter(|s| sim.is_running(s, now)).count();
    Json(json!({
        "now": stamp(now, sim.zone),
        "jobs": sim.jobs.len(),
        "sessions": visible.len(),
        "running": running,
        "api_version": sim.config.api_version,
        "restore_points": restore_point_count(&mut sim, now),
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

fn restore_point_count(sim: &mut Sim, now: DateTime<Utc>) -> usize {
    sim.ensure_points();
    let Some((_, _, list, _)) = &sim.points else { return 0 };
    let visible = &list[..list.partition_point(|(t, _)| *t <= now)];
    visible.iter().map(|&(t, i)| sim.point_machines(&sim.sessions[i as usize], t)).sum()
}

fn parse_filter(value: Option<&str>, name: &str) -> Result<Option<DateTime<Utc>>, Box<Response>> {
    match value.map(app::ssr::veeam::wire::parse_time) {
        Some(None) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "UnknownError",
            &format!("{name} is not a valid date and time."),
            None,
        ))),
        Some(Some(t)) => Ok(Some(t)),
        None => Ok(None),
    }
}

fn page_limit(sim: &Sim, query: &PageQuery) -> (i64, i64) {
    let skip = query.skip.unwrap_or(0).max(0);
    let limit = if sim.faults.oversized_pages { 250 } else { query.limit.unwrap_or(200).clamp(0, 1_000_000) };
    (skip, limit)
}

fn schedule_json(sim: &Sim, index: usize, rev: Rev) -> Value {
    let job = &sim.jobs[index];
    let off = sim.unscheduled(index);
    let kind = job.schedule;
    let week = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let days: Vec<String> =
        week.iter().take(if kind == Schedule::WeekDays { 5 } else { 7 }).map(|d| rev.spell(d)).collect();
    let local_time = format!("{:02}:{:02}", job.minute_of_day / 60, job.minute_of_day % 60);
    let months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut monthly = json!({
        "isEnabled": !off && matches!(kind, Schedule::Monthly { .. }),
        "localTime": local_time,
        "dayOfWeek": rev.spell("Monday"),
        "dayNumberInMonth": "OnDay",
        "dayOfMonth": if let Schedule::Monthly { day } = kind { day } else { 1 },
        "months": months,
    });
    if rev.v13 {
        monthly["isLastDayOfMonth"] = json!(false);
    }
    let mut after = json!({"isEnabled": !off && matches!(kind, Schedule::After(_))});
    if let Schedule::After(before) = kind {
        after["jobName"] = json!(sim.jobs[before].name);
    }
    json!({
        "runAutomatically": !off,
        "daily": {
            "isEnabled": !off && matches!(kind, Schedule::Daily | Schedule::WeekDays),
            "localTime": local_time,
            "dailyKind": if kind == Schedule::WeekDays { "WeekDays" } else { "Everyday" },
            "days": days,
        },
        "monthly": monthly,
        "periodically": {
            "isEnabled": !off && matches!(kind, Schedule::Periodic { .. }),
            "periodicallyKind": "Hours",
            "frequency": if let Schedule::Periodic { hours } = kind { hours } else { 1 },
            "startTimeWithinAnHour": job.minute_of_day % 60,
        },
        "continuously": {"isEnabled": false},
        "afterThisJob": after,
        "retry": {"isEnabled": true, "retryCount": 3, "awaitMinutes": 10},
        "backupWindow": {"isEnabled": false},
    })
}

fn job_json(sim: &Sim, index: usize, rev: Rev) -> Value {
    let job = &sim.jobs[index];
    let repo = &sim.repos[job.repository];
    let includes: Vec<Value> = job
        .machines
        .iter()
        .enumerate()
        .map(|(m, name)| {
            json!({
                "platform": if rev.v13 { "VSphere" } else { "VMware" },
                "hostName": "vcenter01.sim.local",
                "name": name,
                "type": "VirtualMachine",
                "objectId": format!("vm-{}", 1000 + index * job.machines.len() + m),
            })
        })
        .collect();
    json!({
        "id": job.id,
        "name": job.name,
        "type": if rev.v13 { "VSphereBackup" } else { "Backup" },
        "isDisabled": job.disabled,
        "description": job.description,
        "isHighPriority": false,
        "virtualMachines": {"includes": includes},
        "storage": {
            "backupRepositoryId": repo.id,
            "backupProxies": {"autoSelectEnabled": true},
            "retentionPolicy": {"type": "RestorePoints", "quantity": 14},
        },
        "guestProcessing": {"appAwareProcessing": {"isEnabled": false}, "guestFSIndexing": {"isEnabled": false}},
        "schedule": schedule_json(sim, index, rev),
    })
}

async fn jobs_list(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (sim, _) = current(&shared);
    let items: Vec<usize> = (0..sim.jobs.len()).collect();
    Json(page(&sim, items, &query, |i| job_json(&sim, i, *rev))).into_response()
}

async fn job_by_id(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Path(id): Path<String>,
) -> Response {
    let (sim, _) = current(&shared);
    match sim.jobs.iter().position(|j| j.id.eq_ignore_ascii_case(&id)) {
        Some(index) => Json(job_json(&sim, index, *rev)).into_response(),
        None => error(StatusCode::NOT_FOUND, "NotFound", "Resource does not exist", Some(&id)),
    }
}

async fn backups(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (sim, _) = current(&shared);
    let filter = query.job_id_filter.as_deref();
    let items: Vec<&SimJob> =
        sim.jobs.iter().filter(|j| filter.is_none_or(|f| j.id.eq_ignore_ascii_case(f))).collect();
    let body = page(&sim, items, &query, |job| {
        let repo = &sim.repos[job.repository];
        let mut body = json!({
            "id": job.backup_id,
            "jobId": job.id,
            "name": job.name,
            "platformName": "VMware",
            "platformId": NIL,
            "creationTime": stamp(sim.history_start, sim.zone),
            "repositoryId": repo.id,
        });
        if rev.v13 {
            body["repositoryName"] = json!(repo.name);
            body["jobType"] = json!("VSphereBackup");
        }
        body
    });
    Json(body).into_response()
}

/// (creation time, session) of each restore point of machine `m` of `job` up to `now`, oldest first.
fn object_points(sim: &Sim, job: usize, m: usize, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, &SimSession)> {
    let mut points: Vec<(DateTime<Utc>, &SimSession)> = sim
        .of_job(job)
        .filter_map(|(_, s)| sim.point_time(s, now).map(|t| (t, s)))
        .filter(|(t, _)| sim.keeps(job, m, *t))
        .collect();
    points.sort_by_key(|(t, _)| *t);
    points
}

async fn backup_objects(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (sim, now) = current(&shared);
    let items: Vec<(usize, usize)> = sim
        .jobs
        .iter()
        .enumerate()
        .flat_map(|(j, job)| (0..job.machines.len()).map(move |m| (j, m)))
        .collect();
    let body = page(&sim, items, &query, |(j, m)| {
        let job = &sim.jobs[j];
        let mut body = json!({
            "id": job.machine_ids[m],
            "name": job.machines[m],
            "type": "VM",
            "platformName": "VMware",
            "platformId": NIL,
            "restorePointsCount": object_points(&sim, j, m, now).len(),
            "objectId": format!("vm-{}", 1000 + j * job.machines.len() + m),
        });
        if rev.v13 {
            body["backupId"] = json!(job.backup_id);
            body["lastRunFailed"] = json!(false);
        }
        body
    });
    Json(body).into_response()
}

async fn object_restore_points(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (sim, now) = current(&shared);
    let Some(&(job, m)) = sim.objects.get(&id.to_ascii_lowercase()) else {
        return error(StatusCode::NOT_FOUND, "NotFound", "Resource does not exist", Some(&id));
    };
    let mut points = object_points(&sim, job, m, now);
    if !rev.v13 {
        // 1.2 neither filters, sorts nor pages this collection.
        let total = points.len();
        let data: Vec<Value> = points.iter().map(|(t, s)| sim.point_json(s, m, *t, *rev)).collect();
        return Json(
            json!({"data": data, "pagination": {"total": total, "count": total, "skip": 0, "limit": total}}),
        )
        .into_response();
    }
    let after = match parse_filter(query.created_after_filter.as_deref(), "createdAfterFilter") {
        Ok(after) => after,
        Err(response) => return *response,
    };
    points.retain(|(t, _)| after.is_none_or(|a| *t > a));
    if !query.order_asc.unwrap_or(false) {
        points.reverse();
    }
    Json(page(&sim, points, &query, |(t, s)| sim.point_json(s, m, t, *rev))).into_response()
}

async fn restore_points(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    let (mut sim, now) = current(&shared);
    let after = match parse_filter(query.created_after_filter.as_deref(), "createdAfterFilter") {
        Ok(after) => after,
        Err(response) => return *response,
    };
    let only_job = match query.backup_id_filter.as_deref() {
        None => None,
        Some(backup) => match sim.jobs.iter().position(|j| j.backup_id.eq_ignore_ascii_case(backup)) {
            Some(job) => Some(job),
            None => return Json(page(&sim, Vec::<usize>::new(), &query, |_| Value::Null)).into_response(),
        },
    };
    sim.ensure_points();
    let sim = &*sim;
    let Some((_, _, list, before)) = &sim.points else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "UnknownError", "No index.", None);
    };
    let low = after.map_or(0, |a| list.partition_point(|(t, _)| *t <= a));
    let high = list.partition_point(|(t, _)| *t <= now).max(low);
    let range = &list[low..high];
    let machines_of = |&(t, i): &(DateTime<Utc>, u32)| -> Vec<usize> {
        let s = &sim.sessions[i as usize];
        if only_job.is_some_and(|j| j != s.job) {
            return Vec::new();
        }
        (0..sim.jobs[s.job].machines.len()).filter(|&m| sim.keeps(s.job, m, t)).collect()
    };
    let count_of = |entry: &(DateTime<Utc>, u32)| -> usize {
        let s = &sim.sessions[entry.1 as usize];
        if only_job.is_some_and(|j| j != s.job) { 0 } else { sim.point_machines(s, entry.0) }
    };
    let (skip, limit) = page_limit(sim, &query);
    let ascending = query.order_asc.unwrap_or(false);
    // Without per-machine or per-backup filters the running totals find the
    // page's first entry at once (paging 2 million points stays linear).
    let plain = sim.stale_since.is_empty() && only_job.is_none();
    let (total, range, mut passed) = if plain {
        let total = (before[high] - before[low]) as usize;
        let skip = skip as u64;
        if ascending {
            let first = low + before[low + 1..=high].partition_point(|b| b - before[low] <= skip);
            (total, &list[first..high], (before[first] - before[low]) as usize)
        } else {
            let last = low + before[low..=high].partition_point(|b| before[high] - b > skip);
            (total, &list[low..last], (before[high] - before[last]) as usize)
        }
    } else {
        (range.iter().map(count_of).sum(), range, 0usize)
    };
    let ordered: Box<dyn Iterator<Item = &(DateTime<Utc>, u32)>> =
        if ascending { Box::new(range.iter()) } else { Box::new(range.iter().rev()) };
    let mut data = Vec::new();
    for entry in ordered {
        if data.len() as i64 >= limit {
            break;
        }
        let count = count_of(entry);
        if passed + count <= skip as usize {
            passed += count;
            continue;
        }
        let mut machines = machines_of(entry);
        if !ascending {
            machines.reverse();
        }
        let s = &sim.sessions[entry.1 as usize];
        for m in machines {
            if passed < skip as usize {
                passed += 1;
                continue;
            }
            if data.len() as i64 >= limit {
                break;
            }
            data.push(sim.point_json(s, m, entry.0, *rev));
        }
    }
    Json(json!({"data": data, "pagination": {"total": total, "count": data.len(), "skip": skip, "limit": limit}}))
        .into_response()
}

async fn malware_events(
    State(shared): State<Shared>,
    rev: axum::Extension<Rev>,
    Query(query): Query<PageQuery>,
) -> Response {
    if !rev.malware {
        return error(StatusCode::NOT_FOUND, "NotFound", "The requested resource does not exist.", None);
    }
    let (sim, now) = current(&shared);
    let after =
        match parse_filter(query.detected_after_time_utc_filter.as_deref(), "detectedAfterTimeUtcFilter") {
            Ok(after) => after,
            Err(response) => return *response,
        };
    let utc = FixedOffset::east_opt(0).unwrap_or(sim.zone);
    let mut items: Vec<&MalwareEvent> =
        sim.malware.iter().filter(|e| e.detected <= now && after.is_none_or(|a| e.detected > a)).collect();
    if query.order_asc == Some(false) {
        items.reverse();
    }
    let body = page(&sim, items, &query, |e| {
        let mut body = json!({
            "id": e.id,
            "type": "EncryptedData",
            "detectionTimeUtc": stamp(e.detected, utc),
            "machine": {
                "displayName": e.machine,
                "uuid": derived_uuid(&["bios", &e.machine]),
                "backupObjectId": e.object_id,
            },
            "state": if e.resolved { "FalsePositive" } else { "Created" },
            "details": "Encrypted files and a ransom note were found in the restore point.",
            "source": "InternalVeeamDetector",
            "severity": "Infected",
            "createdBy": "Veeam Backup Service",
            "engine": "Inline entropy analysis",
        });
        if rev.v13 {
            body["creationTimeUtc"] = json!(stamp(e.detected, utc));
        }
        body
    });
    Json(body).into_response()
}

async fn config_backup(State(shared): State<Shared>) -> Response {
    let sim = lock(&shared);
    let now = sim.now();
    let age = sim.faults.config_backup_age_days.map_or(Duration::hours(5), Duration::days);
    let enabled = !sim.faults.config_backup_disabled;
    let last = now - age;
    Json(json!({
        "isEnabled": enabled,
        "backupRepositoryId": sim.repos[0].id,
        "restorePointsToKeep": 10,
        "notifications": {"SNMPEnabled": false},
        "schedule": {"isEnabled": enabled},
        "lastSuccessfulBackup": {
            "lastSuccessfulTime": stamp(last, sim.zone),
            "sessionId": derived_uuid(&["configBackup", &last.timestamp().to_string()]),
        },
        "encryption": {"isEnabled": false, "passwordId": NIL},
    }))
    .into_response()
}

async fn license(State(shared): State<Shared>, rev: axum::Extension<Rev>) -> Response {
    let sim = lock(&shared);
    if sim.faults.license_forbidden {
        return error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Access denied. You do not have permission to access the license information.",
            None,
        );
    }
    let now = sim.now();
    let days = sim.faults.license_expires_in_days.unwrap_or(365);
    let expires = stamp(now + Duration::days(days), sim.zone);
    let machines: usize = sim.jobs.iter().map(|j| j.machines.len()).sum();
    let mut body = json!({
        "status": if days < 0 { "Expired" } else { "Valid" },
        "type": "Subscription",
        "edition": "EnterprisePlus",
        "licensedTo": "Simulated Corporation",
        "supportId": "01234567",
        "autoUpdateEnabled": false,
        "freeAgentInstanceConsumptionEnabled": true,
        "cloudConnect": "Disabled",
        "instanceLicenseSummary": {
            "licensedInstancesNumber": (machines.max(1) * 2) as f64,
            "usedInstancesNumber": machines as f64,
            "newInstancesNumber": 0.0,
            "rentalInstancesNumber": 0.0,
        },
    });
    if rev.v13 {
        body["instanceLicenseSummary"]["expirationDate"] = json!(expires);
        body["IsMultiSection"] = json!(false);
        body["proactiveSupportEnabled"] = json!(false);
    } else {
        body["expirationDate"] = json!(expires);
        body["supportExpirationDate"] = json!(expires);
    }
    Json(body).into_response()
}

/// The simulator's routes on `state`.
fn router(shared: Shared) -> Router {
    Router::new()
        .route("/api/oauth2/token", post(token))
        .route("/api/oauth2/logout", post(logout))
        .route("/api/v1/serverTime", get(server_time))
        .route("/api/v1/serverInfo", get(server_info))
        .route("/api/v1/jobs", get(jobs_list))
        .route("/api/v1/jobs/states", get(job_states))
        .route("/api/v1/jobs/{id}", get(job_by_id))
        .route("/api/v1/backups", get(backups))
        .route("/api/v1/backupObjects", get(backup_objects))
        .route("/api/v1/backupObjects/{id}/restorePoints", get(object_restore_points))
        .route("/api/v1/restorePoints", get(restore_points))
        .route("/api/v1/malwareDetection/events", get(malware_events))
        .route("/api/v1/configBackup", get(config_backup))
        .route("/api/v1/license", get(license))
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
        let now = sim.now();
        sim.materialise(now);
        sim.apply_faults(now);
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

    /// The names of a job's protected machines.
    pub fn machines(&self, job_id: &str) -> Vec<String> {
        lock(&self.shared)
            .jobs
            .iter()
            .find(|j| j.id.eq_ignore_ascii_case(job_id))
            .map(|j| j.machines.clone())
            .unwrap_or_default()
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
