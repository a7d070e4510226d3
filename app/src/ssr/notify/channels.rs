//! Notification channels (administrators): validation, secrets encrypted
//! at rest and never read back, sending, and the "send test" button.
//!
//! A stored secret (an SMTP password, a webhook's signing secret) is only
//! ever sent where it was entered for: changing the destination (the SMTP
//! server, its port or security; the webhook URL) needs the secret again.
//! Addresses the console may not reach are refused when saved and again
//! when sending (see [`outbound`]).

use serde::{Deserialize, Serialize};

use super::{
    chat,
    email::{self, EmailConfig, SmtpTls},
    message::{EventKind, Notice, render},
    send::SendError,
    store::{self as db, ChannelRow, WriteChannelError},
};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::{
        job::RunResult,
        notify::{
            Channel, ChannelConfigInput, ChannelConfigView, ChannelKind, ChannelPatch, NewChannel,
            SendOutcome,
        },
        user::Role,
    },
    ssr::{
        accounts::{
            Access, RequestInfo,
            audit::{self as audit_trail, Event, Target},
        },
        infra::{
            input::non_empty,
            outbound::{self, Policy, refused_message},
            state::AppState,
        },
    },
};

/// What is stored (encrypted) for a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StoredConfig {
    /// E-mail settings.
    pub email: Option<EmailConfig>,
    /// Webhook URL.
    pub url: Option<String>,
    /// Signing secret (generic webhooks).
    pub secret: Option<String>,
}

fn view(kind: ChannelKind, stored: &StoredConfig) -> ChannelConfigView {
    match (kind, &stored.email) {
        (ChannelKind::Email, Some(e)) => ChannelConfigView {
            host: Some(e.host.clone()),
            port: Some(e.port),
            tls: Some(match e.tls {
                SmtpTls::None => "none".into(),
                SmtpTls::Starttls => "starttls".into(),
                SmtpTls::Tls => "tls".into(),
            }),
            username: e.username.clone(),
            password_set: e.password.is_some(),
            from: Some(e.from.clone()),
            to: Some(e.to.clone()),
            trust_cert_pem: e.trust_cert_pem.clone(),
            url_host: None,
            secret_set: false,
        },
        _ => ChannelConfigView {
            url_host: stored
                .url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned)),
            secret_set: stored.secret.is_some(),
            ..ChannelConfigView::default()
        },
    }
}

