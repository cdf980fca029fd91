//! Supervised engines. Each engine (health probes, DNS, replication, loader scrapes) runs under a
//! supervisor that logs a panic, counts it and restarts the engine after a pause, so one bad
//! input cannot stop an engine for good. Each engine reports every finished round, so `/healthz`
//! can name an engine whose last round is older than its stale limit and `/metrics` can show
//! each engine's last round, its duration and its restarts.

pub mod damping;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Pause before a panicked engine starts again: long enough not to spin on a fault that
/// repeats every round, short against any stale limit.
pub const RESTART_AFTER: Duration = Duration::from_secs(1);

/// One engine's round clock and restart count, shared by the engine and its readers.
#[derive(Debug)]
pub struct Engine {
    name: &'static str,
    stale_after_ms: i64,
    started_ms: i64,
    rounds: AtomicU64,
    last_round_ms: AtomicI64,
    last_duration_us: AtomicU64,
    panics: AtomicU64,
    idle: AtomicBool,
}

/// What an engine's clock says now.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSnapshot {
    /// `health`, `dns`, `replication`, `backlog`.
    pub name: &'static str,
    /// A round older than this means the engine is stuck (milliseconds).
    pub stale_after_ms: i64,
    /// When the engine was first started (unix milliseconds).
    pub started_ms: i64,
    /// Rounds finished since start.
    pub rounds: u64,
    /// When the last round finished (unix milliseconds), if any has.
    pub last_round_ms: Option<i64>,
    /// How long the last round took, in seconds.
    pub last_duration_seconds: Option<f64>,
    /// Panics caught and restarted since start.
    pub panics: u64,
    /// The engine ended on its own: it has nothing to watch (no records, no databases).
    pub idle: bool,
}

impl Engine {
    /// A new engine clock; `stale_after` is how old its last round may be.
    pub fn new(name: &'static str, stale_after: Duration, now_ms: i64) -> Arc<Engine> {
        Arc::new(Engine {
            name,
            stale_after_ms: stale_after.as_millis() as i64,
            started_ms: now_ms,
            rounds: AtomicU64::new(0),
            last_round_ms: AtomicI64::new(0),
            last_duration_us: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            idle: AtomicBool::new(false),
        })
    }

