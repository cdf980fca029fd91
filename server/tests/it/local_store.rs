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
