//! Guarded actions: requests checked by the pure rules in [`decide`], executed as one
//! transaction (state change + audit entries), then the effect on this region's edge.

pub mod decide;
pub mod edge;
pub mod observe;

use crate::audit::{ActionStep, Attempt, AuditAction, NewAuditEntry};
use crate::clock::now_ms;
use crate::config::Estate;
use crate::store::{ControlStore, NewActionRequest, SiteChange, StoreError, Transition};
use app::action::{ActionKind, ActionRequest, ActionState, ActionsBoard, MaintenanceState, SiteView};
use app::auth::Who;
use decide::{FieldErrors, Refusal, RequestForm, Step};
use edge::EdgePublisher;
use std::sync::Arc;
use tokio::sync::watch;

/// Why an action did not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Bad input, by field.
    #[error("the request has mistakes: {}", .0.iter().map(|(f, m)| if f.is_empty() { m.clone() } else { format!("{f}: {m}") }).collect::<Vec<_>>().join("; "))]
    Invalid(FieldErrors),
    /// Not allowed now, with the status that says why.
    #[error("{}", .0.message)]
    Refused(Refusal),
    /// No such request.
    #[error("there is no action request {0}")]
    NotFound(i64),
    /// The control store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Requests, approvals, cancellations and expiry of actions; publishes to the edge.
#[derive(Clone)]
pub struct ActionService {
    control: ControlStore,
    edge: EdgePublisher,
    estate: Arc<Estate>,
    changes: Arc<watch::Sender<u64>>,
    observations: observe::Observations,
    mode: crate::mode::ModeWatch,
    local: crate::store::LocalStore,
    /// What this instance last wrote to its edge per site (with the Retry-After bucket).
    published: Arc<std::sync::Mutex<std::collections::HashMap<String, Option<(MaintenanceState, u64)>>>>,
}

fn audit(actor: &str, action: AuditAction, target: &str, reason: &str, detail: String, at_ms: i64) -> NewAuditEntry {
    NewAuditEntry::new(at_ms, actor, action, target, reason, detail)
}

impl ActionService {
    /// A service over `control` publishing to `edge`; while `mode` is secondary every action
    /// is refused.
    pub fn new(
        control: ControlStore,
        local: crate::store::LocalStore,
        edge: EdgePublisher,
        estate: Arc<Estate>,
        observations: observe::Observations,
        mode: crate::mode::ModeWatch,
    ) -> Self {
        ActionService {
            control,
            edge,
            estate,
            changes: Arc::new(watch::channel(0).0),
            observations,
            mode,
            local,
            published: Default::default(),
        }
    }

    /// What this instance knows of the primary, for break-glass.
    pub fn primary_watch(&self) -> decide::PrimaryWatch {
        let m = self.mode.get();
        let primary_region = self.estate.regions.iter().find(|r| r.primary).map(|r| r.name.clone());
        let primary_console =
            self.estate.peers.iter().find(|p| Some(&p.region) == primary_region.as_ref()).map(|p| p.url.trim_end_matches('/').to_string());
        decide::PrimaryWatch {
            mode: m.mode,
            read_only: m.read_only,
            watching: m.primary.is_some() || m.primary_lost_since_ms.is_some(),
            primary: m.primary,
            primary_console,
            lost_since_ms: m.primary_lost_since_ms,
        }
    }

    /// Milliseconds without a writable control node before break-glass opens.
    fn break_glass_after_ms(&self) -> i64 {
        let seconds = self.estate.auth.break_glass_after_seconds.unwrap_or(3 * self.estate.probes.interval_seconds);
        seconds as i64 * 1000
    }

    /// Whether `role` may take a one-person break-glass step here now (incident updates: the
    /// public is told, nothing is switched, so no second on-call is asked).
    pub fn may_break_glass(&self, role: app::auth::Role) -> Result<(), Refusal> {
        decide::decide_break_glass(role, &self.primary_watch(), false, self.break_glass_after_ms(), now_ms()).map(|_| ())
    }

