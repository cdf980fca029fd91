//! The status page's uptime history in the local store: one row per component and UTC day,
//! at most [`DAYS_KEPT`] days.

use super::{LocalStore, StoreError};
use sqlx::Row;

/// Days of history kept (the bar shows 90; one more so today's bar never loses its first day).
pub const DAYS_KEPT: i64 = 91;

/// One component's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRow {
    /// The component.
    pub component: String,
    /// Days since 1970-01-01, UTC.
    pub day: i64,
    /// Time with a known status, in milliseconds.
    pub measured_ms: i64,
    /// Of that, time up (operational or under maintenance).
    pub up_ms: i64,
    /// The worst status word seen.
    pub worst: String,
}

fn failed(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Query { store: "local", doing, source }
}

impl LocalStore {
    /// Adds one interval to each component's day (`(component, day, measured, up, status word,
    /// its rank)`: the worst word is the one of highest rank), and deletes days older than
    /// [`DAYS_KEPT`] before `today`, in one transaction.
    pub async fn add_component_time(&self, today: i64, rows: &[(String, i64, i64, i64, &str, i64)]) -> Result<(), StoreError> {
        const DOING: &str = "keeping the uptime history";
        let mut tx = self.pool().begin().await.map_err(failed(DOING))?;
        for (component, day, measured, up, word, rank) in rows {
            sqlx::query(
                "INSERT INTO component_days (component, day, measured_ms, up_ms, worst, worst_rank) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (component, day) DO UPDATE SET measured_ms = measured_ms + excluded.measured_ms, \
                 up_ms = up_ms + excluded.up_ms, \
                 worst = CASE WHEN excluded.worst_rank > worst_rank THEN excluded.worst ELSE worst END, \
                 worst_rank = MAX(worst_rank, excluded.worst_rank)",
            )
            .bind(component)
            .bind(day)
            .bind(measured)
            .bind(up)
            .bind(*word)
            .bind(rank)
            .execute(&mut *tx)
            .await
            .map_err(failed(DOING))?;
        }
        sqlx::query("DELETE FROM component_days WHERE day < $1")
            .bind(today - DAYS_KEPT + 1)
            .execute(&mut *tx)
            .await
            .map_err(failed(DOING))?;
        tx.commit().await.map_err(failed(DOING))
    }

    /// Every kept day, by component and day.
    pub async fn component_days(&self) -> Result<Vec<DayRow>, StoreError> {
        let rows = sqlx::query("SELECT component, day, measured_ms, up_ms, worst FROM component_days ORDER BY component, day")
            .fetch_all(&self.pool())
            .await
            .map_err(failed("reading the uptime history"))?;
        Ok(rows
            .iter()
            .map(|r| DayRow { component: r.get(0), day: r.get(1), measured_ms: r.get(2), up_ms: r.get(3), worst: r.get(4) })
            .collect())
    }
}
