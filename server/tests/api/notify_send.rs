//! Sending notifications through real receivers on loopback: an SMTP
//! server written for the tests (plain, STARTTLS with a self-signed
//! certificate, AUTH PLAIN) and an HTTP receiver, asserting exactly what
//! arrives.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    i18n::Locale,
    model::job::RunResult,
    ssr::infra::outbound::Policy,
    ssr::notify::{
        SendError,
        chat::{self, SIGNATURE_HEADER},
        email::{self, EmailConfig, SmtpTls},
        message::{EventKind, Notice, Rendered, render},
    },
};
use axum::{Router, body::Bytes, http::HeaderMap, response::IntoResponse, routing::post};
use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::TimeZone;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader},
    net::TcpListener,
};

fn notice() -> Notice {
    Notice {
        kind: EventKind::RunFailed,
        subject_name: "東京ファイルサーバー nightly".into(),
        job_id: Some(42),
        result: Some(RunResult::Failed),
        at: chrono::Utc.with_ymd_and_hms(2026, 11, 22, 17, 5, 0).single().unwrap(),
        duration_seconds: Some(3725),
        excerpt: Some("robocopy exited with 16: <access denied> & more".into()),
        related: vec![],
        reminder: false,
        link_path: None,
    }
}

/// A sender that may reach loopback receivers (the default policy).
fn poster() -> chat::Poster {
    chat::Poster::new(Policy::default()).unwrap()
}

fn rendered(locale: Locale) -> Rendered {
    render(&notice(), locale, chrono_tz::Asia::Tokyo, &"https://backup.example.co.jp/".parse().unwrap())
}

// ---------------------------------------------------------------- SMTP

/// What the SMTP receiver got.
#[derive(Debug, Clone, Default)]
pub(crate) struct Received {
    pub(crate) from: String,
    pub(crate) to: Vec<String>,
    pub(crate) data: String,
    auth: Option<String>,
    secured: bool,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(crate) struct SmtpReceiver {
    pub(crate) port: u16,
    certificate_pem: String,
    mail: Arc<Mutex<Vec<Received>>>,
}

impl SmtpReceiver {
    pub(crate) async fn start(starttls: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        let certificate_pem = certified.cert.pem();
        let key =
            tokio_rustls::rustls::pki_types::PrivateKeyDer::try_from(certified.key_pair.serialize_der())
                .unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
        let acceptor = starttls.then(|| tokio_rustls::TlsAcceptor::from(Arc::new(config)));
        let mail = Arc::new(Mutex::new(Vec::new()));
        let store = mail.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let store = store.clone();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let mut stream: Box<dyn Io> = Box::new(stream);
                    let _ = stream.write_all(b"220 receiver ESMTP ready\r\n").await;
                    let mut secured = false;
                    loop {
                        match session(stream, &store, acceptor.is_some() && !secured, secured).await {
                            Some(raw) if !secured => {
                                let Some(acceptor) = acceptor.clone() else { return };
                                let Ok(tls) = acceptor.accept(raw).await else { return };
                                stream = Box::new(tls);
                                secured = true;
                            }
                            _ => return,
                        }
                    }
                });
            }
        });
        Self { port, certificate_pem, mail }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.mail.lock().unwrap().clone()
    }
}

/// Serves SMTP commands; returns the stream when the client asked for STARTTLS.
async fn session(
    stream: Box<dyn Io>,
    store: &Arc<Mutex<Vec<Received>>>,
    offer_tls: bool,
    secured: bool,
) -> Option<Box<dyn Io>> {
    let mut reader = BufReader::new(stream);
    let mut current = Received { secured, ..Received::default() };
    let mut auth = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let tls = if offer_tls { "250-STARTTLS\r\n" } else { "" };
            format!("250-receiver\r\n{tls}250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
        } else if upper == "STARTTLS" {
            reader.get_mut().write_all(b"220 go ahead\r\n").await.ok()?;
            return Some(reader.into_inner());
        } else if upper.starts_with("AUTH PLAIN") {
            let encoded = command.split_whitespace().nth(2).unwrap_or_default();
            auth = Some(String::from_utf8_lossy(&STANDARD.decode(encoded).unwrap_or_default()).into_owned());
            "235 2.7.0 authenticated\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            current.from = command[10..].trim().to_owned();
            "250 OK\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            current.to.push(command[8..].trim().to_owned());
            "250 OK\r\n".into()
        } else if upper == "DATA" {
            reader.get_mut().write_all(b"354 end with <CRLF>.<CRLF>\r\n").await.ok()?;
            let mut data = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.ok()? == 0 {
                    return None;
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
            }
            current.data = data;
            current.auth = auth.clone();
            store.lock().unwrap().push(std::mem::take(&mut current));
            current.secured = secured;
            "250 2.0.0 queued as 1\r\n".into()
        } else if upper == "QUIT" {
            let _ = reader.get_mut().write_all(b"221 bye\r\n").await;
            return None;
        } else {
            "250 OK\r\n".into()
        };
        reader.get_mut().write_all(reply.as_bytes()).await.ok()?;
    }
}

