//! The status vocabulary: the four probe outcomes every badge maps to, and `Worded` for
//! each area's own status words.

use super::*;
use serde::{Deserialize, Serialize};

/// One probe outcome vocabulary across the app (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The check passed within its thresholds.
    Ok,
    /// The check passed but something needs attention (slow, unexpected but harmless answer).
    Warn,
    /// The check failed: refused, timed out, wrong status code.
    Critical,
    /// No fresh data: never shown as ok or down.
    Unknown,
}

/// A status word shown in a badge: the word itself, and the probe outcome whose colour it takes.
pub trait Worded: Copy {
    /// The word, as in the UI, CSS and JSON (`wrong_tier`, `replay_paused`, `stalled`, …).
    fn word(self) -> &'static str;
    /// What it means for the on-call: ok, warn, critical or unknown.
    fn meaning(self) -> Status;
}

impl Worded for Status {
    fn word(self) -> &'static str {
        self.as_str()
    }
    fn meaning(self) -> Status {
        self
    }
}

impl Worded for DnsStatus {
    fn word(self) -> &'static str {
        self.as_str()
    }
    fn meaning(self) -> Status {
        self.status()
    }
}

impl Worded for ReplicaStatus {
    fn word(self) -> &'static str {
        self.as_str()
    }
    fn meaning(self) -> Status {
        self.status()
    }
}

impl Worded for BacklogStatus {
    fn word(self) -> &'static str {
        self.as_str()
    }
    fn meaning(self) -> Status {
        self.status()
    }
}

impl Status {
    /// The word shown to people and used in CSS classes and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Critical => "critical",
            Status::Unknown => "unknown",
        }
    }

    /// How much attention a status asks for; used to pick the worst of several.
    pub fn severity(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::Unknown => 1,
            Status::Warn => 2,
            Status::Critical => 3,
        }
    }

    /// The most severe of a set of statuses; `Unknown` for an empty set.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().max_by_key(|s| s.severity()).unwrap_or(Status::Unknown)
    }
}
