//! The data model shared by the server and the browser: what every page shows, already evaluated.
//!
//! Statuses are computed on the server with an explicit `now`; the browser only renders them, so
//! the server-rendered HTML and the hydrated page always agree.

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
        statuses
            .into_iter()
            .max_by_key(|s| s.severity())
            .unwrap_or(Status::Unknown)
    }
}

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
    /// Where control state lives, without credentials (`sqlite`, `postgres`).
    pub control_store: String,
    /// Crate version of the running binary.
    pub version: String,
}

/// Result of the latest health check of one host, evaluated at `evaluated_at_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The evaluated status.
    pub status: Status,
    /// Round-trip time of the last check in milliseconds, when it completed.
    pub latency_ms: Option<f64>,
    /// When the last check finished (unix milliseconds), if ever.
    pub checked_at_ms: Option<i64>,
    /// One line in words: what was seen, or why the status is what it is.
    pub detail: String,
}

/// A host of the estate as this instance sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Short host name, e.g. `lb1`.
    pub name: String,
    /// Region key the host lives in.
    pub region: String,
    /// Tier key, e.g. `api_lb`.
    pub tier: String,
    /// IP address the host answers on.
    pub address: String,
    /// What is checked, in words: `GET http://…/healthz` or `TCP 127.0.1.9:5432`.
    pub check: String,
    /// Latest evaluated health.
    pub health: Health,
}

/// A region with its hosts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Region key, e.g. `sjc`.
    pub name: String,
    /// Human name, e.g. `San Jose`.
    pub display: String,
    /// True for the primary region.
    pub primary: bool,
    /// Worst health of the region's hosts.
    pub status: Status,
    /// The hosts, in config order.
    pub hosts: Vec<Host>,
}

/// A public hostname and the tier that must serve it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicHostname {
    /// Fully qualified name, e.g. `www.example.test`.
    pub name: String,
    /// The tier that must answer for it, e.g. `web_lb`.
    pub tier: String,
    /// The maintenance site it belongs to, if any.
    pub site: Option<String>,
    /// Where its A record's answers actually land, labelled (`127.0.1.1 = lb1 · api_lb · San Jose`).
    pub lands_on: Vec<String>,
    /// The DNS status of its A record, once checked.
    pub dns_status: Option<DnsStatus>,
}

/// Everything the topology page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topology {
    /// Regions in config order, primary first.
    pub regions: Vec<Region>,
    /// Public hostnames and their required tiers.
    pub hostnames: Vec<PublicHostname>,
    /// Seconds between probe rounds.
    pub probe_interval_seconds: u64,
    /// When this snapshot was evaluated (unix milliseconds).
    pub evaluated_at_ms: i64,
}

impl Topology {
    /// All hosts across regions.
    pub fn hosts(&self) -> impl Iterator<Item = &Host> {
        self.regions.iter().flat_map(|r| r.hosts.iter())
    }

    /// Count of hosts per status, in the order ok, warn, critical, unknown.
    pub fn counts(&self) -> [(Status, usize); 4] {
        let count = |s| self.hosts().filter(|h| h.health.status == s).count();
        [
            (Status::Ok, count(Status::Ok)),
            (Status::Warn, count(Status::Warn)),
            (Status::Critical, count(Status::Critical)),
            (Status::Unknown, count(Status::Unknown)),
        ]
    }
}

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
}

impl Area {
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
        Area {
            key: "health".into(),
            title: "Host health".into(),
            status,
            summary,
            href: "/topology".into(),
        }
    }
}

/// DNS status of one declared record (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsStatus {
    /// Every resolver answers exactly the declared set, with the declared TTL.
    Ok,
    /// NXDOMAIN, or NOERROR with no record of the type (NODATA).
    Missing,
    /// The answer is not the declared set (labelled with whose address it is).
    WrongTarget,
    /// The answer is a balancer of another tier: the incident's failure.
    WrongTier,
    /// Resolvers disagree with each other.
    Split,
    /// TTL differs from the declared one (authoritative) or exceeds it (recursive).
    TtlMismatch,
    /// The answer is the previous declared value, still within its old TTL.
    Stale,
    /// The declared values plus others.
    UnexpectedExtra,
    /// SERVFAIL, REFUSED or another error code: says nothing about the record.
    Servfail,
    /// No answer within the timeout: says nothing about the record.
    Timeout,
}

