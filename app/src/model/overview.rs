//! The overview's data: one area per concern and the fail-back verdict. The summaries and the
//! verdict are judged on the server (`server/src/overview/`); these are only their shapes.

use super::*;
use serde::{Deserialize, Serialize};

/// Maintenance state of one site, from control state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteState {
    /// Site key, e.g. `web`.
    pub name: String,
    /// True while the maintenance page is switched on.
    pub maintenance: bool,
    /// Who changed it last, if anyone.
    pub changed_by: Option<String>,
    /// When it last changed (unix milliseconds), if ever.
    pub changed_at_ms: Option<i64>,
}

/// One summary line per area for the overview page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Area {
    /// Area key: `health`, `dns`, `replication`, `backlog`, `maintenance`.
    pub key: String,
    /// Heading shown to people.
    pub title: String,
    /// The area's status.
    pub status: Status,
    /// One sentence saying what the status means.
    pub summary: String,
    /// Link to the area's page.
    pub href: String,
}

/// Everything the overview page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// One entry per area.
    pub areas: Vec<Area>,
    /// Maintenance state per configured site.
    pub sites: Vec<SiteState>,
    /// Whether failing back to the primary would lose or strand data.
    pub fail_back: FailBack,
    /// Each public hostname and where it is served from right now.
    #[serde(default)]
    pub hostnames: Vec<PublicHostname>,
}

/// The "safe to fail back?" verdict (judged on the server, `overview/fail_back.rs`): replica lag, loader
/// backlog, and the primary region's hostnames and balancers together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailBack {
    /// True only when every replica is caught up, no loader holds items older than in-flight, and
    /// the primary region's hostnames and balancers answer.
    pub safe: bool,
    /// `ok` when safe; otherwise the worst reason's status.
    pub status: Status,
    /// Every reason it is not safe, or what was checked when it is.
    pub reasons: Vec<String>,
}
