//! Loader backlog: depth, age, rates and the time to drain.

use super::*;
use serde::{Deserialize, Serialize};

/// Backlog status of one loader (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum BacklogStatus {
    /// Empty, or draining.
    Ok,
    /// More is enqueued than loaded: the backlog grows.
    Growing,
    /// Items wait and nothing was loaded over the window.
    Stalled,
    /// No report within the allowed time: the loader or its metrics are gone.
    Stopped,
    /// Too few reports yet to judge.
    Unknown,
}

impl BacklogStatus {
    /// The word used in the UI, CSS and JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The probe-outcome status it maps to.
    pub fn status(self) -> Status {
        match self {
            BacklogStatus::Ok => Status::Ok,
            BacklogStatus::Growing => Status::Warn,
            BacklogStatus::Stalled | BacklogStatus::Stopped => Status::Critical,
            BacklogStatus::Unknown => Status::Unknown,
        }
    }
}

/// One point of a loader's depth history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BacklogPoint {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// Items queued.
    pub depth: f64,
}

/// One loader as this instance sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loader {
    /// Loader name.
    pub name: String,
    /// Host it runs on.
    pub host: String,
    /// Region key of the host.
    pub region: String,
    /// Region's human name.
    pub region_display: String,
    /// Where reports come from: `scrape http://…/metrics` or `push`.
    pub source: String,
    /// The evaluated status.
    pub status: BacklogStatus,
    /// Why, in words.
    pub detail: String,
    /// Items queued at the latest report.
    pub depth: Option<f64>,
    /// Age of the oldest queued item in seconds at the latest report.
    pub oldest_age_seconds: Option<f64>,
    /// Items enqueued per second over the window.
    pub enqueue_rate: Option<f64>,
    /// Items loaded per second over the window.
    pub load_rate: Option<f64>,
    /// Load rate minus enqueue rate: positive when the backlog drains.
    pub net_drain: Option<f64>,
    /// Seconds until empty at the current net drain; only when draining.
    pub eta_seconds: Option<f64>,
    /// When the latest good report arrived (unix milliseconds).
    pub last_report_ms: Option<i64>,
    /// The latest failed scrape or rejected push, when newer than the latest good report.
    pub last_error: Option<String>,
    /// Depth history, oldest first.
    pub history: Vec<BacklogPoint>,
}

/// Everything the backlog page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backlog {
    /// Loaders in config order.
    pub loaders: Vec<Loader>,
    /// Seconds of reports that rates are computed over.
    pub window_seconds: u64,
    /// Seconds between scrapes.
    pub interval_seconds: u64,
    /// When this snapshot was evaluated (unix milliseconds).
    pub evaluated_at_ms: i64,
}
