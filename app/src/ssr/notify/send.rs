//! How a send can fail, and whether and when to try again.

/// Why a delivery failed, and whether and when to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The receiver asked us to wait (`429` with `Retry-After`, or Discord's `retry_after`).
    #[error("rate limited; retry after {0:?}")]
    RetryAfter(std::time::Duration),
    /// Worth trying again later (connection refused, timeout, 5xx, SMTP 4xx).
    #[error("{0}")]
    Temporary(String),
    /// Trying again will not help (4xx other than 429, SMTP 5xx, bad configuration).
    #[error("{0}")]
    Permanent(String),
}
