//! The flash cookie: an encrypted (AES-GCM, via the cookie crate's private
//! jar), HttpOnly, five-minute cookie carrying a [`Flash`] from a
//! no-JavaScript form post to the page it redirects to, which shows it once
//! and clears it. With JavaScript the result comes back in the server
//! function's answer instead and no cookie is set.

use axum::http::{HeaderMap, header};
use cookie::{Cookie, CookieJar, SameSite};

use crate::model::flash::Flash;
use crate::ssr::infra::{keys::Keys, settings::Settings};

/// The cookie's name.
pub const FLASH_COOKIE: &str = "bms_flash";

/// Whether a request is a plain form post from a browser without
/// JavaScript (the only case that needs a flash).
pub fn is_plain_form_post(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// The `Set-Cookie` value carrying `flash`.
pub fn set_cookie(keys: &Keys, settings: &Settings, flash: &Flash) -> Option<String> {
    let value = serde_json::to_string(flash).ok()?;
    let mut jar = CookieJar::new();
    let cookie = Cookie::build((FLASH_COOKIE, value))
        .path("/")
        .http_only(true)
        .secure(settings.is_https())
        .same_site(SameSite::Strict)
        .max_age(cookie::time::Duration::minutes(5))
        .build();
    jar.private_mut(&keys.cookie).add(cookie);
    jar.delta().next().map(|c| c.encoded().to_string())
}

/// The `Set-Cookie` value that removes the flash.
pub fn clear_cookie() -> String {
    format!("{FLASH_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The flash in the request's cookies, if any and if it decrypts.
pub fn read(keys: &Keys, headers: &HeaderMap) -> Option<Flash> {
    let mut jar = CookieJar::new();
    for value in headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()) {
        for cookie in Cookie::split_parse_encoded(value.to_owned()).flatten() {
            jar.add_original(cookie);
        }
    }
    let cookie = jar.private(&keys.cookie).get(FLASH_COOKIE)?;
    serde_json::from_str(cookie.value()).ok()
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use axum::http::HeaderValue;
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn a_flash_round_trips_encrypted_and_is_refused_under_another_key() {
        let keys = Keys::from_secret(&SecretString::from("0123456789abcdef0123456789abcdef".to_owned()));
        let settings = Settings::for_tests(std::env::temp_dir(), None);
        let flash = Flash::OneTimePassword { username: "ops".into(), password: "Secret-One-Time".into() };
        let set = set_cookie(&keys, &settings, &flash).unwrap();
        assert!(set.contains("HttpOnly") && set.contains("Max-Age=300"));
        assert!(!set.contains("Secret-One-Time"), "the password is encrypted: {set}");
        let pair = set.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("other=1; {pair}")).unwrap());
        assert_eq!(read(&keys, &headers), Some(flash));
        let other = Keys::from_secret(&SecretString::from("another secret that is long enough!!".to_owned()));
        assert_eq!(read(&other, &headers), None);
    }
}
