//! Crowsnest's integration tests, one binary (one link on two cores instead of twelve): each
//! module is one area, against real servers the tests start (PostgreSQL clusters, nginx, Knot,
//! DNS and HTTP on loopback) and this machine's PostgreSQL. `common` holds the shared harness.
//! Run one area with `cargo test -p crowsnest --test it AREA::`.

mod common;

mod alert_restart;
mod backlog_scrape;
mod console;
mod control_store;
mod dns_engine;
mod dns_knot;
mod dns_wire;
mod drill;
mod guarded;
mod local_store;
mod nginx;
mod replication_pg;
mod secondary;
mod status_regions;
mod tls;
