//! Primary or secondary: one decision, taken from the control store itself. An instance is
//! primary while its control store accepts writes (SQLite always; PostgreSQL when not in
//! recovery) and secondary otherwise. It looks again every probe interval, and at once when a
//! write is refused with SQLSTATE 25006, so promoting a standby makes its instance primary
//! without a restart. The other configured control nodes are looked at too: a secondary learns
//! which node is the writable primary (where its break-glass journal is replayed) and since
//! when none has answered; a primary that finds a second writable node (split brain) refuses
//! writes until one is demoted.

pub mod drift;

use crate::clock::now_ms;
use crate::store::{ControlStore, ReplicaLag};
use app::model::Mode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// The current mode and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeState {
    /// Primary or secondary.
    pub mode: Mode,
    /// True while ordinary writes must be refused (a secondary, or a primary in split brain).
    pub read_only: bool,
    /// Why, in words for the banner.
    pub reason: String,
    /// Since when this mode and access have held (unix milliseconds).
    pub since_ms: i64,
    /// The other control node that accepts writes, seen from a secondary: where it replays.
    pub primary: Option<String>,
    /// On a secondary: since when no writable control node has answered (unix milliseconds).
    pub primary_lost_since_ms: Option<i64>,
    /// On a secondary: how far this region's replica is behind.
    pub lag: Option<ReplicaLag>,
}

/// Why a control node could not be asked whether it accepts writes. Kept as words, since each
/// look is compared with the last (sqlx's errors are neither `Clone` nor `PartialEq`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookError {
    /// The store answered with an error.
    #[error("{0}")]
    Store(String),
    /// It did not answer within the bound.
    #[error("no answer within {0} ms")]
    Timeout(u128),
}

/// Whether a node accepts writes, or why it could not be asked.
pub type Writable = Result<bool, LookError>;

/// One look at every control node.
#[derive(Debug, Clone, PartialEq)]
pub struct Look {
    /// This instance's own control store.
    pub own: Writable,
    /// The other configured control nodes, by name.
    pub others: Vec<(String, Writable)>,
    /// The own store's lag, when it is a replica.
    pub lag: Option<ReplicaLag>,
}

/// The mode after `look`, given the `previous` state, at `now`. Pure.
pub fn decide(look: &Look, previous: Option<&ModeState>, now: i64) -> ModeState {
    let writable_others: Vec<&str> = look.others.iter().filter(|(_, w)| *w == Ok(true)).map(|(n, _)| n.as_str()).collect();
    let unreachable = || -> String {
        let down: Vec<String> = look
            .others
            .iter()
            .map(|(n, w)| match w {
                Err(e) => format!("{n} cannot be reached ({e})"),
                Ok(_) => format!("{n} is in recovery"),
            })
            .collect();
        down.join("; ")
    };
    let (mode, read_only, reason, primary) = match &look.own {
        Ok(true) if writable_others.is_empty() => (Mode::Primary, false, "the control store accepts writes".to_string(), None),
        Ok(true) => (
            Mode::Primary,
            true,
            format!(
                "split brain: {} also accept{} writes; writes are refused here until all but one \
                 control node are demoted (stop the stale one and rebuild it as a standby)",
                writable_others.join(", "),
                if writable_others.len() == 1 { "s" } else { "" }
            ),
            None,
        ),
        own => {
            let replica = match own {
                Err(e) => format!("the control store cannot be reached: {e}"),
                _ => "the control store is a read-only replica (in recovery)".to_string(),
            };
            match writable_others.first() {
                Some(p) => (Mode::Secondary, true, format!("{replica}; the primary {p} accepts writes"), Some(p.to_string())),
                None if look.others.is_empty() => (Mode::Secondary, true, replica, None),
                None => (Mode::Secondary, true, format!("{replica}; no primary answers: {}", unreachable()), None),
            }
        }
    };
    let since_ms = match previous {
        Some(p) if p.mode == mode && p.read_only == read_only => p.since_ms,
        _ => now,
    };
    let primary_lost_since_ms = match (mode, &primary) {
        (Mode::Secondary, None) if !look.others.is_empty() => Some(previous.and_then(|p| p.primary_lost_since_ms).unwrap_or(now)),
        _ => None,
    };
    ModeState { mode, read_only, reason, since_ms, primary, primary_lost_since_ms, lag: look.lag }
}

