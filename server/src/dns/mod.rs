//! The DNS engine: ask every configured resolver for every declared record, from this
//! instance, and judge the answers against the declaration and the estate's topology.
//!
//! - [`wire`] speaks DNS itself (hickory-proto messages over UDP, TCP on truncation), so the
//!   rcode, AA flag and TTL of every answer are kept.
//! - [`evaluate`] is pure: declared record, answers and `now` in, status out.

pub mod engine;
pub mod evaluate;
pub mod values;
pub mod view;
pub mod wire;
pub mod zonefile;

pub use wire::{Answer, QueryError, WireResolver};
