//! The topology page's data: each region's hosts with their evaluated, damped health, and
//! where each public hostname lands by the DNS board's latest answers.

use super::engine::{HealthBoard, Target};
use super::evaluate::{self, Policy};
use crate::config::Estate;
use crate::dns::engine::DnsBoard;
use crate::dns::evaluate::AddressBook;
use app::model::{self, DnsStatus, Status, Topology};

/// What host health is read from: each host's check, the board the probe engine fills, and
/// the thresholds.
pub struct Sources<'a> {
    /// One target per host, in the estate's host order.
    pub targets: &'a [Target],
    /// Latest observations and damped statuses.
    pub board: &'a HealthBoard,
    /// Thresholds for the evaluation.
    pub policy: Policy,
}

/// The topology at `now_ms`, without peers' vantages (the console adds those).
pub fn topology(estate: &Estate, health: &Sources<'_>, dns: &DnsBoard, book: &AddressBook, now_ms: i64) -> Topology {
    let regions = estate
        .regions
        .iter()
        .map(|region| {
            let hosts: Vec<model::Host> = estate
                .hosts
                .iter()
                .zip(health.targets)
                .filter(|(h, _)| h.region == region.name)
                .map(|(h, target)| model::Host {
                    name: h.name.clone(),
                    region: h.region.clone(),
                    tier: h.tier.to_string(),
                    address: h.address.to_string(),
                    check: target.describe(),
                    health: {
                        let state = health.board.state(&h.name);
                        let raw = evaluate::evaluate(state.as_ref().map(|s| &s.latest), target.expect(), health.policy, now_ms);
                        evaluate::damped(raw, state.as_ref().map(|s| &s.damped))
                    },
                    certificate: health.board.latest(&h.name).and_then(|o| o.certificate).map(|served| {
                        let (status, detail) = served.judge(health.policy.certificates, now_ms);
                        model::Certificate {
                            status,
                            detail,
                            days_left: crate::tls::evaluate::days_left(served.facts.not_after_ms, now_ms),
                            not_after_ms: served.facts.not_after_ms,
                            issuer: served.facts.issuer.clone(),
                            trusted: served.facts.verdict == crate::tls::evaluate::Verdict::Valid,
                            hostname: served.hostname,
                        }
                    }),
                })
                .collect();
            model::Region {
                name: region.name.clone(),
                display: region.display.clone(),
                primary: region.primary,
                status: Status::worst(hosts.iter().map(|h| h.health.status)),
                hosts,
            }
        })
        .collect();
    Topology {
        regions,
        hostnames: estate
            .hostnames
            .iter()
            .map(|h| {
                let landing = landing(&h.name, dns, book);
                let certificates = certificates(&h.name, &landing.hosts, health, now_ms);
                model::PublicHostname {
                    name: h.name.clone(),
                    tier: h.tier.to_string(),
                    site: h.site.clone(),
                    lands_on: landing.lands_on,
                    dns_status: landing.status,
                    serving: landing.serving,
                    since_ms: landing.since_ms,
                    certificates,
                }
            })
            .collect(),
        probe_interval_seconds: estate.probes.interval_seconds,
        evaluated_at_ms: now_ms,
        vantages: Default::default(),
    }
}

/// Where a public hostname lands now.
#[derive(Default)]
struct Landing {
    hosts: Vec<String>,
    lands_on: Vec<String>,
    serving: Vec<String>,
    status: Option<DnsStatus>,
    since_ms: Option<i64>,
}

/// Where a public hostname's A record lands, by every resolver's latest answer: labelled
/// values, the regions (`lb3 · Singapore`), the record's shown status and since when.
fn landing(hostname: &str, dns: &DnsBoard, book: &AddressBook) -> Landing {
    let key = format!("{}. A", hostname.trim_end_matches('.').to_ascii_lowercase());
    let Some(state) = dns.get(&key) else { return Landing::default() };
    let values: std::collections::BTreeSet<&String> = state.answers.iter().flat_map(|(_, values)| values).collect();
    Landing {
        hosts: values.iter().filter_map(|v| book.owner(v)).map(|o| o.host.clone()).collect(),
        lands_on: values.iter().map(|v| format!("{v} = {}", book.label(v))).collect(),
        serving: values.iter().map(|v| book.place(v)).collect(),
        status: Some(state.damped.settled.shown),
        since_ms: Some(state.damped.since_ms),
    }
}

/// What each balancer serves for `hostname`: those it lands on now and those whose https://
/// check asks for it, each judged from that balancer's latest certificate. A balancer never
/// checked over HTTPS is left out (nothing is known of its certificate).
fn certificates(hostname: &str, lands_on: &[String], health: &Sources<'_>, now_ms: i64) -> Vec<model::HostnameCertificate> {
    let checked = health.targets.iter().filter_map(|t| match t {
        Target::Https { host, name, .. } if name.eq_ignore_ascii_case(hostname) => Some(host.clone()),
        _ => None,
    });
    let hosts: std::collections::BTreeSet<String> = lands_on.iter().cloned().chain(checked).collect();
    hosts
        .into_iter()
        .filter_map(|host| {
            let served = health.board.latest(&host)?.certificate?;
            let (status, detail) =
                crate::tls::evaluate::judge_for(&host, &served.hostname, hostname, &served.facts, health.policy.certificates, now_ms);
            Some(model::HostnameCertificate { host, status, detail })
        })
        .collect()
}
