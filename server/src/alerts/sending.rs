//! The instance's part in direct notices, round by round: whether it sends (and taking over or
//! handing over when that changes), its `Schedule`, the maintenance notices, the test
//! notifications, and what it reports to its peers as told. The decisions are `direct`'s pure
//! functions; this is the state they need between rounds.

use super::alertmanager::{rfc3339, Sender};
use super::direct::{self, Schedule};
use super::engine::AlertBoard;
use super::evaluate::{Book, Labels};
use super::notice::{self, MaintenanceChange, Notice};
use super::receivers::Direct;
use super::rules::Rules;
use crate::config::{AlertingConfig, RuleKey};
use crate::store::{AckRecord, LocalStore, SiteRecord};
use app::model::AlertSeen;
use app::vantage::PeerStatus;
use std::collections::{BTreeMap, BTreeSet};

/// An alert's identity in the book.
type Id = (RuleKey, Labels);

/// How long an instance that stopped sending keeps reporting what it told.
const HANDOVER_MS: i64 = 60_000;

/// How long a new sender waits for a reachable peer that still sends to stop.
const TAKEOVER_WAIT_MS: i64 = 10_000;

/// What a round knows, for sending.
pub struct Round<'a> {
    /// Every alert.
    pub book: &'a Book,
    /// The rules.
    pub rules: &'a Rules,
    /// Who sends, in notices' words.
    pub sender: &'a Sender<'a>,
    /// Every peer as this instance sees it.
    pub peers: &'a [PeerStatus],
    /// When.
    pub now_ms: i64,
}

/// This instance's sending state between rounds.
pub struct Sending {
    direct: Vec<Direct>,
    group_wait_ms: i64,
    repeat_ms: i64,
    /// Only the instance that sends keeps a schedule; it starts from what the last sender told.
    schedule: Schedule,
    sending: bool,
    /// What each peer last reported it told (sending, or handed over after it stopped), kept
    /// while that peer cannot be reached: a takeover starts from each one's latest word.
    inherited: BTreeMap<String, BTreeSet<Id>>,
    /// What this instance told before it restarted, from the local store; used by a takeover
    /// in its first round that has heard every peer, then forgotten.
    kept: Option<Vec<AlertSeen>>,
    /// What was last written to the local store as told.
    written: Vec<AlertSeen>,
    /// From when this instance has judged long enough to find what still fires: before then
    /// nothing told is resolved for not being found.
    warm_from_ms: i64,
    /// What this instance told before it stopped sending, reported until then.
    handover: Option<(Vec<AlertSeen>, i64)>,
    /// Since when this instance should send but waits for another to stop.
    wanted_since: Option<i64>,
    /// Sites in maintenance as last seen (None before the first read: no notice at start).
    maintenance_seen: Option<BTreeMap<String, bool>>,
}

impl Sending {
    /// Sending to `direct`, with `[alerting]`'s group wait and repeat; `kept` is what this
    /// instance told before a restart; it is warm from `warm_from_ms`.
    pub fn new(config: &AlertingConfig, direct: Vec<Direct>, kept: Vec<AlertSeen>, warm_from_ms: i64) -> Sending {
        Sending {
            direct,
            group_wait_ms: config.group_wait_seconds as i64 * 1000,
            repeat_ms: config.repeat_seconds as i64 * 1000,
            schedule: Schedule::default(),
            sending: false,
            inherited: BTreeMap::new(),
            written: kept.clone(),
            kept: Some(kept),
            warm_from_ms,
            handover: None,
            wanted_since: None,
            maintenance_seen: None,
        }
    }

