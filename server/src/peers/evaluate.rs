//! Side by side: this instance's observations and each peer's, as per-vantage rows, and the
//! findings (a peer nobody reaches, vantages that disagree). Pure.

use app::format::{latency, seconds};
use app::model::{Status, Topology, Worded};
use app::vantage::{PeerStatus, VantageCell, VantageReport, VantageRow, Vantages};
use std::collections::BTreeSet;

/// One peer as this instance knows it: its status, its region's name, its latest report.
#[derive(Debug, Clone, Copy)]
pub struct PeerView<'a> {
    /// Reachable or not, since when.
    pub status: &'a PeerStatus,
    /// The peer region's human name, e.g. `San Jose`.
    pub display: &'a str,
    /// Its latest report, if it ever answered.
    pub report: Option<&'a VantageReport>,
}

fn column(display: &str, instance: &str) -> String {
    format!("{display} ({instance})")
}

fn unknown(text: &str) -> VantageCell {
    VantageCell { text: text.to_string(), status: Status::Unknown }
}

/// Rows of `name`s with a cell per vantage: `cell` reads one topology; a vantage that cannot be
/// reached now shows that, not its last words. Vantages disagree when the cells' `key`s differ.
fn rows<'a>(
    names: impl Iterator<Item = String>,
    seen: &[(String, Option<&'a Topology>)],
    cell: impl Fn(&'a Topology, &str) -> Option<VantageCell>,
    key: impl Fn(&VantageCell) -> String,
) -> Vec<VantageRow> {
    names
        .map(|name| {
            let cells: Vec<VantageCell> = seen
                .iter()
                .map(|(_, topology)| match topology {
                    Some(t) => cell(t, &name).unwrap_or_else(|| unknown("not in its config")),
                    None => unknown("unreachable"),
                })
                .collect();
            let answers: BTreeSet<String> = cells.iter().filter(|c| c.status != Status::Unknown).map(&key).collect();
            VantageRow { name, disagree: answers.len() > 1, cells }
        })
        .collect()
}

/// What `own` and `peers` see, at `now_ms`.
pub fn vantages(own: &VantageReport, peers: &[PeerView<'_>], now_ms: i64) -> Vantages {
    let mut columns = vec![column(&own.instance.region_display, &own.instance.name)];
    let mut seen: Vec<(String, Option<&Topology>)> = vec![(columns[0].clone(), Some(&own.topology))];
    let mut reports: Vec<Option<&VantageReport>> = vec![Some(own)];
    for p in peers {
        let col = column(p.display, &p.status.name);
        columns.push(col.clone());
        let report = p.report.filter(|_| p.status.reachable);
        seen.push((col, report.map(|r| &r.topology)));
        reports.push(report);
    }
    // Each vantage's own summary per area; summaries differ in words, so no disagreement flag.
    let areas = own
        .areas
        .iter()
        .map(|a| VantageRow {
            name: a.title.clone(),
            disagree: false,
            cells: reports
                .iter()
                .map(|r| match r {
                    Some(r) => r
                        .areas
                        .iter()
                        .find(|x| x.key == a.key)
                        .map(|x| VantageCell { text: x.summary.clone(), status: x.status })
                        .unwrap_or_else(|| unknown("not reported")),
                    None => unknown("unreachable"),
                })
                .collect(),
        })
        .collect();
    let hostnames = rows(
        own.topology.hostnames.iter().map(|h| h.name.clone()),
        &seen,
        |t, name| {
            let h = t.hostnames.iter().find(|h| h.name == name)?;
            let text = if h.lands_on.is_empty() { "no answer".to_string() } else { h.lands_on.join("; ") };
            Some(VantageCell { text, status: h.dns_status.map(|s| s.meaning()).unwrap_or(Status::Unknown) })
        },
        |c| c.text.clone(),
    );
    let hosts = rows(
        own.topology.hosts().map(|h| h.name.clone()),
        &seen,
        |t, name| {
            let h = t.hosts().find(|h| h.name == name)?;
            let words = match h.health.status {
                Status::Ok | Status::Warn => format!("{} {}", h.health.status.word(), latency(h.health.latency_ms)),
                s => s.word().to_string(),
            };
            // What each vantage's handshake found: the same balancer can serve one region another
            // certificate (a second balancer behind one address, an interception on the way).
            let words = match &h.certificate {
                Some(c) if c.status == Status::Ok => format!("{words} · certificate {} d left", c.days_left),
                Some(c) => format!("{words} · certificate {}: {}", c.status.word(), c.detail),
                None => words,
            };
            Some(VantageCell { text: words, status: h.health.status })
        },
        |c| c.status.word().to_string(),
    );

    let mut findings = Vec::new();
    let mut status = Status::Ok;
    for p in peers.iter().filter(|p| !p.status.reachable) {
        status = Status::Critical;
        let name = &p.status.name;
        // Who else fails to reach it, by the other peers' own reports.
        let mut from = vec![own.instance.name.clone()];
        let mut reached_by = Vec::new();
        for other in peers.iter().filter(|o| o.status.reachable && o.status.name != *name) {
            match other.report.and_then(|r| r.peers.iter().find(|s| s.name == *name)) {
                Some(s) if !s.reachable => from.push(other.status.name.clone()),
                Some(_) => reached_by.push(other.status.name.clone()),
                None => {}
            }
        }
        let since = p.status.failing_since_ms.unwrap_or(now_ms);
        let mut words = format!(
            "{name} ({}) unreachable from {} for {} (since {})",
            p.display,
            and_list(&from),
            seconds(Some((now_ms - since).max(0) as f64 / 1000.0)),
            app::format::utc(since)
        );
        if !reached_by.is_empty() {
            words.push_str(&format!(
                "; {} still reach{} it: a partition, not an outage",
                and_list(&reached_by),
                if reached_by.len() == 1 { "es" } else { "" }
            ));
        }
        if let Some(e) = &p.status.error {
            words.push_str(&format!(" — {e}"));
        }
        findings.push(words);
    }
    for (what, table) in [("lands on", &hostnames), ("is", &hosts)] {
        for row in table.iter().filter(|r| r.disagree) {
            if status == Status::Ok {
                status = Status::Warn;
            }
            let views: Vec<String> = row
                .cells
                .iter()
                .zip(&columns)
                .filter(|(c, _)| c.status != Status::Unknown)
                .map(|(c, col)| format!("{} from {col}", c.text))
                .collect();
            findings.push(format!("vantages disagree: {} {what} {}", row.name, views.join(", ")));
        }
    }
    let peers = peers.iter().map(|p| p.status.clone()).collect();
    Vantages { columns, hostnames, hosts, areas, peers, findings, status }
}

fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{DnsStatus, Health, Host, Instance, Mode, PublicHostname, Region};

    fn instance(name: &str, display: &str) -> Instance {
        Instance {
            name: name.into(),
            region: name[..3].into(),
            region_display: display.into(),
            mode: Mode::Secondary,
            read_only: true,
            mode_reason: String::new(),
            mode_since_ms: 0,
            control_store: "postgres".into(),
            primary: None,
            primary_lost_since_ms: None,
            primary_lost_seconds: None,
            replica_unreplayed_bytes: None,
            replica_last_replay_seconds: None,
            config_differences: Vec::new(),
            version: "0".into(),
        }
    }

    fn report(name: &str, display: &str, www: &[&str], lb2: Status, peers: Vec<PeerStatus>) -> VantageReport {
        let health = Health { status: lb2, latency_ms: Some(2.0), checked_at_ms: Some(0), detail: String::new(), flapping: None };
        VantageReport {
            instance: instance(name, display),
            topology: Topology {
                regions: vec![Region {
                    name: "sjc".into(),
                    display: "San Jose".into(),
                    primary: true,
                    status: lb2,
                    hosts: vec![Host {
                        name: "lb2".into(),
                        region: "sjc".into(),
                        tier: "web_lb".into(),
                        address: "127.0.1.2".into(),
                        check: String::new(),
                        health,
                        certificate: None,
                    }],
                }],
                hostnames: vec![PublicHostname {
                    name: "www.example.test".into(),
                    tier: "web_lb".into(),
                    site: None,
                    lands_on: www.iter().map(|s| s.to_string()).collect(),
                    dns_status: Some(DnsStatus::Ok),
                    serving: Vec::new(),
                    since_ms: None,
                    certificates: Vec::new(),
                }],
                probe_interval_seconds: 1,
                evaluated_at_ms: 0,
                vantages: Vantages::default(),
            },
            peers,
            areas: vec![],
            audit_head: None,
            alerts: vec![],
            told: vec![],
            sending: false,
            at_ms: 0,
        }
    }

    fn status(name: &str, reachable: bool, since: Option<i64>) -> PeerStatus {
        PeerStatus {
            name: name.into(),
            region: name[..3].into(),
            reachable,
            last_ok_ms: None,
            failing_since_ms: since,
            error: (!reachable).then(|| "connection refused".into()),
            mode: None,
        }
    }

    #[test]
    fn an_unreachable_peer_is_a_finding_named_with_everyone_who_cannot_reach_it() {
        let own = report("sin-1", "Singapore", &["lb2"], Status::Ok, vec![]);
        let sjc = status("sjc-1", false, Some(0));
        let ams = status("ams-1", true, None);
        let ams_report = report("ams-1", "Amsterdam", &["lb2"], Status::Ok, vec![status("sjc-1", false, Some(10_000))]);
        let peers = [
            PeerView { status: &sjc, display: "San Jose", report: None },
            PeerView { status: &ams, display: "Amsterdam", report: Some(&ams_report) },
        ];
        let v = vantages(&own, &peers, 180_000);
        assert_eq!(v.status, Status::Critical);
        assert_eq!(v.columns, ["Singapore (sin-1)", "San Jose (sjc-1)", "Amsterdam (ams-1)"]);
        assert!(v.findings[0].starts_with("sjc-1 (San Jose) unreachable from sin-1 and ams-1 for 3 min 0 s"), "{:?}", v.findings);
        assert_eq!(v.hostnames[0].cells[1], VantageCell { text: "unreachable".into(), status: Status::Unknown });
        assert!(!v.hostnames[0].disagree, "an unreachable vantage is not a disagreement");
    }

    #[test]
    fn vantages_that_disagree_are_called_out() {
        // (own www, peer www, own lb2, peer lb2, findings, status)
        let table = [
            (&["lb2"][..], &["lb2"][..], Status::Ok, Status::Ok, 0, Status::Ok),
            (&["lb2"][..], &["lb1"][..], Status::Ok, Status::Ok, 1, Status::Warn),
            (&["lb2"][..], &["lb2"][..], Status::Ok, Status::Critical, 1, Status::Warn),
            (&["lb2"][..], &["lb1"][..], Status::Critical, Status::Ok, 2, Status::Warn),
        ];
        for (own_www, peer_www, own_lb2, peer_lb2, count, want) in table {
            let own = report("sin-1", "Singapore", own_www, own_lb2, vec![]);
            let ams = status("ams-1", true, None);
            let theirs = report("ams-1", "Amsterdam", peer_www, peer_lb2, vec![]);
            let v = vantages(&own, &[PeerView { status: &ams, display: "Amsterdam", report: Some(&theirs) }], 0);
            assert_eq!((v.findings.len(), v.status), (count, want), "{:?}", v.findings);
        }
        let own = report("sin-1", "Singapore", &["lb2"], Status::Ok, vec![]);
        let ams = status("ams-1", true, None);
        let theirs = report("ams-1", "Amsterdam", &["lb1"], Status::Ok, vec![]);
        let v = vantages(&own, &[PeerView { status: &ams, display: "Amsterdam", report: Some(&theirs) }], 0);
        assert_eq!(v.findings[0], "vantages disagree: www.example.test lands on lb2 from Singapore (sin-1), lb1 from Amsterdam (ams-1)");

        // Latencies differ from every vantage; the host's status is what must agree.
        let mut theirs = report("ams-1", "Amsterdam", &["lb2"], Status::Ok, vec![]);
        theirs.topology.regions[0].hosts[0].health.latency_ms = Some(9.0);
        let v = vantages(&own, &[PeerView { status: &ams, display: "Amsterdam", report: Some(&theirs) }], 0);
        assert!(v.findings.is_empty(), "{:?}", v.findings);
        assert_eq!(v.hosts[0].cells[1].text, "ok 9.0 ms");
    }

    #[test]
    fn each_vantage_says_what_certificate_it_was_served() {
        let own = report("sin-1", "Singapore", &["lb2"], Status::Ok, vec![]);
        let mut theirs = report("ams-1", "Amsterdam", &["lb2"], Status::Critical, vec![]);
        let certificate = |status: Status, detail: &str| app::model::Certificate {
            hostname: "www.example.test".into(),
            status,
            detail: detail.into(),
            days_left: 60,
            not_after_ms: 0,
            issuer: "CA".into(),
            trusted: status == Status::Ok,
        };
        let mut own = own;
        own.topology.regions[0].hosts[0].certificate = Some(certificate(Status::Ok, "fine"));
        theirs.topology.regions[0].hosts[0].certificate = Some(certificate(
            Status::Critical,
            "lb2 serves a certificate for www.example.test issued by Proxy CA, which this instance does not trust",
        ));
        let ams = status("ams-1", true, None);
        let v = vantages(&own, &[PeerView { status: &ams, display: "Amsterdam", report: Some(&theirs) }], 0);
        assert_eq!(v.hosts[0].cells[0].text, "ok 2.0 ms · certificate 60 d left");
        assert!(
            v.hosts[0].cells[1].text.starts_with("critical · certificate critical: lb2 serves a certificate"),
            "{}",
            v.hosts[0].cells[1].text
        );
        assert!(v.hosts[0].disagree);
    }

    #[test]
    fn a_partition_is_told_from_an_outage() {
        let own = report("sin-1", "Singapore", &["lb2"], Status::Ok, vec![]);
        let sjc = status("sjc-1", false, Some(0));
        let ams = status("ams-1", true, None);
        let ams_report = report("ams-1", "Amsterdam", &["lb2"], Status::Ok, vec![status("sjc-1", true, None)]);
        let peers = [
            PeerView { status: &sjc, display: "San Jose", report: None },
            PeerView { status: &ams, display: "Amsterdam", report: Some(&ams_report) },
        ];
        let v = vantages(&own, &peers, 5_000);
        assert!(v.findings[0].contains("unreachable from sin-1 for 5.0 s"), "{}", v.findings[0]);
        assert!(v.findings[0].contains("ams-1 still reaches it: a partition, not an outage"), "{}", v.findings[0]);
    }

    #[test]
    fn each_vantage_reports_its_own_area_summaries() {
        let area = |status, summary: &str| app::model::Area {
            key: "replication".into(),
            title: "Replication".into(),
            status,
            summary: summary.into(),
            href: "/replication".into(),
        };
        let mut own = report("sin-1", "Singapore", &["lb2"], Status::Ok, vec![]);
        own.areas = vec![area(Status::Critical, "db-sin: receiver stopped")];
        let mut theirs = report("ams-1", "Amsterdam", &["lb2"], Status::Ok, vec![]);
        theirs.areas = vec![area(Status::Ok, "all replicas streaming")];
        let (ams, sjc) = (status("ams-1", true, None), status("sjc-1", false, Some(0)));
        let v = vantages(
            &own,
            &[
                PeerView { status: &ams, display: "Amsterdam", report: Some(&theirs) },
                PeerView { status: &sjc, display: "San Jose", report: None },
            ],
            0,
        );
        let row = &v.areas[0];
        assert_eq!(row.name, "Replication");
        let cells: Vec<(&str, Status)> = row.cells.iter().map(|c| (c.text.as_str(), c.status)).collect();
        assert_eq!(
            cells,
            [("db-sin: receiver stopped", Status::Critical), ("all replicas streaming", Status::Ok), ("unreachable", Status::Unknown)]
        );
    }
}
