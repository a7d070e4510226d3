//! One component per route; file paths mirror the URLs.

pub mod dashboard;
pub mod jobs;
pub mod not_found;
pub mod offline;
pub mod reports;
pub mod settings;
pub mod users;
