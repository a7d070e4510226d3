//! Reading a Veeam server's settings: the settings page's form
//! ([`VeeamServerForm`], text) and the JSON API's body
//! ([`VeeamServerInput`]) end in the same checks, with the same
//! field-named answers.

use super::{client::SUPPORTED_REVISIONS, store::ServerFields};
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::veeam::{TlsMode, VeeamServerForm, VeeamServerInput, VeeamServerPatch},
    ssr::infra::{
        input::{integer_field, non_empty},
        outbound::{self, Policy, refused_message},
    },
};

/// Veeam's REST port.
pub const DEFAULT_PORT: u16 = 9419;

/// The form as the JSON API's input.
pub fn input(locale: Locale, form: VeeamServerForm) -> Result<VeeamServerInput, AppError> {
    let tls_mode = match non_empty(form.tls_mode) {
        None => TlsMode::Verify,
        Some(mode) => TlsMode::parse(&mode).ok_or_else(|| {
            AppError::validation(
                "tls_mode",
                td_string!(locale, errors.invalid_choice, allowed = "verify, custom_ca, insecure"),
            )
        })?,
    };
    let sync_interval_seconds = integer_field(
        "sync_interval_seconds",
        form.sync_interval_seconds,
        td_string!(locale, veeam.errors.interval),
    )?;
    Ok(VeeamServerInput {
        name: form.name,
        base_url: form.base_url,
        username: form.username,
        password: non_empty(form.password),
        api_version: non_empty(form.api_version),
        tls_mode,
        ca_pem: non_empty(form.ca_pem),
        sync_interval_seconds,
        enabled: Some(form.enabled.is_some_and(|v| v != "false")),
    })
}

/// The edit form as a patch: every field is set (an empty revision means
/// "detect", an empty PEM clears it); an empty password keeps the stored one.
pub fn patch(locale: Locale, form: VeeamServerForm) -> Result<VeeamServerPatch, AppError> {
    let body = input(locale, form)?;
    Ok(VeeamServerPatch {
        name: Some(body.name),
        base_url: Some(body.base_url),
        username: Some(body.username),
        password: body.password,
        api_version: Some(body.api_version.unwrap_or_default()),
        tls_mode: Some(body.tls_mode),
        ca_pem: Some(body.ca_pem.unwrap_or_default()),
        sync_interval_seconds: body.sync_interval_seconds,
        enabled: body.enabled,
    })
}

/// Normalises an address: `https://` when no scheme is given, port 9419 when none.
pub fn normalise_url(input: &str) -> Option<String> {
    let text = input.trim();
    if text.is_empty() {
        return None;
    }
    let with_scheme = if text.contains("://") { text.to_owned() } else { format!("https://{text}") };
    let mut url = url::Url::parse(&with_scheme).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    if url::Url::parse(&with_scheme).ok()?.port().is_none() && !has_explicit_port(&with_scheme) {
        url.set_port(Some(DEFAULT_PORT)).ok()?;
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url.to_string())
}

/// Where a stored password goes: scheme, host and port of `url`.
fn destination(url: &str) -> Option<(String, String, Option<u16>)> {
    let url = url::Url::parse(url).ok()?;
    Some((url.scheme().to_owned(), url.host_str()?.to_ascii_lowercase(), url.port_or_known_default()))
}

/// Whether two addresses reach the same place (a stored password may go
/// to `new` only when it does).
pub fn same_destination(old: &str, new: &str) -> bool {
    let old = destination(old);
    old.is_some() && old == destination(new)
}

fn has_explicit_port(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
        && !authority.ends_with(']')
}

/// A server's settings, checked.
pub struct Checked {
    pub name: String,
    pub base_url: String,
    pub username: String,
    pub password: Option<String>,
    pub api_version: Option<String>,
    pub tls_mode: TlsMode,
    pub ca_pem: Option<String>,
    pub sync_interval_seconds: i64,
    pub enabled: bool,
}

