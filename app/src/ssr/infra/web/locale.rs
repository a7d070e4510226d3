//! The language of a request outside Leptos's reactive context (plain axum
//! routes, API errors, the manifest): the `bms_locale` cookie, else the
//! best `Accept-Language` match, else English. Pages use leptos_i18n, which
//! applies the same order.

use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;

use crate::i18n::Locale;
use crate::prefs::LOCALE_COOKIE;

/// The locale for a request.
pub fn from_headers(headers: &HeaderMap) -> Locale {
    chosen(headers).unwrap_or_default()
}

/// The locale the request asks for, if it asks (cookie or `Accept-Language`).
pub fn chosen(headers: &HeaderMap) -> Option<Locale> {
    let jar = CookieJar::from_headers(headers);
    if let Some(locale) = jar.get(LOCALE_COOKIE).and_then(|c| c.value().parse::<Locale>().ok()) {
        return Some(locale);
    }
    headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(|accept| {
        // Sorted by quality; "ja-JP" counts as "ja".
        accept_language::parse(accept).into_iter().find_map(|tag| {
            let primary = tag.split('-').next().unwrap_or_default().to_ascii_lowercase();
            primary.parse::<Locale>().ok()
        })
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).expect("a valid header value"));
        }
        map
    }

    #[test]
    fn the_cookie_wins_over_accept_language() {
        let h = headers(&[(header::COOKIE, "bms_locale=en"), (header::ACCEPT_LANGUAGE, "ja")]);
        assert_eq!(from_headers(&h), Locale::en);
    }

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let h = headers(&[(header::ACCEPT_LANGUAGE, "fr-FR, ja-JP;q=0.8, en;q=0.5")]);
        assert_eq!(from_headers(&h), Locale::ja);
        let h = headers(&[(header::ACCEPT_LANGUAGE, "ja;q=0.3, en-GB;q=0.9")]);
        assert_eq!(from_headers(&h), Locale::en);
    }

    #[test]
    fn english_is_the_fallback() {
        assert_eq!(from_headers(&HeaderMap::new()), Locale::en);
        let h = headers(&[(header::ACCEPT_LANGUAGE, "de"), (header::COOKIE, "bms_locale=xx")]);
        assert_eq!(from_headers(&h), Locale::en);
    }
}