fn config(port: u16, tls: SmtpTls) -> EmailConfig {
    EmailConfig {
        host: "127.0.0.1".into(),
        port,
        tls,
        username: Some("alerts".into()),
        password: Some("smtp secret".into()),
        from: "Backup Console <backup@example.co.jp>".into(),
        to: vec!["ops@example.co.jp".into(), "oncall@example.co.jp".into()],
        trust_cert_pem: None,
    }
}

/// Header value with RFC 2047 encoded words decoded and folding removed.
pub(crate) fn decoded_header(data: &str, name: &str) -> String {
    let unfolded = data.replace("\r\n ", " ").replace("\r\n\t", " ");
    let line = unfolded
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name.to_ascii_lowercase())))
        .unwrap_or_default();
    let value = line[name.len() + 1..].trim();
    // RFC 2047: space between two encoded words is dropped, any other is kept.
    let mut out = Vec::new();
    let mut previous_encoded = None;
    for word in value.split(' ') {
        let encoded = word.strip_prefix("=?utf-8?b?").or_else(|| word.strip_prefix("=?UTF-8?B?"));
        if previous_encoded.is_some() && !(previous_encoded == Some(true) && encoded.is_some()) {
            out.push(b' ');
        }
        match encoded {
            Some(inner) => out.extend(STANDARD.decode(inner.trim_end_matches("?=")).unwrap()),
            None => out.extend(word.as_bytes()),
        }
        previous_encoded = Some(encoded.is_some());
    }
    String::from_utf8(out).unwrap()
}

/// The decoded body of the MIME part with this content type.
pub(crate) fn part(data: &str, content_type: &str) -> String {
    let start = data
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part"));
    let rest = &data[start..];
    let header_end = rest.find("\r\n\r\n").unwrap();
    let headers = &rest[..header_end];
    let body = &rest[header_end + 4..];
    let body = &body[..body.find("\r\n--").unwrap_or(body.len())];
    if headers.contains("Content-Transfer-Encoding: base64") {
        String::from_utf8(STANDARD.decode(body.replace("\r\n", "")).unwrap()).unwrap()
    } else if headers.contains("Content-Transfer-Encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                out.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    } else {
        body.to_owned()
    }
}

#[tokio::test]
async fn an_email_arrives_with_both_parts_and_a_japanese_subject() {
    let receiver = SmtpReceiver::start(false).await;
    let message = rendered(Locale::ja);
    let answer = email::send(
        &config(receiver.port, SmtpTls::None),
        &message,
        Duration::from_secs(10),
        Policy::default(),
    )
    .await
    .unwrap();
    assert!(answer.starts_with("250"), "{answer}");
    let mail = receiver.received();
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!(m.from, "<backup@example.co.jp>");
    assert_eq!(m.to, vec!["<ops@example.co.jp>", "<oncall@example.co.jp>"]);
    assert_eq!(m.auth.as_deref(), Some("\0alerts\0smtp secret"));
    assert_eq!(decoded_header(&m.data, "Subject"), "バックアップ失敗: 東京ファイルサーバー nightly");
    assert!(m.data.contains("Subject: =?utf-8?b?"), "the subject is RFC 2047 encoded");
    assert!(m.data.contains("multipart/alternative"));
    assert!(m.data.contains("Date: ") && m.data.contains("Message-ID: "));
    let text = part(&m.data, "text/plain; charset=utf-8");
    let html = part(&m.data, "text/html; charset=utf-8");
    for body in [&text, &html] {
        assert!(body.contains("東京ファイルサーバー nightly"));
        assert!(body.contains("https://backup.example.co.jp/jobs/42"));
        assert!(body.contains("2026-11-23 02:05 (JST)"), "time in the configured zone");
        assert!(body.contains("1h 02m"), "duration");
    }
    assert!(text.contains("robocopy exited with 16: <access denied> & more"));
    assert!(html.contains("robocopy exited with 16: &lt;access denied&gt; &amp; more"), "escaped in HTML");
    assert!(html.contains("ジョブを開く"));
}

