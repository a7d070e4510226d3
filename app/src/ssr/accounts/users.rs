//! Accounts: signing in, one's own password and language, and the users an
//! administrator manages. Server functions (the UI) and `/api/v1` handlers
//! (scripts) both call these, so every rule and role check lives here once.

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{
    audit::{self as audit_trail, Event, Target},
    auth::{self, Access, AuthVia, RequestInfo, TokenKind, TokenSubject},
    bootstrap::{is_plausible_email, normalise_username},
    password,
    store::{api_tokens, audit_log, sessions, users},
};
use crate::ssr::infra::limits::LoginRefusal;
use crate::ssr::infra::state::AppState;
use crate::{
    error::AppError,
    i18n::{Locale, td_string},
    model::user::{Me, NewUser, PasswordChange, Role, UiLocale, User, UserPatch, UserWithPassword},
};

fn policy_error(locale: Locale, field: &str, error: password::PasswordPolicyError) -> AppError {
    match error {
        password::PasswordPolicyError::TooShort => AppError::validation(
            field,
            td_string!(locale, errors.password_too_short, min = password::MIN_PASSWORD_LENGTH),
        ),
        password::PasswordPolicyError::TooLong => AppError::validation(
            field,
            td_string!(locale, errors.password_too_long, max = password::MAX_PASSWORD_LENGTH),
        ),
    }
}

