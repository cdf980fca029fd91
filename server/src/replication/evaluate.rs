//! What a round of node readings means for a cluster: pure, with an explicit `now`, so every
//! status is table-tested without a database.

use super::observe::{NodeFacts, NodeObservation, ObserveError, StandbyFacts, WritableFacts};
use app::format;
use app::model::{DbCluster, DbNode, LagThresholds, ReplicaStatus, Slot};

/// Whether a node is configured as the primary or a replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The node that should accept writes.
    Primary,
    /// A streaming standby.
    Replica,
}

/// One configured node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// Host name.
    pub host: String,
    /// Region key.
    pub region: String,
    /// Region's human name.
    pub region_display: String,
    /// Configured role.
    pub role: Role,
    /// Name the primary lists the replica's sender under.
    pub sender_name: String,
}

/// One configured cluster: the primary first, then the replicas.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    /// Cluster name.
    pub name: String,
    /// Its nodes, primary first.
    pub nodes: Vec<NodeSpec>,
}

/// One round's readings of a cluster, in the order of [`ClusterSpec::nodes`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClusterRound {
    /// Each node's reading; None until it was first read.
    pub nodes: Vec<Option<NodeObservation>>,
    /// The outcome of writing the heartbeat on the primary, when it was tried.
    pub heartbeat: Option<Result<(), ObserveError>>,
}

/// Evaluates a cluster at `now_ms`; readings older than `stale_after_ms` count as none.
///
/// Lag seconds are the age of the newest heartbeat a standby has replayed, less one
/// `heartbeat_every_seconds`: the next heartbeat is written that much later, so a caught-up
/// standby on an idle primary reads between zero and one interval and shows zero, and a
/// standby that lacks heartbeats shows how long it has lacked the first one it misses.
pub fn evaluate(
    spec: &ClusterSpec,
    round: &ClusterRound,
    thresholds: &LagThresholds,
    stale_after_ms: i64,
    heartbeat_every_seconds: f64,
    now_ms: i64,
) -> DbCluster {
    let fresh: Vec<Option<&NodeObservation>> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, _)| round.nodes.get(i).and_then(Option::as_ref).filter(|o| now_ms - o.at_ms <= stale_after_ms))
        .collect();
    let facts = |i: usize| fresh[i].and_then(|o| o.facts.as_ref().ok());
    let writable: Vec<&str> =
        (0..spec.nodes.len()).filter(|&i| matches!(facts(i), Some(NodeFacts::Writable(_)))).map(|i| spec.nodes[i].host.as_str()).collect();
    // The senders and slots of the configured primary, when it is writable.
    let primary_side: Option<&WritableFacts> = spec.nodes.iter().position(|n| n.role == Role::Primary).and_then(|i| match facts(i) {
        Some(NodeFacts::Writable(w)) => Some(w),
        _ => None,
    });

    let nodes: Vec<DbNode> = spec
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let mut view = DbNode {
                host: node.host.clone(),
                region: node.region.clone(),
                region_display: node.region_display.clone(),
                configured_role: match node.role {
                    Role::Primary => "primary".into(),
                    Role::Replica => "replica".into(),
                },
                observed_role: None,
                status: ReplicaStatus::Unknown,
                detail: String::new(),
                lag_bytes: None,
                lag_seconds: None,
                sender_state: None,
                sync_state: None,
                sender_lag_seconds: [None; 3],
                replay_lsn: None,
                receiver_status: None,
                last_message_ms: None,
                replay_paused: None,
                checked_at_ms: round.nodes.get(i).and_then(Option::as_ref).map(|o| o.at_ms),
                history: Vec::new(),
            };
            let (status, detail) = match (fresh[i], round.nodes.get(i).and_then(Option::as_ref)) {
                (None, None) => (ReplicaStatus::Unknown, "not read yet".to_string()),
                (None, Some(old)) => (ReplicaStatus::Unknown, format!("no fresh reading since {}", format::utc(old.at_ms))),
                (Some(obs), _) => match &obs.facts {
                    Err(e) => (ReplicaStatus::Unknown, format!("cannot read the node: {e}")),
                    Ok(NodeFacts::Writable(w)) => {
                        view.observed_role = Some("primary".into());
                        writable_node(node, w, &writable)
                    }
                    Ok(NodeFacts::Standby(s)) => {
                        view.observed_role = Some("standby".into());
                        view.receiver_status = s.receiver_status.clone();
                        view.last_message_ms = s.last_message_ms;
                        view.replay_paused = Some(s.replay_paused);
                        view.replay_lsn = s.replay_lsn.clone();
                        let lag = s.heartbeat_age_seconds.clone().map(|age| (age - heartbeat_every_seconds).max(0.0));
                        view.lag_seconds = lag.as_ref().ok().copied();
                        if node.role == Role::Primary {
                            (ReplicaStatus::RoleFlip, "configured as the primary but in recovery: it is a standby now".to_string())
                        } else {
                            let sender = primary_side.and_then(|p| p.senders.iter().find(|s| s.application_name == node.sender_name));
                            if let Some(sender) = sender {
                                view.lag_bytes = sender.lag_bytes;
                                view.sender_state = Some(sender.state.clone());
                                view.sync_state = Some(sender.sync_state.clone());
                                view.sender_lag_seconds = sender.lag_intervals;
                            }
                            standby_node(node, s, lag, primary_side.is_some(), sender.is_some(), view.lag_bytes, thresholds)
                        }
                    }
                },
            };
            view.status = status;
            view.detail = detail;
            view
        })
        .collect();

    let worst = nodes.iter().max_by_key(|n| n.status.rank());
    let status = worst.map_or(ReplicaStatus::Unknown, |n| n.status);
    let replicas = nodes.iter().filter(|n| n.configured_role == "replica").count();
    let healthy = nodes.iter().filter(|n| n.configured_role == "replica" && n.status == ReplicaStatus::Ok).count();
    let detail = match worst {
        None => "no nodes configured".to_string(),
        Some(_) if status == ReplicaStatus::Ok => {
            format!("{healthy} of {replicas} replicas streaming within thresholds")
        }
        Some(n) => format!("{}: {}", n.host, n.detail),
    };
    DbCluster {
        name: spec.name.clone(),
        status,
        detail,
        slots: primary_side
            .map(|p| p.slots.iter().map(|s| Slot { name: s.name.clone(), active: s.active, retained_bytes: s.retained_bytes }).collect())
            .unwrap_or_default(),
        heartbeat_error: match &round.heartbeat {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        },
        nodes,
    }
}

