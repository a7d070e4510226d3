//! Small HTTP helpers shared by the server's routes and the server
//! functions: flash messages, the visitor's language, security headers and
//! the PWA manifest.

pub mod flash;
pub mod locale;
pub mod manifest;
pub mod security;
