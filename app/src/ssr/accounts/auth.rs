//! Who is calling: session cookies (browser), JWT bearer tokens (API) and
//! API tokens (scripts), resolved once per request by the server's auth
//! middleware; and what they may do, checked by every operation through
//! [`Principal::authorize`].

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use axum_extra::extract::CookieJar;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::store::{api_tokens, sessions, users};
use crate::ssr::infra::{db::Db, keys::Keys, settings::Settings};
use crate::{
    error::AppError,
    i18n::Locale,
    model::{
        token::TokenScope,
        user::{AuthMethod, Role, UiLocale},
    },
};

/// The browser's session cookie.
pub const SESSION_COOKIE: &str = "bms_session";
/// API token secrets start with this, so they can be told from JWTs (and
/// found by secret scanners).
pub const API_TOKEN_PREFIX: &str = "bms_";

/// What a JWT is for: a browser session or an API bearer token. A token of
/// one kind is refused where the other is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// In the `bms_session` cookie.
    Session,
    /// In `Authorization: Bearer`.
    Api,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user id.
    sub: String,
    /// The user's session version when issued; a bump ends the token.
    sv: i64,
    /// The session (a row of `auth_sessions`): signing out revokes it, and
    /// it is gone with its user, so the token can never name anyone else.
    sid: String,
    kind: TokenKind,
    iat: i64,
    exp: i64,
}

/// Whose token to sign: a user, their session version, and their session.
#[derive(Debug, Clone, Copy)]
pub struct TokenSubject<'a> {
    /// The user.
    pub user_id: i64,
    /// Their session version.
    pub session_version: i64,
    /// The session's id.
    pub session_id: &'a str,
}

/// Signs a token for `subject`, valid until `expires_at`.
pub fn issue_jwt(
    keys: &Keys,
    subject: TokenSubject<'_>,
    kind: TokenKind,
    expires_at: DateTime<Utc>,
) -> Result<String, AppError> {
    let claims = Claims {
        sub: subject.user_id.to_string(),
        sv: subject.session_version,
        sid: subject.session_id.to_owned(),
        kind,
        iat: Utc::now().timestamp(),
        exp: expires_at.timestamp(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.jwt_encoding)
        .map_err(AppError::internal)
}

/// A verified token's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedJwt {
    /// The user.
    pub user_id: i64,
    /// Their session version at issue.
    pub session_version: i64,
    /// The session it belongs to.
    pub session_id: String,
    /// When it was issued.
    pub issued_at: DateTime<Utc>,
}

/// Checks a JWT's signature, algorithm, expiry and kind.
pub fn verify_jwt(keys: &Keys, token: &str, kind: TokenKind) -> Option<VerifiedJwt> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    let data = jsonwebtoken::decode::<Claims>(token, &keys.jwt_decoding, &validation).ok()?;
    let claims = data.claims;
    if claims.kind != kind {
        return None;
    }
    Some(VerifiedJwt {
        user_id: claims.sub.parse().ok()?,
        session_version: claims.sv,
        session_id: claims.sid,
        issued_at: Utc.timestamp_opt(claims.iat, 0).single()?,
    })
}

/// A new session id: 128 random bits, base64url.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenKind {
    /// The `auth_sessions.kind` of tokens of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Api => "api",
        }
    }
}

/// A new API token secret: the prefix and 32 random bytes, base64url.
pub fn new_api_token_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{API_TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// How API token secrets are stored. They carry 256 random bits, so a fast
/// hash is enough (there is nothing to brute-force), and lookups stay cheap.
pub fn hash_api_token_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// How the principal was authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    /// The session cookie, issued at this time (for sliding renewal).
    Session {
        /// When the cookie's token was issued.
        issued_at: DateTime<Utc>,
        /// The session it belongs to.
        session_id: String,
    },
    /// A bearer JWT.
    Bearer {
        /// The session it belongs to.
        session_id: String,
    },
    /// An API token.
    ApiToken {
        /// Its id.
        id: i64,
        /// Its scope.
        scope: TokenScope,
        /// The jobs it is limited to, if any.
        limit: Option<JobLimit>,
    },
}

/// The jobs an API token is limited to: those named, and those with one of
/// the tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobLimit {
    /// Jobs by id.
    pub job_ids: Vec<i64>,
    /// Jobs by tag.
    pub tags: Vec<String>,
}

impl JobLimit {
    /// Whether job `job_id` with `tags` is within the limit.
    pub fn covers(&self, job_id: i64, tags: &[String]) -> bool {
        self.job_ids.contains(&job_id) || tags.iter().any(|t| self.tags.contains(t))
    }
}

