//! From what the console judges to alerts, as pure functions: `findings` reads the pages' own
//! snapshots (so an alert says what the page says), `inhibit` lets a root cause mute the
//! symptoms it causes, and `step` moves each alert through pending, firing and resolved.
//!
//! Regions agree before an alert resolves: one that stops finding a firing alert while a
//! reachable peer still finds it says nothing (it neither re-posts it nor resolves it), so
//! Alertmanager never hears firing, resolved, firing from two regions that disagree.

use super::rules::{Rule, Rules};
use crate::config::RuleKey;
use app::model::{AlertState, Backlog, BacklogStatus, Dns, DnsStatus, Instance, ReplicaStatus, Replication, Status, Topology};
use app::vantage::PeerStatus;
use std::collections::BTreeMap;

/// An alert's identity: the labels every region sends alike (never the vantage).
pub type Labels = BTreeMap<String, String>;

/// How long a resolved alert is kept (and re-posted): Alertmanager keeps alerts in memory only,
/// so one restarted in that window still hears that it is over (Prometheus does the same).
pub const RESOLVED_KEEP_MS: i64 = 15 * 60 * 1000;

/// Something a rule found wrong now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule that found it.
    pub rule: RuleKey,
    /// Its identity within the rule (`host`, `record`, …).
    pub labels: Labels,
    /// What is wrong, in the page's words.
    pub summary: String,
    /// The console page that shows it.
    pub page: &'static str,
    /// The public hostname whose wrong DNS answer would explain it, if any.
    pub caused_by_hostname: Option<String>,
}

