//! Every replication status, and each edge of the thresholds.

use super::*;
use crate::replication::observe::{Sender, SlotFacts};

const NOW: i64 = 1_800_000_000_000;
const STALE: i64 = 10_000;

fn thresholds() -> LagThresholds {
    LagThresholds { warn_seconds: 5.0, critical_seconds: 30.0, warn_bytes: 1_000, critical_bytes: 100_000 }
}

fn spec() -> ClusterSpec {
    let node =
        |host: &str, role| NodeSpec { host: host.into(), region: "r".into(), region_display: "R".into(), role, sender_name: host.into() };
    ClusterSpec { name: "main".into(), nodes: vec![node("db1", Role::Primary), node("db2", Role::Replica)] }
}

fn failed(doing: &'static str, words: &str) -> ObserveError {
    ObserveError::Query { doing, error: words.into() }
}

fn at(facts: Result<NodeFacts, ObserveError>) -> Option<NodeObservation> {
    Some(NodeObservation { at_ms: NOW - 100, facts })
}

fn primary(senders: &[(&str, &str, Option<i64>)]) -> Option<NodeObservation> {
    at(Ok(NodeFacts::Writable(WritableFacts {
        senders: senders
            .iter()
            .map(|(name, state, lag)| Sender {
                application_name: name.to_string(),
                client_addr: "127.0.0.1".into(),
                state: state.to_string(),
                sync_state: "async".into(),
                lag_bytes: *lag,
                lag_intervals: [Some(0.001), Some(0.002), Some(0.003)],
            })
            .collect(),
        slots: vec![SlotFacts { name: "db2".into(), active: true, retained_bytes: Some(42) }],
    })))
}

fn standby(receiver: Option<&str>, paused: bool, age: Result<f64, ObserveError>) -> Option<NodeObservation> {
    at(Ok(NodeFacts::Standby(StandbyFacts {
        receiver_status: receiver.map(String::from),
        last_message_ms: Some(NOW - 500),
        replay_paused: paused,
        replay_lsn: Some("0/3000060".into()),
        heartbeat_age_seconds: age,
    })))
}

fn streaming(age: f64) -> Option<NodeObservation> {
    standby(Some("streaming"), false, Ok(age))
}

fn eval(p: Option<NodeObservation>, r: Option<NodeObservation>) -> DbCluster {
    evaluate(&spec(), &ClusterRound { nodes: vec![p, r], heartbeat: Some(Ok(())) }, &thresholds(), STALE, 0.0, NOW)
}

#[test]
fn every_status_of_a_replica() {
    let ok_primary = || primary(&[("db2", "streaming", Some(0))]);
    let cases: Vec<(&str, Option<NodeObservation>, Option<NodeObservation>, ReplicaStatus, ReplicaStatus, &str)> = vec![
        ("caught up", ok_primary(), streaming(0.4), ReplicaStatus::Ok, ReplicaStatus::Ok, "streaming"),
        ("seconds just under warn", ok_primary(), streaming(4.99), ReplicaStatus::Ok, ReplicaStatus::Ok, "streaming"),
        ("seconds at warn", ok_primary(), streaming(5.0), ReplicaStatus::Ok, ReplicaStatus::Warn, "5.0 s"),
        ("seconds at critical", ok_primary(), streaming(30.0), ReplicaStatus::Ok, ReplicaStatus::Critical, "30 s"),
        (
            "bytes just under warn",
            primary(&[("db2", "streaming", Some(999))]),
            streaming(0.1),
            ReplicaStatus::Ok,
            ReplicaStatus::Ok,
            "999 B",
        ),
        ("bytes at warn", primary(&[("db2", "streaming", Some(1_000))]), streaming(0.1), ReplicaStatus::Ok, ReplicaStatus::Warn, "1000 B"),
        (
            "bytes at critical",
            primary(&[("db2", "streaming", Some(100_000))]),
            streaming(0.1),
            ReplicaStatus::Ok,
            ReplicaStatus::Critical,
            "97.7 KiB",
        ),
        (
            "replay paused",
            ok_primary(),
            standby(Some("streaming"), true, Ok(40.0)),
            ReplicaStatus::Ok,
            ReplicaStatus::ReplayPaused,
            "paused",
        ),
        (
            "receiver not running",
            ok_primary(),
            standby(None, false, Ok(3.0)),
            ReplicaStatus::Ok,
            ReplicaStatus::Disconnected,
            "no WAL receiver",
        ),
        (
            "receiver waiting",
            ok_primary(),
            standby(Some("waiting"), false, Ok(3.0)),
            ReplicaStatus::Ok,
            ReplicaStatus::Disconnected,
            "waiting",
        ),
        ("not among senders", primary(&[]), streaming(0.2), ReplicaStatus::Ok, ReplicaStatus::Disconnected, "no sender named"),
        (
            "primary unreachable, replica cut off",
            at(Err(failed("cannot connect", "connection refused"))),
            standby(None, false, Ok(12.0)),
            ReplicaStatus::Unknown,
            ReplicaStatus::Disconnected,
            "no WAL receiver",
        ),
        (
            "replica unreachable",
            ok_primary(),
            at(Err(failed("cannot connect", "timed out"))),
            ReplicaStatus::Ok,
            ReplicaStatus::Unknown,
            "timed out",
        ),
        (
            "streaming, nothing measurable yet",
            primary(&[("db2", "streaming", None)]),
            standby(Some("streaming"), false, Err(ObserveError::NoHeartbeatRow)),
            ReplicaStatus::Ok,
            ReplicaStatus::Unknown,
            "not measurable",
        ),
        ("never read", None, None, ReplicaStatus::Unknown, ReplicaStatus::Unknown, "not read yet"),
        (
            "promoted replica, primary gone",
            at(Err(failed("cannot connect", "refused"))),
            primary(&[]),
            ReplicaStatus::Unknown,
            ReplicaStatus::RoleFlip,
            "promoted",
        ),
        ("split brain", ok_primary(), primary(&[]), ReplicaStatus::SplitBrain, ReplicaStatus::SplitBrain, "two writable"),
        (
            "demoted primary",
            standby(Some("streaming"), false, Ok(0.0)),
            primary(&[]),
            ReplicaStatus::RoleFlip,
            ReplicaStatus::RoleFlip,
            "promoted",
        ),
    ];
    for (name, p, r, want_primary, want_replica, detail) in cases {
        let cluster = eval(p, r);
        assert_eq!(cluster.nodes[0].status, want_primary, "{name}: primary ({})", cluster.nodes[0].detail);
        assert_eq!(cluster.nodes[1].status, want_replica, "{name}: replica ({})", cluster.nodes[1].detail);
        assert!(cluster.nodes[1].detail.contains(detail), "{name}: replica detail {:?} should mention {detail:?}", cluster.nodes[1].detail);
        let worst = if want_primary.rank() > want_replica.rank() { want_primary } else { want_replica };
        assert_eq!(cluster.status, worst, "{name}: cluster is the worst node");
    }
}

