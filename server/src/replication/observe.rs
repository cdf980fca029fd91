//! Reading one PostgreSQL node with the monitoring role: its role, and either its senders and
//! slots (a writable node) or its WAL receiver, replay state and heartbeat age (a standby).
//!
//! Lag in seconds comes from the heartbeat row Crowsnest writes on the primary every round
//! (`crowsnest_heartbeat`), read back on each standby as `clock_timestamp() - max(beat_at)`.
//! Unlike `now() - pg_last_xact_replay_timestamp()`, it does not grow on an idle primary.

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;
use std::str::FromStr;
use std::time::Duration;

/// The table Crowsnest writes on each primary; documented in docs/architecture.md.
pub const HEARTBEAT_DDL: &str = "CREATE TABLE IF NOT EXISTS crowsnest_heartbeat (\
     written_by text PRIMARY KEY, beat_at timestamptz NOT NULL)";

/// Why a node could not be read. Cloned into each round's readings, so sqlx's error is kept
/// as its words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObserveError {
    /// The configured DSN does not parse.
    #[error("bad dsn: {0}")]
    BadDsn(String),
    /// Connecting or a query failed; `doing` names the step.
    #[error("{doing}: {error}")]
    Query {
        /// What was being done, e.g. `reading pg_stat_replication`.
        doing: &'static str,
        /// The driver's words.
        error: String,
    },
    /// The node did not answer within the round's timeout.
    #[error("no answer within {0} ms")]
    Timeout(u128),
    /// The standby has no heartbeat table yet (none replayed).
    #[error("no heartbeat to read: {0}")]
    NoHeartbeatTable(String),
    /// The table exists but holds no row yet.
    #[error("no heartbeat row replayed yet")]
    NoHeartbeatRow,
}

/// One row of the primary's `pg_stat_replication`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sender {
    /// The standby's `application_name`.
    pub application_name: String,
    /// Where it connects from.
    pub client_addr: String,
    /// `startup`, `catchup`, `streaming`, `backup`, `stopping`.
    pub state: String,
    /// `async`, `potential`, `sync`, `quorum`.
    pub sync_state: String,
    /// `pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)`: bytes not replayed yet.
    pub lag_bytes: Option<i64>,
    /// `write_lag`, `flush_lag`, `replay_lag` in seconds, as the primary measured them.
    pub lag_intervals: [Option<f64>; 3],
}

/// One row of the primary's `pg_replication_slots`.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotFacts {
    /// Slot name.
    pub name: String,
    /// True while a receiver uses it.
    pub active: bool,
    /// WAL bytes kept for it: `pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)`.
    pub retained_bytes: Option<i64>,
}

/// What a standby says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct StandbyFacts {
    /// `pg_stat_wal_receiver.status`; None when no receiver runs.
    pub receiver_status: Option<String>,
    /// `last_msg_receipt_time` in unix milliseconds.
    pub last_message_ms: Option<i64>,
    /// `pg_is_wal_replay_paused()`.
    pub replay_paused: bool,
    /// `pg_last_wal_replay_lsn()`.
    pub replay_lsn: Option<String>,
    /// Seconds since the newest heartbeat it has replayed, or why it cannot tell.
    pub heartbeat_age_seconds: Result<f64, ObserveError>,
}

/// What a writable node says about its standbys.
#[derive(Debug, Clone, PartialEq)]
pub struct WritableFacts {
    /// Its WAL senders.
    pub senders: Vec<Sender>,
    /// Its replication slots.
    pub slots: Vec<SlotFacts>,
}

/// A node's facts: writable (not in recovery) or a standby.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeFacts {
    /// `pg_is_in_recovery()` is false: it accepts writes.
    Writable(WritableFacts),
    /// `pg_is_in_recovery()` is true.
    Standby(StandbyFacts),
}

/// One reading of one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeObservation {
    /// When it finished (unix milliseconds).
    pub at_ms: i64,
    /// The facts, or why the node could not be read (connect, query or timeout error).
    pub facts: Result<NodeFacts, ObserveError>,
}

/// A connection to one node, kept across rounds (one backend, not one per round).
#[derive(Clone)]
pub struct NodeClient {
    pool: PgPool,
    timeout: Duration,
    /// The heartbeat table is known to exist: skip the DDL (one statement a round saved).
    heartbeat_table: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn err(doing: &'static str) -> impl Fn(sqlx::Error) -> ObserveError {
    move |e| ObserveError::Query { doing, error: e.to_string() }
}

impl NodeClient {
    /// A lazily connecting client; nothing is dialled until the first reading.
    pub fn new(dsn: &str, timeout: Duration) -> Result<NodeClient, ObserveError> {
        let options = PgConnectOptions::from_str(dsn).map_err(|e| ObserveError::BadDsn(e.to_string()))?.application_name("crowsnest");
        let pool = PgPoolOptions::new().max_connections(1).min_connections(0).acquire_timeout(timeout).connect_lazy_with(options);
        Ok(NodeClient { pool, timeout, heartbeat_table: Default::default() })
    }

