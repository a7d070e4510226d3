//! Telling open dashboards what a write changed, after it committed.

use super::store::writes::{Recorded, StateChange};
use crate::{
    model::job::RunResult,
    ssr::infra::{events::LiveEvent, state::AppState},
};

/// Publishes what a recorded report changed.
pub fn publish(state: &AppState, recorded: &Recorded, result: RunResult) {
    if recorded.created {
        state.events.publish(LiveEvent::Run { job_id: recorded.job_id, run_id: recorded.run_id, result });
    }
    if let Some(change) = &recorded.change {
        publish_change(state, change);
    }
}

/// Publishes a state change.
pub fn publish_change(state: &AppState, change: &StateChange) {
    state.events.publish(LiveEvent::Job { job_id: change.job_id, state: change.to });
}
