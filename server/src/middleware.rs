//! Middleware around every request: who is calling (and CSRF and rate
//! checks on the way), security headers, and proper status codes for
//! server-function errors.

use std::net::{IpAddr, SocketAddr};

use app::{
    error::AppError,
    i18n::Locale,
    model::user::UiLocale,
    ssr::{
        accounts::{
            self,
            auth::{self, AuthVia, Credentials, RequestInfo},
        },
        infra::{
            metrics::Metrics,
            settings::Settings,
            state::AppState,
            web::{locale, security},
        },
    },
};
use axum::{
    body::{Body, to_bytes},
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;

/// Paths that never need to know the caller: static files and probes.
/// Skipping them keeps a page load to one user lookup.
fn is_public_asset(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/icons/")
        || path == "/sw.js"
        || path == "/manifest.webmanifest"
        || path == "/health"
        || path == "/health/live"
        || path == "/favicon.ico"
}

/// The client's address: the peer, or with `trust_proxy` the address the
/// trusted proxy appended to `X-Forwarded-For` (the entry
/// `trusted_proxy_hops` from the right; everything left of it was written
/// by the client and proves nothing), else (no `X-Forwarded-For` at all)
/// `X-Real-IP`.
pub fn client_ip(settings: &Settings, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    if settings.trust_proxy {
        let hops = usize::try_from(settings.trusted_proxy_hops).unwrap_or(1).max(1);
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>();
        // X-Real-IP only from a proxy that uses it instead: with fewer
        // forwarded entries than proxies, the peer is the best we know.
        let chosen = if forwarded.is_empty() {
            headers.get("x-real-ip").and_then(|v| v.to_str().ok())
        } else {
            forwarded.len().checked_sub(hops).and_then(|i| forwarded.get(i).copied())
        };
        let chosen = chosen.and_then(|v| v.trim().parse().ok());
        if chosen.is_some() {
            return chosen;
        }
    }
    peer.map(|p| p.ip())
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether an `Origin`/`Referer` value names this console: the configured
/// base URL, or the host the request was sent to (which a reverse proxy
/// preserves), so a console reached by another name still works.
fn is_own_origin(value: &str, settings: &Settings, headers: &HeaderMap) -> bool {
    let Ok(url) = url::Url::parse(value) else { return false };
    let Some(host) = url.host_str() else { return false };
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let base = &settings.base_url;
    let same_as_base = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default();
    let same_as_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| h.eq_ignore_ascii_case(&authority));
    same_as_base || same_as_host
}

/// CSRF defence for requests a browser could be tricked into sending:
/// a state-changing request without a bearer token must come from one of
/// our own pages (`Origin`, else `Referer`). Requests that carry neither
/// header and no session cookie are scripts, not browsers, and pass.
fn passes_csrf_check(method: &Method, headers: &HeaderMap, settings: &Settings) -> bool {
    if !is_state_changing(method) || headers.contains_key(header::AUTHORIZATION) {
        return true;
    }
    let origin = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("null"));
    match origin {
        Some(origin) => is_own_origin(origin, settings, headers),
        None => !has_session_cookie(headers),
    }
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    axum_extra::extract::CookieJar::from_headers(headers).get(auth::SESSION_COOKIE).is_some()
}

fn ui_locale(locale: UiLocale) -> Locale {
    match locale {
        UiLocale::En => Locale::en,
        UiLocale::Ja => Locale::ja,
    }
}

fn error_with_code(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    (status, axum::Json(body)).into_response()
}

/// Resolves the caller, enforces CSRF and the API rate limit, stores a
/// [`RequestInfo`] in the request, and renews an active browser session
/// on the way out.
pub async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_public_asset(request.uri().path()) {
        return next.run(request).await;
    }
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let headers = request.headers();
    let client_ip = client_ip(&state.settings, headers, peer);

    if !passes_csrf_check(request.method(), headers, &state.settings) {
        tracing::warn!(client = ?client_ip, "cross-site request refused");
        return error_with_code(
            StatusCode::FORBIDDEN,
            "csrf",
            "cross-site request refused: state-changing requests must come from the console's own pages",
        );
    }

    if request.uri().path().starts_with("/api/v1/")
        && let Some(ip) = client_ip
        && let Err(limited) = state.limits.check_api(ip)
    {
        return limited.into_response();
    }

    let has_bearer = headers.contains_key(header::AUTHORIZATION);
    let principal = match auth::resolve(&state.db, &state.keys, headers).await {
        Ok(principal) => Some(principal),
        Err(Credentials::None) => None,
        Err(Credentials::Invalid) if has_bearer => {
            let mut response = AppError::Unauthorized.into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
        // A stale cookie (expired, or from before a password change) makes
        // the visitor anonymous. It is deliberately not cleared: a request
        // still carrying the old cookie may finish after a newer cookie was
        // set by a concurrent one (a password change), and clearing would
        // sign the user out. The next sign-in overwrites it anyway.
        Err(Credentials::Invalid) => None,
    };
    let locale = locale::chosen(headers)
        .or_else(|| principal.as_ref().map(|p| ui_locale(p.locale)))
        .unwrap_or_default();
    let session = match principal.as_ref().map(|p| (&p.via, p.user_id)) {
        Some((AuthVia::Session { issued_at, session_id }, user_id)) => {
            Some((*issued_at, user_id, session_id.clone()))
        }
        _ => None,
    };
    request.extensions_mut().insert(RequestInfo { principal, locale, client_ip });

    let mut response = next.run(request).await;

    let sets_session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(auth::SESSION_COOKIE.as_bytes()));
    if let Some((issued_at, user_id, session_id)) = session {
        let ttl = accounts::token_ttl(&state);
        // Sliding sessions: once half the lifetime has passed, an active
        // user gets a fresh token, so only inactivity (or the session's
        // absolute end, `session_max_days`) signs them out.
        if !sets_session && Utc::now() - issued_at > ttl / 2 {
            renew_session(&state, user_id, &session_id, &mut response).await;
        }
    }
    response
}

