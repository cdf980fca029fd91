//! Replication: each PostgreSQL cluster, primary to replicas, with lag in bytes and seconds,
//! receiver state, slot retention and a short lag history.

use crate::api::get_replication;
use crate::components::{Badge, Sparkline};
use crate::format;
use crate::live::LiveRegion;
use crate::model::{DbCluster, DbNode, Replication};
use leptos::prelude::*;
use leptos_meta::Title;

/// The replication page.
#[component]
pub fn ReplicationPage() -> impl IntoView {
    view! {
        <Title text="Replication"/>
        <h1>"Replication"</h1>
        <LiveRegion on="replication" loading="Loading replication…" load=get_replication
            render=|replication| view! { <ReplicationView replication/> }/>
    }
}

#[component]
fn ReplicationView(replication: Replication) -> impl IntoView {
    let t = &replication.thresholds;
    let lede = format!(
        "Read from this instance every {} s with the monitoring role. Seconds come from a heartbeat row \
         written on the primary each round; bytes from the primary's pg_stat_replication. \
         warn at {} or {}; critical at {} or {}.",
        replication.interval_seconds,
        format::seconds(Some(t.warn_seconds)),
        format::bytes(t.warn_bytes),
        format::seconds(Some(t.critical_seconds)),
        format::bytes(t.critical_bytes),
    );
    let clusters = if replication.clusters.is_empty() {
        view! { <p class="empty">"No databases are configured: add [[databases]] to the config."</p> }.into_any()
    } else {
        replication.clusters.into_iter().map(|cluster| view! { <ClusterView cluster/> }).collect_view().into_any()
    };
    view! {
        <p class="lede">{lede} " Evaluated " <time>{format::utc(replication.evaluated_at_ms)}</time> "."</p>
        {clusters}
    }
}

#[component]
fn ClusterView(cluster: DbCluster) -> impl IntoView {
    let name = cluster.name.clone();
    let chain = {
        let primary = cluster.nodes.first().map(|n| format!("{} ({})", n.host, n.region_display)).unwrap_or_default();
        let replicas: Vec<String> = cluster.nodes.iter().skip(1).map(|n| format!("{} ({})", n.host, n.region_display)).collect();
        format!("{primary} → {}", if replicas.is_empty() { "no replicas".to_string() } else { replicas.join(", ") })
    };
    let heartbeat = cluster.heartbeat_error.map(|e| {
        view! { <p class="alarm-text">"Heartbeat cannot be written, so lag seconds are unknown: " {e}</p> }
    });
    let rows = cluster.nodes.into_iter().map(|node| view! { <NodeRow node/> }).collect_view().into_any();
    let slots = if cluster.slots.is_empty() {
        view! { <p class="muted">"No replication slots on the primary (or it cannot be read)."</p> }.into_any()
    } else {
        let rows = cluster
            .slots
            .into_iter()
            .map(|s| {
                let slot = s.name.clone();
                view! {
                    <tr data-slot=slot>
                        <th scope="row"><code>{s.name}</code></th>
                        <td>{if s.active { "active" } else { "inactive" }}</td>
                        <td>{s.retained_bytes.map_or_else(|| "—".to_string(), format::bytes)}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="slots">
                <thead><tr><th scope="col">"Slot"</th><th scope="col">"State"</th><th scope="col">"WAL retained"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <section class="cluster" data-cluster=name>
            <h2>"Cluster " {cluster.name} " " <Badge status=cluster.status/></h2>
            <p class="chain">{chain}</p>
            <p class="answer">{cluster.detail}</p>
            {heartbeat}
            <table class="replication">
                <thead>
                    <tr>
                        <th scope="col">"Node"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Lag"</th>
                        <th scope="col">"Sender / receiver"</th>
                        <th scope="col">"History (seconds, then bytes)"</th>
                        <th scope="col">"Checked"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <h3>"Replication slots"</h3>
            {slots}
        </section>
    }
    .into_any()
}

#[component]
fn NodeRow(node: DbNode) -> impl IntoView {
    let host = node.host.clone();
    let role = match &node.observed_role {
        Some(observed) => format!("{} (configured {})", observed, node.configured_role),
        None => format!("configured {}", node.configured_role),
    };
    let replica = node.configured_role == "replica";
    let lag = replica.then(|| {
        view! {
            <span class="lag-seconds">{format::seconds(node.lag_seconds)}</span>
            " · "
            <span class="lag-bytes">{node.lag_bytes.map_or_else(|| "—".to_string(), format::bytes)}</span>
        }
    });
    let link = replica.then(|| {
        let sender = match (&node.sender_state, &node.sync_state) {
            (Some(state), Some(sync)) => {
                let [write, flush, replay] = node.sender_lag_seconds.map(format::seconds);
                format!("sender {state} ({sync}); write/flush/replay lag {write} / {flush} / {replay}")
            }
            _ => "no sender on the primary".to_string(),
        };
        let receiver = match &node.receiver_status {
            Some(status) => format!("receiver {status}"),
            None => "no receiver".to_string(),
        };
        let paused = node.replay_paused.unwrap_or(false).then_some(" · replay paused");
        view! {
            <div>{sender}</div>
            <div>{receiver} {paused}</div>
            <div class="muted">"replayed to " <code>{node.replay_lsn.unwrap_or_else(|| "—".into())}</code></div>
            <div class="muted">"last message " <time>{format::utc_or_never(node.last_message_ms)}</time></div>
        }
    });
    let chart = replica.then(|| {
        let seconds = node.history.iter().map(|p| (p.at_ms, p.seconds)).collect();
        let bytes = node.history.iter().map(|p| (p.at_ms, p.bytes.map(|b| b as f64))).collect();
        view! {
            <Sparkline points=seconds label=format!("lag seconds of {}", node.host)/>
            <Sparkline points=bytes label=format!("lag bytes of {}", node.host)/>
        }
    });
    // Erased: the row's full type nested in the cluster's overflows the compiler's depth limit.
    view! {
        <tr data-node=host data-status=node.status.as_str()>
            <th scope="row">{node.host} <div class="muted">{node.region_display}</div></th>
            <td>{role}</td>
            <td><Badge status=node.status/> <div class="answer">{node.detail}</div></td>
            <td>{lag}</td>
            <td>{link}</td>
            <td>{chart}</td>
            <td><time>{format::utc_or_never(node.checked_at_ms)}</time></td>
        </tr>
    }
    .into_any()
}
