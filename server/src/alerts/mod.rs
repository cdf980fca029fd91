//! Alerting: rules over what the console already judges, each alert pending, firing and
//! resolved in turn, posted to every configured Alertmanager, and shown on the Alerts page.
//! `rules` (the catalogue and the config's overrides), `evaluate` (pure: findings, inhibition,
//! the alert's life), `standing` (pure: a vantage cut off, maintenance not observed,
//! break-glass used), `silence` (pure: silences, acknowledgements, maintenance muting),
//! `alertmanager` (the v2 client: batches, posts, silences), `engine` (the loop), `view` (the
//! page's data). Without an Alertmanager: `notice` (what a notice says), `receivers` (each
//! direct receiver's format and send), `direct` (pure: when, who sends; and the outbox's
//! delivery) and `sending` (this instance's part, round by round).

pub mod alertmanager;
pub mod direct;
pub mod engine;
pub mod evaluate;
pub mod notice;
pub mod receivers;
pub mod rules;
pub mod sending;
pub mod silence;
pub mod standing;
pub mod view;

pub use engine::{AlertBoard, Snapshot, Snapshots};
