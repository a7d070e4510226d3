//! Chat and webhook payloads, and sending them.
//!
//! - Teams (Workflows): `{type: "message", attachments: [{contentType:
//!   "application/vnd.microsoft.card.adaptive", contentUrl: null, content:
//!   <Adaptive Card 1.4>}]}`; any 2xx is success (often 202).
//! - Slack: `{text, blocks}`; `text` is the phone notification.
//! - Discord: `{content, embeds: [..], allowed_mentions: {parse: []}}`; 204.
//! - Webhook: the documented JSON below, signed with
//!   `X-BMS-Signature: sha256=<hex HMAC-SHA256 of the body>` when a secret is set.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    message::{Notice, Rendered},
    send::SendError,
};

/// The signature header of generic webhooks.
pub const SIGNATURE_HEADER: &str = "x-bms-signature";

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A Teams Workflows message with an Adaptive Card 1.4.
pub fn teams(m: &Rendered) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "text": m.title, "weight": "Bolder", "size": "Medium", "wrap": true, "color": m.severity.card_color()}),
        json!({"type": "FactSet", "facts": m.facts.iter().map(|(t, v)| json!({"title": t, "value": v})).collect::<Vec<_>>()}),
    ];
    if let Some(excerpt) = &m.excerpt {
        body.push(json!({"type": "TextBlock", "text": excerpt, "wrap": true, "isSubtle": true, "fontType": "Monospace"}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": m.link_text, "url": m.link}],
            },
        }],
    })
}

/// A Slack message: `text` (the notification preview) and Block Kit blocks.
pub fn slack(m: &Rendered) -> Value {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let fields: Vec<Value> = m
        .facts
        .iter()
        .take(10)
        .map(|(t, v)| json!({"type": "mrkdwn", "text": format!("*{}*\n{}", escape(t), escape(v))}))
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cut(&m.title, 150), "emoji": true}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(excerpt) = &m.excerpt {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("```{}```", escape(excerpt))}}));
    }
    blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": m.link_text}, "url": m.link}]}));
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(&m.footer)}]}));
    json!({"text": m.title, "blocks": blocks})
}

/// A Discord message with one embed; mentions are never parsed.
pub fn discord(m: &Rendered) -> Value {
    let mut embed = json!({
        "title": cut(&m.title, 256),
        "url": m.link,
        "color": m.severity.rgb(),
        "fields": m.facts.iter().take(25).map(|(t, v)| json!({"name": cut(t, 256), "value": cut(v, 1024), "inline": true})).collect::<Vec<_>>(),
        "footer": {"text": cut(&m.footer, 2048)},
    });
    if let Some(excerpt) = &m.excerpt {
        embed["description"] = json!(cut(excerpt, 1000));
    }
    json!({"content": cut(&m.title, 2000), "embeds": [embed], "allowed_mentions": {"parse": []}})
}

/// The generic webhook's body: the facts as data, plus the rendered text.
pub fn webhook(notice: &Notice, m: &Rendered, delivery_id: Option<i64>) -> Value {
    json!({
        "event": notice.kind.as_str(),
        "delivery_id": delivery_id,
        "subject": notice.subject_name,
        "job_id": notice.job_id,
        "result": notice.result.map(|r| r.as_str()),
        "at": notice.at.to_rfc3339(),
        "duration_seconds": notice.duration_seconds,
        "message": notice.excerpt,
        "related": notice.related,
        "reminder": notice.reminder,
        "title": m.title,
        "url": m.link,
    })
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| {
        // HMAC takes keys of any length; this cannot fail.
        Hmac::<Sha256>::new_from_slice(b"").unwrap_or_else(|_| unreachable!())
    });
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    format!("sha256={}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| Duration::from_secs_f64(s.max(0.0)))
}

/// Posts `body` as JSON (signed when `secret` is given); the receiver's
/// status and the start of its answer on success.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    secret: Option<&str>,
    timeout: Duration,
) -> Result<String, SendError> {
    let bytes = serde_json::to_vec(body).map_err(|e| SendError::Permanent(e.to_string()))?;
    let mut request = http
        .post(url)
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, concat!("backup-mgmt/", env!("CARGO_PKG_VERSION")));
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        request = request.header(SIGNATURE_HEADER, signature(secret, &bytes));
    }
    let response = request.body(bytes).send().await.map_err(|e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        SendError::Temporary(text)
    })?;
    let status = response.status();
    let header_wait = retry_after(&response);
    let text: String = response.text().await.unwrap_or_default().chars().take(300).collect();
    if status.is_success() {
        return Ok(format!("{status} {text}").trim().to_owned());
    }
    if status.as_u16() == 429 {
        // Discord says how long in the body (`retry_after`, seconds).
        let body_wait = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("retry_after").and_then(Value::as_f64))
            .map(|s| Duration::from_secs_f64(s.max(0.0)));
        return Err(SendError::RetryAfter(header_wait.or(body_wait).unwrap_or(Duration::from_secs(60))));
    }
    let message = format!("{status}: {text}");
    if status.is_server_error() || status.as_u16() == 408 {
        Err(SendError::Temporary(message))
    } else {
        Err(SendError::Permanent(message))
    }
}
