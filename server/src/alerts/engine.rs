//! The alert engine: every probe interval, reads what the console judges from this vantage,
//! moves the alerts on (`evaluate`), posts to every Alertmanager when something fired or
//! resolved or a resend is due, and publishes the result for the Alerts page.

use super::alertmanager::{self, Posted, Sender};
use super::evaluate::{self, Book, Judged};
use super::notice;
use super::receivers::Direct;
use super::rules::Rules;
use super::sending::{Round, Sending};
use super::silence::{self, MaintenanceScope};
use super::standing;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::store::{AckRecord, SiteRecord};
use app::model::{AlertSeen, AlertState, Alerts, Backlog, DirectReceiver, Dns, Instance, Receiver, Replication, Silence, Topology};
use app::vantage::PeerStatus;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The latest evaluation, for the Alerts page, its JSON, `/metrics` and the peers' reports.
#[derive(Clone)]
pub struct AlertBoard {
    alerts: Arc<watch::Sender<Arc<Alerts>>>,
    seen_here: Arc<std::sync::RwLock<Vec<AlertSeen>>>,
    /// Test notifications asked for, as (receiver, who asked), sent with the next round.
    tests: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    /// What this instance has told as firing, and whether it still sends (a list kept a while
    /// after it stopped is its handover to the next sender).
    told: Arc<std::sync::RwLock<(Vec<AlertSeen>, bool)>>,
}

impl Default for AlertBoard {
    fn default() -> Self {
        AlertBoard {
            alerts: Arc::new(watch::channel(Arc::new(Alerts::default())).0),
            seen_here: Default::default(),
            tests: Default::default(),
            told: Default::default(),
        }
    }
}

impl AlertBoard {
    /// What the last round found.
    pub fn get(&self) -> Arc<Alerts> {
        self.alerts.borrow().clone()
    }

    /// Moves after every round.
    pub fn changes(&self) -> watch::Receiver<Arc<Alerts>> {
        self.alerts.subscribe()
    }

    /// The alerts this instance's own vantage finds now, for its peers.
    pub fn seen_here(&self) -> Vec<AlertSeen> {
        self.seen_here.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Asks for a test notification to direct receiver `receiver` from this instance, on
    /// behalf of `by`; false when there is no such receiver.
    pub fn request_test(&self, receiver: &str, by: &str) -> bool {
        if !self.get().direct.iter().any(|d| d.name == receiver) {
            return false;
        }
        // One waiting test per receiver: asking again before the round adds nothing, so the
        // queue and the outbox stay bounded however often the button is pressed.
        if let Ok(mut tests) = self.tests.lock() {
            if !tests.iter().any(|(r, _)| r == receiver) {
                tests.push((receiver.to_string(), by.to_string()));
            }
        }
        true
    }

    /// The alerts this instance has told as firing (while it sends, or handed over for a while
    /// after it stopped), and whether it sends now.
    pub fn told(&self) -> (Vec<AlertSeen>, bool) {
        self.told.read().map(|t| t.clone()).unwrap_or_default()
    }

    pub(super) fn set_told(&self, told: Vec<AlertSeen>, sending: bool) {
        if let Ok(mut kept) = self.told.write() {
            *kept = (told, sending);
        }
    }

    pub(super) fn take_tests(&self) -> Vec<(String, String)> {
        self.tests.lock().map(|mut t| std::mem::take(&mut *t)).unwrap_or_default()
    }

    fn publish(&self, alerts: Alerts, book: &Book, rules: &Rules) {
        let seen = book
            .iter()
            .filter(|(_, a)| a.seen_here && a.state != AlertState::Resolved)
            .map(|((key, labels), _)| AlertSeen {
                name: rules.get(*key).name.to_string(),
                labels: labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            })
            .collect();
        if let Ok(mut kept) = self.seen_here.write() {
            *kept = seen;
        }
        // Live pages hear of a round only when something they show changed: an unchanged
        // round updates the stored time without waking every event stream.
        self.alerts.send_if_modified(|kept| {
            let same = Alerts { evaluated_at_ms: kept.evaluated_at_ms, ..alerts.clone() } == **kept;
            *kept = Arc::new(alerts);
            !same
        });
    }
}

/// What the rules read each round: the pages' own snapshots, from this vantage only.
pub struct Snapshot {
    /// Hosts and hostnames.
    pub topology: Topology,
    /// Records.
    pub dns: Arc<Dns>,
    /// Replicas.
    pub replication: Replication,
    /// Loaders.
    pub backlog: Backlog,
    /// What each reachable peer's own vantage finds now, by peer name.
    pub elsewhere: Vec<(String, Vec<AlertSeen>)>,
    /// What each reachable peer has told as firing, by peer name, and whether it still sends.
    pub told_elsewhere: Vec<(String, Vec<AlertSeen>, bool)>,
    /// This instance, with its mode.
    pub instance: Instance,
    /// Every peer as this instance sees it.
    pub peers: Vec<PeerStatus>,
    /// What users got from each site, looked at through its balancer.
    pub observed: BTreeMap<String, app::action::SiteObservation>,
}

/// Where the snapshots come from (the console, which builds the pages from the same).
pub trait Snapshots: Send + Sync + 'static {
    /// Everything judged at `now_ms`.
    fn snapshot(&self, now_ms: i64) -> Snapshot;
}