fn to_model(state: &AppState, row: &ChannelRow) -> Result<Channel, AppError> {
    let kind = row.kind;
    let stored = decrypt(state, row).unwrap_or_default();
    Ok(Channel {
        id: row.id,
        name: row.name.clone(),
        kind,
        locale: row.locale.clone(),
        enabled: row.enabled,
        config: view(kind, &stored),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// The stored settings of a channel.
pub fn decrypt(state: &AppState, row: &ChannelRow) -> Result<StoredConfig, AppError> {
    let plain = state.cipher.decrypt(&row.config_encrypted).map_err(AppError::internal)?;
    serde_json::from_str(secrecy::ExposeSecret::expose_secret(&plain)).map_err(AppError::internal)
}

/// Merges `input` into `current` and checks the result for `kind`.
fn merge(
    locale: Locale,
    kind: ChannelKind,
    current: StoredConfig,
    input: ChannelConfigInput,
    policy: Policy,
) -> Result<StoredConfig, AppError> {
    match kind {
        ChannelKind::Email => {
            let old = current.email;
            let host = non_empty(input.host).or(old.as_ref().map(|e| e.host.clone()));
            let host = host
                .ok_or_else(|| AppError::validation("config.host", td_string!(locale, notify.errors.host)))?;
            outbound::check_host(&host, policy)
                .map_err(|refused| AppError::validation("config.host", refused_message(locale, refused)))?;
            let port = input.port.or(old.as_ref().map(|e| e.port)).unwrap_or(587);
            if port == 0 {
                return Err(AppError::validation("config.port", td_string!(locale, notify.errors.port)));
            }
            let tls = match non_empty(input.tls).as_deref() {
                None => old.as_ref().map(|e| e.tls).unwrap_or_default(),
                Some("none") => SmtpTls::None,
                Some("starttls") => SmtpTls::Starttls,
                Some("tls") => SmtpTls::Tls,
                Some(_) => {
                    return Err(AppError::validation("config.tls", td_string!(locale, notify.errors.tls)));
                }
            };
            let username = match input.username {
                Some(u) => non_empty(Some(u)),
                None => old.as_ref().and_then(|e| e.username.clone()),
            };
            let new_password = non_empty(input.password);
            if new_password.is_none()
                && let Some(old) = old.as_ref().filter(|e| e.password.is_some())
                && (old.host != host || old.port != port || old.tls != tls)
            {
                return Err(AppError::validation(
                    "config.password",
                    td_string!(locale, notify.errors.password_again),
                ));
            }
            let password = new_password.or(old.as_ref().and_then(|e| e.password.clone()));
            let from = non_empty(input.from).or(old.as_ref().map(|e| e.from.clone())).unwrap_or_default();
            if from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(AppError::validation("config.from", td_string!(locale, notify.errors.from)));
            }
            let to: Vec<String> = match input.to {
                Some(to) => to.into_iter().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect(),
                None => old.as_ref().map(|e| e.to.clone()).unwrap_or_default(),
            };
            if to.is_empty()
                || to.len() > 50
                || to.iter().any(|t| t.parse::<lettre::message::Mailbox>().is_err())
            {
                return Err(AppError::validation("config.to", td_string!(locale, notify.errors.to)));
            }
            let trust_cert_pem = match input.trust_cert_pem {
                Some(pem) => non_empty(Some(pem)),
                None => old.as_ref().and_then(|e| e.trust_cert_pem.clone()),
            };
            if let Some(pem) = &trust_cert_pem
                && lettre::transport::smtp::client::Certificate::from_pem(pem.as_bytes()).is_err()
            {
                return Err(AppError::validation(
                    "config.trust_cert_pem",
                    td_string!(locale, notify.errors.pem),
                ));
            }
            Ok(StoredConfig {
                email: Some(EmailConfig { host, port, tls, username, password, from, to, trust_cert_pem }),
                url: None,
                secret: None,
            })
        }
        _ => {
            let url = non_empty(input.url).or(current.url.clone());
            let parsed = url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
                .ok_or_else(|| AppError::validation("config.url", td_string!(locale, notify.errors.url)))?;
            outbound::check_url(&parsed, policy)
                .map_err(|refused| AppError::validation("config.url", refused_message(locale, refused)))?;
            let secret = match kind {
                ChannelKind::Webhook => {
                    let new_secret = non_empty(input.secret);
                    if new_secret.is_none() && current.secret.is_some() && current.url != url {
                        return Err(AppError::validation(
                            "config.secret",
                            td_string!(locale, notify.errors.secret_again),
                        ));
                    }
                    new_secret.or(current.secret)
                }
                _ => None,
            };
            Ok(StoredConfig { email: None, url, secret })
        }
    }
}

fn check_common(locale: Locale, name: &str, channel_locale: &str) -> Result<(), AppError> {
    if name.trim().is_empty() || name.trim().chars().count() > 200 {
        return Err(AppError::validation("name", td_string!(locale, notify.errors.name)));
    }
    if !matches!(channel_locale, "ja" | "en") {
        return Err(AppError::validation("locale", td_string!(locale, notify.errors.locale)));
    }
    Ok(())
}

fn write_error(locale: Locale, e: WriteChannelError) -> AppError {
    match e {
        WriteChannelError::NameTaken => {
            AppError::validation("name", td_string!(locale, notify.errors.name_taken))
        }
        WriteChannelError::Db(e) => e.into(),
    }
}

/// Every channel (administrators).
pub async fn list(state: &AppState, info: &RequestInfo) -> Result<Vec<Channel>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    db::list(&state.db).await?.iter().map(|r| to_model(state, r)).collect()
}

/// One channel (administrators).
pub async fn get(state: &AppState, info: &RequestInfo, id: i64) -> Result<Channel, AppError> {
    info.require(Role::Admin, Access::Read)?;
    let row = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    to_model(state, &row)
}

/// Adds a channel (administrators).
pub async fn create(state: &AppState, info: &RequestInfo, input: NewChannel) -> Result<Channel, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let locale = info.locale;
    let channel_locale = input.locale.unwrap_or_else(|| "ja".into());
    check_common(locale, &input.name, &channel_locale)?;
    let policy = Policy::from_settings(&state.settings);
    let stored = merge(locale, input.kind, StoredConfig::default(), input.config, policy)?;
    let encrypted = state.cipher.encrypt(&serde_json::to_string(&stored).map_err(AppError::internal)?);
    let name = input.name.trim().to_owned();
    let id = db::insert(
        &state.db,
        &name,
        input.kind.as_str(),
        &channel_locale,
        input.enabled.unwrap_or(true),
        &encrypted,
    )
    .await
    .map_err(|e| write_error(locale, e))?;
    let event = Event::ok("channel.create", Target::new("channel", id, name)).details(input.kind.as_str());
    audit_trail::record(state, info, Some(principal), event).await;
    get(state, info, id).await
}

/// Changes a channel (administrators); secrets left out are kept.
pub async fn update(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    patch: ChannelPatch,
) -> Result<Channel, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let locale = info.locale;
    let row = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let kind = row.kind;
    let name = patch.name.map(|n| n.trim().to_owned()).unwrap_or(row.name.clone());
    let channel_locale = patch.locale.unwrap_or(row.locale.clone());
    check_common(locale, &name, &channel_locale)?;
    let current = decrypt(state, &row).unwrap_or_default();
    let policy = Policy::from_settings(&state.settings);
    let stored = merge(locale, kind, current, patch.config.unwrap_or_default(), policy)?;
    let encrypted = state.cipher.encrypt(&serde_json::to_string(&stored).map_err(AppError::internal)?);
    if !db::update(&state.db, id, &name, &channel_locale, patch.enabled.unwrap_or(row.enabled), &encrypted)
        .await
        .map_err(|e| write_error(locale, e))?
    {
        return Err(AppError::NotFound);
    }
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("channel.update", Target::new("channel", id, name)),
    )
    .await;
    get(state, info, id).await
}

