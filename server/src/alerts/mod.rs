//! Alerting: rules over what the console already judges, each alert pending, firing and
//! resolved in turn, posted to every configured Alertmanager, and shown on the Alerts page.
//! `rules` (the catalogue and the config's overrides), `evaluate` (pure: findings, inhibition,
//! the alert's life), `alertmanager` (the v2 client's batch and post), `engine` (the loop),
//! `view` (the page's data).

pub mod alertmanager;
pub mod engine;
pub mod evaluate;
pub mod rules;
pub mod view;
pub mod webhook;

pub use engine::{AlertBoard, Snapshot, Snapshots};
