//! Control state behind one interface on SQLite (embedded default) or PostgreSQL (production).
//!
//! sqlx's `Any` driver runs the same SQL on both; `$N` placeholders work in SQLite too. Each
//! backend has its own migrations because DDL differs (autoincrement, trigger syntax).
//!
//! One file per concept: the store itself here (opening, migrating, the write guard, the audit
//! key and head), then [`users`], [`sites`], [`requests`], [`audit`], [`records`],
//! [`silences`] and [`incidents`].

mod audit;
pub(super) mod incidents;
mod records;
mod requests;
mod silences;
mod sites;
mod users;

pub use incidents::UpdateReplay;
pub(super) use incidents::{update_from_row, UPDATE_COLUMNS};
pub use records::DesiredRecord;
pub use requests::{NewActionRequest, Replay, Transition};
pub use silences::AckRecord;
pub use sites::{SiteChange, SiteRecord};
pub use users::{UserChange, UserRecord};

use super::{redact, StoreError};
use crate::audit::{chain_hash, ActionStep, AuditAction, AuditEntry, AuditKey, NewAuditEntry, GENESIS};
use app::action::{ActionKind, ActionRequest, ActionState, AuditFilter, MaintenanceState};
use app::auth::Role;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

pub(super) const STORE: &str = "control";

/// Users, maintenance state, the audit log and declared records.
#[derive(Clone)]
pub struct ControlStore {
    pool: AnyPool,
    backend: &'static str,
    /// Serialises audit appends within this process; PostgreSQL also takes an advisory lock.
    append: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Where the audit head is also kept after each append (this instance's local store).
    head_keeper: Option<super::LocalStore>,
    /// The audit chain's key; without it nothing is appended.
    key: Option<AuditKey>,
    /// Set while this instance may not write (a secondary, or split brain): the one writer
    /// refuses before any transaction begins. None for other nodes and the CLI.
    writes_refused: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Moves after every append that this handle (or a clone) made: the audit log's own change
    /// signal, which live pages follow.
    audit_changes: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
}

/// 1 on a node that accepts writes, 0 on a standby in recovery.
pub(super) const WRITABLE_SQL: &str = "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END";

pub(super) fn query_error(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { store: STORE, doing, source }
}

impl ControlStore {
    /// Connects to `url` (`sqlite://…?mode=rwc` or `postgres://…`) and, when the store is
    /// writable, runs its migrations. A PostgreSQL standby is opened read-only, unmigrated: only
    /// a primary changes control state.
    pub async fn open(url: &str) -> Result<ControlStore, StoreError> {
        let store = Self::connect(url).await?;
        if store.writable().await.unwrap_or(false) {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Asks the node at `url` once, on a connection of its own, whether it accepts writes: a pool
    /// would retry a refused connection until its timeout, and the mode must see a dead node at
    /// once.
    pub async fn ask_writable(url: &str) -> Result<bool, StoreError> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn =
            sqlx::AnyConnection::connect(url).await.map_err(|source| StoreError::Open { store: STORE, url: redact(url), source })?;
        let row = sqlx::query(WRITABLE_SQL).fetch_one(&mut conn).await.map_err(query_error("asking whether a control node is writable"))?;
        let _ = conn.close().await;
        Ok(row.get::<i32, _>(0) == 1)
    }

    /// A pool that connects on first use: for watching other control nodes, which may be down.
    pub fn connect_lazy(url: &str) -> Result<ControlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(std::time::Duration::from_secs(2))
            .connect_lazy(url)
            .map_err(|source| StoreError::Open { store: STORE, url: redact(url), source })?;
        Ok(ControlStore {
            pool,
            backend: "postgres",
            append: Default::default(),
            head_keeper: None,
            key: None,
            writes_refused: None,
            audit_changes: Default::default(),
        })
    }

