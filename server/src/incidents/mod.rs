//! Incidents and scheduled maintenance told to the public: on-call posts updates (guarded: role,
//! CSRF at the gate, an audit entry with each), the status page and its feed show them, and a
//! maintenance window mutes its components' alerts. On a secondary whose primary is lost an
//! update is taken under break-glass: journaled locally, on this region's page at once, and
//! replayed into the control store exactly once when one is writable.
//!
//! `evaluate` holds the rules (pure); this module the I/O around them.

pub mod evaluate;

use crate::actions::decide::Refusal;
use crate::actions::ActionService;
use crate::audit::{AuditAction, IncidentStep, NewAuditEntry};
use crate::clock::now_ms;
use crate::config::Estate;
use crate::store::{ControlStore, LocalStore, StoreError};
use app::auth::Who;
use app::model::{Incident, IncidentUpdate, IncidentsBoard, PublicComponent};
use evaluate::IncidentForm;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How far back the service reads updates: the feed's and the uptime bar's horizon.
pub const HORIZON_MS: i64 = 90 * 86_400_000;

/// Why an update was not posted.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// Bad input, by field.
    #[error("the update has mistakes: {}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "))]
    Invalid(crate::actions::decide::FieldErrors),
    /// Not allowed here now, with the status that says why.
    #[error("{}", .0.message)]
    Refused(Refusal),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    /// The update as kept.
    pub update: IncidentUpdate,
    /// False when its key was kept before (the same form posted twice): nothing new.
    pub fresh: bool,
    /// Taken under break-glass on this secondary, pending replay.
    pub journaled: bool,
}

/// Posts, reads and replays incident updates; keeps the folded incidents for the status page,
/// the alert engine and the console.
#[derive(Clone)]
pub struct IncidentService {
    control: ControlStore,
    local: LocalStore,
    estate: Arc<Estate>,
    actions: ActionService,
    /// The incidents as last read (control store and this instance's journal), newest first.
    current: Arc<RwLock<Arc<Vec<Incident>>>>,
    /// The status page's components as this instance last published them, and when.
    published: Arc<RwLock<Option<(i64, Vec<PublicComponent>)>>>,
}

impl IncidentService {
    /// A service over the stores; break-glass is judged by `actions`.
    pub fn new(control: ControlStore, local: LocalStore, estate: Arc<Estate>, actions: ActionService) -> Self {
        IncidentService { control, local, estate, actions, current: Default::default(), published: Default::default() }
    }

