//! Control state behind one interface on SQLite (embedded default) or PostgreSQL (production).
//!
//! sqlx's `Any` driver runs the same SQL on both; `$N` placeholders work in SQLite too. Each
//! backend has its own migrations because DDL differs (autoincrement, trigger syntax).

use super::{redact, StoreError};
use crate::audit::{chain_hash, AuditEntry, AuditKey, NewAuditEntry, GENESIS};
use app::action::{ActionKind, ActionRequestView, ActionState, AuditFilter};
use app::auth::Role;
use app::model::SiteState;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

const STORE: &str = "control";

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

/// One declared record value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DesiredRecord {
    /// Owner name, fully qualified.
    pub name: String,
    /// Record type mnemonic.
    pub kind: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Value in presentation format.
    pub value: String,
}

/// 1 on a node that accepts writes, 0 on a standby in recovery.
const WRITABLE_SQL: &str = "SELECT CASE WHEN pg_is_in_recovery() THEN 0 ELSE 1 END";

fn query_error(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
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

    /// Makes the config's users (not managed ones) equal `users` (name, role, hash); a changed
    /// hash or role ends that user's sessions.
    pub async fn sync_users(&self, users: &[(String, String, String)], now_ms: i64) -> Result<(), StoreError> {
        const DOING: &str = "syncing users from the config";
        let mut tx = self.begin(DOING).await?;
        let stored = sqlx::query("SELECT name FROM users WHERE managed = 0").fetch_all(&mut *tx).await.map_err(query_error(DOING))?;
        for row in &stored {
            let name: String = row.get(0);
            if !users.iter().any(|(n, _, _)| *n == name) {
                sqlx::query("DELETE FROM users WHERE name = $1 AND managed = 0")
                    .bind(&name)
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error(DOING))?;
            }
        }
        for (name, role, hash) in users {
            sqlx::query(
                "INSERT INTO users (name, role, password_hash, updated_at_ms, managed) VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, \
                 updated_at_ms = excluded.updated_at_ms, sessions_valid_after_ms = excluded.updated_at_ms \
                 WHERE users.managed = 0 AND (users.role <> excluded.role OR users.password_hash <> excluded.password_hash)",
            )
            .bind(name)
            .bind(role)
            .bind(hash)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, role, password_hash, disabled, managed, sessions_valid_after_ms FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading users"))?;
        Ok(rows
            .iter()
            .map(|r| UserRecord {
                name: r.get(0),
                role: Role::parse(&r.get::<String, _>(1)).unwrap_or(Role::Viewer),
                password_hash: r.get(2),
                disabled: r.get::<i64, _>(3) != 0,
                managed: r.get::<i64, _>(4) != 0,
                sessions_valid_after_ms: r.get(5),
            })
            .collect())
    }

    /// One user.
    pub async fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.users().await?.into_iter().find(|u| u.name == name))
    }

    /// Adds a managed user and audits it; false when the name is taken.
    pub async fn add_user(&self, name: &str, role: Role, hash: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        const DOING: &str = "adding a user";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let added = sqlx::query(
            "INSERT INTO users (name, role, password_hash, updated_at_ms, managed) VALUES ($1, $2, $3, $4, 1) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(hash)
        .bind(audit.at_ms)
        .execute(&mut *tx)
        .await
        .map_err(query_error(DOING))?
        .rows_affected()
            == 1;
        let last = if added { Some(self.append_in(&mut tx, audit).await?) } else { None };
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        Ok(added)
    }

    /// Changes a user's password or disabled flag, ends their sessions, and audits it; false
    /// when there is no such user.
    pub async fn change_user(&self, name: &str, change: UserChange, audit: NewAuditEntry) -> Result<bool, StoreError> {
        const DOING: &str = "changing a user";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let query = match &change {
            UserChange::Password(hash) => {
                sqlx::query("UPDATE users SET password_hash = $1, updated_at_ms = $2, sessions_valid_after_ms = $2 WHERE name = $3")
                    .bind(hash.clone())
            }
            UserChange::Disabled(disabled) => {
                sqlx::query("UPDATE users SET disabled = $1, updated_at_ms = $2, sessions_valid_after_ms = $2 WHERE name = $3")
                    .bind(*disabled as i64)
            }
        };
        let changed = query.bind(audit.at_ms).bind(name).execute(&mut *tx).await.map_err(query_error(DOING))?.rows_affected() == 1;
        let last = if changed { Some(self.append_in(&mut tx, audit).await?) } else { None };
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        Ok(changed)
    }

    /// Adds sites that are configured but not stored yet; never touches existing state.
    pub async fn ensure_sites(&self, names: &[String]) -> Result<(), StoreError> {
        self.may_write("adding the config's sites")?;
        for name in names {
            sqlx::query("INSERT INTO sites (name, maintenance) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .execute(&self.pool)
                .await
                .map_err(query_error("adding configured sites"))?;
        }
        Ok(())
    }

    /// Every site's maintenance state, by name.
    pub async fn sites(&self) -> Result<Vec<SiteState>, StoreError> {
        let rows = sqlx::query("SELECT name, maintenance, changed_by, changed_at_ms FROM sites ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading sites"))?;
        Ok(rows
            .iter()
            .map(|r: &AnyRow| SiteState {
                name: r.get(0),
                maintenance: r.get::<i64, _>(1) != 0,
                changed_by: r.get(2),
                changed_at_ms: r.get(3),
            })
            .collect())
    }

    /// Every site's maintenance state with its message and expected end.
    pub async fn site_records(&self) -> Result<Vec<SiteRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, maintenance, message, expected_end_ms, changed_by, changed_at_ms FROM sites ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading sites"))?;
        Ok(rows
            .iter()
            .map(|r| SiteRecord {
                name: r.get(0),
                maintenance: r.get::<i64, _>(1) != 0,
                message: r.get(2),
                expected_end_ms: r.get(3),
                changed_by: r.get(4),
                changed_at_ms: r.get(5),
            })
            .collect())
    }

    /// Records a new action request with its audit entries, and, when it runs at once, the
    /// site change, all in one transaction. A request whose idempotency key is already stored
    /// changes nothing: the stored request comes back with `false`.
    pub async fn create_request(
        &self,
        request: &NewActionRequest,
        change: Option<&SiteChange>,
        audit: Vec<NewAuditEntry>,
    ) -> Result<(ActionRequestView, bool), StoreError> {
        const DOING: &str = "recording an action request";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let inserted = sqlx::query(
            "INSERT INTO action_requests (idempotency_key, kind, site, message, expected_end_ms, reason, \
             requested_by, requested_at_ms, expires_at_ms, state, approved_by, decided_at_ms, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(&request.idempotency_key)
        .bind(request.kind.as_str())
        .bind(&request.site)
        .bind(&request.message)
        .bind(request.expected_end_ms)
        .bind(&request.reason)
        .bind(&request.requested_by)
        .bind(request.requested_at_ms)
        .bind(request.expires_at_ms)
        .bind(request.state.as_str())
        .bind(request.state.is_final().then_some(request.requested_at_ms))
        .bind(&request.detail)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error(DOING))?;
        let Some(row) = inserted else {
            drop(tx);
            let existing = self.request_by_key(&request.idempotency_key).await?;
            return existing.map(|r| (r, false)).ok_or(StoreError::Query { store: STORE, doing: DOING, source: sqlx::Error::RowNotFound });
        };
        let id: i64 = row.get(0);
        if let Some(change) = change {
            apply_site_change(&mut tx, change).await?;
        }
        let mut last = None;
        for mut entry in audit {
            entry.detail = entry.detail.replace("{id}", &id.to_string());
            last = Some(self.append_in(&mut tx, entry).await?);
        }
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        let stored = self.request(id).await?.ok_or(StoreError::Query { store: STORE, doing: DOING, source: sqlx::Error::RowNotFound })?;
        Ok((stored, true))
    }

    /// Moves request `id` from one of `from` to `to` with its audit entries and site change, in
    /// one transaction; false (and nothing written) when the request is not in `from` any more,
    /// so two people acting at once cannot both succeed.
    pub async fn transition(
        &self,
        id: i64,
        from: &[ActionState],
        to: Transition<'_>,
        change: Option<&SiteChange>,
        audit: Vec<NewAuditEntry>,
    ) -> Result<bool, StoreError> {
        const DOING: &str = "changing an action request";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let states: Vec<String> = from.iter().map(|s| format!("'{}'", s.as_str())).collect();
        let moved = sqlx::query(&format!(
            "UPDATE action_requests SET state = $1, approved_by = COALESCE($2, approved_by), decided_at_ms = $3, \
             detail = $4 WHERE id = $5 AND state IN ({})",
            states.join(", ")
        ))
        .bind(to.state.as_str())
        .bind(to.approved_by)
        .bind(to.at_ms)
        .bind(to.detail)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(query_error(DOING))?
        .rows_affected()
            == 1;
        if !moved {
            return Ok(false);
        }
        if let Some(change) = change {
            apply_site_change(&mut tx, change).await?;
        }
        let mut last = None;
        for entry in audit {
            last = Some(self.append_in(&mut tx, entry).await?);
        }
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        Ok(true)
    }

    /// Replays a break-glass change taken on `instance`, exactly once by its key: in one
    /// transaction the key is recorded (`ON CONFLICT DO NOTHING`), and only when it is new is
    /// the change applied with its audit entry. A change the site already moved past (changed
    /// later here) is recorded as superseded and not applied.
    pub async fn replay(&self, e: &super::BreakGlass, instance: &str, now_ms: i64) -> Result<Replay, StoreError> {
        const DOING: &str = "replaying a break-glass change";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let site_changed: Option<(Option<i64>, Option<String>)> =
            sqlx::query("SELECT changed_at_ms, changed_by FROM sites WHERE name = $1")
                .bind(&e.site)
                .fetch_optional(&mut *tx)
                .await
                .map_err(query_error(DOING))?
                .map(|r| (r.get(0), r.get(1)));
        // The journal is another instance's word: a clock ahead of this one must not make a
        // change look newer than one made here since, so its time is at most now.
        let at_ms = e.at_ms.min(now_ms);
        // The later change wins: one made on the primary after the break-glass change stands.
        let superseded_by = match site_changed {
            Some((Some(t), by)) if t > at_ms => Some(format!("{} at {}", by.unwrap_or_else(|| "someone".into()), app::format::utc(t))),
            _ => None,
        };
        // Whoever the journal names must be someone here who may operate sites, now.
        let actor = standing(&mut tx, &e.actor).await.map_err(query_error(DOING))?;
        let approver = match &e.approved_by {
            Some(name) => Some(standing(&mut tx, name).await.map_err(query_error(DOING))?),
            None => None,
        };
        let refused = replay_refusal(&e.actor, actor, e.approved_by.as_deref().zip(approver));
        let outcome = match (&refused, &superseded_by) {
            (Some(_), _) => Replay::Refused,
            (None, Some(_)) => Replay::Superseded,
            (None, None) => Replay::Applied,
        };
        let fresh = sqlx::query(
            "INSERT INTO replayed_actions (idempotency_key, instance, outcome, replayed_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key",
        )
        .bind(&e.key)
        .bind(instance)
        .bind(outcome.as_str())
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error(DOING))?;
        if fresh.is_none() {
            return Ok(Replay::AlreadyReplayed);
        }
        let kind = if e.maintenance { "maintenance_on" } else { "maintenance_off" };
        if outcome == Replay::Applied {
            let change = SiteChange {
                site: e.site.clone(),
                maintenance: e.maintenance,
                message: e.message.clone(),
                expected_end_ms: e.expected_end_ms,
                changed_by: e.actor.clone(),
                at_ms,
            };
            apply_site_change(&mut tx, &change).await?;
        }
        let agreed = e.approved_by.as_ref().map(|a| format!(", agreed by {a}")).unwrap_or_default();
        let why = match (refused, superseded_by) {
            (Some(why), _) => format!("; refused: {why}, so it was not applied"),
            (None, Some(by)) => format!("; superseded by a later change on the primary ({by}), so it was not applied"),
            (None, None) => String::new(),
        };
        let entry = NewAuditEntry {
            at_ms,
            actor: e.actor.clone(),
            action: format!("{kind}.{}", outcome.as_str()),
            target: e.site.clone(),
            reason: e.reason.clone(),
            detail: format!(
                "break-glass on {instance} at {}{agreed}, replayed at {}{why}",
                app::format::utc(e.at_ms),
                app::format::utc(now_ms),
            ),
        };
        let last = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(Some(last)).await;
        Ok(outcome)
    }

    /// How many times the break-glass change `key` was replayed here: 0 or 1, by the key.
    pub async fn replayed_count(&self, key: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) FROM replayed_actions WHERE idempotency_key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("counting replays"))?;
        Ok(row.get::<i64, _>(0))
    }

    /// One request.
    pub async fn request(&self, id: i64) -> Result<Option<ActionRequestView>, StoreError> {
        let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM action_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading an action request"))?;
        Ok(row.as_ref().map(request_from_row))
    }

    async fn request_by_key(&self, key: &str) -> Result<Option<ActionRequestView>, StoreError> {
        let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM action_requests WHERE idempotency_key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading an action request"))?;
        Ok(row.as_ref().map(request_from_row))
    }

    /// The newest `limit` requests, pending ones first.
    pub async fn requests(&self, limit: i64) -> Result<Vec<ActionRequestView>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS} FROM action_requests \
             ORDER BY CASE WHEN state = 'pending' THEN 0 ELSE 1 END, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading action requests"))?;
        Ok(rows.iter().map(request_from_row).collect())
    }

    /// Appends one entry to the hash-chained audit log.
    pub async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let _guard = self.append.lock().await;
        let mut tx = self.begin("appending to the audit log").await?;
        let stored = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(query_error("appending to the audit log"))?;
        self.keep_head(Some(stored.clone())).await;
        Ok(stored)
    }

    async fn append_in(&self, tx: &mut sqlx::Transaction<'_, sqlx::Any>, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        const DOING: &str = "appending to the audit log";
        if self.backend == "postgres" {
            // Other instances writing the same primary must not fork the chain.
            sqlx::query("SELECT pg_advisory_xact_lock(7305101)").execute(&mut **tx).await.map_err(query_error(DOING))?;
        }
        let key = self.key.as_ref().ok_or(StoreError::NoAuditKey)?;
        let last = sqlx::query("SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await
            .map_err(query_error(DOING))?
            .map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1)));
        // The head recorded outside the log must still be in it, unchanged: never extend (and
        // so bless) a cut or rewritten tail.
        if let Some(local) = &self.head_keeper {
            if let Some((seq, hash)) = local.audit_head().await? {
                let head = crate::audit::Head { seq, hash, by: crate::audit::THIS_INSTANCE.into() };
                let at_head: Option<String> = match &last {
                    Some((id, h)) if *id == seq => Some(h.clone()),
                    Some((id, _)) if *id > seq => sqlx::query("SELECT hash FROM audit_entries WHERE id = $1")
                        .bind(seq)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(query_error(DOING))?
                        .map(|r| r.get::<String, _>(0)),
                    _ => None,
                };
                crate::audit::may_extend(last.as_ref().map(|(s, h)| (*s, h.as_str())), Some(&head), at_head.as_deref()).map_err(|b| {
                    tracing::error!(broken = %b, "the audit log does not hold this instance's recorded head; refusing to append");
                    StoreError::Tampered(b)
                })?;
            }
        }
        let (seq, prev_hash) = last.map_or((1, GENESIS.to_string()), |(id, hash)| (id + 1, hash));
        let hash = chain_hash(key, &prev_hash, seq, &entry);
        // The seq is set here, under the lock, rather than by a sequence: a PostgreSQL sequence
        // skips numbers on rollback, and the chain must have no gaps.
        sqlx::query(
            "INSERT INTO audit_entries (id, at_ms, actor, action, target, reason, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(seq)
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.reason)
        .bind(&entry.detail)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .map_err(query_error(DOING))?;
        Ok(AuditEntry { seq, entry, prev_hash, hash })
    }

    /// Audit entries matching `filter`, newest first, at most `limit`; with the log's size.
    pub async fn audit_page(&self, filter: &AuditFilter, limit: i64) -> Result<(Vec<AuditEntry>, i64), StoreError> {
        const DOING: &str = "reading the audit log";
        let mut clauses = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut numbers: Vec<i64> = Vec::new();
        // Placeholders are numbered in bind order: texts first, then numbers.
        for (column, value, op) in [("actor", &filter.actor, "="), ("target", &filter.target, "="), ("action", &filter.action, "LIKE")] {
            if let Some(v) = value {
                if op == "LIKE" {
                    // A prefix match: the text's own `%`, `_` and `\` match only themselves.
                    let escaped = v.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    texts.push(format!("{escaped}%"));
                    clauses.push(format!("{column} LIKE ${} ESCAPE '\\'", texts.len()));
                } else {
                    texts.push(v.clone());
                    clauses.push(format!("{column} {op} ${}", texts.len()));
                }
            }
        }
        for (column, value, op) in [("at_ms", filter.since_ms, ">="), ("at_ms", filter.until_ms, "<"), ("id", filter.before_seq, "<")] {
            if let Some(v) = value {
                numbers.push(v);
                clauses.push(format!("{column} {op} ${}", texts.len() + numbers.len()));
            }
        }
        let filter_sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql = format!(
            "SELECT id, at_ms, actor, action, target, reason, detail, prev_hash, hash FROM audit_entries \
             {filter_sql} ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        let mut query = sqlx::query(&sql);
        for t in &texts {
            query = query.bind(t.clone());
        }
        for n in &numbers {
            query = query.bind(*n);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(query_error(DOING))?;
        let total: i64 = sqlx::query("SELECT COUNT(*) FROM audit_entries").fetch_one(&self.pool).await.map_err(query_error(DOING))?.get(0);
        Ok((rows.iter().map(audit_from_row).collect(), total))
    }

    /// The newest `limit` audit entries, newest first.
    pub async fn audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, target, reason, detail, prev_hash, hash \
             FROM audit_entries ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading the audit log"))?;
        Ok(rows.iter().map(audit_from_row).collect())
    }

    /// The whole audit log in `seq` order, for verifying and exporting.
    pub async fn audit_chain(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, target, reason, detail, prev_hash, hash \
             FROM audit_entries ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading the audit log"))?;
        Ok(rows.iter().map(audit_from_row).collect())
    }

    /// Replaces the declared records with `records`.
    pub async fn replace_desired_records(&self, records: &[DesiredRecord]) -> Result<(), StoreError> {
        const DOING: &str = "replacing declared records";
        let mut tx = self.begin(DOING).await?;
        sqlx::query("DELETE FROM desired_records").execute(&mut *tx).await.map_err(query_error(DOING))?;
        for r in records {
            sqlx::query("INSERT INTO desired_records (name, kind, ttl, value) VALUES ($1, $2, $3, $4)")
                .bind(&r.name)
                .bind(&r.kind)
                .bind(r.ttl)
                .bind(&r.value)
                .execute(&mut *tx)
                .await
                .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// All declared records, sorted.
    pub async fn desired_records(&self) -> Result<Vec<DesiredRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, kind, ttl, value FROM desired_records ORDER BY name, kind, value")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading declared records"))?;
        Ok(rows.iter().map(|r| DesiredRecord { name: r.get(0), kind: r.get(1), ttl: r.get(2), value: r.get(3) }).collect())
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

fn audit_from_row(r: &AnyRow) -> AuditEntry {
    AuditEntry {
        seq: r.get(0),
        entry: NewAuditEntry { at_ms: r.get(1), actor: r.get(2), action: r.get(3), target: r.get(4), reason: r.get(5), detail: r.get(6) },
        prev_hash: r.get(7),
        hash: r.get(8),
    }
}

const REQUEST_COLUMNS: &str = "id, kind, site, message, expected_end_ms, reason, requested_by, requested_at_ms, \
     expires_at_ms, state, approved_by, decided_at_ms, detail";

fn request_from_row(r: &AnyRow) -> ActionRequestView {
    ActionRequestView {
        id: r.get(0),
        kind: ActionKind::parse(&r.get::<String, _>(1)).unwrap_or(ActionKind::MaintenanceOn),
        site: r.get(2),
        message: r.get(3),
        expected_end_ms: r.get(4),
        reason: r.get(5),
        requested_by: r.get(6),
        requested_at_ms: r.get(7),
        expires_at_ms: r.get(8),
        state: ActionState::parse(&r.get::<String, _>(9)).unwrap_or(ActionState::Failed),
        approved_by: r.get(10),
        decided_at_ms: r.get(11),
        detail: r.get(12),
    }
}

async fn apply_site_change(tx: &mut sqlx::Transaction<'_, sqlx::Any>, c: &SiteChange) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sites SET maintenance = $1, message = $2, expected_end_ms = $3, changed_by = $4, changed_at_ms = $5 \
         WHERE name = $6",
    )
    .bind(c.maintenance as i64)
    .bind(&c.message)
    .bind(c.expected_end_ms)
    .bind(&c.changed_by)
    .bind(c.at_ms)
    .bind(&c.site)
    .execute(&mut **tx)
    .await
    .map_err(query_error("changing a site's maintenance state"))?;
    Ok(())
}

