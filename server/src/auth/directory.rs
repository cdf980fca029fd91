//! The user directory: every user's role, hash and standing, kept in memory and re-read from
//! the control store every second, so a role change or `crowsnest user disable` from another
//! process takes effect within a second without a database query per request.

use crate::store::{ControlStore, StoreError, UserRecord};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How often the directory re-reads the control store.
pub const REFRESH: Duration = Duration::from_secs(1);

/// Users by name.
#[derive(Clone, Default)]
pub struct Directory {
    users: Arc<RwLock<HashMap<String, UserRecord>>>,
}

impl Directory {
    /// Re-reads every user from `control`.
    pub async fn refresh(&self, control: &ControlStore) -> Result<(), StoreError> {
        let users = control.users().await?;
        if let Ok(mut map) = self.users.write() {
            *map = users.into_iter().map(|u| (u.name.clone(), u)).collect();
        }
        Ok(())
    }

    /// The user with this name.
    pub fn get(&self, name: &str) -> Option<UserRecord> {
        self.users.read().ok()?.get(name).cloned()
    }

    /// Keeps the directory fresh until the task is aborted.
    pub async fn run(self, control: ControlStore) {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.refresh(&control).await {
                tracing::warn!(error = %e, "cannot refresh the user directory; keeping the last one");
            }
        }
    }
}
