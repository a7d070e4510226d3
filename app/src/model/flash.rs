//! A result that must be shown once after a form was posted without
//! JavaScript (the page is reloaded, so the result travels in an encrypted,
//! short-lived cookie).

use serde::{Deserialize, Serialize};

/// What to show once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Flash {
    /// A generated one-time password for `username`.
    OneTimePassword {
        /// Whose password it is.
        username: String,
        /// The password.
        password: String,
    },
    /// A new API token's secret.
    TokenSecret {
        /// The token's name.
        name: String,
        /// The secret.
        secret: String,
    },
}