#[tokio::test]
async fn starttls_with_a_trusted_self_signed_certificate() {
    let receiver = SmtpReceiver::start(true).await;
    let message = rendered(Locale::en);
    // Not trusted: refused, and the error says so.
    let error = email::send(
        &config(receiver.port, SmtpTls::Starttls),
        &message,
        Duration::from_secs(10),
        Policy::default(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().to_lowercase().contains("certificate"), "{error}");
    assert!(receiver.received().is_empty());
    // Trusted: delivered over TLS.
    let trusted = EmailConfig {
        trust_cert_pem: Some(receiver.certificate_pem.clone()),
        ..config(receiver.port, SmtpTls::Starttls)
    };
    email::send(&trusted, &message, Duration::from_secs(10), Policy::default()).await.unwrap();
    let mail = receiver.received();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].secured, "sent after STARTTLS");
    assert_eq!(decoded_header(&mail[0].data, "Subject"), "Backup failed: 東京ファイルサーバー nightly");
}

#[tokio::test]
async fn smtp_failures_say_what_happened() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let error = email::send(
        &config(port, SmtpTls::None),
        &rendered(Locale::en),
        Duration::from_secs(5),
        Policy::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, SendError::Temporary(_)), "{error:?}");
    let bad = EmailConfig { to: vec!["not an address".into()], ..config(port, SmtpTls::None) };
    assert!(matches!(
        email::send(&bad, &rendered(Locale::en), Duration::from_secs(5), Policy::default()).await,
        Err(SendError::Permanent(_))
    ));
}

// ---------------------------------------------------------------- HTTP

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<(HeaderMap, Bytes)>>>);

async fn receiver(
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
) -> (String, Captured) {
    let captured = Captured::default();
    let store = captured.clone();
    let app = Router::new().route(
        "/hook",
        post(move |h: HeaderMap, b: Bytes| {
            let store = store.clone();
            let headers = headers.clone();
            async move {
                store.0.lock().unwrap().push((h, b));
                let mut response = (axum::http::StatusCode::from_u16(status).unwrap(), body).into_response();
                for (k, v) in headers {
                    response.headers_mut().insert(k, v.parse().unwrap());
                }
                response
            }
        }),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, captured)
}

impl Captured {
    fn only(&self) -> (HeaderMap, Value) {
        let all = self.0.lock().unwrap();
        assert_eq!(all.len(), 1);
        (all[0].0.clone(), serde_json::from_slice(&all[0].1).unwrap())
    }
}

#[tokio::test]
async fn teams_gets_an_adaptive_card_in_a_workflows_message() {
    let (url, captured) = receiver(202, vec![], "").await;
    let m = rendered(Locale::ja);
    chat::post(&poster(), &url, &chat::teams(&m), None, Duration::from_secs(5)).await.unwrap();
    let (headers, body) = captured.only();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(body["type"], "message");
    let attachment = &body["attachments"][0];
    assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
    assert!(attachment["contentUrl"].is_null());
    let card = &attachment["content"];
    assert_eq!(card["$schema"], "http://adaptivecards.io/schemas/adaptive-card.json");
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.4");
    assert_eq!(card["body"][0]["type"], "TextBlock");
    assert_eq!(card["body"][0]["text"], "バックアップ失敗: 東京ファイルサーバー nightly");
    assert_eq!(card["body"][0]["color"], "Attention");
    assert_eq!(card["body"][1]["type"], "FactSet");
    assert_eq!(
        card["body"][1]["facts"][0],
        json!({"title": "ジョブ", "value": "東京ファイルサーバー nightly"})
    );
    assert_eq!(
        card["actions"][0],
        json!({"type": "Action.OpenUrl", "title": "ジョブを開く", "url": "https://backup.example.co.jp/jobs/42"})
    );
    assert_eq!(
        card["actions"][1],
        json!({"type": "Action.OpenUrl", "title": "確認済みにする", "url": "https://backup.example.co.jp/jobs/42/acknowledge"})
    );
    assert!(serde_json::to_vec(&body).unwrap().len() < 28_000);
}

