//! Peers: every other Crowsnest instance is a vantage. Each serves its latest observations at
//! `GET /api/v1/peer/report` to peers presenting their token (only its SHA-256 is configured);
//! this instance fetches every peer each probe interval, all at once, each bounded in time and
//! size, so a slow peer delays nobody. A peer that does not answer is itself a finding.

pub mod evaluate;

use crate::clock::now_ms;
use crate::config::{Estate, PeerConfig};
use app::vantage::{PeerStatus, VantageReport};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The largest report accepted from a peer.
pub const MAX_REPORT_BYTES: usize = 1 << 20;

/// Path a peer's report is served at.
pub const REPORT_PATH: &str = "/api/v1/peer/report";

/// Why a peer's report could not be had.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FetchError {
    /// No connection, or the connection broke.
    #[error("cannot reach {url}: {why}")]
    Unreachable {
        /// The report URL.
        url: String,
        /// The transport's words.
        why: String,
    },
    /// Nothing within the time allowed.
    #[error("no answer from {url} within {ms} ms")]
    Timeout {
        /// The report URL.
        url: String,
        /// The limit.
        ms: u64,
    },
    /// An answer, but not a report.
    #[error("{url} answered {status}")]
    Status {
        /// The report URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// Too big to be a report.
    #[error("{url} sent more than {MAX_REPORT_BYTES} bytes")]
    TooLarge {
        /// The report URL.
        url: String,
    },
    /// Not the JSON of a report.
    #[error("{url} sent something that is not a report: {why}")]
    Invalid {
        /// The report URL.
        url: String,
        /// The parser's words.
        why: String,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    status: PeerStatus,
    report: Option<VantageReport>,
}

/// The latest status and report of every configured peer.
#[derive(Clone, Default)]
pub struct PeerBook {
    entries: Arc<RwLock<BTreeMap<String, Entry>>>,
    rounds: Arc<AtomicU64>,
}

impl PeerBook {
    /// A book with every configured peer, none reached yet.
    pub fn new(estate: &Estate) -> PeerBook {
        let book = PeerBook::default();
        {
            let mut entries = book.entries.write().unwrap_or_else(|e| e.into_inner());
            for p in &estate.peers {
                let status = PeerStatus {
                    name: p.name.clone(),
                    region: p.region.clone(),
                    reachable: false,
                    last_ok_ms: None,
                    failing_since_ms: None,
                    error: Some("not asked yet".into()),
                    mode: None,
                };
                entries.insert(p.name.clone(), Entry { status, report: None });
            }
        }
        book
    }

    /// Completed fetch rounds (moves the console's generation).
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::Relaxed)
    }

    /// Every peer's status and latest report, in name order.
    pub fn snapshot(&self) -> Vec<(PeerStatus, Option<VantageReport>)> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.values().map(|e| (e.status.clone(), e.report.clone())).collect()
    }

    /// Every peer's status, in name order.
    pub fn statuses(&self) -> Vec<PeerStatus> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries.values().map(|e| e.status.clone()).collect()
    }

    /// Records one fetch's outcome at `now`.
    pub fn record(&self, peer: &str, outcome: Result<VantageReport, FetchError>, now: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = entries.get_mut(peer) else { return };
        match outcome {
            Ok(report) => {
                entry.status.reachable = true;
                entry.status.last_ok_ms = Some(now);
                entry.status.failing_since_ms = None;
                entry.status.error = None;
                entry.status.mode = Some(if report.instance.read_only { "read-only" } else { "writable" }.to_string());
                entry.report = Some(report);
            }
            Err(e) => {
                // The first failure after a success (or since start) starts the outage.
                if entry.status.reachable || entry.status.failing_since_ms.is_none() {
                    entry.status.failing_since_ms = Some(now);
                }
                entry.status.reachable = false;
                entry.status.error = Some(e.to_string());
            }
        }
    }
}

/// The tokens peers present, by their SHA-256.
#[derive(Clone, Default)]
pub struct PeerTokens(Vec<(String, String)>);

