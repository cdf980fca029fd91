//! Every instance is a vantage: what each region sees of the estate, side by side, and which
//! peers cannot be reached (the meta-monitoring the incident lacked).

use crate::model::{Instance, Status, Topology};
use serde::{Deserialize, Serialize};

/// What one instance serves its peers: its banner facts, its topology and its view of the
/// other peers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VantageReport {
    /// The reporting instance, its region and mode.
    pub instance: Instance,
    /// Its topology (hosts' health, where hostnames land), without its own vantage columns.
    pub topology: Topology,
    /// How it sees its own peers.
    pub peers: Vec<PeerStatus>,
    /// Its summary per area (health, DNS, replication, backlog), as its overview shows them.
    #[serde(default)]
    pub areas: Vec<crate::model::Area>,
    /// The audit head `(seq, hash)` this instance last appended or verified: its peers keep
    /// it, so a cut or rewritten chain shows in their `audit verify` too.
    #[serde(default)]
    pub audit_head: Option<(i64, String)>,
    /// The alerts its own vantage finds now (pending or firing): its peers resolve an alert
    /// only once no reachable region still finds it.
    #[serde(default)]
    pub alerts: Vec<crate::model::AlertSeen>,
    /// The alerts this instance, as the one sending direct notices, has told as firing: the
    /// instance that takes over sending does not tell them again, and owes their resolves.
    #[serde(default)]
    pub told: Vec<crate::model::AlertSeen>,
    /// Whether this instance sends direct notices now; `told` without it is a handover.
    #[serde(default)]
    pub sending: bool,
    /// When the report was made (unix milliseconds).
    pub at_ms: i64,
}

/// One peer as one instance sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerStatus {
    /// The peer's instance name, e.g. `sjc-1`.
    pub name: String,
    /// The peer's region key.
    pub region: String,
    /// Whether its latest fetch succeeded.
    pub reachable: bool,
    /// When a fetch last succeeded (unix milliseconds), if ever.
    pub last_ok_ms: Option<i64>,
    /// Since when fetches have failed (unix milliseconds), while they do.
    pub failing_since_ms: Option<i64>,
    /// Why the latest fetch failed.
    pub error: Option<String>,
    /// The peer's mode as it last reported (`primary`, `secondary`).
    pub mode: Option<String>,
}

/// One cell of a per-vantage table: what one vantage sees, with its status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VantageCell {
    /// What is seen, in words (`lb2 · web_lb · San Jose`, `ok 3.1 ms`); `—` when unknown.
    pub text: String,
    /// Its status (unknown when the vantage has not reported).
    pub status: Status,
}

/// One row of a per-vantage table: a hostname or a host, a cell per vantage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VantageRow {
    /// The hostname or host.
    pub name: String,
    /// A cell per vantage, in the order of [`Vantages::columns`].
    pub cells: Vec<VantageCell>,
    /// True when the vantages that answered disagree.
    pub disagree: bool,
}

/// The per-vantage view the topology page and the overview show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vantages {
    /// Column headings: `San Jose (sjc-1)`, this instance first.
    pub columns: Vec<String>,
    /// Where each public hostname lands, seen from each vantage.
    pub hostnames: Vec<VantageRow>,
    /// Each host's health, seen from each vantage.
    pub hosts: Vec<VantageRow>,
    /// Each area's summary (health, DNS, replication, backlog), as each vantage reports it.
    #[serde(default)]
    pub areas: Vec<VantageRow>,
    /// This instance's view of its peers.
    pub peers: Vec<PeerStatus>,
    /// Findings in words: unreachable peers and disagreements between vantages.
    pub findings: Vec<String>,
    /// The worst of the findings: critical for an unreachable peer, warn for a disagreement.
    pub status: Status,
}

impl Default for Vantages {
    fn default() -> Self {
        Vantages {
            columns: Vec::new(),
            hostnames: Vec::new(),
            hosts: Vec::new(),
            areas: Vec::new(),
            peers: Vec::new(),
            findings: Vec::new(),
            status: Status::Ok,
        }
    }
}
