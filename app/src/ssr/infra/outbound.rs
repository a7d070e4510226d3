//! Requests the server makes to addresses an administrator typed (webhooks,
//! chat, Veeam, SMTP): which addresses may be reached, HTTP clients that
//! check every address they connect to and never follow a redirect, and
//! the cleaning of a peer's text before it is stored, shown or logged.
//!
//! Link-local addresses (where cloud metadata services answer), the
//! metadata addresses themselves, and unspecified, multicast and broadcast
//! addresses are refused always. Loopback and private ranges are allowed
//! unless `outbound_deny_private` is set: on-premises Veeam servers and
//! mail relays live there.
//!
//! Host names are checked after resolution, by the clients' resolver (so
//! a name cannot pass a check and then resolve elsewhere); reqwest does not
//! resolve literal addresses, so those are checked with [`check_url`]
//! before a request is sent.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use url::{Host, Url};

use super::settings::Settings;
use crate::i18n::{Locale, td_string};

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Refuse loopback and private ranges too (`outbound_deny_private`).
    pub deny_private: bool,
}

impl Policy {
    /// The policy the settings ask for.
    pub fn from_settings(settings: &Settings) -> Self {
        Self { deny_private: settings.outbound_deny_private }
    }
}

/// Why an address may not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A cloud metadata service (169.254.169.254, fd00:ec2::254, 100.100.100.200).
    #[error("{0} is a cloud metadata address; the console never connects to it")]
    Metadata(IpAddr),
    /// 169.254.0.0/16 or fe80::/10.
    #[error("{0} is a link-local address; the console never connects to one")]
    LinkLocal(IpAddr),
    /// Unspecified, multicast, broadcast or reserved: not one host.
    #[error("{0} is not the address of one host (unspecified, multicast, broadcast or reserved)")]
    NotUnicast(IpAddr),
    /// Loopback or private, with `outbound_deny_private` on.
    #[error("{0} is a loopback or private address, refused because outbound_deny_private is set")]
    Private(IpAddr),
}

impl Refused {
    /// Whether the address is refused whatever the settings say.
    pub fn always(&self) -> bool {
        !matches!(self, Refused::Private(_))
    }

    /// The refused address.
    pub fn address(&self) -> IpAddr {
        match self {
            Refused::Metadata(ip)
            | Refused::LinkLocal(ip)
            | Refused::NotUnicast(ip)
            | Refused::Private(ip) => *ip,
        }
    }
}

/// Why an address is refused, in the user's language (form errors).
pub fn refused_message(locale: Locale, refused: Refused) -> String {
    let address = refused.address().to_string();
    if refused.always() {
        td_string!(locale, errors.address_never, address = address).to_string()
    } else {
        td_string!(locale, errors.address_private, address = address).to_string()
    }
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64
/// (`64:ff9b::a.b.c.d`) IPv6 address, which reach that IPv4 host.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            ip
        }
        IpAddr::V4(_) => ip,
    }
}

const METADATA_V4: [Ipv4Addr; 2] = [Ipv4Addr::new(169, 254, 169, 254), Ipv4Addr::new(100, 100, 100, 200)];
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254);

/// Whether `ip` may be reached under `policy`.
pub fn check_ip(ip: IpAddr, policy: Policy) -> Result<(), Refused> {
    let original = ip;
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if METADATA_V4.contains(&v4) {
                return Err(Refused::Metadata(original));
            }
            if v4.is_link_local() {
                return Err(Refused::LinkLocal(original));
            }
            if a == 0 || a >= 224 {
                // 0.0.0.0/8, multicast 224/4, reserved 240/4 and broadcast.
                return Err(Refused::NotUnicast(original));
            }
            let shared = a == 100 && (b & 0xc0) == 64; // 100.64.0.0/10
            if policy.deny_private && (v4.is_loopback() || v4.is_private() || shared) {
                return Err(Refused::Private(original));
            }
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            if v6 == METADATA_V6 {
                return Err(Refused::Metadata(original));
            }
            if first & 0xffc0 == 0xfe80 {
                return Err(Refused::LinkLocal(original));
            }
            if v6.is_unspecified() || v6.is_multicast() {
                return Err(Refused::NotUnicast(original));
            }
            if policy.deny_private && (v6.is_loopback() || first & 0xfe00 == 0xfc00) {
                return Err(Refused::Private(original));
            }
        }
    }
    Ok(())
}

