//! Replication rounds: every interval, read every node of every cluster at once (each bounded by
//! the timeout, so one dead node never delays another), write the heartbeat on each primary,
//! and publish the round with a short lag history per replica.

use super::evaluate::{self, ClusterRound, ClusterSpec, NodeSpec, Role};
use super::observe::NodeClient;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::store::LocalStore;
use app::model::{DbCluster, LagPoint, LagThresholds};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The configured clusters, with each node's region.
pub fn specs(estate: &Estate) -> Vec<ClusterSpec> {
    estate
        .databases
        .iter()
        .map(|db| {
            let node = |n: &crate::config::DatabaseNode, role| {
                let (region, region_display) = estate.host_region(&n.host);
                NodeSpec { host: n.host.clone(), region, region_display, role, sender_name: n.sender_name().to_string() }
            };
            let mut nodes = vec![node(&db.primary, Role::Primary)];
            nodes.extend(db.replicas.iter().map(|r| node(r, Role::Replica)));
            ClusterSpec { name: db.name.clone(), nodes }
        })
        .collect()
}

/// The thresholds from the config, as the page shows them.
pub fn thresholds(estate: &Estate) -> LagThresholds {
    let r = &estate.replication;
    LagThresholds {
        warn_seconds: r.lag_warn_seconds,
        critical_seconds: r.lag_critical_seconds,
        warn_bytes: r.lag_warn_bytes,
        critical_bytes: r.lag_critical_bytes,
    }
}

/// What the board holds, read by the view.
#[derive(Default)]
pub(super) struct Inner {
    /// The latest round per cluster.
    pub(super) latest: HashMap<String, ClusterRound>,
    /// Each replica's lag points, by (cluster, host), oldest first.
    pub(super) history: HashMap<(String, String), VecDeque<LagPoint>>,
}

/// The latest round per cluster and each replica's lag history; a counter moves every round.
#[derive(Clone)]
pub struct ReplicationBoard {
    inner: Arc<RwLock<Inner>>,
    rounds: watch::Sender<u64>,
}

impl Default for ReplicationBoard {
    fn default() -> Self {
        ReplicationBoard { inner: Arc::default(), rounds: watch::channel(0).0 }
    }
}

impl ReplicationBoard {
    /// Records a cluster's round and the lag points evaluated from it.
    fn publish(&self, cluster: &str, round: ClusterRound, evaluated: &DbCluster, keep: usize) {
        if let Ok(mut inner) = self.inner.write() {
            for node in evaluated.nodes.iter().filter(|n| n.configured_role == "replica") {
                let points = inner.history.entry((cluster.to_string(), node.host.clone())).or_default();
                points.push_back(LagPoint {
                    at_ms: node.checked_at_ms.unwrap_or_else(now_ms),
                    bytes: node.lag_bytes,
                    seconds: node.lag_seconds,
                });
                while points.len() > keep {
                    points.pop_front();
                }
            }
            inner.latest.insert(cluster.to_string(), round);
        }
    }

    /// Marks the end of a round across all clusters and wakes every subscriber.
    fn tick(&self) {
        self.rounds.send_modify(|n| *n += 1);
    }

    /// A receiver that changes after every round.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.rounds.subscribe()
    }

    /// How many rounds have completed.
    pub fn rounds(&self) -> u64 {
        *self.rounds.borrow()
    }

    /// What the board holds now, for the view.
    pub(super) fn read(&self) -> Option<std::sync::RwLockReadGuard<'_, Inner>> {
        self.inner.read().ok()
    }
}

/// How often heartbeats are written: every round, when this instance writes them. When it does
/// not (`heartbeat = false`, another instance writes), ages are taken as they are.
pub(super) fn heartbeat_every_seconds(estate: &Estate) -> f64 {
    if estate.replication.heartbeat {
        estate.replication.interval_seconds as f64
    } else {
        0.0
    }
}

/// A reading is stale after three missed rounds.
pub(super) fn stale_after_ms(estate: &Estate) -> i64 {
    let r = &estate.replication;
    (r.interval_seconds * 1000 * 3 + r.timeout_ms) as i64
}

/// Runs replication rounds until the task is dropped.
pub async fn run_rounds(estate: Arc<Estate>, board: ReplicationBoard, local: Option<LocalStore>, engine: Arc<crate::engines::Engine>) {
    let config = &estate.replication;
    let timeout = Duration::from_millis(config.timeout_ms);
    let specs = specs(&estate);
    let thresholds = thresholds(&estate);
    // Validation checked every DSN, so a client always builds; a bad one is reported per node.
    let clients: Vec<Vec<Result<NodeClient, super::observe::ObserveError>>> = estate
        .databases
        .iter()
        .map(|db| std::iter::once(&db.primary).chain(db.replicas.iter()).map(|n| NodeClient::new(&n.dsn, timeout)).collect())
        .collect();
    let heartbeat_as = config.heartbeat.then(|| estate.instance.name.clone());
    let mut ticker = tokio::time::interval(Duration::from_secs(config.interval_seconds));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = std::time::Instant::now();
        let rounds = futures::future::join_all(specs.iter().zip(&clients).map(|(spec, nodes)| {
            let heartbeat_as = heartbeat_as.as_deref();
            async move {
                let readings = futures::future::join_all(spec.nodes.iter().zip(nodes).map(|(node, client)| async move {
                    match client {
                        Err(e) => (Some(super::observe::NodeObservation { at_ms: now_ms(), facts: Err(e.clone()) }), None),
                        Ok(client) => {
                            let beat = if node.role == Role::Primary { heartbeat_as } else { None };
                            let (obs, heartbeat) = client.observe(beat).await;
                            (Some(obs), heartbeat)
                        }
                    }
                }))
                .await;
                let heartbeat = readings.iter().find_map(|(_, h)| h.clone());
                ClusterRound { nodes: readings.into_iter().map(|(o, _)| o).collect(), heartbeat }
            }
        }))
        .await;
        let now = now_ms();
        let mut stored = Vec::new();
        for (spec, round) in specs.iter().zip(rounds) {
            let evaluated = evaluate::evaluate(spec, &round, &thresholds, stale_after_ms(&estate), heartbeat_every_seconds(&estate), now);
            board.publish(&spec.name, round, &evaluated, config.history_points);
            stored.extend(
                evaluated
                    .nodes
                    .iter()
                    .map(|n| (format!("{}/{}", spec.name, n.host), n.status.as_str(), n.lag_bytes, n.lag_seconds, n.detail.clone())),
            );
        }
        if let Some(store) = &local {
            if let Err(e) = store.record_replication(now, &stored).await {
                tracing::warn!(error = %e, "could not store replication observations; the live view is unaffected");
            }
        }
        board.tick();
        engine.round_done(started);
    }
}
