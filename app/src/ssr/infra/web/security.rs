//! Security headers: the Content-Security-Policy of pages and of
//! everything else, and the headers sent on every response.

/// Pages: only the app's own scripts, styles, images, fonts, WASM and
/// connections. The page adds `script-src 'self' 'nonce-…' 'wasm-unsafe-eval'`
/// for Leptos's one inline hydration script.
pub const PAGE_CSP_BASE: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self'; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Everything that is not a page (API answers, static files, the service
/// worker, whose own fetches this policy governs).
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// HSTS for https deployments: a year, subdomains included.
pub const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Headers every response carries (the CSP only when the handler set none).
pub const ALWAYS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ("cross-origin-opener-policy", "same-origin"),
];
