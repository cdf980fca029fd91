//! The server's side of the app's `Console` seam: turns config, the health board and the
//! control store into the data model the pages render.

use crate::actions::ActionService;
use crate::backlog::engine::LoaderBoard;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::dns::engine::{DnsBoard, RecordCheck};
use crate::dns::evaluate::AddressBook;
use crate::health::engine::{HealthBoard, Target};
use crate::health::evaluate::Policy;
use crate::replication::engine::ReplicationBoard;
use crate::replication::evaluate::ClusterSpec;
use crate::store::{ControlStore, LocalStore};
use app::api::Console;
use app::error::ConsoleError;
use app::model::{self, Backlog, Dns, Instance, Mode, Overview, Replication, Topology};
use futures::future::BoxFuture;
use std::sync::Arc;

/// The boards the engines publish to and the console reads.
pub struct Boards {
    /// Host health.
    pub health: HealthBoard,
    /// DNS answers and statuses.
    pub dns: DnsBoard,
    /// Replication readings and lag history.
    pub replication: ReplicationBoard,
    /// Loader reports.
    pub backlog: LoaderBoard,
    /// Peers' reports and reachability.
    pub peers: crate::peers::PeerBook,
    /// How this instance's config differs from the primary's (on a secondary).
    pub drift: crate::mode::drift::Drift,
    /// The alerts the alert engine evaluates.
    pub alerts: crate::alerts::AlertBoard,
}

/// Everything the pages read, shared by all requests.
pub struct ConsoleState {
    estate: Arc<Estate>,
    board: HealthBoard,
    replication: ReplicationBoard,
    clusters: Vec<ClusterSpec>,
    backlog: LoaderBoard,
    control: ControlStore,
    targets: Vec<Target>,
    policy: Policy,
    dns: DnsBoard,
    checks: Arc<Vec<RecordCheck>>,
    book: AddressBook,
    local: LocalStore,
    actions: ActionService,
    mode: crate::mode::ModeWatch,
    peers: crate::peers::PeerBook,
    drift: crate::mode::drift::Drift,
    alerts: crate::alerts::AlertBoard,
    /// Incidents told to the public (set by [`ConsoleState::with_incidents`]).
    incidents: Option<crate::incidents::IncidentService>,
    /// The DNS snapshot of the board's latest round, built once per round: a 10,000-record zone
    /// is evaluated once, not once per page view, scrape, record page and event.
    dns_snapshot: std::sync::Mutex<Option<(u64, Arc<Dns>)>>,
    /// The topology of the latest generation and second: every render, scrape and event in
    /// that second reads one evaluation (what the page cache shares anyway), not one each.
    topology_memo: std::sync::Mutex<Option<((u64, i64), Arc<Topology>)>>,
}

impl ConsoleState {
    /// Wires the console to its sources.
    pub fn new(
        estate: Arc<Estate>,
        boards: Boards,
        control: ControlStore,
        checks: Arc<Vec<RecordCheck>>,
        local: LocalStore,
        actions: ActionService,
        mode: crate::mode::ModeWatch,
    ) -> Self {
        let Boards { health: board, dns, replication, backlog, peers, drift, alerts } = boards;
        let clusters = crate::replication::engine::specs(&estate);
        let book = AddressBook::from_estate(&estate);
        let targets = estate.hosts.iter().map(Target::of).collect();
        let policy = Policy::of_config(&estate.probes, &estate.tls);
        ConsoleState {
            estate,
            board,
            replication,
            clusters,
            backlog,
            control,
            targets,
            policy,
            dns,
            checks,
            book,
            local,
            actions,
            mode,
            peers,
            drift,
            alerts,
            incidents: None,
            dns_snapshot: Default::default(),
            topology_memo: Default::default(),
        }
    }

    /// Reads and posts incidents through `incidents`.
    pub fn with_incidents(mut self, incidents: crate::incidents::IncidentService) -> Self {
        self.incidents = Some(incidents);
        self
    }

