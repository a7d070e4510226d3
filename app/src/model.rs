//! Wire types: what crosses the network between the browser, scripts and
//! the server. Server-only row types live next to their queries in `ssr::db`.

pub mod user;
