//! `/metrics`: Prometheus text exposition of what this instance sees, in base units.

use app::model::{Backlog, Instance, Replication, Topology};
use std::fmt::Write;

/// Escapes a label value per the exposition format.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Renders the metrics for one topology snapshot.
pub fn render(instance: &Instance, topology: &Topology, rounds: u64, sse_clients: usize) -> String {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(out, "# HELP crowsnest_info Which instance this is; always 1.");
    let _ = writeln!(out, "# TYPE crowsnest_info gauge");
    let _ = writeln!(
        out,
        "crowsnest_info{{instance=\"{}\",region=\"{}\",mode=\"{}\",version=\"{}\"}} 1",
        label(&instance.name),
        label(&instance.region),
        if instance.read_only { "secondary" } else { "primary" },
        label(&instance.version)
    );
    let _ = writeln!(out, "# HELP crowsnest_probe_rounds_total Health probe rounds completed since start.");
    let _ = writeln!(out, "# TYPE crowsnest_probe_rounds_total counter");
    let _ = writeln!(out, "crowsnest_probe_rounds_total {rounds}");
    let _ = writeln!(out, "# HELP crowsnest_sse_clients Browsers connected to the live event stream.");
    let _ = writeln!(out, "# TYPE crowsnest_sse_clients gauge");
    let _ = writeln!(out, "crowsnest_sse_clients {sse_clients}");
    let _ = writeln!(out, "# HELP crowsnest_host_status 1 for the host's current status, 0 for the others.");
    let _ = writeln!(out, "# TYPE crowsnest_host_status gauge");
    for host in topology.hosts() {
        for status in ["ok", "warn", "critical", "unknown"] {
            let _ = writeln!(
                out,
                "crowsnest_host_status{{host=\"{}\",region=\"{}\",tier=\"{}\",status=\"{status}\"}} {}",
                label(&host.name),
                label(&host.region),
                label(&host.tier),
                u8::from(host.health.status.as_str() == status)
            );
        }
    }
    // One family after the other: the exposition format keeps each family's samples together.
    let certificates: Vec<(String, &app::model::Certificate)> = topology
        .hosts()
        .filter_map(|h| {
            let c = h.certificate.as_ref()?;
            Some((format!("host=\"{}\",region=\"{}\",hostname=\"{}\"", label(&h.name), label(&h.region), label(&c.hostname)), c))
        })
        .collect();
    // Declared only with samples: an estate without HTTPS checks has no certificate series.
    if !certificates.is_empty() {
        let _ = writeln!(
            out,
            "# HELP crowsnest_certificate_expiry_days Whole days until the certificate a host serves for a name expires (negative once expired)."
        );
        let _ = writeln!(out, "# TYPE crowsnest_certificate_expiry_days gauge");
        for (labels, c) in &certificates {
            let _ = writeln!(out, "crowsnest_certificate_expiry_days{{{labels}}} {}", c.days_left);
        }
        let _ = writeln!(
            out,
            "# HELP crowsnest_certificate_trusted 1 when the certificate verified for the name against this instance's roots."
        );
        let _ = writeln!(out, "# TYPE crowsnest_certificate_trusted gauge");
        for (labels, c) in &certificates {
            let _ = writeln!(out, "crowsnest_certificate_trusted{{{labels}}} {}", u8::from(c.trusted));
        }
    }
    let _ = writeln!(out, "# HELP crowsnest_host_check_latency_seconds Round-trip time of the host's last answered check.");
    let _ = writeln!(out, "# TYPE crowsnest_host_check_latency_seconds gauge");
    for host in topology.hosts() {
        if let Some(ms) = host.health.latency_ms {
            let _ = writeln!(
                out,
                "crowsnest_host_check_latency_seconds{{host=\"{}\",region=\"{}\",tier=\"{}\"}} {}",
                label(&host.name),
                label(&host.region),
                label(&host.tier),
                ms / 1000.0
            );
        }
    }
    out
}

