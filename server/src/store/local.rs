//! Local state of this instance: observations as a time series with retention, and sessions.
//! Always a writable SQLite file, even when control state is a read-only replica.

use super::StoreError;
use crate::audit::{ActionStep, AuditAction, NewAuditEntry};
use app::action::MaintenanceState;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::str::FromStr;

const STORE: &str = "local";

/// The per-instance SQLite store.
#[derive(Clone)]
pub struct LocalStore {
    pool: SqlitePool,
    /// The audit key this instance's own chain is kept with.
    key: Option<crate::audit::AuditKey>,
}

/// One stored DNS change of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRow {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// The raw status word.
    pub status: String,
    /// Why, in words.
    pub detail: String,
    /// Each resolver's answer: `resolver: value, value`.
    pub answers: Vec<String>,
}

/// One stored observation of any kind, as the timeline reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    /// `health`, `dns`, `replication` or `alert`.
    pub kind: String,
    /// The host, record key (`www.example.test A`), `cluster/host` or `Alert label=value`.
    pub subject: String,
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// Whether the check passed.
    pub ok: bool,
    /// Health: the answer in words; DNS and replication: JSON with `status` and `detail`.
    pub detail: String,
}

/// One stored health observation.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthRow {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// True when the check got a passing answer.
    pub ok: bool,
    /// Round-trip time, if answered.
    pub latency_ms: Option<f64>,
    /// The answer or error, in words.
    pub detail: String,
}

/// One good loader report, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BacklogRow {
    /// When it was taken (unix milliseconds).
    pub at_ms: i64,
    /// Items queued.
    pub depth: f64,
    /// Age of the oldest queued item, seconds.
    pub oldest_age_seconds: f64,
    /// Counter: items accepted since the loader started.
    pub enqueued_total: f64,
    /// Counter: items written into the master since the loader started.
    pub loaded_total: f64,
}

fn query_error(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { store: STORE, doing, source }
}

impl LocalStore {
    /// Opens (creating if needed) the SQLite file at `path` and migrates it.
    pub async fn open(path: &Path) -> Result<LocalStore, StoreError> {
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(|source| StoreError::Open { store: STORE, url: url.clone(), source })?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // 512 KiB of page cache a connection rather than SQLite's 2 MiB: four connections on a
            // file that grows all day would otherwise fill 8 MiB; the kernel caches the file too.
            .pragma("cache_size", "-512");
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(|source| StoreError::Open {
            store: STORE,
            url,
            source,
        })?;
        sqlx::migrate!("migrations/local").run(&pool).await.map_err(|source| StoreError::Migrate { store: STORE, source })?;
        Ok(LocalStore { pool, key: None })
    }

    /// The pool, shared with the session store (sessions are local: a secondary must log
    /// people in with no primary).
    pub fn pool(&self) -> SqlitePool {
        self.pool.clone()
    }

    /// Keeps this instance's own audit chain (break-glass) with `key`.
    pub fn keyed(mut self, key: crate::audit::AuditKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Records the head a peer reported; it only moves forward, and a peer reporting another
    /// hash at the same seq keeps the first (verify then names the disagreement).
    pub async fn record_peer_head(&self, peer: &str, seq: i64, hash: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO peer_audit_heads (peer, seq, hash, seen_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (peer) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, seen_at_ms = excluded.seen_at_ms \
             WHERE excluded.seq > peer_audit_heads.seq",
        )
        .bind(peer)
        .bind(seq)
        .bind(hash)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(query_error("keeping a peer's audit head"))?;
        Ok(())
    }

    /// Every head recorded outside the chain: this instance's own and each peer's.
    pub async fn audit_heads(&self) -> Result<Vec<crate::audit::Head>, StoreError> {
        let mut heads: Vec<crate::audit::Head> = self
            .audit_head()
            .await?
            .map(|(seq, hash)| crate::audit::Head { seq, hash, by: crate::audit::THIS_INSTANCE.into() })
            .into_iter()
            .collect();
        let rows = sqlx::query("SELECT peer, seq, hash FROM peer_audit_heads ORDER BY peer")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading peers' audit heads"))?;
        heads.extend(rows.iter().map(|r| crate::audit::Head {
            seq: r.get(1),
            hash: r.get(2),
            by: format!("peer {}", r.get::<String, _>(0)),
        }));
        Ok(heads)
    }

    /// The audit head this instance last appended or verified: `(seq, hash)`.
    pub async fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading the audit head"))?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Records the audit head; it only moves forward: an older seq, or the same seq with
    /// another hash (a rewritten tail), leaves the recorded head as it was.
    pub async fn set_audit_head(&self, seq: i64, hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash WHERE excluded.seq > audit_head.seq",
        )
        .bind(seq)
        .bind(hash)
        .execute(&self.pool)
        .await
        .map_err(query_error("keeping the audit head"))?;
        Ok(())
    }