    /// Why break-glass is closed here now for anyone allowed to operate sites, if it is (the
    /// Actions page shows it; a viewer's own refusal is shown beside it).
    fn break_glass_closed(&self) -> Option<String> {
        let oncall = app::auth::Role::Oncall;
        decide::decide_break_glass(oncall, &self.primary_watch(), false, self.break_glass_after_ms(), now_ms()).err().map(|r| r.message)
    }

    /// Break-glass on a secondary whose primary is lost: maintenance on or off for on-call,
    /// applied to this region's edge at once and journaled locally by its key, to be replayed
    /// into the control store exactly once when one is writable ([`Self::replay_pending`]). On
    /// a two-person site (unless it opted into `single`) it waits for a second on-call here.
    pub async fn break_glass(&self, who: &Who, form: &RequestForm) -> Result<String, ActionError> {
        let now = now_ms();
        let valid = decide::check_form(form, &self.site_names(), now).map_err(ActionError::Invalid)?;
        let site = self.estate.sites.iter().find(|s| s.name == valid.site);
        let needs_second = site.is_some_and(|s| s.two_person && s.break_glass == crate::config::BreakGlassRule::Second);
        let step = decide::decide_break_glass(who.role, &self.primary_watch(), needs_second, self.break_glass_after_ms(), now)
            .map_err(ActionError::Refused)?;
        let awaiting = step == decide::GlassStep::AwaitSecond;
        let entry = crate::store::BreakGlass {
            key: valid.key.clone(),
            site: valid.site.clone(),
            state: MaintenanceState::requested(valid.kind, valid.message.clone(), valid.expected_end_ms),
            reason: valid.reason.clone(),
            actor: who.name.clone(),
            at_ms: now,
            approved_by: None,
            awaiting,
            expires_at_ms: awaiting.then(|| now + self.ttl_ms()),
        };
        let fresh = self.local.journal_break_glass(&entry, &self.estate.instance.name).await?;
        if awaiting {
            if fresh {
                tracing::warn!(site = %entry.site, actor = %entry.actor, "break-glass on a two-person site; waiting for a second on-call");
                self.changed();
            }
            return Ok(format!(
                "Break-glass: {} for {} waits for a second on-call to agree on this instance.",
                valid.kind.phrase(),
                valid.site
            ));
        }
        if fresh {
            tracing::warn!(site = %entry.site, actor = %entry.actor, on = entry.state.on, "break-glass maintenance on a secondary; pending replay");
            self.publish_glass(&valid.site).await?;
        }
        Ok(format!(
            "Break-glass: {} for {} applied to this region's edge; pending replay into the primary.",
            valid.kind.phrase(),
            valid.site
        ))
    }

    /// A second on-call agrees to a waiting break-glass change on this instance; it takes
    /// effect on this region's edge at once and is replayed with both names.
    pub async fn approve_break_glass(&self, who: &Who, key: &str) -> Result<String, ActionError> {
        let now = now_ms();
        let waiting = self.local.break_glass(key).await?.filter(|e| e.awaiting && e.approved_by.is_none());
        let Some(waiting) = waiting else {
            return Err(ActionError::Refused(Refusal {
                status: 409,
                code: "conflict",
                message: "this break-glass change is not waiting for a second on-call (agreed, expired or unknown)".into(),
            }));
        };
        // The primary may have come back meanwhile: then nothing is broken any more.
        decide::decide_break_glass(who.role, &self.primary_watch(), false, self.break_glass_after_ms(), now)
            .map_err(ActionError::Refused)?;
        decide::decide_glass_approval(&who.name, who.role, &waiting.actor, waiting.expires_at_ms.unwrap_or(0), now)
            .map_err(ActionError::Refused)?;
        let Some(agreed) = self.local.approve_break_glass(key, &who.name, &self.estate.instance.name, now).await? else {
            return Err(ActionError::Refused(Refusal {
                status: 409,
                code: "conflict",
                message: "someone else acted on this break-glass change first".into(),
            }));
        };
        tracing::warn!(site = %agreed.site, actor = %agreed.actor, approver = %who.name, "break-glass agreed by a second on-call; pending replay");
        self.publish_glass(&agreed.site).await?;
        let kind = agreed.state.kind();
        Ok(format!(
            "Break-glass: {} for {} agreed by {} and applied to this region's edge; pending replay into the primary.",
            kind.phrase(),
            agreed.site,
            who.name
        ))
    }

