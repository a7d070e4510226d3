//! The server: configuration, telemetry, the HTTP application and the
//! command-line interface around it.

pub mod cli;
pub mod config;
pub mod routes;
pub mod startup;
pub mod telemetry;

pub use startup::Application;
