//! The local store keeps health observations as a time series and prunes by age.

use crowsnest::health::evaluate::{Answer, Observation, ProbeError};
use crowsnest::store::{HealthRow, LocalStore};

fn obs(at_ms: i64, outcome: Result<Answer, ProbeError>) -> HealthRow {
    Observation { at_ms, latency_ms: outcome.is_ok().then_some(1.5), outcome, certificate: None }.row()
}

#[tokio::test]
async fn observations_round_trip_and_are_pruned_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    store
        .record_health(&[("lb1".into(), obs(1_000, Ok(Answer::Http(200)))), ("lb2".into(), obs(1_000, Err(ProbeError::Refused)))])
        .await
        .unwrap();
    store.record_health(&[("lb1".into(), obs(2_000, Err(ProbeError::Timeout(2000))))]).await.unwrap();

    let lb1 = store.health_history("lb1", 0).await.unwrap();
    assert_eq!(lb1.len(), 2);
    assert!(lb1[0].ok && !lb1[1].ok, "oldest first: {lb1:?}");
    assert_eq!(lb1[0].latency_ms, Some(1.5));
    assert_eq!(lb1[1].detail, "timed out after 2000 ms");
    assert_eq!(store.health_history("lb2", 0).await.unwrap()[0].detail, "connection refused");
    assert_eq!(store.health_history("lb1", 1_500).await.unwrap().len(), 1, "since filters by time");

    assert_eq!(store.prune(1_500).await.unwrap(), 2);
    assert_eq!(store.health_history("lb1", 0).await.unwrap().len(), 1);
    assert!(store.health_history("lb2", 0).await.unwrap().is_empty());
    store.close().await;

    // Reopening keeps what was stored.
    let again = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    assert_eq!(again.health_history("lb1", 0).await.unwrap().len(), 1);
    again.close().await;
}

#[tokio::test]
async fn an_unwritable_path_is_a_clear_error() {
    let err = match LocalStore::open(std::path::Path::new("/proc/crowsnest/local.db")).await {
        Ok(_) => panic!("opened a store under /proc"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("cannot open the local store"), "{err}");
}

/// The alert outbox: a notice is kept once per key, delivered ones are forgotten after the
/// retention, undelivered ones never.
#[tokio::test]
async fn the_outbox_keeps_each_key_once_and_prunes_only_what_was_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    assert!(store.outbox_add("k1", "ops", "{}", 1_000).await.unwrap());
    assert!(!store.outbox_add("k1", "ops", "{\"other\":1}", 1_500).await.unwrap(), "a key is kept once");
    assert!(store.outbox_add("k2", "ops", "{}", 1_000).await.unwrap());
    store.outbox_delivered("k1", 2_000).await.unwrap();
    store.outbox_failed("k2", "503", 9_000).await.unwrap();
    assert!(store.outbox_add("k3", "ops", "{}", 1_200).await.unwrap());
    store.outbox_failed("k3", "400", i64::MAX).await.unwrap();
    let pending = store.outbox_pending(10).await.unwrap();
    // k2 waits out its backoff (the delivery loop holds its receiver back); k3 was given up.
    assert_eq!(pending.iter().map(|r| (r.key.as_str(), r.next_ms)).collect::<Vec<_>>(), vec![("k2", 9_000)]);
    assert_eq!(store.outbox_prune(1_999).await.unwrap(), 0);
    assert_eq!(store.outbox_prune(10_000).await.unwrap(), 1, "only the delivered one");
    let left = store.outbox_recent(10).await.unwrap();
    assert_eq!(left.iter().map(|r| (r.key.as_str(), r.attempts)).collect::<Vec<_>>(), vec![("k3", 1), ("k2", 1)]);
    store.close().await;
}

