//! One component per route; file paths mirror the URLs.

pub mod audit;
pub mod change_password;
pub mod dashboard;
pub mod deliveries;
pub mod history;
pub mod job;
pub mod job_ack;
pub mod job_form;
pub mod jobs;
pub mod login;
pub mod not_found;
pub mod notify_settings;
pub mod offline;
pub mod profile;
pub mod report_schedules;
pub mod reports;
pub mod repositories;
pub mod run;
pub mod settings;
pub mod users;
