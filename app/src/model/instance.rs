//! This instance: its name, region and mode (primary, secondary, read-only), shown in the banner.

use serde::{Deserialize, Serialize};

/// Whether this instance may write control state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Control state is writable here (the primary region, or the embedded SQLite default).
    Primary,
    /// Control state comes from a replica and is read-only here.
    Secondary,
}

/// Which instance the user is looking at; shown in the banner on every page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    /// The instance's configured name, e.g. `sin-1`.
    pub name: String,
    /// The region key this instance probes from (its vantage).
    pub region: String,
    /// The region's human name, e.g. `Singapore`.
    pub region_display: String,
    /// Primary or secondary.
    pub mode: Mode,
    /// True when ordinary writes are refused here.
    pub read_only: bool,
    /// Why this instance is in its mode, e.g. "the control store is a read-only replica".
    pub mode_reason: String,
    /// Since when (unix milliseconds).
    pub mode_since_ms: i64,
    /// Where control state lives, without credentials (`sqlite`, `postgres`).
    pub control_store: String,
    /// On a secondary: the control node that accepts writes, when one answers.
    #[serde(default)]
    pub primary: Option<String>,
    /// On a secondary: since when no primary has answered (unix milliseconds).
    #[serde(default)]
    pub primary_lost_since_ms: Option<i64>,
    /// On a secondary: for how long no primary has answered, at the time of this answer.
    #[serde(default)]
    pub primary_lost_seconds: Option<f64>,
    /// On a secondary: WAL received but not yet replayed by this region's replica, in bytes.
    #[serde(default)]
    pub replica_unreplayed_bytes: Option<i64>,
    /// On a secondary: seconds since the last change the replica replayed was made.
    #[serde(default)]
    pub replica_last_replay_seconds: Option<f64>,
    /// On a secondary: how this instance's config differs from the primary's (which wins).
    #[serde(default)]
    pub config_differences: Vec<String>,
    /// Crate version of the running binary.
    pub version: String,
}

/// The words for a change refused on a read-only instance: the read-only layer answers with
/// them, and the pages disable their controls with the same words.
pub fn read_only_refusal(mode: Mode, reason: &str, since_ms: i64) -> String {
    let mode = match mode {
        Mode::Primary => "primary",
        Mode::Secondary => "secondary",
    };
    format!(
        "This instance is a read-only {mode}: {reason}, since {}. Changes are refused here until the \
         control store is writable again (the primary is back, or this region's replica is promoted).",
        crate::format::utc(since_ms)
    )
}

impl Instance {
    /// Why changes are refused here, or `None` while this instance is writable.
    pub fn refusal(&self) -> Option<String> {
        self.read_only.then(|| read_only_refusal(self.mode, &self.mode_reason, self.mode_since_ms))
    }
}