    /// Publishes a site after a break-glass change took effect here.
    async fn publish_glass(&self, site: &str) -> Result<(), ActionError> {
        let published = self.publish_site(site).await;
        self.changed();
        published.map_err(|why| {
            ActionError::Refused(Refusal { status: 503, code: "edge", message: format!("journaled, but the edge was not written: {why}") })
        })
    }

    /// Replays every journaled break-glass change into the control store, each exactly once;
    /// stops at the first failure and tries again later.
    pub async fn replay_pending(&self) -> Result<usize, StoreError> {
        self.replay_pending_into(&self.control).await
    }

    /// The same, into `primary`: another control node that accepts writes while this
    /// instance's own store is still a replica (the primary came back).
    pub async fn replay_pending_into(&self, primary: &ControlStore) -> Result<usize, StoreError> {
        let pending = self.local.pending_break_glass().await?;
        for e in &pending {
            let outcome = primary.replay(e, &self.estate.instance.name, now_ms()).await.inspect_err(|e| {
                if e.is_read_only() {
                    self.mode.recheck();
                }
            })?;
            // A crash before this mark is harmless: the key makes the next replay a no-op.
            self.local.mark_replayed(&e.key, outcome.as_str(), now_ms()).await?;
            tracing::info!(key = %e.key, site = %e.site, outcome = outcome.as_str(), "break-glass change replayed");
        }
        if !pending.is_empty() {
            self.changed();
            self.publish_all().await;
        }
        Ok(pending.len())
    }

    /// The journaled changes not yet replayed, latest per site.
    async fn pending_by_site(&self) -> std::collections::HashMap<String, crate::store::BreakGlass> {
        let pending = self.local.pending_break_glass().await.unwrap_or_default();
        pending.into_iter().map(|e| (e.site.clone(), e)).collect()
    }

    /// A write refused as read-only (SQLSTATE 25006) means the mode is stale: look again now
    /// rather than at the next interval.
    fn look_again_if_read_only<T>(&self, result: Result<T, ActionError>) -> Result<T, ActionError> {
        if let Err(ActionError::Store(e)) = &result {
            if e.is_read_only() {
                self.mode.recheck();
            }
        }
        result
    }

    /// Moves every time an action, site or audit entry changes (the `actions` event).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// What users got from each site, as last looked at through its balancer.
    pub fn observed(&self) -> std::collections::BTreeMap<String, app::action::SiteObservation> {
        self.observations.all()
    }

    /// Changes seen so far.
    pub fn generation(&self) -> u64 {
        *self.changes.borrow()
    }

    /// Says that something changed (also used by logins, which append to the audit log).
    pub fn changed(&self) {
        self.changes.send_modify(|g| *g += 1);
    }

    fn ttl_ms(&self) -> i64 {
        self.estate.auth.approval_ttl_seconds as i64 * 1000
    }

    fn site_names(&self) -> Vec<String> {
        self.estate.sites.iter().map(|s| s.name.clone()).collect()
    }

    /// Appends a refusal to the audit log: who tried what, and why not.
    async fn audit_refusal(&self, who: &Who, what: AuditAction, target: &str, reason: &str, why: String) {
        let entry = audit(&who.name, what, target, reason, why, now_ms());
        match self.control.append_audit(entry).await {
            Ok(_) => self.changed(),
            Err(e) => tracing::error!(error = %e, "cannot audit a refused action"),
        }
    }