/// Checks a server's settings; an address the console may not reach is
/// refused (a name is checked again when it is resolved).
pub fn check(
    locale: Locale,
    input: VeeamServerInput,
    creating: bool,
    policy: Policy,
) -> Result<Checked, AppError> {
    let name = input.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", td_string!(locale, veeam.errors.name)));
    }
    let base_url = normalise_url(&input.base_url)
        .ok_or_else(|| AppError::validation("base_url", td_string!(locale, veeam.errors.base_url)))?;
    if let Ok(url) = url::Url::parse(&base_url) {
        outbound::check_url(&url, policy)
            .map_err(|refused| AppError::validation("base_url", refused_message(locale, refused)))?;
    }
    let username = input.username.trim().to_owned();
    if username.is_empty() || username.chars().count() > 200 {
        return Err(AppError::validation("username", td_string!(locale, veeam.errors.username)));
    }
    let password = input.password.filter(|p| !p.is_empty());
    if creating && password.is_none() {
        return Err(AppError::validation("password", td_string!(locale, veeam.errors.password)));
    }
    if password.as_ref().is_some_and(|p| p.len() > 1000) {
        return Err(AppError::validation("password", td_string!(locale, veeam.errors.password)));
    }
    let api_version =
        input.api_version.map(|v| v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty() && v != "auto");
    if let Some(version) = &api_version
        && !SUPPORTED_REVISIONS.contains(&version.as_str())
    {
        let supported = SUPPORTED_REVISIONS.join(", ");
        return Err(AppError::validation(
            "api_version",
            td_string!(locale, veeam.errors.api_version, supported = supported),
        ));
    }
    let ca_pem = input.ca_pem.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
    if input.tls_mode == TlsMode::CustomCa {
        let readable = ca_pem
            .as_deref()
            .and_then(|pem| reqwest::Certificate::from_pem_bundle(pem.as_bytes()).ok())
            .is_some_and(|certs| !certs.is_empty());
        if !readable {
            return Err(AppError::validation("ca_pem", td_string!(locale, veeam.errors.ca_pem)));
        }
    }
    let sync_interval_seconds = input.sync_interval_seconds.unwrap_or(300);
    if !(60..=86_400).contains(&sync_interval_seconds) {
        return Err(AppError::validation("sync_interval_seconds", td_string!(locale, veeam.errors.interval)));
    }
    Ok(Checked {
        name,
        base_url,
        username,
        password,
        api_version,
        tls_mode: input.tls_mode,
        ca_pem: if input.tls_mode == TlsMode::CustomCa { ca_pem } else { None },
        sync_interval_seconds,
        enabled: input.enabled.unwrap_or(true),
    })
}

impl Checked {
    /// The row's fields, with the password as stored (encrypted).
    pub fn fields<'a>(&'a self, password_encrypted: &'a str) -> ServerFields<'a> {
        ServerFields {
            name: &self.name,
            base_url: &self.base_url,
            username: &self.username,
            password_encrypted,
            api_version: self.api_version.as_deref(),
            tls_mode: self.tls_mode.as_str(),
            ca_pem: self.ca_pem.as_deref(),
            sync_interval_seconds: self.sync_interval_seconds,
            enabled: self.enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_is_scheme_host_and_port() {
        assert!(same_destination("https://vbr.example.local:9419/", "https://VBR.example.local:9419/"));
        assert!(same_destination("https://vbr.example.local:443/", "https://vbr.example.local/"));
        assert!(!same_destination("https://vbr.example.local:9419/", "https://evil.example:9419/"));
        assert!(!same_destination("https://vbr.example.local:9419/", "http://vbr.example.local:9419/"));
        assert!(!same_destination("https://vbr.example.local:9419/", "https://vbr.example.local:9420/"));
        assert!(!same_destination("not a url", "not a url"));
    }
}