/// The kind of access an operation needs, checked against the role and,
/// for API tokens, the scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Looking (GET).
    Read,
    /// Changing things.
    Write,
    /// Reporting a run.
    Ingest,
    /// Managing one's own credentials: password, API tokens. Never through
    /// an API token, and allowed while a password change is pending.
    Account,
    /// Changing one job (its definition, pausing, deleting, a Veeam action):
    /// like [`Access::Write`], and the only writing a token limited to some
    /// jobs may do (the job's domain checks the limit).
    WriteJob,
    /// Managing other people's accounts (create, change, reset, delete):
    /// needs a sign-in (session or bearer JWT), never an API token, so a
    /// leaked script token cannot make itself an administrator.
    Accounts,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User id.
    pub user_id: i64,
    /// Username.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Profile language.
    pub locale: UiLocale,
    /// A new password must be chosen before anything else.
    pub must_change_password: bool,
    /// How the request was authenticated.
    pub via: AuthVia,
}

impl Principal {
    /// Allows the operation when the role is at least `min_role`, the token
    /// scope covers `access`, and no password change is pending.
    pub fn authorize(&self, min_role: Role, access: Access) -> Result<(), AppError> {
        if self.must_change_password && access != Access::Account {
            return Err(AppError::PasswordChangeRequired);
        }
        if self.role < min_role {
            return Err(AppError::Forbidden);
        }
        if let AuthVia::ApiToken { scope, limit, .. } = &self.via {
            let scope = *scope;
            let allowed = match (scope, access) {
                (_, Access::Account | Access::Accounts) => false,
                (TokenScope::Read, Access::Read) => true,
                // A token limited to some jobs touches nothing beyond them:
                // no windows, rules, channels, servers or new jobs.
                (TokenScope::Write, Access::Write) => limit.is_none(),
                (TokenScope::Write, Access::Read | Access::WriteJob | Access::Ingest) => true,
                (TokenScope::Ingest, Access::Ingest) => true,
                _ => false,
            };
            if !allowed {
                return Err(AppError::Forbidden);
            }
        }
        Ok(())
    }

    /// The authentication method, as the API reports it.
    pub fn method(&self) -> AuthMethod {
        match self.via {
            AuthVia::Session { .. } => AuthMethod::Session,
            AuthVia::Bearer { .. } => AuthMethod::Bearer,
            AuthVia::ApiToken { .. } => AuthMethod::ApiToken,
        }
    }

    /// The API token scope, if any.
    pub fn scope(&self) -> Option<TokenScope> {
        match self.via {
            AuthVia::ApiToken { scope, .. } => Some(scope),
            _ => None,
        }
    }

    /// Whether the caller may report runs for and change job `job_id`
    /// tagged `tags`: everyone but an API token limited to other jobs.
    pub fn covers_job(&self, job_id: i64, tags: &[String]) -> bool {
        match &self.via {
            AuthVia::ApiToken { limit: Some(limit), .. } => limit.covers(job_id, tags),
            _ => true,
        }
    }

    /// Whether the caller is an API token limited to some jobs (such a token
    /// cannot create jobs).
    pub fn is_job_limited(&self) -> bool {
        matches!(self.via, AuthVia::ApiToken { limit: Some(_), .. })
    }

    /// The sign-in session of a cookie or bearer JWT.
    pub fn session_id(&self) -> Option<&str> {
        match &self.via {
            AuthVia::Session { session_id, .. } | AuthVia::Bearer { session_id } => Some(session_id),
            AuthVia::ApiToken { .. } => None,
        }
    }
}

/// What the auth middleware learned about a request, stored in its
/// extensions for handlers and server functions.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// The caller, if authenticated.
    pub principal: Option<Principal>,
    /// The language for messages.
    pub locale: Locale,
    /// The client's address (the peer, or the forwarded one behind a trusted proxy).
    pub client_ip: Option<IpAddr>,
}

impl RequestInfo {
    /// The caller, or 401.
    pub fn principal(&self) -> Result<&Principal, AppError> {
        self.principal.as_ref().ok_or(AppError::Unauthorized)
    }

    /// The caller if allowed, else 401 or 403.
    pub fn require(&self, min_role: Role, access: Access) -> Result<&Principal, AppError> {
        let principal = self.principal()?;
        principal.authorize(min_role, access)?;
        Ok(principal)
    }

    /// The client address as text, for the audit log.
    pub fn client(&self) -> Option<String> {
        self.client_ip.map(|ip| ip.to_string())
    }
}

/// Why credentials were refused. Bad bearer credentials fail the request;
/// a bad cookie only makes it anonymous (the browser may hold a stale one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials {
    /// No credentials at all.
    None,
    /// Credentials that are not valid (expired, tampered, revoked...).
    Invalid,
}