/// The wire form of a stored user.
pub fn user_from_row(row: users::UserRow) -> User {
    User {
        id: row.id,
        role: row.role,
        locale: row.locale,
        username: row.username,
        email: row.email,
        disabled: row.disabled,
        must_change_password: row.must_change_password,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// How long a session or bearer token lives.
pub fn token_ttl(state: &AppState) -> Duration {
    Duration::hours(i64::from(state.settings.session_hours))
}

/// The longest a sign-in session lasts however active it is.
pub fn session_max_age(state: &AppState) -> Duration {
    Duration::days(i64::from(state.settings.session_max_days))
}

/// Starts a session of `kind` for `row` and signs its first token: a
/// browser session ends after `session_max_days` at the latest, a bearer
/// token after `session_hours`.
async fn start_session(
    state: &AppState,
    row: &users::UserRow,
    kind: TokenKind,
) -> Result<(String, DateTime<Utc>), AppError> {
    let now = Utc::now();
    let ends = match kind {
        TokenKind::Session => now + session_max_age(state),
        TokenKind::Api => now + token_ttl(state),
    };
    let first = (now + token_ttl(state)).min(ends);
    let session_id = auth::new_session_id();
    sessions::create(&state.db, &session_id, row.id, kind.as_str(), ends).await?;
    let subject =
        TokenSubject { user_id: row.id, session_version: row.session_version, session_id: &session_id };
    let token = auth::issue_jwt(&state.keys, subject, kind, first)?;
    Ok((token, first))
}

/// Audits a refused sign-in attempt, once per refused key and minute, so a
/// flood of attempts cannot fill the audit log.
async fn audit_refusal(state: &AppState, info: &RequestInfo, name: &str, refusal: &LoginRefusal) {
    let key = refusal.key();
    if !state.limits.first_refusal_this_minute(&key) {
        return;
    }
    let event = Event {
        action: "auth.login_rate_limited",
        target: Target::default(),
        success: false,
        details: Some(format!("too many attempts ({key}); more this minute are not recorded")),
        attempted_name: Some(truncate(name, 64)),
    };
    audit_trail::record(state, info, None, event).await;
}

/// Whether `name` has signed in from the caller's address before: such an
/// address keeps working while others hammer the account (so nobody can
/// lock an administrator out by failing to sign in as them).
async fn is_known_address(state: &AppState, info: &RequestInfo, name: &str) -> bool {
    match info.client() {
        Some(ip) => audit_log::has_signed_in_from(&state.db, name, &ip).await.unwrap_or(false),
        None => false,
    }
}

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// Who signed in.
    pub user: User,
    /// The JWT (cookie value or bearer token).
    pub token: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
}

/// Checks a username and password and issues a token of `kind`.
///
/// Unknown users, wrong passwords and disabled accounts get the same answer
/// after the same work. Attempts are rate limited per address and per
/// username, and audited.
pub async fn sign_in(
    state: &AppState,
    info: &RequestInfo,
    username: &str,
    password: SecretString,
    kind: TokenKind,
) -> Result<SignedIn, AppError> {
    let name = username.trim().to_lowercase();
    if let Err((refusal, limited)) = state.limits.check_login_address_shared(&state.db, info.client_ip).await
    {
        audit_refusal(state, info, &name, &refusal).await;
        return Err(limited);
    }
    if let Err((refusal, limited)) = state.limits.check_login_username_shared(&state.db, &name).await
        && !is_known_address(state, info, &name).await
    {
        audit_refusal(state, info, &name, &refusal).await;
        return Err(limited);
    }
    let row = users::find_by_username(&state.db, &name).await?;
    let verified = password::verify(password, row.as_ref().map(|r| r.password_hash.clone())).await;
    let row = match row {
        Some(row) if verified && !row.disabled => row,
        other => {
            let reason = match other {
                None => "unknown user",
                Some(r) if r.disabled && verified => "account disabled",
                Some(_) => "wrong password",
            };
            let event = Event {
                action: "auth.login_failed",
                target: Target::default(),
                success: false,
                details: Some(reason.to_owned()),
                attempted_name: Some(truncate(&name, 64)),
            };
            audit_trail::record(state, info, None, event).await;
            return Err(AppError::InvalidCredentials {
                message: td_string!(info.locale, errors.login_failed).to_string(),
            });
        }
    };
    if row.must_change_password && row.password_expires_at.is_some_and(|at| at <= Utc::now()) {
        let event = Event {
            action: "auth.login_failed",
            target: Target::new("user", row.id, row.username.clone()),
            success: false,
            details: Some("one-time password expired".to_owned()),
            attempted_name: Some(row.username.clone()),
        };
        audit_trail::record(state, info, None, event).await;
        return Err(AppError::InvalidCredentials {
            message: td_string!(info.locale, errors.one_time_password_expired).to_string(),
        });
    }
    let (token, expires_at) = start_session(state, &row, kind).await?;
    let via = match kind {
        TokenKind::Session => "session",
        TokenKind::Api => "bearer token",
    };
    let event = Event::ok("auth.login", Target::new("user", row.id, row.username.clone()))
        .details(format!("signed in ({via})"));
    let event = Event { attempted_name: Some(row.username.clone()), ..event };
    audit_trail::record(state, info, None, event).await;
    Ok(SignedIn { user: user_from_row(row), token, expires_at })
}

fn truncate(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// Forgets sessions that ended (signed out or past their end) more than a
/// day ago; returns how many.
pub async fn prune_sessions(state: &AppState) -> Result<u64, AppError> {
    Ok(sessions::prune(&state.db, Utc::now() - Duration::days(1)).await?)
}

/// Signs out: the caller's session (cookie or bearer JWT) ends on the
/// server, so a copy of its token stops working too.
pub async fn sign_out(state: &AppState, info: &RequestInfo) {
    if let Some(principal) = &info.principal {
        if let Some(session_id) = principal.session_id()
            && let Err(e) = sessions::revoke(&state.db, session_id).await
        {
            tracing::error!(error = %e, "cannot end the session at sign-out");
        }
        let target = Target::new("user", principal.user_id, principal.username.clone());
        audit_trail::record(state, info, Some(principal), Event::ok("auth.logout", target)).await;
    }
}

/// The caller.
pub async fn me(state: &AppState, info: &RequestInfo) -> Result<Me, AppError> {
    let principal = info.principal()?;
    let row = users::find_by_id(&state.db, principal.user_id).await?.ok_or(AppError::Unauthorized)?;
    Ok(Me { user: user_from_row(row), auth: principal.method(), scope: principal.scope() })
}

/// Changes the caller's own password. Every other session and token of
/// the user ends; for a browser session a fresh session token is returned
/// so the user stays signed in where they are.
pub async fn change_own_password(
    state: &AppState,
    info: &RequestInfo,
    change: PasswordChange,
) -> Result<Option<SignedIn>, AppError> {
    let principal = info.require(Role::Viewer, Access::Account)?;
    let locale = info.locale;
    // Each try checks the current password: limited like sign-ins, so it
    // is neither a way to guess it nor to keep the hashing slots busy.
    state.limits.check_password_change_shared(&state.db, info.client_ip, principal.user_id).await?;
    password::check_policy(&change.new_password).map_err(|e| policy_error(locale, "new_password", e))?;
    if change.new_password == change.current_password {
        return Err(AppError::validation("new_password", td_string!(locale, errors.password_same)));
    }
    let row = users::find_by_id(&state.db, principal.user_id).await?.ok_or(AppError::Unauthorized)?;
    let current = SecretString::from(change.current_password);
    if !password::verify(current, Some(row.password_hash.clone())).await {
        let target = Target::new("user", row.id, row.username.clone());
        let event = Event { success: false, ..Event::ok("user.password_change", target) }
            .details("wrong current password");
        audit_trail::record(state, info, Some(principal), event).await;
        return Err(AppError::validation(
            "current_password",
            td_string!(locale, errors.current_password_wrong),
        ));
    }
    let hash = password::hash(SecretString::from(change.new_password)).await.map_err(AppError::internal)?;
    users::set_password(&state.db, row.id, &hash, None).await?;
    let revoked = api_tokens::revoke_all_of_user(&state.db, row.id).await?;
    let target = Target::new("user", row.id, row.username.clone());
    let event = Event::ok("user.password_change", target)
        .details(format!("own password changed; sessions ended, {revoked} API token(s) revoked"));
    audit_trail::record(state, info, Some(principal), event).await;

    let fresh = users::find_by_id(&state.db, row.id).await?.ok_or(AppError::Unauthorized)?;
    match principal.via {
        AuthVia::Session { .. } => {
            let (token, expires_at) = start_session(state, &fresh, TokenKind::Session).await?;
            Ok(Some(SignedIn { user: user_from_row(fresh), token, expires_at }))
        }
        _ => Ok(None),
    }
}

/// Sets the caller's own language (used for the UI and for messages sent to them).
pub async fn set_own_locale(
    state: &AppState,
    info: &RequestInfo,
    locale: UiLocale,
) -> Result<User, AppError> {
    let principal = info.require(Role::Viewer, Access::Account)?;
    let row = users::find_by_id(&state.db, principal.user_id).await?.ok_or(AppError::Unauthorized)?;
    let update = users::ProfileUpdate {
        email: &row.email,
        role: row.role.as_str(),
        locale: locale.as_str(),
        disabled: row.disabled,
        end_sessions: false,
    };
    users::update_profile(&state.db, row.id, &update).await?;
    let row = users::find_by_id(&state.db, row.id).await?.ok_or(AppError::NotFound)?;
    Ok(user_from_row(row))
}

/// Every user (administrators only).
pub async fn list_users(state: &AppState, info: &RequestInfo) -> Result<Vec<User>, AppError> {
    info.require(Role::Admin, Access::Read)?;
    Ok(users::list(&state.db).await?.into_iter().map(user_from_row).collect())
}

/// One user (administrators only).
pub async fn get_user(state: &AppState, info: &RequestInfo, id: i64) -> Result<User, AppError> {
    info.require(Role::Admin, Access::Read)?;
    users::find_by_id(&state.db, id).await?.map(user_from_row).ok_or(AppError::NotFound)
}

/// Creates a user (administrators only). Without a password, a one-time
/// password is generated, returned once, and must be changed at first sign-in.
pub async fn create_user(
    state: &AppState,
    info: &RequestInfo,
    new: NewUser,
) -> Result<UserWithPassword, AppError> {
    let principal = info.require(Role::Admin, Access::Accounts)?;
    let locale = info.locale;
    let username = normalise_username(&new.username)
        .map_err(|_| AppError::validation("username", td_string!(locale, errors.username_invalid)))?;
    let email = new.email.trim().to_owned();
    if !is_plausible_email(&email) {
        return Err(AppError::validation("email", td_string!(locale, errors.email_invalid)));
    }
    let chosen = new.password.filter(|p| !p.is_empty());
    if let Some(chosen) = &chosen {
        password::check_policy(chosen).map_err(|e| policy_error(locale, "password", e))?;
    }
    let one_time = chosen.is_none();
    let secret = chosen.map(SecretString::from).unwrap_or_else(password::generate_one_time_password);
    let hash = password::hash(secret.clone()).await.map_err(AppError::internal)?;
    let record = users::NewUser {
        username: &username,
        email: &email,
        password_hash: &hash,
        role: new.role.as_str(),
        locale: new.locale.as_str(),
        must_change_password: one_time,
        password_expires_at: one_time.then(password::one_time_expiry),
    };
    let id = match users::create(&state.db, &record).await {
        Ok(id) => id,
        Err(users::CreateUserError::UsernameTaken) => {
            return Err(AppError::validation("username", td_string!(locale, errors.username_taken)));
        }
        Err(users::CreateUserError::Db(e)) => return Err(e.into()),
    };
    let event = Event::ok("user.create", Target::new("user", id, username.clone())).details(format!(
        "role {}, {}",
        new.role.as_str(),
        if one_time { "one-time password" } else { "chosen password" }
    ));
    audit_trail::record(state, info, Some(principal), event).await;
    let user = get_user(state, info, id).await?;
    Ok(UserWithPassword { user, one_time_password: one_time.then(|| secret.expose_secret().to_owned()) })
}

/// Changes a user's e-mail, role, language or disabled flag (administrators
/// only). A role change or disabling ends the user's sessions and tokens.
/// The last active administrator can be neither demoted nor disabled, and
/// nobody can demote or disable themselves.
pub async fn update_user(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
    patch: UserPatch,
) -> Result<User, AppError> {
    let principal = info.require(Role::Admin, Access::Accounts)?;
    let locale = info.locale;
    let row = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let current_role = row.role;
    let role = patch.role.unwrap_or(current_role);
    let disabled = patch.disabled.unwrap_or(row.disabled);
    let email = match patch.email {
        Some(email) => {
            let email = email.trim().to_owned();
            if !is_plausible_email(&email) {
                return Err(AppError::validation("email", td_string!(locale, errors.email_invalid)));
            }
            email
        }
        None => row.email.clone(),
    };
    let loses_admin = current_role == Role::Admin && !row.disabled && (role != Role::Admin || disabled);
    if loses_admin && id == principal.user_id {
        return Err(AppError::Conflict { message: td_string!(locale, errors.self_disable).to_string() });
    }
    if loses_admin && users::count_active_admins(&state.db).await? <= 1 {
        return Err(AppError::Conflict { message: td_string!(locale, errors.last_admin).to_string() });
    }
    let end_sessions = role != current_role || (disabled && !row.disabled);
    let update = users::ProfileUpdate {
        email: &email,
        role: role.as_str(),
        locale: patch.locale.unwrap_or(row.locale).as_str(),
        disabled,
        end_sessions,
    };
    if !users::update_profile(&state.db, id, &update).await? {
        return Err(AppError::NotFound);
    }
    let mut changes = vec![];
    if role != current_role {
        changes.push(format!("role {} -> {}", current_role.as_str(), role.as_str()));
    }
    if disabled != row.disabled {
        changes.push(if disabled { "disabled".to_owned() } else { "enabled".to_owned() });
    }
    if email != row.email {
        changes.push("e-mail changed".to_owned());
    }
    if end_sessions {
        let revoked = api_tokens::revoke_all_of_user(&state.db, id).await?;
        changes.push(format!("sessions ended, {revoked} API token(s) revoked"));
    }
    let event =
        Event::ok("user.update", Target::new("user", id, row.username.clone())).details(changes.join("; "));
    audit_trail::record(state, info, Some(principal), event).await;
    get_user(state, info, id).await
}

/// Resets a user's password to a new one-time password, returned once
/// (administrators only). Ends the user's sessions and tokens.
pub async fn reset_password(
    state: &AppState,
    info: &RequestInfo,
    id: i64,
) -> Result<UserWithPassword, AppError> {
    let principal = info.require(Role::Admin, Access::Accounts)?;
    // A reset ends every session and token of the user: done to oneself it
    // would end the very session of this call. One's own password is
    // changed with the current one (profile page, `POST /api/v1/me/password`).
    if principal.user_id == id {
        return Err(AppError::Conflict { message: td_string!(info.locale, errors.self_reset).to_string() });
    }
    let row = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let secret = password::generate_one_time_password();
    let hash = password::hash(secret.clone()).await.map_err(AppError::internal)?;
    users::set_password(&state.db, id, &hash, Some(password::one_time_expiry())).await?;
    let revoked = api_tokens::revoke_all_of_user(&state.db, id).await?;
    let event = Event::ok("user.password_reset", Target::new("user", id, row.username.clone()))
        .details(format!("one-time password issued; sessions ended, {revoked} API token(s) revoked"));
    audit_trail::record(state, info, Some(principal), event).await;
    let user = get_user(state, info, id).await?;
    Ok(UserWithPassword { user, one_time_password: Some(secret.expose_secret().to_owned()) })
}

/// Deletes a user and their API tokens (administrators only); never oneself,
/// never the last active administrator.
pub async fn delete_user(state: &AppState, info: &RequestInfo, id: i64) -> Result<(), AppError> {
    let principal = info.require(Role::Admin, Access::Accounts)?;
    let locale = info.locale;
    if id == principal.user_id {
        return Err(AppError::Conflict { message: td_string!(locale, errors.self_delete).to_string() });
    }
    let row = users::find_by_id(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if row.role == Role::Admin && !row.disabled && users::count_active_admins(&state.db).await? <= 1 {
        return Err(AppError::Conflict { message: td_string!(locale, errors.last_admin).to_string() });
    }
    if !users::delete(&state.db, id).await? {
        return Err(AppError::NotFound);
    }
    let event = Event::ok("user.delete", Target::new("user", id, row.username.clone()));
    audit_trail::record(state, info, Some(principal), event).await;
    Ok(())
}

/// (id, username) of every enabled user, for choosing a job's owner
/// (operators and up).
pub async fn user_choices(state: &AppState, info: &RequestInfo) -> Result<Vec<(i64, String)>, AppError> {
    info.require(Role::Operator, Access::Read)?;
    Ok(users::list(&state.db)
        .await?
        .into_iter()
        .filter(|u| !u.disabled)
        .map(|u| (u.id, u.username))
        .collect())
}

/// The username of user `id`, if there is one (no role needed: for showing
/// an owner, checking a chosen owner exists).
pub async fn username_of(state: &AppState, id: i64) -> Result<Option<String>, AppError> {
    Ok(users::find_by_id(&state.db, id).await?.map(|u| u.username))
}

/// A fresh session cookie for an active session (sliding sessions), or
/// `None` when the user or the session is gone. It never outlives the
/// session's absolute end (`session_max_days`).
pub async fn renewed_session_cookie(state: &AppState, user_id: i64, session_id: &str) -> Option<String> {
    let row = users::find_by_id(&state.db, user_id).await.ok().flatten()?;
    let session = auth::live_session(&state.db, session_id, user_id, TokenKind::Session).await?;
    let now = Utc::now();
    let expires_at = (now + token_ttl(state)).min(session.expires_at);
    let subject = TokenSubject { user_id: row.id, session_version: row.session_version, session_id };
    let token = auth::issue_jwt(&state.keys, subject, TokenKind::Session, expires_at).ok()?;
    Some(auth::session_cookie(&state.settings, &token, expires_at - now))
}