    /// Checks and records a request; runs it now unless its site needs a second person.
    /// Returns the request and whether it is new (false: the same key was submitted before).
    pub async fn request(&self, who: &Who, form: &RequestForm) -> Result<(ActionRequest, bool), ActionError> {
        let result = self.request_once(who, form).await;
        self.look_again_if_read_only(result)
    }

    async fn request_once(&self, who: &Who, form: &RequestForm) -> Result<(ActionRequest, bool), ActionError> {
        let now = now_ms();
        let what = ActionKind::parse(form.kind.trim())
            .map_or(AuditAction::Refused(Attempt::Action), |k| AuditAction::Maintenance(k, ActionStep::Refused));
        let valid = match decide::check_form(form, &self.site_names(), now) {
            Ok(v) => v,
            Err(errors) => {
                let why = ActionError::Invalid(errors.clone()).to_string();
                self.audit_refusal(who, what, form.site.trim(), form.reason.trim(), why).await;
                return Err(ActionError::Invalid(errors));
            }
        };
        let two_person = self.estate.sites.iter().any(|s| s.name == valid.site && s.two_person);
        let on_now = self.control.sites().await?.iter().any(|s| s.name == valid.site && s.state.on);
        let step = match decide::decide_request(who.role, valid.kind, two_person, on_now, self.mode.read_only()) {
            Ok(step) => step,
            Err(refusal) => {
                self.audit_refusal(who, what, &valid.site, &valid.reason, refusal.message.clone()).await;
                return Err(ActionError::Refused(refusal));
            }
        };
        let kind = valid.kind;
        let (state, detail, entries, change) = match step {
            Step::Execute => (
                ActionState::Executed,
                "executed at once (one-person site)".to_string(),
                vec![audit(
                    &who.name,
                    AuditAction::Maintenance(kind, ActionStep::Executed),
                    &valid.site,
                    &valid.reason,
                    "request {id}".into(),
                    now,
                )],
                Some(SiteChange {
                    site: valid.site.clone(),
                    state: MaintenanceState::requested(valid.kind, valid.message.clone(), valid.expected_end_ms),
                    changed_by: who.name.clone(),
                    at_ms: now,
                }),
            ),
            Step::AwaitApproval => (
                ActionState::Pending,
                "waiting for a second person".to_string(),
                vec![audit(
                    &who.name,
                    AuditAction::Maintenance(kind, ActionStep::Requested),
                    &valid.site,
                    &valid.reason,
                    "request {id}; needs a second person".into(),
                    now,
                )],
                None,
            ),
        };
        let new = NewActionRequest {
            idempotency_key: valid.key.clone(),
            kind: valid.kind,
            site: valid.site.clone(),
            message: valid.message.clone(),
            expected_end_ms: valid.expected_end_ms,
            reason: valid.reason.clone(),
            requested_by: who.name.clone(),
            requested_at_ms: now,
            expires_at_ms: now + self.ttl_ms(),
            state,
            detail,
        };
        let (stored, created) = self.control.create_request(&new, change.as_ref(), entries).await?;
        if !created && stored.requested_by != who.name {
            // A key is one person's retry, not a way to read someone else's request.
            return Err(ActionError::Refused(Refusal {
                status: 409,
                code: "key_in_use",
                message: "this idempotency key belongs to another person's request; reload the form for a fresh one".into(),
            }));
        }
        if created {
            self.changed();
            if state == ActionState::Executed {
                return Ok((self.effect(stored).await?, true));
            }
        }
        Ok((stored, created))
    }

    /// Approves a pending request (never the requester's own) and runs it.
    pub async fn approve(&self, who: &Who, id: i64) -> Result<ActionRequest, ActionError> {
        let result = self.approve_once(who, id).await;
        self.look_again_if_read_only(result)
    }

