//! Lab host endpoints: each host answers on its own address and can be switched up, down,
//! hung or failing at runtime. A host whose check is `https://` answers over TLS with the
//! certificate the lab's switch says (see `tls.rs`).

use super::LabError;
use crate::config::HostConfig;
use axum::{extract::State, http::StatusCode, routing::get, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// What a lab host does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    /// Answers 200.
    Up,
    /// Not listening: connections are refused.
    Down,
    /// Accepts connections and never answers (the incident's hung website).
    Hang,
    /// Answers 503.
    Error,
}

/// How a host is reached: HTTP on the check URL's address, or plain TCP.
pub(super) struct Endpoint {
    name: String,
    banner: String,
    addr: SocketAddr,
    http: bool,
    /// More HTTP routes this host serves (a lab loader's `/metrics` and `/enqueue`).
    pub extra: Option<Router>,
    /// Where TCP connections are forwarded while the host is up (a lab PostgreSQL node).
    pub forward: Option<SocketAddr>,
    /// The TLS config handshakes use now, for a host checked over `https://`.
    pub tls: Option<watch::Receiver<Arc<rustls::ServerConfig>>>,
}

impl Endpoint {
    /// The endpoint a host's check expects to find.
    pub(super) fn of(host: &HostConfig) -> Endpoint {
        let http_addr = host.check.http.as_deref().and_then(|url| {
            let u = reqwest::Url::parse(url).ok()?;
            // An https:// check names the public hostname and connects to the host's own address.
            let ip = match u.host_str()?.trim_matches(['[', ']']).parse() {
                Ok(ip) => ip,
                Err(_) if u.scheme() == "https" => host.address,
                Err(_) => return None,
            };
            Some(SocketAddr::new(ip, u.port_or_known_default()?))
        });
        Endpoint {
            name: host.name.clone(),
            banner: format!("{} · {} · {}", host.name, host.tier, host.region),
            addr: http_addr.unwrap_or_else(|| SocketAddr::new(host.address, host.check.tcp.unwrap_or(0))),
            http: http_addr.is_some(),
            extra: None,
            forward: None,
            tls: None,
        }
    }

    /// The public hostname an `https://` check asks this host for.
    pub(super) fn tls_name(host: &HostConfig) -> Option<String> {
        let u = reqwest::Url::parse(host.check.http.as_deref()?).ok()?;
        (u.scheme() == "https").then(|| u.host_str().map(str::to_string)).flatten()
    }

    /// Binds the endpoint's address.
    pub(super) async fn bind(&self) -> Result<TcpListener, LabError> {
        TcpListener::bind(self.addr).await.map_err(|source| LabError::Bind { addr: self.addr, what: format!("host {}", self.name), source })
    }
}

#[derive(Clone)]
struct Answering {
    banner: String,
    state: watch::Receiver<HostState>,
}

async fn respond(State(a): State<Answering>) -> (StatusCode, String) {
    let state = *a.state.borrow();
    match state {
        HostState::Up | HostState::Down => (StatusCode::OK, format!("ok: {}\n", a.banner)),
        HostState::Error => (StatusCode::SERVICE_UNAVAILABLE, format!("failing: {}\n", a.banner)),
        HostState::Hang => {
            // Hold the request until the host is switched out of the hang.
            let mut state = a.state.clone();
            let _ = state.wait_for(|s| *s != HostState::Hang).await;
            (StatusCode::OK, format!("ok after hang: {}\n", a.banner))
        }
    }
}

/// Serves the endpoint, dropping the listener while the host is down and rebinding after.
pub(super) async fn run(endpoint: Endpoint, first: TcpListener, mut state: watch::Receiver<HostState>) {
    let mut listener = Some(first);
    loop {
        if *state.borrow_and_update() == HostState::Down {
            drop(listener.take());
            if state.changed().await.is_err() {
                return;
            }
            continue;
        }
        let current = match listener.take() {
            Some(l) => l,
            None => match endpoint.bind().await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "lab host cannot rebind; retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let mut until_down = state.clone();
        let down = async move {
            let _ = until_down.wait_for(|s| *s == HostState::Down).await;
        };
        if endpoint.http {
            let mut app = Router::new()
                .route("/", get(respond))
                .route("/healthz", get(respond))
                .with_state(Answering { banner: endpoint.banner.clone(), state: state.clone() });
            if let Some(extra) = &endpoint.extra {
                app = app.merge(extra.clone());
            }
            match &endpoint.tls {
                Some(config) => serve_tls(current, app, config.clone(), down).await,
                None => {
                    let _ = axum::serve(current, app).with_graceful_shutdown(down).await;
                }
            }
        } else {
            tokio::select! {
                _ = serve_tcp(&current, endpoint.forward, state.clone()) => {}
                _ = down => {}
            }
        }
    }
}

/// Serves `app` over TLS until `down`, with the config current at each handshake; going down
/// cuts every open connection, as a failed network would.
async fn serve_tls(
    listener: TcpListener,
    app: Router,
    config: watch::Receiver<Arc<rustls::ServerConfig>>,
    down: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(down);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    tracing::debug!(error = %e, "lab: accept failed; retrying shortly");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut down => break,
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(config.borrow().clone());
        let app = app.clone();
        connections.spawn(async move {
            // A client that never finishes its handshake holds nothing for long.
            let Ok(Ok(tls)) = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await else { return };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tls), service).await;
        });
        while connections.try_join_next().is_some() {}
    }
    connections.shutdown().await;
}

/// A TCP host: while up, forwards to `forward` (or accepts and closes when there is none);
/// hung, holds connections without a byte; failing, closes them at once. Leaving `up` cuts
/// every forwarded connection, as a failed network would.
async fn serve_tcp(listener: &TcpListener, forward: Option<SocketAddr>, state: watch::Receiver<HostState>) {
    loop {
        let mut inbound = match listener.accept().await {
            Ok((inbound, _)) => inbound,
            // Out of descriptors, or the like: pause instead of spinning on the same error.
            Err(e) => {
                tracing::debug!(error = %e, "lab: accept failed; retrying shortly");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let current = *state.borrow();
        let mut until_changed = state.clone();
        match (current, forward) {
            (HostState::Up, Some(target)) => {
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = until_changed.wait_for(|s| *s != HostState::Up) => {}
                    }
                });
            }
            (HostState::Hang, _) => {
                tokio::spawn(async move {
                    let _ = until_changed.wait_for(|s| *s != HostState::Hang).await;
                    drop(inbound);
                });
            }
            _ => drop(inbound),
        }
    }
}
