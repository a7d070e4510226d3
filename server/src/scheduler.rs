//! The background tasks, each a named pass that the supervisor
//! (`app::ssr::infra::supervisor`) runs again and again: the watch on
//! expected runs, the Veeam sync, the notifier, scheduled report e-mails,
//! pruning of rate-limit state, and the watchdog over all of them. A pass that fails or panics
//! is logged with the task's name and the task runs again after a
//! back-off; each task's last good pass is in `/health`, which answers
//! `503 degraded` while one is stalled, and the watchdog turns a stalled
//! or failing task into a `console_degraded` event (and its recovery into
//! `console_recovered`) for notification rules.
//!
//! With several instances on one PostgreSQL database, the work that must
//! run once (the monitor, Veeam syncs, scheduled reports, backups,
//! retention, pruning ended sessions) runs on the leader only (see
//! `app::ssr::infra::cluster`); every instance serves HTTP, sends
//! notifications, checks its own disk and error rate, and keeps its own
//! rate-limit state and watchdog.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::ssr::{
    accounts,
    infra::{cluster, db::Db, state::AppState},
    jobs::monitor,
    notify, ops, reports,
    veeam::{self, hub::SyncError, sync},
};
use chrono::Utc;

/// The watch on expected runs.
pub const MONITOR_TASK: &str = "monitor";
/// The look for Veeam servers due a sync.
pub const VEEAM_TASK: &str = "veeam-sync";
/// Forgetting quiet clients' rate-limit state.
pub const PRUNE_TASK: &str = "prune-rate-limits";
/// Forgetting ended sign-in sessions.
pub const SESSIONS_TASK: &str = "prune-sessions";
/// This instance's row in the list of instances.
pub const INSTANCE_TASK: &str = "cluster-heartbeat";
/// The campaign for the lead (PostgreSQL).
pub const LEAD_TASK: &str = "cluster-lead";

/// A gate for [`app::ssr::infra::supervisor::Supervisor::every_while`]:
/// open while this instance leads.
fn leading(state: &AppState) -> impl Fn() -> Option<tokio_util::sync::CancellationToken> + Send + 'static {
    let cluster = state.cluster.clone();
    move || cluster.leading()
}

/// Starts every periodic task under the state's supervisor.
pub fn start(state: &AppState) {
    cluster(state);
    watch_expectations(state);
    sync_veeam(state);
    notifier(state);
    report_schedules(state);
    let pruning_limits = state.clone();
    state.tasks.every(PRUNE_TASK, Duration::from_secs(60), move || {
        let state = pruning_limits.clone();
        state.limits.prune();
        async move {
            app::ssr::infra::limits::prune_shared(&state.db).await?;
            Ok(())
        }
    });
    let sessions = state.clone();
    state.tasks.every_while(SESSIONS_TASK, Duration::from_secs(3600), leading(state), move || {
        let state = sessions.clone();
        async move {
            accounts::prune_sessions(&state).await?;
            Ok(())
        }
    });
    let pruning = state.clone();
    state.tasks.every_while(ops::retention::TASK, ops::retention::INTERVAL, leading(state), move || {
        let state = pruning.clone();
        async move {
            ops::retention::prune(&state).await?;
            Ok(())
        }
    });
    let checking = state.clone();
    state.tasks.every(ops::selfcheck::TASK, ops::selfcheck::INTERVAL, move || {
        let state = checking.clone();
        async move {
            ops::selfcheck::pass(&state).await?;
            Ok(())
        }
    });
    if state.settings.backup.daily {
        let backups = state.clone();
        state.tasks.every_while(ops::backup::TASK, ops::backup::INTERVAL, leading(state), move || {
            let state = backups.clone();
            async move {
                ops::backup::daily_pass(&state, Utc::now()).await?;
                Ok(())
            }
        });
        // A large database takes a while to copy.
        state.tasks.allow_slow_passes(ops::backup::TASK, Duration::from_secs(3 * 3600));
    }
    // The first pass over years of history may take a while.
    state.tasks.allow_slow_passes(ops::retention::TASK, Duration::from_secs(6 * 3600));
    watchdog(state);
}

