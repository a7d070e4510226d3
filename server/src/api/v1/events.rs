//! `GET /api/v1/events`: server-sent events for live dashboards.

use std::convert::Infallible;

use app::{
    error::AppError,
    model::user::Role,
    ssr::{
        accounts::{Access, RequestInfo},
        infra::{events::LiveEvent, state::AppState},
    },
};
use axum::{
    Extension,
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};

use crate::api::v1::ErrorBody;

/// A stream of `run` and `job` events (JSON in `data`) as they happen, on
/// whichever instance they happened. A `lagged` or `resync` event means
/// some were skipped: reload everything.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "runs", security(("bearer" = [])),
    responses(
        (status = 200, description = "text/event-stream of {\"type\": \"run\"|\"job\", ...}", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)
    )
)]
pub async fn events(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    info.require(Role::Viewer, Access::Read)?;
    let stopped = state.tasks.stopping().cancelled_owned();
    let stream = BroadcastStream::new(state.events.subscribe())
        .map(|item| {
            let event = match item {
                // Events from other instances may have been lost: reload.
                Ok(LiveEvent::Resync) => Event::default().event("resync").data("{}"),
                Ok(event) => {
                    Event::default().json_data(&event).unwrap_or_else(|_| Event::default().comment("?"))
                }
                Err(BroadcastStreamRecvError::Lagged(_)) => Event::default().event("lagged").data("{}"),
            };
            Ok(event)
        })
        // Ends with the server, so a graceful shutdown does not wait on open dashboards.
        .take_until(stopped);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
