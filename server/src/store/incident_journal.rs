//! Incident updates posted on a secondary under break-glass, in the local store: shown on this
//! region's status page at once, replayed into a writable control store exactly once.

use super::control::{update_from_row, UPDATE_COLUMNS};
use super::{LocalStore, NewAuditEntry, StoreError};
use crate::audit::{AuditAction, IncidentStep};
use app::model::IncidentUpdate;

fn failed(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { store: "local", doing, source }
}

impl LocalStore {
    /// Journals an update with its entry in this instance's own audit chain, in one
    /// transaction; false (nothing written) when its key is journaled already.
    pub async fn journal_incident_update(&self, u: &IncidentUpdate) -> Result<bool, StoreError> {
        let journaled = self
            .with_local_entry("journaling an incident update", async |conn: &mut sqlx::SqliteConnection| {
                let done = sqlx::query(&format!(
                    "INSERT INTO incident_journal ({UPDATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (key) DO NOTHING"
                ))
                .bind(&u.key)
                .bind(&u.incident)
                .bind(<&str>::from(u.kind))
                .bind(u.state.word())
                .bind(&u.title)
                .bind(&u.body)
                .bind(serde_json::to_string(&u.components).unwrap_or_else(|_| "[]".into()))
                .bind(u.impact.word())
                .bind(u.starts_ms)
                .bind(u.ends_ms)
                .bind(&u.by)
                .bind(u.at_ms)
                .bind(&u.written_on)
                .execute(&mut *conn)
                .await?;
                if done.rows_affected() == 0 {
                    return Ok(None);
                }
                let entry = NewAuditEntry::new(
                    u.at_ms,
                    &u.by,
                    AuditAction::Incident(IncidentStep::BreakGlass),
                    &format!("incident {}", u.incident),
                    &u.title,
                    format!("update {} ({}) on {}; pending replay into the control store", u.key, u.state.word(), u.written_on),
                );
                Ok(Some(((), entry)))
            })
            .await?;
        Ok(journaled.is_some())
    }

    /// Journaled updates not replayed yet, oldest first.
    pub async fn pending_incident_updates(&self) -> Result<Vec<IncidentUpdate>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {UPDATE_COLUMNS} FROM incident_journal WHERE replayed_at_ms IS NULL ORDER BY at_ms, key"))
            .fetch_all(&self.pool())
            .await
            .map_err(failed("reading the incident journal"))?;
        Ok(rows.iter().map(|r| IncidentUpdate { pending_replay: true, ..update_from_row(r) }).collect())
    }

    /// Marks a journaled update replayed, with what came of it.
    pub async fn mark_incident_replayed(&self, key: &str, outcome: &str, at_ms: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE incident_journal SET replayed_at_ms = $1, outcome = $2 WHERE key = $3")
            .bind(at_ms)
            .bind(outcome)
            .bind(key)
            .execute(&self.pool())
            .await
            .map_err(failed("marking an incident update replayed"))?;
        Ok(())
    }
}
