//! Control state from this config: where the control store is, the audit chain's key, and what
//! a primary adopts from its config (users, sites, declared records).

use crate::audit::{AuditKey, KeyError};
use crate::clock::now_ms;
use crate::config::Estate;
use crate::store::{ControlStore, DesiredRecord, StoreError};

/// The control store URL: the configured one, or SQLite under the data directory.
pub fn control_url(estate: &Estate) -> String {
    estate
        .instance
        .control_db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", estate.instance.data_dir.join("control.db").display()))
}

/// The audit chain's key for this instance: `CROWSNEST_AUDIT_KEY`, `auth.audit_key_file`, or
/// for an embedded store a key made under the data directory. A PostgreSQL control store is
/// shared by every region, so it needs one of the first two (the same secret everywhere).
pub fn audit_key(estate: &Estate) -> Result<AuditKey, KeyError> {
    let shared = control_url(estate).starts_with("postgres");
    AuditKey::resolve(estate.auth.audit_key_file.as_deref(), &estate.instance.data_dir, shared)
}

/// Makes control state follow this instance's config: the primary's config is the source of
/// users, sites and declared records (a secondary's config is not written anywhere).
pub async fn adopt_config(control: &ControlStore, estate: &Estate) -> Result<(), StoreError> {
    control.migrate().await?;
    let users: Vec<(String, String, String)> =
        estate.users.iter().map(|u| (u.name.clone(), u.role.as_str().to_string(), u.password_hash.clone())).collect();
    control.sync_users(&users, now_ms()).await?;
    let sites: Vec<String> = estate.sites.iter().map(|s| s.name.clone()).collect();
    control.ensure_sites(&sites).await?;
    control.replace_desired_records(&desired_records(estate)).await
}

/// Declared records from the zone config, fully qualified.
pub fn desired_records(estate: &Estate) -> Vec<DesiredRecord> {
    let Some(zone) = &estate.zone else { return Vec::new() };
    let origin = zone.origin.trim_end_matches('.');
    let mut out: Vec<DesiredRecord> = zone
        .records
        .iter()
        .flat_map(|r| {
            let name = match r.name.as_str() {
                "@" => format!("{origin}."),
                n if n.ends_with('.') => n.to_string(),
                n => format!("{n}.{origin}."),
            };
            r.values.iter().map(move |v| DesiredRecord {
                name: name.clone(),
                kind: r.kind.as_str().to_string(),
                ttl: r.ttl as i64,
                value: v.clone(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}
