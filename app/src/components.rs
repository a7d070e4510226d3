//! Components shared by several pages.

pub mod auth;
pub mod flash;
pub mod form;
pub mod layout;
pub mod page;
pub mod password;
pub mod prefs;
pub mod time;