/// The addresses of `resolved` that may be reached; when none may, why
/// the first was refused.
pub fn filter(
    resolved: impl IntoIterator<Item = SocketAddr>,
    policy: Policy,
) -> Result<Vec<SocketAddr>, Refused> {
    let mut first_refusal = None;
    let mut allowed = Vec::new();
    for address in resolved {
        match check_ip(address.ip(), policy) {
            Ok(()) => allowed.push(address),
            Err(refused) => {
                first_refusal.get_or_insert(refused);
            }
        }
    }
    match first_refusal {
        Some(refused) if allowed.is_empty() => Err(refused),
        _ => Ok(allowed),
    }
}

/// Checks a URL whose host is a literal address (reqwest connects to
/// those without asking the resolver); names are checked when resolved.
pub fn check_url(url: &Url, policy: Policy) -> Result<(), Refused> {
    match url.host() {
        Some(Host::Ipv4(ip)) => check_ip(IpAddr::V4(ip), policy),
        Some(Host::Ipv6(ip)) => check_ip(IpAddr::V6(ip), policy),
        _ => Ok(()),
    }
}

/// Checks a host as typed (an SMTP server): a literal address now, a name
/// when it is resolved.
pub fn check_host(host: &str, policy: Policy) -> Result<(), Refused> {
    let literal = host.trim().trim_start_matches('[').trim_end_matches(']');
    match literal.parse::<IpAddr>() {
        Ok(ip) => check_ip(ip, policy),
        Err(_) => Ok(()),
    }
}

/// A host name whose addresses are all refused.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to refused addresses: {refused}")]
pub struct RefusedName {
    /// The name.
    pub host: String,
    /// Why its first address was refused.
    pub refused: Refused,
}

/// Resolves `host` and keeps the addresses `policy` allows (for clients
/// that connect by themselves, such as SMTP).
pub async fn resolve(host: &str, port: u16, policy: Policy) -> Result<Vec<SocketAddr>, ResolveError> {
    let literal = host.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        check_ip(ip, policy).map_err(ResolveError::Refused)?;
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let resolved = tokio::net::lookup_host((literal, port))
        .await
        .map_err(|e| ResolveError::Lookup(format!("{literal}: {e}")))?;
    filter(resolved, policy)
        .map_err(|refused| ResolveError::Name(RefusedName { host: literal.to_owned(), refused }))
}

/// Why [`resolve`] failed.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The name could not be looked up.
    #[error("cannot resolve {0}")]
    Lookup(String),
    /// A literal address that may not be reached.
    #[error(transparent)]
    Refused(Refused),
    /// A name that resolves only to addresses that may not be reached.
    #[error(transparent)]
    Name(RefusedName),
}

/// reqwest's resolver, keeping only the addresses the policy allows.
#[derive(Debug, Clone, Copy)]
struct Resolver(Policy);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed = filter(resolved, policy).map_err(|refused| RefusedName { host, refused })?;
            let addresses: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

/// A reqwest client builder for outbound requests: redirects are not
/// followed (a credential or a notification must not be carried to an
/// address nobody checked), every resolved address is checked, and no
/// proxy from the environment (`HTTPS_PROXY`) is used, since through a
/// proxy only the proxy's own address would be checked.
pub fn builder(policy: Policy) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Resolver(policy)))
        .user_agent(concat!("backup-mgmt/", env!("CARGO_PKG_VERSION")))
}

/// The longest peer text kept in an error, a test result or a log line.
pub const MAX_ECHO: usize = 300;