    /// Connects without touching the schema.
    pub async fn connect(url: &str) -> Result<ControlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == "sqlite" { 1 } else { 8 })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|source| StoreError::Open { store: STORE, url: redact(url), source })?;
        Ok(ControlStore {
            pool,
            backend,
            append: Default::default(),
            head_keeper: None,
            key: None,
            writes_refused: None,
            audit_changes: Default::default(),
        })
    }

    /// Runs the migrations that are not applied yet; none when all are. A console connected
    /// as a least-privilege role (deploy/postgres/least-privilege.sql) cannot create tables, so
    /// it only reads what is applied; `crowsnest migrate` runs them as the schema's owner.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = if self.backend == "postgres" {
            sqlx::migrate!("migrations/control/postgres")
        } else {
            sqlx::migrate!("migrations/control/sqlite")
        };
        let applied: Vec<i64> = match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&self.pool).await {
            Ok(rows) => rows.iter().map(|r| r.get::<i64, _>(0)).collect(),
            Err(_) => Vec::new(),
        };
        if migrator.iter().all(|m| applied.contains(&m.version)) {
            return Ok(());
        }
        migrator.run(&self.pool).await.map_err(|source| StoreError::Migrate { store: STORE, source })
    }

    /// Whether this store accepts writes: SQLite always; PostgreSQL when not in recovery (a
    /// standby is not; a promoted one is).
    pub async fn writable(&self) -> Result<bool, StoreError> {
        if self.backend == "sqlite" {
            return Ok(true);
        }
        let row =
            sqlx::query(WRITABLE_SQL).fetch_one(&self.pool).await.map_err(query_error("asking whether the control store is writable"))?;
        Ok(row.get::<i32, _>(0) == 1)
    }

    /// How far this replica is behind, or `None` on a primary (or SQLite).
    pub async fn replica_lag(&self) -> Result<Option<ReplicaLag>, StoreError> {
        if self.backend == "sqlite" {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END, \
             COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::bigint, \
             EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("reading the replica's lag"))?;
        if row.get::<i32, _>(0) == 0 {
            return Ok(None);
        }
        Ok(Some(ReplicaLag { unreplayed_bytes: row.get::<i64, _>(1), last_replay_seconds_ago: row.get::<Option<f64>, _>(2) }))
    }

    /// Refuses every write while `refused` is set (the mode's flag, see `ModeWatch::write_guard`):
    /// even a background chore, which no HTTP layer stands in front of, cannot write control
    /// state from a secondary or a primary in split brain.
    pub fn guarded_by(mut self, refused: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.writes_refused = Some(refused);
        self
    }

    /// A write transaction, unless this instance may not write now.
    async fn begin(&self, doing: &'static str) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        self.may_write(doing)?;
        self.pool.begin().await.map_err(query_error(doing))
    }

    fn may_write(&self, doing: &'static str) -> Result<(), StoreError> {
        match &self.writes_refused {
            Some(flag) if flag.load(std::sync::atomic::Ordering::SeqCst) => Err(StoreError::ReadOnly { store: STORE, doing }),
            _ => Ok(()),
        }
    }

    /// Appends audit entries keyed with `key`.
    pub fn keyed(mut self, key: AuditKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The audit key this store appends with, if it has one.
    pub fn audit_key(&self) -> Option<&AuditKey> {
        self.key.as_ref()
    }

    /// Keeps the audit head in `local` too after every append, so a cut-off tail shows.
    pub fn keep_head_in(mut self, local: super::LocalStore) -> Self {
        self.head_keeper = Some(local);
        self
    }

    async fn keep_head(&self, last: Option<AuditEntry>) {
        if last.is_some() {
            self.audit_changes.send_modify(|n| *n += 1);
        }
        if let (Some(local), Some(e)) = (&self.head_keeper, last) {
            if let Err(err) = local.set_audit_head(e.seq, &e.hash).await {
                tracing::error!(error = %err, seq = e.seq, "cannot keep the audit head in the local store");
            }
        }
    }

    /// Moves after every audit entry appended through this store (by this process).
    pub fn audit_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.audit_changes.subscribe()
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Runs raw SQL; tests use it to prove the database refuses audit edits.
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, sqlx::Error> {
        sqlx::query(sql).execute(&self.pool).await.map(|r| r.rows_affected())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// How far a control replica is behind its primary.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplicaLag {
    /// WAL received but not yet replayed, in bytes.
    pub unreplayed_bytes: i64,
    /// Seconds since the last replayed transaction committed on the primary (grows while the
    /// primary is idle or gone); `None` before any replay.
    pub last_replay_seconds_ago: Option<f64>,
}
