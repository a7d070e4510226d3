//! Creating the first administrator, on first start or from the CLI.

use secrecy::{ExposeSecret, SecretString};

use super::{password, store::users};
use crate::{model::user::Role, ssr::infra::db::Db};

/// The username of the account created on first start.
pub const FIRST_ADMIN_USERNAME: &str = "admin";

/// What [`ensure_first_admin`] did.
#[derive(Debug)]
pub enum FirstAdmin {
    /// Users already existed; nothing was done.
    AlreadyPresent,
    /// `admin` was created with the configured `BMS_ADMIN_PASSWORD`.
    CreatedWithConfiguredPassword,
    /// `admin` was created with this one-time password, which must be shown
    /// to the operator once and changed at first sign-in.
    CreatedWithOneTimePassword(SecretString),
}

/// A request to create an administrator from the command line.
#[derive(Debug)]
pub struct NewAdmin {
    /// Sign-in name (normalised to lower case).
    pub username: String,
    /// Contact address.
    pub email: String,
    /// A chosen password (used as is), or `None` for a one-time password.
    pub password: Option<SecretString>,
}

/// Why an administrator could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateAdminError {
    /// The username is not acceptable.
    #[error("invalid username: {0}")]
    InvalidUsername(&'static str),
    /// The e-mail address is not acceptable.
    #[error("invalid e-mail address: it must look like name@example.com")]
    InvalidEmail,
    /// The password does not meet the policy.
    #[error(transparent)]
    Policy(#[from] password::PasswordPolicyError),
    /// The username exists.
    #[error("a user named `{0}` already exists")]
    Exists(String),
    /// Anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Normalises and checks a username: 1–64 characters of `a-z 0-9 . _ - @`.
pub fn normalise_username(raw: &str) -> Result<String, &'static str> {
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err("it must not be empty");
    }
    if name.chars().count() > 64 {
        return Err("it must be at most 64 characters long");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err("use only letters a-z, digits and . _ - @");
    }
    Ok(name)
}

/// A deliberately loose e-mail check: something@something.something, no spaces.
pub fn is_plausible_email(raw: &str) -> bool {
    let Some((local, domain)) = raw.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !raw.chars().any(char::is_whitespace)
        && raw.len() <= 254
}

/// Creates an administrator. With a password it is used as is; without
/// one, a one-time password is generated and returned, and must be changed
/// at first sign-in.
pub async fn create_admin(db: &Db, admin: NewAdmin) -> Result<Option<SecretString>, CreateAdminError> {
    let username = normalise_username(&admin.username).map_err(CreateAdminError::InvalidUsername)?;
    let email = admin.email.trim().to_owned();
    if !is_plausible_email(&email) {
        return Err(CreateAdminError::InvalidEmail);
    }
    let (secret, one_time) = match admin.password {
        Some(chosen) => {
            password::check_policy(chosen.expose_secret())?;
            (chosen, false)
        }
        None => (password::generate_one_time_password(), true),
    };
    let hash = password::hash(secret.clone()).await?;
    let new_user = users::NewUser {
        username: &username,
        email: &email,
        password_hash: &hash,
        role: Role::Admin.as_str(),
        locale: "en",
        must_change_password: one_time,
        password_expires_at: one_time.then(password::one_time_expiry),
    };
    match users::create(db, &new_user).await {
        Ok(_) => Ok(one_time.then_some(secret)),
        Err(users::CreateUserError::UsernameTaken) => Err(CreateAdminError::Exists(username)),
        Err(users::CreateUserError::Db(e)) => Err(CreateAdminError::Other(e.into())),
    }
}