/// Shares the mode with everything that reads it.
#[derive(Clone)]
pub struct ModeWatch {
    tx: Arc<watch::Sender<ModeState>>,
    recheck: Arc<Notify>,
    writes_refused: Arc<std::sync::atomic::AtomicBool>,
}

/// Another control node: its name, its URL (asked afresh at each look), and a lazily connected
/// store to replay into when it is the primary.
#[derive(Clone)]
pub struct OtherNode {
    /// Name shown in the banner, e.g. `db-sjc`.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// For writing into it.
    pub store: ControlStore,
}

/// The control nodes other than this instance's own.
pub type OtherNodes = Vec<OtherNode>;

impl ModeWatch {
    /// Starts from one look at `control` and `others`.
    pub async fn start(control: &ControlStore, others: &OtherNodes, limit: Duration) -> ModeWatch {
        let state = decide(&look(control, others, limit).await, None, now_ms());
        let writes_refused = Arc::new(std::sync::atomic::AtomicBool::new(state.read_only));
        ModeWatch { tx: Arc::new(watch::channel(state).0), recheck: Arc::new(Notify::new()), writes_refused }
    }

    /// The flag the control store's one writer checks before every write
    /// (`ControlStore::guarded_by`): set exactly while this instance is read-only.
    pub fn write_guard(&self) -> Arc<std::sync::atomic::AtomicBool> {
        self.writes_refused.clone()
    }

    /// The mode now.
    pub fn get(&self) -> ModeState {
        self.tx.borrow().clone()
    }

    /// True while ordinary writes must be refused.
    pub fn read_only(&self) -> bool {
        self.tx.borrow().read_only
    }

    /// A receiver that wakes on every change of mode.
    pub fn subscribe(&self) -> watch::Receiver<ModeState> {
        self.tx.subscribe()
    }

    /// Asks for a look now (a write was refused as read-only), instead of at the next interval.
    pub fn recheck(&self) {
        self.recheck.notify_one();
    }

    /// Looks again every `interval` (or when asked), giving other nodes `limit` to answer. `on_writable` runs each time this
    /// instance's own store becomes writable without split brain (migrations, adopting its
    /// config, replay); `on_primary_elsewhere` runs on every look that finds another node
    /// writable while this one is a secondary (replaying the journal into it).
    pub async fn run<F, Fut, G, Gut>(
        self,
        control: ControlStore,
        others: OtherNodes,
        (interval, limit): (Duration, Duration),
        on_writable: F,
        on_primary_elsewhere: G,
    ) where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ()>,
        G: Fn(ControlStore) -> Gut,
        Gut: std::future::Future<Output = ()>,
    {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.recheck.notified() => {}
            }
            let before = self.get();
            let after = decide(&look(&control, &others, limit).await, Some(&before), now_ms());
            if after.mode != before.mode || after.read_only != before.read_only {
                tracing::warn!(from = ?before.mode, to = ?after.mode, read_only = after.read_only, reason = %after.reason, "mode changed");
            }
            let became_writable = before.read_only && !after.read_only;
            let elsewhere = after.primary.as_ref().and_then(|p| others.iter().find(|n| &n.name == p)).map(|n| n.store.clone());
            // The writer follows first: nothing may be written once the mode says read-only.
            self.writes_refused.store(after.read_only, std::sync::atomic::Ordering::SeqCst);
            // The lag moves on every look; only a change of what the banner says wakes readers.
            self.tx.send_if_modified(|state| {
                let changed = ModeState { lag: state.lag, ..after.clone() } != *state;
                *state = after;
                changed
            });
            if became_writable {
                on_writable().await;
            }
            if let Some(store) = elsewhere {
                on_primary_elsewhere(store).await;
            }
        }
    }
}

/// How long this instance's own store may take to answer: generous, since a slow answer taken
/// for none would make a primary refuse writes.
const OWN_STORE_BOUND: Duration = Duration::from_secs(3);

/// Bounded: a hung node must not hold the decision.
async fn bounded(limit: Duration, ask: impl std::future::Future<Output = Result<bool, crate::store::StoreError>>) -> Writable {
    match tokio::time::timeout(limit, ask).await {
        Ok(Ok(w)) => Ok(w),
        Ok(Err(e)) => Err(LookError::Store(e.to_string())),
        Err(_) => Err(LookError::Timeout(limit.as_millis())),
    }
}

