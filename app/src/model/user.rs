//! Users and roles.

use serde::{Deserialize, Serialize};

/// What a user may do. Checked on the server for every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read only.
    Viewer,
    /// Manages jobs: acknowledge, start and stop, pause and resume.
    Operator,
    /// Everything, including users and settings.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored or submitted role name.
    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

/// The languages the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UiLocale {
    /// English.
    #[default]
    En,
    /// Japanese.
    Ja,
}

impl UiLocale {
    /// The BCP 47 tag.
    pub fn as_str(self) -> &'static str {
        match self {
            UiLocale::En => "en",
            UiLocale::Ja => "ja",
        }
    }

    /// Parses `en` or `ja`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "en" => Some(UiLocale::En),
            "ja" => Some(UiLocale::Ja),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn roles_are_ordered_by_privilege() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
    }
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    /// Identifier.
    pub id: i64,
    /// Sign-in name (lower case).
    pub username: String,
    /// Contact address.
    pub email: String,
    /// What the user may do.
    pub role: Role,
    /// Language of the UI and of messages sent to the user.
    pub locale: UiLocale,
    /// Disabled users cannot sign in.
    pub disabled: bool,
    /// The next sign-in must choose a new password.
    pub must_change_password: bool,
    /// When the account was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When the account last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// How the current request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// The browser's session cookie.
    Session,
    /// A JWT from `POST /api/v1/auth/login`.
    Bearer,
    /// An API token.
    ApiToken,
}

/// `GET /api/v1/me`: who is calling, and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    /// The user.
    pub user: User,
    /// How this request was authenticated.
    pub auth: AuthMethod,
    /// The API token's scope, when authenticated by one.
    pub scope: Option<super::token::TokenScope>,
}

/// A new user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// Sign-in name: letters a-z, digits and `. _ - @`, at most 64
    /// (stored in lower case; spaces around it are ignored).
    #[cfg_attr(feature = "ssr", schema(pattern = r"^ *[A-Za-z0-9._@-]{1,64} *$"))]
    pub username: String,
    /// Contact address: `name@example.com`, no spaces, at most 254 bytes.
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 254, pattern = r"^ *[!-?A-~]+@[!-\-/-~]([!-~]*[!-\-/-~])?\.[!-~]*[!-\-/-~] *$")
    )]
    pub email: String,
    /// Role.
    pub role: Role,
    /// Language (default `en`).
    #[serde(default)]
    pub locale: UiLocale,
    /// An initial password (12 to 1,024 characters); when absent a one-time
    /// password is generated, returned once, and must be changed at first sign-in.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(min_length = 12, max_length = 1024))]
    pub password: Option<String>,
}

/// The answer to creating a user or resetting a password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserWithPassword {
    /// The user.
    pub user: User,
    /// The generated one-time password, shown this once.
    pub one_time_password: Option<String>,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New contact address (as for a new user).
    #[cfg_attr(
        feature = "ssr",
        schema(max_length = 254, pattern = r"^ *[!-?A-~]+@[!-\-/-~]([!-~]*[!-\-/-~])?\.[!-~]*[!-\-/-~] *$")
    )]
    pub email: Option<String>,
    /// New role (ends the user's sessions and tokens).
    pub role: Option<Role>,
    /// New language.
    pub locale: Option<UiLocale>,
    /// Disable (ends the user's sessions and tokens) or enable.
    pub disabled: Option<bool>,
}

/// Changing one's own password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    /// The current password.
    pub current_password: String,
    /// The new password, 12 to 1,024 characters, not the current one.
    #[cfg_attr(feature = "ssr", schema(min_length = 12, max_length = 1024))]
    pub new_password: String,
}

#[cfg(feature = "ssr")]
super::text_enum!(Role, "role");
#[cfg(feature = "ssr")]
super::text_enum!(UiLocale, "language");
