//! The health probe engine: checks every host each interval, from this instance, over real
//! HTTP and TCP, and keeps the latest observation of each.

use super::evaluate::{Answer, Expect, Observation, ProbeError, Served};
use crate::clock::now_ms;
use crate::config::{Estate, HostConfig};
use crate::engines::damping::{Damped, Damping};
use crate::store::LocalStore;
use app::model::Status;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What to check on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// GET this URL.
    Http {
        /// The URL.
        url: String,
        /// Which statuses pass.
        expect: Expect,
    },
    /// GET over TLS from the host's own address (not wherever DNS points), naming the URL's
    /// host for SNI and `Host`: which certificate this balancer really serves for that name.
    Https {
        /// The host checked, for the certificate's words.
        host: String,
        /// The URL as configured.
        url: String,
        /// The host's own address and the URL's port.
        connect: SocketAddr,
        /// The URL's host: the name asked for.
        name: String,
        /// Path and query to GET.
        path: String,
        /// Which statuses pass.
        expect: Expect,
    },
    /// Connect to this address.
    Tcp(SocketAddr),
}

impl Target {
    /// The check a host's config asks for.
    pub fn of(host: &HostConfig) -> Target {
        let expect = host.check.expect_status.map_or(Expect::Success, Expect::Status);
        match (&host.check.http, host.check.tcp) {
            (Some(url), _) if url.starts_with("https://") => {
                // Validation parsed every URL already; a failure here leaves the plain GET's error.
                let Ok(parsed) = reqwest::Url::parse(url) else { return Target::Http { url: url.clone(), expect } };
                let path = match parsed.query() {
                    Some(q) => format!("{}?{q}", parsed.path()),
                    None => parsed.path().to_string(),
                };
                Target::Https {
                    host: host.name.clone(),
                    url: url.clone(),
                    connect: SocketAddr::new(host.address, parsed.port().unwrap_or(443)),
                    name: parsed.host_str().unwrap_or_default().to_string(),
                    path,
                    expect,
                }
            }
            (Some(url), _) => Target::Http { url: url.clone(), expect },
            (None, port) => Target::Tcp(SocketAddr::new(host.address, port.unwrap_or(0))),
        }
    }

    /// The check in words, for the topology table.
    pub fn describe(&self) -> String {
        match self {
            Target::Http { url, .. } => format!("GET {url}"),
            Target::Https { url, connect, .. } => format!("GET {url} at {connect}"),
            Target::Tcp(addr) => format!("TCP {addr}"),
        }
    }

    /// Which statuses pass (TCP checks have no status).
    pub fn expect(&self) -> Expect {
        match self {
            Target::Http { expect, .. } | Target::Https { expect, .. } => *expect,
            Target::Tcp(_) => Expect::Success,
        }
    }
}

/// Checks one target. One method, so tests and benchmarks can swap the transport.
pub trait HealthProbe: Send + Sync + 'static {
    /// Runs one check, never taking longer than the probe's timeout.
    fn check<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Observation>;
}

/// Speaks real HTTP (reqwest), HTTPS (rustls, certificates judged) and TCP (tokio).
pub struct NetProbe {
    client: reqwest::Client,
    timeout: Duration,
    /// The roots HTTPS checks verify against; without them every HTTPS check fails.
    trust: Option<crate::tls::probe::Trust>,
}

impl NetProbe {
    /// A probe whose every check gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("crowsnest/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a client with only a timeout, no proxy and no redirects always builds");
        NetProbe { client, timeout, trust: None }
    }

    /// The same probe, checking HTTPS against `trust`.
    pub fn with_trust(self, trust: crate::tls::probe::Trust) -> Self {
        NetProbe { trust: Some(trust), ..self }
    }

    async fn run(&self, target: &Target) -> (Result<Answer, ProbeError>, Option<Served>) {
        let timeout_ms = self.timeout.as_millis() as u64;
        match target {
            Target::Http { url, .. } => {
                let response = self.client.get(url).send().await.map_err(|e| {
                    if e.is_timeout() {
                        ProbeError::Timeout(timeout_ms)
                    } else if e.is_connect() && is_refused(&e) {
                        ProbeError::Refused
                    } else {
                        ProbeError::Network(error_chain(&e))
                    }
                });
                (response.map(|r| Answer::Http(r.status().as_u16())), None)
            }
            Target::Https { host, connect, name, path, .. } => {
                let Some(trust) = &self.trust else {
                    return (Err(ProbeError::Network("no trusted roots are loaded for HTTPS checks".into())), None);
                };
                match tokio::time::timeout(self.timeout, trust.get(*connect, name, path)).await {
                    Err(_) => (Err(ProbeError::Timeout(timeout_ms)), None),
                    Ok(Err(crate::tls::probe::TlsCheckError::Io(e))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                        (Err(ProbeError::Refused), None)
                    }
                    Ok(Err(e)) => (Err(ProbeError::Network(format!("TLS to {connect} as {name}: {e}"))), None),
                    Ok(Ok((code, facts))) => (Ok(Answer::Http(code)), Some(Served { host: host.clone(), hostname: name.clone(), facts })),
                }
            }
            Target::Tcp(addr) => match tokio::time::timeout(self.timeout, tokio::net::TcpStream::connect(addr)).await {
                Err(_) => (Err(ProbeError::Timeout(timeout_ms)), None),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => (Err(ProbeError::Refused), None),
                Ok(Err(e)) => (Err(ProbeError::Network(e.to_string())), None),
                Ok(Ok(_)) => (Ok(Answer::TcpConnected), None),
            },
        }
    }
}

