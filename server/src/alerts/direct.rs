//! Direct receivers without an Alertmanager (`receivers`): what is sent when ([`Schedule`]:
//! `group_wait`, repeats while firing), which instance sends ([`sends`]), and delivery. Each
//! notice is kept in the local outbox before the first attempt, then delivered to each receiver
//! in the order kept (a resolve never overtakes its trigger), retried with backoff and jitter
//! under the same key until the receiver takes it or refuses it for good.

use super::alertmanager::Sender;
use super::evaluate::{Book, Tracked};
use super::notice::{self, Notice};
use super::receivers::{self, Direct, Failure};
use super::rules::Rules;
use crate::config::RuleKey;
use crate::store::LocalStore;
use app::model::{AlertState, Instance, Mode};
use app::vantage::PeerStatus;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub use receivers::{KEY_HEADER, SIGNATURE_HEADER};

/// Whether this instance sends direct notices: the primary while it holds the control store;
/// with the primary lost, the first (by instance name) of the instances that can still be
/// reached. A partition may make two senders (a duplicate), never none.
pub fn sends(instance: &Instance, peers: &[PeerStatus]) -> bool {
    if instance.primary_lost_since_ms.is_none() {
        // Two instances on one writable node (a promoted standby serves both): the first by name.
        let writable_before = peers.iter().any(|p| p.reachable && p.mode.as_deref() == Some("writable") && p.name < instance.name);
        return instance.mode == Mode::Primary && !writable_before;
    }
    // A peer whose control store takes writes again (the primary's console back) sends.
    let writable = peers.iter().any(|p| p.reachable && p.mode.as_deref() == Some("writable"));
    !writable && !peers.iter().any(|p| p.reachable && p.name < instance.name)
}

/// An alert's identity in the book.
type Id = (RuleKey, super::evaluate::Labels);

/// What the direct receivers have been told, between rounds: firing alerts held for
/// `group_wait`, when each firing alert was last notified (for repeats), and the alerts a
/// previous sender told that this one owes a resolve.
#[derive(Debug, Default)]
pub struct Schedule {
    /// Fired, not yet notified, since when the oldest has waited.
    held: BTreeSet<Id>,
    held_since_ms: Option<i64>,
    /// Notified as firing, and when last (fired or repeated).
    notified: BTreeMap<Id, i64>,
    /// Told as firing by the previous sender, not firing in this book: rounds seen by no region.
    owed: BTreeMap<Id, u32>,
    /// Resolved by this sender (its own or owed): a handover list still naming one, read a
    /// round late, does not make it owed again (a second "resolved"). Kept [`CLOSED_MS`].
    closed: BTreeMap<Id, i64>,
}

/// What a round sends: alerts that moved (fired or resolved), alerts repeated, and alerts a
/// previous sender told that are over.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Due {
    /// Fired (after their group's wait) or resolved.
    pub moved: Vec<Id>,
    /// Still firing, notified `repeat` ago, not acknowledged.
    pub repeated: Vec<Id>,
    /// Told as firing by the previous sender, now found by no region: resolved.
    pub owed: Vec<Id>,
}

/// How long a sender remembers what it resolved: longer than a handover list is reported
/// (`sending::HANDOVER_MS`), so no stale list can make it owed again.
pub const CLOSED_MS: i64 = 180_000;

/// Rounds an alert the previous sender told must go unseen by every region before the new
/// sender resolves it (a vantage's own `for` may keep it pending a while after a takeover).
pub const OWED_ROUNDS: u32 = 2;

impl Schedule {
    /// Takes over sending from a sender that told `told` as firing (its last peer report):
    /// those still firing here count as told (no second page); the rest are owed a resolve
    /// once no region finds them.
    pub fn take_over(book: &Book, told: &BTreeSet<Id>, now_ms: i64) -> Schedule {
        let mut s = Schedule::default();
        for id in told {
            if book.get(id).is_some_and(|a| a.state == AlertState::Firing) {
                s.notified.insert(id.clone(), now_ms);
            } else {
                s.owed.insert(id.clone(), 0);
            }
        }
        s
    }

