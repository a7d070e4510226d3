//! Scheduled report e-mails for the UI (`/reports/schedules`): anyone
//! signed in reads them; administrators add, change, remove and send them
//! now. The forms post plain fields, so they work before the WASM loads.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    model::report::{ReportSchedule, ReportSendOutcome},
};

#[cfg(feature = "ssr")]
use super::server;

/// What the scheduled reports page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSchedulesData {
    /// Every scheduled report.
    pub schedules: Vec<ReportSchedule>,
    /// (id, name, enabled) of the e-mail channels.
    pub channels: Vec<(i64, String, bool)>,
    /// Whether the caller may change them (administrators).
    pub can_edit: bool,
    /// The console's time zone (the default of new schedules).
    pub default_timezone: String,
    /// (id, next occurrence, last sent) in each schedule's own zone.
    pub local_times: Vec<(i64, String, Option<String>)>,
}

/// A form's fields, as posted (`form[field]=value`).
pub type FormFields = std::collections::HashMap<String, String>;

#[cfg(feature = "ssr")]
fn field(form: &FormFields, key: &str) -> Option<String> {
    form.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The scheduled reports and the e-mail channels to choose from.
#[server(prefix = "/api/fn", endpoint = "report-schedules/list")]
pub async fn report_schedules() -> Result<ReportSchedulesData, AppError> {
    use crate::{model::user::Role, ssr::reports::schedules};
    let (state, info) = server::ctx()?;
    let schedules = schedules::list(&state, &info).await?;
    let channels = schedules::email_channels(&state, &info).await?;
    let can_edit = info.principal.as_ref().is_some_and(|p| p.role >= Role::Admin);
    let local_times = schedules
        .iter()
        .map(|s| {
            let zone = s.time_zone.parse::<chrono_tz::Tz>().unwrap_or(chrono_tz::UTC);
            let show = |at: chrono::DateTime<chrono::Utc>| {
                at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
            };
            (s.id, show(s.next_send_at), s.last_sent_at.map(show))
        })
        .collect();
    Ok(ReportSchedulesData {
        local_times,
        schedules,
        channels,
        can_edit,
        default_timezone: state.settings.timezone.name().to_owned(),
    })
}

/// Adds a scheduled report, or (with `id`) replaces one (administrators).
#[server(prefix = "/api/fn", endpoint = "report-schedules/save")]
pub async fn save_report_schedule(form: FormFields) -> Result<ReportSchedule, AppError> {
    use crate::{i18n::td_string, model::report::ReportScheduleInput, ssr::reports::schedules};
    let (state, info) = server::ctx()?;
    let locale = info.locale;
    let id =
        match field(&form, "id") {
            None => None,
            Some(text) => Some(text.parse::<i64>().map_err(|_| {
                AppError::validation("id", td_string!(locale, errors.not_a_number).to_string())
            })?),
        };
    let job_ids = match field(&form, "job_ids") {
        None => None,
        Some(text) => Some(
            text.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| t.parse::<i64>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| {
                    AppError::validation(
                        "job_ids",
                        td_string!(locale, report_schedules.errors.job_ids).to_string(),
                    )
                })?,
        ),
    };
    let veeam_server_id = match field(&form, "veeam_server_id") {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            AppError::validation(
                "veeam_server_id",
                td_string!(locale, report_schedules.errors.veeam_server_id).to_string(),
            )
        })?),
    };
    let cadence = field(&form, "cadence").unwrap_or_default();
    // The form shows both day fields; only the one of the cadence counts.
    let weekday = field(&form, "weekday").filter(|_| cadence == "weekly");
    let month_day = field(&form, "month_day").filter(|_| cadence == "monthly");
    let mut channel_ids: Vec<i64> = form
        .iter()
        .filter(|(k, v)| k.starts_with("channel_") && !v.is_empty() && v.as_str() != "false")
        .filter_map(|(k, _)| k["channel_".len()..].parse().ok())
        .collect();
    channel_ids.sort_unstable();
    let input = ReportScheduleInput {
        name: field(&form, "name").unwrap_or_default(),
        enabled: Some(form.get("enabled").is_some_and(|v| !v.is_empty() && v != "false")),
        cadence,
        weekday,
        month_day,
        time_of_day: field(&form, "time_of_day").unwrap_or_default(),
        time_zone: field(&form, "time_zone"),
        period: field(&form, "period"),
        group_by: field(&form, "group_by"),
        tag: field(&form, "tag"),
        source: field(&form, "source"),
        veeam_server_id,
        job_ids,
        lang: field(&form, "lang"),
        channel_ids,
    };
    match id {
        None => schedules::create(&state, &info, input).await,
        Some(id) => schedules::replace(&state, &info, id, input).await,
    }
}

/// Removes a scheduled report (administrators).
#[server(prefix = "/api/fn", endpoint = "report-schedules/delete")]
pub async fn delete_report_schedule(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::reports::schedules::delete(&state, &info, id).await
}

/// Queues a scheduled report for its current period now (administrators).
#[server(prefix = "/api/fn", endpoint = "report-schedules/send-now")]
pub async fn send_report_schedule_now(id: i64) -> Result<ReportSendOutcome, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::reports::schedules::send_now(&state, &info, id).await
}
