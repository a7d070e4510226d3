//! Live events for open dashboards: a run was recorded or a job changed
//! state. Published after the transaction commits; delivered to every
//! subscriber of this process (server-sent events).

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

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
}

/// The in-process fan-out of [`LiveEvent`]s.
#[derive(Debug, Clone)]
pub struct EventHub {
    sender: broadcast::Sender<LiveEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        // A slow subscriber that falls this far behind skips ahead; the
        // dashboard reloads its data on any event, so nothing is lost.
        let (sender, _) = broadcast::channel(1024);
        Self { sender }
    }
}

impl EventHub {
    /// Sends an event to every subscriber (none is fine).
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }
}