    async fn approve_once(&self, who: &Who, id: i64) -> Result<ActionRequest, ActionError> {
        self.expire_due(now_ms()).await?;
        let request = self.control.request(id).await?.ok_or(ActionError::NotFound(id))?;
        let now = now_ms();
        if let Err(refusal) = decide::decide_approval(&who.name, who.role, &request, self.mode.read_only(), now) {
            self.audit_refusal(
                who,
                AuditAction::Refused(Attempt::Approval),
                &request.site,
                "",
                format!("request {id}: {}", refusal.message),
            )
            .await;
            return Err(ActionError::Refused(refusal));
        }
        let kind = request.kind;
        let change = SiteChange {
            site: request.site.clone(),
            state: MaintenanceState::requested(request.kind, request.message.clone(), request.expected_end_ms),
            changed_by: who.name.clone(),
            at_ms: now,
        };
        let entries = vec![
            audit(
                &who.name,
                AuditAction::Maintenance(kind, ActionStep::Approved),
                &request.site,
                &request.reason,
                format!("request {id} by {}", request.requested_by),
                now,
            ),
            audit(
                &who.name,
                AuditAction::Maintenance(kind, ActionStep::Executed),
                &request.site,
                &request.reason,
                format!("request {id}; approved by {}", who.name),
                now,
            ),
        ];
        let detail = format!("approved by {} and executed", who.name);
        let moved = self
            .control
            .transition(
                id,
                &[ActionState::Pending],
                Transition { state: ActionState::Executed, approved_by: Some(&who.name), at_ms: now, detail: &detail },
                Some(&change),
                entries,
            )
            .await?;
        if !moved {
            let now_state = self.control.request(id).await?.map_or("gone", |r| r.state.as_str());
            return Err(ActionError::Refused(Refusal {
                status: 409,
                code: "conflict",
                message: format!("request {id} is {now_state} now; someone else acted on it first"),
            }));
        }
        self.changed();
        let executed = self.control.request(id).await?.ok_or(ActionError::NotFound(id))?;
        self.effect(executed).await
    }

    /// Cancels a pending request (its requester, or an admin).
    pub async fn cancel(&self, who: &Who, id: i64) -> Result<ActionRequest, ActionError> {
        let result = self.cancel_once(who, id).await;
        self.look_again_if_read_only(result)
    }

    async fn cancel_once(&self, who: &Who, id: i64) -> Result<ActionRequest, ActionError> {
        let request = self.control.request(id).await?.ok_or(ActionError::NotFound(id))?;
        if let Err(refusal) = decide::decide_cancel(&who.name, who.role, &request, self.mode.read_only()) {
            self.audit_refusal(who, AuditAction::Refused(Attempt::Cancel), &request.site, "", format!("request {id}: {}", refusal.message))
                .await;
            return Err(ActionError::Refused(refusal));
        }
        let now = now_ms();
        let detail = format!("cancelled by {}", who.name);
        let entry = audit(
            &who.name,
            AuditAction::Maintenance(request.kind, ActionStep::Cancelled),
            &request.site,
            &request.reason,
            format!("request {id}"),
            now,
        );
        let moved = self
            .control
            .transition(
                id,
                &[ActionState::Pending],
                Transition { state: ActionState::Cancelled, approved_by: None, at_ms: now, detail: &detail },
                None,
                vec![entry],
            )
            .await?;
        if moved {
            self.changed();
        }
        self.control.request(id).await?.ok_or(ActionError::NotFound(id))
    }