/// Starts the engine; it runs until aborted. `engines` are the other engines' clocks, whose
/// overdue rounds are an alert of their own. Silences, acknowledgements and maintenance are
/// read from `control` every round. With direct receivers (`[[alerting.webhooks]]`, `slack`,
/// `pagerduty`, `email`), notices go through `local`'s outbox.
pub fn start(
    source: Arc<dyn Snapshots>,
    estate: Arc<Estate>,
    board: AlertBoard,
    engines: Vec<Arc<crate::engines::Engine>>,
    stores: (crate::store::ControlStore, crate::store::LocalStore),
    incidents: crate::incidents::IncidentService,
) -> JoinHandle<()> {
    tokio::spawn(run(source, estate, board, engines, stores, incidents))
}

/// What on-call decided about alerts, as last read from the control store.
#[derive(Default)]
struct Decided {
    silences: Vec<Silence>,
    acks: Vec<AckRecord>,
    sites: Vec<SiteRecord>,
    /// Whether the last read succeeded (an Alertmanager is synced only from a good read).
    fresh: bool,
}

impl Decided {
    /// Reads them again; on failure the last ones stay (a silence does not lapse because a
    /// replica hiccuped).
    async fn read(&mut self, control: &crate::store::ControlStore, now_ms: i64) {
        let read = async {
            Ok::<_, crate::store::StoreError>((
                control.silences(now_ms - 86_400_000).await?,
                control.acks(now_ms - 7 * 86_400_000).await?,
                control.sites().await?,
            ))
        };
        match read.await {
            Ok((silences, acks, sites)) => (self.silences, self.acks, self.sites, self.fresh) = (silences, acks, sites, true),
            Err(e) => {
                self.fresh = false;
                tracing::warn!(error = %e, "alerting: cannot read silences, acknowledgements or maintenance; keeping the last read");
            }
        }
    }
}

