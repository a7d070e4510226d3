//! Acknowledging a job's problem, as the UI and the API do it: the jobs
//! domain checks, stores and audits it, and the `job_acknowledged` server
//! event it records here is told by the rules that want it. It lives in
//! the notify domain because recording that event is the Veeam domain's
//! (server events), which the jobs domain may not call.

use crate::{
    error::AppError,
    model::job::{AcknowledgeRequest, Acknowledgement},
    ssr::{accounts::RequestInfo, infra::state::AppState, jobs, veeam},
};

/// Acknowledges job `id`'s current problem (see [`jobs::acknowledge`]) and
/// records the `job_acknowledged` event.
pub async fn acknowledge(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    request: AcknowledgeRequest,
) -> Result<Acknowledgement, AppError> {
    let done = jobs::acknowledge(state, info, id, request).await?;
    let subject = format!("ack:{id}");
    let event = veeam::store::NewSystemEvent {
        kind: "job_acknowledged",
        veeam_server_id: done.veeam_server_id,
        job_id: Some(id),
        subject: &subject,
        subject_name: &done.job_name,
        details: done.ack.comment.as_deref(),
        occurred_at: done.ack.at,
    };
    if let Err(e) = veeam::record_event(state, &event).await {
        // The acknowledgement is stored and audited; only its message is lost.
        tracing::error!(error.cause_chain = ?e, job_id = id, "the job_acknowledged event could not be recorded");
    }
    Ok(done.ack)
}

/// Withdraws job `id`'s acknowledgement (see [`jobs::withdraw_acknowledgement`]).
pub async fn withdraw(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    jobs::withdraw_acknowledgement(state, info, id).await
}