/// A stored user.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// argon2id PHC string.
    pub password_hash: String,
    /// True when the user may not log in.
    pub disabled: bool,
    /// True for users added with `crowsnest user add` (false: from the config).
    pub managed: bool,
    /// Sessions that logged in before this (unix milliseconds) are over.
    pub sessions_valid_after_ms: i64,
}

/// Explicitly not `Debug` with the hash: a secret must not reach a log by accident.
impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .field("managed", &self.managed)
            .finish_non_exhaustive()
    }
}

/// A change to a user.
#[derive(Debug, Clone)]
pub enum UserChange {
    /// A new argon2id hash.
    Password(String),
    /// Disable (true) or enable (false).
    Disabled(bool),
}

/// A site's stored maintenance state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRecord {
    /// Site key.
    pub name: String,
    /// True while maintenance is on.
    pub maintenance: bool,
    /// The page's message.
    pub message: Option<String>,
    /// Expected end (unix milliseconds).
    pub expected_end_ms: Option<i64>,
    /// Who changed it last.
    pub changed_by: Option<String>,
    /// When (unix milliseconds).
    pub changed_at_ms: Option<i64>,
}

/// A change of a site's maintenance state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteChange {
    /// Site key.
    pub site: String,
    /// On or off.
    pub maintenance: bool,
    /// The page's message (None when off).
    pub message: Option<String>,
    /// Expected end (unix milliseconds).
    pub expected_end_ms: Option<i64>,
    /// Who.
    pub changed_by: String,
    /// When (unix milliseconds).
    pub at_ms: i64,
}