#[tokio::test]
async fn slack_gets_text_and_blocks() {
    let (url, captured) = receiver(200, vec![], "ok").await;
    let m = rendered(Locale::en);
    let answer = chat::post(&poster(), &url, &chat::slack(&m), None, Duration::from_secs(5)).await.unwrap();
    assert!(answer.ends_with("ok"), "{answer}");
    let (_, body) = captured.only();
    assert_eq!(
        body["text"], "Backup failed: 東京ファイルサーバー nightly",
        "the phone preview says what failed"
    );
    let blocks = body["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50);
    let kinds: Vec<&str> = blocks.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["header", "section", "section", "actions", "context"]);
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(
        blocks[1]["fields"][0],
        json!({"type": "mrkdwn", "text": "*Job*\n東京ファイルサーバー nightly"})
    );
    assert_eq!(blocks[2]["text"]["text"], "```robocopy exited with 16: &lt;access denied&gt; &amp; more```");
    assert_eq!(blocks[3]["elements"][0]["url"], "https://backup.example.co.jp/jobs/42");
    assert_eq!(blocks[3]["elements"][1]["url"], "https://backup.example.co.jp/jobs/42/acknowledge");
    assert_eq!(blocks[3]["elements"][1]["text"]["text"], "Acknowledge");
}

#[tokio::test]
async fn discord_gets_an_embed_and_no_mentions() {
    let (url, captured) = receiver(204, vec![], "").await;
    let m = rendered(Locale::en);
    chat::post(&poster(), &url, &chat::discord(&m), None, Duration::from_secs(5)).await.unwrap();
    let (_, body) = captured.only();
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    assert_eq!(body["content"], "Backup failed: 東京ファイルサーバー nightly");
    let embed = &body["embeds"][0];
    assert_eq!(body["embeds"].as_array().unwrap().len(), 1);
    assert_eq!(embed["color"], json!(0xC0262D));
    assert!(embed["color"].is_u64(), "an integer colour");
    assert_eq!(embed["url"], "https://backup.example.co.jp/jobs/42");
    assert_eq!(embed["fields"][1], json!({"name": "Result", "value": "Failed", "inline": true}));
    // Markdown is escaped (`\>` shows as `>`), so a log cannot quote, format or link.
    assert_eq!(embed["description"], r"robocopy exited with 16: <access denied\> & more");
}

#[tokio::test]
async fn webhooks_carry_the_documented_body_and_an_hmac_signature() {
    let (url, captured) = receiver(200, vec![], "").await;
    let n = notice();
    let m = rendered(Locale::en);
    let body = chat::webhook(&n, &m, Some(7));
    chat::post(&poster(), &url, &body, Some("shared secret"), Duration::from_secs(5)).await.unwrap();
    let all = captured.0.lock().unwrap();
    let (headers, raw) = &all[0];
    let received: Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(
        received,
        json!({
            "event": "run_failed", "delivery_id": 7, "subject": "東京ファイルサーバー nightly", "job_id": 42,
            "result": "failed", "at": "2026-11-22T17:05:00+00:00", "duration_seconds": 3725,
            "message": "robocopy exited with 16: <access denied> & more", "related": [], "reminder": false,
            "title": "Backup failed: 東京ファイルサーバー nightly", "url": "https://backup.example.co.jp/jobs/42",
            "acknowledge_url": "https://backup.example.co.jp/jobs/42/acknowledge",
        })
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"shared secret").unwrap();
    mac.update(raw);
    let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(headers[SIGNATURE_HEADER], format!("sha256={expected}"));
}

