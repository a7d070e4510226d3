//! Chat and webhook payloads, and sending them.
//!
//! - Teams (Workflows): `{type: "message", attachments: [{contentType:
//!   "application/vnd.microsoft.card.adaptive", contentUrl: null, content:
//!   <Adaptive Card 1.4>}]}`; any 2xx is success (often 202).
//! - Slack: `{text, blocks}`; `text` is the phone notification.
//! - Discord: `{content, embeds: [..], allowed_mentions: {parse: []}}`; 204.
//! - Webhook: the documented JSON below, signed with
//!   `X-BMS-Signature: sha256=<hex HMAC-SHA256 of the body>` when a secret is set.
//!
//! Text from backup logs and job names is escaped for each receiver's
//! markup, so a job name cannot become a link or a mention. Requests go
//! through [`outbound`](crate::ssr::infra::outbound): checked addresses,
//! no redirects, and nothing of the URL (a credential) in an error.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{
    message::{Notice, Rendered},
    send::SendError,
};
use crate::ssr::infra::outbound::{self, Policy};

/// The signature header of generic webhooks.
pub const SIGNATURE_HEADER: &str = "x-bms-signature";

/// The longest wait a receiver can ask for; a longer one is cut to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The wait when a receiver says `429` without saying how long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// `text` cut to `max` characters without leaving half of an escape.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    let backslashes = out.chars().rev().take_while(|c| *c == '\\').count();
    if backslashes % 2 == 1 {
        out.pop();
    }
    out.push('…');
    out
}

/// Whether `c` can start Markdown formatting, a link or a quote.
fn is_markdown(c: char) -> bool {
    matches!(c, '\\' | '*' | '_' | '~' | '`' | '[' | ']' | '(' | ')' | '#' | '>' | '|')
}

/// Markdown (Teams' Adaptive Cards, Discord) with every character that
/// could start formatting, a link or a quote escaped with a backslash.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_markdown(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Discord text: Markdown escaped, and mentions (`@everyone`, `@here`,
/// `<@id>`, `<@&role>`, `<#channel>`) broken so they are shown, not
/// resolved (`allowed_mentions` stops the ping as well).
pub fn escape_discord(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let rest = &text[i..];
        match (c, chars.peek().map(|(_, next)| *next)) {
            ('<', Some('@' | '#' | ':' | '/')) => out.push_str("\\<"),
            ('@', _) if rest.starts_with("@everyone") || rest.starts_with("@here") => {
                // A zero-width space after `@` keeps `@everyone` and `@here` as text.
                out.push('@');
                out.push('\u{200b}');
            }
            (c, _) if is_markdown(c) => {
                out.push('\\');
                out.push(c);
            }
            (c, _) => out.push(c),
        }
    }
    out
}

/// Slack `mrkdwn`: `&`, `<` and `>` as entities, so no `<url|text>` link
/// or `<!channel>` mention can be written.
pub fn escape_slack(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A Teams Workflows message with an Adaptive Card 1.4.
pub fn teams(m: &Rendered) -> Value {
    let text = escape_markdown;
    let mut body = vec![
        json!({"type": "TextBlock", "text": text(&m.title), "weight": "Bolder", "size": "Medium", "wrap": true, "color": m.severity.card_color()}),
        json!({"type": "FactSet", "facts": m.facts.iter().map(|(t, v)| json!({"title": text(t), "value": text(v)})).collect::<Vec<_>>()}),
    ];
    if let Some(excerpt) = &m.excerpt {
        body.push(json!({"type": "TextBlock", "text": text(excerpt), "wrap": true, "isSubtle": true, "fontType": "Monospace"}));
    }
    let mut actions = vec![json!({"type": "Action.OpenUrl", "title": m.link_text, "url": m.link})];
    if let Some(ack) = &m.ack_link {
        actions.push(json!({"type": "Action.OpenUrl", "title": m.ack_link_text, "url": ack}));
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
                "actions": actions,
            },
        }],
    })
}

