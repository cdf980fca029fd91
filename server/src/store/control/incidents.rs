//! Incident updates: each kept with its audit entry, never edited. An update journaled on a
//! secondary under break-glass is replayed here exactly once, by its key.

use super::requests::{replay_refusal, standing};
use super::*;
use app::model::{Impact, IncidentKind, IncidentState, IncidentUpdate};
use std::str::FromStr;

/// The columns every read selects, in [`update_from_row`]'s order.
pub(in crate::store) const UPDATE_COLUMNS: &str =
    "key, incident, kind, state, title, body, components, impact, starts_ms, ends_ms, by_user, at_ms, written_on";

/// An update from a row of [`UPDATE_COLUMNS`] (either store: the columns are the same).
pub(in crate::store) fn update_from_row<R: Row>(r: &R) -> IncidentUpdate
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    IncidentUpdate {
        key: r.get(0),
        incident: r.get(1),
        kind: IncidentKind::from_str(&r.get::<String, _>(2)).unwrap_or(IncidentKind::Incident),
        state: IncidentState::from_str(&r.get::<String, _>(3)).unwrap_or(IncidentState::Investigating),
        title: r.get(4),
        body: r.get(5),
        components: serde_json::from_str(&r.get::<String, _>(6)).unwrap_or_default(),
        impact: Impact::from_str(&r.get::<String, _>(7)).unwrap_or(Impact::None),
        starts_ms: r.get(8),
        ends_ms: r.get(9),
        by: r.get(10),
        at_ms: r.get(11),
        written_on: r.get(12),
        pending_replay: false,
    }
}

/// What came of replaying a journaled update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum UpdateReplay {
    /// Kept, with an audit entry saying where and when it was really posted.
    Replayed,
    /// Its key is kept already: nothing done.
    AlreadyReplayed,
    /// Not kept: the journal names someone who may not operate sites here (audited).
    Refused,
}

impl UpdateReplay {
    /// The word stored in the journal.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

async fn insert_update(tx: &mut sqlx::Transaction<'static, sqlx::Any>, u: &IncidentUpdate, at_ms: i64) -> Result<bool, sqlx::Error> {
    let kept = sqlx::query(&format!(
        "INSERT INTO incident_updates ({UPDATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (key) DO NOTHING RETURNING key"
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
    .bind(at_ms)
    .bind(&u.written_on)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(kept.is_some())
}

impl ControlStore {
    /// Keeps an update and its audit entry; false (nothing written) when its key is kept
    /// already (the same form posted twice).
    pub async fn add_incident_update(&self, u: &IncidentUpdate, audit: NewAuditEntry) -> Result<bool, StoreError> {
        const DOING: &str = "keeping an incident update";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        if !insert_update(&mut tx, u, u.at_ms).await.map_err(query_error(DOING))? {
            return Ok(false);
        }
        let last = self.append_in(&mut tx, audit).await?;
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(Some(last)).await;
        Ok(true)
    }

    /// Replays an update journaled on `instance` under break-glass, exactly once by its key,
    /// if whoever posted it may still operate sites here.
    pub async fn replay_incident_update(&self, u: &IncidentUpdate, now_ms: i64) -> Result<UpdateReplay, StoreError> {
        const DOING: &str = "replaying an incident update";
        let _guard = self.append.lock().await;
        let mut tx = self.begin(DOING).await?;
        let known = sqlx::query("SELECT 1 FROM incident_updates WHERE key = $1")
            .bind(&u.key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(query_error(DOING))?;
        if known.is_some() {
            return Ok(UpdateReplay::AlreadyReplayed);
        }
        // Another instance's clock: never later than now here.
        let at_ms = u.at_ms.min(now_ms);
        let actor = standing(&mut tx, &u.by).await.map_err(query_error(DOING))?;
        let refused = replay_refusal(&u.by, actor, None);
        let (outcome, step) = match &refused {
            None => {
                insert_update(&mut tx, u, at_ms).await.map_err(query_error(DOING))?;
                (UpdateReplay::Replayed, crate::audit::IncidentStep::Replayed)
            }
            Some(_) => (UpdateReplay::Refused, crate::audit::IncidentStep::Refused),
        };
        let why = refused.map(|why| format!("; refused: {why}, so the public is not told it")).unwrap_or_default();
        let entry = NewAuditEntry::new(
            at_ms,
            &u.by,
            AuditAction::Incident(step),
            &format!("incident {}", u.incident),
            &u.title,
            format!("update {} ({}) posted on {} under break-glass{why}", u.key, u.state.word(), u.written_on),
        );
        let last = self.append_in(&mut tx, entry).await?;
        tx.commit().await.map_err(query_error(DOING))?;
        self.keep_head(Some(last)).await;
        Ok(outcome)
    }

    /// Every update of incidents with an update since `since_ms`, oldest first (at most 5,000).
    pub async fn incident_updates(&self, since_ms: i64) -> Result<Vec<IncidentUpdate>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {UPDATE_COLUMNS} FROM incident_updates WHERE incident IN \
             (SELECT incident FROM incident_updates WHERE at_ms >= $1 OR ends_ms >= $1) ORDER BY at_ms, key LIMIT 5000"
        ))
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("reading incident updates"))?;
        Ok(rows.iter().map(update_from_row).collect())
    }
}
