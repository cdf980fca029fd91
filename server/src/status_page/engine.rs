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
    peers: crate::peers::PeerBook,
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
            let reports = regions_seen(&estate, &peers);
            let snap = source.snapshot(now);
            let seen = Seen { snap: &snap, sites: &sites, clocks: &clocks, incidents: &told, peers: &reports };
            let mut page = page(&estate, &seen, &mut since, now);
            keep_uptime(&local, &mut page, elapsed, now).await;
            incidents.published(now, page.components.iter().map(Shown::public).collect());
            // A handful of small files, written atomically: quick enough for the runtime.
            if let Err(e) = page.write(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "status page: cannot write it; nginx serves the last one written");
            }
        }
    })
}

/// Each peer's region (display name) and latest topology while it answers.
fn regions_seen(estate: &Estate, peers: &crate::peers::PeerBook) -> Vec<(String, Option<(app::model::Topology, i64)>)> {
    peers
        .snapshot()
        .into_iter()
        .map(|(status, report)| {
            let region = estate.regions.iter().find(|r| r.name == status.region).map_or(status.region.clone(), |r| r.display.clone());
            (region, report.filter(|_| status.reachable).map(|r| (r.topology, r.at_ms)))
        })
        .collect()
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
            // Any known status outranks unknown: a day that began before the first rounds is
            // the day as measured, and only a day with no data at all stays unknown.
            let rank = if c.status == ComponentStatus::Unknown { -1 } else { c.status as i64 };
            (c.name.clone(), today, measured, up, c.status.word(), rank)
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
    let mut statuses = seen_in(c, &snap.topology);
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

/// What `c`'s hosts and hostnames are in `topology` (a peer's report: its replication and
/// backlog are not in it).
pub fn seen_in(c: &ComponentConfig, topology: &app::model::Topology) -> Vec<Status> {
    let mut statuses = Vec::new();
    for name in &c.hosts {
        statuses.push(topology.hosts().find(|h| &h.name == name).map_or(Status::Unknown, |h| h.health.status));
    }
    for name in &c.hostnames {
        let dns = topology.hostnames.iter().find(|h| &h.name == name).and_then(|h| h.dns_status);
        statuses.push(dns.map_or(Status::Unknown, |s| s.meaning()));
    }
    statuses
}

/// Each region's view of `c`: this instance's (`own`) first, then each peer's from its latest
/// report (unknown when the report is older than `stale_after_ms` or the peer unanswering). A
/// component with no hosts or hostnames (or no peers) has no regional view.
pub fn by_region(
    c: &ComponentConfig,
    own: (&str, ComponentStatus),
    peers: &[(String, Option<(app::model::Topology, i64)>)],
    told: &Told,
    stale_after_ms: i64,
    now_ms: i64,
) -> Vec<(String, ComponentStatus)> {
    if peers.is_empty() || (c.hosts.is_empty() && c.hostnames.is_empty()) {
        return Vec::new();
    }
    let mut out = vec![(own.0.to_string(), own.1)];
    for (region, report) in peers {
        let members = |statuses: Vec<Status>| Members {
            statuses,
            maintenance: told.maintenance.contains(&c.name),
            manual: false,
            declared: told.declared.get(&c.name).copied().unwrap_or_default(),
        };
        let status = match report {
            Some((topology, at_ms)) => evaluate::component(&members(seen_in(c, topology)), now_ms - at_ms > stale_after_ms),
            None => evaluate::component(&members(Vec::new()), true),
        };
        out.push((region.clone(), status));
    }
    out
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

/// What one publication is made from.
#[derive(Clone, Copy)]
pub struct Seen<'a> {
    /// The console's judged snapshot.
    pub snap: &'a Snapshot,
    /// The sites' maintenance.
    pub sites: &'a [SiteRecord],
    /// The probe engines' clocks.
    pub clocks: &'a [EngineSnapshot],
    /// The incidents.
    pub incidents: &'a [Incident],
    /// Each peer's region and latest topology with its time (none: not answering).
    pub peers: &'a [(String, Option<(app::model::Topology, i64)>)],
}

/// The page as of `now_ms`; `since` keeps when each component's status last changed.
pub fn page(estate: &Estate, seen: &Seen<'_>, since: &mut BTreeMap<String, (ComponentStatus, i64)>, now_ms: i64) -> Page {
    let Seen { snap, sites, clocks, incidents, peers } = *seen;
    let config = &estate.status_page;
    let told = Told::of(incidents, now_ms);
    let region = estate.own_region().display.clone();
    let stale_after_ms = (config.stale_after_intervals * estate.probes.interval_seconds.max(1) * 1000) as i64;
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
                regions: by_region(c, (&region, status), peers, &told, stale_after_ms, now_ms),
            }
        })
        .collect();
    Page {
        title: config.title.clone(),
        url: estate.auth.public_url.clone().unwrap_or_default(),
        instance: estate.instance.name.clone(),
        region,
        as_of_ms: now_ms,
        stale_after_ms,
        components,
        incidents: incidents.iter().cloned().map(|i| incidents::as_of(i, now_ms)).collect(),
        public_url: config.public_url.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;

    /// A peer's topology in which `lb2` has `health` and www's DNS is `dns`.
    fn topology(health: &str, dns: &str) -> app::model::Topology {
        serde_json::from_value(serde_json::json!({
            "regions": [{"name": "sin", "display": "Singapore", "primary": false, "status": health, "hosts": [{
                "name": "lb2", "region": "sjc", "tier": "web_lb", "address": "127.0.1.2", "check": "tcp 443",
                "health": {"status": health, "latency_ms": null, "checked_at_ms": 0, "detail": ""}, "certificate": null
            }]}],
            "hostnames": [{"name": "www.example.test", "tier": "web_lb", "site": null, "lands_on": [], "dns_status": dns}],
            "probe_interval_seconds": 5,
            "evaluated_at_ms": 0
        }))
        .unwrap()
    }

    /// (each peer's report, its age) → what each region is shown
    #[test]
    fn each_region_is_judged_from_its_own_report_and_an_old_or_missing_one_is_unknown() {
        let website = ComponentConfig {
            name: "Website".into(),
            hosts: vec!["lb2".into()],
            hostnames: vec!["www.example.test".into()],
            ..Default::default()
        };
        let now = 1_000_000;
        let peers = vec![
            ("Singapore".to_string(), Some((topology("ok", "ok"), now - 1_000))),
            ("Amsterdam".to_string(), Some((topology("critical", "ok"), now - 1_000))),
            ("Tokyo".to_string(), Some((topology("ok", "ok"), now - 60_000))),
            ("Sydney".to_string(), None),
        ];
        let got = by_region(&website, ("San Jose", MajorOutage), &peers, &Told::default(), 15_000, now);
        let want: Vec<(String, ComponentStatus)> =
            [("San Jose", MajorOutage), ("Singapore", Operational), ("Amsterdam", PartialOutage), ("Tokyo", Unknown), ("Sydney", Unknown)]
                .into_iter()
                .map(|(r, s)| (r.to_string(), s))
                .collect();
        assert_eq!(got, want);
        // Nothing peers report on, or no peers: no regional view.
        let data = ComponentConfig { name: "Data".into(), databases: vec!["main".into()], ..Default::default() };
        assert!(by_region(&data, ("San Jose", Operational), &peers, &Told::default(), 15_000, now).is_empty());
        assert!(by_region(&website, ("San Jose", Operational), &[], &Told::default(), 15_000, now).is_empty());
        // A maintenance under way covers every region's view.
        let told = Told { maintenance: ["Website".to_string()].into(), ..Default::default() };
        assert!(by_region(&website, ("San Jose", UnderMaintenance), &peers, &told, 15_000, now)
            .iter()
            .all(|(_, s)| *s == UnderMaintenance));
    }
}