    /// Expires pending requests whose approval time is over.
    pub async fn expire_due(&self, now: i64) -> Result<(), StoreError> {
        for r in self.control.requests(200).await? {
            if r.state == ActionState::Pending && now >= r.expires_at_ms {
                let detail = "nobody approved it in time";
                let entry = audit(
                    "crowsnest",
                    AuditAction::Maintenance(r.kind, ActionStep::Expired),
                    &r.site,
                    &r.reason,
                    format!("request {} by {}", r.id, r.requested_by),
                    now,
                );
                let transition = Transition { state: ActionState::Expired, approved_by: None, at_ms: now, detail };
                if self.control.transition(r.id, &[ActionState::Pending], transition, None, vec![entry]).await? {
                    self.changed();
                }
            }
        }
        Ok(())
    }

    /// Publishes an executed request's site to the edge; a failure marks it failed and audits it.
    async fn effect(&self, request: ActionRequest) -> Result<ActionRequest, ActionError> {
        match self.publish_site(&request.site).await {
            Ok(()) => Ok(request),
            Err(why) => {
                let now = now_ms();
                let detail = format!("the state changed but the edge was not written: {why}");
                let entry = audit(
                    "crowsnest",
                    AuditAction::Maintenance(request.kind, ActionStep::Failed),
                    &request.site,
                    &request.reason,
                    detail.clone(),
                    now,
                );
                self.control
                    .transition(
                        request.id,
                        &[ActionState::Executed],
                        Transition { state: ActionState::Failed, approved_by: None, at_ms: now, detail: &detail },
                        None,
                        vec![entry],
                    )
                    .await?;
                self.changed();
                Ok(self.control.request(request.id).await?.unwrap_or(request))
            }
        }
    }

    /// What every site's edge should serve: the stored state, or a break-glass change taken
    /// here and not yet replayed (it is newer than what the replica says). One read of each
    /// store for all sites.
    async fn desired_all(&self) -> Result<std::collections::HashMap<String, MaintenanceState>, String> {
        let records = self.control.sites().await.map_err(|e| e.to_string())?;
        let mut pending = self.pending_by_site().await;
        Ok(records
            .into_iter()
            .map(|r| {
                let state = pending.remove(&r.name).map_or(r.state, |e| e.state);
                (r.name, state)
            })
            .collect())
    }

    /// Writes one site's desired state to the edge.
    async fn publish_site(&self, site: &str) -> Result<(), String> {
        let state = self.desired_all().await?.remove(site).ok_or_else(|| format!("no site {site}"))?;
        self.write_edge(site, state, now_ms()).await
    }

    /// A site's state as published at `now`: with its Retry-After bucket, which moves as the
    /// expected end nears.
    /// Off is one state whatever message was kept with it.
    fn stamped(&self, state: MaintenanceState, now: i64) -> Option<(MaintenanceState, u64)> {
        state.on.then(|| {
            let bucket = self.edge.bucket(&state, now);
            (state, bucket)
        })
    }

