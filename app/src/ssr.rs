//! Server-only code: settings, database, passwords, state. Compiled only
//! with the `ssr` feature, so none of it reaches the WASM bundle.

pub mod bootstrap;
pub mod db;
pub mod locale;
pub mod manifest;
pub mod password;
pub mod settings;
pub mod state;
