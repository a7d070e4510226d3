//! Notifications for the UI: the delivery log; channels, rules and
//! maintenance windows (Settings).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    error::AppError,
    model::notify::{Channel, Delivery, MaintenanceWindow, Rule, SendOutcome},
};

#[cfg(feature = "ssr")]
use super::server;

/// What the delivery log page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryLogPage {
    /// The newest deliveries (filtered).
    pub deliveries: Vec<Delivery>,
    /// (id, name, kind) of every channel.
    pub channels: Vec<(i64, String, String)>,
    /// Deliveries waiting.
    pub queue: i64,
    /// The worker's last pass on the instance that answered.
    pub last_loop_at: Option<DateTime<Utc>>,
    /// The newest events held back (maintenance windows, Veeam outages).
    pub suppressed: Vec<crate::model::notify::Suppression>,
}

/// The delivery log, optionally only one status (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/log")]
pub async fn delivery_log(status: Option<String>) -> Result<DeliveryLogPage, AppError> {
    let (state, info) = server::ctx()?;
    let status = crate::ssr::infra::input::non_empty(status)
        .filter(|s| matches!(s.as_str(), "pending" | "sent" | "dead"));
    let deliveries = crate::ssr::notify::outbox::list(&state, &info, status, None, None, Some(200)).await?;
    let channels = crate::ssr::notify::channels::list(&state, &info)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name, c.kind.as_str().to_owned()))
        .collect();
    let queue = crate::ssr::notify::outbox::queue_length(&state).await?;
    let last_loop_at = state.tasks.task(crate::ssr::notify::NOTIFIER_TASK).and_then(|t| t.last_ok_at);
    let suppressed = crate::ssr::notify::outbox::suppressed(&state, &info, None, Some(50)).await?;
    Ok(DeliveryLogPage { deliveries, channels, queue, last_loop_at, suppressed })
}

/// Queues a sent or dead delivery again (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/resend")]
pub async fn resend_delivery(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::outbox::resend(&state, &info, id).await
}

/// What the notification settings show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifySettingsPage {
    /// Every channel.
    pub channels: Vec<Channel>,
    /// Every rule.
    pub rules: Vec<Rule>,
    /// Every maintenance window.
    pub windows: Vec<MaintenanceWindow>,
    /// (id, name) of jobs to choose from (the first 1000 by name).
    pub jobs: Vec<(i64, String)>,
    /// The console's time zone (the default of new windows).
    pub default_timezone: String,
}

/// Channels, rules and maintenance windows (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/settings")]
pub async fn notify_settings() -> Result<NotifySettingsPage, AppError> {
    use crate::ssr::notify::{channels, rules, windows};
    let (state, info) = server::ctx()?;
    let channels = channels::list(&state, &info).await?;
    let rules = rules::list(&state, &info).await?;
    let windows = windows::list(&state, &info).await?;
    let jobs = crate::ssr::jobs::choices(&state, 1000).await?;
    Ok(NotifySettingsPage {
        channels,
        rules,
        windows,
        jobs,
        default_timezone: state.settings.timezone.name().to_owned(),
    })
}

/// A form's fields, as posted (`form[field]=value`).
pub type FormFields = std::collections::HashMap<String, String>;

#[cfg(feature = "ssr")]
fn field(form: &FormFields, key: &str) -> Option<String> {
    form.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(feature = "ssr")]
fn checked(form: &FormFields, key: &str) -> bool {
    form.get(key).is_some_and(|v| !v.is_empty() && v != "false")
}

/// The keys `<prefix><suffix>` that are checked, without the prefix.
#[cfg(feature = "ssr")]
fn checked_with(form: &FormFields, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = form
        .iter()
        .filter(|(k, v)| k.starts_with(prefix) && !v.is_empty() && v.as_str() != "false")
        .map(|(k, _)| k[prefix.len()..].to_owned())
        .collect();
    keys.sort();
    keys
}

#[cfg(feature = "ssr")]
fn number<T: std::str::FromStr>(
    form: &FormFields,
    key: &str,
    locale: crate::i18n::Locale,
) -> Result<Option<T>, AppError> {
    match field(form, key) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            AppError::validation(key, crate::i18n::td_string!(locale, errors.not_a_number).to_string())
        }),
    }
}

#[cfg(feature = "ssr")]
fn job_filter(form: &FormFields) -> crate::model::notify::JobFilter {
    crate::model::notify::JobFilter {
        kind: field(form, "filter").unwrap_or_else(|| "all".into()),
        tags: field(form, "tags")
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect(),
        job_ids: checked_with(form, "job_").iter().filter_map(|id| id.parse().ok()).collect(),
    }
}