/// A new action request.
#[derive(Debug, Clone)]
pub struct NewActionRequest {
    /// The form's or client's key: the same key never executes twice.
    pub idempotency_key: String,
    /// What it does.
    pub kind: ActionKind,
    /// The site.
    pub site: String,
    /// The maintenance message.
    pub message: Option<String>,
    /// Expected end (unix milliseconds).
    pub expected_end_ms: Option<i64>,
    /// Why.
    pub reason: String,
    /// Who asks.
    pub requested_by: String,
    /// When (unix milliseconds).
    pub requested_at_ms: i64,
    /// When a pending request expires (unix milliseconds).
    pub expires_at_ms: i64,
    /// Pending (awaits approval) or executed (ran at once).
    pub state: ActionState,
    /// What happened.
    pub detail: String,
}

/// Where a request moves to.
#[derive(Debug, Clone, Copy)]
pub struct Transition<'a> {
    /// The new state.
    pub state: ActionState,
    /// The approver, when approving.
    pub approved_by: Option<&'a str>,
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// What happened, in words.
    pub detail: &'a str,
}

/// What came of replaying one break-glass change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Applied, with an audit entry saying where and when it really happened.
    Applied,
    /// Not applied: the site changed here after it (recorded and audited).
    Superseded,
    /// Its key was replayed before: nothing done.
    AlreadyReplayed,
    /// Not applied: the journal names someone who may not operate sites here (recorded and
    /// audited).
    Refused,
}