    /// What this instance itself saw in a window, for a peer's timeline.
    pub async fn own_timeline(&self, from_ms: i64, to_ms: i64) -> Result<Vec<model::TimelineEvent>, crate::store::StoreError> {
        crate::timeline::own_events(&self.estate, &self.local, from_ms, to_ms).await
    }

    /// The incident service, once wired.
    pub fn incident_service(&self) -> Option<&crate::incidents::IncidentService> {
        self.incidents.as_ref()
    }

    /// Moves after every audit entry this instance appends (logins, users, actions).
    pub fn audit_changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.control.audit_changes()
    }

    /// The replication board the replication engine publishes to.
    pub fn replication_board(&self) -> &ReplicationBoard {
        &self.replication
    }

    /// The alerts the alert engine publishes each round.
    pub fn alert_board(&self) -> &crate::alerts::AlertBoard {
        &self.alerts
    }

    /// The loader board scrapes and pushes feed.
    pub fn backlog_board(&self) -> &LoaderBoard {
        &self.backlog
    }

    /// Replication evaluated at `now_ms`.
    pub fn replication_at(&self, now_ms: i64) -> Replication {
        crate::replication::view::replication(&self.replication, &self.estate, &self.clusters, now_ms)
    }

    /// The DNS board the DNS engine publishes to.
    pub fn dns_board(&self) -> &DnsBoard {
        &self.dns
    }

    /// The DNS snapshot as of the DNS engine's latest round, shared.
    pub fn dns_snapshot(&self) -> Arc<Dns> {
        // The round is read before the board, so the snapshot is at least as new as its key.
        let round = self.dns.rounds();
        // Held while building: one build per round however many tabs ask at once (a panic in a
        // build leaves the cache usable, hence into_inner).
        let mut cached = self.dns_snapshot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, dns)) = cached.as_ref().filter(|(r, _)| *r == round) {
            return dns.clone();
        }
        // The old snapshot goes before the new one is built, so 10,000 records are not held
        // twice (unless a render still holds the old one).
        *cached = None;
        let dns = Arc::new(self.dns_at(now_ms()));
        *cached = Some((round, dns.clone()));
        drop(cached);
        crate::memory::release();
        dns
    }

    /// The DNS snapshot evaluated at `now_ms`.
    pub fn dns_at(&self, now_ms: i64) -> Dns {
        crate::dns::view::dns(&self.estate, &self.checks, &self.dns, &self.book, now_ms)
    }

    /// A counter that moves whenever any engine completes a round (or a loader pushes): what a
    /// rendered page and each live event are stamped with. Boards count after storing their data,
    /// so state read after this value is at least as new as it.
    pub fn generation(&self) -> u64 {
        self.board.rounds()
            + self.dns.rounds()
            + self.replication.rounds()
            + self.backlog.rounds()
            + self.actions.generation()
            + self.peers.rounds()
    }

    /// The health board the probe engine publishes to.
    pub fn board(&self) -> &HealthBoard {
        &self.board
    }

    /// The estate this console watches.
    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// Primary while the control store accepts writes (see `mode.rs`).
    pub fn mode(&self) -> Mode {
        self.mode.get().mode
    }

    /// The topology evaluated at `now_ms` (tests pass their own clock).
    pub fn topology_at(&self, now_ms: i64) -> Topology {
        // With no peers there is nothing to compare: skip the report, whose area summaries
        // evaluate the whole DNS snapshot, on every topology render and event.
        if self.estate.peers.is_empty() {
            return self.own_topology_at(now_ms);
        }
        let own = self.vantage_report_at(now_ms);
        let display = |region: &str| -> &str {
            self.estate.regions.iter().find(|r| r.name == region).map(|r| r.display.as_str()).unwrap_or("an unknown region")
        };
        let known = self.peers.snapshot();
        let peers: Vec<crate::peers::evaluate::PeerView<'_>> = known
            .iter()
            .map(|(status, report)| crate::peers::evaluate::PeerView { status, display: display(&status.region), report: report.as_ref() })
            .collect();
        let vantages = crate::peers::evaluate::vantages(&own, &peers, now_ms);
        Topology { vantages, ..own.topology }
    }

    /// The audit head this instance last appended or verified, for its peers to keep.
    pub async fn audit_head(&self) -> Option<(i64, String)> {
        self.local.audit_head().await.ok().flatten()
    }

    /// What this instance serves its peers at `now_ms`: its facts and own observations only.
    pub fn vantage_report_at(&self, now_ms: i64) -> app::vantage::VantageReport {
        let topology = self.own_topology_at(now_ms);
        let areas = vec![
            crate::overview::health(&topology),
            crate::overview::dns(&self.dns_snapshot()),
            crate::overview::replication(&self.replication_at(now_ms)),
            crate::overview::backlog(&self.backlog()),
        ];
        app::vantage::VantageReport {
            instance: self.instance(),
            topology,
            peers: self.peers.statuses(),
            areas,
            audit_head: None,
            alerts: self.alerts.seen_here(),
            told: self.alerts.told().0,
            sending: self.alerts.told().1,
            at_ms: now_ms,
        }
    }

    fn own_topology_at(&self, now_ms: i64) -> Topology {
        let health = crate::health::view::Sources { targets: &self.targets, board: &self.board, policy: self.policy };
        crate::health::view::topology(&self.estate, &health, &self.dns, &self.book, now_ms)
    }
}

