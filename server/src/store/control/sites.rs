//! Sites and their maintenance state.

use super::*;

/// A site's stored maintenance state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRecord {
    /// Site key.
    pub name: String,
    /// Its maintenance.
    pub state: MaintenanceState,
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
    /// The maintenance it leaves.
    pub state: MaintenanceState,
    /// Who.
    pub changed_by: String,
    /// When (unix milliseconds).
    pub at_ms: i64,
}

impl ControlStore {
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

    /// Every site's maintenance state with its message and expected end, by name.
    pub async fn sites(&self) -> Result<Vec<SiteRecord>, StoreError> {
        let rows = sqlx::query("SELECT name, maintenance, message, expected_end_ms, changed_by, changed_at_ms FROM sites ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(query_error("reading sites"))?;
        Ok(rows
            .iter()
            .map(|r| SiteRecord {
                name: r.get(0),
                state: MaintenanceState { on: r.get::<i64, _>(1) != 0, message: r.get(2), expected_end_ms: r.get(3) },
                changed_by: r.get(4),
                changed_at_ms: r.get(5),
            })
            .collect())
    }
}

/// Writes a site's new maintenance state inside a transaction.
pub(super) async fn apply_site_change(tx: &mut sqlx::Transaction<'_, sqlx::Any>, c: &SiteChange) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sites SET maintenance = $1, message = $2, expected_end_ms = $3, changed_by = $4, changed_at_ms = $5 \
         WHERE name = $6",
    )
    .bind(c.state.on as i64)
    .bind(&c.state.message)
    .bind(c.state.expected_end_ms)
    .bind(&c.changed_by)
    .bind(c.at_ms)
    .bind(&c.site)
    .execute(&mut **tx)
    .await
    .map_err(query_error("changing a site's maintenance state"))?;
    Ok(())
}