/// Resolves the caller from the `Authorization` header or the session cookie.
pub async fn resolve(db: &Db, keys: &Keys, headers: &HeaderMap) -> Result<Principal, Credentials> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or(Credentials::Invalid)?;
        return if token.starts_with(API_TOKEN_PREFIX) {
            resolve_api_token(db, token).await
        } else {
            let jwt = verify_jwt(keys, token, TokenKind::Api).ok_or(Credentials::Invalid)?;
            let via = AuthVia::Bearer { session_id: jwt.session_id.clone() };
            load_user(db, jwt, TokenKind::Api, via).await
        };
    }
    let jar = CookieJar::from_headers(headers);
    let cookie = jar.get(SESSION_COOKIE).ok_or(Credentials::None)?;
    let jwt = verify_jwt(keys, cookie.value(), TokenKind::Session).ok_or(Credentials::Invalid)?;
    let via = AuthVia::Session { issued_at: jwt.issued_at, session_id: jwt.session_id.clone() };
    load_user(db, jwt, TokenKind::Session, via).await
}

/// The session `id` of user `user_id`, if it is still live: neither signed
/// out nor past its absolute end.
pub async fn live_session(db: &Db, id: &str, user_id: i64, kind: TokenKind) -> Option<sessions::SessionRow> {
    let session = sessions::find(db, id).await.ok().flatten()?;
    let live = session.user_id == user_id
        && session.kind == kind.as_str()
        && session.revoked_at.is_none()
        && session.expires_at > Utc::now();
    live.then_some(session)
}

async fn load_user(
    db: &Db,
    jwt: VerifiedJwt,
    kind: TokenKind,
    via: AuthVia,
) -> Result<Principal, Credentials> {
    live_session(db, &jwt.session_id, jwt.user_id, kind).await.ok_or(Credentials::Invalid)?;
    let row = users::find_by_id(db, jwt.user_id).await.ok().flatten().ok_or(Credentials::Invalid)?;
    if row.disabled || row.session_version != jwt.session_version {
        return Err(Credentials::Invalid);
    }
    principal_from_row(row, via)
}

async fn resolve_api_token(db: &Db, secret: &str) -> Result<Principal, Credentials> {
    let hash = hash_api_token_secret(secret);
    let token = api_tokens::find_by_hash(db, &hash).await.ok().flatten().ok_or(Credentials::Invalid)?;
    let now = Utc::now();
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| at <= now) {
        return Err(Credentials::Invalid);
    }
    let scope = token.scope;
    let row = users::find_by_id(db, token.user_id).await.ok().flatten().ok_or(Credentials::Invalid)?;
    if row.disabled {
        return Err(Credentials::Invalid);
    }
    // Written at most once a minute per token, so heavy use costs no writes.
    if token.last_used_at.is_none_or(|at| now - at > Duration::seconds(60))
        && let Err(e) = api_tokens::touch(db, token.id, now).await
    {
        tracing::warn!(error = %e, "cannot record API token use");
    }
    let limit = (token.job_ids.is_some() || token.tags.is_some()).then(|| JobLimit {
        job_ids: token.job_ids.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default(),
        tags: token.tags.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default(),
    });
    principal_from_row(row, AuthVia::ApiToken { id: token.id, scope, limit })
}

fn principal_from_row(row: users::UserRow, via: AuthVia) -> Result<Principal, Credentials> {
    Ok(Principal {
        user_id: row.id,
        role: row.role,
        locale: row.locale,
        username: row.username,
        must_change_password: row.must_change_password,
        via,
    })
}

