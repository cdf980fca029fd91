//! The data model shared by the server and the browser: what every page shows, already evaluated.
//!
//! Statuses are computed on the server with an explicit `now`; the browser only renders them, so
//! the server-rendered HTML and the hydrated page always agree. One module per area; every type
//! is re-exported here, so `app::model::Dns` names it wherever it lives.

mod alerts;
mod backlog;
mod dns;
mod incident;
mod instance;
mod overview;
mod replication;
mod status;
mod timeline;
mod topology;

pub use alerts::*;
pub use backlog::*;
pub use dns::*;
pub use incident::*;
pub use instance::*;
pub use overview::*;
pub use replication::*;
pub use status::*;
pub use timeline::*;
pub use topology::*;
