//! The overview: one summary per area (host health, DNS, replication, backlog, maintenance,
//! vantages), each judged from its area's snapshot, and the "safe to fail back?" verdict
//! ([`fail_back`]). Pure: the console hands in snapshots, these say what they mean.

pub mod fail_back;

use app::action::SiteView;
use app::model::{
    Area, Backlog, BacklogStatus, DbCluster, DbNode, Dns, DnsRecord, Overview, PublicHostname, ReplicaStatus, Replication, Status, Topology,
};
use app::vantage::Vantages;

/// Every area's summary and the fail-back verdict, from the areas' snapshots.
pub fn overview(topology: &Topology, dns: &Dns, replication: &Replication, backlog: &Backlog, sites: Vec<SiteView>) -> Overview {
    let mut areas = vec![health(topology), self::dns(dns), self::replication(replication), self::backlog(backlog), maintenance(&sites)];
    if !topology.vantages.peers.is_empty() {
        areas.push(vantages(&topology.vantages));
    }
    let hostnames: Vec<PublicHostname> = topology.hostnames.clone();
    Overview { areas, sites, fail_back: fail_back::judge(replication, backlog, topology), hostnames }
}

/// The maintenance area: which sites show the maintenance page, and where what users see
/// differs from what was requested.
pub fn maintenance(sites: &[SiteView]) -> Area {
    let on: Vec<&str> = sites.iter().filter(|s| s.state.on).map(|s| s.name.as_str()).collect();
    let disagreements: Vec<String> =
        sites.iter().filter_map(|s| s.agreement().filter(|(agree, _)| !agree).map(|(_, words)| format!("{}: {words}", s.name))).collect();
    Area {
        key: "actions".into(),
        title: "Maintenance".into(),
        status: if !disagreements.is_empty() || !on.is_empty() { Status::Warn } else { Status::Ok },
        summary: if sites.is_empty() {
            "No sites are configured.".into()
        } else if !disagreements.is_empty() {
            format!("Requested and observed differ: {}.", disagreements.join("; "))
        } else if on.is_empty() {
            format!("All {} sites are serving normally.", sites.len())
        } else {
            format!("Maintenance page on for: {}.", on.join(", "))
        },
        href: "/actions".into(),
    }
}

/// The vantages area: peers nobody reaches and vantages that disagree.
pub fn vantages(v: &Vantages) -> Area {
    let summary = if v.findings.is_empty() {
        format!("All {} peers answer and every vantage sees the same.", v.peers.len())
    } else {
        format!("{}.", v.findings.join("; "))
    };
    Area { key: "vantages".into(), title: "Vantages".into(), status: v.status, summary, href: "/topology#vantages".into() }
}

/// The health area of the overview, derived from a topology snapshot.
pub fn health(topology: &Topology) -> Area {
    let [(_, ok), (_, warn), (_, critical), (_, unknown)] = topology.counts();
    let total = ok + warn + critical + unknown;
    let status = Status::worst(topology.hosts().map(|h| h.health.status));
    let summary = if total == 0 {
        "No hosts are configured.".to_string()
    } else if ok == total {
        format!("All {total} hosts answer their checks.")
    } else {
        // Which hosts, and a flapping one says so: "1 critical" alone hides the story.
        let named = |status: Status| {
            let hosts: Vec<String> = topology
                .hosts()
                .filter(|h| h.health.status == status)
                .map(|h| match &h.health.flapping {
                    Some(f) => format!("{} {}", h.name, app::format::flapping(f)),
                    None => h.name.clone(),
                })
                .collect();
            let mut list = hosts.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
            if hosts.len() > 3 {
                list.push_str(&format!(" and {} more", hosts.len() - 3));
            }
            list
        };
        let mut parts = Vec::new();
        if critical > 0 {
            parts.push(format!("{critical} critical ({})", named(Status::Critical)));
        }
        if warn > 0 {
            parts.push(format!("{warn} warn ({})", named(Status::Warn)));
        }
        if unknown > 0 {
            parts.push(format!("{unknown} without fresh data"));
        }
        format!("{} of {total} hosts: {}.", total - ok, parts.join(", "))
    };
    Area { key: "health".into(), title: "Host health".into(), status, summary, href: "/topology".into() }
}
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
        .map(|l| match &l.last_error {
            // A loader whose metrics no longer parse is "stopped" for a reason the overview names.
            Some(e) => format!("{} {} (last report rejected: {e})", l.name, l.status.as_str()),
            None => format!("{} {}", l.name, l.status.as_str()),
        })
        .collect();
    let queued: f64 = backlog.loaders.iter().filter_map(|l| l.depth).sum();
    let summary = if backlog.loaders.is_empty() {
        "No loaders are configured.".to_string()
    } else if troubled.is_empty() {
        format!("{} loaders ok; {} items queued in all.", backlog.loaders.len(), app::format::count(Some(queued)))
    } else {
        format!("{} of {}: {}.", troubled.len(), backlog.loaders.len(), troubled.join("; "))
    };
    Area { key: "backlog".into(), title: "Loader backlog".into(), status, summary, href: "/backlog".into() }
}