    /// Takes on what a sender that stopped handed over (`handed`), except what this one knows of
    /// already or has resolved: it is owed a resolve, or counts as told if it fires here.
    pub fn adopt(&mut self, handed: &BTreeSet<Id>) {
        for id in handed {
            let known = self.notified.contains_key(id) || self.held.contains(id) || self.owed.contains_key(id);
            if !known && !self.closed.contains_key(id) {
                self.owed.insert(id.clone(), 0);
            }
        }
    }

    /// The alerts this sender has told as firing (for its peer report).
    pub fn told(&self) -> impl Iterator<Item = &Id> {
        self.notified.keys().chain(self.owed.keys())
    }

    /// Settles what a previous sender told: firing here, it is told; pending here or found by
    /// a region in `elsewhere`, it waits; gone everywhere for [`OWED_ROUNDS`] once this
    /// instance is `warm` (has judged long enough to find it), it is resolved.
    fn settle_owed(&mut self, book: &Book, elsewhere: &BTreeSet<Id>, warm: bool, now_ms: i64) -> Vec<Id> {
        let mut resolved = Vec::new();
        for (id, unseen) in std::mem::take(&mut self.owed) {
            match book.get(&id).map(|a| a.state) {
                Some(AlertState::Firing) => {
                    self.notified.insert(id, now_ms);
                }
                Some(AlertState::Pending) => {
                    self.owed.insert(id, 0);
                }
                _ if elsewhere.contains(&id) || !warm => {
                    self.owed.insert(id, 0);
                }
                _ if unseen + 1 >= OWED_ROUNDS => resolved.push(id),
                _ => {
                    self.owed.insert(id, unseen + 1);
                }
            }
        }
        resolved
    }

    /// Moves the schedule on after a round at `now_ms`: a newly firing alert is held until
    /// `group_wait_ms` after the first of its group, then all held go out together; a resolve
    /// goes out at once, unless its firing never went out (then neither does); a firing alert
    /// that was notified `repeat_ms` ago and is not in `acknowledged` is repeated. A `muted`
    /// alert (silenced, or its site in maintenance) stays held and is not repeated: when the
    /// silence ends while it still fires, it goes out then.
    /// First settles what a previous sender told (`elsewhere`: the alerts reachable peers
    /// find now; `warm`: this instance has judged long enough to find what still fires).
    #[allow(clippy::too_many_arguments)]
    pub fn step(
        &mut self,
        book: &Book,
        acknowledged: &BTreeSet<Id>,
        muted: &BTreeSet<Id>,
        (elsewhere, warm): (&BTreeSet<Id>, bool),
        group_wait_ms: i64,
        repeat_ms: i64,
        now_ms: i64,
    ) -> Due {
        let mut due = Due { owed: self.settle_owed(book, elsewhere, warm, now_ms), ..Due::default() };
        self.closed.retain(|_, at| now_ms - *at < CLOSED_MS);
        self.closed.extend(due.owed.iter().map(|id| (id.clone(), now_ms)));
        for (id, alert) in book {
            if alert.state != AlertState::Resolved {
                // A new episode: its resolve, when it comes, is news again.
                self.closed.remove(id);
            }
            match alert.state {
                AlertState::Firing if !self.notified.contains_key(id) && !self.held.contains(id) => {
                    self.held.insert(id.clone());
                    self.held_since_ms.get_or_insert(now_ms);
                }
                AlertState::Resolved if alert.resolved_ms == Some(now_ms) => {
                    if self.notified.remove(id).is_some() {
                        due.moved.push(id.clone());
                        self.closed.insert(id.clone(), now_ms);
                    }
                    self.held.remove(id);
                }
                _ => {}
            }
        }
        // Held alerts that are no longer in the book, or no longer fire, are not sent.
        self.held.retain(|id| book.get(id).is_some_and(|a| a.state == AlertState::Firing));
        self.notified.retain(|id, _| book.get(id).is_some_and(|a| a.state == AlertState::Firing));
        let waited = self.held_since_ms.is_some_and(|since| now_ms - since >= group_wait_ms);
        if waited {
            let (out, still): (BTreeSet<Id>, BTreeSet<Id>) = std::mem::take(&mut self.held).into_iter().partition(|id| !muted.contains(id));
            for id in out {
                self.notified.insert(id.clone(), now_ms);
                due.moved.push(id);
            }
            self.held = still;
        }
        if self.held.is_empty() {
            self.held_since_ms = None;
        }
        for (id, at) in self.notified.iter_mut() {
            if now_ms - *at >= repeat_ms && !due.moved.contains(id) {
                *at = now_ms;
                if !acknowledged.contains(id) && !muted.contains(id) {
                    due.repeated.push(id.clone());
                }
            }
        }
        due
    }
}