    /// The incidents as last read, newest first.
    pub fn incidents(&self) -> Arc<Vec<Incident>> {
        self.current.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// Reads the updates again (the control store's, then this instance's journal, which wins
    /// nothing: a key counts once). A control store that cannot be read keeps what was read
    /// before, with the journal read again: a lost primary is exactly when the journal matters.
    pub async fn refresh(&self) {
        let since = now_ms() - HORIZON_MS;
        let kept = match self.control.incident_updates(since).await {
            Ok(updates) => Some(updates),
            Err(e) => {
                tracing::warn!(error = %e, "incidents: cannot read the control store's updates; keeping the last read");
                None
            }
        };
        let pending = self.local.pending_incident_updates().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "incidents: cannot read this instance's journal");
            Vec::new()
        });
        let mut updates = match kept {
            Some(updates) => updates,
            None => self.incidents().iter().flat_map(|i| i.updates.iter().filter(|u| !u.pending_replay).cloned()).collect(),
        };
        updates.extend(pending);
        let folded = Arc::new(evaluate::fold(&updates));
        if let Ok(mut current) = self.current.write() {
            *current = folded;
        }
    }

    /// Reads again every `interval`; runs until aborted.
    pub async fn run(self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            self.refresh().await;
        }
    }

    /// Every component's name, in config order.
    fn component_names(&self) -> Vec<String> {
        self.estate.status_page.components.iter().map(|c| c.name.clone()).collect()
    }

    /// Posts an update from `form` for `who`: into the control store on a primary, into this
    /// instance's journal under break-glass on a secondary whose primary is lost.
    pub async fn post(&self, who: &Who, form: &IncidentForm) -> Result<Posted, IncidentError> {
        let now = now_ms();
        if let Some(why) = app::auth::refusal(who.role, app::auth::Permission::OperateSites) {
            self.audit_refusal(who, form, why.to_string(), now).await;
            return Err(IncidentError::Refused(Refusal { status: 403, code: "forbidden", message: why.to_string() }));
        }
        let incidents = self.incidents();
        let existing = incidents.iter().find(|i| !form.incident.trim().is_empty() && i.key == form.incident.trim());
        let fresh_key = format!("i-{}", &crate::auth::random_token()[..20]);
        let update = evaluate::check(form, existing, &self.component_names(), &who.name, &self.estate.instance.name, &fresh_key, now)
            .map_err(IncidentError::Invalid)?;
        let read_only = self.actions.primary_watch().read_only;
        let posted = if !read_only {
            let detail =
                format!("update {} ({}) on {}: {}", update.key, update.state.word(), update.written_on, update.components.join(", "));
            let audit = NewAuditEntry::new(
                now,
                &who.name,
                AuditAction::Incident(IncidentStep::Posted),
                &format!("incident {}", update.incident),
                &update.title,
                detail,
            );
            let fresh = self.control.add_incident_update(&update, audit).await?;
            Posted { update, fresh, journaled: false }
        } else {
            if let Err(refusal) = self.actions.may_break_glass(who.role) {
                self.audit_refusal(who, form, refusal.message.clone(), now).await;
                return Err(IncidentError::Refused(refusal));
            }
            let fresh = self.local.journal_incident_update(&update).await?;
            if fresh {
                tracing::warn!(incident = %update.incident, by = %who.name, "incident update under break-glass; pending replay");
            }
            Posted { update, fresh, journaled: true }
        };
        self.refresh().await;
        self.actions.changed();
        Ok(posted)
    }

    /// Keeps a refused post in the audit log (the control store's; on a secondary, only the log
    /// line, as for a refused receiver test).
    async fn audit_refusal(&self, who: &Who, form: &IncidentForm, why: String, now: i64) {
        let target =
            if form.incident.trim().is_empty() { "new incident".to_string() } else { format!("incident {}", form.incident.trim()) };
        let entry = NewAuditEntry::new(now, &who.name, AuditAction::Incident(IncidentStep::Refused), &target, form.title.trim(), why);
        if let Err(e) = self.control.append_audit(entry).await {
            tracing::info!(error = %e, by = %who.name, %target, "a refused incident update not in the control store's audit log");
        }
    }

    /// Replays every journaled update into `primary`, each exactly once; stops at the first
    /// failure and tries again later.
    pub async fn replay_pending_into(&self, primary: &ControlStore) -> Result<usize, StoreError> {
        let pending = self.local.pending_incident_updates().await?;
        for u in &pending {
            let outcome = primary.replay_incident_update(u, now_ms()).await?;
            // A crash before this mark is harmless: the key makes the next replay a no-op.
            self.local.mark_incident_replayed(&u.key, outcome.as_str(), now_ms()).await?;
            tracing::info!(key = %u.key, incident = %u.incident, outcome = outcome.as_str(), "incident update replayed");
        }
        if !pending.is_empty() {
            self.refresh().await;
        }
        Ok(pending.len())
    }

    /// Replays into this instance's own control store (once it is promoted or the primary).
    pub async fn replay_pending(&self) -> Result<usize, StoreError> {
        self.replay_pending_into(&self.control).await
    }

    /// Keeps what the status page published, for the console.
    pub fn published(&self, at_ms: i64, components: Vec<PublicComponent>) {
        if let Ok(mut p) = self.published.write() {
            *p = Some((at_ms, components));
        }
    }

    /// The console's Status page at `now_ms`.
    pub fn board(&self, now_ms: i64) -> IncidentsBoard {
        let (published_ms, components) =
            self.published.read().ok().and_then(|p| p.clone()).map_or((None, Vec::new()), |(at, c)| (Some(at), c));
        let incidents: Vec<Incident> =
            self.incidents().iter().filter(|i| evaluate::listed(i, now_ms)).cloned().map(|i| evaluate::as_of(i, now_ms)).collect();
        let watch = self.actions.primary_watch();
        let secondary = watch.read_only.then(|| match self.actions.may_break_glass(app::auth::Role::Oncall) {
            Ok(()) => "The primary is lost: an update posted here is shown on this region's status page at once (break-glass) and \
                       replayed into the primary exactly once when it is back."
                .to_string(),
            Err(why) => format!("Updates are posted on the primary. {}", why.message),
        });
        IncidentsBoard {
            components,
            published_ms,
            public_url: self.estate.status_page.public_url.clone().unwrap_or_default(),
            component_names: self.component_names(),
            incidents,
            form_key: format!("i-{}", &crate::auth::random_token()[..20]),
            secondary,
        }
    }
}
