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

/// A resource whose raw status keeps changing: shown as one steady state, with how often it
/// changed and since when, instead of alternating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flapping {
    /// Changes of raw status within the flapping window.
    pub changes: u32,
    /// When it started flapping (unix milliseconds).
    pub since_ms: i64,
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
    /// Set while the host keeps changing state (the shown status is then the worst it returns to).
    #[serde(default)]
    pub flapping: Option<Flapping>,
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
    /// Where it is served from right now: `lb3 · Singapore` per answered address.
    #[serde(default)]
    pub serving: Vec<String>,
    /// When its DNS status last changed (unix milliseconds), once checked.
    #[serde(default)]
    pub since_ms: Option<i64>,
}

impl PublicHostname {
    /// Where it is served from right now, in words: `lands on lb3 · Singapore: an allowed
    /// failover since 2026-11-26 22:05:00 UTC`.
    pub fn serving_words(&self) -> String {
        let Some(status) = self.dns_status else { return "not checked yet".into() };
        if self.serving.is_empty() {
            return format!("lands nowhere: no address is answered ({})", status.as_str());
        }
        let since = crate::format::utc_or_never(self.since_ms);
        let why = match status {
            DnsStatus::Ok => String::new(),
            DnsStatus::FailedOver => format!(": an allowed failover since {since}"),
            DnsStatus::WrongTier => format!(": the wrong tier, {} must serve it, since {since}", self.tier),
            DnsStatus::Partial => format!(": only part of its declared set, since {since}"),
            DnsStatus::Split => format!(": resolvers disagree, since {since}"),
            other => format!(" ({}, since {since})", other.as_str()),
        };
        format!("lands on {}{why}", self.serving.join(", "))
    }
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
    /// What each vantage (this instance and its peers) sees, side by side.
    #[serde(default)]
    pub vantages: crate::vantage::Vantages,
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
    /// Only some of the declared values: a balancer gone from a round-robin set.
    Partial,
    /// Answers from the declared failover pool: a planned failover, a warning, never critical.
    FailedOver,
    /// SERVFAIL, REFUSED or another error code: says nothing about the record.
    Servfail,
    /// No answer within the timeout: says nothing about the record.
    Timeout,
    /// Not checked yet: no round has finished, or the first rounds do not agree yet. Never shown
    /// as timeout (a scary word for "not asked yet") or ok.
    Unchecked,
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
            DnsStatus::Partial => "partial",
            DnsStatus::FailedOver => "failed_over",
            DnsStatus::Servfail => "servfail",
            DnsStatus::Timeout => "timeout",
            DnsStatus::Unchecked => "unchecked",
        }
    }

    /// The probe-outcome status it maps to: servfail and timeout are unknown, never ok or down.
    pub fn status(self) -> Status {
        match self {
            DnsStatus::Ok => Status::Ok,
            DnsStatus::TtlMismatch | DnsStatus::Stale | DnsStatus::UnexpectedExtra | DnsStatus::Partial | DnsStatus::FailedOver => {
                Status::Warn
            }
            DnsStatus::Missing | DnsStatus::WrongTarget | DnsStatus::WrongTier | DnsStatus::Split => Status::Critical,
            DnsStatus::Servfail | DnsStatus::Timeout | DnsStatus::Unchecked => Status::Unknown,
        }
    }

    /// Order of attention when several apply; the highest wins.
    pub fn rank(self) -> u8 {
        match self {
            DnsStatus::Ok => 0,
            DnsStatus::Unchecked => 1,
            DnsStatus::Timeout => 2,
            DnsStatus::Servfail => 3,
            DnsStatus::FailedOver => 4,
            DnsStatus::UnexpectedExtra => 5,
            DnsStatus::TtlMismatch => 6,
            DnsStatus::Stale => 7,
            DnsStatus::Partial => 8,
            DnsStatus::WrongTarget => 9,
            DnsStatus::Missing => 10,
            DnsStatus::Split => 11,
            DnsStatus::WrongTier => 12,
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
    /// Set while the status keeps changing (the shown status is then the worst it returns to).
    pub flapping: Option<Flapping>,
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

impl Dns {
    /// `auth-2 publishes 6, behind 7`: authoritative servers serving an older zone than another
    /// server publishes or the config declares.
    pub fn lagging_serials(&self) -> Vec<String> {
        let newest = self.soa.iter().filter_map(|c| c.serial).chain(self.declared_serial).max();
        let Some(newest) = newest else { return Vec::new() };
        self.soa
            .iter()
            .filter_map(|c| Some((c, c.serial?)))
            .filter(|(_, serial)| *serial < newest)
            .map(|(c, serial)| format!("{} publishes {serial}, behind {newest}", c.resolver))
            .collect()
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

/// Replication status of one database node or cluster (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaStatus {
    /// Streaming, lag within the warn thresholds (or a writable primary as configured).
    Ok,
    /// Lag above a warn threshold.
    Warn,
    /// Lag above a critical threshold.
    Critical,
    /// Not streaming: missing from the primary's senders, or its WAL receiver is not streaming.
    Disconnected,
    /// WAL replay is paused on the replica, so it falls behind while it receives.
    ReplayPaused,
    /// A node's role is not the configured one (a promoted replica, a demoted primary).
    RoleFlip,
    /// Two or more nodes accept writes.
    SplitBrain,
    /// The node could not be reached or read: says nothing about its lag.
    Unknown,
}

impl ReplicaStatus {
    /// The word used in the UI, CSS and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaStatus::Ok => "ok",
            ReplicaStatus::Warn => "warn",
            ReplicaStatus::Critical => "critical",
            ReplicaStatus::Disconnected => "disconnected",
            ReplicaStatus::ReplayPaused => "replay_paused",
            ReplicaStatus::RoleFlip => "role_flip",
            ReplicaStatus::SplitBrain => "split_brain",
            ReplicaStatus::Unknown => "unknown",
        }
    }

    /// The probe-outcome status it maps to.
    pub fn status(self) -> Status {
        match self {
            ReplicaStatus::Ok => Status::Ok,
            ReplicaStatus::Warn | ReplicaStatus::ReplayPaused => Status::Warn,
            ReplicaStatus::Critical | ReplicaStatus::Disconnected | ReplicaStatus::RoleFlip | ReplicaStatus::SplitBrain => Status::Critical,
            ReplicaStatus::Unknown => Status::Unknown,
        }
    }

    /// Order of attention when several apply; the highest wins.
    pub fn rank(self) -> u8 {
        match self {
            ReplicaStatus::Ok => 0,
            ReplicaStatus::Warn => 1,
            ReplicaStatus::ReplayPaused => 2,
            ReplicaStatus::Unknown => 3,
            ReplicaStatus::Critical => 4,
            ReplicaStatus::Disconnected => 5,
            ReplicaStatus::RoleFlip => 6,
            ReplicaStatus::SplitBrain => 7,
        }
    }
}

/// One point of a replica's lag history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LagPoint {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// Bytes of WAL the replica had not replayed, when the primary could tell.
    pub bytes: Option<i64>,
    /// Seconds behind by the heartbeat, when the replica could tell.
    pub seconds: Option<f64>,
}

