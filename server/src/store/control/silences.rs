//! Silences and acknowledgements of alerts, each written with its audit entry. A silence is
//! read as the page's own `app::model::Silence` (with `silencing` left at 0 for the engine).

use super::*;
use app::model::Silence;

/// A stored acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRecord {
    /// The alert's fingerprint.
    pub fingerprint: String,
    /// The alert's name.
    pub alertname: String,
    /// Its labels.
    pub labels: Vec<(String, String)>,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at_ms: i64,
}

fn pairs(json: &str) -> Vec<(String, String)> {
    serde_json::from_str(json).unwrap_or_default()
}

fn pairs_json(pairs: &[(String, String)]) -> String {
    serde_json::to_string(pairs).unwrap_or_else(|_| "[]".into())
}

impl ControlStore {
    /// Keeps a silence and its audit entry; returns its number.
    pub async fn add_silence(&self, s: &Silence, audit: NewAuditEntry) -> Result<i64, StoreError> {
        const DOING: &str = "adding a silence";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO alert_silences (matchers, starts_ms, ends_ms, created_by, comment) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(pairs_json(&s.matchers))
        .bind(s.starts_ms)
        .bind(s.ends_ms)
        .bind(&s.created_by)
        .bind(&s.comment)
        .fetch_one(&mut *tx)
        .await
        .map_err(query_error(DOING))?
        .get(0);
        let mut audit = audit;
        audit.target = format!("silence {id}");
        let last = self.append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(Some(last)).await;
        Ok(id)
    }

    /// Ends silence `id` at `audit.at_ms`, with its audit entry; false when there is no such
    /// silence in force.
    pub async fn expire_silence(&self, id: i64, by: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        const DOING: &str = "ending a silence";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let ended = sqlx::query("UPDATE alert_silences SET ends_ms = $1, expired_by = $2 WHERE id = $3 AND ends_ms > $1")
            .bind(audit.at_ms)
            .bind(by)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(query_error(DOING))?
            .rows_affected()
            == 1;
        let last = if ended { Some(self.append_in(&mut tx, audit).await?) } else { None };
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(last).await;
        Ok(ended)
    }

    /// Silences in force at `now_ms` or ended after `since_ms`, newest first.
    pub async fn silences(&self, since_ms: i64) -> Result<Vec<Silence>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, matchers, starts_ms, ends_ms, created_by, comment, expired_by FROM alert_silences \
             WHERE ends_ms > $1 ORDER BY id DESC LIMIT 500",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading silences"))?;
        Ok(rows
            .iter()
            .map(|r| Silence {
                id: r.get(0),
                matchers: pairs(&r.get::<String, _>(1)),
                starts_ms: r.get(2),
                ends_ms: r.get(3),
                created_by: r.get(4),
                comment: r.get(5),
                expired_by: r.get(6),
                silencing: 0,
            })
            .collect())
    }

    /// Keeps an acknowledgement and its audit entry.
    pub async fn acknowledge(&self, ack: &AckRecord, audit: NewAuditEntry) -> Result<(), StoreError> {
        const DOING: &str = "acknowledging an alert";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        sqlx::query("INSERT INTO alert_acks (fingerprint, alertname, labels, by_user, reason, at_ms) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&ack.fingerprint)
            .bind(&ack.alertname)
            .bind(pairs_json(&ack.labels))
            .bind(&ack.by)
            .bind(&ack.reason)
            .bind(ack.at_ms)
            .execute(&mut *tx)
            .await
            .map_err(query_error(DOING))?;
        let last = self.append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(Some(last)).await;
        Ok(())
    }

    /// Acknowledgements made after `since_ms`, newest first.
    pub async fn acks(&self, since_ms: i64) -> Result<Vec<AckRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT fingerprint, alertname, labels, by_user, reason, at_ms FROM alert_acks WHERE at_ms > $1 ORDER BY at_ms DESC LIMIT 1000",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading acknowledgements"))?;
        Ok(rows
            .iter()
            .map(|r| AckRecord {
                fingerprint: r.get(0),
                alertname: r.get(1),
                labels: pairs(&r.get::<String, _>(2)),
                by: r.get(3),
                reason: r.get(4),
                at_ms: r.get(5),
            })
            .collect())
    }
}