/// The notice's key for `receiver`: the same transitions give the same key, whoever computes
/// it, so a retry (or a second region sending the same) is recognisable.
pub fn key(receiver: &str, n: &Notice) -> String {
    let mut h = Sha256::new();
    h.update(receiver.as_bytes());
    for a in &n.alerts {
        h.update([0]);
        h.update(a.fingerprint.as_bytes());
        // A repeat is its own notice: the time it was sent tells it from the last one.
        let when = if a.repeat { Some(n.sent_at.as_str()) } else { a.resolved_at.as_deref().or(a.fired_at.as_deref()) };
        h.update(format!("\u{1e}{}@{}", a.state, when.unwrap_or_default()).as_bytes());
    }
    h.update(format!("\u{1d}{}", n.more).as_bytes());
    for m in &n.maintenance {
        h.update(format!("\u{1c}{}:{}@{}", m.site, m.on, m.at).as_bytes());
    }
    if let Some(by) = &n.test_by {
        h.update(format!("\u{1b}test by {by}@{}", n.sent_at).as_bytes());
    }
    // An incident update is told once per subscriber: its key, not when it was sent.
    if let Some(i) = &n.incident {
        h.update(format!("\u{1a}incident update {}", i.update).as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// Milliseconds before attempt `attempts + 1`: doubling from 1 s up to 5 min, then jittered
/// by ±20 % (`jitter` in 0..1) so receivers coming back are not hit all at once.
pub fn backoff_ms(attempts: i64, jitter: f64) -> i64 {
    let base = (1000i64 << attempts.clamp(0, 9)).min(300_000) as f64;
    (base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as i64
}

/// The notice for what is `due`, if anything is.
pub fn notice_for(book: &Book, due: &Due, rules: &Rules, sender: &Sender<'_>, now_ms: i64) -> Option<Notice> {
    if due.moved.is_empty() && due.repeated.is_empty() && due.owed.is_empty() {
        return None;
    }
    // What a previous sender told and no region finds any more: resolved, in words of its own.
    let owed: Vec<Tracked> = due
        .owed
        .iter()
        .map(|(rule, labels)| Tracked {
            finding: super::evaluate::Finding {
                rule: *rule,
                labels: labels.clone(),
                summary: "no region finds it any more (it was told by the instance that sent before this one)".into(),
                page: "/alerts",
                caused_by_hostname: None,
            },
            state: AlertState::Resolved,
            seen_here: false,
            seen_elsewhere: Vec::new(),
            since_ms: now_ms,
            fired_ms: None,
            resolved_ms: Some(now_ms),
        })
        .collect();
    let pick = |ids: &[Id]| -> Vec<&Tracked> { ids.iter().filter_map(|id| book.get(id)).collect() };
    let mut moved = pick(&due.moved);
    moved.extend(owed.iter());
    let firing_now: Vec<&Tracked> = book.values().filter(|a| a.state == AlertState::Firing).collect();
    Some(notice::build(&moved, &pick(&due.repeated), &firing_now, rules, sender, now_ms))
}

/// Keeps `n` in the outbox for every receiver, under each one's key.
pub async fn enqueue(local: &LocalStore, to: &[Direct], n: &Notice, now_ms: i64) {
    let body = match serde_json::to_string(n) {
        Ok(body) => body,
        Err(e) => return tracing::error!(error = %e, "alerting: cannot write a notice"),
    };
    for receiver in to {
        if let Err(e) = local.outbox_add(&key(receiver.name(), n), receiver.name(), &body, now_ms).await {
            tracing::error!(receiver = %receiver.name(), error = %e, "alerting: cannot keep a notice; it is lost");
        }
    }
}

/// Delivers what is due, once, each receiver's notices in the order they were kept: one that
/// waits out a backoff holds back the ones after it (a resolve must not reach PagerDuty before
/// its trigger). A failure is kept for later, or given up when the receiver refuses for good.
pub async fn deliver_due(local: &LocalStore, to: &[Direct], client: &reqwest::Client, now_ms: i64) {
    let pending = match local.outbox_pending(500).await {
        Ok(rows) => rows,
        Err(e) => return tracing::warn!(error = %e, "alerting: cannot read the outbox"),
    };
    let mut held_back: BTreeSet<String> = BTreeSet::new();
    for row in pending {
        if held_back.contains(&row.receiver) {
            continue;
        }
        let Some(receiver) = to.iter().find(|r| r.name() == row.receiver) else {
            // The receiver left the config: give up on it, visibly.
            let _ = local.outbox_failed(&row.key, "no such receiver in the config any more", i64::MAX).await;
            continue;
        };
        if row.next_ms > now_ms {
            held_back.insert(row.receiver.clone());
            continue;
        }
        let stored = match receivers::send(receiver, client, &row.key, &row.body, now_ms).await {
            Ok(()) => local.outbox_delivered(&row.key, now_ms).await,
            Err(Failure::GiveUp(why)) => {
                tracing::error!(receiver = %row.receiver, %why, "alerting: the receiver refused a notice for good");
                local.outbox_failed(&row.key, &why, i64::MAX).await
            }
            Err(Failure::Retry(why)) => {
                held_back.insert(row.receiver.clone());
                let jitter = (u64::from_str_radix(&row.key[..8.min(row.key.len())], 16).unwrap_or(0) % 1000) as f64 / 1000.0;
                tracing::warn!(receiver = %row.receiver, attempts = row.attempts + 1, %why, "alerting: delivery failed; retrying");
                local.outbox_failed(&row.key, &why, now_ms + backoff_ms(row.attempts, jitter)).await
            }
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "alerting: cannot record a delivery; it may be sent again, under the same key");
        }
    }
}

/// A kept notice as the Alerts page lists it.
pub fn delivery(row: &crate::store::OutboxRow) -> app::model::Delivery {
    use app::model::DeliveryStatus;
    let status = match (row.delivered_ms, row.attempts, row.next_ms) {
        (Some(_), _, _) => DeliveryStatus::Sent,
        (None, _, i64::MAX) => DeliveryStatus::Failed,
        (None, 0, _) => DeliveryStatus::Queued,
        (None, _, _) => DeliveryStatus::Retrying,
    };
    let about = serde_json::from_str::<Notice>(&row.body)
        .map(|n| {
            let mut named: Vec<String> = n
                .alerts
                .iter()
                .map(|a| {
                    let state = if a.repeat { "still firing" } else { a.state.as_str() };
                    format!("{state} {} {}", a.name, notice::label_words(&a.labels)).trim_end().to_string()
                })
                .collect();
            if n.more > 0 {
                named.push(format!("and {} more", n.more));
            }
            for m in &n.maintenance {
                named.push(format!("maintenance {} {}", if m.on { "started" } else { "ended" }, m.site));
            }
            if let Some(by) = &n.test_by {
                named.push(format!("test asked for by {by}"));
            }
            named.join("; ")
        })
        .unwrap_or_else(|_| "an unreadable notice".into());
    app::model::Delivery {
        receiver: row.receiver.clone(),
        key: row.key.clone(),
        about,
        status,
        attempts: row.attempts,
        error: row.last_error.clone(),
        created_ms: row.created_ms,
        delivered_ms: row.delivered_ms,
    }
}

/// Delivers due notices every second until aborted; once a minute, forgets notices delivered
/// longer than `retention_ms` ago (the observations' retention).
pub async fn run(local: LocalStore, to: Vec<Direct>, client: reqwest::Client, retention_ms: i64) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 0u64.. {
        tick.tick().await;
        let now = crate::clock::now_ms();
        deliver_due(&local, &to, &client, now).await;
        if round % 60 == 0 {
            if let Err(e) = local.outbox_prune(now - retention_ms).await {
                tracing::warn!(error = %e, "alerting: cannot prune delivered notices");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_incident_update_has_one_key_per_subscriber_whenever_and_wherever_it_is_sent() {
        use app::model::{Impact, IncidentKind, IncidentState, IncidentUpdate};
        let update = |key: &str| IncidentUpdate {
            key: key.into(),
            incident: "inc-1".into(),
            kind: IncidentKind::Incident,
            state: IncidentState::Identified,
            title: String::new(),
            body: "lb1 serves www; DNS is being fixed".into(),
            components: vec!["Website".into()],
            impact: Impact::MajorOutage,
            starts_ms: None,
            ends_ms: None,
            by: "alice".into(),
            at_ms: 1_800_000_000_000,
            written_on: "sin-1".into(),
            pending_replay: false,
        };
        let sin = super::Sender { instance: "sin-1", region: "Singapore", public_url: "" };
        let ams = super::Sender { instance: "ams-1", region: "Amsterdam", public_url: "" };
        let n = |u: &IncidentUpdate, from: &super::Sender<'_>, at: i64| {
            super::notice::incident(u, "www hangs", "https://status.example.test/", from, at)
        };
        let first = n(&update("upd-1"), &sin, 1_800_000_001_000);
        assert_eq!(super::key("customers", &first), super::key("customers", &n(&update("upd-1"), &ams, 1_800_000_900_000)));
        assert_ne!(super::key("customers", &first), super::key("mirror", &first));
        assert_ne!(super::key("customers", &first), super::key("customers", &n(&update("upd-2"), &sin, 1_800_000_001_000)));
        assert_eq!(super::notice::title(&first), "INCIDENT IDENTIFIED: www hangs");
        assert_eq!(
            super::notice::lines(&first),
            vec!["[identified] lb1 serves www; DNS is being fixed", "Affects: Website.", "https://status.example.test/#incident-inc-1"]
        );
        assert!(super::receivers::pagerduty_events(&first, "k").is_empty(), "PagerDuty is never told incident updates");
    }

    use super::*;

    fn instance(name: &str, mode: Mode, lost: bool) -> Instance {
        serde_json::from_value(serde_json::json!({
            "name": name, "region": "sin", "region_display": "Singapore", "mode": mode, "read_only": mode == Mode::Secondary,
            "mode_reason": "", "mode_since_ms": 0, "control_store": "postgres", "primary": "sjc-1",
            "primary_lost_since_ms": if lost { Some(0) } else { None }, "primary_lost_seconds": null,
            "replica_unreplayed_bytes": null, "replica_last_replay_seconds": null, "config_differences": [], "version": "0"
        }))
        .unwrap()
    }

    fn peer(name: &str, reachable: bool) -> PeerStatus {
        PeerStatus { name: name.into(), region: "x".into(), reachable, last_ok_ms: None, failing_since_ms: None, error: None, mode: None }
    }

    fn writable(name: &str) -> PeerStatus {
        PeerStatus { mode: Some("writable".into()), ..peer(name, true) }
    }

    /// (instance, mode, primary lost, peers) → sends?
    #[test]
    fn one_instance_sends_the_primary_then_the_first_survivor() {
        use Mode::{Primary, Secondary};
        #[rustfmt::skip]
        let table: Vec<(&str, Mode, bool, Vec<PeerStatus>, bool)> = vec![
            ("sjc-1", Primary, false, vec![peer("ams-1", true), peer("sin-1", true)], true),
            ("sin-1", Secondary, false, vec![peer("sjc-1", true), peer("ams-1", true)], false),
            // The primary lost: the first by name among those still reachable.
            ("ams-1", Secondary, true, vec![peer("sjc-1", false), peer("sin-1", true)], true),
            ("sin-1", Secondary, true, vec![peer("sjc-1", false), peer("ams-1", true)], false),
            // ams-1 gone too: Singapore sends.
            ("sin-1", Secondary, true, vec![peer("sjc-1", false), peer("ams-1", false)], true),
            // A peer that answers but is read-only like this one: the first by name sends.
            ("sin-1", Secondary, true, vec![peer("sjc-1", false), peer("ams-1", false)], true),
            // The primary's console answers writable again: it sends, not this one.
            ("ams-1", Secondary, true, vec![writable("sjc-1"), peer("sin-1", true)], false),
            // A promoted standby serving two instances: the first by name sends.
            ("sin-1", Primary, false, vec![writable("ams-1"), peer("sjc-1", false)], false),
            ("ams-1", Primary, false, vec![writable("sin-1"), peer("sjc-1", false)], true),
        ];
        for (name, mode, lost, peers, want) in table {
            assert_eq!(sends(&instance(name, mode, lost), &peers), want, "{name} {mode:?} lost={lost} {peers:?}");
        }
    }

    #[test]
    fn backoff_doubles_to_five_minutes_with_bounded_jitter() {
        #[rustfmt::skip]
        let table = [(0, 0.5, 1000), (1, 0.5, 2000), (3, 0.5, 8000), (8, 0.5, 256_000), (9, 0.5, 300_000), (40, 0.5, 300_000), (0, 0.0, 800), (0, 1.0, 1200)];
        for (attempts, jitter, want) in table {
            assert_eq!(backoff_ms(attempts, jitter), want, "attempt {attempts}, jitter {jitter}");
        }
    }

    /// (delivered, attempts, next, body) → (status, about)
    #[test]
    fn a_kept_notice_reads_as_its_status_and_what_it_says() {
        use app::model::DeliveryStatus::*;
        let alert = |name: &str, state: &str, labels: &[(&str, &str)], repeat: bool| notice::NoticeAlert {
            name: name.into(),
            severity: "critical".into(),
            state: state.into(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            summary: String::new(),
            link: String::new(),
            fingerprint: String::new(),
            fired_at: None,
            resolved_at: None,
            repeat,
        };
        let n = Notice {
            version: "2".into(),
            status: "firing".into(),
            alerts: vec![
                alert("HostDown", "firing", &[("host", "lb2")], false),
                alert("DnsWrongAnswer", "resolved", &[("hostname", "www.example.test"), ("type", "A")], false),
                alert("HostDown", "firing", &[("host", "lb3")], true),
            ],
            more: 7,
            rules: vec![],
            maintenance: vec![],
            test_by: None,
            incident: None,
            sent_from: String::new(),
            sent_at: String::new(),
        };
        let body = serde_json::to_string(&n).unwrap();
        let body = body.as_str();
        let said = "firing HostDown host=lb2; resolved DnsWrongAnswer hostname=www.example.test type=A; still firing HostDown host=lb3; and 7 more";
        #[rustfmt::skip]
        let table = [
            (None, 0, 0, body, Queued, said),
            (None, 2, 5_000, body, Retrying, said),
            (Some(9), 3, 5_000, body, Sent, said),
            (None, 1, i64::MAX, "not json", Failed, "an unreadable notice"),
        ];
        for (delivered_ms, attempts, next_ms, body, status, about) in table {
            let row = crate::store::OutboxRow {
                key: "k".into(),
                receiver: "ops".into(),
                body: body.into(),
                attempts,
                delivered_ms,
                last_error: None,
                created_ms: 0,
                next_ms,
            };
            let d = delivery(&row);
            assert_eq!((d.status, d.about.as_str()), (status, about));
        }
    }

    fn book(alerts: &[(&str, AlertState, Option<i64>, Option<i64>)]) -> Book {
        alerts
            .iter()
            .map(|(host, state, fired_ms, resolved_ms)| {
                let labels: super::super::evaluate::Labels = [("host".to_string(), host.to_string())].into();
                let finding = super::super::evaluate::Finding {
                    rule: RuleKey::HostDown,
                    labels: labels.clone(),
                    summary: String::new(),
                    page: "/topology",
                    caused_by_hostname: None,
                };
                let tracked = Tracked {
                    finding,
                    state: *state,
                    seen_here: true,
                    seen_elsewhere: vec![],
                    since_ms: 0,
                    fired_ms: *fired_ms,
                    resolved_ms: *resolved_ms,
                };
                ((RuleKey::HostDown, labels), tracked)
            })
            .collect()
    }

    fn hosts(ids: &[Id]) -> Vec<&str> {
        ids.iter().map(|(_, l)| l["host"].as_str()).collect()
    }

    /// Rounds of (now, book, acknowledged hosts, muted hosts) → (moved, repeated), with a 10 s
    /// group wait and a 60 s repeat.
    #[test]
    fn firing_waits_for_its_group_resolves_go_at_once_and_reminders_repeat() {
        use AlertState::{Firing, Pending, Resolved};
        #[rustfmt::skip]
        let rounds: Vec<(i64, Vec<(&str, AlertState, Option<i64>, Option<i64>)>, Vec<&str>, Vec<&str>, Vec<&str>, Vec<&str>)> = vec![
            (0, vec![("lb1", Firing, Some(0), None)], vec![], vec![], vec![], vec![]),
            (5_000, vec![("lb1", Firing, Some(0), None), ("lb2", Firing, Some(5_000), None), ("lb3", Pending, None, None)], vec![], vec![], vec![], vec![]),
            // The group's wait is over: both go out in one notice.
            (10_000, vec![("lb1", Firing, Some(0), None), ("lb2", Firing, Some(5_000), None)], vec![], vec![], vec!["lb1", "lb2"], vec![]),
            // lb4 fires and resolves inside its wait: nobody hears of it.
            (20_000, vec![("lb1", Firing, Some(0), None), ("lb2", Firing, Some(5_000), None), ("lb4", Firing, Some(20_000), None)], vec![], vec![], vec![], vec![]),
            (25_000, vec![("lb1", Firing, Some(0), None), ("lb2", Firing, Some(5_000), None), ("lb4", Resolved, Some(20_000), Some(25_000))], vec![], vec![], vec![], vec![]),
            // lb2 resolves: at once.
            (30_000, vec![("lb1", Firing, Some(0), None), ("lb2", Resolved, Some(5_000), Some(30_000))], vec![], vec![], vec!["lb2"], vec![]),
            // A minute after it went out, lb1 is repeated; acknowledged, it is not.
            (70_000, vec![("lb1", Firing, Some(0), None)], vec![], vec![], vec![], vec!["lb1"]),
            (130_000, vec![("lb1", Firing, Some(0), None)], vec!["lb1"], vec![], vec![], vec![]),
            (140_000, vec![("lb1", Resolved, Some(0), Some(140_000))], vec![], vec![], vec!["lb1"], vec![]),
            // lb5 fires silenced: held past its wait; the silence ends, it goes out at once.
            (150_000, vec![("lb5", Firing, Some(150_000), None)], vec![], vec!["lb5"], vec![], vec![]),
            (165_000, vec![("lb5", Firing, Some(150_000), None)], vec![], vec!["lb5"], vec![], vec![]),
            (170_000, vec![("lb5", Firing, Some(150_000), None)], vec![], vec![], vec!["lb5"], vec![]),
            // Silenced again: no repeats while muted.
            (230_000, vec![("lb5", Firing, Some(150_000), None)], vec![], vec!["lb5"], vec![], vec![]),
        ];
        let mut schedule = Schedule::default();
        for (now, alerts, acked, muted, moved, repeated) in rounds {
            let book = book(&alerts);
            let pick =
                |hosts: &[&str]| -> BTreeSet<Id> { book.keys().filter(|(_, l)| hosts.contains(&l["host"].as_str())).cloned().collect() };
            let due = schedule.step(&book, &pick(&acked), &pick(&muted), (&BTreeSet::new(), true), 10_000, 60_000, now);
            assert_eq!((hosts(&due.moved), hosts(&due.repeated)), (moved, repeated), "at {now} ms");
        }
    }

    /// A takeover: what the previous sender told is not told again; what no region finds any
    /// more after it is resolved, once.
    #[test]
    fn a_new_sender_tells_nothing_twice_and_owes_the_resolves() {
        use AlertState::{Firing, Pending, Resolved};
        let ids = |hosts: &[&str]| -> BTreeSet<Id> {
            hosts.iter().map(|h| (RuleKey::HostDown, [("host".to_string(), h.to_string())].into())).collect()
        };
        let start = book(&[("lb1", Firing, Some(0), None), ("lb2", Pending, None, None), ("lb4", Resolved, Some(0), Some(5))]);
        let mut schedule = Schedule::take_over(&start, &ids(&["lb1", "lb2", "lb3", "lb4"]), 10);
        assert_eq!(schedule.told().count(), 4, "a new sender reports what it inherited");
        // (book, found elsewhere, moved, owed resolves)
        #[rustfmt::skip]
        let rounds: Vec<(Vec<(&str, AlertState, Option<i64>, Option<i64>)>, Vec<&str>, Vec<&str>, Vec<&str>)> = vec![
            (vec![("lb1", Firing, Some(0), None), ("lb2", Pending, None, None), ("lb4", Resolved, Some(0), Some(5))], vec!["lb3"], vec![], vec![]),
            // lb2 fires here now: the old sender told it, so it is not told again.
            (vec![("lb1", Firing, Some(0), None), ("lb2", Firing, Some(20), None), ("lb4", Resolved, Some(0), Some(5))], vec![], vec![], vec!["lb4"]),
            (vec![("lb1", Firing, Some(0), None), ("lb2", Firing, Some(20), None)], vec![], vec![], vec!["lb3"]),
            (vec![("lb1", Firing, Some(0), None), ("lb2", Resolved, Some(20), Some(80))], vec![], vec!["lb2"], vec![]),
        ];
        for (now, (alerts, elsewhere, moved, owed)) in rounds.into_iter().enumerate() {
            let book = book(&alerts);
            let now = 20 + now as i64 * 20;
            let due = schedule.step(&book, &BTreeSet::new(), &BTreeSet::new(), (&ids(&elsewhere), true), 0, 3_600_000, now);
            assert_eq!((hosts(&due.moved), hosts(&due.owed)), (moved, owed), "at {now} ms");
        }
        assert_eq!(schedule.told().count(), 1, "lb1 still fires, told");
        // The old sender's handover list, read a round late, still names what was resolved:
        // nothing is owed again, and no second "resolved" goes out.
        schedule.adopt(&ids(&["lb2", "lb3", "lb4"]));
        for now in [120, 140, 160] {
            let due = schedule.step(
                &book(&[("lb1", Firing, Some(0), None)]),
                &BTreeSet::new(),
                &BTreeSet::new(),
                (&BTreeSet::new(), true),
                0,
                3_600_000,
                now,
            );
            assert_eq!(due, Due::default(), "at {now} ms");
        }
    }

    /// A restarted sender owes the resolves of what it told before, but only once it has
    /// judged long enough (`warm`) to find again what still fires.
    #[test]
    fn a_restarted_sender_resolves_only_once_warm() {
        use AlertState::{Firing, Pending};
        let lb = |h: &str| -> Id { (RuleKey::HostDown, [("host".to_string(), h.to_string())].into()) };
        let mut schedule = Schedule::take_over(&Book::new(), &[lb("lb1"), lb("lb2")].into(), 0);
        // (now, warm, book, moved, owed resolves)
        #[rustfmt::skip]
        let rounds: Vec<(i64, bool, Vec<(&str, AlertState, Option<i64>, Option<i64>)>, Vec<&str>, Vec<&str>)> = vec![
            (1_000, false, vec![], vec![], vec![]),
            (2_000, false, vec![("lb1", Pending, None, None)], vec![], vec![]),
            (3_000, false, vec![("lb1", Firing, Some(3_000), None)], vec![], vec![]),
            // Warm: lb2 was found by nobody for two rounds; lb1 fires, told before, not paged again.
            (4_000, true, vec![("lb1", Firing, Some(3_000), None)], vec![], vec![]),
            (5_000, true, vec![("lb1", Firing, Some(3_000), None)], vec![], vec!["lb2"]),
        ];
        for (now, warm, alerts, moved, owed) in rounds {
            let due = schedule.step(&book(&alerts), &BTreeSet::new(), &BTreeSet::new(), (&BTreeSet::new(), warm), 0, 3_600_000, now);
            assert_eq!((hosts(&due.moved), hosts(&due.owed)), (moved, owed), "at {now} ms");
        }
    }
}