#[test]
fn seconds_come_from_the_heartbeat_and_bytes_from_the_primary() {
    let cluster = eval(primary(&[("db2", "streaming", Some(2048))]), streaming(1.5));
    let replica = &cluster.nodes[1];
    assert_eq!(replica.lag_seconds, Some(1.5));
    assert_eq!(replica.lag_bytes, Some(2048));
    assert_eq!(replica.sender_state.as_deref(), Some("streaming"));
    assert_eq!(replica.receiver_status.as_deref(), Some("streaming"));
    assert_eq!(replica.observed_role.as_deref(), Some("standby"));
    assert_eq!(replica.sender_lag_seconds, [Some(0.001), Some(0.002), Some(0.003)]);
    assert_eq!(replica.replay_lsn.as_deref(), Some("0/3000060"));
    assert_eq!(cluster.slots, vec![Slot { name: "db2".into(), active: true, retained_bytes: Some(42) }]);
}

#[test]
fn a_missing_heartbeat_leaves_seconds_unknown_but_bytes_judge() {
    let cluster =
        eval(primary(&[("db2", "streaming", Some(200_000))]), standby(Some("streaming"), false, Err(ObserveError::NoHeartbeatRow)));
    assert_eq!(cluster.nodes[1].lag_seconds, None);
    assert_eq!(cluster.nodes[1].status, ReplicaStatus::Critical);
    let quiet = eval(primary(&[("db2", "streaming", Some(0))]), standby(Some("streaming"), false, Err(ObserveError::NoHeartbeatRow)));
    assert_eq!(quiet.nodes[1].status, ReplicaStatus::Ok);
    assert!(quiet.nodes[1].detail.contains("seconds unknown"), "{}", quiet.nodes[1].detail);
}

#[test]
fn stale_readings_are_unknown_never_ok() {
    let mut old = streaming(0.1);
    old.as_mut().unwrap().at_ms = NOW - STALE - 1;
    let cluster = eval(primary(&[("db2", "streaming", Some(0))]), old);
    assert_eq!(cluster.nodes[1].status, ReplicaStatus::Unknown);
    assert!(cluster.nodes[1].detail.contains("no fresh reading"), "{}", cluster.nodes[1].detail);
}

#[test]
fn a_failed_heartbeat_write_is_reported() {
    let round = ClusterRound {
        nodes: vec![primary(&[("db2", "streaming", Some(0))]), streaming(0.1)],
        heartbeat: Some(Err(failed("writing the heartbeat row", "permission denied for table crowsnest_heartbeat"))),
    };
    let cluster = evaluate(&spec(), &round, &thresholds(), STALE, 0.0, NOW);
    assert_eq!(cluster.heartbeat_error.as_deref(), Some("writing the heartbeat row: permission denied for table crowsnest_heartbeat"));
}

#[test]
fn lag_is_the_heartbeat_age_less_one_interval() {
    let round = |age| ClusterRound { nodes: vec![primary(&[("db2", "streaming", Some(0))]), streaming(age)], heartbeat: None };
    // Idle and caught up: the newest heartbeat is up to one interval old, which is no lag.
    let idle = evaluate(&spec(), &round(4.9), &thresholds(), STALE, 5.0, NOW);
    assert_eq!(idle.nodes[1].lag_seconds, Some(0.0));
    assert_eq!(idle.nodes[1].status, ReplicaStatus::Ok, "a 5 s interval must not make idle replicas warn at 5 s");
    // Missing the heartbeat written 6 s ago.
    let behind = evaluate(&spec(), &round(11.0), &thresholds(), STALE, 5.0, NOW);
    assert_eq!(behind.nodes[1].lag_seconds, Some(6.0));
    assert_eq!(behind.nodes[1].status, ReplicaStatus::Warn);
}