/// One PostgreSQL node as this instance sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbNode {
    /// Host name (a `db` tier host).
    pub host: String,
    /// Region key of the host.
    pub region: String,
    /// Region's human name.
    pub region_display: String,
    /// `primary` or `replica`, as configured.
    pub configured_role: String,
    /// `primary` (accepts writes) or `standby` (in recovery), as observed; None when unreachable.
    pub observed_role: Option<String>,
    /// The node's status.
    pub status: ReplicaStatus,
    /// Why, in words.
    pub detail: String,
    /// Bytes of WAL not yet replayed (primary's `pg_wal_lsn_diff`), replicas only.
    pub lag_bytes: Option<i64>,
    /// Seconds behind by the heartbeat row, replicas only.
    pub lag_seconds: Option<f64>,
    /// The primary's view of this replica's sender (`streaming`, `catchup`, …).
    pub sender_state: Option<String>,
    /// The primary's `sync_state` for this replica (`async`, `sync`, …).
    pub sync_state: Option<String>,
    /// The primary's `write_lag`, `flush_lag` and `replay_lag` for this replica, seconds.
    pub sender_lag_seconds: [Option<f64>; 3],
    /// The replica's `pg_last_wal_replay_lsn()`.
    pub replay_lsn: Option<String>,
    /// The replica's WAL receiver status (`streaming`, `stopping`, …); None when it has none.
    pub receiver_status: Option<String>,
    /// When the replica last heard from its upstream (unix milliseconds).
    pub last_message_ms: Option<i64>,
    /// True while WAL replay is paused.
    pub replay_paused: Option<bool>,
    /// When this node was last read (unix milliseconds), if ever.
    pub checked_at_ms: Option<i64>,
    /// Lag history, oldest first (replicas only).
    pub history: Vec<LagPoint>,
}

/// A physical replication slot on the primary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// Slot name.
    pub name: String,
    /// True while a receiver uses it.
    pub active: bool,
    /// Bytes of WAL the slot keeps on the primary's disk.
    pub retained_bytes: Option<i64>,
}

/// One database cluster: its primary and replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbCluster {
    /// Cluster name from the config.
    pub name: String,
    /// Worst of its nodes.
    pub status: ReplicaStatus,
    /// Why, in words.
    pub detail: String,
    /// The configured primary first, then the replicas in config order.
    pub nodes: Vec<DbNode>,
    /// Replication slots on the configured primary.
    pub slots: Vec<Slot>,
    /// Why lag seconds cannot be measured, when the heartbeat cannot be written.
    pub heartbeat_error: Option<String>,
}