#[cfg(test)]
mod dns_area_tests {
    use super::*;
    use app::model::{DnsStatus, SoaCell};

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
            detail: "".into(),
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
            let area = super::dns(&dns);
            assert_eq!(area.status, status, "{name}: {}", area.summary);
            assert!(area.summary.contains(summary), "{name}: {:?} lacks {summary:?}", area.summary);
        }
    }
}

#[cfg(test)]
mod backlog_area_tests {
    use app::model::{Backlog, BacklogStatus, Loader, Status};

    fn loader(name: &str, status: BacklogStatus, depth: Option<f64>) -> Loader {
        Loader {
            name: name.into(),
            host: "h".into(),
            region: "sin".into(),
            region_display: "Singapore".into(),
            source: "scraped".into(),
            status,
            detail: String::new(),
            depth,
            oldest_age_seconds: None,
            enqueue_rate: None,
            load_rate: None,
            net_drain: None,
            eta_seconds: None,
            last_report_ms: None,
            last_error: None,
            history: vec![],
        }
    }

    #[test]
    fn the_backlog_area_names_the_loaders_in_trouble() {
        use BacklogStatus::*;
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<Loader>, Status, &str)> = vec![
            ("none configured", vec![], Status::Unknown, "No loaders are configured."),
            ("all ok, queued summed", vec![loader("a", Ok, Some(3.0)), loader("b", Ok, Some(4.4))], Status::Ok, "2 loaders ok; 7 items queued in all."),
            ("one growing", vec![loader("a", Ok, Some(1.0)), loader("b", Growing, Some(90.0))], Status::Warn, "1 of 2: b growing."),
            ("stalled outranks growing", vec![loader("a", Growing, None), loader("b", Stalled, None)], Status::Critical, "2 of 2: a growing; b stalled."),
            ("no report yet", vec![loader("a", Unknown, None)], Status::Unknown, "1 of 1: a unknown."),
            ("metrics that no longer parse say why", vec![Loader { last_error: Some("line 3: bad number".into()), ..loader("a", Stopped, None) }], Status::Critical, "1 of 1: a stopped (last report rejected: line 3: bad number)."),
        ];
        for (name, loaders, status, summary) in cases {
            let area = super::backlog(&Backlog { loaders, window_seconds: 60, interval_seconds: 2, evaluated_at_ms: 0 });
            assert_eq!((area.status, area.summary.as_str()), (status, summary), "{name}");
            assert_eq!((area.key.as_str(), area.href.as_str()), ("backlog", "/backlog"), "{name}");
        }
    }
}

#[cfg(test)]
mod area_tests {
    use super::fail_back::tests::node;
    use super::*;
    use app::action::{MaintenanceState, SiteObservation};
    use app::model::{Health, Host, Region};

    fn topology(statuses: &[Status]) -> Topology {
        let host = |(i, status): (usize, &Status)| Host {
            name: format!("lb{i}"),
            region: "sjc".into(),
            tier: "web_lb".into(),
            address: "127.0.1.1".into(),
            check: "tcp 80".into(),
            health: Health { status: *status, latency_ms: None, checked_at_ms: None, detail: String::new(), flapping: None },
            certificate: None,
        };
        Topology {
            regions: vec![Region {
                name: "sjc".into(),
                display: "San Jose".into(),
                primary: true,
                status: Status::worst(statuses.iter().copied()),
                hosts: statuses.iter().enumerate().map(host).collect(),
            }],
            hostnames: vec![],
            probe_interval_seconds: 5,
            evaluated_at_ms: 0,
            vantages: Default::default(),
        }
    }

