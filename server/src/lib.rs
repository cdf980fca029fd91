//! Crowsnest's server side: configuration, probe engines, stores, the lab and the HTTP surface.
//! The binary in `main.rs` only parses flags and calls [`run`].

pub mod actions;
pub mod audit;
pub mod auth;
pub mod backlog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod damping;
pub mod dns;
pub mod drift;
pub mod edge;
pub mod engines;
pub mod fail_back;
pub mod health;
pub mod lab;
pub mod memory;
pub mod metrics;
pub mod mode;
pub mod page_cache;
pub mod peers;
pub mod replication;
pub mod run;
pub mod store;
pub mod web;
