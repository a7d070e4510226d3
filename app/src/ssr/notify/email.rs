//! E-mail through SMTP with lettre: plain text and HTML alternatives from
//! one typed template, STARTTLS or implicit TLS (optionally trusting a
//! given certificate), optional authentication.

use std::time::Duration;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Attachment as MimeAttachment, Mailbox, MultiPart, SinglePart, header::ContentType},
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use serde::{Deserialize, Serialize};

use super::{message::Rendered, send::SendError};
use crate::ssr::infra::outbound::{self, Policy};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain (only for a relay on a trusted network).
    None,
    /// STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

/// An e-mail channel's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailConfig {
    /// SMTP server.
    pub host: String,
    /// Port (587 for STARTTLS, 465 for TLS, 25 plain).
    pub port: u16,
    /// Security.
    pub tls: SmtpTls,
    /// Account, when the server wants one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<String>,
    /// Sender, e.g. `Backup Console <backup@example.co.jp>`.
    pub from: String,
    /// Recipients.
    pub to: Vec<String>,
    /// A certificate (PEM) to trust besides the system's roots.
    pub trust_cert_pem: Option<String>,
}

/// The typed template of every e-mail.
pub struct EmailBody<'a> {
    /// The rendered notice.
    pub message: &'a Rendered,
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl EmailBody<'_> {
    /// The plain-text part.
    pub fn text(&self) -> String {
        let m = self.message;
        let mut out = format!("{}\n\n", m.title);
        for (label, value) in &m.facts {
            out.push_str(&format!("{label}: {value}\n"));
        }
        if let Some(excerpt) = &m.excerpt {
            out.push_str(&format!("\n{excerpt}\n"));
        }
        if let Some(ack) = &m.ack_link {
            out.push_str(&format!("\n{}: {ack}", m.ack_link_text));
        }
        out.push_str(&format!("\n{}: {}\n\n-- \n{}\n", m.link_text, m.link, m.footer));
        out
    }

    /// The HTML part (inline styles only: mail clients drop style sheets).
    pub fn html(&self) -> String {
        let m = self.message;
        let colour = format!("#{:06x}", m.severity.rgb());
        let rows: String = m
            .facts
            .iter()
            .map(|(label, value)| {
                format!(
                    "<tr><th align=\"left\" style=\"padding:4px 12px 4px 0;color:#4f5d75;font-weight:normal\">{}</th>\
                     <td style=\"padding:4px 0\">{}</td></tr>",
                    escape(label),
                    escape(value)
                )
            })
            .collect();
        let excerpt = m
            .excerpt
            .as_deref()
            .map(|e| {
                format!(
                    "<pre style=\"white-space:pre-wrap;background:#eef2f8;padding:8px;border-radius:6px\">{}</pre>",
                    escape(e)
                )
            })
            .unwrap_or_default();
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body style=\"font-family:system-ui,'Hiragino Sans','Meiryo',sans-serif;color:#152033\">\
             <h1 style=\"font-size:18px;color:{colour}\">{title}</h1>\
             <table role=\"presentation\">{rows}</table>{excerpt}\
             <p>{ack}<a href=\"{link}\" style=\"color:#1d4ed8\">{link_text}</a></p>\
             <p style=\"color:#4f5d75;font-size:12px\">{footer}</p></body></html>",
            title = escape(&m.title),
            ack = m
                .ack_link
                .as_deref()
                .map(|ack| format!(
                    "<a href=\"{}\" style=\"display:inline-block;padding:6px 14px;margin-right:12px;\
                     background:#1d4ed8;color:#ffffff;border-radius:6px;text-decoration:none\">{}</a>",
                    escape(ack),
                    escape(&m.ack_link_text)
                ))
                .unwrap_or_default(),
            link = escape(&m.link),
            link_text = escape(&m.link_text),
            footer = escape(&m.footer),
        )
    }
}

fn mailbox(field: &str, value: &str) -> Result<Mailbox, SendError> {
    value.trim().parse().map_err(|e| SendError::Permanent(format!("{field}: not an e-mail address ({e})")))
}

/// A message composed elsewhere (a scheduled report): subject, both
/// parts, and an optional attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// Subject.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// A file attached.
    pub attachment: Option<Attachment>,
}

/// A file attached to an e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// File name.
    pub file_name: String,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// The bytes.
    pub body: Vec<u8>,
}

/// Builds the message (`Subject` encoded as RFC 2047 where it is not ASCII).
pub fn build(config: &EmailConfig, message: &Rendered) -> Result<Message, SendError> {
    let body = EmailBody { message };
    build_composed(
        config,
        &Composed { subject: message.title.clone(), text: body.text(), html: body.html(), attachment: None },
    )
}

