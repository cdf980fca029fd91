//! "Safe to fail back?": a pure verdict from the replication and backlog snapshots and the
//! topology. Failing back moves writes and traffic to the primary region again, so it needs
//! every replica caught up, every loader drained, the public hostnames answering (as declared or
//! on an allowed failover) and the primary region's balancers healthy. Every failing condition
//! is listed in words.

use app::model::{Backlog, BacklogStatus, DnsStatus, FailBack, ReplicaStatus, Replication, Status, Topology};

/// Tiers whose hosts take the public traffic back.
const BALANCERS: [&str; 2] = ["web_lb", "api_lb"];

/// Judges from the replication and backlog snapshots and this instance's topology.
pub fn judge(replication: &Replication, backlog: &Backlog, topology: &Topology) -> FailBack {
    let mut reasons = Vec::new();
    let mut statuses = Vec::new();
    for cluster in &replication.clusters {
        for node in &cluster.nodes {
            if node.status != ReplicaStatus::Ok {
                statuses.push(node.status.status());
                reasons.push(format!("{} {} ({}): {}", cluster.name, node.host, node.status.as_str(), node.detail));
            }
        }
    }
    // Items younger than this are in flight, not a backlog: a loader keeping up always
    // holds a few.
    let in_flight_seconds = (2 * backlog.interval_seconds).max(5) as f64;
    for loader in &backlog.loaders {
        let holding = loader.oldest_age_seconds.is_some_and(|age| age > in_flight_seconds);
        if loader.status != BacklogStatus::Ok || holding {
            let status = if loader.status == BacklogStatus::Ok { Status::Warn } else { loader.status.status() };
            statuses.push(status);
            reasons.push(format!("{} ({}): {}", loader.name, loader.status.as_str(), loader.detail));
        }
    }
    // Public hostnames must answer: as declared, or on an allowed failover still in place.
    for h in &topology.hostnames {
        let status = h.dns_status.unwrap_or(DnsStatus::Unchecked);
        if !matches!(status, DnsStatus::Ok | DnsStatus::FailedOver | DnsStatus::Stale) {
            statuses.push(status.status());
            let lands = if h.lands_on.is_empty() { "no address".to_string() } else { h.lands_on.join(", ") };
            reasons.push(format!("{} does not answer as declared ({}): {lands}", h.name, status.as_str()));
        }
    }
    // The primary region's balancers take the traffic back: they must answer their checks.
    let balancers: Vec<_> = topology
        .regions
        .iter()
        .filter(|r| r.primary)
        .flat_map(|r| r.hosts.iter().map(move |h| (r, h)))
        .filter(|(_, h)| BALANCERS.contains(&h.tier.as_str()))
        .collect();
    for (region, host) in &balancers {
        if host.health.status != Status::Ok {
            statuses.push(host.health.status);
            reasons.push(format!(
                "balancer {} in {} is {}: {}",
                host.name,
                region.display,
                host.health.status.as_str(),
                host.health.detail
            ));
        }
    }
    let checked = replication.clusters.iter().map(|c| c.nodes.len()).sum::<usize>() + backlog.loaders.len();
    if checked == 0 {
        return FailBack {
            safe: false,
            status: Status::Unknown,
            reasons: vec!["No databases or loaders are configured: nothing to judge by.".into()],
        };
    }
    if reasons.is_empty() {
        let replicas = replication.clusters.iter().map(|c| c.nodes.len().saturating_sub(1)).sum::<usize>();
        return FailBack {
            safe: true,
            status: Status::Ok,
            reasons: vec![format!(
                "{replicas} replicas within their lag thresholds, {} loaders empty, {} hostnames answering and {} primary balancers healthy.",
                backlog.loaders.len(),
                topology.hostnames.len(),
                balancers.len()
            )],
        };
    }
    FailBack { safe: false, status: Status::worst(statuses), reasons }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use app::model::*;

    /// A replica in Singapore with `status`; the overview's area tests use it too.
    pub(in crate::overview) fn node(host: &str, status: ReplicaStatus) -> DbNode {
        DbNode {
            host: host.into(),
            region: "sin".into(),
            region_display: "Singapore".into(),
            configured_role: "replica".into(),
            observed_role: Some("replica".into()),
            status,
            detail: format!("{host} detail"),
            lag_bytes: Some(0),
            lag_seconds: Some(0.1),
            sender_state: None,
            sync_state: None,
            sender_lag_seconds: [None; 3],
            replay_lsn: None,
            receiver_status: None,
            last_message_ms: None,
            replay_paused: None,
            checked_at_ms: Some(0),
            history: Vec::new(),
        }
    }

    fn replication(nodes: Vec<DbNode>) -> Replication {
        let clusters = if nodes.is_empty() {
            Vec::new()
        } else {
            vec![DbCluster {
                name: "main".into(),
                status: ReplicaStatus::Ok,
                detail: String::new(),
                nodes,
                slots: Vec::new(),
                heartbeat_error: None,
            }]
        };
        Replication {
            clusters,
            thresholds: LagThresholds { warn_seconds: 5.0, critical_seconds: 30.0, warn_bytes: 1, critical_bytes: 2 },
            interval_seconds: 2,
            evaluated_at_ms: 0,
        }
    }

    fn loader(status: BacklogStatus, oldest: Option<f64>) -> Loader {
        Loader {
            name: "loader-sjc".into(),
            host: "loader-sjc".into(),
            region: "sjc".into(),
            region_display: "San Jose".into(),
            source: "scrape".into(),
            status,
            detail: "loader detail".into(),
            depth: Some(3.0),
            oldest_age_seconds: oldest,
            enqueue_rate: None,
            load_rate: None,
            net_drain: None,
            eta_seconds: None,
            last_report_ms: Some(0),
            last_error: None,
            history: Vec::new(),
        }
    }

    fn backlog(loaders: Vec<Loader>, interval_seconds: u64) -> Backlog {
        Backlog { loaders, window_seconds: 10, interval_seconds, evaluated_at_ms: 0 }
    }

    fn host(name: &str, tier: &str, status: Status) -> Host {
        let health = Health { status, latency_ms: None, checked_at_ms: Some(0), detail: format!("{name} check"), flapping: None };
        Host {
            name: name.into(),
            region: "sjc".into(),
            tier: tier.into(),
            address: "127.0.1.1".into(),
            check: String::new(),
            health,
            certificate: None,
        }
    }

    fn hostname(name: &str, status: Option<DnsStatus>, lands: &[&str]) -> PublicHostname {
        let lands_on = lands.iter().map(|l| l.to_string()).collect();
        PublicHostname {
            name: name.into(),
            tier: "web_lb".into(),
            site: None,
            lands_on,
            dns_status: status,
            serving: Vec::new(),
            since_ms: None,
            certificates: Vec::new(),
        }
    }

    /// San Jose (primary) with lb1 and lb2 and a database host; Singapore with lb3.
    fn topology(lb2: Status, lb3: Status, www: Option<DnsStatus>) -> Topology {
        let region = |name: &str, display: &str, primary, hosts| Region {
            name: name.into(),
            display: display.into(),
            primary,
            status: Status::Ok,
            hosts,
        };
        Topology {
            regions: vec![
                region(
                    "sjc",
                    "San Jose",
                    true,
                    vec![host("lb1", "api_lb", Status::Ok), host("lb2", "web_lb", lb2), host("db1", "db", Status::Critical)],
                ),
                region("sin", "Singapore", false, vec![host("lb3", "api_lb", lb3)]),
            ],
            hostnames: vec![hostname("www.example.test", www, &["127.0.1.1 = lb1 · api_lb · San Jose"])],
            probe_interval_seconds: 5,
            evaluated_at_ms: 0,
            vantages: Default::default(),
        }
    }

    fn healthy() -> Topology {
        topology(Status::Ok, Status::Ok, Some(DnsStatus::Ok))
    }

    #[test]
    fn the_primary_regions_hostnames_and_balancers_must_answer() {
        let data = || (replication(vec![node("db1", ReplicaStatus::Ok), node("db-sin", ReplicaStatus::Ok)]), backlog(vec![], 2));
        #[rustfmt::skip]
        let table: Vec<(&str, Topology, bool, Status, Vec<&str>)> = vec![
            ("all answering", healthy(), true, Status::Ok, vec!["1 replicas within their lag thresholds, 0 loaders empty, 1 hostnames answering and 2 primary balancers healthy."]),
            ("www on the wrong tier", topology(Status::Ok, Status::Ok, Some(DnsStatus::WrongTier)), false, Status::Critical,
                vec!["www.example.test does not answer as declared (wrong_tier): 127.0.1.1 = lb1 · api_lb · San Jose"]),
            ("www still on its allowed failover", topology(Status::Ok, Status::Ok, Some(DnsStatus::FailedOver)), true, Status::Ok, vec![]),
            ("www not checked yet", topology(Status::Ok, Status::Ok, None), false, Status::Unknown, vec!["www.example.test does not answer as declared (unchecked)"]),
            ("the web balancer down", topology(Status::Critical, Status::Ok, Some(DnsStatus::Ok)), false, Status::Critical, vec!["balancer lb2 in San Jose is critical: lb2 check"]),
            ("a secondary's balancer does not count", topology(Status::Ok, Status::Critical, Some(DnsStatus::Ok)), true, Status::Ok, vec![]),
            ("DNS and a balancer, both listed", topology(Status::Warn, Status::Ok, Some(DnsStatus::Missing)), false, Status::Critical,
                vec!["www.example.test does not answer as declared (missing)", "balancer lb2 in San Jose is warn"]),
        ];
        for (case, topology, safe, status, reasons) in table {
            let (replication, backlog) = data();
            let got = judge(&replication, &backlog, &topology);
            assert_eq!((got.safe, got.status), (safe, status), "{case}: {:?}", got.reasons);
            for (i, want) in reasons.iter().enumerate() {
                assert!(got.reasons[i].starts_with(want), "{case}: {:?} lacks {want:?}", got.reasons);
            }
            if !safe {
                assert_eq!(got.reasons.len(), reasons.len(), "{case}: every failing condition, once: {:?}", got.reasons);
            }
        }
    }

    #[test]
    fn fail_back_is_safe_only_when_every_replica_and_loader_says_so() {
        use BacklogStatus as B;
        use ReplicaStatus as R;
        let primary = || node("db1", R::Ok);
        // (case, replicas, loaders, backlog interval, safe, status, reasons)
        #[rustfmt::skip]
        let table: Vec<(&str, Vec<DbNode>, Vec<Loader>, u64, bool, Status, usize)> = vec![
            ("nothing configured is not safe, and unknown", vec![], vec![], 2, false, Status::Unknown, 1),
            ("all caught up and empty", vec![primary(), node("db-sin", R::Ok)], vec![loader(B::Ok, Some(1.0))], 2, true, Status::Ok, 1),
            ("items younger than the 5 s floor are in flight", vec![primary()], vec![loader(B::Ok, Some(4.9))], 1, true, Status::Ok, 1),
            ("older than the floor is a backlog: warn", vec![primary()], vec![loader(B::Ok, Some(5.1))], 1, false, Status::Warn, 1),
            ("in flight is two intervals when that is longer", vec![primary()], vec![loader(B::Ok, Some(9.0))], 5, true, Status::Ok, 1),
            ("a lagging replica", vec![primary(), node("db-sin", R::Warn)], vec![], 2, false, Status::Warn, 1),
            ("the worst status wins, every reason listed", vec![primary(), node("db-sin", R::Disconnected), node("db-ams", R::Warn)], vec![loader(B::Stalled, Some(60.0))], 2, false, Status::Critical, 3),
            ("an unknown loader is not safe", vec![primary()], vec![loader(B::Unknown, None)], 2, false, Status::Unknown, 1),
        ];
        for (case, nodes, loaders, interval, safe, status, reasons) in table {
            let got = judge(&replication(nodes), &backlog(loaders, interval), &healthy());
            assert_eq!((got.safe, got.status, got.reasons.len()), (safe, status, reasons), "{case}: {:?}", got.reasons);
        }
        let lagging = judge(&replication(vec![primary(), node("db-sin", R::Disconnected)]), &backlog(vec![], 2), &healthy());
        assert_eq!(lagging.reasons, ["main db-sin (disconnected): db-sin detail"]);
        let ok = judge(&replication(vec![primary(), node("db-sin", R::Ok)]), &backlog(vec![loader(B::Ok, None)], 2), &healthy());
        assert_eq!(
            ok.reasons,
            ["1 replicas within their lag thresholds, 1 loaders empty, 1 hostnames answering and 2 primary balancers healthy."]
        );
    }
}