async fn renew_session(state: &AppState, user_id: i64, session_id: &str, response: &mut Response) {
    if let Some(cookie) = accounts::renewed_session_cookie(state, user_id, session_id).await {
        append_cookie(response, &cookie);
    }
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The method as a metric label: the usual ones by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts every answered request and its duration by method, matched
/// route (the template, `/api/v1/jobs/{id}`, never the path: the labels
/// stay few), and status, for `/metrics`. Requests no route matched are
/// `static` (the site's files) or `unmatched`.
pub async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str().to_owned(),
        None if is_public_asset(request.uri().path()) => "static".to_owned(),
        None => "unmatched".to_owned(),
    };
    let client = client_ip(
        &state.settings,
        request.headers(),
        request.extensions().get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0),
    );
    // The path only: query strings may carry secrets, and ping URLs do.
    let path = crate::startup::loggable_path(request.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    Metrics::of(&state).request(method, &route, status, elapsed.as_secs_f64());
    app::ssr::ops::selfcheck::count_response(&state, status);
    tracing::info!(
        target: crate::telemetry::ACCESS,
        client = %client.map(|ip| ip.to_string()).unwrap_or_else(|| "-".to_owned()),
        method,
        path = %path,
        status,
        duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// Security headers on every response: nosniff, frame denial, referrer
/// policy, a CSP (pages set their own, with the hydration nonce) and HSTS
/// when the console is served over https.
pub async fn security_headers(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in security::ALWAYS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(security::DEFAULT_CSP));
    }
    if state.settings.is_https() {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(security::HSTS));
    }
    response
}

/// Server functions answer every error with status 500 by default; this
/// gives each error its real status (400, 401, 403, 409, 422, 429...).
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key("serverfnerror")
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let AppError::RateLimited { retry_after_seconds } = error
            && let Ok(value) = HeaderValue::from_str(&retry_after_seconds.to_string())
        {
            parts.headers.insert(header::RETRY_AFTER, value);
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let mut s = Settings::for_tests(std::env::temp_dir(), None);
        s.base_url = "https://backup.example.co.jp/".parse().expect("url");
        s
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn cookie_posts_from_other_sites_are_refused() {
        let s = settings();
        let post = Method::POST;
        let cookie = ("cookie", "bms_session=x");
        assert!(passes_csrf_check(
            &post,
            &headers(&[cookie, ("origin", "https://backup.example.co.jp")]),
            &s
        ));
        assert!(!passes_csrf_check(&post, &headers(&[cookie, ("origin", "https://evil.example")]), &s));
        assert!(!passes_csrf_check(&post, &headers(&[cookie, ("origin", "null")]), &s));
        assert!(!passes_csrf_check(&post, &headers(&[cookie]), &s), "a cookie without Origin or Referer");
        assert!(passes_csrf_check(
            &post,
            &headers(&[cookie, ("referer", "https://backup.example.co.jp/users")]),
            &s
        ));
        assert!(passes_csrf_check(&Method::GET, &headers(&[cookie, ("origin", "https://evil.example")]), &s));
    }

    #[test]
    fn bearer_requests_and_cookieless_scripts_are_not_csrf_checked() {
        let s = settings();
        let h = headers(&[("authorization", "Bearer x"), ("origin", "https://evil.example")]);
        assert!(passes_csrf_check(&Method::DELETE, &h, &s));
        assert!(passes_csrf_check(&Method::POST, &headers(&[]), &s));
    }

    #[test]
    fn the_host_the_request_came_to_counts_as_own_origin() {
        let s = settings();
        let h = headers(&[
            ("cookie", "bms_session=x"),
            ("origin", "http://10.0.0.5:5000"),
            ("host", "10.0.0.5:5000"),
        ]);
        assert!(passes_csrf_check(&Method::POST, &h, &s));
    }

    #[test]
    fn forwarded_addresses_are_used_only_behind_a_trusted_proxy() {
        let mut s = settings();
        let h = headers(&[("x-forwarded-for", "203.0.113.9, 10.0.0.1")]);
        let peer: SocketAddr = ([10, 0, 0, 1], 1234).into();
        assert_eq!(client_ip(&s, &h, Some(peer)), Some([10, 0, 0, 1].into()));
        s.trust_proxy = true;
        assert_eq!(client_ip(&s, &h, Some(peer)), Some([10, 0, 0, 1].into()), "the entry the proxy appended");
    }

    #[test]
    fn a_client_cannot_choose_its_address_through_x_forwarded_for() {
        let mut s = settings();
        s.trust_proxy = true;
        let peer: SocketAddr = ([10, 0, 0, 2], 1234).into();
        // The client sent `X-Forwarded-For: 1.2.3.4`; the proxy appended the
        // address it saw.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(client_ip(&s, &h, Some(peer)), Some([198, 51, 100, 7].into()));
        // Two proxies: the outer one appended the client, the inner one the outer proxy.
        s.trusted_proxy_hops = 2;
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.9")]);
        assert_eq!(client_ip(&s, &h, Some(peer)), Some([198, 51, 100, 7].into()));
        // Fewer entries than proxies: X-Real-IP, else the peer.
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(client_ip(&s, &h, Some(peer)), Some([10, 0, 0, 2].into()));
    }
}