    /// Reads the node, never taking longer than the timeout. `heartbeat_as` writes the
    /// heartbeat row under that name first when the node turns out writable.
    pub async fn observe(&self, heartbeat_as: Option<&str>) -> (NodeObservation, Option<Result<(), ObserveError>>) {
        let outcome = tokio::time::timeout(self.timeout, self.read(heartbeat_as)).await;
        let (facts, heartbeat) = match outcome {
            Ok(Ok((facts, heartbeat))) => (Ok(facts), heartbeat),
            Ok(Err(e)) => (Err(e), None),
            Err(_) => (Err(ObserveError::Timeout(self.timeout.as_millis())), None),
        };
        (NodeObservation { at_ms: crate::clock::now_ms(), facts }, heartbeat)
    }

    async fn read(&self, heartbeat_as: Option<&str>) -> Result<(NodeFacts, Option<Result<(), ObserveError>>), ObserveError> {
        let mut conn = self.pool.acquire().await.map_err(err("cannot connect"))?;
        let in_recovery: bool =
            sqlx::query_scalar("SELECT pg_is_in_recovery()").fetch_one(&mut *conn).await.map_err(err("reading pg_is_in_recovery()"))?;
        if in_recovery {
            return Ok((NodeFacts::Standby(standby(&mut conn).await?), None));
        }
        let heartbeat = match heartbeat_as {
            Some(name) => {
                use std::sync::atomic::Ordering;
                let written = write_heartbeat(&mut conn, name, self.heartbeat_table.load(Ordering::Relaxed)).await;
                // After a failure, try the DDL again next round: the table may have been dropped.
                self.heartbeat_table.store(written.is_ok(), Ordering::Relaxed);
                Some(written)
            }
            None => None,
        };
        Ok((NodeFacts::Writable(writable(&mut conn).await?), heartbeat))
    }

    /// Closes the connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

async fn write_heartbeat(conn: &mut sqlx::PgConnection, name: &str, table_exists: bool) -> Result<(), ObserveError> {
    if !table_exists {
        sqlx::query(HEARTBEAT_DDL).execute(&mut *conn).await.map_err(err("creating crowsnest_heartbeat"))?;
    }
    sqlx::query(
        "INSERT INTO crowsnest_heartbeat (written_by, beat_at) VALUES ($1, clock_timestamp()) \
         ON CONFLICT (written_by) DO UPDATE SET beat_at = EXCLUDED.beat_at",
    )
    .bind(name)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    .map_err(err("writing the heartbeat row"))
}

async fn writable(conn: &mut sqlx::PgConnection) -> Result<WritableFacts, ObserveError> {
    let senders = sqlx::query(
        "SELECT application_name, coalesce(client_addr::text, 'local'), coalesce(state, ''), \
                coalesce(sync_state, ''), pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::int8, \
                EXTRACT(EPOCH FROM write_lag)::float8, EXTRACT(EPOCH FROM flush_lag)::float8, \
                EXTRACT(EPOCH FROM replay_lag)::float8 \
         FROM pg_stat_replication ORDER BY application_name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err("reading pg_stat_replication"))?
    .iter()
    .map(|r| Sender {
        application_name: r.get(0),
        client_addr: r.get(1),
        state: r.get(2),
        sync_state: r.get(3),
        lag_bytes: r.get(4),
        lag_intervals: [r.get(5), r.get(6), r.get(7)],
    })
    .collect();
    let slots = sqlx::query(
        "SELECT slot_name::text, active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::int8 \
         FROM pg_replication_slots ORDER BY slot_name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(err("reading pg_replication_slots"))?
    .iter()
    .map(|r| SlotFacts { name: r.get(0), active: r.get(1), retained_bytes: r.get(2) })
    .collect();
    Ok(WritableFacts { senders, slots })
}

async fn standby(conn: &mut sqlx::PgConnection) -> Result<StandbyFacts, ObserveError> {
    let receiver = sqlx::query("SELECT status, (EXTRACT(EPOCH FROM last_msg_receipt_time) * 1000)::int8 FROM pg_stat_wal_receiver")
        .fetch_optional(&mut *conn)
        .await
        .map_err(err("reading pg_stat_wal_receiver"))?;
    let (receiver_status, last_message_ms) = match receiver {
        Some(r) => (r.get::<Option<String>, _>(0), r.get::<Option<i64>, _>(1)),
        None => (None, None),
    };
    let replay = sqlx::query("SELECT pg_is_wal_replay_paused(), pg_last_wal_replay_lsn()::text")
        .fetch_one(&mut *conn)
        .await
        .map_err(err("reading pg_is_wal_replay_paused()"))?;
    let (replay_paused, replay_lsn): (bool, Option<String>) = (replay.get(0), replay.get(1));
    // A missing table (no heartbeat replayed yet) is an answer about lag, not a failed node.
    let heartbeat_age_seconds = sqlx::query_scalar::<_, Option<f64>>(
        "SELECT EXTRACT(EPOCH FROM (clock_timestamp() - max(beat_at)))::float8 FROM crowsnest_heartbeat",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| ObserveError::NoHeartbeatTable(e.to_string()))
    .and_then(|age| age.ok_or(ObserveError::NoHeartbeatRow))
    .map(|age| age.max(0.0));
    Ok(StandbyFacts { receiver_status, last_message_ms, replay_paused, replay_lsn, heartbeat_age_seconds })
}
