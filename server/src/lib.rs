//! Crowsnest's server side: configuration, probe engines, stores, the lab and the HTTP surface.
//! The binary in `main.rs` only parses flags and calls [`run`].

pub mod actions;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod backlog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod control_state;
pub mod dns;
pub mod engines;
pub mod health;
pub mod html;
pub mod incidents;
pub mod lab;
pub mod memory;
pub mod mode;
pub mod overview;
pub mod peers;
pub mod replication;
pub mod run;
pub mod status_page;
pub mod store;
pub mod timeline;
pub mod tls;
pub mod web;
