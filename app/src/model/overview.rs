//! The overview: one area per concern, each built from its area's snapshot, and the
//! fail-back verdict.

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

impl Area {
    /// The vantages area: peers nobody reaches and vantages that disagree.
    pub fn vantages(v: &crate::vantage::Vantages) -> Area {
        let summary = if v.findings.is_empty() {
            format!("All {} peers answer and every vantage sees the same.", v.peers.len())
        } else {
            format!("{}.", v.findings.join("; "))
        };
        Area { key: "vantages".into(), title: "Vantages".into(), status: v.status, summary, href: "/topology#vantages".into() }
    }

    /// The health area of the overview, derived from a topology snapshot.
    ///
    /// Lives here, not on the server, so a live snapshot in the browser updates it the same way.
    pub fn health(topology: &Topology) -> Area {
        let [(_, ok), (_, warn), (_, critical), (_, unknown)] = topology.counts();
        let total = ok + warn + critical + unknown;
        let status = Status::worst(topology.hosts().map(|h| h.health.status));
        let summary = if total == 0 {
            "No hosts are configured.".to_string()
        } else if ok == total {
            format!("All {total} hosts answer their checks.")
        } else {
            let mut parts = Vec::new();
            if critical > 0 {
                parts.push(format!("{critical} critical"));
            }
            if warn > 0 {
                parts.push(format!("{warn} warn"));
            }
            if unknown > 0 {
                parts.push(format!("{unknown} without fresh data"));
            }
            format!("{} of {total} hosts: {}.", total - ok, parts.join(", "))
        };
        Area { key: "health".into(), title: "Host health".into(), status, summary, href: "/topology".into() }
    }
}

impl Area {
    /// The DNS area of the overview, from a DNS snapshot: records that alarm, and authoritative
    /// servers whose SOA serial is behind the others' or the declared one.
    pub fn dns(dns: &Dns) -> Area {
        let alarming: Vec<&DnsRecord> = dns.records.iter().filter(|r| r.status.status() != Status::Ok).collect();
        let lagging = dns.lagging_serials();
        let mut status = Status::worst(dns.records.iter().map(|r| r.status.status()));
        if !lagging.is_empty() && status.severity() < Status::Warn.severity() {
            status = Status::Warn;
        }
        let mut summary = if dns.records.is_empty() {
            "No records are declared.".to_string()
        } else if alarming.is_empty() {
            format!("All {} declared records answer as declared.", dns.records.len())
        } else {
            let first: Vec<String> = alarming.iter().take(3).map(|r| format!("{} {} {}", r.name, r.kind, r.status.as_str())).collect();
            format!("{} of {}: {}.", alarming.len(), dns.records.len(), first.join("; "))
        };
        if !lagging.is_empty() {
            summary.push_str(&format!(" SOA serial behind: {}.", lagging.join("; ")));
        }
        Area { key: "dns".into(), title: "DNS".into(), status, summary, href: "/dns".into() }
    }
}

/// The "safe to fail back?" verdict (judged on the server, `fail_back.rs`): replica lag, loader
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

impl Area {
    /// The replication area of the overview, from a replication snapshot.
    pub fn replication(replication: &Replication) -> Area {
        let nodes: Vec<(&DbCluster, &DbNode)> = replication.clusters.iter().flat_map(|c| c.nodes.iter().map(move |n| (c, n))).collect();
        let status = Status::worst(replication.clusters.iter().map(|c| c.status.status()));
        let troubled: Vec<String> = nodes
            .iter()
            .filter(|(_, n)| n.status != ReplicaStatus::Ok)
            .take(3)
            .map(|(c, n)| format!("{} {} {}", c.name, n.host, n.status.as_str()))
            .collect();
        let summary = if nodes.is_empty() {
            "No databases are configured.".to_string()
        } else if troubled.is_empty() {
            format!("All {} nodes replicate within thresholds.", nodes.len())
        } else {
            let count = nodes.iter().filter(|(_, n)| n.status != ReplicaStatus::Ok).count();
            format!("{count} of {} nodes: {}.", nodes.len(), troubled.join("; "))
        };
        Area { key: "replication".into(), title: "Replication".into(), status, summary, href: "/replication".into() }
    }

    /// The backlog area of the overview, from a backlog snapshot.
    pub fn backlog(backlog: &Backlog) -> Area {
        let status = Status::worst(backlog.loaders.iter().map(|l| l.status.status()));
        let troubled: Vec<String> = backlog
            .loaders
            .iter()
            .filter(|l| l.status != BacklogStatus::Ok)
            .take(3)
            .map(|l| format!("{} {}", l.name, l.status.as_str()))
            .collect();
        let queued: f64 = backlog.loaders.iter().filter_map(|l| l.depth).sum();
        let summary = if backlog.loaders.is_empty() {
            "No loaders are configured.".to_string()
        } else if troubled.is_empty() {
            format!("{} loaders ok; {} items queued in all.", backlog.loaders.len(), crate::format::count(Some(queued)))
        } else {
            format!("{} of {}: {}.", troubled.len(), backlog.loaders.len(), troubled.join("; "))
        };
        Area { key: "backlog".into(), title: "Loader backlog".into(), status, summary, href: "/backlog".into() }
    }
}