/// A receiver down for long keeps at most PENDING_PER_RECEIVER undelivered notices: the oldest
/// are given up as superseded, another receiver's are untouched.
#[tokio::test]
async fn a_receiver_keeps_a_bounded_number_of_undelivered_notices() {
    use crowsnest::store::PENDING_PER_RECEIVER;
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    assert!(store.outbox_add("other", "mail", "{}", 0).await.unwrap());
    for i in 0..PENDING_PER_RECEIVER + 5 {
        assert!(store.outbox_add(&format!("k{i:05}"), "ops", "{}", 1_000 + i).await.unwrap());
    }
    let pending = store.outbox_pending(10 * PENDING_PER_RECEIVER).await.unwrap();
    let ops: Vec<&str> = pending.iter().filter(|r| r.receiver == "ops").map(|r| r.key.as_str()).collect();
    assert_eq!(ops.len() as i64, PENDING_PER_RECEIVER);
    assert_eq!(ops.first().copied(), Some("k00005"), "the five oldest went");
    assert!(pending.iter().any(|r| r.key == "other"), "another receiver keeps its notice");
    let recent = store.outbox_recent(2 * PENDING_PER_RECEIVER).await.unwrap();
    let given_up = recent.iter().find(|r| r.key == "k00000").unwrap();
    assert_eq!(given_up.next_ms, i64::MAX);
    assert!(given_up.last_error.as_deref().unwrap_or_default().starts_with("superseded"), "{given_up:?}");
    store.close().await;
}

/// What a sender told is kept across a restart, replaced as a whole.
#[tokio::test]
async fn what_was_told_is_kept_across_a_reopen() {
    use app::model::AlertSeen;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let store = LocalStore::open(&path).await.unwrap();
    assert_eq!(store.told_kept().await.unwrap(), vec![], "nothing told yet");
    let seen = |host: &str| AlertSeen { name: "HostDown".into(), labels: vec![("host".into(), host.into())] };
    store.told_keep(&[seen("lb1"), seen("lb2")], 1_000).await.unwrap();
    store.told_keep(&[seen("lb2")], 2_000).await.unwrap();
    store.close().await;
    let store = LocalStore::open(&path).await.unwrap();
    assert_eq!(store.told_kept().await.unwrap(), vec![seen("lb2")]);
    store.close().await;
}

#[tokio::test]
async fn the_uptime_history_adds_up_keeps_the_worst_and_stays_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(&dir.path().join("local.db")).await.unwrap();
    // Two intervals on one day: the time adds up and the worse status stays.
    store.add_component_time(10, &[("Website".into(), 10, 5_000, 0, "major_outage", 5)]).await.unwrap();
    store.add_component_time(10, &[("Website".into(), 10, 5_000, 5_000, "operational", 0)]).await.unwrap();
    let days = store.component_days().await.unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!((days[0].measured_ms, days[0].up_ms, days[0].worst.as_str()), (10_000, 5_000, "major_outage"));
    // A day that began unknown (rank -1, nothing measured) is the day as measured after.
    store.add_component_time(10, &[("API".into(), 10, 0, 0, "unknown", -1)]).await.unwrap();
    store.add_component_time(10, &[("API".into(), 10, 5_000, 5_000, "operational", 0)]).await.unwrap();
    let api = store.component_days().await.unwrap().into_iter().find(|d| d.component == "API").unwrap();
    assert_eq!((api.measured_ms, api.worst.as_str()), (5_000, "operational"));
    // A year of days: only the last DAYS_KEPT stay.
    for day in 11..=400 {
        store.add_component_time(day, &[("Website".into(), day, 1_000, 1_000, "operational", 0)]).await.unwrap();
    }
    let days: Vec<_> = store.component_days().await.unwrap().into_iter().filter(|d| d.component == "Website").collect();
    assert_eq!(days.len() as i64, crowsnest::store::DAYS_KEPT);
    assert_eq!((days.first().unwrap().day, days.last().unwrap().day), (400 - crowsnest::store::DAYS_KEPT + 1, 400));
}
