//! The backlog board: a window of good reports per loader, fed by scrape rounds and by pushes,
//! and evaluated on read. A rejected report is remembered as the loader's last error while the
//! previous good report stays in use.

use super::evaluate::Policy;
use super::{exposition, Report};
use crate::clock::now_ms;
use crate::config::{Estate, LoaderConfig};
use crate::store::LocalStore;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// The largest exposition accepted from a loader.
const MAX_SCRAPE_BYTES: usize = 1024 * 1024;

#[derive(Default)]
pub(super) struct LoaderState {
    /// Good reports in the window, oldest first.
    pub(super) reports: VecDeque<Report>,
    /// The last refusal or failed scrape: when, and why.
    pub(super) last_error: Option<(i64, String)>,
}

/// Reports per loader, and a counter that moves whenever any changes.
#[derive(Clone)]
pub struct LoaderBoard {
    estate: Arc<Estate>,
    state: Arc<RwLock<HashMap<String, LoaderState>>>,
    changes: watch::Sender<u64>,
    local: Option<LocalStore>,
}

/// Why a push was refused, mapped to an HTTP status at the edge.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// No loader of that name is configured.
    #[error("no loader named {0:?} is configured")]
    UnknownLoader(String),
    /// The loader is configured without a push token: it is scraped.
    #[error("loader {0:?} does not push (no push_token_sha256 in the config); it is scraped")]
    NotPushing(String),
    /// Missing or wrong bearer token.
    #[error("missing or wrong bearer token for loader {0:?}")]
    Unauthorized(String),
    /// The body was not a valid report.
    #[error("rejected report for loader {loader:?}: {reason}")]
    Rejected {
        /// The loader.
        loader: String,
        /// What was wrong.
        reason: String,
    },
}

pub(super) fn policy(estate: &Estate) -> Policy {
    Policy { window_ms: estate.backlog.window_seconds as i64 * 1000, stopped_after_ms: estate.backlog.stopped_after_seconds as i64 * 1000 }
}

impl LoaderBoard {
    /// An empty board for the estate's loaders; good reports also go to `local`.
    pub fn new(estate: Arc<Estate>, local: Option<LocalStore>) -> Self {
        LoaderBoard { estate, state: Arc::default(), changes: watch::channel(0).0, local }
    }

    /// Keeps a good report and tells the watchers.
    pub async fn accept(&self, loader: &str, report: Report) {
        self.keep(loader, report).await;
        self.notify();
    }

    /// Remembers why the latest report of a loader was refused (the previous good one stays),
    /// and tells the watchers.
    pub fn reject(&self, loader: &str, reason: String) {
        self.refuse(loader, reason);
        self.notify();
    }

    /// Wakes event streams and moves the page cache on: once per change, or once per round.
    fn notify(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Keeps a good report: newest last, trimmed to the window and the history length.
    async fn keep(&self, loader: &str, report: Report) {
        let keep = self.estate.backlog.history_points;
        let window_ms = self.estate.backlog.window_seconds as i64 * 1000;
        if let Ok(mut state) = self.state.write() {
            let entry = state.entry(loader.to_string()).or_default();
            entry.reports.push_back(report.clone());
            trim(&mut entry.reports, report.at_ms, keep, window_ms);
            entry.last_error = None;
        }
        if let Some(store) = &self.local {
            if let Err(e) = store.record_backlog(loader, &report.row()).await {
                tracing::warn!(error = %e, "could not store a loader report; the live view is unaffected");
            }
        }
    }

    fn refuse(&self, loader: &str, reason: String) {
        tracing::warn!(loader, %reason, "loader report rejected; keeping the previous good report");
        if let Ok(mut state) = self.state.write() {
            state.entry(loader.to_string()).or_default().last_error = Some((now_ms(), reason));
        }
    }

    /// Takes a pushed JSON body; the gate has checked the loader's bearer token
    /// ([`LoaderTokens`]).
    pub async fn push(&self, loader: &str, body: &[u8]) -> Result<(), PushError> {
        let config = self.estate.loaders.iter().find(|l| l.name == loader).ok_or_else(|| PushError::UnknownLoader(loader.to_string()))?;
        if config.push_token_sha256.is_none() {
            return Err(PushError::NotPushing(loader.to_string()));
        }
        let parsed = serde_json::from_slice::<super::PushedReport>(body)
            .map_err(|e| e.to_string())
            .and_then(|p| p.into_report(now_ms()).map_err(|e| e.to_string()));
        match parsed {
            Ok(report) => {
                self.accept(loader, report).await;
                Ok(())
            }
            Err(reason) => {
                self.reject(loader, format!("push: {reason}"));
                Err(PushError::Rejected { loader: loader.to_string(), reason })
            }
        }
    }

    /// A receiver that changes whenever a report arrives or is refused.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// How many changes so far.
    pub fn rounds(&self) -> u64 {
        *self.changes.borrow()
    }

    /// The estate and each loader's state, for the view.
    pub(super) fn read(&self) -> (&Estate, Option<std::sync::RwLockReadGuard<'_, HashMap<String, LoaderState>>>) {
        (&self.estate, self.state.read().ok())
    }
}

pub(super) fn source(config: &LoaderConfig) -> String {
    match (&config.metrics_url, &config.push_token_sha256) {
        (Some(url), None) => format!("scrape {url}"),
        (Some(url), Some(_)) => format!("scrape {url}, push"),
        (None, _) => "push".to_string(),
    }
}

/// Scrapes one loader once.
pub async fn scrape(client: &reqwest::Client, config: &LoaderConfig) -> Result<Report, String> {
    let url = config.metrics_url.as_deref().ok_or("no metrics_url")?;
    let mut response = client.get(url).send().await.map_err(|e| format!("scrape {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("scrape {url}: HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("scrape {url}: {e}"))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_SCRAPE_BYTES {
            return Err(format!("scrape {url}: more than {MAX_SCRAPE_BYTES} bytes"));
        }
    }
    let text = String::from_utf8(body).map_err(|_| format!("scrape {url}: the body is not UTF-8"))?;
    exposition::report(&text, &config.metric_names, now_ms()).map_err(|e| format!("scrape {url}: {e}"))
}

/// Scrapes every scrapable loader each interval, all at once, until the task is dropped.
pub async fn run_rounds(estate: Arc<Estate>, board: LoaderBoard, engine: Arc<crate::engines::Engine>) {
    let timeout = Duration::from_millis(estate.backlog.timeout_ms);
    // A loader's metrics are at its URL; a redirect elsewhere is not them (`outbound`).
    let client = crate::tls::outbound(estate.tls.ca_file.as_deref(), estate.tls.system_roots).timeout(timeout).build();
    let Ok(client) = client else {
        tracing::error!("cannot build the HTTP client for loader scrapes");
        return;
    };
    let mut ticker = tokio::time::interval(Duration::from_secs(estate.backlog.interval_seconds));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let started = std::time::Instant::now();
        let scrapable = estate.loaders.iter().filter(|l| l.metrics_url.is_some());
        let results = futures::future::join_all(scrapable.map(|l| {
            let client = &client;
            async move { (l.name.clone(), scrape(client, l).await) }
        }))
        .await;
        for (name, result) in results {
            match result {
                Ok(report) => board.keep(&name, report).await,
                Err(e) => board.refuse(&name, e),
            }
        }
        // One change per round, not per loader: watchers get one backlog snapshot a round.
        board.notify();
        engine.round_done(started);
    }
}

