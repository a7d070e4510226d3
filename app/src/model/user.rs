//! Users and roles.

use serde::{Deserialize, Serialize};

/// What a user may do. Checked on the server for every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