/// Lag thresholds from the config, shown on the page so statuses can be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LagThresholds {
    /// Seconds behind that make a replica `warn`.
    pub warn_seconds: f64,
    /// Seconds behind that make a replica `critical`.
    pub critical_seconds: f64,
    /// Bytes behind that make a replica `warn`.
    pub warn_bytes: i64,
    /// Bytes behind that make a replica `critical`.
    pub critical_bytes: i64,
}

/// Everything the replication page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// Clusters in config order.
    pub clusters: Vec<DbCluster>,
    /// The thresholds statuses are judged by.
    pub thresholds: LagThresholds,
    /// Seconds between rounds (and between heartbeats).
    pub interval_seconds: u64,
    /// When this snapshot was evaluated (unix milliseconds).
    pub evaluated_at_ms: i64,
}

/// Backlog status of one loader (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
        match self {
            BacklogStatus::Ok => "ok",
            BacklogStatus::Growing => "growing",
            BacklogStatus::Stalled => "stalled",
            BacklogStatus::Stopped => "stopped",
            BacklogStatus::Unknown => "unknown",
        }
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

#[cfg(test)]
mod serving_tests {
    use super::*;

    #[test]
    fn where_a_hostname_lands_in_words() {
        let h = |status: Option<DnsStatus>, serving: &[&str]| PublicHostname {
            name: "api.example.test".into(),
            tier: "api_lb".into(),
            site: None,
            lands_on: Vec::new(),
            dns_status: status,
            serving: serving.iter().map(|s| s.to_string()).collect(),
            since_ms: Some(0),
        };
        #[rustfmt::skip]
        let cases = [
            (h(None, &[]), "not checked yet"),
            (h(Some(DnsStatus::Missing), &[]), "lands nowhere: no address is answered (missing)"),
            (h(Some(DnsStatus::Ok), &["lb1 · San Jose"]), "lands on lb1 · San Jose"),
            (h(Some(DnsStatus::FailedOver), &["lb3 · Singapore"]), "lands on lb3 · Singapore: an allowed failover since 1970-01-01 00:00:00 UTC"),
            (h(Some(DnsStatus::WrongTier), &["lb2 · San Jose"]), "lands on lb2 · San Jose: the wrong tier, api_lb must serve it, since 1970-01-01 00:00:00 UTC"),
            (h(Some(DnsStatus::Partial), &["lb1 · San Jose"]), "lands on lb1 · San Jose: only part of its declared set"),
            (h(Some(DnsStatus::TtlMismatch), &["lb1 · San Jose"]), "lands on lb1 · San Jose (ttl_mismatch, since"),
        ];
        for (hostname, want) in cases {
            let got = hostname.serving_words();
            assert!(got.starts_with(want), "{got:?} does not start with {want:?}");
        }
    }
}

#[cfg(test)]
mod dns_area_tests {
    use super::*;

    fn dns(serials: &[(&str, Option<u32>)], declared: Option<u32>, record: DnsStatus) -> Dns {
        let record = DnsRecord {
            name: "www.example.test.".into(),
            kind: "A".into(),
            declared: vec![],
            ttl: 60,
            required_tier: None,
            status: record,
            latest: record,
            flapping: None,
            detail: String::new(),
            since_ms: None,
            checked_at_ms: None,
            cells: vec![],
        };
        Dns {
            soa: serials.iter().map(|(r, s)| SoaCell { resolver: r.to_string(), serial: *s, error: None }).collect(),
            declared_serial: declared,
            soa_skew: false,
            resolvers: vec![],
            records: vec![record],
            probe_interval_seconds: 5,
            evaluated_at_ms: 0,
        }
    }

    #[test]
    fn serial_drift_and_skew_reach_the_overview() {
        #[rustfmt::skip]
        let cases: Vec<(&str, Dns, Status, &str)> = vec![
            ("in step", dns(&[("a", Some(7)), ("b", Some(7))], Some(7), DnsStatus::Ok), Status::Ok, "All 1 declared records answer as declared."),
            ("ahead of the declared serial is not lagging", dns(&[("a", Some(8))], Some(7), DnsStatus::Ok), Status::Ok, "All 1"),
            ("one server behind the other", dns(&[("a", Some(7)), ("b", Some(6))], None, DnsStatus::Ok), Status::Warn, "SOA serial behind: b publishes 6, behind 7."),
            ("behind the declared serial", dns(&[("a", Some(6))], Some(7), DnsStatus::Ok), Status::Warn, "a publishes 6, behind 7"),
            ("a silent server is not lagging", dns(&[("a", Some(7)), ("b", None)], Some(7), DnsStatus::Ok), Status::Ok, "All 1"),
            ("a critical record stays critical", dns(&[("a", Some(6))], Some(7), DnsStatus::Split), Status::Critical, "1 of 1: www.example.test. A split. SOA serial behind: a publishes 6"),
        ];
        for (name, dns, status, summary) in cases {
            let area = Area::dns(&dns);
            assert_eq!(area.status, status, "{name}: {}", area.summary);
            assert!(area.summary.contains(summary), "{name}: {:?} lacks {summary:?}", area.summary);
        }
    }
}
