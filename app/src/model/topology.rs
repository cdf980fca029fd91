//! Region topology: regions, hosts and their health, and where each public hostname lands.

use super::*;
use serde::{Deserialize, Serialize};

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
    /// The certificate an HTTPS check was served, judged now (None for other checks).
    #[serde(default)]
    pub certificate: Option<Certificate>,
}

/// A certificate one balancer served for one name, as judged (server side, `tls/evaluate.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certificate {
    /// The name asked for (SNI), e.g. `www.example.test`.
    pub hostname: String,
    /// Its status: wrong name, untrusted or expired are critical; otherwise by days left.
    pub status: Status,
    /// Why, in words.
    pub detail: String,
    /// Whole days until it expires (negative once expired).
    pub days_left: i64,
    /// When it expires (unix milliseconds).
    pub not_after_ms: i64,
    /// Who issued it.
    pub issuer: String,
    /// True when the chain verified for the name.
    pub trusted: bool,
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
    /// What each balancer it lands on (or is checked at) serves for it over HTTPS.
    #[serde(default)]
    pub certificates: Vec<HostnameCertificate>,
}

/// The certificate one balancer serves to people who reach it by a public hostname.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostnameCertificate {
    /// The balancer, e.g. `lb1`.
    pub host: String,
    /// Wrong name, untrusted or expired are critical; otherwise by days left.
    pub status: Status,
    /// Why, in words ("lb1 serves a certificate for api.example.test, not www.example.test").
    pub detail: String,
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
            certificates: Vec::new(),
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