/// Builds a composed message: `multipart/alternative` (text and HTML),
/// inside `multipart/mixed` with the attachment when there is one.
pub fn build_composed(config: &EmailConfig, composed: &Composed) -> Result<Message, SendError> {
    let from = mailbox("from", &config.from)?;
    let domain = from.email.domain().to_owned();
    let id: String = (0..16).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
    let mut builder = Message::builder()
        .from(from)
        .subject(composed.subject.clone())
        .date_now()
        .message_id(Some(format!("<{id}@{domain}>")));
    if config.to.is_empty() {
        return Err(SendError::Permanent("to: no recipient".into()));
    }
    for to in &config.to {
        builder = builder.to(mailbox("to", to)?);
    }
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(composed.text.clone()))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(composed.html.clone()));
    let built = match &composed.attachment {
        None => builder.multipart(alternative),
        Some(file) => {
            let content_type = ContentType::parse(&file.content_type)
                .map_err(|e| SendError::Permanent(format!("attachment content type: {e}")))?;
            let attachment =
                MimeAttachment::new(file.file_name.clone()).body(file.body.clone(), content_type);
            builder.multipart(MultiPart::mixed().multipart(alternative).singlepart(attachment))
        }
    };
    built.map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))
}

/// Sends `message` to the first of the host's allowed addresses that
/// answers; the SMTP server's answer on success. Errors never carry the
/// password, and at most 300 characters of what the server said.
pub async fn send(
    config: &EmailConfig,
    message: &Rendered,
    timeout: Duration,
    policy: Policy,
) -> Result<String, SendError> {
    send_message(config, build(config, message)?, timeout, policy).await
}

/// Sends a composed message (see [`send`]).
pub async fn send_composed(
    config: &EmailConfig,
    composed: &Composed,
    timeout: Duration,
    policy: Policy,
) -> Result<String, SendError> {
    send_message(config, build_composed(config, composed)?, timeout, policy).await
}

async fn send_message(
    config: &EmailConfig,
    email: Message,
    timeout: Duration,
    policy: Policy,
) -> Result<String, SendError> {
    let secrets: Vec<String> = config.password.iter().cloned().collect();
    if let Some(pem) = config.trust_cert_pem.as_deref().filter(|p| !p.trim().is_empty()) {
        Certificate::from_pem(pem.as_bytes())
            .map_err(|e| SendError::Permanent(format!("trust_cert_pem: {e}")))?;
    }
    let addresses = tokio::time::timeout(timeout, outbound::resolve(&config.host, config.port, policy))
        .await
        .map_err(|_| SendError::Temporary(format!("cannot resolve {}: timed out", config.host)))?
        .map_err(|e| match e {
            outbound::ResolveError::Lookup(text) => SendError::Temporary(outbound::clean(&text, &secrets)),
            refused => SendError::Permanent(refused.to_string()),
        })?;
    let mut last = SendError::Temporary(format!("{} has no address", config.host));
    for address in addresses {
        match send_to(config, &address.ip().to_string(), &email, timeout).await {
            Ok(answer) => return Ok(outbound::clean(&answer, &secrets)),
            Err(e) if e.is_permanent() => return Err(SendError::Permanent(describe(&e, &secrets))),
            // An answer or a TLS failure is the server's: another address will not differ.
            Err(e) if e.is_transient() || e.is_response() || e.is_tls() => {
                return Err(SendError::Temporary(describe(&e, &secrets)));
            }
            Err(e) => last = SendError::Temporary(describe(&e, &secrets)),
        }
    }
    Err(last)
}

/// One try against `server` (an address), checking TLS against the host name.
async fn send_to(
    config: &EmailConfig,
    server: &str,
    email: &Message,
    timeout: Duration,
) -> Result<String, lettre::transport::smtp::Error> {
    let tls = match config.tls {
        SmtpTls::None => Tls::None,
        mode => {
            let mut parameters = TlsParameters::builder(config.host.clone());
            if let Some(pem) = config.trust_cert_pem.as_deref().filter(|p| !p.trim().is_empty()) {
                parameters = parameters.add_root_certificate(Certificate::from_pem(pem.as_bytes())?);
            }
            let parameters = parameters.build()?;
            if mode == SmtpTls::Tls { Tls::Wrapper(parameters) } else { Tls::Required(parameters) }
        }
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(server)
        .port(config.port)
        .tls(tls)
        .timeout(Some(timeout));
    if let (Some(user), Some(password)) = (config.username.as_ref(), config.password.as_ref()) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    let response = transport.build().send(email.clone()).await?;
    Ok(format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" ")))
}

fn describe(error: &lettre::transport::smtp::Error, secrets: &[String]) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    outbound::clean(&text, secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssr::notify::message::Severity;

    #[test]
    fn both_parts_carry_the_acknowledge_link_when_there_is_one() {
        let mut m = Rendered {
            title: "Backup failed: nightly".into(),
            facts: vec![("Job".into(), "nightly".into())],
            excerpt: None,
            link: "https://backup.example.co.jp/jobs/1".into(),
            link_text: "Open the job".into(),
            ack_link: Some("https://backup.example.co.jp/jobs/1/acknowledge".into()),
            ack_link_text: "Acknowledge".into(),
            severity: Severity::Critical,
            footer: "Backup console".into(),
        };
        let body = EmailBody { message: &m };
        assert!(body.text().contains("Acknowledge: https://backup.example.co.jp/jobs/1/acknowledge\n"));
        assert!(body.html().contains("href=\"https://backup.example.co.jp/jobs/1/acknowledge\""));
        assert!(body.html().contains(">Acknowledge</a>"));
        m.ack_link = None;
        let body = EmailBody { message: &m };
        assert!(!body.text().contains("Acknowledge") && !body.html().contains("Acknowledge"));
    }
}
