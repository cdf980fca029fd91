//! The incident timeline: for a window, every status change seen from every vantage, every alert
//! and notification, every action and audit entry and every incident update, in order, with the
//! region that saw it. What the post-mortem's timeline is written from.

use serde::{Deserialize, Serialize};

/// What kind of event it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    /// A probe's outcome changed (a host, a record, a replica).
    Status,
    /// An alert fired or resolved.
    Alert,
    /// A notice went to a receiver.
    Notification,
    /// Someone acted: an audit entry (actions, logins, silences).
    Action,
    /// On-call told the public.
    Incident,
}

impl EventKind {
    /// The word, as in JSON and CSS.
    pub fn word(self) -> &'static str {
        self.into()
    }
}

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// What kind.
    pub kind: EventKind,
    /// The instance that saw it, e.g. `sin-1` (for control-state events, the one that read them).
    pub vantage: String,
    /// Its region's display name, e.g. `Singapore`.
    pub region: String,
    /// What it is about: a host, a record key, an alert, a site, an incident.
    pub subject: String,
    /// What happened, in words.
    pub text: String,
}

/// How one vantage's events were read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VantageRead {
    /// The instance.
    pub vantage: String,
    /// Its region's display name.
    pub region: String,
    /// How many events it gave.
    pub events: usize,
    /// Why it gave none, when it could not be asked.
    pub error: Option<String>,
}

/// The timeline of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Timeline {
    /// The window's start (unix milliseconds).
    pub from_ms: i64,
    /// Its end.
    pub to_ms: i64,
    /// Every event, oldest first.
    pub events: Vec<TimelineEvent>,
    /// Each vantage asked, this instance first.
    pub vantages: Vec<VantageRead>,
    /// More events happened than are listed (the list keeps the first ones).
    pub truncated: bool,
}