async fn run(
    source: Arc<dyn Snapshots>,
    estate: Arc<Estate>,
    board: AlertBoard,
    engines: Vec<Arc<crate::engines::Engine>>,
    (control, local): (crate::store::ControlStore, crate::store::LocalStore),
    incidents: crate::incidents::IncidentService,
) {
    let rules = Rules::of_config(&estate.alerting);
    let resend_ms = estate.alerting.resend_seconds as i64 * 1000;
    let timeout = Duration::from_millis(estate.probes.timeout_ms.max(1000));
    let client = match crate::tls::outbound(estate.tls.ca_file.as_deref(), estate.tls.system_roots).timeout(timeout).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "alerting: no HTTP client; alerts are shown but not sent");
            reqwest::Client::new()
        }
    };
    let region = estate.own_region().display.clone();
    let public_url = estate.auth.public_url.clone().unwrap_or_default();
    let sender = Sender { instance: &estate.instance.name, region: &region, public_url: public_url.trim_end_matches('/') };
    let mut posting = Posting::new(&estate.alerting.alertmanagers, resend_ms);
    let ca_pem = estate.tls.ca_file.as_ref().and_then(|path| std::fs::read(path).ok());
    let direct = Direct::all(&estate.alerting, ca_pem.as_deref(), timeout);
    let listed: Vec<DirectReceiver> =
        direct.iter().map(|d| DirectReceiver { name: d.name().to_string(), kind: d.kind().to_string(), target: d.target() }).collect();
    let mut sending = None;
    if !direct.is_empty() {
        let kept = local.told_kept().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "alerting: cannot read what was told before; a restart may page again");
            Vec::new()
        });
        // Warm once a failing host has had the rounds its damping needs to show, two more for
        // the engines' and peers' first answers, and a probe's timeout.
        let interval_ms = estate.probes.interval_seconds.max(1) as i64 * 1000;
        let rounds = crate::engines::damping::Damping::of_config(&estate.probes).agree as i64 + 2;
        let warm_from = now_ms() + rounds * interval_ms + timeout.as_millis() as i64;
        sending = Some(Sending::new(&estate.alerting, direct.clone(), kept, warm_from));
    }
    let scope = MaintenanceScope::of(&estate);
    let mut decided = Decided::default();
    // Deliveries run on their own clock: a retry is not held to the probe interval, and a slow
    // receiver never delays a round.
    // Subscribers are told incident updates through the same outbox (they get no alerts).
    let subscribers = Direct::all(&estate.status_page.subscribers.as_receivers(), ca_pem.as_deref(), timeout);
    let every_receiver: Vec<Direct> = direct.iter().chain(subscribers.iter()).cloned().collect();
    let deliveries = (!every_receiver.is_empty()).then(|| {
        let retention_ms = estate.probes.retention_hours as i64 * 3_600_000;
        tokio::spawn(super::direct::run(local.clone(), every_receiver, client.clone(), retention_ms))
    });
    let status_page_url = estate.status_page.public_url.clone().unwrap_or_default();
    let _stop_deliveries = deliveries.map(AbortOnDrop);
    let mut book = Book::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = now_ms();
        let Snapshot { topology, dns, replication, backlog, elsewhere, told_elsewhere, instance, peers, observed } = source.snapshot(now);
        decided.read(&control, now).await;
        // A scheduled maintenance under way mutes its components' alerts like a silence.
        let mut silences = decided.silences.clone();
        silences.extend(crate::incidents::evaluate::maintenance_silences(&incidents.incidents(), &estate.status_page.components, now));
        let stale: Vec<(&'static str, i64)> =
            engines.iter().map(|e| e.snapshot()).filter_map(|e| e.stale_for_ms(now).map(|age| (e.name, age))).collect();
        let judged = Judged {
            topology: &topology,
            dns: &dns,
            replication: &replication,
            backlog: &backlog,
            instance: &instance,
            peers: &peers,
            stale_engines: &stale,
        };
        let mut others = evaluate::Elsewhere::new();
        for (peer, seen) in elsewhere {
            for alert in seen {
                others.entry((alert.name, alert.labels.into_iter().collect())).or_default().push(peer.clone());
            }
        }
        let hosts = topology.regions.iter().map(|r| r.hosts.len()).sum();
        let mut found = standing::isolate(evaluate::inhibit(evaluate::findings(&judged)), hosts, &instance.name, &others, &peers);
        found.extend(standing::unobserved(&decided.sites, &observed));
        match local.pending_break_glass().await {
            Ok(pending) => found.extend(standing::break_glass(&pending, &instance.name)),
            Err(e) => tracing::warn!(error = %e, "alerting: cannot read pending break-glass changes"),
        }
        let changed = evaluate::step(&mut book, found, &others, &rules, now);
        let names = |key| rules.get(key).name;
        let fingerprint = |key, labels: &evaluate::Labels| notice::fingerprint(rules.get(key).name, labels);
        let muted = silence::muted(&book, &names, &silences, &scope, &decided.sites, now);
        let acked = silence::acknowledged(&book, &fingerprint, &decided.acks);
        let sends = super::direct::sends(&instance, &peers);
        if let Some(sending) = sending.as_mut() {
            let round = Round { book: &book, rules: &rules, sender: &sender, peers: &peers, now_ms: now };
            let found_elsewhere: Vec<&(String, evaluate::Labels)> = others.keys().collect();
            sending.round(&round, sends, &told_elsewhere, &found_elsewhere, (&acked, &muted), &decided.sites, &local, &board).await;
        }
        if sends && !subscribers.is_empty() {
            tell_subscribers(&local, &subscribers, &incidents.incidents(), (&sender, &status_page_url), now).await;
        }
        if changed {
            let mut moved = Vec::new();
            for ((key, labels), alert) in book.iter().filter(|(_, a)| a.fired_ms == Some(now) || a.resolved_ms == Some(now)) {
                let state: &str = alert.state.into();
                let rule = rules.get(*key);
                tracing::info!(alert = rule.name, ?labels, state, summary = %alert.finding.summary, "alert {state}");
                let words = labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
                moved.push((format!("{} {words}", rule.name), state == "firing", <&str>::from(rule.severity).to_string()));
            }
            // Kept for the timeline: what fired and resolved, long after the board lets go.
            if let Err(e) = local.record_alerts(now, &moved).await {
                tracing::warn!(error = %e, "alerting: cannot keep the alerts' changes for the timeline");
            }
        }
        // An Alertmanager hears of maintenance as silences of its own (it knows no sites);
        // without one there is nothing to build.
        let mut for_alertmanager = Vec::new();
        if !posting.receivers.is_empty() {
            for_alertmanager.extend(silences.iter().cloned());
            for_alertmanager.extend(scope.as_silences(&decided.sites, now));
        }
        posting.round(&client, &book, &rules, &sender, changed, sends && decided.fresh, &for_alertmanager, now).await;
        let mut shown = super::view::alerts(&book, &rules, &sender, &posting.receivers, now);
        super::view::decorate(&mut shown, &book, &rules, &muted, &acked, &silences, now);
        shown.direct = listed.clone();
        if sending.is_some() {
            match local.outbox_recent(20).await {
                Ok(rows) => shown.deliveries = rows.iter().map(super::direct::delivery).collect(),
                Err(e) => tracing::warn!(error = %e, "alerting: cannot read the outbox for the page"),
            }
        }
        board.publish(shown, &book, &rules);
    }
}