impl crate::alerts::Snapshots for ConsoleState {
    fn snapshot(&self, now_ms: i64) -> crate::alerts::Snapshot {
        crate::alerts::Snapshot {
            topology: self.own_topology_at(now_ms),
            dns: self.dns_snapshot(),
            replication: self.replication_at(now_ms),
            backlog: crate::backlog::view::backlog(&self.backlog, now_ms),
            instance: app::api::Console::instance(self),
            peers: self.peers.statuses(),
            observed: self.actions.observed(),
            elsewhere: self
                .peers
                .snapshot()
                .into_iter()
                .filter(|(status, _)| status.reachable)
                .filter_map(|(status, report)| Some((status.name, report?.alerts)))
                .collect(),
            told_elsewhere: self
                .peers
                .snapshot()
                .into_iter()
                .filter(|(status, _)| status.reachable)
                .filter_map(|(status, report)| report.map(|r| (status.name, r.told, r.sending)))
                .collect(),
        }
    }
}

impl Console for ConsoleState {
    fn instance(&self) -> Instance {
        let state = self.mode.get();
        let mode = state.mode;
        Instance {
            mode_reason: state.reason,
            mode_since_ms: state.since_ms,
            name: self.estate.instance.name.clone(),
            region: self.estate.instance.region.clone(),
            region_display: self.estate.own_region().display.clone(),
            mode,
            read_only: state.read_only,
            primary: state.primary,
            primary_lost_since_ms: state.primary_lost_since_ms,
            primary_lost_seconds: state.primary_lost_since_ms.map(|t| (now_ms() - t).max(0) as f64 / 1000.0),
            replica_unreplayed_bytes: state.lag.map(|l| l.unreplayed_bytes),
            replica_last_replay_seconds: state.lag.and_then(|l| l.last_replay_seconds_ago),
            config_differences: self.drift.get(),
            control_store: self.control.backend().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    fn topology(&self) -> Topology {
        let now = now_ms();
        // The generation first: what is evaluated is at least as new as the key.
        let key = (self.generation(), now.div_euclid(1000));
        if let Some(kept) = self.topology_memo.lock().ok().and_then(|m| m.as_ref().filter(|(k, _)| *k == key).map(|(_, t)| t.clone())) {
            return (*kept).clone();
        }
        let topology = Arc::new(self.topology_at(now));
        if let Ok(mut memo) = self.topology_memo.lock() {
            *memo = Some((key, topology.clone()));
        }
        (*topology).clone()
    }

    fn dns(&self) -> Dns {
        (*self.dns_snapshot()).clone()
    }

    fn dns_page(&self, query: app::paging::DnsQuery) -> (Dns, app::paging::DnsPage) {
        let all = self.dns_snapshot();
        let page = app::paging::dns_page(&all.records, &query);
        let dns = Dns {
            soa: all.soa.clone(),
            declared_serial: all.declared_serial,
            soa_skew: all.soa_skew,
            resolvers: all.resolvers.clone(),
            records: Vec::new(),
            probe_interval_seconds: all.probe_interval_seconds,
            evaluated_at_ms: all.evaluated_at_ms,
        };
        (dns, page)
    }

    fn replication(&self) -> Replication {
        self.replication_at(now_ms())
    }

    fn backlog(&self) -> Backlog {
        crate::backlog::view::backlog(&self.backlog, now_ms())
    }

    fn alerts(&self) -> model::Alerts {
        (*self.alerts.get()).clone()
    }

    fn dns_record(&self, key: String) -> BoxFuture<'_, Result<Option<model::DnsRecordDetail>, ConsoleError>> {
        Box::pin(async move {
            let Some(record) = self.dns_snapshot().records.iter().find(|r| format!("{} {}", r.name, r.kind) == key).cloned() else {
                return Ok(None);
            };
            let rows = self
                .local
                .dns_history(&key, 200)
                .await
                .map_err(|e| ConsoleError::Store { store: "local".into(), message: e.to_string() })?;
            let changes = rows
                .into_iter()
                .map(|r| model::DnsChange { at_ms: r.at_ms, status: r.status, detail: r.detail, answers: r.answers })
                .collect();
            Ok(Some(model::DnsRecordDetail { record, changes }))
        })
    }

    fn actions(&self) -> BoxFuture<'_, Result<app::action::ActionsBoard, ConsoleError>> {
        Box::pin(async move { self.actions.board().await.map_err(control_error) })
    }

