//! The alert engine: every probe interval, reads what the console judges from this vantage,
//! moves the alerts on (`evaluate`), posts to every Alertmanager when something fired or
//! resolved or a resend is due, and publishes the result for the Alerts page.

use super::alertmanager::{self, Posted, Sender};
use super::direct::Schedule;
use super::evaluate::{self, Book, Judged};
use super::notice::{self, Notice};
use super::receivers::Direct;
use super::rules::Rules;
use super::silence::{self, MaintenanceScope};
use super::standing;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::store::{AckRecord, SilenceRecord, SiteRecord};
use app::model::{AlertSeen, AlertState, Alerts, Backlog, DirectReceiver, Dns, Instance, Receiver, Replication, Topology};
use app::vantage::PeerStatus;
use std::collections::{BTreeMap, BTreeSet};

/// An alert's identity in the book.
type Id = (crate::config::RuleKey, evaluate::Labels);
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
        if let Ok(mut tests) = self.tests.lock() {
            tests.push((receiver.to_string(), by.to_string()));
        }
        true
    }

    /// The alerts this instance has told as firing (while it sends, or handed over for a while
    /// after it stopped), and whether it sends now.
    pub fn told(&self) -> (Vec<AlertSeen>, bool) {
        self.told.read().map(|t| t.clone()).unwrap_or_default()
    }

    fn set_told(&self, told: Vec<AlertSeen>, sending: bool) {
        if let Ok(mut kept) = self.told.write() {
            *kept = (told, sending);
        }
    }

    fn take_tests(&self) -> Vec<(String, String)> {
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
) -> JoinHandle<()> {
    tokio::spawn(run(source, estate, board, engines, stores))
}

