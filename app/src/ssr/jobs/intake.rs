//! The way run reports reach the database: one writer per process that
//! commits them in batches (group commit).
//!
//! Every report (ping URLs, the run API, the Veeam webhook) is handed to
//! the writer, which takes whatever has queued up while its previous batch
//! was being written (at most [`batch::MAX_BATCH`]) and records it in one
//! transaction ([`batch::record`]). Each caller is answered with its own
//! outcome only after the commit, so an answer always means the report is
//! stored. With one client a batch holds one report; with many, a commit
//! serves them all, so throughput grows with clients instead of writers
//! queueing for SQLite's write lock.
//!
//! A database error fails a batch as a whole; its reports are then
//! recorded one at a time, so one report the database refuses cannot take
//! the others with it. If the writer is gone (it is never expected to
//! stop), reports are recorded directly.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};

use super::{
    calendar_service, live,
    store::{
        batch::{self, Outcome, Report},
        writes::IngestError,
    },
};
use crate::{
    model::job::{JobSource, RunResult},
    ssr::infra::{metrics::Metrics, state::AppState},
};

/// How many reports may wait for the writer before callers wait to queue.
const QUEUE: usize = 8 * batch::MAX_BATCH;

struct Pending {
    report: Report,
    reply: oneshot::Sender<Outcome>,
}

/// The writer's queue (in the state's slots).
#[derive(Default)]
pub struct IntakeSlot {
    sender: OnceLock<mpsc::Sender<Pending>>,
}

impl IntakeSlot {
    /// The queue, with its writer started on first use.
    fn sender(&self, state: &AppState) -> mpsc::Sender<Pending> {
        self.sender
            .get_or_init(|| {
                let (sender, receiver) = mpsc::channel(QUEUE);
                tokio::spawn(write(state.clone(), receiver));
                sender
            })
            .clone()
    }
}

/// Records one report through the writer; answers once it is committed.
pub async fn submit(state: &AppState, report: Report) -> Outcome {
    let sender = state.slots.get::<IntakeSlot>().sender(state);
    let (reply, answer) = oneshot::channel();
    if let Err(mpsc::error::SendError(pending)) = sender.send(Pending { report, reply }).await {
        tracing::error!("the report writer is gone; recording directly");
        return record_all(state, std::slice::from_ref(&pending.report))
            .await
            .pop()
            .unwrap_or(Err(IngestError::NoJob));
    }
    match answer.await {
        Ok(outcome) => outcome,
        // The writer dropped the report without an answer (it panicked):
        // not stored as far as the caller can tell.
        Err(_) => Err(IngestError::Db(sqlx::Error::WorkerCrashed)),
    }
}

/// The writer: takes what has queued up, records it, answers each caller.
async fn write(state: AppState, mut receiver: mpsc::Receiver<Pending>) {
    let mut pending = Vec::with_capacity(batch::MAX_BATCH);
    while receiver.recv_many(&mut pending, batch::MAX_BATCH).await > 0 {
        let (reports, replies): (Vec<Report>, Vec<oneshot::Sender<Outcome>>) =
            pending.drain(..).map(|p| (p.report, p.reply)).unzip();
        let outcomes = record_all(&state, &reports).await;
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            // A caller that went away (its client hung up) needs no answer.
            let _ = reply.send(outcome);
        }
    }
}

/// Records `reports` in one transaction, or one at a time when that
/// fails, and tells metrics and open dashboards. One outcome per report.
pub async fn record_all(state: &AppState, reports: &[Report]) -> Vec<Outcome> {
    let tz = state.settings.timezone;
    let calendar = match calendar_service::current(state).await {
        Ok(calendar) => calendar,
        Err(e) => return reports.iter().map(|_| Err(IngestError::Db(clone_error(&e)))).collect(),
    };
    let outcomes = match batch::record(&state.db, tz, &calendar, reports).await {
        Ok(outcomes) => outcomes,
        Err(e) if reports.len() == 1 => vec![Err(IngestError::Db(e))],
        Err(e) => {
            tracing::warn!(error = %e, reports = reports.len(), "a batch of reports failed; recording them one at a time");
            let mut outcomes = Vec::with_capacity(reports.len());
            for report in reports {
                let one = batch::record(&state.db, tz, &calendar, std::slice::from_ref(report)).await;
                outcomes.push(match one {
                    Ok(mut one) => one.pop().unwrap_or(Err(IngestError::NoJob)),
                    Err(e) => Err(IngestError::Db(e)),
                });
            }
            outcomes
        }
    };
    let metrics = Metrics::of(state);
    for (report, outcome) in reports.iter().zip(&outcomes) {
        if let Ok(recorded) = outcome {
            let incoming = &report.incoming;
            if recorded.created && incoming.result != RunResult::Running {
                let source =
                    if incoming.origin.starts_with("veeam") { JobSource::Veeam } else { JobSource::Push };
                metrics.run(source.as_str(), incoming.result.as_str());
            }
            live::publish(state, recorded, incoming.result);
        }
    }
    outcomes
}

/// A database error for each of several callers (`sqlx::Error` is not
/// `Clone`): the same text.
fn clone_error(error: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Protocol(error.to_string())
}
