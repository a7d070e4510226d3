//! The SQL of the jobs tables: `jobs`, `job_tags`, `runs`, `job_daily`,
//! `job_events` and `calendar_closures`. Every statement on them lives
//! here (the Veeam link columns of `jobs` too); other domains go through
//! the jobs service.

pub mod ack;
pub mod batch;
pub mod calendar;
pub mod events;
pub mod jobs;
pub mod links;
pub mod reporting;
pub mod runs;
pub mod writes;
