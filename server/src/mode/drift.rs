//! Config drift: which config wins when instances disagree. The primary's config is the source
//! of control state (users, sites, declared records); a secondary never writes its own, and
//! shows how its config differs from what the primary wrote, so a stale config is seen before
//! the day it is promoted.

use crate::config::Estate;
use crate::store::{ControlStore, DesiredRecord, UserRecord};
use std::collections::BTreeSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How `estate` differs from the stored control state, in words. Pure.
pub fn differences(estate: &Estate, users: &[UserRecord], sites: &[String], records: &[DesiredRecord]) -> Vec<String> {
    let mut out = Vec::new();
    // Only config users: managed users live in the control store alone.
    let mine: BTreeSet<(String, &str)> = estate.users.iter().map(|u| (u.name.clone(), u.role.as_str())).collect();
    let stored: BTreeSet<(String, &str)> = users.iter().filter(|u| !u.managed).map(|u| (u.name.clone(), u.role.as_str())).collect();
    for (name, role) in mine.difference(&stored) {
        out.push(format!("user {name} ({role}) is in this config, not in the primary's"));
    }
    for (name, role) in stored.difference(&mine) {
        out.push(format!("user {name} ({role}) is in the primary's config, not in this one"));
    }
    let my_sites: BTreeSet<&str> = estate.sites.iter().map(|s| s.name.as_str()).collect();
    let stored_sites: BTreeSet<&str> = sites.iter().map(String::as_str).collect();
    for s in my_sites.difference(&stored_sites) {
        out.push(format!("site {s} is in this config, not in the primary's"));
    }
    for s in stored_sites.difference(&my_sites) {
        out.push(format!("site {s} is in the primary's config, not in this one"));
    }
    let my_records: BTreeSet<DesiredRecord> = crate::control_state::desired_records(estate).into_iter().collect();
    let stored_records: BTreeSet<DesiredRecord> = records.iter().cloned().collect();
    let (extra, missing) = (my_records.difference(&stored_records).count(), stored_records.difference(&my_records).count());
    if extra + missing > 0 {
        out.push(format!("declared DNS records differ: {extra} only in this config, {missing} only in the primary's"));
    }
    out
}

/// The latest differences, refreshed while this instance is read-only.
#[derive(Clone, Default)]
pub struct Drift(Arc<RwLock<Vec<String>>>);

impl Drift {
    /// The differences now (empty on a primary).
    pub fn get(&self) -> Vec<String> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Compares this config with the control state every `interval` while `mode` is a
    /// secondary; on a primary its own config is the control state, so there is nothing to show.
    pub async fn run(self, estate: Arc<Estate>, control: ControlStore, mode: crate::mode::ModeWatch, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let found = if mode.get().mode == app::model::Mode::Secondary {
                let read = async {
                    let users = control.users().await?;
                    let sites: Vec<String> = control.sites().await?.into_iter().map(|s| s.name).collect();
                    let records = control.desired_records().await?;
                    Ok::<_, crate::store::StoreError>(differences(&estate, &users, &sites, &records))
                };
                match read.await {
                    Ok(d) => d,
                    // The replica may be unreachable; the banner already says so.
                    Err(_) => continue,
                }
            } else {
                Vec::new()
            };
            *self.0.write().unwrap_or_else(|e| e.into_inner()) = found;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::auth::Role;

    fn user(name: &str, role: Role, managed: bool) -> UserRecord {
        UserRecord { name: name.into(), role, password_hash: String::new(), disabled: false, managed, sessions_valid_after_ms: 0 }
    }

    #[test]
    fn a_secondary_names_how_its_config_differs_from_the_primarys() {
        let text = r#"
[instance]
name = "sin-1"
region = "sin"
[[regions]]
name = "sin"
display = "Singapore"
primary = true
[[sites]]
name = "web"
[[users]]
name = "alice"
role = "oncall"
password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
"#;
        let estate = crate::config::parse(std::path::Path::new("sin.toml"), text).unwrap();
        let web = vec!["web".to_string()];
        // (stored users, stored sites, differences)
        let table: Vec<(Vec<UserRecord>, Vec<String>, Vec<&str>)> = vec![
            (vec![user("alice", Role::Oncall, false)], web.clone(), vec![]),
            // Managed users are not config; they never count as drift.
            (vec![user("alice", Role::Oncall, false), user("dan", Role::Admin, true)], web.clone(), vec![]),
            (
                vec![user("alice", Role::Admin, false)],
                web.clone(),
                vec![
                    "user alice (oncall) is in this config, not in the primary's",
                    "user alice (admin) is in the primary's config, not in this one",
                ],
            ),
            (
                vec![user("alice", Role::Oncall, false)],
                vec!["api".to_string()],
                vec!["site web is in this config, not in the primary's", "site api is in the primary's config, not in this one"],
            ),
        ];
        for (users, sites, want) in table {
            assert_eq!(differences(&estate, &users, &sites, &[]), want);
        }
    }
}