#[tokio::test]
async fn rate_limits_and_errors_are_told_apart() {
    let m = rendered(Locale::en);
    let http = poster();
    let (url, _) = receiver(429, vec![("retry-after", "7")], "slow down").await;
    let error = chat::post(&http, &url, &chat::slack(&m), None, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(error, SendError::RetryAfter(Duration::from_secs(7)));
    let (url, _) = receiver(
        429,
        vec![],
        r#"{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}"#,
    )
    .await;
    let error = chat::post(&http, &url, &chat::discord(&m), None, Duration::from_secs(5)).await.unwrap_err();
    assert_eq!(error, SendError::RetryAfter(Duration::from_millis(1500)));
    let (url, _) = receiver(503, vec![], "down").await;
    assert!(
        matches!(chat::post(&http, &url, &chat::teams(&m), None, Duration::from_secs(5)).await, Err(SendError::Temporary(e)) if e.contains("503"))
    );
    let (url, _) = receiver(400, vec![], "invalid_blocks").await;
    assert!(
        matches!(chat::post(&http, &url, &chat::slack(&m), None, Duration::from_secs(5)).await, Err(SendError::Permanent(e)) if e.contains("invalid_blocks"))
    );
}

// ---------------------------------------------------------------- channels through the API

async fn channels_keep_their_secrets_and_test_sends_report_the_outcome(app: crate::helpers::TestApp) {
    use app::model::user::Role;
    use reqwest::{Method, StatusCode};
    let admin = app.bearer(&app.add_user(Role::Admin).await).await;
    let smtp = SmtpReceiver::start(true).await;

    // Validation names the field.
    for (body, field) in [
        (json!({"name": "", "kind": "slack", "config": {"url": "https://hooks.slack.com/x"}}), "name"),
        (json!({"name": "s", "kind": "slack", "config": {"url": "not a url"}}), "config.url"),
        (
            json!({"name": "m", "kind": "email", "config": {"host": "smtp", "from": "nope", "to": ["a@example.co.jp"]}}),
            "config.from",
        ),
        (
            json!({"name": "m", "kind": "email", "config": {"host": "smtp", "from": "a@example.co.jp", "to": []}}),
            "config.to",
        ),
        (
            json!({"name": "m", "kind": "email", "config": {"host": "smtp", "from": "a@example.co.jp", "to": ["b@example.co.jp"], "tls": "ssl3"}}),
            "config.tls",
        ),
        (
            json!({"name": "x", "kind": "slack", "locale": "fr", "config": {"url": "https://hooks.slack.com/x"}}),
            "locale",
        ),
    ] {
        let response =
            app.api(Method::POST, "/api/v1/notifications/channels", Some(&admin), Some(body)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["field"], field);
    }
    let unknown = json!({"name": "x", "kind": "pager", "config": {}});
    assert_eq!(
        app.api(Method::POST, "/api/v1/notifications/channels", Some(&admin), Some(unknown)).await.status(),
        StatusCode::BAD_REQUEST
    );

    // An e-mail channel over STARTTLS, trusting the receiver's certificate.
    let body = json!({
        "name": "運用チーム", "kind": "email", "locale": "ja",
        "config": {"host": "127.0.0.1", "port": smtp.port, "tls": "starttls", "username": "alerts",
                   "password": "smtp secret", "from": "backup@example.co.jp", "to": ["ops@example.co.jp"],
                   "trust_cert_pem": smtp.certificate_pem},
    });
    let response = app.api(Method::POST, "/api/v1/notifications/channels", Some(&admin), Some(body)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let channel: Value = response.json().await.unwrap();
    let text = channel.to_string();
    assert!(!text.contains("smtp secret"), "{text}");
    assert_eq!(channel["config"]["password_set"], true);
    let id = channel["id"].as_i64().unwrap();
    let stored: String = app::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("select config_encrypted from notification_channels where id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert!(stored.starts_with("v1:") && !stored.contains("smtp secret") && !stored.contains("127.0.0.1"));

    let outcome: Value = app
        .api(Method::POST, &format!("/api/v1/notifications/channels/{id}/test"), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["ok"], true, "{outcome}");
    assert!(outcome["message"].as_str().unwrap().contains("250"), "{outcome}");
    let mail = smtp.received();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].secured);
    assert_eq!(mail[0].auth.as_deref(), Some("\0alerts\0smtp secret"), "the stored password was used");
    assert_eq!(decoded_header(&mail[0].data, "Subject"), "バックアップ管理システムからのテスト通知");

    // A change that leaves the password out keeps it.
    let response = app
        .api(
            Method::PATCH,
            &format!("/api/v1/notifications/channels/{id}"),
            Some(&admin),
            Some(json!({"config": {"to": ["team@example.co.jp"]}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    app.api(Method::POST, &format!("/api/v1/notifications/channels/{id}/test"), Some(&admin), None).await;
    let mail = smtp.received();
    assert_eq!(mail[1].to, vec!["<team@example.co.jp>"]);
    assert_eq!(mail[1].auth.as_deref(), Some("\0alerts\0smtp secret"));

    // A webhook whose receiver is down: the test says so.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let body = json!({"name": "down", "kind": "webhook", "locale": "en", "config": {"url": format!("http://127.0.0.1:{port}/hook"), "secret": "s3cret"}});
    let hook: Value = app
        .api(Method::POST, "/api/v1/notifications/channels", Some(&admin), Some(body))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hook["config"]["secret_set"], true);
    assert_eq!(hook["config"]["url_host"], "127.0.0.1");
    assert!(hook.to_string().find("s3cret").is_none());
    let outcome: Value = app
        .api(Method::POST, &format!("/api/v1/notifications/channels/{}/test", hook["id"]), Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["ok"], false);
    assert!(outcome["message"].as_str().unwrap().contains("Not sent"), "{outcome}");

    let list: Value = app
        .api(Method::GET, "/api/v1/notifications/channels", Some(&admin), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        app.api(Method::DELETE, &format!("/api/v1/notifications/channels/{id}"), Some(&admin), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

crate::both_backends!(channels_api, channels_keep_their_secrets_and_test_sends_report_the_outcome);
