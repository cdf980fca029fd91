//! Control state behind one interface on SQLite (embedded default) or PostgreSQL (production).
//!
//! sqlx's `Any` driver runs the same SQL on both; `$N` placeholders work in SQLite too. Each
//! backend has its own migrations because DDL differs (autoincrement, trigger syntax).

use super::{redact, StoreError};
use app::model::SiteState;
use sha2::{Digest, Sha256};
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
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When it happened (unix milliseconds).
    pub at_ms: i64,
    /// Who did it.
    pub actor: String,
    /// What was done, e.g. `maintenance_on`.
    pub action: String,
    /// What it was done to, e.g. the site `web`.
    pub target: String,
    /// Why, in the actor's words.
    pub reason: String,
}

/// A stored audit entry with its place in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log.
    pub id: i64,
    /// The entry as appended.
    pub entry: NewAuditEntry,
    /// Hash of the previous entry (all zeros for the first).
    pub prev_hash: String,
    /// SHA-256 over the previous hash and this entry's fields.
    pub hash: String,
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

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn chain_hash(prev: &str, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so no two different entries hash the same bytes.
    for field in [prev, &e.at_ms.to_string(), &e.actor, &e.action, &e.target, &e.reason] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    format!("{:x}", h.finalize())
}

fn query_error(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query {
        store: STORE,
        doing,
        source,
    }
}

impl ControlStore {
    /// Connects to `url` (`sqlite://…?mode=rwc` or `postgres://…`) and runs its migrations.
    pub async fn open(url: &str) -> Result<ControlStore, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == "sqlite" { 1 } else { 8 })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|source| StoreError::Open {
                store: STORE,
                url: redact(url),
                source,
            })?;
        let migrated = if backend == "postgres" {
            sqlx::migrate!("migrations/control/postgres").run(&pool).await
        } else {
            sqlx::migrate!("migrations/control/sqlite").run(&pool).await
        };
        migrated.map_err(|source| StoreError::Migrate { store: STORE, source })?;
        Ok(ControlStore {
            pool,
            backend,
            append: Default::default(),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// Makes the users table equal the configured users (config is the source of truth).
    pub async fn sync_users(
        &self,
        users: &[(String, String, String)],
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(query_error("syncing users"))?;
        sqlx::query("DELETE FROM users")
            .execute(&mut *tx)
            .await
            .map_err(query_error("syncing users"))?;
        for (name, role, hash) in users {
            sqlx::query("INSERT INTO users (name, role, password_hash, updated_at_ms) VALUES ($1, $2, $3, $4)")
                .bind(name)
                .bind(role)
                .bind(hash)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(query_error("syncing users"))?;
        }
        tx.commit().await.map_err(query_error("syncing users"))
    }

    /// Role and password hash of a user.
    pub async fn user(&self, name: &str) -> Result<Option<(String, String)>, StoreError> {
        let row = sqlx::query("SELECT role, password_hash FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a user"))?;
        Ok(row.map(|r| (r.get::<String, _>(0), r.get::<String, _>(1))))
    }

    /// Adds sites that are configured but not stored yet; never touches existing state.
    pub async fn ensure_sites(&self, names: &[String]) -> Result<(), StoreError> {
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

    /// Sets a site's maintenance flag and appends the audit entry in the same transaction.
    pub async fn set_maintenance(
        &self,
        site: &str,
        on: bool,
        entry: NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        let _guard = self.append.lock().await;
        let mut tx = self.pool.begin().await.map_err(query_error("setting maintenance"))?;
        sqlx::query("UPDATE sites SET maintenance = $1, changed_by = $2, changed_at_ms = $3 WHERE name = $4")
            .bind(on as i64)
            .bind(&entry.actor)
            .bind(entry.at_ms)
            .bind(site)
            .execute(&mut *tx)
            .await
            .map_err(query_error("setting maintenance"))?;
        let stored = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(query_error("setting maintenance"))?;
        Ok(stored)
    }

    /// Appends one entry to the hash-chained audit log.
    pub async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let _guard = self.append.lock().await;
        let mut tx = self.pool.begin().await.map_err(query_error("appending to the audit log"))?;
        let stored = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(query_error("appending to the audit log"))?;
        Ok(stored)
    }

    async fn append_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        entry: NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        const DOING: &str = "appending to the audit log";
        if self.backend == "postgres" {
            // Other instances writing the same primary must not fork the chain.
            sqlx::query("SELECT pg_advisory_xact_lock(7305101)")
                .execute(&mut **tx)
                .await
                .map_err(query_error(DOING))?;
        }
        let prev: Option<String> = sqlx::query("SELECT hash FROM audit_entries ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut **tx)
            .await
            .map_err(query_error(DOING))?
            .map(|r| r.get(0));
        let prev_hash = prev.unwrap_or_else(|| GENESIS.to_string());
        let hash = chain_hash(&prev_hash, &entry);
        let id: i64 = sqlx::query(
            "INSERT INTO audit_entries (at_ms, actor, action, target, reason, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(entry.at_ms)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.reason)
        .bind(&prev_hash)
        .bind(&hash)
        .fetch_one(&mut **tx)
        .await
        .map_err(query_error(DOING))?
        .get(0);
        Ok(AuditEntry {
            id,
            entry,
            prev_hash,
            hash,
        })
    }

    /// The newest `limit` audit entries, newest first.
    pub async fn audit_entries(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, target, reason, prev_hash, hash \
             FROM audit_entries ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading the audit log"))?;
        Ok(rows.iter().map(audit_from_row).collect())
    }

    /// Recomputes the whole chain; the first entry that does not match is reported.
    pub async fn verify_audit_chain(&self) -> Result<usize, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at_ms, actor, action, target, reason, prev_hash, hash \
             FROM audit_entries ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("verifying the audit log"))?;
        let mut prev = GENESIS.to_string();
        for row in &rows {
            let e = audit_from_row(row);
            if e.prev_hash != prev || chain_hash(&prev, &e.entry) != e.hash {
                return Err(StoreError::Tampered { id: e.id });
            }
            prev = e.hash;
        }
        Ok(rows.len())
    }

    /// Replaces the declared records with `records`.
    pub async fn replace_desired_records(&self, records: &[DesiredRecord]) -> Result<(), StoreError> {
        const DOING: &str = "replacing declared records";
        let mut tx = self.pool.begin().await.map_err(query_error(DOING))?;
        sqlx::query("DELETE FROM desired_records")
            .execute(&mut *tx)
            .await
            .map_err(query_error(DOING))?;
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
        Ok(rows
            .iter()
            .map(|r| DesiredRecord {
                name: r.get(0),
                kind: r.get(1),
                ttl: r.get(2),
                value: r.get(3),
            })
            .collect())
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
        id: r.get(0),
        entry: NewAuditEntry {
            at_ms: r.get(1),
            actor: r.get(2),
            action: r.get(3),
            target: r.get(4),
            reason: r.get(5),
        },
        prev_hash: r.get(6),
        hash: r.get(7),
    }
}