/// A user's role and disabled flag, inside a transaction.
async fn standing(tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str) -> Result<Option<(Role, bool)>, sqlx::Error> {
    let row = sqlx::query("SELECT role, disabled FROM users WHERE name = $1").bind(name).fetch_optional(&mut **tx).await?;
    Ok(row.map(|r| (Role::parse(&r.get::<String, _>(0)).unwrap_or(Role::Viewer), r.get::<i64, _>(1) != 0)))
}

/// Why a journaled change may not be applied, judged by the people it names as the primary
/// knows them now (role, disabled): None when the actor, and the approver if any, may
/// operate sites and are different people.
pub(super) fn replay_refusal(
    actor: &str,
    actor_standing: Option<(Role, bool)>,
    approver: Option<(&str, Option<(Role, bool)>)>,
) -> Option<String> {
    let judge = |name: &str, standing: Option<(Role, bool)>| match standing {
        None => Some(format!("{name} is not a user here")),
        Some((_, true)) => Some(format!("{name} is disabled")),
        Some((role, false)) => {
            app::auth::refusal(role, app::auth::Permission::OperateSites).map(|_| format!("{name} may not operate sites"))
        }
    };
    judge(actor, actor_standing).or_else(|| match approver {
        Some((name, _)) if name == actor => Some(format!("{name} cannot agree to their own change")),
        Some((name, standing)) => judge(name, standing),
        None => None,
    })
}

impl Replay {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Replay::Applied => "replayed",
            Replay::Superseded => "superseded",
            Replay::AlreadyReplayed => "already_replayed",
            Replay::Refused => "refused",
        }
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
