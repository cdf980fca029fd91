//! DNS: declared records against what each resolver answers, and SOA serials.

use super::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// DNS status of one declared record (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
        self.into()
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
    /// Resolver name. Shared (`Arc<str>`) with the server's board, like the words below: a
    /// snapshot of 10,000 records then holds pointers, not a second copy of every string.
    pub resolver: Arc<str>,
    /// Its status for this record.
    pub status: DnsStatus,
    /// What it answered, each value labelled (`127.0.1.1 (lb1 · api_lb · San Jose)`), or why not.
    pub detail: Arc<str>,
}

/// One declared record set and what every resolver made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecord {
    /// Fully qualified owner name.
    pub name: Arc<str>,
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
    pub detail: Arc<str>,
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
