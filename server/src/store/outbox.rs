//! The alert outbox in the local store: notices for direct receivers, kept until delivered.

use super::{LocalStore, StoreError};
use sqlx::Row;

/// One notice waiting for (or past) delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// Its idempotency key.
    pub key: String,
    /// The receiver's name.
    pub receiver: String,
    /// The JSON to send.
    pub body: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When it was delivered, once it was.
    pub delivered_ms: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was kept.
    pub created_ms: i64,
    /// Not tried again before this (`i64::MAX`: given up).
    pub next_ms: i64,
}

fn failed(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { store: "local", doing, source }
}

fn row(r: &sqlx::sqlite::SqliteRow) -> OutboxRow {
    OutboxRow {
        key: r.get(0),
        receiver: r.get(1),
        body: r.get(2),
        attempts: r.get(3),
        delivered_ms: r.get(4),
        last_error: r.get(5),
        created_ms: r.get(6),
        next_ms: r.get(7),
    }
}

/// The most undelivered notices one receiver keeps.
pub const PENDING_PER_RECEIVER: i64 = 1000;

const COLUMNS: &str = "key, receiver, body, attempts, delivered_ms, last_error, created_ms, next_ms";

impl LocalStore {
    /// Keeps a notice for delivery; one already kept under `key` stays as it is (false). A
    /// receiver never holds more than [`PENDING_PER_RECEIVER`] undelivered notices: beyond that
    /// the oldest are given up as superseded (each notice counts what fires when it was written,
    /// so the newest say what the oldest did), and a receiver down for days costs bounded rows.
    pub async fn outbox_add(&self, key: &str, receiver: &str, body: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT OR IGNORE INTO alert_outbox (key, receiver, body, created_ms, next_ms) VALUES ($1, $2, $3, $4, $4)")
            .bind(key)
            .bind(receiver)
            .bind(body)
            .bind(now_ms)
            .execute(&self.pool())
            .await
            .map_err(failed("keeping an alert notice"))?;
        sqlx::query(
            "UPDATE alert_outbox SET next_ms = $3, last_error = $4 WHERE key IN (SELECT key FROM alert_outbox \
             WHERE receiver = $1 AND delivered_ms IS NULL AND next_ms < $3 ORDER BY created_ms DESC, key DESC LIMIT -1 OFFSET $2)",
        )
        .bind(receiver)
        .bind(PENDING_PER_RECEIVER)
        .bind(i64::MAX)
        .bind(format!("superseded: more than {PENDING_PER_RECEIVER} notices for this receiver were undelivered"))
        .execute(&self.pool())
        .await
        .map_err(failed("bounding a receiver's undelivered notices"))?;
        Ok(done.rows_affected() == 1)
    }

    /// Undelivered notices not given up, due or not, oldest first, at most `limit`: delivery
    /// keeps each receiver's order, so a notice waiting out its backoff holds back later ones.
    pub async fn outbox_pending(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM alert_outbox WHERE delivered_ms IS NULL AND next_ms < $1 ORDER BY created_ms, key LIMIT $2"
        ))
        .bind(i64::MAX)
        .bind(limit)
        .fetch_all(&self.pool())
        .await
        .map_err(failed("reading pending alert notices"))?;
        Ok(rows.iter().map(row).collect())
    }

    /// Marks a notice delivered.
    pub async fn outbox_delivered(&self, key: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alert_outbox SET delivered_ms = $2, attempts = attempts + 1, last_error = NULL WHERE key = $1")
            .bind(key)
            .bind(now_ms)
            .execute(&self.pool())
            .await
            .map_err(failed("marking an alert notice delivered"))?;
        Ok(())
    }

    /// Records a failed attempt; the next is not before `next_ms`.
    pub async fn outbox_failed(&self, key: &str, error: &str, next_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE alert_outbox SET attempts = attempts + 1, last_error = $2, next_ms = $3 WHERE key = $1")
            .bind(key)
            .bind(error)
            .bind(next_ms)
            .execute(&self.pool())
            .await
            .map_err(failed("recording a failed alert notice"))?;
        Ok(())
    }

    /// Forgets notices delivered before `before_ms` (undelivered ones are kept, however old);
    /// returns how many. Without it the outbox grows by a row per round of changes forever.
    pub async fn outbox_prune(&self, before_ms: i64) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM alert_outbox WHERE delivered_ms IS NOT NULL AND delivered_ms < $1")
            .bind(before_ms)
            .execute(&self.pool())
            .await
            .map(|r| r.rows_affected())
            .map_err(failed("pruning delivered alert notices"))
    }

    /// The newest notices, delivered or not, for the Alerts page.
    pub async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM alert_outbox ORDER BY created_ms DESC, key LIMIT $1"))
            .bind(limit)
            .fetch_all(&self.pool())
            .await
            .map_err(failed("reading recent alert notices"))?;
        Ok(rows.iter().map(row).collect())
    }

    /// Notices made in `[from_ms, to_ms)`, oldest first (at most `limit`), for the timeline.
    pub async fn outbox_between(&self, from_ms: i64, to_ms: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM alert_outbox WHERE created_ms >= $1 AND created_ms < $2 ORDER BY created_ms, key LIMIT $3"
        ))
        .bind(from_ms)
        .bind(to_ms)
        .bind(limit)
        .fetch_all(&self.pool())
        .await
        .map_err(failed("reading alert notices for the timeline"))?;
        Ok(rows.iter().map(row).collect())
    }

    /// Keeps what this instance has told its direct receivers as firing, replacing the last.
    pub async fn told_keep(&self, told: &[app::model::AlertSeen], now_ms: i64) -> Result<(), StoreError> {
        let json = serde_json::to_string(told).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO alert_told (id, told, written_ms) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET told = $1, written_ms = $2",
        )
        .bind(json)
        .bind(now_ms)
        .execute(&self.pool())
        .await
        .map_err(failed("keeping what was told"))?;
        Ok(())
    }

    /// What this instance last kept as told (empty when nothing was, or it cannot be read: a
    /// restart then pages again rather than staying silent).
    pub async fn told_kept(&self) -> Result<Vec<app::model::AlertSeen>, StoreError> {
        let json: Option<String> = sqlx::query_scalar("SELECT told FROM alert_told WHERE id = 1")
            .fetch_optional(&self.pool())
            .await
            .map_err(failed("reading what was told"))?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default())
    }
}
