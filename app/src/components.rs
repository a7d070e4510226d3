//! Components shared by several pages.

pub mod layout;
pub mod page;
pub mod prefs;
