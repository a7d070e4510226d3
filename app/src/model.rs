//! Wire types: what crosses the network between the browser, scripts and
//! the server. Server-only row types live next to their queries in `ssr::db`.
//! With the `ssr` feature they also describe themselves for the OpenAPI
//! document.

pub mod audit;
pub mod dashboard;
pub mod flash;
pub mod job;
pub mod notify;
pub mod schedule;
pub mod token;
pub mod user;
pub mod veeam;

use serde::{Deserialize, Serialize};

/// One page of a list, newest first, with the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}
