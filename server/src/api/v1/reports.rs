//! `/api/v1/reports`: report figures for a period, as JSON, CSV or PDF.

use app::{
    error::AppError,
    model::report::{Report, ReportQuery},
    ssr::{accounts::RequestInfo, infra::state::AppState, reports},
};
use axum::{
    Extension,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::api::{extract::ApiQuery, v1::ErrorBody};

/// A report for a period (default: the last 30 days) and filters: runs by
/// result, success rate, SLA % (expected runs answered by a success or a
/// warning), missed runs, durations, bytes with the previous period, RPO
/// compliance, failures with who acknowledged them and anomalies. Days are
/// in the console's time zone. `format=csv` answers one row per job (UTF-8
/// with a byte order mark), `format=pdf` an A4 document; `lang` chooses
/// their language.
#[utoipa::path(
    get, path = "/api/v1/reports/summary", tag = "reports", security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The report", content(
            (Report = "application/json"),
            (String = "text/csv"),
            (Vec<u8> = "application/pdf")
        )),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, description = "Invalid field; `field` names it", body = ErrorBody)
    )
)]
pub async fn summary(
    State(state): State<AppState>,
    Extension(info): Extension<RequestInfo>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, AppError> {
    let export = reports::export(&state, &info, &query).await?;
    let mut response = export.body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(export.content_type));
    if export.content_type != "application/json"
        && let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.file_name))
    {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