/// Leadership and live events across instances: every instance records
/// itself in the list of instances; on PostgreSQL it also campaigns for the
/// lead, forwards its live events to the others and listens for theirs.
fn cluster(state: &AppState) {
    let beating = state.clone();
    state.tasks.every(INSTANCE_TASK, Duration::from_secs(5), move || {
        let state = beating.clone();
        async move {
            cluster::heartbeat(&state.db, &state.cluster).await?;
            Ok(())
        }
    });
    let leaving = state.clone();
    let stop = state.tasks.stopping();
    state.tasks.spawn("cluster-leave", 1, move || {
        let (state, stop) = (leaving.clone(), stop.clone());
        async move {
            stop.cancelled().await;
            cluster::leave(&state.db, &state.cluster).await;
            Ok(())
        }
    });
    let Db::Postgres(pool) = &state.db else { return };
    let own = cluster::own_connection_options(pool);
    let connection: Arc<tokio::sync::Mutex<Option<sqlx::PgConnection>>> = Arc::default();
    let (me, lock, options) = (state.cluster.clone(), connection.clone(), own.clone());
    state.tasks.every(LEAD_TASK, cluster::HEARTBEAT, move || {
        let (me, lock, options) = (me.clone(), lock.clone(), options.clone());
        async move {
            let mut connection = lock.lock().await;
            cluster::campaign(&me, &options, &mut connection).await?;
            Ok(())
        }
    });
    // At shutdown the lead is given up at once, so another instance takes over.
    let (me, stop) = (state.cluster.clone(), state.tasks.stopping());
    state.tasks.spawn("cluster-resign", 1, move || {
        let (me, lock, stop) = (me.clone(), connection.clone(), stop.clone());
        async move {
            stop.cancelled().await;
            cluster::resign(&me, &lock).await;
            Ok(())
        }
    });
    if let Some(outbox) = state.events.relay() {
        let (pool, from, hub, stop) =
            (pool.clone(), state.cluster.me().id.clone(), state.events.clone(), state.tasks.stopping());
        let outbox = Arc::new(tokio::sync::Mutex::new(Some(outbox)));
        state.tasks.spawn("live-forward", 1, move || {
            let (pool, from, hub, stop, outbox) =
                (pool.clone(), from.clone(), hub.clone(), stop.clone(), outbox.clone());
            async move {
                let Some(outbox) = outbox.lock().await.take() else { return Ok(()) };
                tokio::select! {
                    _ = cluster::forward(pool, from, hub, outbox) => {}
                    _ = stop.cancelled() => {}
                }
                Ok(())
            }
        });
    }
    let (me, hub, stop) = (state.cluster.me().id.clone(), state.events.clone(), state.tasks.stopping());
    state.tasks.spawn("live-listen", u32::MAX, move || {
        let (options, me, hub, stop) = (own.clone(), me.clone(), hub.clone(), stop.clone());
        async move {
            cluster::listen(options, me, hub, stop).await?;
            Ok(())
        }
    });
}

/// Every `watchdog_interval`, records the changes of the other tasks'
/// condition as console events (see `notify::watchdog`). A task of its
/// own, so a stalled notifier is still recorded.
fn watchdog(state: &AppState) {
    let watchdog = Arc::new(notify::watchdog::Watchdog::default());
    let state = state.clone();
    state.tasks.clone().every(notify::watchdog::WATCHDOG_TASK, state.settings.watchdog_interval, move || {
        let state = state.clone();
        let watchdog = watchdog.clone();
        async move {
            notify::watchdog::run_once(&state, &watchdog, Utc::now()).await?;
            Ok(())
        }
    });
}

/// Runs [`monitor::run_once`] every `monitor_interval_seconds`.
///
/// Safe on several instances at once: each missed run is recorded in a
/// transaction that re-checks the job's expected time under a row lock, so
/// two instances cannot record the same occurrence twice.
fn watch_expectations(state: &AppState) {
    if !state.settings.background_monitor {
        tracing::warn!("the monitor does not run in this process (tests only)");
        return;
    }
    let every = Duration::from_secs(state.settings.monitor_interval_seconds);
    let gate = leading(state);
    let state = state.clone();
    state.tasks.clone().every_while(MONITOR_TASK, every, gate, move || {
        let state = state.clone();
        async move {
            let outcome = monitor::run_once(&state, Utc::now()).await?;
            if outcome != monitor::Outcome::default() {
                tracing::info!(?outcome, "expectations checked");
            }
            Ok(())
        }
    });
}

