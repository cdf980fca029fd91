//! The chores: background loops besides the engines. The mode watch (and what happens when this
//! instance is promoted or finds a primary again), the user directory, action expiry, the edge
//! sync, site observation, session cleanup, peers and config drift.

use crate::actions::observe::Observations;
use crate::actions::ActionService;
use crate::auth::Directory;
use crate::config::Estate;
use crate::control_state::adopt_config;
use crate::mode::drift::Drift;
use crate::mode::{ModeWatch, OtherNodes};
use crate::peers::PeerBook;
use crate::store::{ControlStore, LocalStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tower_sessions::ExpiredDeletion;
use tower_sessions_sqlx_store::SqliteStore;

/// What the chores read and write.
pub(super) struct ChoreInputs {
    /// The config.
    pub(super) estate: Arc<Estate>,
    /// Control state (guarded).
    pub(super) control: ControlStore,
    /// This instance's own state.
    pub(super) local: LocalStore,
    /// The other control nodes the mode watch looks at.
    pub(super) others: OtherNodes,
    /// The mode.
    pub(super) mode: ModeWatch,
    /// Guarded actions.
    pub(super) actions: ActionService,
    /// Incident updates (their break-glass journal is replayed with the actions').
    pub(super) incidents: crate::incidents::IncidentService,
    /// Users by name.
    pub(super) directory: Directory,
    /// What the sites' balancers were seen serving.
    pub(super) observations: Observations,
    /// Peers' reports.
    pub(super) peers: PeerBook,
    /// How this config differs from the primary's.
    pub(super) drift: Drift,
}

/// Starts every chore.
pub(super) fn start(c: ChoreInputs) -> Vec<JoinHandle<()>> {
    let interval = Duration::from_secs(c.estate.probes.interval_seconds);
    let look_limit = Duration::from_millis(c.estate.probes.timeout_ms);
    let on_primary = {
        let (control, estate, actions, incidents) = (c.control.clone(), c.estate.clone(), c.actions.clone(), c.incidents.clone());
        move || {
            let (control, estate, actions, incidents) = (control.clone(), estate.clone(), actions.clone(), incidents.clone());
            async move {
                if let Err(e) = adopt_config(&control, &estate).await {
                    tracing::error!(error = %e, "promoted to primary but cannot adopt this config");
                }
                if let Err(e) = actions.replay_pending().await {
                    tracing::error!(error = %e, "promoted to primary but cannot replay break-glass changes yet");
                }
                if let Err(e) = incidents.replay_pending().await {
                    tracing::error!(error = %e, "promoted to primary but cannot replay break-glass incident updates yet");
                }
            }
        }
    };
    let on_primary_elsewhere = {
        let (actions, incidents) = (c.actions.clone(), c.incidents.clone());
        move |primary: ControlStore| {
            let (actions, incidents) = (actions.clone(), incidents.clone());
            async move {
                if let Err(e) = actions.replay_pending_into(&primary).await {
                    tracing::warn!(error = %e, "the primary answers but the break-glass journal cannot be replayed into it yet");
                }
                if let Err(e) = incidents.replay_pending_into(&primary).await {
                    tracing::warn!(error = %e, "the primary answers but the incident journal cannot be replayed into it yet");
                }
            }
        }
    };
    let sessions = SqliteStore::new(c.local.pool());
    vec![
        tokio::spawn(c.mode.clone().run(c.control.clone(), c.others, (interval, look_limit), on_primary, on_primary_elsewhere)),
        tokio::spawn(c.directory.run(c.control.clone())),
        tokio::spawn(c.actions.clone().run_expiry()),
        tokio::spawn(c.actions.run_edge_sync(interval)),
        tokio::spawn(c.incidents.run(interval)),
        tokio::spawn(crate::actions::observe::run(c.estate.clone(), c.observations)),
        tokio::spawn(async move {
            let _ = sessions.continuously_delete_expired(Duration::from_secs(60)).await;
        }),
        tokio::spawn(crate::peers::run(c.estate.clone(), c.peers, c.local, c.mode.clone())),
        tokio::spawn(c.drift.run(c.estate, c.control, c.mode, interval)),
    ]
}
