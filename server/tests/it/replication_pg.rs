//! The replication engine against real PostgreSQL: a primary and a streaming standby built with
//! initdb and pg_basebackup in a temp dir, driven through every status: ok, warn and critical by
//! a real apply delay, replay_paused, disconnected when the primary stops, role_flip when the
//! standby is promoted, and split_brain when the old primary comes back writable.

use crate::common::{self, eventually_ok, Check, Tier};
use app::model::{DbCluster, ReplicaStatus};
use crowsnest::config;
use crowsnest::lab::pgcluster::Cluster;
use crowsnest::replication::engine::{self, ReplicationBoard};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn estate(primary_port: u16, standby_port: u16) -> config::Estate {
    let dsn = |port: u16| format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let b = common::estate("test-1", "sin", Path::new("data"))
        .set("replication", "interval_seconds", 1i64)
        .set("replication", "timeout_ms", 800i64)
        .set("replication", "lag_warn_seconds", 2.0)
        .set("replication", "lag_critical_seconds", 6.0)
        .regions(&["sjc", "sin"])
        .host("db1", "sjc", Tier::Db, "127.9.0.1".parse().unwrap(), Check::Tcp(primary_port))
        .host("db-sin", "sin", Tier::Db, "127.9.0.2".parse().unwrap(), Check::Tcp(standby_port))
        .database("main", ("db1", &dsn(primary_port)), &[("db-sin", &dsn(standby_port))]);
    common::load(&b)
}

/// Runs SQL statements one by one (ALTER SYSTEM refuses a transaction block) as the superuser.
async fn sql(port: u16, statements: &str) {
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await.expect("connect");
    for statement in statements.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sqlx::raw_sql(statement).execute(&mut conn).await.unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
}

struct Watch {
    estate: Arc<config::Estate>,
    board: ReplicationBoard,
}

impl Watch {
    fn cluster(&self) -> DbCluster {
        let specs = engine::specs(&self.estate);
        crowsnest::replication::view::replication(&self.board, &self.estate, &specs, crowsnest::clock::now_ms()).clusters.remove(0)
    }