    async fn write_edge(&self, site: &str, state: MaintenanceState, now: i64) -> Result<(), String> {
        let edge = self.edge.clone();
        let name = site.to_string();
        let written = state.clone();
        tokio::task::spawn_blocking(move || edge.publish(&name, &written, now))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("{}: {e}", self.edge.dir().display()))?;
        let stamped = self.stamped(state, now);
        if let Ok(mut published) = self.published.lock() {
            published.insert(site.to_string(), stamped);
        }
        Ok(())
    }

    /// Makes the edge match the control store for every site (at start, and after a failure).
    pub async fn publish_all(&self) {
        self.publish(false).await;
    }

    /// Writes the sites whose desired state (or Retry-After bucket) differs from what this
    /// instance last wrote: a change made elsewhere (another region, a replayed break-glass
    /// change streamed back by the replica) reaches this region's edge within one interval.
    pub async fn sync_edge(&self) -> usize {
        let written = self.publish(true).await;
        if written > 0 {
            self.changed();
        }
        written
    }

    /// Writes every configured site, or with `only_changed` those whose stamped state differs
    /// from what was last written; returns how many were written.
    async fn publish(&self, only_changed: bool) -> usize {
        let now = now_ms();
        let mut desired = match self.desired_all().await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sites' state to publish the edge");
                return 0;
            }
        };
        let mut written = 0;
        for site in self.site_names() {
            let Some(state) = desired.remove(&site) else {
                tracing::error!(site, "the site is configured but not in the control store yet; its edge is left as it is");
                continue;
            };
            if only_changed {
                let want = self.stamped(state.clone(), now);
                if self.published.lock().map(|p| p.get(&site) == Some(&want)).unwrap_or(false) {
                    continue;
                }
            }
            match self.write_edge(&site, state, now).await {
                Ok(()) => written += 1,
                Err(e) => tracing::error!(site, error = %e, "cannot publish the site's maintenance state to the edge"),
            }
        }
        written
    }

    /// Keeps this region's edge in step with the control state every `interval`, on every
    /// instance, primary or secondary.
    pub async fn run_edge_sync(self, interval: std::time::Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.local.expire_break_glass(now_ms()).await {
                tracing::warn!(error = %e, "cannot expire waiting break-glass changes");
            }
            self.sync_edge().await;
        }
    }

    /// Expires due requests every few seconds, so the page shows them expired without a click.
    pub async fn run_expiry(self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            if self.mode.read_only() {
                continue;
            }
            if let Err(e) = self.expire_due(now_ms()).await {
                tracing::warn!(error = %e, "cannot expire action requests");
            }
            if let Err(e) = self.replay_pending().await {
                tracing::warn!(error = %e, "cannot replay break-glass changes yet");
            }
        }
    }

    /// Everything the Actions page shows.
    pub async fn board(&self) -> Result<ActionsBoard, StoreError> {
        let now = now_ms();
        if !self.mode.read_only() {
            self.expire_due(now).await?;
        }
        Ok(ActionsBoard {
            sites: self.sites().await?,
            requests: self.control.requests(50).await?,
            approval_ttl_seconds: self.ttl_ms() / 1000,
            form_key: crate::auth::random_token(),
            read_only: self.mode.read_only(),
            refusal: {
                let m = self.mode.get();
                m.read_only.then(|| app::model::read_only_refusal(m.mode, &m.reason, m.since_ms))
            },
            break_glass: self.local.recent_break_glass(20).await?,
            break_glass_closed: if self.mode.read_only() { self.break_glass_closed() } else { None },
            evaluated_at_ms: now,
        })
    }

    /// Every configured site as this region serves it: stored state, a pending break-glass
    /// change over it, and what users are seen to get.
    pub async fn sites(&self) -> Result<Vec<SiteView>, StoreError> {
        let records = self.control.sites().await?;
        let mut pending = self.pending_by_site().await;
        let sites = self
            .estate
            .sites
            .iter()
            .map(|s| {
                let r = records.iter().find(|r| r.name == s.name);
                let mut view = SiteView {
                    name: s.name.clone(),
                    hostnames: self
                        .estate
                        .hostnames
                        .iter()
                        .filter(|h| h.site.as_deref() == Some(&s.name))
                        .map(|h| h.name.clone())
                        .collect(),
                    two_person: s.two_person,
                    state: r.map(|r| r.state.clone()).unwrap_or_default(),
                    changed_by: r.and_then(|r| r.changed_by.clone()),
                    changed_at_ms: r.and_then(|r| r.changed_at_ms),
                    observed: self.observations.get(&s.name),
                    pending_replay: None,
                };
                // A break-glass change not yet replayed is what this region's edge serves now.
                if let Some(e) = pending.remove(&s.name) {
                    let kind = e.state.kind();
                    view.pending_replay =
                        Some(format!("{} by {} at {} (break-glass on this instance)", kind.phrase(), e.actor, app::format::utc(e.at_ms)));
                    view.state = e.state;
                    view.changed_by = Some(e.actor);
                    view.changed_at_ms = Some(e.at_ms);
                }
                view
            })
            .collect();
        Ok(sites)
    }
}
