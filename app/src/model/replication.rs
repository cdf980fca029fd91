//! Replication: database clusters, their nodes' roles and lag, and slots.

use super::*;
use serde::{Deserialize, Serialize};

/// Replication status of one database node or cluster (architecture.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReplicaStatus {
    /// Streaming, lag within the warn thresholds (or a writable primary as configured).
    Ok,
    /// Lag above a warn threshold.
    Warn,
    /// Lag above a critical threshold.
    Critical,
    /// Not streaming: missing from the primary's senders, or its WAL receiver is not streaming.
    Disconnected,
    /// WAL replay is paused on the replica, so it falls behind while it receives.
    ReplayPaused,
    /// A node's role is not the configured one (a promoted replica, a demoted primary).
    RoleFlip,
    /// Two or more nodes accept writes.
    SplitBrain,
    /// The node could not be reached or read: says nothing about its lag.
    Unknown,
}

impl ReplicaStatus {
    /// The word used in the UI, CSS and JSON.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The probe-outcome status it maps to.
    pub fn status(self) -> Status {
        match self {
            ReplicaStatus::Ok => Status::Ok,
            ReplicaStatus::Warn | ReplicaStatus::ReplayPaused => Status::Warn,
            ReplicaStatus::Critical | ReplicaStatus::Disconnected | ReplicaStatus::RoleFlip | ReplicaStatus::SplitBrain => Status::Critical,
            ReplicaStatus::Unknown => Status::Unknown,
        }
    }

    /// Order of attention when several apply; the highest wins.
    pub fn rank(self) -> u8 {
        match self {
            ReplicaStatus::Ok => 0,
            ReplicaStatus::Warn => 1,
            ReplicaStatus::ReplayPaused => 2,
            ReplicaStatus::Unknown => 3,
            ReplicaStatus::Critical => 4,
            ReplicaStatus::Disconnected => 5,
            ReplicaStatus::RoleFlip => 6,
            ReplicaStatus::SplitBrain => 7,
        }
    }
}

/// One point of a replica's lag history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LagPoint {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// Bytes of WAL the replica had not replayed, when the primary could tell.
    pub bytes: Option<i64>,
    /// Seconds behind by the heartbeat, when the replica could tell.
    pub seconds: Option<f64>,
}

/// One PostgreSQL node as this instance sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbNode {
    /// Host name (a `db` tier host).
    pub host: String,
    /// Region key of the host.
    pub region: String,
    /// Region's human name.
    pub region_display: String,
    /// `primary` or `replica`, as configured.
    pub configured_role: String,
    /// `primary` (accepts writes) or `standby` (in recovery), as observed; None when unreachable.
    pub observed_role: Option<String>,
    /// The node's status.
    pub status: ReplicaStatus,
    /// Why, in words.
    pub detail: String,
    /// Bytes of WAL not yet replayed (primary's `pg_wal_lsn_diff`), replicas only.
    pub lag_bytes: Option<i64>,
    /// Seconds behind by the heartbeat row, replicas only.
    pub lag_seconds: Option<f64>,
    /// The primary's view of this replica's sender (`streaming`, `catchup`, …).
    pub sender_state: Option<String>,
    /// The primary's `sync_state` for this replica (`async`, `sync`, …).
    pub sync_state: Option<String>,
    /// The primary's `write_lag`, `flush_lag` and `replay_lag` for this replica, seconds.
    pub sender_lag_seconds: [Option<f64>; 3],
    /// The replica's `pg_last_wal_replay_lsn()`.
    pub replay_lsn: Option<String>,
    /// The replica's WAL receiver status (`streaming`, `stopping`, …); None when it has none.
    pub receiver_status: Option<String>,
    /// When the replica last heard from its upstream (unix milliseconds).
    pub last_message_ms: Option<i64>,
    /// True while WAL replay is paused.
    pub replay_paused: Option<bool>,
    /// When this node was last read (unix milliseconds), if ever.
    pub checked_at_ms: Option<i64>,
    /// Lag history, oldest first (replicas only).
    pub history: Vec<LagPoint>,
}

/// A physical replication slot on the primary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// Slot name.
    pub name: String,
    /// True while a receiver uses it.
    pub active: bool,
    /// Bytes of WAL the slot keeps on the primary's disk.
    pub retained_bytes: Option<i64>,
}

/// One database cluster: its primary and replicas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbCluster {
    /// Cluster name from the config.
    pub name: String,
    /// Worst of its nodes.
    pub status: ReplicaStatus,
    /// Why, in words.
    pub detail: String,
    /// The configured primary first, then the replicas in config order.
    pub nodes: Vec<DbNode>,
    /// Replication slots on the configured primary.
    pub slots: Vec<Slot>,
    /// Why lag seconds cannot be measured, when the heartbeat cannot be written.
    pub heartbeat_error: Option<String>,
}

/// Lag thresholds from the config, shown on the page so statuses can be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LagThresholds {
    /// Seconds behind that make a replica `warn`.
    pub warn_seconds: f64,
    /// Seconds behind that make a replica `critical`.
    pub critical_seconds: f64,
    /// Bytes behind that make a replica `warn`.
    pub warn_bytes: i64,
    /// Bytes behind that make a replica `critical`.
    pub critical_bytes: i64,
}

/// Everything the replication page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// Clusters in config order.
    pub clusters: Vec<DbCluster>,
    /// The thresholds statuses are judged by.
    pub thresholds: LagThresholds,
    /// Seconds between rounds (and between heartbeats).
    pub interval_seconds: u64,
    /// When this snapshot was evaluated (unix milliseconds).
    pub evaluated_at_ms: i64,
}