/// Appends replication lag and loader backlog gauges, in base units (bytes, seconds, items).
pub fn render_engines(out: &mut String, replication: &Replication, backlog: &Backlog) {
    let _ = writeln!(out, "# HELP crowsnest_replica_lag_bytes WAL bytes a replica has not replayed, by the primary's count.");
    let _ = writeln!(out, "# TYPE crowsnest_replica_lag_bytes gauge");
    let nodes = || replication.clusters.iter().flat_map(|c| c.nodes.iter().map(move |n| (c, n)));
    for (c, n) in nodes() {
        if let Some(bytes) = n.lag_bytes {
            let _ = writeln!(out, "crowsnest_replica_lag_bytes{{cluster=\"{}\",host=\"{}\"}} {bytes}", label(&c.name), label(&n.host));
        }
    }
    let _ = writeln!(out, "# HELP crowsnest_replica_lag_seconds Seconds a replica is behind, by the heartbeat row.");
    let _ = writeln!(out, "# TYPE crowsnest_replica_lag_seconds gauge");
    for (c, n) in nodes() {
        if let Some(seconds) = n.lag_seconds {
            let _ = writeln!(out, "crowsnest_replica_lag_seconds{{cluster=\"{}\",host=\"{}\"}} {seconds}", label(&c.name), label(&n.host));
        }
    }
    let _ = writeln!(out, "# HELP crowsnest_db_node_status 1 for the node's current replication status, 0 for the others.");
    let _ = writeln!(out, "# TYPE crowsnest_db_node_status gauge");
    for (c, n) in nodes() {
        let _ = writeln!(
            out,
            "crowsnest_db_node_status{{cluster=\"{}\",host=\"{}\",status=\"{}\"}} 1",
            label(&c.name),
            label(&n.host),
            n.status.as_str()
        );
    }
    let _ = writeln!(out, "# HELP crowsnest_loader_queue_depth Items queued at the loader's latest good report.");
    let _ = writeln!(out, "# TYPE crowsnest_loader_queue_depth gauge");
    for l in &backlog.loaders {
        if let Some(depth) = l.depth {
            let _ = writeln!(out, "crowsnest_loader_queue_depth{{loader=\"{}\"}} {depth}", label(&l.name));
        }
    }
    let _ = writeln!(out, "# HELP crowsnest_loader_eta_seconds Seconds until the loader's queue is empty, while it drains.");
    let _ = writeln!(out, "# TYPE crowsnest_loader_eta_seconds gauge");
    for l in &backlog.loaders {
        if let Some(eta) = l.eta_seconds {
            let _ = writeln!(out, "crowsnest_loader_eta_seconds{{loader=\"{}\"}} {eta}", label(&l.name));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_label_values() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

/// Appends each engine's round clock: last round, its duration, rounds, restarts and staleness.
pub fn render_engine_clocks(out: &mut String, engines: &[crate::engines::EngineSnapshot], now_ms: i64) {
    type Reading = fn(&crate::engines::EngineSnapshot, i64) -> Option<f64>;
    let series: [(&str, &str, &str, Reading); 5] = [
        ("crowsnest_engine_last_round_timestamp_seconds", "gauge", "When the engine last finished a round (unix seconds).", |e, _| {
            e.last_round_ms.map(|ms| ms as f64 / 1000.0)
        }),
        ("crowsnest_engine_round_duration_seconds", "gauge", "How long the engine's last round took.", |e, _| e.last_duration_seconds),
        ("crowsnest_engine_rounds_total", "counter", "Rounds the engine finished since start.", |e, _| Some(e.rounds as f64)),
        ("crowsnest_engine_panics_total", "counter", "Panics caught in the engine and restarted since start.", |e, _| {
            Some(e.panics as f64)
        }),
        (
            "crowsnest_engine_stale",
            "gauge",
            "1 while the engine's last round is older than its stale limit (/healthz answers 503).",
            |e, now| Some(f64::from(u8::from(e.stale_for_ms(now).is_some()))),
        ),
    ];
    for (name, kind, help, reading) in series {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for e in engines {
            if let Some(v) = reading(e, now_ms) {
                let _ = writeln!(out, "{name}{{engine=\"{}\"}} {v}", label(e.name));
            }
        }
    }
}

/// Appends DNS series with label sets bounded by the config: records per shown status, each
/// declared record's ok flag, each resolver's findings per status, each authoritative server's
/// SOA serial, and the questions one round asks.
pub fn render_dns(out: &mut String, dns: &app::model::Dns) {
    use std::collections::BTreeMap;
    let _ = writeln!(out, "# HELP crowsnest_dns_records Declared records per shown status (after damping).");
    let _ = writeln!(out, "# TYPE crowsnest_dns_records gauge");
    let mut per_status: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &dns.records {
        *per_status.entry(r.status.as_str()).or_default() += 1;
    }
    for (status, n) in &per_status {
        let _ = writeln!(out, "crowsnest_dns_records{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(out, "# HELP crowsnest_dns_record_ok 1 while the record answers as declared (its shown status is ok), else 0.");
    let _ = writeln!(out, "# TYPE crowsnest_dns_record_ok gauge");
    for r in &dns.records {
        let ok = u8::from(r.status == app::model::DnsStatus::Ok);
        let _ = writeln!(out, "crowsnest_dns_record_ok{{name=\"{}\",type=\"{}\"}} {ok}", label(&r.name), label(&r.kind));
    }
    let _ =
        writeln!(out, "# HELP crowsnest_dns_resolver_answers Records per resolver and that resolver's own finding in the latest round.");
    let _ = writeln!(out, "# TYPE crowsnest_dns_resolver_answers gauge");
    let mut per_resolver: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for r in &dns.records {
        for c in &r.cells {
            *per_resolver.entry((&*c.resolver, c.status.as_str())).or_default() += 1;
        }
    }
    for ((resolver, status), n) in &per_resolver {
        let _ = writeln!(out, "crowsnest_dns_resolver_answers{{resolver=\"{}\",status=\"{status}\"}} {n}", label(resolver));
    }
    let _ = writeln!(out, "# HELP crowsnest_dns_soa_serial The zone's SOA serial each authoritative server publishes.");
    let _ = writeln!(out, "# TYPE crowsnest_dns_soa_serial gauge");
    for soa in &dns.soa {
        if let Some(serial) = soa.serial {
            let _ = writeln!(out, "crowsnest_dns_soa_serial{{resolver=\"{}\"}} {serial}", label(&soa.resolver));
        }
    }
    if let Some(declared) = dns.declared_serial {
        let _ = writeln!(out, "# HELP crowsnest_dns_declared_serial The SOA serial the config declares.");
        let _ = writeln!(out, "# TYPE crowsnest_dns_declared_serial gauge");
        let _ = writeln!(out, "crowsnest_dns_declared_serial {declared}");
    }
    let _ =
        writeln!(out, "# HELP crowsnest_dns_queries_per_round Questions one DNS round asks: every record at every resolver, and each SOA.");
    let _ = writeln!(out, "# TYPE crowsnest_dns_queries_per_round gauge");
    let _ = writeln!(out, "crowsnest_dns_queries_per_round {}", dns.records.len() * dns.resolvers.len() + dns.soa.len());
}

#[cfg(test)]
mod dns_tests {
    use super::*;
    use app::model::{Dns, DnsCell, DnsRecord, DnsStatus, SoaCell};

    fn record(name: &str, status: DnsStatus, cells: &[(&str, DnsStatus)]) -> DnsRecord {
        DnsRecord {
            name: name.into(),
            kind: "A".into(),
            declared: vec![],
            ttl: 60,
            required_tier: None,
            status,
            latest: status,
            flapping: None,
            detail: "".into(),
            since_ms: None,
            checked_at_ms: None,
            cells: cells.iter().map(|(r, s)| DnsCell { resolver: (*r).into(), status: *s, detail: "".into() }).collect(),
        }
    }

    #[test]
    fn dns_series_count_statuses_with_bounded_labels() {
        use DnsStatus::*;
        let dns = Dns {
            soa: vec![
                SoaCell { resolver: "a".into(), serial: Some(7), error: None },
                SoaCell { resolver: "b".into(), serial: None, error: Some("timeout".into()) },
            ],
            declared_serial: Some(7),
            soa_skew: false,
            resolvers: vec!["a (authoritative)".into(), "c (recursive)".into()],
            records: vec![
                record("www.example.test.", WrongTier, &[("a", WrongTier), ("c", Ok)]),
                record("api.example.test.", Ok, &[("a", Ok), ("c", Ok)]),
                record("mx.example.test.", Ok, &[("a", Ok), ("c", Timeout)]),
            ],
            probe_interval_seconds: 5,
            evaluated_at_ms: 0,
        };
        let mut out = String::new();
        render_dns(&mut out, &dns);
        for line in [
            "crowsnest_dns_records{status=\"ok\"} 2",
            "crowsnest_dns_records{status=\"wrong_tier\"} 1",
            "crowsnest_dns_record_ok{name=\"www.example.test.\",type=\"A\"} 0",
            "crowsnest_dns_record_ok{name=\"api.example.test.\",type=\"A\"} 1",
            "crowsnest_dns_resolver_answers{resolver=\"a\",status=\"ok\"} 2",
            "crowsnest_dns_resolver_answers{resolver=\"c\",status=\"timeout\"} 1",
            "crowsnest_dns_soa_serial{resolver=\"a\"} 7",
            "crowsnest_dns_declared_serial 7",
            "crowsnest_dns_queries_per_round 8",
        ] {
            assert!(out.lines().any(|l| l == line), "{line:?} missing from:\n{out}");
        }
        assert!(!out.contains("resolver=\"b\"} "), "a server without a serial has no serial series: {out}");
        // Every sample line parses with the console's own exposition parser.
        crate::backlog::exposition::parse(&out).expect("valid exposition text");
    }
}

/// Appends the alert series: alerts per state (every state, zero included) and, per configured
/// Alertmanager, whether its last post was stored.
pub fn render_alerts(out: &mut String, alerts: &app::model::Alerts) {
    use app::model::AlertState;
    let _ = writeln!(out, "# HELP crowsnest_alerts Alerts per state in the latest evaluation (resolved: within the last 15 minutes).");
    let _ = writeln!(out, "# TYPE crowsnest_alerts gauge");
    for state in [AlertState::Firing, AlertState::Pending, AlertState::Resolved] {
        let n = alerts.alerts.iter().filter(|a| a.state == state).count();
        let _ = writeln!(out, "crowsnest_alerts{{state=\"{}\"}} {n}", <&str>::from(state));
    }
    if alerts.receivers.is_empty() {
        return;
    }
    let _ = writeln!(out, "# HELP crowsnest_alert_receiver_up 1 while the receiver stored the last post, else 0.");
    let _ = writeln!(out, "# TYPE crowsnest_alert_receiver_up gauge");
    for r in &alerts.receivers {
        let up = u8::from(r.error.is_none() && r.last_ok_ms.is_some());
        let _ = writeln!(out, "crowsnest_alert_receiver_up{{url=\"{}\"}} {up}", label(&r.url));
    }
}
