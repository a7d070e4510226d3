//! The console watching itself: the data directory's free disk space
//! (below `disk_low_percent` raises `console_disk_low`) and a sustained
//! share of server errors in its answers (`console_error_rate`), each
//! with a `console_recovered` when it is over. One pass a minute.

use std::sync::{
    Mutex,
    atomic::{AtomicU64, Ordering},
};

use chrono::Utc;

use crate::ssr::{
    infra::state::AppState,
    notify::{self, NewConsoleEvent, message::EventKind},
};

/// The name of the periodic task.
pub const TASK: &str = "self-check";

/// How often it looks.
pub const INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// A pass counts as erroring with at least this many answers…
const MIN_REQUESTS: u64 = 20;
/// …of which at least this share (per cent) were 5xx.
const ERROR_PERCENT: u64 = 10;
/// Passes in a row that raise (and clear) the error-rate alert.
const SUSTAINED: u32 = 3;
/// Free space must be this many points above the threshold to count as recovered.
const DISK_HYSTERESIS: f64 = 2.0;

/// Answers counted since the last pass (see [`count_response`]).
#[derive(Debug, Default)]
struct Answers {
    total: AtomicU64,
    errors: AtomicU64,
}

/// What the passes remember.
#[derive(Debug, Default)]
struct Watch(Mutex<WatchState>);

/// The alerts' state between passes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WatchState {
    /// `console_disk_low` is raised.
    pub disk_low: bool,
    /// `console_error_rate` is raised.
    pub error_rate: bool,
    /// Erroring passes in a row (or, while raised, clean passes in a row).
    pub streak: u32,
}

/// Counts an answer for the error-rate alert (the request middleware calls it).
pub fn count_response(state: &AppState, status: u16) {
    let answers = state.slots.get::<Answers>();
    answers.total.fetch_add(1, Ordering::Relaxed);
    if status >= 500 {
        answers.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// The error-rate alert's next state after a pass that saw `total`
/// answers, `errors` of them 5xx: `Some(true)` raises, `Some(false)` clears.
pub fn error_rate_step(watch: &mut WatchState, total: u64, errors: u64) -> Option<bool> {
    let erroring = total >= MIN_REQUESTS && errors * 100 >= total * ERROR_PERCENT;
    if erroring != watch.error_rate {
        watch.streak += 1;
    } else {
        watch.streak = 0;
    }
    if watch.streak >= SUSTAINED {
        watch.streak = 0;
        watch.error_rate = erroring;
        return Some(erroring);
    }
    None
}

/// The disk alert's next state at `free_percent`: `Some(true)` raises,
/// `Some(false)` clears.
pub fn disk_step(watch: &mut WatchState, free_percent: f64, threshold: f64) -> Option<bool> {
    if !watch.disk_low && free_percent < threshold {
        watch.disk_low = true;
        return Some(true);
    }
    if watch.disk_low && free_percent >= (threshold + DISK_HYSTERESIS).min(100.0) {
        watch.disk_low = false;
        return Some(false);
    }
    None
}

/// The free share (per cent) of the file system holding `path`.
#[cfg(unix)]
pub fn free_percent(path: &std::path::Path) -> std::io::Result<f64> {
    let stat = rustix::fs::statvfs(path)?;
    let total = stat.f_blocks as f64;
    if total <= 0.0 {
        return Ok(100.0);
    }
    Ok(stat.f_bavail as f64 / total * 100.0)
}

/// The free share of the file system holding `path` (not measured here).
#[cfg(not(unix))]
pub fn free_percent(_path: &std::path::Path) -> std::io::Result<f64> {
    Ok(100.0)
}

async fn tell(
    state: &AppState,
    kind: EventKind,
    subject: &str,
    name: String,
    details: Option<String>,
) -> Result<(), sqlx::Error> {
    let event = NewConsoleEvent {
        kind,
        subject: subject.to_owned(),
        subject_name: name,
        details,
        channel_id: None,
        delivery_id: None,
        occurred_at: Utc::now(),
    };
    notify::outbox::record_console_event(state, &event).await
}

/// One pass: the disk, then the answers since the last pass.
pub async fn pass(state: &AppState) -> anyhow::Result<WatchState> {
    let dir = state.settings.data_dir.clone();
    let threshold = f64::from(state.settings.disk_low_percent);
    let free = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || free_percent(&dir)).await??
    };
    let answers = state.slots.get::<Answers>();
    let total = answers.total.swap(0, Ordering::Relaxed);
    let errors = answers.errors.swap(0, Ordering::Relaxed);
    let watch = state.slots.get::<Watch>();
    let (disk, rate, now) = {
        let mut w = watch.0.lock().unwrap_or_else(|e| e.into_inner());
        let disk = disk_step(&mut w, free, threshold);
        let rate = error_rate_step(&mut w, total, errors);
        (disk, rate, w.clone())
    };
    let place = dir.display().to_string();
    match disk {
        Some(true) => {
            tracing::warn!(free_percent = free, "the data directory's disk is low on free space");
            let details = format!("{free:.1} % free on the file system of {place} (threshold {threshold} %)");
            tell(state, EventKind::ConsoleDiskLow, "disk:data_dir", place.clone(), Some(details)).await?;
        }
        Some(false) => {
            let details = format!("{free:.1} % free");
            tell(state, EventKind::ConsoleRecovered, "disk:data_dir", place.clone(), Some(details)).await?;
        }
        None => {}
    }
    match rate {
        Some(true) => {
            tracing::warn!(total, errors, "the console keeps answering with server errors");
            let details = format!("{errors} of {total} answers in the last minute were server errors (5xx)");
            tell(state, EventKind::ConsoleErrorRate, "http:5xx", "HTTP".to_owned(), Some(details)).await?;
        }
        Some(false) => {
            tell(state, EventKind::ConsoleRecovered, "http:5xx", "HTTP".to_owned(), None).await?;
        }
        None => {}
    }
    Ok(now)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_sustained_error_rate_raises_once_and_clears_once() {
        let mut w = WatchState::default();
        // A burst in one minute is not sustained.
        assert_eq!(error_rate_step(&mut w, 100, 50), None);
        assert_eq!(error_rate_step(&mut w, 100, 0), None);
        // Three minutes in a row are.
        assert_eq!(error_rate_step(&mut w, 100, 50), None);
        assert_eq!(error_rate_step(&mut w, 100, 20), None);
        assert_eq!(error_rate_step(&mut w, 40, 4), Some(true));
        assert_eq!(error_rate_step(&mut w, 100, 50), None);
        // Few requests say nothing: they count as clean.
        assert_eq!(error_rate_step(&mut w, 5, 5), None);
        assert_eq!(error_rate_step(&mut w, 100, 1), None);
        assert_eq!(error_rate_step(&mut w, 0, 0), Some(false));
        assert!(!w.error_rate);
    }

    #[test]
    fn low_disk_raises_once_and_clears_with_a_margin() {
        let mut w = WatchState::default();
        assert_eq!(disk_step(&mut w, 30.0, 10.0), None);
        assert_eq!(disk_step(&mut w, 9.5, 10.0), Some(true));
        assert_eq!(disk_step(&mut w, 8.0, 10.0), None);
        assert_eq!(disk_step(&mut w, 11.0, 10.0), None, "just above the threshold is not yet recovered");
        assert_eq!(disk_step(&mut w, 12.5, 10.0), Some(false));
    }

    #[test]
    fn free_space_is_measured() {
        let free = free_percent(&std::env::temp_dir()).unwrap();
        assert!((0.0..=100.0).contains(&free), "{free}");
    }
}