/// Bounds one loader's reports: beyond `keep` (the chart's history), only reports inside the
/// rate window stay; and never more than twice `keep`, however fast a loader pushes (rates then
/// span the newest reports, still a true counter delta over time).
pub fn trim(reports: &mut VecDeque<Report>, newest_at_ms: i64, keep: usize, window_ms: i64) {
    let keep = keep.max(2);
    while reports.len() > keep && reports.front().is_some_and(|r| r.at_ms < newest_at_ms - window_ms) {
        reports.pop_front();
    }
    while reports.len() > 2 * keep {
        reports.pop_front();
    }
}

/// Each pushing loader's token hash: the gate checks a push's bearer token with it before the
/// push reaches the board.
#[derive(Debug, Clone, Default)]
pub struct LoaderTokens(std::collections::HashMap<String, Option<String>>);

impl LoaderTokens {
    /// The tokens of every configured loader (None: it is scraped, not pushing).
    pub fn from_estate(estate: &Estate) -> Self {
        LoaderTokens(
            estate.loaders.iter().map(|l| (l.name.clone(), l.push_token_sha256.as_ref().map(|t| t.to_ascii_lowercase()))).collect(),
        )
    }

    /// Whether `bearer` is `loader`'s token.
    pub fn check(&self, loader: &str, bearer: Option<&str>) -> Result<(), PushError> {
        let expected = self.0.get(loader).ok_or_else(|| PushError::UnknownLoader(loader.to_string()))?;
        let expected = expected.as_deref().ok_or_else(|| PushError::NotPushing(loader.to_string()))?;
        let presented = bearer.map(crate::auth::token_sha256).unwrap_or_default();
        if crate::auth::same_secret(&presented, expected) {
            Ok(())
        } else {
            Err(PushError::Unauthorized(loader.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reports(every_ms: i64, n: usize) -> VecDeque<Report> {
        (0..n as i64)
            .map(|i| Report { at_ms: i * every_ms, depth: 0.0, oldest_age_seconds: 0.0, enqueued_total: i as f64, loaded_total: 0.0 })
            .collect()
    }

    #[test]
    fn reports_stay_bounded_however_fast_a_loader_pushes() {
        #[rustfmt::skip]
        let cases: Vec<(&str, VecDeque<Report>, usize, i64, usize, i64)> = vec![
            // (case, reports, keep, window, left, oldest kept)
            ("few reports: all kept", reports(1000, 5), 120, 10_000, 5, 0),
            ("history beyond the window up to keep", reports(1000, 150), 120, 10_000, 120, 30_000),
            ("a fast pusher inside the window: twice keep at most", reports(1, 10_000), 120, 10_000, 240, 9_760),
            ("a keep of zero still keeps two for a rate", reports(1000, 10), 0, 1_000, 2, 8_000),
        ];
        for (case, mut list, keep, window, left, oldest) in cases {
            let newest = list.back().map_or(0, |r| r.at_ms);
            trim(&mut list, newest, keep, window);
            assert_eq!(list.len(), left, "{case}");
            assert_eq!(list.front().map(|r| r.at_ms), Some(oldest), "{case}");
        }
    }
}