/// `text` with control characters, line and paragraph separators and
/// bidirectional overrides escaped (`\n`, `\u{202e}`), so a peer's text
/// stays on one log line and reads as it is.
pub fn escape_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text`, `…` marking a cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The secret parts of a URL a peer could echo: the whole URL, its path
/// and query (webhook tokens live there) and its password.
pub fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = vec![url.to_owned()];
    if let Ok(parsed) = Url::parse(url) {
        let mut tail = parsed.path().to_owned();
        if let Some(query) = parsed.query() {
            tail.push('?');
            tail.push_str(query);
        }
        if tail.len() > 1 {
            secrets.push(tail);
        }
        if let Some(password) = parsed.password() {
            secrets.push(password.to_owned());
        }
        // A token on its own (Slack's, Discord's, Teams' `sig`), as a peer may quote it.
        let parts = parsed.path_segments().into_iter().flatten().map(str::to_owned);
        let values = parsed.query_pairs().map(|(_, v)| v.into_owned());
        secrets.extend(parts.chain(values).filter(|p| p.len() >= 16));
        secrets.push(parsed.to_string());
    }
    secrets
}

/// `text` with every URL cut to its scheme, host and port (a path, query
/// or password of a URL can be a credential).
pub fn without_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let scheme_start = rest[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(at, |(i, _)| i);
        let end = rest[at..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(rest.len(), |i| at + i);
        let mut candidate = &rest[scheme_start..end];
        while candidate.ends_with(['.', ',', ';', ':', ')', ']', '}']) {
            candidate = &candidate[..candidate.len() - 1];
        }
        let candidate_end = scheme_start + candidate.len();
        out.push_str(&rest[..scheme_start]);
        if scheme_start == at {
            // No scheme before `://`: not a URL, keep it.
            out.push_str("://");
            rest = &rest[at + 3..];
            continue;
        }
        match Url::parse(candidate) {
            Ok(url) if url.host_str().is_some() => {
                out.push_str(url.scheme());
                out.push_str("://");
                out.push_str(url.host_str().unwrap_or_default());
                if let Some(port) = url.port() {
                    out.push_str(&format!(":{port}"));
                }
                if url.path().len() > 1 || url.query().is_some() {
                    out.push_str("/…");
                }
            }
            _ => {
                out.push_str(&rest[scheme_start..at]);
                out.push_str("://…");
            }
        }
        rest = &rest[candidate_end..];
    }
    out.push_str(rest);
    out
}

/// A peer's text (an error, an answer) fit to store, show or log: each of
/// `secrets` replaced by `***`, URLs cut to their host, control characters
/// escaped, at most [`MAX_ECHO`] characters.
pub fn clean(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_owned();
    let mut secrets: Vec<&str> = secrets.iter().map(String::as_str).filter(|s| s.len() >= 4).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in secrets {
        text = text.replace(secret, "***");
    }
    cut(&escape_control(&without_urls(&text)), MAX_ECHO)
}