/// What on-call decided about alerts, as last read from the control store.
#[derive(Default)]
struct Decided {
    silences: Vec<SilenceRecord>,
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
    let mut receivers: Vec<Receiver> =
        estate.alerting.alertmanagers.iter().map(|url| Receiver { url: url.clone(), last_ok_ms: None, error: None }).collect();
    // Which receivers did not store the last batch: they are posted again next round.
    let mut unsent = vec![true; receivers.len()];
    // Silences are synced to every Alertmanager when they change, and every resend.
    let mut synced: Option<(Vec<SilenceRecord>, i64)> = None;
    let ca_pem = estate.tls.ca_file.as_ref().and_then(|path| std::fs::read(path).ok());
    let direct = Direct::all(&estate.alerting, ca_pem.as_deref(), timeout);
    let listed: Vec<DirectReceiver> =
        direct.iter().map(|d| DirectReceiver { name: d.name().to_string(), kind: d.kind().to_string(), target: d.target() }).collect();
    let (group_wait_ms, repeat_ms) = (estate.alerting.group_wait_seconds as i64 * 1000, estate.alerting.repeat_seconds as i64 * 1000);
    // Only the instance that sends keeps a schedule; it starts from what the last sender told.
    let mut schedule = Schedule::default();
    let mut sending = false;
    let mut inherited: BTreeSet<Id> = BTreeSet::new();
    // What this instance told before it stopped sending, reported until then.
    let mut handover: Option<(Vec<AlertSeen>, i64)> = None;
    // Since when this instance should send but waits for another to stop.
    let mut wanted_since: Option<i64> = None;
    let scope = MaintenanceScope::of(&estate);
    // Sites in maintenance as last seen (None before the first read: no notice at start).
    let mut maintenance_seen: Option<BTreeMap<String, bool>> = None;
    let mut decided = Decided::default();
    // Deliveries run on their own clock: a retry is not held to the probe interval, and a slow
    // receiver never delays a round.
    let deliveries = (!direct.is_empty()).then(|| {
        let retention_ms = estate.probes.retention_hours as i64 * 3_600_000;
        tokio::spawn(super::direct::run(local.clone(), direct.clone(), client.clone(), retention_ms))
    });
    let _stop_deliveries = deliveries.map(AbortOnDrop);
    let mut book = Book::new();
    let mut ticker = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = now_ms();
        let Snapshot { topology, dns, replication, backlog, elsewhere, told_elsewhere, instance, peers, observed } = source.snapshot(now);
        decided.read(&control, now).await;
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
        let muted = silence::muted(&book, &names, &decided.silences, &scope, &decided.sites, now);
        let acked = silence::acknowledged(&book, &fingerprint, &decided.acks);
        let sends = super::direct::sends(&instance, &peers);
        if !direct.is_empty() {
            let id_of =
                |seen: &AlertSeen| rules.all().iter().find(|r| r.name == seen.name).map(|r| (r.key, seen.labels.iter().cloned().collect()));
            // What the sender told, from its report, kept while it cannot be reached; and what
            // a peer that stopped sending handed over.
            let told: BTreeSet<Id> =
                told_elsewhere.iter().filter(|(_, _, sends)| *sends).flat_map(|(_, seen, _)| seen).filter_map(id_of).collect();
            let handed_over: BTreeSet<Id> =
                told_elsewhere.iter().filter(|(_, _, sends)| !*sends).flat_map(|(_, seen, _)| seen).filter_map(id_of).collect();
            let writable_peer = peers.iter().any(|p| p.reachable && p.mode.as_deref() == Some("writable"));
            if !told.is_empty() || writable_peer {
                inherited = told;
            }
            // Take over once every peer has been asked at least once (a restarted primary learns
            // what the survivor told before it sends anything) and no reachable peer still
            // sends (it stops once it sees this one writable), or after TAKEOVER_WAIT_MS.
            let asked_all = peers.iter().all(|p| p.reachable || p.last_ok_ms.is_some() || p.failing_since_ms.is_some());
            let other_sends = told_elsewhere.iter().any(|(_, _, sends)| *sends);
            let waited = *wanted_since.get_or_insert(now) + TAKEOVER_WAIT_MS <= now;
            if !sends || sending {
                wanted_since = None;
            }
            if sends && !sending && asked_all && (!other_sends || waited) {
                wanted_since = None;
                schedule = Schedule::take_over(&book, &inherited.union(&handed_over).cloned().collect(), now);
                sending = true;
            } else if !sends && sending {
                // Hand over: what was told stays in the report a while, for the next sender.
                handover = Some((told_list(&schedule, &rules), now + HANDOVER_MS));
                (schedule, sending) = (Schedule::default(), false);
            }
            let changes = maintenance_changes(&mut maintenance_seen, &decided.sites);
            if sending {
                schedule.adopt(&handed_over);
                let (acked_ids, muted_ids) = (acked.keys().cloned().collect(), muted.keys().cloned().collect());
                let found_elsewhere: BTreeSet<Id> = others
                    .keys()
                    .filter_map(|(name, labels)| id_of(&AlertSeen { name: name.clone(), labels: labels.clone().into_iter().collect() }))
                    .collect();
                let due = schedule.step_after_takeover(&book, &acked_ids, &muted_ids, &found_elsewhere, group_wait_ms, repeat_ms, now);
                let mut notices: Vec<Notice> = super::direct::notice_for(&book, &due, &rules, &sender, now).into_iter().collect();
                if !changes.is_empty() {
                    notices.push(notice::maintenance(changes, &sender, now));
                }
                for n in &notices {
                    super::direct::enqueue(&local, &direct, n, now).await;
                }
                board.set_told(told_list(&schedule, &rules), true);
            } else {
                handover = handover.filter(|(_, until)| now < *until);
                board.set_told(handover.as_ref().map(|(list, _)| list.clone()).unwrap_or_default(), false);
            }
            // A test goes from this instance, sender or not: it checks this region's way out.
            for (receiver, by) in board.take_tests() {
                let to: Vec<Direct> = direct.iter().filter(|d| d.name() == receiver).cloned().collect();
                super::direct::enqueue(&local, &to, &notice::test(&by, &sender, now), now).await;
            }
        }
        if changed {
            for ((key, labels), alert) in book.iter().filter(|(_, a)| a.fired_ms == Some(now) || a.resolved_ms == Some(now)) {
                let state: &str = alert.state.into();
                tracing::info!(alert = rules.get(*key).name, ?labels, state, summary = %alert.finding.summary, "alert {state}");
            }
        }
        if !receivers.is_empty() {
            let batch = alertmanager::batch(&book, &rules, &sender, resend_ms, now);
            for (receiver, unsent) in receivers.iter_mut().zip(&mut unsent) {
                // Posted when something fired or resolved, after a failure, and every resend.
                let due = changed || *unsent || receiver.last_ok_ms.is_none_or(|at| now - at >= resend_ms);
                if !due {
                    continue;
                }
                match alertmanager::post(&client, &receiver.url, &batch).await {
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
            let silences_due = synced.as_ref().is_none_or(|(last, at)| *last != decided.silences || now - at >= resend_ms);
            if sends && decided.fresh && silences_due {
                let mut all_ok = true;
                for receiver in receivers.iter_mut() {
                    if let Err(why) = alertmanager::sync_silences(&client, &receiver.url, &decided.silences, now).await {
                        tracing::warn!(receiver = %receiver.url, %why, "alerting: cannot sync silences; retrying next round");
                        receiver.error = Some(why);
                        all_ok = false;
                    }
                }
                synced = all_ok.then(|| (decided.silences.clone(), now));
            }
        }
        let mut shown = super::view::alerts(&book, &rules, &sender, &receivers, now);
        super::view::decorate(&mut shown, &book, &rules, &muted, &acked, &decided.silences, now);
        shown.direct = listed.clone();
        if !direct.is_empty() {
            match local.outbox_recent(20).await {
                Ok(rows) => shown.deliveries = rows.iter().map(super::direct::delivery).collect(),
                Err(e) => tracing::warn!(error = %e, "alerting: cannot read the outbox for the page"),
            }
        }
        board.publish(shown, &book, &rules);
    }
}

/// How long an instance that stopped sending keeps reporting what it told.
const HANDOVER_MS: i64 = 60_000;

/// How long a new sender waits for a reachable peer that still sends to stop.
const TAKEOVER_WAIT_MS: i64 = 10_000;

/// What `schedule` has told, as peers read it.
fn told_list(schedule: &Schedule, rules: &Rules) -> Vec<AlertSeen> {
    schedule
        .told()
        .map(|(key, labels)| AlertSeen {
            name: rules.get(*key).name.to_string(),
            labels: labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        })
        .collect()
}

/// Sites whose maintenance began or ended since `seen`, which then holds the sites as they are
/// now. The first read only sets `seen`: a restart is not a change.
fn maintenance_changes(seen: &mut Option<BTreeMap<String, bool>>, sites: &[SiteRecord]) -> Vec<notice::MaintenanceChange> {
    let now: BTreeMap<String, bool> = sites.iter().map(|s| (s.name.clone(), s.state.on)).collect();
    let changes = match seen.as_ref() {
        None => Vec::new(),
        Some(before) => sites
            .iter()
            .filter(|s| before.get(&s.name).is_some_and(|on| *on != s.state.on))
            .map(|s| notice::MaintenanceChange {
                site: s.name.clone(),
                on: s.state.on,
                by: s.changed_by.clone(),
                message: s.state.message.clone().filter(|_| s.state.on),
                at: alertmanager::rfc3339(s.changed_at_ms.unwrap_or_default()),
            })
            .collect(),
    };
    *seen = Some(now);
    changes
}

/// Aborts the task when the engine stops (it is aborted itself at shutdown).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