/// What the rules read: the snapshots the pages render.
pub struct Judged<'a> {
    /// Hosts, their health and certificates; hostnames and what they land on.
    pub topology: &'a Topology,
    /// Every record's status.
    pub dns: &'a Dns,
    /// Every replica's status.
    pub replication: &'a Replication,
    /// Every loader's status.
    pub backlog: &'a Backlog,
    /// This instance: its mode and whether the primary is lost.
    pub instance: &'a Instance,
    /// This instance's peers, reachable or not.
    pub peers: &'a [PeerStatus],
    /// This instance's engines whose rounds are overdue: (engine, milliseconds since a round).
    pub stale_engines: &'a [(&'static str, i64)],
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Everything wrong now, one finding per identity (the same labels found twice are one).
pub fn findings(judged: &Judged<'_>) -> Vec<Finding> {
    let mut found: BTreeMap<(RuleKey, Labels), Finding> = BTreeMap::new();
    let mut add = |f: Finding| {
        found.entry((f.rule, f.labels.clone())).or_insert(f);
    };
    for region in &judged.topology.regions {
        for host in &region.hosts {
            let certificate = host.certificate.as_ref();
            // A bad certificate folds into the host's health; it is its own alert, not "down".
            let down_by_certificate = certificate.is_some_and(|c| c.status == Status::Critical && c.detail == host.health.detail);
            if host.health.status == Status::Critical && !down_by_certificate {
                add(Finding {
                    rule: RuleKey::HostDown,
                    labels: labels(&[("host", &host.name), ("tier", &host.tier), ("region", &host.region)]),
                    summary: format!("{} ({}, {}) is down: {}", host.name, host.tier, region.display, host.health.detail),
                    page: "/topology",
                    caused_by_hostname: None,
                });
            }
            if let Some(c) = certificate {
                if let Some(rule) = certificate_rule(c.status) {
                    add(Finding {
                        rule,
                        labels: labels(&[("host", &host.name), ("hostname", &c.hostname)]),
                        summary: c.detail.clone(),
                        page: "/topology",
                        caused_by_hostname: None,
                    });
                }
            }
        }
    }
    for hostname in &judged.topology.hostnames {
        for c in &hostname.certificates {
            if let Some(rule) = certificate_rule(c.status) {
                add(Finding {
                    rule,
                    labels: labels(&[("host", &c.host), ("hostname", &hostname.name)]),
                    summary: c.detail.clone(),
                    page: "/topology",
                    // A balancer serving another name's certificate because DNS sent people there.
                    caused_by_hostname: Some(hostname.name.clone()),
                });
            }
        }
    }
    for record in &judged.dns.records {
        let rule = match record.status {
            DnsStatus::WrongTier | DnsStatus::Missing | DnsStatus::WrongTarget | DnsStatus::Split | DnsStatus::Partial => {
                RuleKey::DnsWrongAnswer
            }
            DnsStatus::FailedOver => RuleKey::DnsFailedOver,
            _ => continue,
        };
        let name = record.name.trim_end_matches('.');
        add(Finding {
            rule,
            // The status word is in the summary, not the identity: wrong_tier turning into
            // missing (the incident's next step) is the same record still wrong.
            labels: labels(&[("hostname", name), ("type", &record.kind)]),
            summary: record.detail.to_string(),
            page: "/dns",
            caused_by_hostname: None,
        });
    }
    for cluster in &judged.replication.clusters {
        for node in &cluster.nodes {
            if matches!(
                node.status,
                ReplicaStatus::Critical | ReplicaStatus::Disconnected | ReplicaStatus::SplitBrain | ReplicaStatus::RoleFlip
            ) {
                add(Finding {
                    rule: RuleKey::ReplicationBroken,
                    labels: labels(&[("cluster", &cluster.name), ("host", &node.host)]),
                    summary: format!("{} on {}: {}", cluster.name, node.host, node.detail),
                    page: "/replication",
                    caused_by_hostname: None,
                });
            }
        }
    }
    for loader in &judged.backlog.loaders {
        if matches!(loader.status, BacklogStatus::Stalled | BacklogStatus::Stopped) {
            add(Finding {
                rule: RuleKey::BacklogStuck,
                labels: labels(&[("loader", &loader.name), ("host", &loader.host)]),
                summary: format!("loader {} is {}: {}", loader.name, app::model::Worded::word(loader.status), loader.detail),
                page: "/backlog",
                caused_by_hostname: None,
            });
        }
    }
    for peer in judged.peers.iter().filter(|p| !p.reachable) {
        let why = peer.error.as_deref().unwrap_or("no answer");
        add(Finding {
            rule: RuleKey::PeerUnreachable,
            labels: labels(&[("peer", &peer.name), ("region", &peer.region)]),
            summary: format!("{} ({}) cannot be reached from {}: {why}", peer.name, peer.region, judged.instance.name),
            page: "/topology#vantages",
            caused_by_hostname: None,
        });
    }
    for (engine, age_ms) in judged.stale_engines {
        add(Finding {
            rule: RuleKey::EngineStale,
            // Which instance's engine is the identity: another region's engines are its own.
            labels: labels(&[("engine", engine), ("instance", &judged.instance.name)]),
            summary: format!("the {engine} engine of {} has not finished a round for {} s", judged.instance.name, age_ms / 1000),
            page: "/healthz",
            caused_by_hostname: None,
        });
    }
    if let Some(lost) = judged.instance.primary_lost_since_ms {
        add(Finding {
            rule: RuleKey::ControlStoreUnwritable,
            // One store, one alert, from every region alike.
            labels: Labels::new(),
            summary: format!(
                "no control store is writable: the primary is lost since {}; actions need break-glass",
                app::format::utc(lost)
            ),
            page: "/actions",
            caused_by_hostname: None,
        });
    }
    found.into_values().collect()
}

fn certificate_rule(status: Status) -> Option<RuleKey> {
    match status {
        Status::Critical => Some(RuleKey::CertificateInvalid),
        Status::Warn => Some(RuleKey::CertificateExpiring),
        Status::Ok | Status::Unknown => None,
    }
}

/// Drops the symptoms whose root cause is also found: a wrong DNS answer for a hostname mutes
/// what people reaching the wrong place see (the wrong balancer's certificate for it).
pub fn inhibit(findings: Vec<Finding>) -> Vec<Finding> {
    let wrong: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == RuleKey::DnsWrongAnswer)
        .filter_map(|f| f.labels.get("hostname").map(|r| r.to_ascii_lowercase()))
        .collect();
    findings.into_iter().filter(|f| !f.caused_by_hostname.as_ref().is_some_and(|h| wrong.contains(&h.to_ascii_lowercase()))).collect()
}

