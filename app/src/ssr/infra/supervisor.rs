//! The supervisor of background work: every periodic task (the monitor,
//! the Veeam sync, the notifier, pruning of rate-limit state) and every
//! follow-up spawned by a request (a sync started by hand, a Veeam session
//! being followed) runs under it.
//!
//! Each task has a name. A pass that fails or panics is caught, logged with
//! that name, and the task runs again after a back-off that doubles with
//! each failure in a row; one bad pass never ends a task for good. Each
//! periodic task's last good pass and interval are recorded, so `/health`
//! and the watchdog can tell a loop that is alive from one that only
//! exists: a periodic task is *stalled* when it has not finished a good
//! pass within [`STALL_INTERVALS`] of its intervals ([`TaskStatus::stalled`]).
//! Shutdown cancels everything, lets passes in flight finish within a grace
//! period, and waits for all of them.

use std::{
    collections::BTreeMap,
    future::Future,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use futures::FutureExt;
use serde::Serialize;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

/// How long to wait after a failed pass: `initial`, doubling with each
/// failure in a row, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// After the first failure.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { initial: Duration::from_secs(1), max: Duration::from_secs(60) }
    }
}

impl Backoff {
    /// The wait after `failures` failures in a row (at least one).
    pub fn after(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(16);
        self.initial.saturating_mul(1 << doublings).min(self.max)
    }
}

/// Whether a task runs again and again or until it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// A pass every so often, until shutdown.
    Periodic,
    /// Runs until it succeeds once (a follow-up).
    FollowUp,
}

/// A periodic task is stalled when its last good pass (or its start, when
/// it has had none) is more than this many of its intervals ago.
pub const STALL_INTERVALS: u32 = 3;

/// How often a leader-only task looks whether this instance leads now.
pub const STANDBY_RECHECK: Duration = Duration::from_secs(1);

/// Failed passes in a row after which a task counts as failing.
pub const FAILING_AFTER: u32 = 3;

/// How a task is doing, as the watchdog sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// Its passes succeed in time.
    Healthy,
    /// Its last pass panicked, or [`FAILING_AFTER`] passes in a row failed.
    Failing,
    /// No good pass within [`STALL_INTERVALS`] of its intervals.
    Stalled,
}

/// What the supervisor knows about one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskStatus {
    /// The task's name (`monitor`, `notifier`, `veeam-follow:<session>`...).
    pub name: String,
    /// Periodic or a follow-up.
    pub kind: TaskKind,
    /// When it was started (a stall is measured from here until its first
    /// good pass).
    pub started_at: DateTime<Utc>,
    /// A periodic task's interval.
    #[serde(skip)]
    pub interval: Option<Duration>,
    /// How long without a good pass makes a periodic task stalled:
    /// [`STALL_INTERVALS`] intervals, or more for a task whose passes may
    /// legitimately take long ([`Supervisor::allow_slow_passes`]).
    #[serde(skip)]
    pub stall_after: Option<Duration>,
    /// When its last pass succeeded.
    pub last_ok_at: Option<DateTime<Utc>>,
    /// When its last pass failed or panicked.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Why, in a line.
    pub last_error: Option<String>,
    /// Failed passes since the last good one.
    pub failures: u32,
    /// Passes that panicked, in all.
    pub panics: u64,
    /// Whether the last pass panicked (until the next good one).
    pub panicking: bool,
    /// Whether the task runs only while this instance leads the cluster
    /// ([`Supervisor::every_while`]); on other instances it waits.
    pub leader_only: bool,
}

impl TaskStatus {
    fn new(name: &str, kind: TaskKind, interval: Option<Duration>, now: DateTime<Utc>) -> Self {
        Self {
            name: name.to_owned(),
            kind,
            started_at: now,
            interval,
            stall_after: interval.map(|every| every.saturating_mul(STALL_INTERVALS)),
            last_ok_at: None,
            last_error_at: None,
            last_error: None,
            failures: 0,
            panics: 0,
            panicking: false,
            leader_only: false,
        }
    }

    /// Whether a periodic task has gone longer than its `stall_after`
    /// without a good pass at `now`, counted from its last good pass, or
    /// from its start when it has had none. A task that fails every pass
    /// is stalled too; a follow-up never is.
    pub fn stalled(&self, now: DateTime<Utc>) -> bool {
        let Some(limit) = self.stall_after.and_then(|d| chrono::Duration::from_std(d).ok()) else {
            return false;
        };
        now - self.last_ok_at.unwrap_or(self.started_at) > limit
    }

