//! The SQL of the reports domain's tables.

pub mod schedules;