/// A Slack message: `text` (the notification preview) and Block Kit blocks.
pub fn slack(m: &Rendered) -> Value {
    let escape = escape_slack;
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
    let mut buttons =
        vec![json!({"type": "button", "text": {"type": "plain_text", "text": m.link_text}, "url": m.link})];
    if let Some(ack) = &m.ack_link {
        buttons.push(json!({"type": "button", "text": {"type": "plain_text", "text": m.ack_link_text}, "url": ack, "style": "primary"}));
    }
    blocks.push(json!({"type": "actions", "elements": buttons}));
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(&m.footer)}]}));
    json!({"text": escape(&m.title), "blocks": blocks})
}

/// A Discord message with one embed; mentions are never parsed.
pub fn discord(m: &Rendered) -> Value {
    let text = |s: &str, max: usize| cut(&escape_discord(s), max);
    let mut embed = json!({
        "title": text(&m.title, 256),
        "url": m.link,
        "color": m.severity.rgb(),
        "fields": m.facts.iter().take(25).map(|(t, v)| json!({"name": text(t, 256), "value": text(v, 1024), "inline": true})).collect::<Vec<_>>(),
        "footer": {"text": cut(&m.footer, 2048)},
    });
    if let Some(excerpt) = &m.excerpt {
        embed["description"] = json!(text(excerpt, 1000));
    }
    if let (Some(ack), Some(fields)) = (&m.ack_link, embed["fields"].as_array_mut())
        && fields.len() < 25
    {
        fields.push(json!({"name": text(&m.ack_link_text, 256), "value": ack, "inline": false}));
    }
    json!({"content": text(&m.title, 2000), "embeds": [embed], "allowed_mentions": {"parse": []}})
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
        "acknowledge_url": m.ack_link,
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

/// A wait of `seconds` (a number a receiver sent), capped at
/// [`MAX_RETRY_AFTER`]; `None` for a negative or non-finite number.
fn wait_of(seconds: f64) -> Option<Duration> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds.min(MAX_RETRY_AFTER.as_secs_f64())).ok()
}

/// The wait a `Retry-After` value asks for: delta-seconds (a fraction is
/// accepted) or an HTTP date, capped at [`MAX_RETRY_AFTER`]. `None` when
/// it is unreadable, negative, infinite or not a number.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: any length, so an overflow is a long wait, not an error.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return value.parse::<f64>().ok().and_then(wait_of);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default().min(MAX_RETRY_AFTER))
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// Sends webhooks and chat messages: only to addresses the policy allows,
/// never following a redirect.
#[derive(Debug, Clone)]
pub struct Poster {
    http: reqwest::Client,
    policy: Policy,
}

impl Poster {
    /// A sender under `policy`.
    pub fn new(policy: Policy) -> Result<Self, SendError> {
        let http = outbound::builder(policy)
            .build()
            .map_err(|e| SendError::Permanent(outbound::describe(e, &[])))?;
        Ok(Self { http, policy })
    }
}