fn is_refused(e: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        source = s.source();
    }
    false
}

/// An error and every cause under it, joined with ": " (a bare reqwest error says only "error sending request").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

impl HealthProbe for NetProbe {
    fn check<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Observation> {
        Box::pin(async move {
            let started = Instant::now();
            let (outcome, certificate) = self.run(target).await;
            let latency_ms = outcome.is_ok().then(|| started.elapsed().as_secs_f64() * 1000.0);
            Observation { at_ms: now_ms(), latency_ms, outcome, certificate }
        })
    }
}

/// One host's latest observation and its damped status.
#[derive(Debug, Clone)]
pub struct HostState {
    /// The latest observation.
    pub latest: Observation,
    /// Raw statuses of recent rounds and what is shown.
    pub damped: Damped<Status>,
}

/// The latest observation and damped status per host, and a counter that moves after every round.
#[derive(Clone)]
pub struct HealthBoard {
    latest: Arc<RwLock<HashMap<String, HostState>>>,
    rounds: watch::Sender<u64>,
}

impl Default for HealthBoard {
    fn default() -> Self {
        HealthBoard { latest: Arc::default(), rounds: watch::channel(0).0 }
    }
}

impl HealthBoard {
    /// The latest observation of a host.
    pub fn latest(&self, host: &str) -> Option<Observation> {
        Some(self.latest.read().ok()?.get(host)?.latest.clone())
    }

    /// The latest observation of a host and its damped status.
    pub fn state(&self, host: &str) -> Option<HostState> {
        self.latest.read().ok()?.get(host).cloned()
    }

    /// Records one round's observations with each one's raw status, damps them by `rule`, and
    /// wakes every subscriber.
    pub fn publish(&self, round: Vec<(String, Observation, Status)>, rule: &Damping) {
        if let Ok(mut latest) = self.latest.write() {
            for (host, observation, raw) in round {
                let at_ms = observation.at_ms;
                let state = latest
                    .entry(host)
                    .or_insert_with(|| HostState { latest: observation.clone(), damped: Damped::new(Status::Unknown, at_ms) });
                state.damped.push(at_ms, raw, rule, Status::severity);
                state.latest = observation;
            }
        }
        self.rounds.send_modify(|n| *n += 1);
    }

    /// A receiver that changes after every round.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.rounds.subscribe()
    }

    /// How many rounds have completed.
    pub fn rounds(&self) -> u64 {
        *self.rounds.borrow()
    }
}

/// Runs probe rounds forever (until the task is dropped): all hosts concurrently, each bounded
/// by the probe timeout, so one dead host never delays the others.
pub async fn run_rounds(
    estate: Arc<Estate>,
    probe: Arc<dyn HealthProbe>,
    board: HealthBoard,
    local: Option<LocalStore>,
    engine: Arc<crate::engines::Engine>,
) {
    let targets: Vec<(String, Target)> = estate.hosts.iter().map(|h| (h.name.clone(), Target::of(h))).collect();
    let (policy, rule) = (crate::health::evaluate::Policy::of_config(&estate.probes, &estate.tls), Damping::of_config(&estate.probes));
    let mut ticker = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let retention_ms = estate.probes.retention_hours as i64 * 3_600_000;
    loop {
        ticker.tick().await;
        let started = Instant::now();
        let round: Vec<(String, Observation)> = futures::future::join_all(targets.iter().map(|(name, target)| {
            let probe = probe.clone();
            async move { (name.clone(), probe.check(target).await) }
        }))
        .await;
        if let Some(store) = &local {
            let rows: Vec<(String, crate::store::HealthRow)> = round.iter().map(|(host, o)| (host.clone(), o.row())).collect();
            if let Err(e) = store.record_health(&rows).await {
                tracing::warn!(error = %e, "could not store observations; the live view is unaffected");
            }
            if board.rounds().is_multiple_of(100) {
                if let Err(e) = store.prune(now_ms() - retention_ms).await {
                    tracing::warn!(error = %e, "could not prune old observations");
                }
            }
        }
        let judged = round
            .into_iter()
            .zip(&targets)
            .map(|((name, observation), (_, target))| {
                let raw = super::evaluate::evaluate(Some(&observation), target.expect(), policy, observation.at_ms).status;
                (name, observation, raw)
            })
            .collect();
        board.publish(judged, &rule);
        engine.round_done(started);
        // A round of hundreds of concurrent HTTP probes frees their buffers at once.
        crate::memory::release();
    }
}
