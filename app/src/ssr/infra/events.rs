//! Live events for open dashboards: a run was recorded or a job changed
//! state. Published after the transaction commits; delivered to every
//! subscriber of this process (server-sent events) and, on PostgreSQL, to
//! the other instances' (see `cluster`).

use std::sync::{
    Arc, OnceLock,
    atomic::{AtomicBool, Ordering},
};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::model::job::{JobState, RunResult};

/// Something a dashboard should redraw for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A run was recorded or updated.
    Run {
        /// The job.
        job_id: i64,
        /// The run.
        run_id: i64,
        /// Its result so far.
        result: RunResult,
    },
    /// A job changed state.
    Job {
        /// The job.
        job_id: i64,
        /// Its new state.
        state: JobState,
    },
    /// Events may have been lost (another instance's could not reach this
    /// one for a while): reload everything.
    Resync,
}

/// The in-process fan-out of [`LiveEvent`]s.
#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<LiveEvent>,
    /// Where events for the other instances go, once set.
    relay: Arc<OnceLock<mpsc::Sender<LiveEvent>>>,
    /// Set when an event could not be queued for the other instances.
    dropped: Arc<AtomicBool>,
}

impl Default for EventHub {
    fn default() -> Self {
        // A slow subscriber that falls this far behind skips ahead; the
        // dashboard reloads its data on any event, so nothing is lost.
        let (sender, _) = broadcast::channel(1024);
        Self { sender, relay: Arc::default(), dropped: Arc::default() }
    }
}

impl EventHub {
    /// Sends an event to every subscriber (none is fine), here and on the
    /// other instances.
    pub fn publish(&self, event: LiveEvent) {
        if let Some(relay) = self.relay.get()
            && relay.try_send(event.clone()).is_err()
        {
            // A full queue (the database is slow): the other instances'
            // dashboards are told to resync with the next notice.
            self.dropped.store(true, Ordering::Relaxed);
        }
        self.publish_here(event);
    }

    /// Sends an event to this instance's subscribers only (one that came
    /// from another instance).
    pub fn publish_here(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
    }

    /// Whether an event could not be queued for the other instances since
    /// the last call.
    pub fn take_dropped(&self) -> bool {
        self.dropped.swap(false, Ordering::Relaxed)
    }

    /// From now on, [`EventHub::publish`] also queues each event for the
    /// other instances on the returned receiver. Once per hub.
    pub fn relay(&self) -> Option<mpsc::Receiver<LiveEvent>> {
        let (sender, receiver) = mpsc::channel(8192);
        self.relay.set(sender).ok().map(|()| receiver)
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }
}