    /// Journals a break-glass change and appends it to this instance's own audit chain, in one
    /// transaction; false (and nothing written) when its key is already journaled.
    pub async fn journal_break_glass(&self, e: &BreakGlass, instance: &str) -> Result<bool, StoreError> {
        let journaled = self
            .with_local_entry("journaling a break-glass change", async |conn: &mut sqlx::SqliteConnection| {
                let done = sqlx::query(
                    "INSERT INTO break_glass (idempotency_key, site, maintenance, message, expected_end_ms, reason, actor, at_ms, \
                     awaiting, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(&e.key)
                .bind(&e.site)
                .bind(e.state.on as i64)
                .bind(&e.state.message)
                .bind(e.state.expected_end_ms)
                .bind(&e.reason)
                .bind(&e.actor)
                .bind(e.at_ms)
                .bind(e.awaiting as i64)
                .bind(e.expires_at_ms)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                let (step, then) = if e.awaiting {
                    (ActionStep::BreakGlassRequested, "waiting for a second on-call")
                } else {
                    (ActionStep::BreakGlass, "pending replay into the control store")
                };
                let action = AuditAction::Maintenance(e.state.kind(), step);
                let entry =
                    NewAuditEntry::new(e.at_ms, &e.actor, action, &e.site, &e.reason, format!("on {instance}, key {}; {then}", e.key));
                Ok(Some(((), entry)))
            })
            .await?;
        Ok(journaled.is_some())
    }

    /// A second on-call agrees to a waiting break-glass change: it is applied from now on and
    /// replayed with both names. None when it is not waiting (already agreed, expired, unknown).
    pub async fn approve_break_glass(
        &self,
        key: &str,
        approver: &str,
        instance: &str,
        now_ms: i64,
    ) -> Result<Option<BreakGlass>, StoreError> {
        self.with_local_entry("approving a break-glass change", async |conn: &mut sqlx::SqliteConnection| {
            let moved = sqlx::query(
                "UPDATE break_glass SET awaiting = 0, approved_by = $1 \
                 WHERE idempotency_key = $2 AND awaiting = 1 AND actor <> $1 AND expires_at_ms > $3 AND replayed_at_ms IS NULL",
            )
            .bind(approver)
            .bind(key)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
            if moved.rows_affected() == 0 {
                return Ok(None);
            }
            let row = sqlx::query(&format!("{GLASS_COLUMNS} WHERE idempotency_key = $1")).bind(key).fetch_one(&mut *conn).await?;
            let e = glass_from_row(&row);
            let action = AuditAction::Maintenance(e.state.kind(), ActionStep::BreakGlassApproved);
            let detail = format!("on {instance}, key {}; broken by {}, agreed by {approver}; pending replay", e.key, e.actor);
            let entry = NewAuditEntry::new(now_ms, approver, action, &e.site, &e.reason, detail);
            Ok(Some((e, entry)))
        })
        .await
    }

    /// Runs `change` and, when it makes something, appends the audit entry it returns to this
    /// instance's own chain, all in one transaction. BEGIN IMMEDIATE: the chain's last entry is
    /// read and extended under SQLite's write lock.
    pub(super) async fn with_local_entry<T>(
        &self,
        doing: &'static str,
        change: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> Result<Option<(T, crate::audit::NewAuditEntry)>, sqlx::Error>,
    ) -> Result<Option<T>, StoreError> {
        let audit_key = self.key.clone().ok_or(StoreError::NoAuditKey)?;
        let mut conn = self.pool.acquire().await.map_err(query_error(doing))?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await.map_err(query_error(doing))?;
        let result = async {
            let Some((made, entry)) = change(&mut conn).await? else { return Ok(None) };
            append_local(&mut conn, &audit_key, entry).await?;
            Ok::<_, sqlx::Error>(Some(made))
        }
        .await;
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        sqlx::query(end).execute(&mut *conn).await.map_err(query_error(doing))?;
        result.map_err(query_error(doing))
    }

    /// One journaled change by its key.
    pub async fn break_glass(&self, key: &str) -> Result<Option<BreakGlass>, StoreError> {
        let row = sqlx::query(&format!("{GLASS_COLUMNS} WHERE idempotency_key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading the break-glass journal"))?;
        Ok(row.as_ref().map(glass_from_row))
    }

    /// Marks waiting changes whose time for a second on-call is over as expired; they never
    /// reach the edge or the primary.
    pub async fn expire_break_glass(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE break_glass SET replayed_at_ms = $1, outcome = 'expired' WHERE awaiting = 1 AND expires_at_ms <= $1 AND replayed_at_ms IS NULL",
        )
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(query_error("expiring break-glass changes"))?;
        Ok(done.rows_affected())
    }