impl PeerTokens {
    /// The accepted token hashes of every configured peer.
    pub fn from_estate(estate: &Estate) -> PeerTokens {
        PeerTokens(estate.peers.iter().map(|p| (p.name.clone(), p.accept_token_sha256.to_ascii_lowercase())).collect())
    }

    /// The peer whose token `bearer` is, if any.
    pub fn check(&self, bearer: Option<&str>) -> Option<&str> {
        let presented = crate::auth::token_sha256(bearer?);
        // Compare against every hash, so the time taken does not tell which one was close.
        let mut found = None;
        for (name, hash) in &self.0 {
            if crate::auth::same_secret(&presented, hash) {
                found = Some(name.as_str());
            }
        }
        found
    }
}

/// Fetches one peer's report, bounded by `timeout` and [`MAX_REPORT_BYTES`].
pub async fn fetch(client: &reqwest::Client, peer: &PeerConfig, timeout: Duration) -> Result<VantageReport, FetchError> {
    fetch_json(client, peer, REPORT_PATH, timeout).await
}

/// Fetches `path_and_query` from a peer as JSON with this instance's token for it, bounded by
/// `timeout` and [`MAX_REPORT_BYTES`].
pub async fn fetch_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    peer: &PeerConfig,
    path_and_query: &str,
    timeout: Duration,
) -> Result<T, FetchError> {
    let url = format!("{}{path_and_query}", peer.url.trim_end_matches('/'));
    let ms = timeout.as_millis() as u64;
    let get = async {
        let mut response = client
            .get(&url)
            .bearer_auth(&peer.token)
            .send()
            .await
            .map_err(|e| FetchError::Unreachable { url: url.clone(), why: crate::health::engine::error_chain(&e) })?;
        if !response.status().is_success() {
            return Err(FetchError::Status { url: url.clone(), status: response.status().as_u16() });
        }
        let mut body = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| FetchError::Unreachable { url: url.clone(), why: crate::health::engine::error_chain(&e) })?
        {
            if body.len() + chunk.len() > MAX_REPORT_BYTES {
                return Err(FetchError::TooLarge { url: url.clone() });
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).map_err(|e| FetchError::Invalid { url: url.clone(), why: e.to_string() })
    };
    match tokio::time::timeout(timeout, get).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout { url, ms }),
    }
}

/// The client peers are asked with. A peer answers itself: a redirect elsewhere, or a proxy from
/// the environment, is not it.
pub fn client(connect_timeout: Duration, tls: &crate::config::TlsConfig) -> reqwest::Client {
    crate::tls::outbound(tls.ca_file.as_deref(), tls.system_roots).connect_timeout(connect_timeout).build().unwrap_or_default()
}

