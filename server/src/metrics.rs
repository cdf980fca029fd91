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
