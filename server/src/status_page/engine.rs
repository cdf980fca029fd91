//! Every probe interval: reads the console's judged snapshot and the sites' maintenance, works
//! out each component (`evaluate`), and writes the page into the edge directory (`publish`).

use super::evaluate::{self, ComponentStatus, Members};
use super::publish::{Page, Shown};
use crate::alerts::engine::{Snapshot, Snapshots};
use crate::config::{ComponentConfig, Estate};
use crate::engines::EngineSnapshot;
use crate::incidents::evaluate as incidents;
use crate::store::SiteRecord;
use app::model::Incident;
use app::model::{Status, Worded};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Starts writing the page into `dir` (the edge directory's `status/`); runs until aborted.
/// `engines` are the probe engines' clocks: a component fed by a stale one shows unknown;
/// `incidents` what on-call told the public.
pub fn start(
    source: Arc<dyn Snapshots>,
    estate: Arc<Estate>,
    engines: Vec<Arc<crate::engines::Engine>>,
    (control, local): (crate::store::ControlStore, crate::store::LocalStore),
    incidents: crate::incidents::IncidentService,
    dir: PathBuf,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds.max(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sites: Vec<SiteRecord> = Vec::new();
        let mut since: BTreeMap<String, (ComponentStatus, i64)> = BTreeMap::new();
        let interval_ms = estate.probes.interval_seconds.max(1) as i64 * 1000;
        let mut last_tick: Option<i64> = None;
        loop {
            ticker.tick().await;
            let now = crate::clock::now_ms();
            // The time since the last publication, at most three intervals (a stall is not
            // time the component was seen in any state).
            let elapsed = last_tick.map_or(interval_ms, |t| (now - t).clamp(0, 3 * interval_ms));
            last_tick = Some(now);
            match control.sites().await {
                Ok(read) => sites = read,
                // The last read stays: a replica's hiccup is not the end of a maintenance.
                Err(e) => tracing::warn!(error = %e, "status page: cannot read the sites' maintenance; keeping the last read"),
            }
            let clocks: Vec<EngineSnapshot> = engines.iter().map(|e| e.snapshot()).collect();
            let told = incidents.incidents();
            let mut page = page(&estate, &source.snapshot(now), &sites, &clocks, &told, &mut since, now);
            keep_uptime(&local, &mut page, elapsed, now).await;
            incidents.published(now, page.components.iter().map(Shown::public).collect());
            // A handful of small files, written atomically: quick enough for the runtime.
            if let Err(e) = page.write(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "status page: cannot write it; nginx serves the last one written");
            }
        }
    })
}

/// Adds this interval to each component's day in the local store and puts the last 90 days
/// on the page. A store that fails leaves the page without bars, never without statuses.
async fn keep_uptime(local: &crate::store::LocalStore, page: &mut Page, elapsed_ms: i64, now_ms: i64) {
    let today = now_ms.div_euclid(86_400_000);
    let rows: Vec<(String, i64, i64, i64, &str, i64)> = page
        .components
        .iter()
        .map(|c| {
            let (measured, up) = match evaluate::counts_up(c.status) {
                Some(up) => (elapsed_ms, if up { elapsed_ms } else { 0 }),
                None => (0, 0),
            };
            (c.name.clone(), today, measured, up, c.status.word(), c.status as i64)
        })
        .collect();
    if let Err(e) = local.add_component_time(today, &rows).await {
        tracing::warn!(error = %e, "status page: cannot keep the uptime history");
        return;
    }
    match local.component_days().await {
        Ok(days) => {
            for c in &mut page.components {
                let mine: Vec<(i64, i64, i64, &str)> =
                    days.iter().filter(|d| d.component == c.name).map(|d| (d.day, d.measured_ms, d.up_ms, d.worst.as_str())).collect();
                c.uptime = Some(evaluate::uptime(&mine, today));
            }
        }
        Err(e) => tracing::warn!(error = %e, "status page: cannot read the uptime history"),
    }
}