/// reqwest's error with its causes, without the URL it was sending to.
pub fn describe(error: reqwest::Error, secrets: &[String]) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    clean(&text, secrets)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use super::*;

    const OPEN: Policy = Policy { deny_private: false };
    const CLOSED: Policy = Policy { deny_private: true };

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn metadata_link_local_and_non_unicast_addresses_are_refused_always() {
        for (address, metadata) in [
            ("169.254.169.254", true),
            ("100.100.100.200", true),
            ("fd00:ec2::254", true),
            ("::ffff:169.254.169.254", true),
            ("64:ff9b::a9fe:a9fe", true),
            ("169.254.1.1", false),
            ("fe80::1", false),
            ("febf::1", false),
        ] {
            for policy in [OPEN, CLOSED] {
                let refused = check_ip(ip(address), policy).unwrap_err();
                assert!(refused.always(), "{address}");
                assert_eq!(matches!(refused, Refused::Metadata(_)), metadata, "{address}: {refused}");
            }
        }
        for address in ["0.0.0.0", "0.1.2.3", "::", "224.0.0.1", "239.1.1.1", "255.255.255.255", "ff02::1"] {
            assert!(matches!(check_ip(ip(address), OPEN), Err(Refused::NotUnicast(_))), "{address}");
        }
    }

    #[test]
    fn loopback_and_private_ranges_are_refused_only_when_asked() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.10",
            "100.64.0.1",
            "100.127.255.254",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
        ] {
            assert_eq!(check_ip(ip(address), OPEN), Ok(()), "{address}");
            assert!(matches!(check_ip(ip(address), CLOSED), Err(Refused::Private(_))), "{address}");
        }
        for address in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "2606:4700::1111"] {
            assert_eq!(check_ip(ip(address), CLOSED), Ok(()), "{address}");
        }
    }

    #[test]
    fn the_resolver_filter_keeps_allowed_addresses_and_refuses_a_name_with_none() {
        let addresses =
            |list: &[&str]| -> Vec<SocketAddr> { list.iter().map(|a| SocketAddr::new(ip(a), 443)).collect() };
        // A name resolving to link-local (metadata.google.internal does) is refused.
        let refused = filter(addresses(&["169.254.169.254"]), OPEN).unwrap_err();
        assert_eq!(refused, Refused::Metadata(ip("169.254.169.254")));
        assert!(filter(addresses(&["fe80::1", "169.254.3.4"]), OPEN).is_err());
        // Mixed answers: only the allowed addresses are connected to.
        assert_eq!(
            filter(addresses(&["169.254.169.254", "203.0.113.7"]), OPEN).unwrap(),
            addresses(&["203.0.113.7"])
        );
        assert_eq!(filter(addresses(&["127.0.0.1", "::1"]), OPEN).unwrap().len(), 2);
        assert!(matches!(filter(addresses(&["127.0.0.1", "::1"]), CLOSED), Err(Refused::Private(_))));
        assert_eq!(
            filter(addresses(&["10.0.0.1", "198.51.100.2"]), CLOSED).unwrap(),
            addresses(&["198.51.100.2"])
        );
    }

    #[test]
    fn literal_addresses_in_urls_and_hosts_are_checked_before_sending() {
        let url = |u: &str| Url::parse(u).unwrap();
        assert!(check_url(&url("http://169.254.169.254/latest/meta-data/"), OPEN).is_err());
        // The WHATWG parser reads other spellings of the same address.
        assert!(check_url(&url("http://0xa9.0xfe.0xa9.0xfe/"), OPEN).is_err());
        assert!(check_url(&url("http://2852039166/"), OPEN).is_err());
        assert!(check_url(&url("http://[fe80::1]:8080/"), OPEN).is_err());
        assert!(check_url(&url("http://127.0.0.1:9/hook"), OPEN).is_ok());
        assert!(check_url(&url("http://127.0.0.1:9/hook"), CLOSED).is_err());
        // Names are checked when resolved.
        assert!(check_url(&url("https://metadata.google.internal/"), OPEN).is_ok());
        assert!(check_host("169.254.169.254", OPEN).is_err());
        assert!(check_host("[::1]", CLOSED).is_err());
        assert!(check_host("smtp.example.co.jp", CLOSED).is_ok());
    }

    #[tokio::test]
    async fn resolving_a_host_checks_its_addresses() {
        assert!(matches!(resolve("169.254.169.254", 25, OPEN).await, Err(ResolveError::Refused(_))));
        assert_eq!(resolve("127.0.0.1", 25, OPEN).await.unwrap(), vec![SocketAddr::new(ip("127.0.0.1"), 25)]);
        assert!(matches!(resolve("localhost", 25, CLOSED).await, Err(ResolveError::Name(_))));
    }

    #[test]
    fn control_characters_are_escaped_onto_one_line() {
        assert_eq!(escape_control("a\nb\r\n\tc"), "a\\nb\\r\\n\\tc");
        assert_eq!(escape_control("x\u{1b}[31mred\u{7f}"), "x\\u{1b}[31mred\\u{7f}");
        assert_eq!(escape_control("evil\u{202e}txt.exe\u{2028}"), "evil\\u{202e}txt.exe\\u{2028}");
        assert_eq!(escape_control("日本語 ok"), "日本語 ok");
    }

    #[test]
    fn urls_keep_only_their_host() {
        assert_eq!(
            without_urls(
                "error sending request for url (https://hooks.slack.com/services/T0/B0/XYZ): refused"
            ),
            "error sending request for url (https://hooks.slack.com/…): refused"
        );
        assert_eq!(without_urls("see http://u:pw@host:8080/a?b=c."), "see http://host:8080/….");
        assert_eq!(without_urls("https://example.com/ and ftp://x"), "https://example.com and ftp://x");
        assert_eq!(without_urls("a :// b"), "a :// b");
        assert_eq!(without_urls("no url here"), "no url here");
    }

    #[test]
    fn clean_text_hides_secrets_and_is_short() {
        let secrets = url_secrets("http://127.0.0.1:9/hook/t0ken-SECRET?sig=abc");
        let echoed =
            "Cannot POST /hook/t0ken-SECRET?sig=abc\n(from http://127.0.0.1:9/hook/t0ken-SECRET?sig=abc)";
        let cleaned = clean(echoed, &secrets);
        assert!(!cleaned.contains("t0ken-SECRET"), "{cleaned}");
        assert!(!cleaned.contains('\n'), "{cleaned}");
        assert!(cleaned.starts_with("Cannot POST ***"), "{cleaned}");
        let long = "x".repeat(5000);
        assert_eq!(clean(&long, &[]).chars().count(), MAX_ECHO);
        assert_eq!(clean("pw is hunter22!", &["hunter22!".to_owned()]), "pw is ***");
    }
}