    /// Records a finished round that began at `started`.
    pub fn round_done(&self, started: Instant) {
        self.last_duration_us.store(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        self.last_round_ms.store(crate::clock::now_ms(), Ordering::Relaxed);
        self.rounds.fetch_add(1, Ordering::Relaxed);
    }

    /// The clock's readings now.
    pub fn snapshot(&self) -> EngineSnapshot {
        let rounds = self.rounds.load(Ordering::Relaxed);
        EngineSnapshot {
            name: self.name,
            stale_after_ms: self.stale_after_ms,
            started_ms: self.started_ms,
            rounds,
            last_round_ms: (rounds > 0).then(|| self.last_round_ms.load(Ordering::Relaxed)),
            last_duration_seconds: (rounds > 0).then(|| self.last_duration_us.load(Ordering::Relaxed) as f64 / 1e6),
            panics: self.panics.load(Ordering::Relaxed),
            idle: self.idle.load(Ordering::Relaxed),
        }
    }
}

impl EngineSnapshot {
    /// How long since the last round (or, before any, since start), when that is past the
    /// engine's stale limit; an idle engine is never stale.
    pub fn stale_for_ms(&self, now_ms: i64) -> Option<i64> {
        let age_ms = now_ms - self.last_round_ms.unwrap_or(self.started_ms);
        (!self.idle && age_ms > self.stale_after_ms).then_some(age_ms)
    }
}

/// Engines whose last round (or, before any, whose start) is older than their stale limit, in
/// words: `dns: last round 42 s ago (stale after 15 s)`.
pub fn stale(engines: &[EngineSnapshot], now_ms: i64) -> Vec<String> {
    engines
        .iter()
        .filter_map(|e| {
            let age_ms = e.stale_for_ms(now_ms)?;
            let what = match e.last_round_ms {
                Some(_) => format!("last round {} s ago", age_ms / 1000),
                None => format!("no round in the {} s since start", age_ms / 1000),
            };
            let restarts = if e.panics > 0 { format!(", {} restarts after panics", e.panics) } else { String::new() };
            Some(format!("{}: {what} (stale after {} s{restarts})", e.name, e.stale_after_ms / 1000))
        })
        .collect()
}

/// Aborts the engine's task when the supervisor itself is stopped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `make()`'s engine as its own task and starts it again after a panic (logged with its
/// message and counted); an engine that returns is idle and not restarted. Stopping the
/// returned task stops the engine.
pub fn supervise<F, Fut>(engine: Arc<Engine>, mut make: F) -> JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        loop {
            let mut task = AbortOnDrop(tokio::spawn(make()));
            match (&mut task.0).await {
                Ok(()) => {
                    engine.idle.store(true, Ordering::Relaxed);
                    return;
                }
                Err(e) if e.is_panic() => {
                    let payload = e.into_panic();
                    let why = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic without a message".into());
                    let panics = engine.panics.fetch_add(1, Ordering::Relaxed) + 1;
                    tracing::error!(engine = engine.name, panic = %why, panics, "engine panicked; restarting it");
                    tokio::time::sleep(RESTART_AFTER).await;
                }
                Err(_) => return,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(last_round_ms: Option<i64>, idle: bool, panics: u64) -> EngineSnapshot {
        EngineSnapshot {
            name: "dns",
            stale_after_ms: 15_000,
            started_ms: 0,
            rounds: u64::from(last_round_ms.is_some()),
            last_round_ms,
            last_duration_seconds: last_round_ms.map(|_| 0.2),
            panics,
            idle,
        }
    }

    #[test]
    fn an_engine_is_stale_when_its_last_round_is_older_than_its_limit() {
        #[rustfmt::skip]
        let cases: Vec<(&str, EngineSnapshot, i64, Option<&str>)> = vec![
            ("fresh", snapshot(Some(50_000), false, 0), 60_000, None),
            ("exactly at the limit", snapshot(Some(45_000), false, 0), 60_000, None),
            ("stale", snapshot(Some(18_000), false, 0), 60_000, Some("dns: last round 42 s ago (stale after 15 s)")),
            ("starting, within the limit", snapshot(None, false, 0), 10_000, None),
            ("never a round", snapshot(None, false, 0), 20_000, Some("dns: no round in the 20 s since start (stale after 15 s)")),
            ("restarts are named", snapshot(Some(0), false, 3), 60_000, Some("(stale after 15 s, 3 restarts after panics)")),
            ("idle engines are never stale", snapshot(None, true, 0), 600_000, None),
        ];
        for (name, engine, now, want) in cases {
            let got = stale(&[engine], now);
            match want {
                None => assert!(got.is_empty(), "{name}: {got:?}"),
                Some(words) => assert!(got.len() == 1 && got[0].contains(words), "{name}: {got:?}"),
            }
        }
    }

    #[tokio::test]
    async fn a_panicking_engine_is_restarted_and_counted() {
        let engine = Engine::new("test", Duration::from_secs(5), 0);
        let starts = Arc::new(AtomicU64::new(0));
        let task = {
            let (engine, starts) = (engine.clone(), starts.clone());
            supervise(engine.clone(), move || {
                let (engine, starts) = (engine.clone(), starts.clone());
                async move {
                    // The first run panics mid-round (a bad row, a poisoned lock); the second
                    // finishes a round and then keeps running.
                    if starts.fetch_add(1, Ordering::SeqCst) == 0 {
                        panic!("unexpected column in a row");
                    }
                    engine.round_done(Instant::now());
                    std::future::pending::<()>().await;
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while engine.snapshot().rounds == 0 {
            assert!(Instant::now() < deadline, "the engine was not restarted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let seen = engine.snapshot();
        assert_eq!((seen.panics, seen.rounds, seen.idle), (1, 1, false));
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        task.abort();
    }

    #[tokio::test]
    async fn an_engine_that_returns_is_idle_not_restarted() {
        let engine = Engine::new("test", Duration::from_secs(5), 0);
        supervise(engine.clone(), || async {}).await.unwrap();
        assert!(engine.snapshot().idle);
        assert!(stale(&[engine.snapshot()], 3_600_000).is_empty());
    }
}