/// On a database without users, creates `admin`: with `configured_password`
/// when given (unattended installs), otherwise with a one-time password.
///
/// Safe to run from several instances at once: the loser of the race sees
/// the unique username and reports [`FirstAdmin::AlreadyPresent`].
pub async fn ensure_first_admin(
    db: &Db,
    configured_password: Option<&SecretString>,
) -> Result<FirstAdmin, CreateAdminError> {
    if users::count(db).await.map_err(anyhow::Error::from)? > 0 {
        return Ok(FirstAdmin::AlreadyPresent);
    }
    let admin = NewAdmin {
        username: FIRST_ADMIN_USERNAME.to_owned(),
        email: "admin@localhost.localdomain".to_owned(),
        password: configured_password.cloned(),
    };
    match create_admin(db, admin).await {
        Ok(Some(one_time)) => Ok(FirstAdmin::CreatedWithOneTimePassword(one_time)),
        Ok(None) => Ok(FirstAdmin::CreatedWithConfiguredPassword),
        Err(CreateAdminError::Exists(_)) => Ok(FirstAdmin::AlreadyPresent),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_cased_and_restricted() {
        assert_eq!(normalise_username("  Admin "), Ok("admin".to_owned()));
        assert_eq!(normalise_username("ops.team-1@tokyo"), Ok("ops.team-1@tokyo".to_owned()));
        assert!(normalise_username("").is_err());
        assert!(normalise_username("has space").is_err());
        assert!(normalise_username("名前").is_err());
        assert!(normalise_username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_dotted_domain() {
        assert!(is_plausible_email("ops@example.co.jp"));
        assert!(!is_plausible_email("ops@localhost"));
        assert!(!is_plausible_email("@example.com"));
        assert!(!is_plausible_email("ops example@example.com"));
        assert!(!is_plausible_email("ops@.example"));
    }
}

#[cfg(test)]
mod db_tests {
    #![expect(clippy::unwrap_used)]

    use super::*;
    use crate::db_test;

    async fn the_first_admin_is_created_once_with_a_one_time_password(db: &Db) {
        let FirstAdmin::CreatedWithOneTimePassword(password) = ensure_first_admin(db, None).await.unwrap()
        else {
            panic!("expected a one-time password");
        };
        let row = users::find_by_username(db, "admin").await.unwrap().unwrap();
        assert_eq!(row.role, Role::Admin);
        assert!(row.must_change_password);
        assert!(password::verify(password, Some(row.password_hash)).await);
        assert!(matches!(ensure_first_admin(db, None).await.unwrap(), FirstAdmin::AlreadyPresent));
        assert_eq!(users::count(db).await.unwrap(), 1);
    }
    db_test!(first_admin_on, the_first_admin_is_created_once_with_a_one_time_password);

    async fn a_configured_admin_password_is_used_as_is(db: &Db) {
        let chosen = SecretString::from("a long unattended password");
        let outcome = ensure_first_admin(db, Some(&chosen)).await.unwrap();
        assert!(matches!(outcome, FirstAdmin::CreatedWithConfiguredPassword));
        let row = users::find_by_username(db, "admin").await.unwrap().unwrap();
        assert!(!row.must_change_password);
        assert!(password::verify(chosen, Some(row.password_hash)).await);
    }
    db_test!(configured_admin_on, a_configured_admin_password_is_used_as_is);

    async fn create_admin_refuses_bad_input_and_duplicates(db: &Db) {
        let admin = |name: &str, email: &str, pw: Option<&str>| NewAdmin {
            username: name.into(),
            email: email.into(),
            password: pw.map(SecretString::from),
        };
        assert!(matches!(
            create_admin(db, admin("bad name", "a@example.com", None)).await,
            Err(CreateAdminError::InvalidUsername(_))
        ));
        assert!(matches!(
            create_admin(db, admin("ops", "not-an-address", None)).await,
            Err(CreateAdminError::InvalidEmail)
        ));
        assert!(matches!(
            create_admin(db, admin("ops", "ops@example.com", Some("short"))).await,
            Err(CreateAdminError::Policy(_))
        ));
        assert!(
            create_admin(db, admin("Ops", "ops@example.com", Some("long enough password")))
                .await
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            create_admin(db, admin("ops", "ops@example.com", None)).await,
            Err(CreateAdminError::Exists(name)) if name == "ops"
        ));
        assert_eq!(users::count(db).await.unwrap(), 1);
    }
    db_test!(create_admin_on, create_admin_refuses_bad_input_and_duplicates);
}