/// Adds a channel, or (with `id`) changes one; empty secrets keep the stored ones (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/channel-save")]
pub async fn save_channel(form: FormFields) -> Result<Channel, AppError> {
    use crate::model::notify::{ChannelConfigInput, ChannelKind, ChannelPatch, NewChannel};
    let (state, info) = server::ctx()?;
    let locale = info.locale;
    let id: Option<i64> = number(&form, "id", locale)?;
    let kind = match (id, field(&form, "kind").as_deref().and_then(ChannelKind::parse)) {
        (_, Some(kind)) => kind,
        (Some(id), None) => crate::ssr::notify::channels::get(&state, &info, id).await?.kind,
        (None, None) => {
            return Err(AppError::validation(
                "kind",
                crate::i18n::td_string!(locale, notify.errors.kind).to_string(),
            ));
        }
    };
    let config = if kind == ChannelKind::Email {
        ChannelConfigInput {
            host: field(&form, "host"),
            port: number(&form, "port", locale).map_err(|_| {
                AppError::validation(
                    "config.port",
                    crate::i18n::td_string!(locale, notify.errors.port).to_string(),
                )
            })?,
            tls: field(&form, "tls"),
            username: field(&form, "username"),
            password: field(&form, "password"),
            from: field(&form, "from"),
            to: field(&form, "to").map(|to| {
                to.split([',', '\n', ';']).map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()
            }),
            trust_cert_pem: field(&form, "trust_cert_pem"),
            url: None,
            secret: None,
        }
    } else {
        ChannelConfigInput { url: field(&form, "url"), secret: field(&form, "secret"), ..Default::default() }
    };
    let name = field(&form, "name").unwrap_or_default();
    let enabled = checked(&form, "enabled");
    match id {
        None => {
            crate::ssr::notify::channels::create(
                &state,
                &info,
                NewChannel { name, kind, locale: field(&form, "locale"), enabled: Some(enabled), config },
            )
            .await
        }
        Some(id) => {
            let patch = ChannelPatch {
                name: Some(name),
                locale: field(&form, "locale"),
                enabled: Some(enabled),
                config: Some(config),
            };
            crate::ssr::notify::channels::update(&state, &info, id, patch).await
        }
    }
}

/// Removes a channel (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/channel-delete")]
pub async fn delete_channel(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::channels::delete(&state, &info, id).await
}

/// Sends a test message through a channel; the real outcome (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/channel-test")]
pub async fn test_channel(id: i64) -> Result<SendOutcome, AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::channels::test(&state, &info, id).await
}

/// Adds a rule, or (with `id`) replaces one (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/rule-save")]
pub async fn save_rule(form: FormFields) -> Result<Rule, AppError> {
    use crate::model::notify::RuleInput;
    let (state, info) = server::ctx()?;
    let locale = info.locale;
    let id: Option<i64> = number(&form, "id", locale)?;
    let input = RuleInput {
        name: field(&form, "name").unwrap_or_default(),
        events: checked_with(&form, "event_"),
        channel_ids: checked_with(&form, "channel_").iter().filter_map(|id| id.parse().ok()).collect(),
        job_filter: Some(job_filter(&form)),
        min_consecutive_failures: number(&form, "min_consecutive_failures", locale)?,
        repeat_every_hours: number::<i64>(&form, "repeat_every_hours", locale)?.filter(|h| *h != 0),
        enabled: Some(checked(&form, "enabled")),
    };
    crate::ssr::notify::rules::save(&state, &info, id, input).await
}

/// Removes a rule (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/rule-delete")]
pub async fn delete_rule(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::rules::delete(&state, &info, id).await
}

/// Adds a maintenance window, or (with `id`) replaces one (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/window-save")]
pub async fn save_window(form: FormFields) -> Result<MaintenanceWindow, AppError> {
    use crate::model::notify::MaintenanceWindowInput;
    let (state, info) = server::ctx()?;
    let id: Option<i64> = number(&form, "id", info.locale)?;
    let input = MaintenanceWindowInput {
        name: field(&form, "name").unwrap_or_default(),
        kind: field(&form, "kind").unwrap_or_default(),
        starts_at: field(&form, "starts_at"),
        ends_at: field(&form, "ends_at"),
        weekdays: checked_with(&form, "day_"),
        start_time: field(&form, "start_time"),
        end_time: field(&form, "end_time"),
        time_zone: field(&form, "time_zone"),
        job_filter: Some(job_filter(&form)),
        enabled: Some(checked(&form, "enabled")),
    };
    crate::ssr::notify::windows::save(&state, &info, id, input).await
}

/// Removes a maintenance window (administrators).
#[server(prefix = "/api/fn", endpoint = "notify/window-delete")]
pub async fn delete_window(id: i64) -> Result<(), AppError> {
    let (state, info) = server::ctx()?;
    crate::ssr::notify::windows::delete(&state, &info, id).await
}