/// Which reachable peers find each alert now, by alert name and labels.
pub type Elsewhere = BTreeMap<(String, Labels), Vec<String>>;

/// One alert as this instance tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// What was found (the latest words).
    pub finding: Finding,
    /// Pending, firing or resolved.
    pub state: AlertState,
    /// Whether this instance's own vantage finds it now; a firing alert only peers still find
    /// is not posted by this instance.
    pub seen_here: bool,
    /// The reachable peers that find it now.
    pub seen_elsewhere: Vec<String>,
    /// When it was first found in this episode.
    pub since_ms: i64,
    /// When it fired.
    pub fired_ms: Option<i64>,
    /// When it resolved.
    pub resolved_ms: Option<i64>,
}

/// Every alert by its identity (rule and labels).
pub type Book = BTreeMap<(RuleKey, Labels), Tracked>;

/// Moves every alert one evaluation on at `now_ms`: a new finding is pending (firing at once
/// when its rule's `for` is 0), one that held for `for` fires, a pending one that went away is
/// forgotten (it never paged), a firing one that went away resolves once no peer in
/// `elsewhere` finds it either (until then it is held, unposted), and a resolved one is
/// forgotten after [`RESOLVED_KEEP_MS`]; found again after resolving, it is a new episode.
/// Findings of muted rules are dropped. Returns whether anything fired or resolved.
pub fn step(book: &mut Book, findings: Vec<Finding>, elsewhere: &Elsewhere, rules: &Rules, now_ms: i64) -> bool {
    let mut changed = false;
    let mut seen = std::collections::BTreeSet::new();
    for finding in findings {
        let rule: &Rule = rules.get(finding.rule);
        if rule.muted {
            continue;
        }
        let id = (finding.rule, finding.labels.clone());
        seen.insert(id.clone());
        let fresh = Tracked {
            finding: finding.clone(),
            state: AlertState::Pending,
            seen_here: true,
            seen_elsewhere: Vec::new(),
            since_ms: now_ms,
            fired_ms: None,
            resolved_ms: None,
        };
        let alert = book.entry(id).or_insert_with(|| fresh.clone());
        if alert.state == AlertState::Resolved {
            *alert = fresh;
        }
        alert.finding = finding;
        alert.seen_here = true;
        if alert.state == AlertState::Pending && now_ms - alert.since_ms >= rule.for_ms {
            alert.state = AlertState::Firing;
            alert.fired_ms = Some(now_ms);
            changed = true;
        }
    }
    book.retain(|id, alert| {
        let rule = rules.get(id.0);
        alert.seen_elsewhere = elsewhere.get(&(rule.name.to_string(), id.1.clone())).cloned().unwrap_or_default();
        if seen.contains(id) {
            return true;
        }
        alert.seen_here = false;
        match alert.state {
            AlertState::Pending => false,
            // Another region still finds it: not over yet, and not this region's to say.
            AlertState::Firing if !alert.seen_elsewhere.is_empty() => true,
            AlertState::Firing => {
                alert.state = AlertState::Resolved;
                alert.resolved_ms = Some(now_ms);
                changed = true;
                true
            }
            AlertState::Resolved => {
                alert.seen_elsewhere.clear();
                alert.resolved_ms.is_some_and(|at| now_ms - at < RESOLVED_KEEP_MS)
            }
        }
    });
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AlertingConfig, RuleOverride};

    fn finding(rule: RuleKey, pairs: &[(&str, &str)]) -> Finding {
        Finding { rule, labels: labels(pairs), summary: "words".into(), page: "/topology", caused_by_hostname: None }
    }

    fn rules(for_seconds: u64) -> Rules {
        let mut config = AlertingConfig::default();
        config.rules.insert(RuleKey::HostDown, RuleOverride { for_seconds: Some(for_seconds), ..Default::default() });
        config.rules.insert(RuleKey::DnsFailedOver, RuleOverride { muted: true, ..Default::default() });
        Rules::of_config(&config)
    }

    /// (at second, lb2 found?) → lb2's state after that step (None: not tracked), and whether
    /// the step changed anything a receiver hears.
    #[test]
    fn an_alert_waits_out_its_for_fires_once_and_resolves_once() {
        let rules = rules(10);
        #[rustfmt::skip]
        let table: &[(i64, bool, Option<AlertState>, bool)] = &[
            (0, true, Some(AlertState::Pending), false),
            (5, true, Some(AlertState::Pending), false),
            (10, true, Some(AlertState::Firing), true),
            (15, true, Some(AlertState::Firing), false),
            (20, false, Some(AlertState::Resolved), true),
            (25, false, Some(AlertState::Resolved), false),
            // Found again: a new episode, pending from now.
            (30, true, Some(AlertState::Pending), false),
            // Gone before its `for`: forgotten, never paged.
            (35, false, None, false),
            (40, true, Some(AlertState::Pending), false),
            (50, true, Some(AlertState::Firing), true),
            (60, false, Some(AlertState::Resolved), true),
            // Kept 15 minutes after resolving, then forgotten.
            (60 + 15 * 60 - 1, false, Some(AlertState::Resolved), false),
            (60 + 15 * 60, false, None, false),
        ];
        let mut book = Book::new();
        let lb2 = finding(RuleKey::HostDown, &[("host", "lb2")]);
        for (at, found, want, changes) in table {
            let findings = if *found { vec![lb2.clone()] } else { vec![] };
            let changed = step(&mut book, findings, &Elsewhere::new(), &rules, at * 1000);
            let state = book.get(&(RuleKey::HostDown, lb2.labels.clone())).map(|a| a.state);
            assert_eq!((state, changed), (*want, *changes), "at {at} s");
        }
    }

    /// (at second, found here?, peers that find it) → (state, posted by this region?, changed).
    #[test]
    fn a_region_that_stops_finding_an_alert_waits_for_the_others_before_it_resolves() {
        let rules = rules(0);
        let lb2 = finding(RuleKey::HostDown, &[("host", "lb2")]);
        let id = ("HostDown".to_string(), lb2.labels.clone());
        #[rustfmt::skip]
        let table: &[(i64, bool, &[&str], AlertState, bool, bool)] = &[
            (0, true, &["sin-1"], AlertState::Firing, true, true),
            // Here it is over, in Singapore not: held, and this region says nothing.
            (5, false, &["sin-1"], AlertState::Firing, false, false),
            (10, false, &["sin-1", "ams-1"], AlertState::Firing, false, false),
            // Found here again: posted again, the same episode.
            (15, true, &["sin-1"], AlertState::Firing, true, false),
            (20, false, &["ams-1"], AlertState::Firing, false, false),
            // Nobody reachable finds it: resolved, by every region alike.
            (25, false, &[], AlertState::Resolved, false, true),
        ];
        let mut book = Book::new();
        for (at, here, peers, state, seen_here, changed) in table {
            let findings = if *here { vec![lb2.clone()] } else { vec![] };
            let mut elsewhere = Elsewhere::new();
            if !peers.is_empty() {
                elsewhere.insert(id.clone(), peers.iter().map(|p| p.to_string()).collect());
            }
            let got = step(&mut book, findings, &elsewhere, &rules, at * 1000);
            let alert = &book[&(RuleKey::HostDown, lb2.labels.clone())];
            assert_eq!((alert.state, alert.seen_here, got), (*state, *seen_here, *changed), "at {at} s");
            assert_eq!(alert.fired_ms, Some(0), "one episode, fired once, at {at} s");
        }
    }

    #[test]
    fn for_zero_fires_at_once_and_muted_rules_never_do() {
        let rules = rules(0);
        let mut book = Book::new();
        let findings =
            vec![finding(RuleKey::HostDown, &[("host", "lb2")]), finding(RuleKey::DnsFailedOver, &[("hostname", "api.example.test")])];
        assert!(step(&mut book, findings, &Elsewhere::new(), &rules, 0));
        assert_eq!(book.len(), 1);
        assert_eq!(book.values().next().map(|a| (a.state, a.fired_ms)), Some((AlertState::Firing, Some(0))));
    }

    #[test]
    fn a_wrong_answer_for_a_hostname_mutes_the_certificate_people_are_sent_to() {
        let wrong = finding(RuleKey::DnsWrongAnswer, &[("hostname", "www.example.test"), ("type", "A")]);
        let sent_to_lb1 = Finding {
            caused_by_hostname: Some("WWW.example.test".into()),
            ..finding(RuleKey::CertificateInvalid, &[("host", "lb1"), ("hostname", "www.example.test")])
        };
        let own_check = finding(RuleKey::CertificateInvalid, &[("host", "lb2"), ("hostname", "www.example.test")]);
        let api = Finding { caused_by_hostname: Some("api.example.test".into()), ..sent_to_lb1.clone() };
        // (findings, rules kept)
        #[rustfmt::skip]
        let table: Vec<(Vec<Finding>, Vec<RuleKey>)> = vec![
            (vec![wrong.clone(), sent_to_lb1.clone()], vec![RuleKey::DnsWrongAnswer]),
            (vec![sent_to_lb1.clone()], vec![RuleKey::CertificateInvalid]),
            // A balancer's own check is no symptom of DNS: kept.
            (vec![wrong.clone(), own_check], vec![RuleKey::DnsWrongAnswer, RuleKey::CertificateInvalid]),
            // Another hostname's symptom is kept.
            (vec![wrong, api], vec![RuleKey::DnsWrongAnswer, RuleKey::CertificateInvalid]),
        ];
        for (i, (findings, kept)) in table.into_iter().enumerate() {
            let got: Vec<RuleKey> = inhibit(findings).into_iter().map(|f| f.rule).collect();
            assert_eq!(got, kept, "row {i}");
        }
    }

    /// The demo's shape in small: one host, one hostname, one record, one replica, one loader,
    /// one peer, all well; each row breaks one thing.
    fn healthy() -> serde_json::Value {
        serde_json::json!({
            "topology": {
                "regions": [{"name": "sjc", "display": "San Jose", "primary": true, "status": "ok", "hosts": [{
                    "name": "lb2", "region": "sjc", "tier": "web_lb", "address": "127.0.1.2", "check": "GET https://www.example.test/",
                    "health": {"status": "ok", "latency_ms": 2.0, "checked_at_ms": 0, "detail": "HTTP 200", "flapping": null},
                    "certificate": {"hostname": "www.example.test", "status": "ok", "detail": "certificate for www.example.test expires in 60 days",
                        "days_left": 60, "not_after_ms": 0, "issuer": "CA", "trusted": true}
                }]}],
                "hostnames": [{"name": "www.example.test", "tier": "web_lb", "site": null, "lands_on": [], "dns_status": "ok", "certificates": []}],
                "probe_interval_seconds": 1, "evaluated_at_ms": 0,
                "vantages": {"columns": [], "hostnames": [], "hosts": [], "peers": [], "findings": [], "status": "ok"}
            },
            "dns": {"soa": [], "declared_serial": null, "soa_skew": false, "resolvers": ["lab-auth"], "probe_interval_seconds": 1, "evaluated_at_ms": 0,
                "records": [{"name": "www.example.test.", "kind": "A", "declared": ["127.0.1.2"], "ttl": 60, "required_tier": "web_lb",
                    "status": "ok", "latest": "ok", "flapping": null, "detail": "lab-auth: as declared", "since_ms": 0, "checked_at_ms": 0, "cells": []}]},
            "replication": {"clusters": [{"name": "main", "status": "ok", "detail": "", "slots": [], "heartbeat_error": null, "nodes": [{
                    "host": "db-sin", "region": "sin", "region_display": "Singapore", "configured_role": "replica", "observed_role": "replica",
                    "status": "ok", "detail": "streaming", "lag_bytes": 0, "lag_seconds": 0.0, "sender_state": null, "sync_state": null,
                    "sender_lag_seconds": [null, null, null], "replay_lsn": null, "receiver_status": null, "last_message_ms": null,
                    "replay_paused": null, "checked_at_ms": 0, "history": []}]}],
                "thresholds": {"warn_seconds": 5.0, "critical_seconds": 30.0, "warn_bytes": 1, "critical_bytes": 2}, "interval_seconds": 1, "evaluated_at_ms": 0},
            "backlog": {"loaders": [{"name": "loader-sjc", "host": "loader-sjc", "region": "sjc", "region_display": "San Jose", "source": "scraped",
                    "status": "ok", "detail": "draining", "depth": 3.0, "oldest_age_seconds": null, "enqueue_rate": null, "load_rate": null,
                    "net_drain": null, "eta_seconds": null, "last_report_ms": null, "last_error": null, "history": []}],
                "window_seconds": 60, "interval_seconds": 1, "evaluated_at_ms": 0},
            "instance": {"name": "sin-1", "region": "sin", "region_display": "Singapore", "mode": "secondary", "read_only": true,
                "mode_reason": "", "mode_since_ms": 0, "control_store": "postgres", "primary": "sjc-1", "primary_lost_since_ms": null,
                "primary_lost_seconds": null, "replica_unreplayed_bytes": null, "replica_last_replay_seconds": null,
                "config_differences": [], "version": "0"},
            "peers": [{"name": "sjc-1", "region": "sjc", "reachable": true, "last_ok_ms": 0, "failing_since_ms": null, "error": null, "mode": "primary"}]
        })
    }

    /// Each row sets JSON pointers in the healthy estate; the findings must be exactly the
    /// expected (rule, labels) and the first's summary must contain the words.
    #[test]
    fn each_rule_finds_what_its_page_shows() {
        use serde_json::json;
        #[rustfmt::skip]
        let table: Vec<(&str, Vec<(&str, serde_json::Value)>, Vec<(RuleKey, Vec<(&str, &str)>)>, &str)> = vec![
            ("all well: nothing", vec![], vec![], ""),
            ("a host down", vec![("/topology/regions/0/hosts/0/health/status", json!("critical")), ("/topology/regions/0/hosts/0/health/detail", json!("connection refused"))],
                vec![(RuleKey::HostDown, vec![("host", "lb2"), ("region", "sjc"), ("tier", "web_lb")])], "lb2 (web_lb, San Jose) is down: connection refused"),
            ("down only by its certificate: a certificate alert, not a host down", vec![
                ("/topology/regions/0/hosts/0/health/status", json!("critical")), ("/topology/regions/0/hosts/0/health/detail", json!("lb2's certificate for www.example.test expired 2 days ago")),
                ("/topology/regions/0/hosts/0/certificate/status", json!("critical")), ("/topology/regions/0/hosts/0/certificate/detail", json!("lb2's certificate for www.example.test expired 2 days ago"))],
                vec![(RuleKey::CertificateInvalid, vec![("host", "lb2"), ("hostname", "www.example.test")])], "expired 2 days ago"),
            ("a certificate in its warning window", vec![("/topology/regions/0/hosts/0/certificate/status", json!("warn"))],
                vec![(RuleKey::CertificateExpiring, vec![("host", "lb2"), ("hostname", "www.example.test")])], "expires in 60 days"),
            ("www on the API tier", vec![("/dns/records/0/status", json!("wrong_tier")), ("/dns/records/0/detail", json!("all 1 resolvers (lab-auth): www resolves to lb1 = API tier"))],
                vec![(RuleKey::DnsWrongAnswer, vec![("hostname", "www.example.test"), ("type", "A")])], "www resolves to lb1 = API tier"),
            ("an allowed failover is a warning of its own", vec![("/dns/records/0/status", json!("failed_over"))],
                vec![(RuleKey::DnsFailedOver, vec![("hostname", "www.example.test"), ("type", "A")])], "as declared"),
            ("a stale cache is no alert", vec![("/dns/records/0/status", json!("stale"))], vec![], ""),
            ("a replica disconnected", vec![("/replication/clusters/0/nodes/0/status", json!("disconnected")), ("/replication/clusters/0/nodes/0/detail", json!("no WAL receiver"))],
                vec![(RuleKey::ReplicationBroken, vec![("cluster", "main"), ("host", "db-sin")])], "main on db-sin: no WAL receiver"),
            ("lag over warn only is no page", vec![("/replication/clusters/0/nodes/0/status", json!("warn"))], vec![], ""),
            ("a loader stopped", vec![("/backlog/loaders/0/status", json!("stopped"))],
                vec![(RuleKey::BacklogStuck, vec![("host", "loader-sjc"), ("loader", "loader-sjc")])], "loader loader-sjc is stopped: draining"),
            ("a peer unreachable", vec![("/peers/0/reachable", json!(false)), ("/peers/0/error", json!("connection refused"))],
                vec![(RuleKey::PeerUnreachable, vec![("peer", "sjc-1"), ("region", "sjc")])], "sjc-1 (sjc) cannot be reached from sin-1: connection refused"),
            ("the primary lost", vec![("/instance/primary_lost_since_ms", json!(0))],
                vec![(RuleKey::ControlStoreUnwritable, vec![])], "no control store is writable: the primary is lost since 1970-01-01 00:00:00 UTC"),
        ];
        for (name, changes, want, words) in table {
            let mut estate = healthy();
            for (pointer, value) in changes {
                *estate.pointer_mut(pointer).unwrap_or_else(|| panic!("{name}: no {pointer}")) = value;
            }
            let part = |key: &str| estate[key].clone();
            let topology: Topology = serde_json::from_value(part("topology")).unwrap();
            let dns: Dns = serde_json::from_value(part("dns")).unwrap();
            let replication: Replication = serde_json::from_value(part("replication")).unwrap();
            let backlog: Backlog = serde_json::from_value(part("backlog")).unwrap();
            let instance: Instance = serde_json::from_value(part("instance")).unwrap();
            let peers: Vec<PeerStatus> = serde_json::from_value(part("peers")).unwrap();
            let judged = Judged {
                topology: &topology,
                dns: &dns,
                replication: &replication,
                backlog: &backlog,
                instance: &instance,
                peers: &peers,
                stale_engines: &[],
            };
            let found = findings(&judged);
            let got: Vec<(RuleKey, Labels)> = found.iter().map(|f| (f.rule, f.labels.clone())).collect();
            let want: Vec<(RuleKey, Labels)> = want.into_iter().map(|(rule, pairs)| (rule, labels(&pairs))).collect();
            assert_eq!(got, want, "{name}");
            if let Some(first) = found.first() {
                assert!(first.summary.contains(words), "{name}: {:?} lacks {words:?}", first.summary);
            }
        }
    }

    #[test]
    fn a_stale_engine_is_this_instance_s_own_alert() {
        let estate = healthy();
        let topology: Topology = serde_json::from_value(estate["topology"].clone()).unwrap();
        let dns: Dns = serde_json::from_value(estate["dns"].clone()).unwrap();
        let replication: Replication = serde_json::from_value(estate["replication"].clone()).unwrap();
        let backlog: Backlog = serde_json::from_value(estate["backlog"].clone()).unwrap();
        let instance: Instance = serde_json::from_value(estate["instance"].clone()).unwrap();
        let stale = [("dns", 42_000)];
        let judged = Judged {
            topology: &topology,
            dns: &dns,
            replication: &replication,
            backlog: &backlog,
            instance: &instance,
            peers: &[],
            stale_engines: &stale,
        };
        let found = findings(&judged);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].labels, labels(&[("engine", "dns"), ("instance", "sin-1")]));
        assert_eq!(found[0].summary, "the dns engine of sin-1 has not finished a round for 42 s");
    }
}