/// Every five seconds, looks for enabled Veeam servers due a sync (every
/// `sync_interval_seconds`) and syncs each in a follow-up task of its own.
/// A server whose sync is running (here or on another instance) is
/// skipped; a dead server fails fast behind its circuit breaker.
fn sync_veeam(state: &AppState) {
    let attempted: Arc<Mutex<HashMap<i64, Instant>>> = Arc::default();
    let gate = leading(state);
    let state = state.clone();
    state.tasks.clone().every_while(VEEAM_TASK, Duration::from_secs(5), gate, move || {
        let state = state.clone();
        let attempted = attempted.clone();
        async move {
            let now = Utc::now();
            for server in veeam::servers_for_sync(&state).await? {
                let name = format!("veeam-sync:{}", server.id);
                let interval = Duration::from_secs(server.sync_interval_seconds.max(1) as u64);
                let mut attempted = attempted.lock().unwrap_or_else(|e| e.into_inner());
                let due = server.enabled
                    && server.sync_phase.is_none()
                    && state.tasks.task(&name).is_none()
                    && match attempted.get(&server.id) {
                        // Since this process's last attempt (failed or not).
                        Some(at) => at.elapsed() >= interval,
                        // First look after start: by the last success.
                        None => server.last_sync_at.is_none_or(|last| {
                            last + chrono::Duration::from_std(interval).unwrap_or_default() <= now
                        }),
                    };
                if due {
                    attempted.insert(server.id, Instant::now());
                    let task_state = state.clone();
                    let id = server.id;
                    state.tasks.spawn(name, 1, move || {
                        let state = task_state.clone();
                        async move {
                            match sync::sync_server(&state, id).await {
                                Ok(_) | Err(SyncError::Busy) => {}
                                Err(e) => {
                                    tracing::debug!(server_id = id, error = %e, "scheduled Veeam sync failed")
                                }
                            }
                            Ok(())
                        }
                    });
                }
            }
            Ok(())
        }
    });
}

/// The notification outbox: every two seconds, queues deliveries for new
/// events and sends what is due. Safe on several instances: the producer
/// moves its cursor in the same transaction as the rows it adds (and a
/// dedup key stops doubles), the worker leases each row.
///
/// A pass may wait on a few receivers that time out, so it is stalled only
/// after three sends' timeouts on top of its interval, not after three
/// intervals (six seconds).
fn notifier(state: &AppState) {
    let tasks = state.tasks.clone();
    let slowest = state.settings.notify_timeout.saturating_mul(3);
    let state = state.clone();
    tasks.every(notify::NOTIFIER_TASK, Duration::from_secs(2), move || {
        let state = state.clone();
        async move {
            notify::produce(&state).await?;
            let outcome = notify::work_once(&state, Utc::now()).await?;
            if outcome != notify::WorkOutcome::default() {
                tracing::info!(?outcome, "notifications sent");
            }
            Ok(())
        }
    });
    tasks.allow_slow_passes(notify::NOTIFIER_TASK, slowest);
}

/// Scheduled report e-mails: every thirty seconds, queues the schedules
/// that are due (each once, in the transaction that moves it to its next
/// occurrence, guarded by the time it was read with: safe on several
/// instances) and sends the queued reports through the outbox (computing
/// the report and its PDF takes a while, so this is a task of its own and
/// never holds up alerts). A pass may compute several reports, so it is
/// stalled only after ten minutes.
fn report_schedules(state: &AppState) {
    let tasks = state.tasks.clone();
    let gate = leading(state);
    let state = state.clone();
    tasks.every_while(reports::schedules::TASK, Duration::from_secs(30), gate, move || {
        let state = state.clone();
        async move {
            let outcome = reports::schedules::run_once(&state, Utc::now()).await?;
            if outcome != reports::schedules::Outcome::default() {
                tracing::info!(?outcome, "scheduled reports");
            }
            Ok(())
        }
    });
    tasks.allow_slow_passes(reports::schedules::TASK, Duration::from_secs(600));
}
