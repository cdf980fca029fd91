//! Primary or secondary: one decision, taken from the control store itself. An instance is
//! primary while its control store accepts writes (SQLite always; PostgreSQL when not in
//! recovery) and secondary otherwise, re-checked every probe interval, so promoting a standby
//! makes its instance primary without a restart.

use crate::probe::now_ms;
use crate::store::ControlStore;
use app::model::Mode;
use std::time::Duration;
use tokio::sync::watch;

/// The current mode and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModeState {
    /// Primary or secondary.
    pub mode: Mode,
    /// Why, in words for the banner.
    pub reason: String,
    /// Since when (unix milliseconds).
    pub since_ms: i64,
}

/// What one look at the control store says: writable, not, or could not tell (with why).
pub type Look = Result<bool, String>;

/// The mode after `look`, given the `previous` state, at `now`. Pure.
pub fn decide(look: &Look, previous: Option<&ModeState>, now: i64) -> ModeState {
    let (mode, reason) = match look {
        Ok(true) => (Mode::Primary, "the control store accepts writes".to_string()),
        Ok(false) => (Mode::Secondary, "the control store is a read-only replica (in recovery)".to_string()),
        // A store that cannot be asked cannot be written either.
        Err(e) => (Mode::Secondary, format!("the control store cannot be reached: {e}")),
    };
    let since_ms = match previous {
        Some(p) if p.mode == mode => p.since_ms,
        _ => now,
    };
    ModeState { mode, reason, since_ms }
}

/// Shares the mode with everything that reads it.
#[derive(Clone)]
pub struct ModeWatch {
    tx: std::sync::Arc<watch::Sender<ModeState>>,
}

impl ModeWatch {
    /// Starts from one look at `control`.
    pub async fn start(control: &ControlStore) -> ModeWatch {
        let state = decide(&look(control).await, None, now_ms());
        ModeWatch { tx: std::sync::Arc::new(watch::channel(state).0) }
    }

    /// The mode now.
    pub fn get(&self) -> ModeState {
        self.tx.borrow().clone()
    }

    /// True while ordinary writes must be refused.
    pub fn read_only(&self) -> bool {
        self.tx.borrow().mode == Mode::Secondary
    }

    /// A receiver that wakes on every change of mode.
    pub fn subscribe(&self) -> watch::Receiver<ModeState> {
        self.tx.subscribe()
    }

    /// Looks again every `interval`; `on_primary` runs each time the instance becomes primary
    /// (migrations, adopting its config), until the task is aborted.
    pub async fn run<F, Fut>(self, control: ControlStore, interval: Duration, on_primary: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let before = self.get();
            let after = decide(&look(&control).await, Some(&before), now_ms());
            if after != before {
                tracing::warn!(from = ?before.mode, to = ?after.mode, reason = %after.reason, "mode changed");
                let promoted = before.mode == Mode::Secondary && after.mode == Mode::Primary;
                self.tx.send_replace(after);
                if promoted {
                    on_primary().await;
                }
            }
        }
    }
}

async fn look(control: &ControlStore) -> Look {
    // Bounded: a hung primary must not hold the decision.
    match tokio::time::timeout(Duration::from_secs(3), control.writable()).await {
        Ok(Ok(w)) => Ok(w),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_follows_the_store_and_keeps_its_since() {
        let primary = decide(&Ok(true), None, 10);
        assert_eq!((primary.mode, primary.since_ms), (Mode::Primary, 10));
        // (look, previous, now, mode, since)
        let table = [
            (Ok(true), Some(primary.clone()), 20, Mode::Primary, 10),
            (Ok(false), Some(primary.clone()), 30, Mode::Secondary, 30),
            (Err("refused".to_string()), Some(primary.clone()), 40, Mode::Secondary, 40),
            (Ok(false), None, 50, Mode::Secondary, 50),
        ];
        for (look, previous, now, mode, since) in table {
            let got = decide(&look, previous.as_ref(), now);
            assert_eq!((got.mode, got.since_ms), (mode, since), "{look:?}");
        }
        let down = decide(&Err("connection refused".into()), None, 0);
        assert_eq!(down.reason, "the control store cannot be reached: connection refused");
        let secondary = decide(&Ok(false), None, 5);
        assert_eq!(decide(&Ok(false), Some(&secondary), 99).since_ms, 5, "a steady mode keeps its since");
    }
}
