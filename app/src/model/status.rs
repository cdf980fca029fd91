//! The status vocabulary: the four probe outcomes every badge maps to, and `Worded` for
//! each area's own status words.

use super::*;
use serde::{Deserialize, Serialize};

/// One probe outcome vocabulary across the app (architecture.md, "Statuses"), declared from the
/// least to the most attention it asks for, so the derived order is the severity order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    /// The check passed within its thresholds.
    Ok,
    /// No fresh data: never shown as ok or down.
    Unknown,
    /// The check passed but something needs attention (slow, unexpected but harmless answer).
    Warn,
    /// The check failed: refused, timed out, wrong status code.
    Critical,
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
        self.into()
    }

    /// How much attention a status asks for (the declaration order); used to pick the worst.
    pub fn severity(self) -> u8 {
        self as u8
    }

    /// The most severe of a set of statuses; `Unknown` for an empty set.
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().max().unwrap_or(Status::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_is_the_severity_and_the_words_are_the_json_words() {
        let all = [Status::Ok, Status::Unknown, Status::Warn, Status::Critical];
        for pair in all.windows(2) {
            assert!(pair[0] < pair[1] && pair[0].severity() < pair[1].severity(), "{pair:?}");
        }
        assert_eq!(Status::worst([Status::Warn, Status::Unknown, Status::Ok]), Status::Warn);
        assert_eq!(Status::worst([]), Status::Unknown);
        for s in all {
            assert_eq!(serde_json::to_value(s).unwrap(), serde_json::json!(s.as_str()));
            assert_eq!(s.as_str().parse::<Status>().ok(), Some(s));
        }
    }
}
