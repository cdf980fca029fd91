//! `/metrics`: Prometheus text exposition of what this instance sees, in base units.

use app::model::{Instance, Topology};
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

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_label_values() {
        assert_eq!(super::label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