    /// How the task is doing at `now`: stalled first, then failing (a
    /// panic, or [`FAILING_AFTER`] failures in a row), else healthy.
    pub fn condition(&self, now: DateTime<Utc>) -> Condition {
        if self.stalled(now) {
            Condition::Stalled
        } else if self.panicking || self.failures >= FAILING_AFTER {
            Condition::Failing
        } else {
            Condition::Healthy
        }
    }
}

#[derive(Debug)]
struct Inner {
    tracker: TaskTracker,
    cancel: CancellationToken,
    backoff: Backoff,
    tasks: Mutex<BTreeMap<String, TaskStatus>>,
}

/// Owns the background tasks of one server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new(Backoff::default())
    }
}

/// How a pass ended.
enum Pass {
    Ok,
    Failed(String),
    Panicked(String),
    /// Shutdown came and the pass did not finish within the grace period.
    Cancelled,
}

/// The longest a pass in flight may take to finish once shutdown begins.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl Supervisor {
    /// A supervisor whose failed passes wait by `backoff`.
    pub fn new(backoff: Backoff) -> Self {
        Self {
            inner: Arc::new(Inner {
                tracker: TaskTracker::new(),
                cancel: CancellationToken::new(),
                backoff,
                tasks: Mutex::new(BTreeMap::new()),
            }),
        }
    }

    /// Cancelled when shutdown begins (long-lived responses such as event
    /// streams end then).
    pub fn stopping(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// Whether shutdown has begun.
    pub fn is_stopping(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Runs `pass` now and then every `every` (counted from the start of a
    /// pass), until shutdown. A failed or panicking pass is logged and the
    /// next one comes after the back-off instead.
    pub fn every<F, Fut>(&self, name: impl Into<String>, every: Duration, mut pass: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let name = name.into();
        self.register(&name, TaskKind::Periodic, Some(every));
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let cancel = this.inner.cancel.clone();
            loop {
                let started = tokio::time::Instant::now();
                let wait = match this.run_pass(&name, start(&mut pass)).await {
                    Pass::Ok => every,
                    // A failed pass is tried again after the back-off (which
                    // grows with each failure in a row), not at its next turn.
                    Pass::Failed(_) | Pass::Panicked(_) => this.backoff_of(&name),
                    Pass::Cancelled => break,
                };
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep_until(started + wait) => {}
                }
            }
            tracing::debug!(task = %name, "task stopped");
        });
    }

    /// Like [`Supervisor::every`], for work that runs only while `gate`
    /// gives a token (this instance leads the cluster): a pass starts only
    /// then, and is stopped the moment the token is cancelled (a dropped
    /// transaction rolls back). Without a token the task looks again every
    /// [`STANDBY_RECHECK`] (so a new leader starts the work at once); those
    /// turns count as good passes. The task is marked
    /// [`TaskStatus::leader_only`].
    pub fn every_while<G, F, Fut>(&self, name: impl Into<String>, every: Duration, gate: G, mut pass: F)
    where
        G: Fn() -> Option<CancellationToken> + Send + 'static,
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let name = name.into();
        self.register(&name, TaskKind::Periodic, Some(every));
        self.set_leader_only(&name);
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let cancel = this.inner.cancel.clone();
            loop {
                let started = tokio::time::Instant::now();
                let outcome = match gate() {
                    None => this.run_pass(&name, Ok(async { Ok(()) })).await,
                    Some(token) => {
                        let task = name.clone();
                        let made = start(&mut pass).map(|work| async move {
                            tokio::select! {
                                done = work => done,
                                _ = token.cancelled() => {
                                    tracing::warn!(task = %task, "the lead was lost: the pass was stopped");
                                    Ok(())
                                }
                            }
                        });
                        this.run_pass(&name, made).await
                    }
                };
                let wait = match outcome {
                    Pass::Ok if gate().is_some() => every,
                    Pass::Ok => every.min(STANDBY_RECHECK),
                    Pass::Failed(_) | Pass::Panicked(_) => this.backoff_of(&name),
                    Pass::Cancelled => break,
                };
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep_until(started + wait) => {}
                }
            }
            tracing::debug!(task = %name, "task stopped");
        });
    }

    fn set_leader_only(&self, name: &str) {
        if let Some(task) = self.lock().get_mut(name) {
            task.leader_only = true;
        }
    }

    /// Runs a follow-up until it succeeds once: a failed or panicking try
    /// is logged and tried again after the back-off, at most `attempts`
    /// times in all. Ends at shutdown (a try in flight gets the grace
    /// period). While it runs it is listed in [`Supervisor::status`].
    pub fn spawn<F, Fut>(&self, name: impl Into<String>, attempts: u32, mut task: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let name = name.into();
        if self.is_stopping() {
            tracing::info!(task = %name, "not started: the server is stopping");
            return;
        }
        self.register(&name, TaskKind::FollowUp, None);
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let cancel = this.inner.cancel.clone();
            for attempt in 1..=attempts.max(1) {
                match this.run_pass(&name, start(&mut task)).await {
                    Pass::Ok | Pass::Cancelled => break,
                    Pass::Failed(_) | Pass::Panicked(_) if attempt == attempts.max(1) => {
                        tracing::error!(task = %name, attempts, "follow-up given up");
                    }
                    Pass::Failed(_) | Pass::Panicked(_) => {
                        tokio::select! {
                            _ = cancel.cancelled() => break,
                            _ = tokio::time::sleep(this.backoff_of(&name)) => {}
                        }
                    }
                }
            }
            this.lock().remove(&name);
        });
    }

    /// Begins shutdown: no new passes start, passes in flight get a grace
    /// period. Returns at once; [`Supervisor::stopped`] waits.
    pub fn begin_shutdown(&self) {
        self.inner.cancel.cancel();
        self.inner.tracker.close();
    }

    /// Begins shutdown if needed and waits until every task has ended.
    pub async fn stopped(&self) {
        self.begin_shutdown();
        self.inner.tracker.wait().await;
    }

    /// Lets a periodic task's passes take up to `longest` before it counts
    /// as stalled (a pass that waits on remote peers with a timeout): it is
    /// stalled after the longer of [`STALL_INTERVALS`] intervals and
    /// `longest` plus one interval.
    pub fn allow_slow_passes(&self, name: &str, longest: Duration) {
        if let Some(task) = self.lock().get_mut(name)
            && let Some(every) = task.interval
        {
            let normal = every.saturating_mul(STALL_INTERVALS);
            task.stall_after = Some(normal.max(longest.saturating_add(every)));
        }
    }

    /// Every task, by name.
    pub fn status(&self) -> Vec<TaskStatus> {
        self.lock().values().cloned().collect()
    }

    /// The periodic tasks stalled at `now`, by name.
    pub fn stalled(&self, now: DateTime<Utc>) -> Vec<String> {
        self.lock().values().filter(|t| t.stalled(now)).map(|t| t.name.clone()).collect()
    }

    /// One task's status.
    pub fn task(&self, name: &str) -> Option<TaskStatus> {
        self.lock().get(name).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, TaskStatus>> {
        self.inner.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, name: &str, kind: TaskKind, interval: Option<Duration>) {
        let now = Utc::now();
        self.lock().entry(name.to_owned()).or_insert_with(|| TaskStatus::new(name, kind, interval, now));
    }

    fn backoff_of(&self, name: &str) -> Duration {
        let failures = self.lock().get(name).map_or(1, |t| t.failures);
        self.inner.backoff.after(failures)
    }

    /// Runs one pass, catching errors and panics (also one in the closure
    /// that made the pass), and records how it ended.
    async fn run_pass<Fut>(&self, name: &str, pass: Result<Fut, String>) -> Pass
    where
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let outcome = match pass {
            Err(message) => Pass::Panicked(message),
            Ok(pass) => {
                let cancel = self.inner.cancel.clone();
                let pass = AssertUnwindSafe(pass).catch_unwind();
                tokio::pin!(pass);
                let ended = tokio::select! {
                    ended = &mut pass => Some(ended),
                    _ = cancel.cancelled() => tokio::time::timeout(SHUTDOWN_GRACE, &mut pass).await.ok(),
                };
                match ended {
                    None => Pass::Cancelled,
                    Some(Ok(Ok(()))) => Pass::Ok,
                    Some(Ok(Err(error))) => Pass::Failed(format!("{error:#}")),
                    Some(Err(panic)) => Pass::Panicked(panic_message(panic.as_ref())),
                }
            }
        };
        let now = Utc::now();
        let mut tasks = self.lock();
        let status = tasks
            .entry(name.to_owned())
            .or_insert_with(|| TaskStatus::new(name, TaskKind::Periodic, None, now));
        match &outcome {
            Pass::Ok => {
                status.last_ok_at = Some(now);
                status.failures = 0;
                status.panicking = false;
            }
            Pass::Failed(error) => {
                tracing::error!(task = %name, %error, "background task failed; it runs again after a back-off");
                status.last_error_at = Some(now);
                status.last_error = Some(error.clone());
                status.failures = status.failures.saturating_add(1);
                status.panicking = false;
            }
            Pass::Panicked(message) => {
                tracing::error!(task = %name, panic = %message, "background task panicked; it runs again after a back-off");
                status.last_error_at = Some(now);
                status.last_error = Some(format!("panicked: {message}"));
                status.failures = status.failures.saturating_add(1);
                status.panics += 1;
                status.panicking = true;
            }
            Pass::Cancelled => {
                tracing::warn!(task = %name, "a pass was still running at shutdown and was stopped");
            }
        }
        outcome
    }
}