/// Removes a channel (administrators).
pub async fn delete(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    db::delete(&state.db, id).await?;
    audit_trail::record(
        state,
        info,
        Some(principal),
        Event::ok("channel.delete", Target::new("channel", id, row.name)),
    )
    .await;
    Ok(())
}

/// Sends `notice` through a channel; the receiver's answer. Webhooks get
/// `delivery_id`, so receivers can drop a repeat (delivery is at least once).
pub async fn deliver(
    state: &AppState,
    row: &ChannelRow,
    notice: &Notice,
    title: Option<String>,
    delivery_id: Option<i64>,
) -> Result<String, SendError> {
    let kind = row.kind;
    let stored = decrypt(state, row)
        .map_err(|_| SendError::Permanent("the channel's settings cannot be decrypted".into()))?;
    let locale = if row.locale == "en" { Locale::en } else { Locale::ja };
    let mut message = render(notice, locale, state.settings.timezone, &state.settings.base_url);
    if let Some(title) = title {
        message.title = title;
    }
    let timeout = state.settings.notify_timeout;
    let policy = Policy::from_settings(&state.settings);
    let http = || chat::Poster::new(policy);
    let url = || stored.url.clone().ok_or_else(|| SendError::Permanent("no URL".into()));
    match kind {
        ChannelKind::Email => {
            let config =
                stored.email.as_ref().ok_or_else(|| SendError::Permanent("no e-mail settings".into()))?;
            email::send(config, &message, timeout, policy).await
        }
        ChannelKind::Teams => chat::post(&http()?, &url()?, &chat::teams(&message), None, timeout).await,
        ChannelKind::Slack => chat::post(&http()?, &url()?, &chat::slack(&message), None, timeout).await,
        ChannelKind::Discord => chat::post(&http()?, &url()?, &chat::discord(&message), None, timeout).await,
        ChannelKind::Webhook => {
            chat::post(
                &http()?,
                &url()?,
                &chat::webhook(notice, &message, delivery_id),
                stored.secret.as_deref(),
                timeout,
            )
            .await
        }
    }
}

/// The e-mail channels by name: id, name and whether enabled (for the
/// scheduled reports' checks and forms; the caller checks the role).
pub async fn email_channels(state: &AppState) -> Result<Vec<(i64, String, bool)>, sqlx::Error> {
    Ok(db::list(&state.db)
        .await?
        .into_iter()
        .filter(|c| c.kind == ChannelKind::Email)
        .map(|c| (c.id, c.name, c.enabled))
        .collect())
}

/// Sends a composed e-mail (a scheduled report) through an e-mail channel;
/// the SMTP server's answer.
pub async fn deliver_composed(
    state: &AppState,
    row: &ChannelRow,
    composed: &email::Composed,
) -> Result<String, SendError> {
    if row.kind != ChannelKind::Email {
        return Err(SendError::Permanent("not an e-mail channel".into()));
    }
    let stored = decrypt(state, row)
        .map_err(|_| SendError::Permanent("the channel's settings cannot be decrypted".into()))?;
    let config = stored.email.as_ref().ok_or_else(|| SendError::Permanent("no e-mail settings".into()))?;
    let policy = Policy::from_settings(&state.settings);
    email::send_composed(config, composed, state.settings.notify_timeout, policy).await
}

/// Sends a test message now and reports the real outcome (administrators).
pub async fn test(state: &AppState, info: &RequestInfo, id: i64) -> Result<SendOutcome, AppError> {
    let principal = info.require(Role::Admin, Access::Write)?;
    let row = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let locale = if row.locale == "en" { Locale::en } else { Locale::ja };
    let notice = Notice {
        kind: EventKind::RunFailed,
        subject_name: td_string!(locale, notify.test_job).to_string(),
        job_id: None,
        result: Some(RunResult::Failed),
        at: chrono::Utc::now(),
        duration_seconds: Some(0),
        excerpt: Some(td_string!(locale, notify.test_excerpt).to_string()),
        related: vec![],
        reminder: false,
        link_path: None,
    };
    let title = td_string!(locale, notify.test_title).to_string();
    let outcome = match deliver(state, &row, &notice, Some(title), None).await {
        Ok(answer) => SendOutcome {
            ok: true,
            message: td_string!(info.locale, notify.test_ok, answer = answer).to_string(),
        },
        Err(e) => SendOutcome {
            ok: false,
            message: td_string!(info.locale, notify.test_failed, error = e.to_string()).to_string(),
        },
    };
    let event = Event::ok("channel.test", Target::new("channel", id, row.name)).details(if outcome.ok {
        "sent".to_owned()
    } else {
        outcome.message.clone()
    });
    let event = Event { success: outcome.ok, ..event };
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(outcome)
}