impl DnsStatus {
    /// The word used in the UI, CSS and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            DnsStatus::Ok => "ok",
            DnsStatus::Missing => "missing",
            DnsStatus::WrongTarget => "wrong_target",
            DnsStatus::WrongTier => "wrong_tier",
            DnsStatus::Split => "split",
            DnsStatus::TtlMismatch => "ttl_mismatch",
            DnsStatus::Stale => "stale",
            DnsStatus::UnexpectedExtra => "unexpected_extra",
            DnsStatus::Servfail => "servfail",
            DnsStatus::Timeout => "timeout",
        }
    }

    /// The probe-outcome status it maps to: servfail and timeout are unknown, never ok or down.
    pub fn status(self) -> Status {
        match self {
            DnsStatus::Ok => Status::Ok,
            DnsStatus::TtlMismatch | DnsStatus::Stale | DnsStatus::UnexpectedExtra => Status::Warn,
            DnsStatus::Missing | DnsStatus::WrongTarget | DnsStatus::WrongTier | DnsStatus::Split => {
                Status::Critical
            }
            DnsStatus::Servfail | DnsStatus::Timeout => Status::Unknown,
        }
    }

    /// Order of attention when several apply; the highest wins.
    pub fn rank(self) -> u8 {
        match self {
            DnsStatus::Ok => 0,
            DnsStatus::Timeout => 1,
            DnsStatus::Servfail => 2,
            DnsStatus::UnexpectedExtra => 3,
            DnsStatus::TtlMismatch => 4,
            DnsStatus::Stale => 5,
            DnsStatus::Split => 6,
            DnsStatus::WrongTarget => 7,
            DnsStatus::Missing => 8,
            DnsStatus::WrongTier => 9,
        }
    }
}

/// One resolver's answer for one record, as the DNS page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsCell {
    /// Resolver name.
    pub resolver: String,
    /// Its status for this record.
    pub status: DnsStatus,
    /// What it answered, each value labelled (`127.0.1.1 (lb1 · api_lb · San Jose)`), or why not.
    pub detail: String,
}

/// One declared record set and what every resolver made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Fully qualified owner name.
    pub name: String,
    /// Record type mnemonic.
    pub kind: String,
    /// Declared values, labelled with the estate's hosts.
    pub declared: Vec<String>,
    /// Declared TTL in seconds.
    pub ttl: u32,
    /// The tier that must serve this name, for public hostnames.
    pub required_tier: Option<String>,
    /// Status after hysteresis (two of three rounds): what alarms.
    pub status: DnsStatus,
    /// Status of the latest round alone.
    pub latest: DnsStatus,
    /// The status changed often recently.
    pub flapping: bool,
    /// Why, in words.
    pub detail: String,
    /// When the shown status last changed (unix milliseconds), if checked.
    pub since_ms: Option<i64>,
    /// When the latest round finished, if any.
    pub checked_at_ms: Option<i64>,
    /// Per resolver, in config order.
    pub cells: Vec<DnsCell>,
}

/// The SOA serial one authoritative server publishes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoaCell {
    /// Resolver name.
    pub resolver: String,
    /// The serial, when it answered.
    pub serial: Option<u32>,
    /// Why there is no serial, when it did not.
    pub error: Option<String>,
}

/// Everything the DNS page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dns {
    /// SOA serial per authoritative server.
    pub soa: Vec<SoaCell>,
    /// The serial the config declares.
    pub declared_serial: Option<u32>,
    /// Authoritative servers publish different serials.
    pub soa_skew: bool,
    /// Resolver names in config order, with their kind: `lab-auth (authoritative)`.
    pub resolvers: Vec<String>,
    /// Declared records, sorted by name and type.
    pub records: Vec<DnsRecord>,
    /// Seconds between rounds.
    pub probe_interval_seconds: u64,
    /// When this snapshot was made (unix milliseconds).
    pub evaluated_at_ms: i64,
}

impl Area {
    /// The DNS area of the overview, from a DNS snapshot.
    pub fn dns(dns: &Dns) -> Area {
        let alarming: Vec<&DnsRecord> = dns.records.iter().filter(|r| r.status.status() != Status::Ok).collect();
        let status = Status::worst(dns.records.iter().map(|r| r.status.status()));
        let summary = if dns.records.is_empty() {
            "No records are declared.".to_string()
        } else if alarming.is_empty() {
            format!("All {} declared records answer as declared.", dns.records.len())
        } else {
            let first: Vec<String> = alarming
                .iter()
                .take(3)
                .map(|r| format!("{} {} {}", r.name, r.kind, r.status.as_str()))
                .collect();
            format!("{} of {}: {}.", alarming.len(), dns.records.len(), first.join("; "))
        };
        Area { key: "dns".into(), title: "DNS".into(), status, summary, href: "/dns".into() }
    }
}

/// One stored change of a record: its raw status and every resolver's answer at that moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsChange {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// The raw status word at that round.
    pub status: String,
    /// Why, in words.
    pub detail: String,
    /// `resolver: value, value` per resolver.
    pub answers: Vec<String>,
}

/// A record's detail page: its current row and its history of changes, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecordDetail {
    /// The record as the DNS page shows it now.
    pub record: DnsRecord,
    /// Stored changes, newest first.
    pub changes: Vec<DnsChange>,
}