/// Looks at the own store and, each within `limit` (the probe timeout: a silent network must
/// show within an interval), at every other node.
async fn look(control: &ControlStore, others: &OtherNodes, limit: Duration) -> Look {
    let (own, others) = tokio::join!(
        bounded(OWN_STORE_BOUND, control.writable()),
        futures::future::join_all(
            others.iter().map(|n| async move { (n.name.clone(), bounded(limit, ControlStore::ask_writable(&n.url)).await) })
        )
    );
    let lag = match own {
        Ok(false) => tokio::time::timeout(OWN_STORE_BOUND, control.replica_lag()).await.ok().and_then(Result::ok).flatten(),
        _ => None,
    };
    Look { own, others, lag }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn look(own: Writable, others: &[(&str, Writable)]) -> Look {
        Look { own, others: others.iter().map(|(n, w)| (n.to_string(), w.clone())).collect(), lag: None }
    }

    #[test]
    fn the_mode_follows_the_store_and_keeps_its_since() {
        let primary = decide(&look(Ok(true), &[]), None, 10);
        assert_eq!((primary.mode, primary.since_ms), (Mode::Primary, 10));
        // (own, previous, now, mode, since)
        let table = [
            (Ok(true), Some(primary.clone()), 20, Mode::Primary, 10),
            (Ok(false), Some(primary.clone()), 30, Mode::Secondary, 30),
            (Err(LookError::Store("refused".into())), Some(primary.clone()), 40, Mode::Secondary, 40),
            (Ok(false), None, 50, Mode::Secondary, 50),
        ];
        for (own, previous, now, mode, since) in table {
            let got = decide(&look(own.clone(), &[]), previous.as_ref(), now);
            assert_eq!((got.mode, got.since_ms), (mode, since), "{own:?}");
        }
        let down = decide(&look(Err(LookError::Store("connection refused".into())), &[]), None, 0);
        assert_eq!(down.reason, "the control store cannot be reached: connection refused");
        let secondary = decide(&look(Ok(false), &[]), None, 5);
        assert_eq!(decide(&look(Ok(false), &[]), Some(&secondary), 99).since_ms, 5, "a steady mode keeps its since");
    }

    #[test]
    fn the_other_nodes_name_the_primary_or_reveal_split_brain() {
        let refused = || Err::<bool, LookError>(LookError::Store("connection refused".into()));
        // (own, others, mode, read_only, primary, primary lost)
        let table: Vec<(Writable, Vec<(&str, Writable)>, Mode, bool, Option<&str>, bool)> = vec![
            (Ok(true), vec![("db-sin", Ok(false))], Mode::Primary, false, None, false),
            (Ok(true), vec![("db-sin", refused())], Mode::Primary, false, None, false),
            (Ok(true), vec![("db-sjc", Ok(true))], Mode::Primary, true, None, false),
            (Ok(false), vec![("db-sjc", Ok(true))], Mode::Secondary, true, Some("db-sjc"), false),
            (Ok(false), vec![("db-sjc", refused()), ("db-ams", Ok(false))], Mode::Secondary, true, None, true),
            (refused(), vec![("db-sjc", Ok(true))], Mode::Secondary, true, Some("db-sjc"), false),
            (Ok(false), vec![], Mode::Secondary, true, None, false),
        ];
        for (own, others, mode, read_only, primary, lost) in table {
            let got = decide(&look(own.clone(), &others), None, 7);
            assert_eq!(
                (got.mode, got.read_only, got.primary.as_deref(), got.primary_lost_since_ms.is_some()),
                (mode, read_only, primary, lost),
                "{own:?} {others:?}"
            );
        }
        let split = decide(&look(Ok(true), &[("db-sjc", Ok(true))]), None, 0);
        assert!(split.reason.starts_with("split brain: db-sjc also accepts writes"), "{}", split.reason);
        let lost = decide(&look(Ok(false), &[("db-sjc", refused())]), None, 100);
        assert!(lost.reason.contains("no primary answers: db-sjc cannot be reached (connection refused)"), "{}", lost.reason);
        // The outage keeps its start while it lasts, and ends when a primary answers.
        assert_eq!(decide(&look(Ok(false), &[("db-sjc", refused())]), Some(&lost), 900).primary_lost_since_ms, Some(100));
        assert_eq!(decide(&look(Ok(false), &[("db-sjc", Ok(true))]), Some(&lost), 950).primary_lost_since_ms, None);
    }
}