    /// Waits until the primary and the replica show these statuses; fails with the last view.
    async fn until(&self, what: &str, primary: ReplicaStatus, replica: ReplicaStatus) -> DbCluster {
        eventually_ok(Duration::from_secs(40), || async {
            let c = self.cluster();
            if c.nodes[0].status == primary && c.nodes[1].status == replica {
                return Ok(c);
            }
            Err(format!(
                "{what}: wanted primary {primary:?} and replica {replica:?}; got primary {:?} ({}) and replica {:?} ({})",
                c.nodes[0].status, c.nodes[0].detail, c.nodes[1].status, c.nodes[1].detail
            ))
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_replication_status_against_a_real_primary_and_standby() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = tokio::task::spawn_blocking({
        let root = dir.path().to_path_buf();
        move || Cluster::build(&root, &["db-sin"], "", None)
    })
    .await
    .unwrap()
    .expect("initdb, pg_basebackup and two servers start");
    let (primary, standby) = (cluster.primary.clone(), cluster.standbys[0].clone());
    let estate = Arc::new(estate(primary.port, standby.port));
    let board = ReplicationBoard::default();
    let clock = crowsnest::engines::Engine::new("replication", Duration::from_secs(60), 0);
    let rounds = tokio::spawn(engine::run_rounds(estate.clone(), board.clone(), None, clock.clone()));
    let watch = Watch { estate, board };

    // Caught up: both statuses ok, seconds from the heartbeat, bytes from the primary.
    let c = watch.until("streaming", ReplicaStatus::Ok, ReplicaStatus::Ok).await;
    let replica = &c.nodes[1];
    assert_eq!(replica.receiver_status.as_deref(), Some("streaming"));
    assert_eq!(replica.sender_state.as_deref(), Some("streaming"));
    assert!(replica.lag_bytes.is_some(), "bytes from pg_wal_lsn_diff: {replica:?}");
    assert_eq!(c.slots.len(), 1, "pg_basebackup -C made one slot: {:?}", c.slots);
    assert!(c.slots[0].active);

    // An idle primary: seconds stay near zero, they do not grow with idleness. Checked after
    // each of four rounds (counted by the engine's clock, not guessed with a sleep).
    let first = clock.snapshot().rounds;
    let mut seen = first;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen < first + 4 {
        assert!(std::time::Instant::now() < deadline, "four replication rounds did not finish in 30 s");
        let now = clock.snapshot().rounds;
        if now > seen {
            seen = now;
            let idle = watch.cluster();
            let seconds = idle.nodes[1].lag_seconds.expect("heartbeat read on the standby");
            assert!(seconds < 0.5, "idle primary, round {}: lag {seconds} s should stay near zero, {}", now - first, idle.nodes[1].detail);
            assert_eq!(idle.nodes[1].status, ReplicaStatus::Ok);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A real apply delay on the standby: heartbeats arrive late, so seconds cross warn, then critical.
    sql(standby.port, "ALTER SYSTEM SET recovery_min_apply_delay = '4s'; SELECT pg_reload_conf();").await;
    let c = watch.until("apply delay 4 s", ReplicaStatus::Ok, ReplicaStatus::Warn).await;
    assert!(c.nodes[1].lag_seconds.unwrap() >= 2.0);
    sql(standby.port, "ALTER SYSTEM SET recovery_min_apply_delay = '8s'; SELECT pg_reload_conf();").await;
    watch.until("apply delay 8 s", ReplicaStatus::Ok, ReplicaStatus::Critical).await;
    sql(standby.port, "ALTER SYSTEM RESET recovery_min_apply_delay; SELECT pg_reload_conf();").await;
    watch.until("delay removed", ReplicaStatus::Ok, ReplicaStatus::Ok).await;

    // Paused replay under writes: replay_paused, with bytes behind.
    sql(standby.port, "SELECT pg_wal_replay_pause();").await;
    sql(primary.port, "CREATE TABLE filler AS SELECT g AS n, repeat('x', 200) AS pad FROM generate_series(1, 20000) g;").await;
    let c = watch.until("replay paused", ReplicaStatus::Ok, ReplicaStatus::ReplayPaused).await;
    assert_eq!(c.nodes[1].replay_paused, Some(true));
    assert!(c.nodes[1].lag_bytes.unwrap_or(0) > 0, "bytes behind while paused: {:?}", c.nodes[1]);
    sql(standby.port, "SELECT pg_wal_replay_resume();").await;
    watch.until("replay resumed", ReplicaStatus::Ok, ReplicaStatus::Ok).await;

    // The primary stops: it is unknown (with the error), the standby's receiver stops streaming.
    tokio::task::spawn_blocking({
        let primary = primary.clone();
        move || primary.stop()
    })
    .await
    .unwrap()
    .expect("primary stops");
    let c = watch.until("primary stopped", ReplicaStatus::Unknown, ReplicaStatus::Disconnected).await;
    assert!(c.nodes[0].detail.contains("cannot read the node"), "{}", c.nodes[0].detail);

    // The standby is promoted: a role flip.
    tokio::task::spawn_blocking({
        let standby = standby.clone();
        move || standby.promote()
    })
    .await
    .unwrap()
    .expect("standby promotes");
    let c = watch.until("standby promoted", ReplicaStatus::Unknown, ReplicaStatus::RoleFlip).await;
    assert_eq!(c.nodes[1].observed_role.as_deref(), Some("primary"));

    // The old primary comes back writable: two writable nodes.
    tokio::task::spawn_blocking({
        let primary = primary.clone();
        move || primary.start()
    })
    .await
    .unwrap()
    .expect("old primary starts");
    let c = watch.until("old primary back", ReplicaStatus::SplitBrain, ReplicaStatus::SplitBrain).await;
    assert_eq!(c.status, ReplicaStatus::SplitBrain);

    rounds.abort();
    // Teardown stops both servers, whatever happened above (Drop also does this on a panic).
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