    /// The latest `limit` break-glass changes, newest first, with their replay outcome.
    pub async fn recent_break_glass(&self, limit: i64) -> Result<Vec<app::action::BreakGlassView>, StoreError> {
        let rows = sqlx::query(
            "SELECT idempotency_key, site, maintenance, actor, reason, at_ms, replayed_at_ms, outcome, approved_by, awaiting, expires_at_ms \
             FROM break_glass ORDER BY at_ms DESC, idempotency_key LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading the break-glass journal"))?;
        Ok(rows
            .iter()
            .map(|r| app::action::BreakGlassView {
                key: r.get(0),
                site: r.get(1),
                maintenance: r.get::<i64, _>(2) != 0,
                actor: r.get(3),
                reason: r.get(4),
                at_ms: r.get(5),
                replayed_at_ms: r.get(6),
                outcome: r.get(7),
                approved_by: r.get(8),
                awaiting: r.get::<i64, _>(9) != 0,
                expires_at_ms: r.get(10),
            })
            .collect())
    }

    /// This instance's own audit chain, oldest first.
    pub async fn local_audit_chain(&self) -> Result<Vec<crate::audit::AuditEntry>, StoreError> {
        let rows = sqlx::query("SELECT seq, at_ms, actor, action, target, reason, detail, prev_hash, hash FROM local_audit ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading the local audit chain"))?;
        Ok(rows
            .iter()
            .map(|r| crate::audit::AuditEntry {
                seq: r.get(0),
                entry: crate::audit::NewAuditEntry {
                    at_ms: r.get(1),
                    actor: r.get(2),
                    action: r.get(3),
                    target: r.get(4),
                    reason: r.get(5),
                    detail: r.get(6),
                },
                prev_hash: r.get(7),
                hash: r.get(8),
            })
            .collect())
    }

    /// Break-glass changes in effect on this edge and not replayed yet, oldest first (a change
    /// still waiting for its second on-call is not in effect).
    pub async fn pending_break_glass(&self) -> Result<Vec<BreakGlass>, StoreError> {
        let rows = sqlx::query(&format!("{GLASS_COLUMNS} WHERE replayed_at_ms IS NULL AND awaiting = 0 ORDER BY at_ms, idempotency_key"))
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading the break-glass journal"))?;
        Ok(rows.iter().map(glass_from_row).collect())
    }

    /// Marks a journaled change replayed, with what came of it.
    pub async fn mark_replayed(&self, key: &str, outcome: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE break_glass SET replayed_at_ms = $1, outcome = $2 WHERE idempotency_key = $3")
            .bind(at_ms)
            .bind(outcome)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(query_error("marking a break-glass change replayed"))?;
        Ok(())
    }

    /// Stores one probe round's health observations, (host, row) pairs, in one transaction.
    pub async fn record_health(&self, round: &[(String, HealthRow)]) -> Result<(), StoreError> {
        const DOING: &str = "storing health observations";
        let mut tx = self.pool.begin().await.map_err(query_error(DOING))?;
        for (host, row) in round {
            sqlx::query(
                "INSERT INTO observations (at_ms, kind, subject, ok, latency_ms, detail) \
                 VALUES (?, 'health', ?, ?, ?, ?)",
            )
            .bind(row.at_ms)
            .bind(host)
            .bind(row.ok)
            .bind(row.latency_ms)
            .bind(&row.detail)
            .execute(&mut *tx)
            .await
            .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// Stores DNS changes: (record key, row) pairs, in one transaction.
    pub async fn record_dns(&self, changes: &[(String, DnsRow)]) -> Result<(), StoreError> {
        const DOING: &str = "storing DNS changes";
        if changes.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(query_error(DOING))?;
        for (key, row) in changes {
            let detail = serde_json::json!({ "status": row.status, "detail": row.detail, "answers": row.answers });
            sqlx::query("INSERT INTO observations (at_ms, kind, subject, ok, latency_ms, detail) VALUES (?, 'dns', ?, ?, NULL, ?)")
                .bind(row.at_ms)
                .bind(key)
                .bind(row.status == "ok")
                .bind(detail.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// Stores one replication round: (`cluster/host`, status, lag bytes, lag seconds, detail).
    pub async fn record_replication(
        &self,
        at_ms: i64,
        nodes: &[(String, &str, Option<i64>, Option<f64>, String)],
    ) -> Result<(), StoreError> {
        const DOING: &str = "storing replication observations";
        let mut tx = self.pool.begin().await.map_err(query_error(DOING))?;
        for (subject, status, bytes, seconds, detail) in nodes {
            let detail = serde_json::json!({ "status": status, "lag_bytes": bytes, "lag_seconds": seconds, "detail": detail });
            sqlx::query("INSERT INTO observations (at_ms, kind, subject, ok, latency_ms, detail) VALUES (?, 'replication', ?, ?, NULL, ?)")
                .bind(at_ms)
                .bind(subject)
                .bind(*status == "ok")
                .bind(detail.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// Stores one good loader report: depth, oldest age and both counters.
    pub async fn record_backlog(&self, loader: &str, report: &BacklogRow) -> Result<(), StoreError> {
        let detail = serde_json::json!({
            "depth": report.depth,
            "oldest_age_seconds": report.oldest_age_seconds,
            "enqueued_total": report.enqueued_total,
            "loaded_total": report.loaded_total,
        });
        sqlx::query("INSERT INTO observations (at_ms, kind, subject, ok, latency_ms, detail) VALUES (?, 'backlog', ?, 1, NULL, ?)")
            .bind(report.at_ms)
            .bind(loader)
            .bind(detail.to_string())
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(query_error("storing a loader report"))
    }

    /// The newest `limit` DNS changes of one record, newest first.
    pub async fn dns_history(&self, key: &str, limit: i64) -> Result<Vec<DnsRow>, StoreError> {
        let rows =
            sqlx::query("SELECT at_ms, detail FROM observations WHERE kind = 'dns' AND subject = ? ORDER BY at_ms DESC, id DESC LIMIT ?")
                .bind(key)
                .bind(limit)
                .fetch_all(&self.pool)
                .await
                .map_err(query_error("reading DNS history"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let detail: serde_json::Value = serde_json::from_str(r.get::<&str, _>(1)).unwrap_or_default();
                DnsRow {
                    at_ms: r.get(0),
                    status: detail["status"].as_str().unwrap_or("unknown").to_string(),
                    detail: detail["detail"].as_str().unwrap_or("").to_string(),
                    answers: detail["answers"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
                        .unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Health observations of one host since `since_ms`, oldest first.
    pub async fn health_history(&self, host: &str, since_ms: i64) -> Result<Vec<HealthRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at_ms, ok, latency_ms, detail FROM observations \
             WHERE kind = 'health' AND subject = ? AND at_ms >= ? ORDER BY at_ms",
        )
        .bind(host)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading health history"))?;
        Ok(rows.iter().map(|r| HealthRow { at_ms: r.get(0), ok: r.get(1), latency_ms: r.get(2), detail: r.get(3) }).collect())
    }

    /// Stores alerts that fired or resolved at `at_ms`: (`Name label=value …`, fired, severity).
    pub async fn record_alerts(&self, at_ms: i64, moved: &[(String, bool, String)]) -> Result<(), StoreError> {
        const DOING: &str = "storing alert changes";
        if moved.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(query_error(DOING))?;
        for (subject, fired, severity) in moved {
            let detail = serde_json::json!({ "status": if *fired { "firing" } else { "resolved" }, "severity": severity });
            sqlx::query("INSERT INTO observations (at_ms, kind, subject, ok, latency_ms, detail) VALUES (?, 'alert', ?, ?, NULL, ?)")
                .bind(at_ms)
                .bind(subject)
                .bind(!*fired)
                .bind(detail.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_error(DOING))?;
        }
        tx.commit().await.map_err(query_error(DOING))
    }

    /// Health, DNS, replication and alert observations in `[from_ms, to_ms)` by kind and
    /// subject, oldest first (at most `limit`), for the timeline.
    pub async fn observations_between(&self, from_ms: i64, to_ms: i64, limit: i64) -> Result<Vec<Observed>, StoreError> {
        let rows = sqlx::query(
            "SELECT kind, subject, at_ms, ok, detail FROM observations \
             WHERE at_ms >= ? AND at_ms < ? AND kind IN ('health', 'dns', 'replication', 'alert') ORDER BY kind, subject, at_ms, id LIMIT ?",
        )
        .bind(from_ms)
        .bind(to_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading observations for the timeline"))?;
        Ok(rows.iter().map(|r| Observed { kind: r.get(0), subject: r.get(1), at_ms: r.get(2), ok: r.get(3), detail: r.get(4) }).collect())
    }

    /// Deletes observations older than `before_ms`; returns how many.
    pub async fn prune(&self, before_ms: i64) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM observations WHERE at_ms < ?")
            .bind(before_ms)
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(query_error("pruning observations"))
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The journal's columns in the order [`glass_from_row`] reads them.
const GLASS_COLUMNS: &str = "SELECT idempotency_key, site, maintenance, message, expected_end_ms, reason, actor, at_ms, \
     approved_by, awaiting, expires_at_ms FROM break_glass";

fn glass_from_row(r: &sqlx::sqlite::SqliteRow) -> BreakGlass {
    BreakGlass {
        key: r.get(0),
        site: r.get(1),
        state: MaintenanceState { on: r.get::<i64, _>(2) != 0, message: r.get(3), expected_end_ms: r.get(4) },
        reason: r.get(5),
        actor: r.get(6),
        at_ms: r.get(7),
        approved_by: r.get(8),
        awaiting: r.get::<i64, _>(9) != 0,
        expires_at_ms: r.get(10),
    }
}

/// Appends `entry` to this instance's own audit chain, inside the caller's transaction.
async fn append_local(
    conn: &mut sqlx::SqliteConnection,
    key: &crate::audit::AuditKey,
    entry: crate::audit::NewAuditEntry,
) -> Result<(), sqlx::Error> {
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM local_audit ORDER BY seq DESC LIMIT 1").fetch_optional(&mut *conn).await?;
    let (seq, prev) = last.map(|(s, h)| (s + 1, h)).unwrap_or((1, crate::audit::GENESIS.to_string()));
    let hash = crate::audit::chain_hash(key, &prev, seq, &entry);
    sqlx::query(
        "INSERT INTO local_audit (seq, at_ms, actor, action, target, reason, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(entry.at_ms)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.reason)
    .bind(&entry.detail)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A maintenance change taken on a secondary (break-glass), journaled for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlass {
    /// The form's idempotency key: replayed at most once, by this key.
    pub key: String,
    /// Site key.
    pub site: String,
    /// The maintenance it leaves.
    pub state: MaintenanceState,
    /// Why.
    pub reason: String,
    /// Who.
    pub actor: String,
    /// When it really happened (unix milliseconds).
    pub at_ms: i64,
    /// The second on-call who agreed, on a two-person site.
    pub approved_by: Option<String>,
    /// True while it waits for a second on-call (not on the edge, not replayed).
    pub awaiting: bool,
    /// When a waiting change expires unagreed (unix milliseconds).
    pub expires_at_ms: Option<i64>,
}