/// Asks every peer each probe interval, all at once, until aborted; on a secondary, keeps the
/// writable primary's audit head in `local`.
pub async fn run(estate: Arc<Estate>, book: PeerBook, local: crate::store::LocalStore, mode: crate::mode::ModeWatch) {
    if estate.peers.is_empty() {
        return;
    }
    let timeout = Duration::from_millis(estate.probes.timeout_ms);
    let client = client(timeout, &estate.tls);
    let mut tick = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let fetches = estate.peers.iter().map(|p| {
            let client = &client;
            async move { (p.name.clone(), fetch(client, p, timeout).await) }
        });
        for (name, outcome) in futures::future::join_all(fetches).await {
            match &outcome {
                Err(e) => tracing::debug!(peer = %name, error = %e, "peer fetch failed"),
                // Only a writable primary's head is the chain's (a secondary's may lag), and only
                // a secondary keeps it: a primary that sees another writable primary is in split
                // brain, and one of the two timelines is about to be abandoned.
                Ok(report)
                    if report.instance.mode == app::model::Mode::Primary
                        && !report.instance.read_only
                        && mode.get().mode == app::model::Mode::Secondary =>
                {
                    if let Some((seq, hash)) = &report.audit_head {
                        if let Err(e) = local.record_peer_head(&name, *seq, hash, now_ms()).await {
                            tracing::warn!(peer = %name, error = %e, "cannot keep the peer's audit head");
                        }
                    }
                }
                Ok(_) => {}
            }
            book.record(&name, outcome, now_ms());
        }
        book.rounds.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_peers_token_is_accepted_and_outages_keep_their_start() {
        let tokens = PeerTokens(vec![("sin-1".into(), crate::auth::token_sha256("sin-token-0123456789"))]);
        // (bearer, accepted as)
        let table = [(Some("sin-token-0123456789"), Some("sin-1")), (Some("sin-token-012345678"), None), (Some(""), None), (None, None)];
        for (bearer, want) in table {
            assert_eq!(tokens.check(bearer), want, "{bearer:?}");
        }

        let book = PeerBook::default();
        let status = |reachable| PeerStatus {
            name: "sjc-1".into(),
            region: "sjc".into(),
            reachable,
            last_ok_ms: None,
            failing_since_ms: None,
            error: None,
            mode: None,
        };
        book.entries.write().unwrap().insert("sjc-1".into(), Entry { status: status(true), report: None });
        let down = || Err(FetchError::Timeout { url: "http://x/api/v1/peer/report".into(), ms: 500 });
        book.record("sjc-1", down(), 1_000);
        book.record("sjc-1", down(), 2_000);
        let s = &book.statuses()[0];
        assert_eq!((s.reachable, s.failing_since_ms), (false, Some(1_000)), "the outage starts at the first failure");
        assert_eq!(s.error.as_deref(), Some("no answer from http://x/api/v1/peer/report within 500 ms"));
        book.record("nobody", down(), 3_000);
        assert_eq!(book.statuses().len(), 1, "an unknown peer is not added");
    }

    async fn serve(router: axum::Router) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        base
    }

    fn peer(url: String) -> PeerConfig {
        PeerConfig { name: "sjc-1".into(), region: "sjc".into(), url, token: "t".repeat(16), accept_token_sha256: "0".repeat(64) }
    }

    #[tokio::test]
    async fn a_slow_huge_or_refusing_peer_is_cut_off_with_why() {
        use axum::routing::get;
        let slow = serve(axum::Router::new().route(
            REPORT_PATH,
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "{}"
            }),
        ))
        .await;
        let huge = serve(axum::Router::new().route(REPORT_PATH, get(|| async { "x".repeat(MAX_REPORT_BYTES + 1) }))).await;
        let refusing = serve(axum::Router::new()).await;
        let garbled = serve(axum::Router::new().route(REPORT_PATH, get(|| async { "{\"instance\": 1}" }))).await;
        // A redirect to somewhere else is not followed: the peer is whoever answers at its URL.
        let elsewhere = serve(axum::Router::new().route(REPORT_PATH, get(|| async { "{\"instance\": 1}" }))).await;
        let target = format!("{elsewhere}{REPORT_PATH}");
        let redirecting =
            serve(axum::Router::new().route(REPORT_PATH, get(move || async move { axum::response::Redirect::temporary(&target) }))).await;
        let client = client(Duration::from_millis(300), &Default::default());
        let limit = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let peers = [peer(slow.clone()), peer(huge), peer(refusing.clone()), peer(garbled), peer(redirecting.clone())];
        let (a, b, c, d, e) = tokio::join!(
            fetch(&client, &peers[0], limit),
            fetch(&client, &peers[1], limit),
            fetch(&client, &peers[2], limit),
            fetch(&client, &peers[3], limit),
            fetch(&client, &peers[4], limit),
        );
        assert_eq!(e.unwrap_err(), FetchError::Status { url: format!("{redirecting}{REPORT_PATH}"), status: 307 });
        assert_eq!(a.unwrap_err(), FetchError::Timeout { url: format!("{slow}{REPORT_PATH}"), ms: 300 });
        assert!(matches!(b.unwrap_err(), FetchError::TooLarge { .. } | FetchError::Timeout { .. }));
        assert_eq!(c.unwrap_err(), FetchError::Status { url: format!("{refusing}{REPORT_PATH}"), status: 404 });
        assert!(matches!(d.unwrap_err(), FetchError::Invalid { .. }));
        // All four were asked at once: the slow one held nobody up beyond its own limit.
        assert!(started.elapsed() < Duration::from_secs(30), "the slow peer was not cut off");
    }
}