    fn audit(&self, filter: app::action::AuditFilter) -> BoxFuture<'_, Result<app::action::AuditPage, ConsoleError>> {
        Box::pin(async move {
            const PAGE: i64 = 50;
            let (entries, total) = self.control.audit_page(&filter, PAGE + 1).await.map_err(control_error)?;
            let more = entries.len() as i64 > PAGE;
            let entries: Vec<app::action::AuditRow> = entries
                .into_iter()
                .take(PAGE as usize)
                .map(|e| app::action::AuditRow {
                    seq: e.seq,
                    at_ms: e.entry.at_ms,
                    actor: e.entry.actor,
                    action: e.entry.action,
                    target: e.entry.target,
                    reason: e.entry.reason,
                    detail: e.entry.detail,
                    hash: e.hash,
                })
                .collect();
            let next_before_seq = if more { entries.last().map(|e| e.seq) } else { None };
            Ok(app::action::AuditPage { entries, next_before_seq, total })
        })
    }

    fn users(&self) -> BoxFuture<'_, Result<Vec<app::auth::UserView>, ConsoleError>> {
        Box::pin(async move {
            let users = self.control.users().await.map_err(control_error)?;
            Ok(users
                .into_iter()
                .map(|u| app::auth::UserView { name: u.name, role: u.role, managed: u.managed, disabled: u.disabled })
                .collect())
        })
    }

    fn timeline(&self, from_ms: i64, to_ms: i64) -> BoxFuture<'_, model::Timeline> {
        Box::pin(async move { crate::timeline::timeline(&self.estate, &self.local, &self.control, (from_ms, to_ms)).await })
    }

    fn incidents(&self) -> model::IncidentsBoard {
        self.incidents.as_ref().map(|i| i.board(now_ms())).unwrap_or_default()
    }

    fn overview(&self) -> BoxFuture<'_, Result<Overview, ConsoleError>> {
        Box::pin(async move {
            // As this region's edge serves them, with what users are seen to get.
            let sites = self.actions.sites().await.map_err(control_error)?;
            let (replication, backlog, topology) = (self.replication(), self.backlog(), self.topology());
            Ok(crate::overview::overview(&topology, &self.dns_snapshot(), &replication, &backlog, sites))
        })
    }
}

fn control_error(e: crate::store::StoreError) -> ConsoleError {
    ConsoleError::Store { store: "control".into(), message: e.to_string() }
}
