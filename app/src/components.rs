//! Components shared by several pages.

pub mod ack;
pub mod auth;
pub mod charts;
pub mod flash;
pub mod form;
pub mod layout;
pub mod live;
pub mod page;
pub mod password;
pub mod prefs;
pub mod runs;
pub mod status;
pub mod time;
