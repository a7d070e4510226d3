//! Background tasks: the watch on expected runs.

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
