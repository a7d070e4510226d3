//! Running the console itself: its Prometheus metrics (and, to come, its
//! badges, log files, data retention and its own backups). The top
//! domain: it reads every other through their service APIs.

pub mod metrics;
