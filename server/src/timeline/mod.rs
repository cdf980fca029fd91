//! The incident timeline: for a window, what this instance saw (status changes, alerts and
//! notices from its local store, its own audit chain), what the control store holds (audit
//! entries, incident updates) and what every reachable peer saw (asked over
//! `GET /api/v1/peer/timeline` with the peer's token), merged in order with the region that saw
//! each. `evaluate` turns stored rows into events and writes the Markdown; this module reads.

pub mod evaluate;

use crate::config::Estate;
use crate::store::{ControlStore, LocalStore, StoreError};
use app::model::{Timeline, TimelineEvent, VantageRead};
use evaluate::Vantage;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where peers serve what they saw.
pub const PEER_PATH: &str = "/api/v1/peer/timeline";
/// The widest window asked for: a day (observations are kept `probes.retention_hours`).
pub const MAX_WINDOW_MS: i64 = 7 * 86_400_000;
/// At most this many of its own events a peer sends (a report is at most 1 MiB).
pub const PEER_EVENTS: usize = 2_000;

/// A window that makes sense: `to` after `from`, at most [`MAX_WINDOW_MS`].
pub fn check_window(from_ms: i64, to_ms: i64) -> Result<(i64, i64), String> {
    if to_ms <= from_ms {
        return Err("the window's end must come after its start".into());
    }
    if to_ms - from_ms > MAX_WINDOW_MS {
        return Err(format!("a window is at most {} days; narrow it", MAX_WINDOW_MS / 86_400_000));
    }
    Ok((from_ms, to_ms))
}

fn labels(estate: &Estate) -> BTreeMap<String, String> {
    estate
        .hosts
        .iter()
        .map(|h| {
            let region = estate.regions.iter().find(|r| r.name == h.region).map_or(h.region.as_str(), |r| r.display.as_str());
            (h.name.clone(), format!("{} ({}, {region})", h.name, h.tier))
        })
        .collect()
}

/// What this instance itself saw in the window: status changes, alerts that fired or resolved,
/// notices, and the entries of its own audit chain (break-glass), all from its local store.
pub async fn own_events(estate: &Estate, local: &LocalStore, from_ms: i64, to_ms: i64) -> Result<Vec<TimelineEvent>, StoreError> {
    let region = estate.own_region().display.clone();
    let seen = Vantage { instance: &estate.instance.name, region: &region };
    let limit = (evaluate::MAX_EVENTS * 50) as i64;
    let rows = local.observations_between(from_ms, to_ms, limit).await?;
    let mut events = evaluate::status_changes(&rows, &labels(estate), &seen);
    events.extend(evaluate::alert_events(&rows, &seen));
    events.extend(evaluate::notification_events(&local.outbox_between(from_ms, to_ms, evaluate::MAX_EVENTS as i64).await?, &seen));
    let chain = local.local_audit_chain().await?;
    let in_window: Vec<_> = chain.into_iter().filter(|e| (from_ms..to_ms).contains(&e.entry.at_ms)).collect();
    events.extend(evaluate::audit_events(&in_window, &seen));
    Ok(evaluate::merge(vec![events]).0)
}

/// What the control store holds for the window: audit entries and incident updates.
pub async fn control_events(estate: &Estate, control: &ControlStore, from_ms: i64, to_ms: i64) -> Result<Vec<TimelineEvent>, StoreError> {
    let region = estate.own_region().display.clone();
    let seen = Vantage { instance: &estate.instance.name, region: &region };
    let filter = app::action::AuditFilter { since_ms: Some(from_ms), until_ms: Some(to_ms), ..Default::default() };
    let (entries, _) = control.audit_page(&filter, evaluate::MAX_EVENTS as i64).await?;
    let mut events = evaluate::audit_events(&entries, &seen);
    let updates = control.incident_updates(from_ms).await?;
    let titles: BTreeMap<String, String> =
        crate::incidents::evaluate::fold(&updates).into_iter().map(|i| (i.key.clone(), i.title.clone())).collect();
    let in_window: Vec<_> = updates.into_iter().filter(|u| (from_ms..to_ms).contains(&u.at_ms)).collect();
    events.extend(evaluate::incident_events(&in_window, &titles, &seen));
    Ok(events)
}

/// The whole timeline of a window: this instance, the control store, and every peer.
pub async fn timeline(estate: &Estate, local: &LocalStore, control: &ControlStore, (from_ms, to_ms): (i64, i64)) -> Timeline {
    let region = estate.own_region().display.clone();
    let mut vantages = Vec::new();
    let mut lists = Vec::new();
    match own_events(estate, local, from_ms, to_ms).await {
        Ok(events) => {
            vantages.push(VantageRead { vantage: estate.instance.name.clone(), region: region.clone(), events: events.len(), error: None });
            lists.push(events);
        }
        Err(e) => vantages.push(VantageRead {
            vantage: estate.instance.name.clone(),
            region: region.clone(),
            events: 0,
            error: Some(e.to_string()),
        }),
    }
    match control_events(estate, control, from_ms, to_ms).await {
        Ok(events) => {
            vantages.push(VantageRead { vantage: "control store".into(), region: region.clone(), events: events.len(), error: None });
            lists.push(events);
        }
        Err(e) => vantages.push(VantageRead { vantage: "control store".into(), region, events: 0, error: Some(e.to_string()) }),
    }
    let timeout = Duration::from_millis(estate.probes.timeout_ms.max(1000) * 2);
    let client = crate::peers::client(timeout, &estate.tls);
    let path = format!("{PEER_PATH}?from_ms={from_ms}&to_ms={to_ms}");
    let asks = estate.peers.iter().map(|peer| {
        let (client, path) = (client.clone(), path.clone());
        async move { (peer, crate::peers::fetch_json::<Vec<TimelineEvent>>(&client, peer, &path, timeout).await) }
    });
    for (peer, answer) in futures::future::join_all(asks).await {
        let region = estate.regions.iter().find(|r| r.name == peer.region).map_or(peer.region.clone(), |r| r.display.clone());
        match answer {
            Ok(events) => {
                // A peer speaks for itself only.
                let events: Vec<TimelineEvent> = events.into_iter().filter(|e| e.vantage == peer.name).collect();
                vantages.push(VantageRead { vantage: peer.name.clone(), region, events: events.len(), error: None });
                lists.push(events);
            }
            Err(e) => vantages.push(VantageRead { vantage: peer.name.clone(), region, events: 0, error: Some(e.to_string()) }),
        }
    }
    let (events, truncated) = evaluate::merge(lists);
    Timeline { from_ms, to_ms, events, vantages, truncated }
}