/// What each member of `c` is now, whether a site it names (or a scheduled maintenance) has it
/// in maintenance, and what open incidents declare for it.
pub fn members(c: &ComponentConfig, snap: &Snapshot, sites: &[SiteRecord], told: &Told) -> Members {
    let mut statuses = Vec::new();
    for name in &c.hosts {
        statuses.push(snap.topology.hosts().find(|h| &h.name == name).map_or(Status::Unknown, |h| h.health.status));
    }
    for name in &c.hostnames {
        let dns = snap.topology.hostnames.iter().find(|h| &h.name == name).and_then(|h| h.dns_status);
        statuses.push(dns.map_or(Status::Unknown, |s| s.meaning()));
    }
    for name in &c.databases {
        match snap.replication.clusters.iter().find(|d| &d.name == name) {
            Some(cluster) => statuses.extend(cluster.nodes.iter().map(|n| n.status.meaning())),
            None => statuses.push(Status::Unknown),
        }
    }
    for name in &c.loaders {
        statuses.push(snap.backlog.loaders.iter().find(|l| &l.name == name).map_or(Status::Unknown, |l| l.status.meaning()));
    }
    let maintenance = sites.iter().any(|s| s.state.on && c.sites.contains(&s.name)) || told.maintenance.contains(&c.name);
    let declared = told.declared.get(&c.name).copied().unwrap_or_default();
    Members { statuses, maintenance, manual: c.manual, declared }
}

/// What the incidents say about components now.
#[derive(Debug, Default)]
pub struct Told {
    /// Components a scheduled maintenance under way covers.
    pub maintenance: std::collections::BTreeSet<String>,
    /// The worst impact open incidents declare, by component.
    pub declared: BTreeMap<String, app::model::Impact>,
}

impl Told {
    /// From the incidents, at `now_ms`.
    pub fn of(incidents: &[Incident], now_ms: i64) -> Told {
        Told { maintenance: incidents::in_maintenance(incidents, now_ms), declared: incidents::declared(incidents, now_ms) }
    }
}

/// Whether an engine that feeds `c` is stale now.
fn stale(c: &ComponentConfig, clocks: &[EngineSnapshot], now_ms: i64) -> bool {
    let feeds = |engine: &str| match engine {
        "health" => !c.hosts.is_empty(),
        "dns" => !c.hostnames.is_empty(),
        "replication" => !c.databases.is_empty(),
        "backlog" => !c.loaders.is_empty(),
        _ => false,
    };
    clocks.iter().any(|e| feeds(e.name) && e.stale_for_ms(now_ms).is_some())
}

/// The page as of `now_ms`; `since` keeps when each component's status last changed.
pub fn page(
    estate: &Estate,
    snap: &Snapshot,
    sites: &[SiteRecord],
    clocks: &[EngineSnapshot],
    incidents: &[Incident],
    since: &mut BTreeMap<String, (ComponentStatus, i64)>,
    now_ms: i64,
) -> Page {
    let config = &estate.status_page;
    let told = Told::of(incidents, now_ms);
    let components = config
        .components
        .iter()
        .map(|c| {
            let status = evaluate::component(&members(c, snap, sites, &told), stale(c, clocks, now_ms));
            let entry = since.entry(c.name.clone()).or_insert((status, now_ms));
            if entry.0 != status {
                *entry = (status, now_ms);
            }
            Shown {
                name: c.name.clone(),
                group: c.group.clone(),
                description: c.description.clone(),
                status,
                since_ms: entry.1,
                uptime: None,
            }
        })
        .collect();
    Page {
        title: config.title.clone(),
        url: estate.auth.public_url.clone().unwrap_or_default(),
        instance: estate.instance.name.clone(),
        region: estate.own_region().display.clone(),
        as_of_ms: now_ms,
        stale_after_ms: (config.stale_after_intervals * estate.probes.interval_seconds.max(1) * 1000) as i64,
        components,
        incidents: incidents.iter().cloned().map(|i| incidents::as_of(i, now_ms)).collect(),
        public_url: config.public_url.clone().unwrap_or_default(),
    }
}
