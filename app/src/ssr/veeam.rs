//! Veeam Backup & Replication: the REST client, its wire types, and the
//! sync that turns Veeam jobs, sessions and repositories into the console's
//! jobs, runs and repository figures.

pub mod client;
pub mod servers;
pub mod sync;
pub mod wire;
