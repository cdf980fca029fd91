//! Action requests: created, approved, executed, expired; break-glass changes replayed exactly once.

use super::sites::apply_site_change;
use super::*;

pub(super) const REQUEST_COLUMNS: &str = "id, kind, site, message, expected_end_ms, reason, requested_by, requested_at_ms, \
     expires_at_ms, state, approved_by, decided_at_ms, detail";

pub(super) fn request_from_row(r: &AnyRow) -> ActionRequest {
    ActionRequest {
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "snake_case")]
pub enum Replay {
    /// Applied, with an audit entry saying where and when it really happened.
    #[strum(serialize = "replayed")]
    Applied,
    /// Not applied: the site changed here after it (recorded and audited).
    Superseded,
    /// Its key was replayed before: nothing done.
    AlreadyReplayed,
    /// Not applied: the journal names someone who may not operate sites here (recorded and
    /// audited).
    Refused,
}

impl Replay {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The audit log's step for this outcome.
    fn step(self) -> ActionStep {
        match self {
            Replay::Applied | Replay::AlreadyReplayed => ActionStep::Replayed,
            Replay::Superseded => ActionStep::Superseded,
            Replay::Refused => ActionStep::Refused,
        }
    }
}

impl ControlStore {
    /// Records a new action request with its audit entries, and, when it runs at once, the
    /// site change, all in one transaction. A request whose idempotency key is already stored
    /// changes nothing: the stored request comes back with `false`.
    pub async fn create_request(
        &self,
        request: &NewActionRequest,
        change: Option<&SiteChange>,
        audit: Vec<NewAuditEntry>,
    ) -> Result<(ActionRequest, bool), StoreError> {
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
    pub async fn replay(&self, e: &crate::store::BreakGlass, instance: &str, now_ms: i64) -> Result<Replay, StoreError> {
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
        if outcome == Replay::Applied {
            let change = SiteChange { site: e.site.clone(), state: e.state.clone(), changed_by: e.actor.clone(), at_ms };
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
            action: AuditAction::Maintenance(e.state.kind(), outcome.step()).to_string(),
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
    pub async fn request(&self, id: i64) -> Result<Option<ActionRequest>, StoreError> {
        let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM action_requests WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading an action request"))?;
        Ok(row.as_ref().map(request_from_row))
    }

    pub(super) async fn request_by_key(&self, key: &str) -> Result<Option<ActionRequest>, StoreError> {
        let row = sqlx::query(&format!("SELECT {REQUEST_COLUMNS} FROM action_requests WHERE idempotency_key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading an action request"))?;
        Ok(row.as_ref().map(request_from_row))
    }

    /// The newest `limit` requests, pending ones first.
    pub async fn requests(&self, limit: i64) -> Result<Vec<ActionRequest>, StoreError> {
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
}

/// A user's role and disabled flag, inside a transaction.
pub(super) async fn standing(tx: &mut sqlx::Transaction<'_, sqlx::Any>, name: &str) -> Result<Option<(Role, bool)>, sqlx::Error> {
    let row = sqlx::query("SELECT role, disabled FROM users WHERE name = $1").bind(name).fetch_optional(&mut **tx).await?;
    Ok(row.map(|r| (Role::parse(&r.get::<String, _>(0)).unwrap_or(Role::Viewer), r.get::<i64, _>(1) != 0)))
}

/// Why a journaled change may not be applied, judged by the people it names as the primary
/// knows them now (role, disabled): None when the actor, and the approver if any, may
/// operate sites and are different people.
pub(in crate::store) fn replay_refusal(
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