/// Posts `body` as JSON (signed when `secret` is given); the receiver's
/// status and the start of its answer on success. Errors never carry the
/// URL or the secret, and at most 300 characters of the answer.
pub async fn post(
    poster: &Poster,
    url: &str,
    body: &Value,
    secret: Option<&str>,
    timeout: Duration,
) -> Result<String, SendError> {
    let mut secrets = outbound::url_secrets(url);
    secrets.extend(secret.map(str::to_owned));
    let target = url::Url::parse(url)
        .map_err(|_| SendError::Permanent("the channel's URL is not a valid URL".into()))?;
    outbound::check_url(&target, poster.policy).map_err(|e| SendError::Permanent(e.to_string()))?;
    let bytes = serde_json::to_vec(body).map_err(|e| SendError::Permanent(e.to_string()))?;
    let mut request =
        poster.http.post(target).timeout(timeout).header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        request = request.header(SIGNATURE_HEADER, signature(secret, &bytes));
    }
    let response = request.body(bytes).send().await.map_err(|e| {
        // A refused address stays refused; anything else may pass.
        let permanent = std::error::Error::source(&e).is_some_and(|s| {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(s);
            while let Some(inner) = source {
                if inner.is::<outbound::RefusedName>() {
                    return true;
                }
                source = inner.source();
            }
            false
        });
        let text = outbound::describe(e, &secrets);
        if permanent { SendError::Permanent(text) } else { SendError::Temporary(text) }
    })?;
    let status = response.status();
    let header_wait = retry_after(&response);
    let raw: String = response.text().await.unwrap_or_default().chars().take(4000).collect();
    let text = outbound::clean(&raw, &secrets);
    if status.is_success() {
        return Ok(format!("{status} {text}").trim().to_owned());
    }
    if status.is_redirection() {
        return Err(SendError::Permanent(format!(
            "{status}: the receiver redirects elsewhere and redirects are not followed; give the final URL"
        )));
    }
    if status.as_u16() == 429 {
        // Discord says how long in the body (`retry_after`, seconds).
        let body_wait = serde_json::from_str::<Value>(&raw)
            .ok()
            .and_then(|v| v.get("retry_after").and_then(Value::as_f64))
            .and_then(wait_of);
        return Err(SendError::RetryAfter(header_wait.or(body_wait).unwrap_or(DEFAULT_RETRY_AFTER)));
    }
    if status.as_u16() == 503
        && let Some(wait) = header_wait
    {
        return Err(SendError::RetryAfter(wait));
    }
    let message = format!("{status}: {text}");
    if status.is_server_error() || status.as_u16() == 408 {
        Err(SendError::Temporary(message))
    } else {
        Err(SendError::Permanent(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_defensively_and_capped_at_an_hour() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00 UTC
        for (value, expected) in [
            ("7", Some(Duration::from_secs(7))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("0", Some(Duration::ZERO)),
            ("1.5", Some(Duration::from_millis(1500))),
            ("86400", Some(MAX_RETRY_AFTER)),
            ("99999999999999999999999999999", Some(MAX_RETRY_AFTER)),
            ("1e308", None),
            ("inf", None),
            ("infinity", None),
            ("NaN", None),
            ("-5", None),
            ("-0.5", None),
            ("", None),
            ("soon", None),
            ("Wed, 21 Oct 2015 07:30:00 GMT", Some(Duration::from_secs(120))),
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(Duration::ZERO)),
            ("Fri, 01 Jan 2100 00:00:00 GMT", Some(MAX_RETRY_AFTER)),
            ("Wednesday, 21-Oct-15 07:29:00 GMT", Some(Duration::from_secs(60))),
        ] {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
        assert_eq!(wait_of(f64::INFINITY), None);
        assert_eq!(wait_of(f64::NAN), None);
        assert_eq!(wait_of(-1.0), None);
        assert_eq!(wait_of(1e300), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn markdown_cannot_make_links_or_formatting() {
        assert_eq!(escape_markdown("[x](http://evil)"), "\\[x\\]\\(http://evil\\)");
        assert_eq!(
            escape_markdown("**bold** _it_ ~~s~~ `c` # h > q | t \\"),
            "\\*\\*bold\\*\\* \\_it\\_ \\~\\~s\\~\\~ \\`c\\` \\# h \\> q \\| t \\\\"
        );
        assert_eq!(escape_markdown("東京 nightly 2026-11-23"), "東京 nightly 2026-11-23");
    }

    #[test]
    fn discord_mentions_are_shown_not_resolved() {
        assert_eq!(escape_discord("@everyone @here"), "@\u{200b}everyone @\u{200b}here");
        assert_eq!(
            escape_discord("<@123> <@&456> <#789> </cmd:1>"),
            r"\<@123\> \<@&456\> \<\#789\> \</cmd:1\>"
        );
        assert_eq!(
            escape_discord("a <access denied> & b@example.com"),
            r"a <access denied\> & b@example.com"
        );
        assert_eq!(escape_discord("[x](http://evil)"), "\\[x\\]\\(http://evil\\)");
    }

    #[test]
    fn slack_text_cannot_make_links_or_mentions() {
        assert_eq!(
            escape_slack("<http://evil|click> <!channel> & co"),
            "&lt;http://evil|click&gt; &lt;!channel&gt; &amp; co"
        );
    }

    #[test]
    fn a_cut_never_leaves_half_an_escape() {
        assert_eq!(cut("ab\\[cd", 4), "ab…");
        assert_eq!(cut("a\\\\[cd", 4), "a\\\\…");
        assert_eq!(cut("short", 10), "short");
    }

    #[test]
    fn every_chat_body_escapes_a_job_name() {
        let m = Rendered {
            title: "Backup failed: [x](http://evil) @everyone".into(),
            facts: vec![("Job".into(), "[x](http://evil) <!here>".into())],
            excerpt: Some("**log** <@1>".into()),
            link: "https://backup.example.co.jp/jobs/1".into(),
            link_text: "Open".into(),
            ack_link: None,
            ack_link_text: "Acknowledge".into(),
            severity: super::super::message::Severity::Critical,
            footer: "Backup console".into(),
        };
        let teams = teams(&m).to_string();
        assert!(!teams.contains("[x](http") && teams.contains(r"\\[x\\]\\(http://evil\\)"), "{teams}");
        let discord = discord(&m);
        assert_eq!(discord["content"], "Backup failed: \\[x\\]\\(http://evil\\) @\u{200b}everyone");
        assert_eq!(discord["embeds"][0]["description"], r"\*\*log\*\* \<@1\>");
        let slack = slack(&m);
        assert_eq!(slack["text"], "Backup failed: [x](http://evil) @everyone");
        assert_eq!(slack["blocks"][1]["fields"][0]["text"], "*Job*\n[x](http://evil) &lt;!here&gt;");
    }

    #[test]
    fn every_channel_carries_the_acknowledge_link() {
        let m = Rendered {
            title: "Backup failed: nightly".into(),
            facts: vec![],
            excerpt: None,
            link: "https://backup.example.co.jp/jobs/1".into(),
            link_text: "Open".into(),
            ack_link: Some("https://backup.example.co.jp/jobs/1/acknowledge".into()),
            ack_link_text: "Acknowledge".into(),
            severity: super::super::message::Severity::Critical,
            footer: "Backup console".into(),
        };
        let ack = "https://backup.example.co.jp/jobs/1/acknowledge";
        let card = teams(&m);
        assert_eq!(card["attachments"][0]["content"]["actions"][0]["url"], m.link);
        assert_eq!(card["attachments"][0]["content"]["actions"][1]["url"], ack);
        let slack = slack(&m);
        let buttons = &slack["blocks"][2]["elements"];
        assert_eq!((&buttons[1]["url"], &buttons[1]["text"]["text"]), (&json!(ack), &json!("Acknowledge")));
        assert!(discord(&m).to_string().contains(ack));
        let notice = super::super::message::Notice {
            kind: super::super::message::EventKind::RunFailed,
            subject_name: "nightly".into(),
            job_id: Some(1),
            result: None,
            at: chrono::Utc::now(),
            duration_seconds: None,
            excerpt: None,
            related: vec![],
            reminder: false,
            link_path: None,
        };
        assert_eq!(webhook(&notice, &m, Some(3))["acknowledge_url"], ack);
        let without = Rendered { ack_link: None, ..m };
        assert_eq!(webhook(&notice, &without, None)["acknowledge_url"], Value::Null);
        assert_eq!(teams(&without)["attachments"][0]["content"]["actions"].as_array().map(Vec::len), Some(1));
    }
}
