//! Background tasks: the watch on expected runs and the Veeam sync.

use app::ssr::{monitor, state::AppState};
use std::time::Duration;
use tokio::sync::watch;

/// Runs [`monitor::run_once`] every `monitor_interval_seconds` until stopped.
///
/// Safe on several instances at once: each missed run is recorded in a
/// transaction that re-checks the job's expected time under a row lock, so
/// two instances cannot record the same occurrence twice.
pub async fn watch_expectations(state: AppState, mut stopped: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.settings.monitor_interval_seconds));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                match monitor::run_once(&state, chrono::Utc::now()).await {
                    Ok(outcome) if outcome != monitor::Outcome::default() => {
                        tracing::info!(?outcome, "expectations checked");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "the expectation check failed"),
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Syncs each enabled Veeam server every `sync_interval_seconds`: checks
/// every five seconds which servers are due and syncs those, one task per
/// server. A server whose sync is running (here or on another instance)
/// is skipped; a dead server fails fast behind its circuit breaker.
pub async fn sync_veeam(state: AppState, mut stopped: watch::Receiver<bool>) {
    use app::ssr::{db::veeam as veeam_db, veeam::sync};
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut running: std::collections::HashMap<i64, tokio::task::JoinHandle<()>> = Default::default();
    let mut attempted: std::collections::HashMap<i64, std::time::Instant> = Default::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                running.retain(|_, task| !task.is_finished());
                let servers = match veeam_db::list_servers(&state.db).await {
                    Ok(servers) => servers,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot list Veeam servers");
                        continue;
                    }
                };
                let now = chrono::Utc::now();
                for server in servers {
                    let interval = Duration::from_secs(server.sync_interval_seconds.max(1) as u64);
                    let due = server.enabled
                        && server.sync_phase.is_none()
                        && !running.contains_key(&server.id)
                        && match attempted.get(&server.id) {
                            // Since this process's last attempt (failed or not).
                            Some(at) => at.elapsed() >= interval,
                            // First look after start: by the last success.
                            None => server.last_sync_at.is_none_or(|last| {
                                last + chrono::Duration::from_std(interval).unwrap_or_default() <= now
                            }),
                        };
                    if due {
                        attempted.insert(server.id, std::time::Instant::now());
                        let state = state.clone();
                        let id = server.id;
                        running.insert(id, tokio::spawn(async move {
                            match sync::sync_server(&state, id).await {
                                Ok(_) | Err(sync::SyncError::Busy) => {}
                                Err(e) => tracing::debug!(server_id = id, error = %e, "scheduled Veeam sync failed"),
                            }
                        }));
                    }
                }
            }
            _ = stopped.changed() => {
                for task in running.values() {
                    task.abort();
                }
                return;
            }
        }
    }
}

/// The notification outbox: every two seconds, queues deliveries for new
/// job state changes and sends what is due. Safe on several instances:
/// the producer moves its cursor in the same transaction as the rows it
/// adds (and a dedup key stops doubles), the worker leases each row.
pub async fn notify(state: AppState, mut stopped: watch::Receiver<bool>) {
    use app::ssr::notify::outbox;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Err(e) = outbox::produce(&state).await {
                    tracing::error!(error = %e, "queuing notifications failed");
                    continue;
                }
                match outbox::work_once(&state, chrono::Utc::now()).await {
                    Ok(outcome) => {
                        if outcome != outbox::WorkOutcome::default() {
                            tracing::info!(?outcome, "notifications sent");
                        }
                        *state.notifier_heartbeat.write().unwrap_or_else(|e| e.into_inner()) = Some(chrono::Utc::now());
                    }
                    Err(e) => tracing::error!(error = %e, "sending notifications failed"),
                }
            }
            _ = stopped.changed() => return,
        }
    }
}
