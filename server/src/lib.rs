//! The server: configuration, telemetry, the HTTP application and the
//! command-line interface around it.

pub mod api;
pub mod cli;
pub mod config;
pub mod logfiles;
pub mod middleware;
pub mod routes;
pub mod scheduler;
pub mod startup;
pub mod telemetry;
pub mod veeam_sim;
#[cfg(windows)]
pub mod winservice;

pub use startup::Application;