    #[test]
    fn the_health_area_counts_hosts_by_status() {
        use Status::{Critical, Ok, Unknown, Warn};
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<Status>, Status, &str)> = vec![
            ("no hosts: nothing to judge is unknown, never ok", vec![], Unknown, "No hosts are configured."),
            ("all ok", vec![Ok, Ok], Ok, "All 2 hosts answer their checks."),
            ("one critical, named", vec![Ok, Critical], Critical, "1 of 2 hosts: 1 critical (lb1)."),
            ("stale data is not ok", vec![Ok, Unknown], Unknown, "1 of 2 hosts: 1 without fresh data."),
            ("every kind, worst first", vec![Warn, Critical, Unknown, Ok], Critical, "3 of 4 hosts: 1 critical (lb1), 1 warn (lb0), 1 without fresh data."),
            ("many, the first three named", vec![Critical; 5], Critical, "5 of 5 hosts: 5 critical (lb0, lb1, lb2 and 2 more)."),
        ];
        for (name, statuses, status, summary) in cases {
            let area = health(&topology(&statuses));
            assert_eq!((area.status, area.summary.as_str()), (status, summary), "{name}");
        }
        // A flapping host says so where the count is.
        let mut flapping = topology(&[Ok, Critical]);
        flapping.regions[0].hosts[1].health.flapping = Some(app::model::Flapping { changes: 6, since_ms: 0 });
        assert_eq!(health(&flapping).summary, "1 of 2 hosts: 1 critical (lb1 flapping: 6 changes since 1970-01-01 00:00:00 UTC).");
    }

    fn replicating(nodes: &[(&str, ReplicaStatus)], cluster: ReplicaStatus) -> Replication {
        Replication {
            clusters: vec![DbCluster {
                name: "main".into(),
                status: cluster,
                detail: String::new(),
                nodes: nodes.iter().map(|(h, s)| node(h, *s)).collect(),
                slots: vec![],
                heartbeat_error: None,
            }],
            thresholds: app::model::LagThresholds { warn_seconds: 5.0, critical_seconds: 30.0, warn_bytes: 1, critical_bytes: 2 },
            interval_seconds: 2,
            evaluated_at_ms: 0,
        }
    }

    #[test]
    fn the_replication_area_names_the_nodes_in_trouble() {
        use ReplicaStatus::{Critical, Disconnected, Ok, SplitBrain, Warn};
        let none = Replication { clusters: vec![], ..replicating(&[], Ok) };
        #[rustfmt::skip]
        let cases: Vec<(&str, Replication, Status, &str)> = vec![
            ("none configured: nothing to judge is unknown, never ok", none, Status::Unknown, "No databases are configured."),
            ("all within thresholds", replicating(&[("db1", Ok), ("db2", Ok)], Ok), Status::Ok, "All 2 nodes replicate within thresholds."),
            ("one lagging", replicating(&[("db1", Ok), ("db2", Warn)], Warn), Status::Warn, "1 of 2 nodes: main db2 warn."),
            ("cut off", replicating(&[("db1", Ok), ("db2", Disconnected), ("db3", Critical)], Critical), Status::Critical, "2 of 3 nodes: main db2 disconnected; main db3 critical."),
            ("split brain", replicating(&[("db1", SplitBrain), ("db2", SplitBrain)], SplitBrain), Status::Critical, "2 of 2 nodes: main db1 split_brain; main db2 split_brain."),
        ];
        for (name, r, status, summary) in cases {
            let area = replication(&r);
            assert_eq!((area.status, area.summary.as_str()), (status, summary), "{name}");
        }
    }

    fn site(name: &str, on: bool, seen: Option<bool>) -> SiteView {
        SiteView {
            name: name.into(),
            hostnames: vec![],
            two_person: false,
            state: MaintenanceState { on, ..Default::default() },
            changed_by: None,
            changed_at_ms: Some(0),
            observed: seen.map(|page| SiteObservation {
                at_ms: 10_000,
                status_code: Some(if page { 503 } else { 200 }),
                maintenance_seen: page,
                detail: String::new(),
            }),
            pending_replay: None,
        }
    }

    #[test]
    fn the_maintenance_area_says_what_is_on_and_where_users_see_otherwise() {
        #[rustfmt::skip]
        let cases: Vec<(&str, Vec<SiteView>, Status, &str)> = vec![
            ("no sites", vec![], Status::Ok, "No sites are configured."),
            ("all serving", vec![site("web", false, Some(false)), site("api", false, None)], Status::Ok, "All 2 sites are serving normally."),
            ("on and seen", vec![site("web", true, Some(true)), site("api", false, None)], Status::Warn, "Maintenance page on for: web."),
            ("on but not seen", vec![site("web", true, Some(false))], Status::Warn,
                "Requested and observed differ: web: maintenance on for 10 s; the balancer still answers 200."),
            ("off but still seen", vec![site("web", false, Some(true))], Status::Warn,
                "Requested and observed differ: web: maintenance is off but users still get the maintenance page (answers 503)."),
        ];
        for (name, sites, status, summary) in cases {
            let area = maintenance(&sites);
            assert_eq!((area.status, area.summary.as_str()), (status, summary), "{name}");
        }
    }
}
