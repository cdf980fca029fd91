//! Opening the stores: the local store, the control store (guarded by the mode watch, so a
//! secondary cannot write), the other control nodes, and the declaration the last start left.

use super::StartError;
use crate::audit::AuditKey;
use crate::config::Estate;
use crate::control_state::{adopt_config, audit_key, control_url};
use crate::mode::{ModeWatch, OtherNode, OtherNodes};
use crate::store::{ControlStore, DesiredRecord, LocalStore, StoreError};
use std::time::Duration;

/// The stores, open, and what they said at start.
pub(super) struct Stores {
    /// This instance's own state (sessions, observations, break-glass journal).
    pub(super) local: LocalStore,
    /// Control state; every write goes through the mode's guard.
    pub(super) control: ControlStore,
    /// The configured control nodes other than this instance's own.
    pub(super) others: OtherNodes,
    /// Whether this instance may write control state, watched.
    pub(super) mode: ModeWatch,
    /// The declared records the previous start stored: what caches may still hold (`stale`).
    pub(super) declared_before: Vec<DesiredRecord>,
}

/// Opens both stores, learns the mode, and on a primary adopts this config.
pub(super) async fn open(estate: &Estate) -> Result<Stores, StartError> {
    let data_dir = &estate.instance.data_dir;
    let key = audit_key(estate)?;
    let local = LocalStore::open(&data_dir.join("local.db")).await?.keyed(key.clone());
    tower_sessions_sqlx_store::SqliteStore::new(local.pool()).migrate().await.map_err(|source| StoreError::Query {
        store: "local",
        doing: "creating the sessions table",
        source,
    })?;
    let control = ControlStore::open(&control_url(estate)).await?.keep_head_in(local.clone()).keyed(key.clone());
    let others = other_control_nodes(estate, &key)?;
    let mode = ModeWatch::start(&control, &others, Duration::from_millis(estate.probes.timeout_ms)).await;
    let control = control.guarded_by(mode.write_guard());
    // A replica that has no schema yet has no declaration either.
    let declared_before = match control.desired_records().await {
        Ok(records) => records,
        Err(e) if mode.read_only() => {
            tracing::warn!(error = %e, "cannot read declared records from the replica");
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    if mode.read_only() {
        tracing::warn!(reason = %mode.get().reason, "secondary: control state is read from the replica; this config's users, sites and records are not written");
    } else {
        adopt_config(&control, estate).await?;
    }
    Ok(Stores { local, control, others, mode, declared_before })
}

/// The configured control nodes other than this instance's own store, lazily connected.
fn other_control_nodes(estate: &Estate, key: &AuditKey) -> Result<OtherNodes, StoreError> {
    let own = control_url(estate);
    estate
        .control_nodes
        .iter()
        .filter(|n| n.url != own)
        .map(|n| {
            // Keyed: a break-glass change replayed into the returned primary appends there.
            let store = ControlStore::connect_lazy(&n.url)?.keyed(key.clone());
            Ok(OtherNode { name: n.name.clone(), url: n.url.clone(), store })
        })
        .collect()
}
