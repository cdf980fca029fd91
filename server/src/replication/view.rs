//! The replication page's data: every cluster evaluated from the board's latest round, with
//! each replica's lag history.

use super::engine::{heartbeat_every_seconds, stale_after_ms, thresholds, ReplicationBoard};
use super::evaluate::{self, ClusterRound, ClusterSpec};
use crate::config::Estate;
use app::model::Replication;

/// Every cluster in `specs` evaluated at `now_ms`, with lag histories.
pub fn replication(board: &ReplicationBoard, estate: &Estate, specs: &[ClusterSpec], now_ms: i64) -> Replication {
    let thresholds = thresholds(estate);
    let stale_after_ms = stale_after_ms(estate);
    let inner = board.read();
    let clusters = specs
        .iter()
        .map(|spec| {
            let empty = ClusterRound::default();
            let round = inner.as_ref().and_then(|i| i.latest.get(&spec.name)).unwrap_or(&empty);
            let mut cluster = evaluate::evaluate(spec, round, &thresholds, stale_after_ms, heartbeat_every_seconds(estate), now_ms);
            if let Some(inner) = &inner {
                for node in cluster.nodes.iter_mut() {
                    if let Some(points) = inner.history.get(&(spec.name.clone(), node.host.clone())) {
                        node.history = points.iter().cloned().collect();
                    }
                }
            }
            cluster
        })
        .collect();
    Replication { clusters, thresholds, interval_seconds: estate.replication.interval_seconds, evaluated_at_ms: now_ms }
}