    /// One round: takes over or hands over sending as `sends` (`direct::sends`) says, keeps the notices
    /// due in `local`'s outbox when sending, queues the asked-for tests, and reports what it told.
    #[allow(clippy::too_many_arguments)]
    pub async fn round(
        &mut self,
        r: &Round<'_>,
        sends: bool,
        told_elsewhere: &[(String, Vec<AlertSeen>, bool)],
        found_elsewhere: &[&(String, Labels)],
        (acked, muted): (&BTreeMap<Id, &AckRecord>, &BTreeMap<Id, String>),
        sites: &[SiteRecord],
        local: &LocalStore,
        board: &AlertBoard,
    ) {
        let now = r.now_ms;
        let id_of = |name: &str, labels: &[(String, String)]| {
            r.rules.all().iter().find(|rule| rule.name == name).map(|rule| (rule.key, labels.iter().cloned().collect::<Labels>()))
        };
        // Each reachable peer's latest word replaces what it said before; an unreachable one's
        // last word is kept (a killed sender told what it told). What a peer that stopped
        // sending reports is its handover.
        let ids = |seen: &[AlertSeen]| -> BTreeSet<Id> { seen.iter().filter_map(|s| id_of(&s.name, &s.labels)).collect() };
        let mut handed_over = BTreeSet::new();
        for (peer, seen, sends) in told_elsewhere {
            let told = ids(seen);
            if !sends {
                handed_over.extend(told.iter().cloned());
            }
            self.inherited.insert(peer.clone(), told);
        }
        // Take over once every peer has been asked at least once (a restarted primary learns
        // what the survivor told before it sends anything) and no reachable peer still sends
        // (it stops once it sees this one writable), or after TAKEOVER_WAIT_MS.
        let asked_all = r.peers.iter().all(|p| p.reachable || p.last_ok_ms.is_some() || p.failing_since_ms.is_some());
        let other_sends = told_elsewhere.iter().any(|(_, _, sends)| *sends);
        let waited = *self.wanted_since.get_or_insert(now) + TAKEOVER_WAIT_MS <= now;
        if !sends || self.sending {
            self.wanted_since = None;
        }
        // What this instance told before a restart counts only if it takes over at once:
        // otherwise another sender took over from its last report.
        let kept = if asked_all { self.kept.take().map(|k| ids(&k)) } else { None };
        if sends && !self.sending && asked_all && (!other_sends || waited) {
            self.wanted_since = None;
            let mut told: BTreeSet<Id> = self.inherited.values().flatten().cloned().collect();
            told.extend(kept.into_iter().flatten());
            self.schedule = Schedule::take_over(r.book, &told, now);
            self.sending = true;
        } else if !sends && self.sending {
            // Hand over: what was told stays in the report a while, for the next sender.
            self.handover = Some((told_list(&self.schedule, r.rules), now + HANDOVER_MS));
            (self.schedule, self.sending) = (Schedule::default(), false);
        }
        let changes = maintenance_changes(&mut self.maintenance_seen, sites);
        if self.sending {
            self.schedule.adopt(&handed_over);
            let (acked, muted) = (acked.keys().cloned().collect(), muted.keys().cloned().collect());
            let elsewhere: BTreeSet<Id> = found_elsewhere
                .iter()
                .filter_map(|(name, labels)| id_of(name, &labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>()))
                .collect();
            let warm = now >= self.warm_from_ms;
            let due = self.schedule.step(r.book, &acked, &muted, (&elsewhere, warm), self.group_wait_ms, self.repeat_ms, now);
            let mut notices: Vec<Notice> = direct::notice_for(r.book, &due, r.rules, r.sender, now).into_iter().collect();
            if !changes.is_empty() {
                notices.push(notice::maintenance(changes, r.sender, now));
            }
            for n in &notices {
                direct::enqueue(local, &self.direct, n, now).await;
            }
            let told = told_list(&self.schedule, r.rules);
            self.keep(local, &told, now).await;
            board.set_told(told, true);
        } else {
            self.handover = self.handover.take().filter(|(_, until)| now < *until);
            // Handed over, it is no longer this instance's to resolve after a restart.
            self.keep(local, &[], now).await;
            board.set_told(self.handover.as_ref().map(|(list, _)| list.clone()).unwrap_or_default(), false);
        }
        // A test goes from this instance, sender or not: it checks this region's way out.
        for (receiver, by) in board.take_tests() {
            let to: Vec<Direct> = self.direct.iter().filter(|d| d.name() == receiver).cloned().collect();
            direct::enqueue(local, &to, &notice::test(&by, r.sender, now), now).await;
        }
    }
}

impl Sending {
    /// Writes what was told to the local store when it changed. Written after the notices
    /// are kept: a crash between the two may page again after the restart, never miss.
    async fn keep(&mut self, local: &LocalStore, told: &[AlertSeen], now: i64) {
        if self.written == told || self.kept.is_some() {
            // Before the first takeover decision the kept list is still to be read.
            return;
        }
        match local.told_keep(told, now).await {
            Ok(()) => self.written = told.to_vec(),
            Err(e) => tracing::warn!(error = %e, "alerting: cannot keep what was told; a restart may page again"),
        }
    }
}

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
fn maintenance_changes(seen: &mut Option<BTreeMap<String, bool>>, sites: &[SiteRecord]) -> Vec<MaintenanceChange> {
    let now: BTreeMap<String, bool> = sites.iter().map(|s| (s.name.clone(), s.state.on)).collect();
    let changes = match seen.as_ref() {
        None => Vec::new(),
        Some(before) => sites
            .iter()
            .filter(|s| before.get(&s.name).is_some_and(|on| *on != s.state.on))
            .map(|s| MaintenanceChange {
                site: s.name.clone(),
                on: s.state.on,
                by: s.changed_by.clone(),
                message: s.state.message.clone().filter(|_| s.state.on),
                at: rfc3339(s.changed_at_ms.unwrap_or_default()),
            })
            .collect(),
    };
    *seen = Some(now);
    changes
}