/// The `Set-Cookie` value that stores a session token.
pub fn session_cookie(settings: &Settings, token: &str, max_age: Duration) -> String {
    let secure = if settings.is_https() { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        max_age.num_seconds()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(settings: &Settings) -> String {
    let secure = if settings.is_https() { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]

    use secrecy::SecretString;

    use super::*;

    fn keys() -> Keys {
        Keys::from_secret(&SecretString::from("0123456789abcdef0123456789abcdef".to_owned()))
    }

    fn principal(role: Role, via: AuthVia) -> Principal {
        Principal {
            user_id: 1,
            username: "u".into(),
            role,
            locale: UiLocale::En,
            must_change_password: false,
            via,
        }
    }

    fn subject(user_id: i64, session_version: i64) -> TokenSubject<'static> {
        TokenSubject { user_id, session_version, session_id: "s-1" }
    }

    #[test]
    fn a_jwt_verifies_with_its_own_key_and_kind_only() {
        let token =
            issue_jwt(&keys(), subject(7, 3), TokenKind::Session, Utc::now() + Duration::hours(12)).unwrap();
        let verified = verify_jwt(&keys(), &token, TokenKind::Session).unwrap();
        assert_eq!((verified.user_id, verified.session_version), (7, 3));
        assert_eq!(verified.session_id, "s-1");
        assert!(verify_jwt(&keys(), &token, TokenKind::Api).is_none(), "a session token is no API token");
        let other = Keys::from_secret(&SecretString::from("another secret that is long enough!!".to_owned()));
        assert!(verify_jwt(&other, &token, TokenKind::Session).is_none());
    }

    #[test]
    fn an_expired_or_tampered_jwt_is_refused() {
        let expired =
            issue_jwt(&keys(), subject(7, 0), TokenKind::Api, Utc::now() - Duration::seconds(5)).unwrap();
        assert!(verify_jwt(&keys(), &expired, TokenKind::Api).is_none());
        let token =
            issue_jwt(&keys(), subject(7, 0), TokenKind::Api, Utc::now() + Duration::hours(1)).unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(engine.decode(&parts[1]).unwrap()).unwrap().replace("\"7\"", "\"1\"");
        parts[1] = engine.encode(payload);
        assert!(verify_jwt(&keys(), &parts.join("."), TokenKind::Api).is_none());
        let none_alg = format!("{}.{}.", engine.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert!(verify_jwt(&keys(), &none_alg, TokenKind::Api).is_none());
    }

    #[test]
    fn roles_are_ordered_checks() {
        let bearer = || AuthVia::Bearer { session_id: "s".into() };
        let viewer = principal(Role::Viewer, bearer());
        assert_eq!(viewer.authorize(Role::Viewer, Access::Read), Ok(()));
        assert_eq!(viewer.authorize(Role::Operator, Access::Write), Err(AppError::Forbidden));
        let admin = principal(Role::Admin, bearer());
        assert_eq!(admin.authorize(Role::Operator, Access::Write), Ok(()));
    }

    #[test]
    fn token_scopes_limit_what_a_token_may_do() {
        let token = |scope| principal(Role::Admin, AuthVia::ApiToken { id: 1, scope, limit: None });
        let read = token(TokenScope::Read);
        assert_eq!(read.authorize(Role::Viewer, Access::Read), Ok(()));
        assert_eq!(read.authorize(Role::Admin, Access::Write), Err(AppError::Forbidden));
        assert_eq!(read.authorize(Role::Viewer, Access::Ingest), Err(AppError::Forbidden));
        let write = token(TokenScope::Write);
        assert_eq!(write.authorize(Role::Admin, Access::Write), Ok(()));
        assert_eq!(write.authorize(Role::Viewer, Access::Account), Err(AppError::Forbidden));
        let ingest = token(TokenScope::Ingest);
        assert_eq!(ingest.authorize(Role::Viewer, Access::Ingest), Ok(()));
        assert_eq!(ingest.authorize(Role::Viewer, Access::Read), Err(AppError::Forbidden));
    }

    #[test]
    fn a_token_limited_to_tags_or_jobs_covers_only_those() {
        let limit = JobLimit { job_ids: vec![7], tags: vec!["nas".into()] };
        let token = principal(
            Role::Operator,
            AuthVia::ApiToken { id: 1, scope: TokenScope::Ingest, limit: Some(limit) },
        );
        assert!(token.covers_job(7, &[]));
        assert!(token.covers_job(8, &["db".into(), "nas".into()]));
        assert!(!token.covers_job(8, &["db".into()]));
        assert!(token.is_job_limited());
        let write =
            |limit| principal(Role::Admin, AuthVia::ApiToken { id: 3, scope: TokenScope::Write, limit });
        let limited = write(Some(JobLimit { job_ids: vec![7], tags: vec![] }));
        assert_eq!(limited.authorize(Role::Operator, Access::WriteJob), Ok(()));
        assert_eq!(
            limited.authorize(Role::Admin, Access::Write),
            Err(AppError::Forbidden),
            "no windows, rules..."
        );
        assert_eq!(write(None).authorize(Role::Admin, Access::Write), Ok(()));
        let free =
            principal(Role::Operator, AuthVia::ApiToken { id: 2, scope: TokenScope::Ingest, limit: None });
        assert!(free.covers_job(8, &[]) && !free.is_job_limited());
    }

    #[test]
    fn a_pending_password_change_blocks_everything_but_account_access() {
        let mut p =
            principal(Role::Admin, AuthVia::Session { issued_at: Utc::now(), session_id: "s".into() });
        p.must_change_password = true;
        assert_eq!(p.authorize(Role::Viewer, Access::Read), Err(AppError::PasswordChangeRequired));
        assert_eq!(p.authorize(Role::Viewer, Access::Account), Ok(()));
    }

    #[test]
    fn api_token_secrets_are_long_random_and_hashed() {
        let a = new_api_token_secret();
        assert!(a.starts_with("bms_") && a.len() == 47, "{a}");
        assert_ne!(a, new_api_token_secret());
        let hash = hash_api_token_secret(&a);
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, hash_api_token_secret(&a));
    }
}
