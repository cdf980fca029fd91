//! The overview's data: one area per concern and the fail-back verdict. The summaries and the
//! verdict are judged on the server (`server/src/overview/`); these are only their shapes.

use super::*;
use serde::{Deserialize, Serialize};

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
    /// Maintenance state per configured site, as this region's edge serves it.
    pub sites: Vec<crate::action::SiteView>,
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
