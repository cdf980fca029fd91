//! Declared DNS records, as the primary's config declares them.

use super::*;

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

impl ControlStore {
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
}