/// Makes a pass, catching a panic of the closure itself (its synchronous part).
fn start<F, Fut>(make: &mut F) -> Result<Fut, String>
where
    F: FnMut() -> Fut,
{
    std::panic::catch_unwind(AssertUnwindSafe(make)).map_err(|panic| panic_message(panic.as_ref()))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn quick() -> Supervisor {
        Supervisor::new(Backoff { initial: Duration::from_millis(10), max: Duration::from_millis(40) })
    }

    async fn until(mut check: impl FnMut() -> bool) -> bool {
        for _ in 0..500 {
            if check() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    #[tokio::test]
    async fn a_task_that_panics_on_its_first_pass_runs_again() {
        let supervisor = quick();
        let passes = Arc::new(AtomicUsize::new(0));
        let counted = passes.clone();
        supervisor.every("flaky", Duration::from_millis(20), move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(n > 0, "the first pass panics");
                Ok(())
            }
        });
        assert!(until(|| passes.load(Ordering::SeqCst) >= 3).await, "the task kept running after its panic");
        let status = supervisor.task("flaky").expect("the task is listed");
        assert_eq!(status.panics, 1);
        assert_eq!(status.failures, 0, "a good pass resets the failures in a row");
        assert!(status.last_ok_at.is_some(), "the next pass was observed and recorded");
        assert!(status.last_error.as_deref().is_some_and(|e| e.contains("the first pass panics")));
        supervisor.stopped().await;
        let after = passes.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(passes.load(Ordering::SeqCst), after, "nothing runs after shutdown");
    }

    #[tokio::test]
    async fn a_panic_before_the_pass_starts_is_caught_too() {
        let supervisor = quick();
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        supervisor.every("sync-part", Duration::from_millis(20), move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            assert!(n > 0, "the closure itself panics the first time");
            async { Ok(()) }
        });
        assert!(until(|| calls.load(Ordering::SeqCst) >= 3).await, "the task survived");
        assert_eq!(supervisor.task("sync-part").map(|t| t.panics), Some(1));
        supervisor.stopped().await;
    }

    #[tokio::test]
    async fn a_failing_pass_is_recorded_and_retried_with_back_off() {
        let supervisor = quick();
        let passes = Arc::new(AtomicUsize::new(0));
        let counted = passes.clone();
        supervisor.every("failing", Duration::from_secs(3600), move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Err(anyhow::anyhow!("database unreachable")) }
        });
        // Hourly, but a failure is tried again after the back-off instead.
        assert!(until(|| passes.load(Ordering::SeqCst) >= 3).await);
        let status = supervisor.task("failing").expect("listed");
        assert!(status.failures >= 2);
        assert_eq!(status.last_ok_at, None);
        assert_eq!(status.last_error.as_deref(), Some("database unreachable"));
        supervisor.stopped().await;
    }

    #[tokio::test]
    async fn a_follow_up_is_tried_again_after_a_panic_and_then_forgotten() {
        let supervisor = quick();
        let tries = Arc::new(AtomicUsize::new(0));
        let counted = tries.clone();
        supervisor.spawn("follow:1", 3, move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(n > 0, "the first try panics");
                Ok(())
            }
        });
        assert!(until(|| tries.load(Ordering::SeqCst) == 2 && supervisor.task("follow:1").is_none()).await);
        supervisor.stopped().await;
        assert_eq!(tries.load(Ordering::SeqCst), 2, "done after its first good try");
    }

    #[tokio::test]
    async fn shutdown_lets_a_pass_in_flight_finish_and_waits_for_it() {
        let supervisor = quick();
        let finished = Arc::new(AtomicUsize::new(0));
        let done = finished.clone();
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let mut started_tx = Some(started_tx);
        supervisor.every("slow", Duration::from_secs(3600), move || {
            let done = done.clone();
            let started = started_tx.take();
            async move {
                if let Some(started) = started {
                    let _ = started.send(());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                done.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        started_rx.await.expect("the pass started");
        supervisor.stopped().await;
        assert_eq!(
            finished.load(Ordering::SeqCst),
            1,
            "the pass in flight finished before shutdown returned"
        );
        assert!(supervisor.is_stopping());
    }

    #[tokio::test]
    #[expect(clippy::unwrap_used)]
    async fn gated_work_runs_only_while_the_gate_gives_a_token_and_stops_when_it_is_cancelled() {
        let supervisor = quick();
        let lead: Arc<Mutex<Option<CancellationToken>>> = Arc::default();
        let (started, finished) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let gate = {
            let lead = lead.clone();
            move || lead.lock().unwrap().clone()
        };
        let (s, f) = (started.clone(), finished.clone());
        supervisor.every_while("lead-only", Duration::from_millis(10), gate, move || {
            let (s, f) = (s.clone(), f.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                f.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(started.load(Ordering::SeqCst), 0, "no pass without the lead");
        let task = supervisor.task("lead-only").unwrap();
        assert!(task.leader_only && task.last_ok_at.is_some() && !task.stalled(Utc::now()));

        let token = CancellationToken::new();
        *lead.lock().unwrap() = Some(token.clone());
        assert!(until(|| started.load(Ordering::SeqCst) == 1).await);
        // The lead is lost mid-pass: the pass stops at once, none starts again.
        *lead.lock().unwrap() = None;
        token.cancel();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!((started.load(Ordering::SeqCst), finished.load(Ordering::SeqCst)), (1, 0));
        supervisor.stopped().await;
    }

    fn periodic(every_ms: u64) -> TaskStatus {
        let start = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap_or_default().to_utc();
        TaskStatus::new("t", TaskKind::Periodic, Some(Duration::from_millis(every_ms)), start)
    }

    fn ms(status: &TaskStatus, ms: i64) -> DateTime<Utc> {
        status.started_at + chrono::Duration::milliseconds(ms)
    }

    #[test]
    fn a_periodic_task_stalls_after_three_intervals_without_a_good_pass() {
        let mut task = periodic(1000);
        assert!(!task.stalled(ms(&task, 3000)), "measured from its start while it has had no pass");
        assert!(task.stalled(ms(&task, 3001)));
        task.last_ok_at = Some(ms(&task, 2500));
        assert!(!task.stalled(ms(&task, 5500)), "measured from the last good pass");
        assert_eq!(task.condition(ms(&task, 5501)), Condition::Stalled);
        // Failing every pass is no excuse: without a good pass it stalls as well.
        task.failures = 40;
        assert_eq!(task.condition(ms(&task, 9000)), Condition::Stalled);
    }

    #[test]
    fn a_panic_or_three_failures_in_a_row_is_failing_until_a_good_pass() {
        let mut task = periodic(1000);
        let now = ms(&task, 500);
        assert_eq!(task.condition(now), Condition::Healthy);
        task.failures = 2;
        assert_eq!(task.condition(now), Condition::Healthy, "two failures may be a blip");
        task.failures = FAILING_AFTER;
        assert_eq!(task.condition(now), Condition::Failing);
        task.failures = 1;
        task.panicking = true;
        assert_eq!(task.condition(now), Condition::Failing, "one panic is enough");
    }

    #[test]
    fn follow_ups_never_stall() {
        let start = Utc::now();
        let task = TaskStatus::new("veeam-sync:1", TaskKind::FollowUp, None, start);
        assert!(!task.stalled(start + chrono::Duration::days(1)));
    }

    #[tokio::test]
    async fn slow_passes_can_be_allowed_for_a_task() {
        let supervisor = quick();
        supervisor.every("sender", Duration::from_secs(2), || async { Ok(()) });
        supervisor.allow_slow_passes("sender", Duration::from_secs(60));
        let task = supervisor.task("sender").expect("listed");
        assert_eq!(task.stall_after, Some(Duration::from_secs(62)));
        assert_eq!(task.interval, Some(Duration::from_secs(2)));
        supervisor.stopped().await;
    }

    #[tokio::test]
    async fn a_panicking_task_is_failing_and_a_good_pass_makes_it_healthy() {
        let supervisor = quick();
        let passes = Arc::new(AtomicUsize::new(0));
        let counted = passes.clone();
        supervisor.every("once", Duration::from_secs(3600), move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                assert!(n > 0, "the first pass panics");
                Ok(())
            }
        });
        assert!(until(|| supervisor.task("once").is_some_and(|t| t.panics == 1)).await);
        assert!(until(|| supervisor.task("once").is_some_and(|t| t.last_ok_at.is_some())).await);
        let task = supervisor.task("once").expect("listed");
        assert!(!task.panicking);
        assert_eq!(task.condition(Utc::now()), Condition::Healthy);
        supervisor.stopped().await;
    }

    #[test]
    fn the_back_off_doubles_up_to_its_maximum() {
        let backoff = Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(60) };
        let waits: Vec<u64> = (1..=8).map(|n| backoff.after(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(backoff.after(u32::MAX), Duration::from_secs(60));
    }
}