fn writable_node(node: &NodeSpec, w: &WritableFacts, writable: &[&str]) -> (ReplicaStatus, String) {
    if writable.len() >= 2 {
        let others: Vec<&str> = writable.iter().copied().filter(|h| *h != node.host).collect();
        return (ReplicaStatus::SplitBrain, format!("accepts writes, and so does {}: two writable nodes", others.join(", ")));
    }
    match node.role {
        Role::Primary => {
            let streaming = w.senders.iter().filter(|s| s.state == "streaming").count();
            (ReplicaStatus::Ok, format!("accepts writes; {streaming} WAL senders streaming"))
        }
        Role::Replica => (ReplicaStatus::RoleFlip, "configured as a replica but accepts writes: it was promoted".to_string()),
    }
}

fn standby_node(
    node: &NodeSpec,
    s: &StandbyFacts,
    lag_seconds: Result<f64, ObserveError>,
    primary_known: bool,
    has_sender: bool,
    lag_bytes: Option<i64>,
    t: &LagThresholds,
) -> (ReplicaStatus, String) {
    let seconds = lag_seconds.as_ref().ok().copied();
    let behind = match (seconds, lag_bytes) {
        (None, None) => "lag not measurable".to_string(),
        (sec, b) => format!("{} and {} behind", format::seconds(sec), b.map_or_else(|| "? bytes".to_string(), format::bytes)),
    };
    if s.replay_paused {
        return (ReplicaStatus::ReplayPaused, format!("WAL replay is paused; {behind}"));
    }
    match s.receiver_status.as_deref() {
        Some("streaming") => {}
        Some(other) => return (ReplicaStatus::Disconnected, format!("WAL receiver is {other}, not streaming; {behind}")),
        None => return (ReplicaStatus::Disconnected, format!("no WAL receiver is running; {behind}")),
    }
    if primary_known && !has_sender {
        return (ReplicaStatus::Disconnected, format!("the primary lists no sender named {:?}; {behind}", node.sender_name));
    }
    if seconds.is_none() && lag_bytes.is_none() {
        let why = lag_seconds.as_ref().err().map(ToString::to_string).unwrap_or_default();
        return (ReplicaStatus::Unknown, format!("streaming, but lag is not measurable yet: {why}"));
    }
    let over = |sec: f64, bytes: i64| seconds.is_some_and(|v| v >= sec) || lag_bytes.is_some_and(|b| b >= bytes);
    let status = if over(t.critical_seconds, t.critical_bytes) {
        ReplicaStatus::Critical
    } else if over(t.warn_seconds, t.warn_bytes) {
        ReplicaStatus::Warn
    } else {
        ReplicaStatus::Ok
    };
    let why = match &lag_seconds {
        Err(e) if status == ReplicaStatus::Ok => format!("streaming; {behind} (seconds unknown: {e})"),
        _ => format!("streaming; {behind}"),
    };
    (status, why)
}

#[cfg(test)]
mod tests;