/// How far back an update is still told to subscribers by whoever sends now: a region taking
/// over re-tells the last quarter hour under the same keys (a receiver that honours the key, or
/// an email's Message-ID, sees each once), and a restart never replays the whole history.
const SUBSCRIPTION_WINDOW_MS: i64 = 15 * 60_000;

/// Keeps every recent incident update in the outbox for each subscriber, once per key.
async fn tell_subscribers(
    local: &crate::store::LocalStore,
    subscribers: &[Direct],
    incidents: &[app::model::Incident],
    (sender, page): (&Sender<'_>, &str),
    now_ms: i64,
) {
    for i in incidents {
        for u in i.updates.iter().filter(|u| u.at_ms >= now_ms - SUBSCRIPTION_WINDOW_MS) {
            let n = notice::incident(u, &i.title, page, sender, now_ms);
            super::direct::enqueue(local, subscribers, &n, now_ms).await;
        }
    }
}

/// The Alertmanagers this instance posts to, and how each last went.
struct Posting {
    receivers: Vec<Receiver>,
    /// Which receivers did not store the last batch: they are posted again next round.
    unsent: Vec<bool>,
    /// The silences last synced to every Alertmanager, and when (synced again on a change and
    /// every resend).
    synced: Option<(Vec<Silence>, i64)>,
    resend_ms: i64,
}

impl Posting {
    fn new(urls: &[String], resend_ms: i64) -> Posting {
        let receivers: Vec<Receiver> = urls.iter().map(|url| Receiver { url: url.clone(), last_ok_ms: None, error: None }).collect();
        Posting { unsent: vec![true; receivers.len()], receivers, synced: None, resend_ms }
    }

    /// Posts the batch where it is due (something `changed`, a failure, a resend), and, when
    /// `syncs` (this instance sends, its read of the silences is fresh), the silences.
    #[allow(clippy::too_many_arguments)]
    async fn round(
        &mut self,
        client: &reqwest::Client,
        book: &Book,
        rules: &Rules,
        sender: &Sender<'_>,
        changed: bool,
        syncs: bool,
        silences: &[Silence],
        now: i64,
    ) {
        if self.receivers.is_empty() {
            return;
        }
        let batch = alertmanager::batch(book, rules, sender, self.resend_ms, now);
        for (receiver, unsent) in self.receivers.iter_mut().zip(&mut self.unsent) {
            let due = changed || *unsent || receiver.last_ok_ms.is_none_or(|at| now - at >= self.resend_ms);
            if !due {
                continue;
            }
            match alertmanager::post(client, &receiver.url, &batch).await {
                Posted::Stored => (receiver.last_ok_ms, receiver.error, *unsent) = (Some(now), None, false),
                Posted::PartlyRefused(why) => {
                    // The valid alerts were stored: sending the batch again changes nothing.
                    tracing::warn!(receiver = %receiver.url, %why, "alerting: Alertmanager refused part of a batch");
                    (receiver.last_ok_ms, receiver.error, *unsent) = (Some(now), Some(why), false);
                }
                Posted::Failed(why) => {
                    tracing::warn!(receiver = %receiver.url, %why, "alerting: post failed; retrying next round");
                    (receiver.error, *unsent) = (Some(why), true);
                }
            }
        }
        let due = self.synced.as_ref().is_none_or(|(last, at)| last != silences || now - at >= self.resend_ms);
        if syncs && due {
            let mut all_ok = true;
            for receiver in self.receivers.iter_mut() {
                if let Err(why) = alertmanager::sync_silences(client, &receiver.url, silences, now).await {
                    tracing::warn!(receiver = %receiver.url, %why, "alerting: cannot sync silences; retrying next round");
                    receiver.error = Some(why);
                    all_ok = false;
                }
            }
            self.synced = all_ok.then(|| (silences.to_vec(), now));
        }
    }
}

/// Aborts the task when the engine stops (it is aborted itself at shutdown).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
