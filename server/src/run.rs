//! Starting and stopping: the console server (optionally with the lab in-process) and the lab
//! alone. Shared by `main.rs` and the integration tests.

use crate::actions::observe::Observations;
use crate::actions::ActionService;
use crate::auth::session_cache::CachedStore;
use crate::auth::{Directory, LoginLimiter, Passwords, Timeouts};
use crate::backlog::engine::LoaderBoard;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::console::{Boards, ConsoleState};
use crate::dns::{self, engine::DnsBoard};
use crate::edge::EdgePublisher;
use crate::engines::{supervise, Engine};
use crate::health::engine::{HealthBoard, NetProbe};
use crate::lab::Lab;
use crate::mode::ModeWatch;
use crate::replication::engine::ReplicationBoard;
use crate::store::{ControlStore, DesiredRecord, LocalStore, StoreError};
use crate::web::gate::GateState;
use crate::web::{self, AppState, LoginState};
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower_http::csrf::CsrfLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A store failed to open or migrate.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The lab failed to start.
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// The audit chain's key cannot be had.
    #[error(transparent)]
    AuditKey(#[from] crate::audit::KeyError),
    /// A user's password is one of the demo's public ones and the console would listen beyond
    /// loopback.
    #[error("user {user:?} has a demo password (public in the README) and the console would listen on {listen}, beyond loopback; set a real password hash (`crowsnest hash-password`) or listen on 127.0.0.1")]
    DemoPassword {
        /// Whose password.
        user: String,
        /// Where it would listen.
        listen: SocketAddr,
    },
    /// The built site is missing: without it no file may be served.
    #[error("the site root {0} is not a directory; build the site (`scripts/build-site.sh`) or pass --site-root")]
    SiteRoot(PathBuf),
    /// The site root holds the data directory: its databases and audit key would be served.
    #[error("the site root {root} contains the data directory {data}: its databases and audit key would be served; build the site elsewhere or move data_dir")]
    SiteHoldsData {
        /// The site root.
        root: PathBuf,
        /// The data directory.
        data: PathBuf,
    },
    /// The data directory or listen socket is unusable.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Refuses to serve the demo's public passwords on any address but loopback (checked after
/// `--listen` is applied, on the address really bound).
async fn refuse_demo_passwords(estate: &Estate) -> Result<(), StartError> {
    let listen = estate.instance.listen;
    if listen.ip().is_loopback() {
        return Ok(());
    }
    let users: Vec<(String, String)> = estate.users.iter().map(|u| (u.name.clone(), u.password_hash.clone())).collect();
    let demo =
        tokio::task::spawn_blocking(move || users.into_iter().find(|(_, hash)| crate::auth::password::is_demo(hash))).await.ok().flatten();
    match demo {
        Some((user, _)) => Err(StartError::DemoPassword { user, listen }),
        None => Ok(()),
    }
}

/// The audit chain's key for this instance: `CROWSNEST_AUDIT_KEY`, `auth.audit_key_file`, or
/// for an embedded store a key made under the data directory. A PostgreSQL control store is
/// shared by every region, so it needs one of the first two (the same secret everywhere).
pub fn audit_key(estate: &Estate) -> Result<crate::audit::AuditKey, crate::audit::KeyError> {
    let shared = control_url(estate).starts_with("postgres");
    crate::audit::AuditKey::resolve(estate.auth.audit_key_file.as_deref(), &estate.instance.data_dir, shared)
}

/// Where the built site (wasm, js, css, public assets) is.
#[derive(Debug, Clone)]
pub struct Site {
    /// Directory the site is built into (`scripts/build-site.sh`).
    pub root: PathBuf,
}

/// A running console; [`Server::stop`] shuts it down gracefully.
pub struct Server {
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The lab, when started in-process.
    pub lab: Option<Lab>,
    estate: Arc<Estate>,
    shutdown: watch::Sender<bool>,
    serve: tokio::task::JoinHandle<()>,
    probes: tokio::task::JoinHandle<()>,
    dns_rounds: tokio::task::JoinHandle<()>,
    replication_rounds: tokio::task::JoinHandle<()>,
    scrapes: tokio::task::JoinHandle<()>,
    /// Directory refresh, request expiry, site observation, session cleanup.
    chores: Vec<tokio::task::JoinHandle<()>>,
    control: ControlStore,
    local: LocalStore,
}

/// The control store URL: the configured one, or SQLite under the data directory.
pub fn control_url(estate: &Estate) -> String {
    estate
        .instance
        .control_db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", estate.instance.data_dir.join("control.db").display()))
}

/// The configured control nodes other than this instance's own store, lazily connected.
fn other_control_nodes(estate: &Estate, key: &crate::audit::AuditKey) -> Result<crate::mode::OtherNodes, StoreError> {
    let own = control_url(estate);
    estate
        .control_nodes
        .iter()
        .filter(|n| n.url != own)
        .map(|n| {
            // Keyed: a break-glass change replayed into the returned primary appends there.
            let store = ControlStore::connect_lazy(&n.url)?.keyed(key.clone());
            Ok(crate::mode::OtherNode { name: n.name.clone(), url: n.url.clone(), store })
        })
        .collect()
}

/// Makes control state follow this instance's config: the primary's config is the source of
/// users, sites and declared records (a secondary's config is not written anywhere).
pub async fn adopt_config(control: &ControlStore, estate: &Estate) -> Result<(), StoreError> {
    control.migrate().await?;
    let users: Vec<(String, String, String)> =
        estate.users.iter().map(|u| (u.name.clone(), u.role.as_str().to_string(), u.password_hash.clone())).collect();
    control.sync_users(&users, now_ms()).await?;
    let sites: Vec<String> = estate.sites.iter().map(|s| s.name.clone()).collect();
    control.ensure_sites(&sites).await?;
    control.replace_desired_records(&desired_records(estate)).await
}

/// Declared records from the zone config, fully qualified.
pub fn desired_records(estate: &Estate) -> Vec<DesiredRecord> {
    let Some(zone) = &estate.zone else { return Vec::new() };
    let origin = zone.origin.trim_end_matches('.');
    let mut out: Vec<DesiredRecord> = zone
        .records
        .iter()
        .flat_map(|r| {
            let name = match r.name.as_str() {
                "@" => format!("{origin}."),
                n if n.ends_with('.') => n.to_string(),
                n => format!("{n}.{origin}."),
            };
            r.values.iter().map(move |v| DesiredRecord {
                name: name.clone(),
                kind: r.kind.as_str().to_string(),
                ttl: r.ttl as i64,
                value: v.clone(),
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Server {
    /// Opens the stores, starts the lab if asked, the probe engine and the HTTP server.
    pub async fn start(estate: Arc<Estate>, site: Site, with_lab: bool) -> Result<Server, StartError> {
        // Only the built site is ever served: never a working directory by default.
        if site.root.as_os_str().is_empty() || !site.root.is_dir() {
            return Err(StartError::SiteRoot(site.root));
        }
        refuse_demo_passwords(&estate).await?;
        let data_dir = &estate.instance.data_dir;
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StartError::Io { what: format!("cannot create the data directory {}", data_dir.display()), source })?;
        // `--site-root .` next to `data/` would serve local.db and audit.key to anyone.
        if let (Ok(root), Ok(data)) = (site.root.canonicalize(), data_dir.canonicalize()) {
            if data.starts_with(&root) {
                return Err(StartError::SiteHoldsData { root, data });
            }
        }
        let key = audit_key(&estate)?;
        let local = LocalStore::open(&data_dir.join("local.db")).await?.keyed(key.clone());
        let control = ControlStore::open(&control_url(&estate)).await?.keep_head_in(local.clone()).keyed(key.clone());
        let others = other_control_nodes(&estate, &key)?;
        let look_limit = Duration::from_millis(estate.probes.timeout_ms);
        let mode = ModeWatch::start(&control, &others, look_limit).await;
        // Every control write below goes through this one guarded handle.
        let control = control.guarded_by(mode.write_guard());
        // The declaration stored by the previous start is what caches may still hold: `stale`.
        // A replica that has no schema yet has no declaration either.
        let before = match control.desired_records().await {
            Ok(records) => records,
            Err(e) if mode.read_only() => {
                tracing::warn!(error = %e, "cannot read declared records from the replica");
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        let checks = Arc::new(dns::engine::checks(&estate, &before, now_ms()));
        if mode.read_only() {
            tracing::warn!(reason = %mode.get().reason, "secondary: control state is read from the replica; this config's users, sites and records are not written");
        } else {
            adopt_config(&control, &estate).await?;
        }

        let lab = if with_lab { Some(Lab::start(estate.clone()).await?) } else { None };

        // Each engine runs supervised (restarted after a panic) with a round clock that
        // /healthz and /metrics read; the stale limits are the ones the pages use.
        let started_ms = now_ms();
        let probe_stale = Duration::from_millis(estate.probes.policy().stale_after_ms as u64);
        let every = |interval_seconds: u64, timeout_ms: u64| Duration::from_millis(3 * interval_seconds * 1000 + timeout_ms);
        let engines = vec![
            Engine::new("health", probe_stale, started_ms),
            Engine::new("dns", probe_stale, started_ms),
            Engine::new("replication", every(estate.replication.interval_seconds, estate.replication.timeout_ms), started_ms),
            Engine::new("backlog", every(estate.backlog.interval_seconds, estate.backlog.timeout_ms), started_ms),
        ];
        let board = HealthBoard::default();
        let probe = Arc::new(NetProbe::new(Duration::from_millis(estate.probes.timeout_ms)));
        let probes = supervise(engines[0].clone(), {
            let (estate, probe, board, local, engine) = (estate.clone(), probe, board.clone(), local.clone(), engines[0].clone());
            move || crate::health::engine::run_rounds(estate.clone(), probe.clone(), board.clone(), Some(local.clone()), engine.clone())
        });
        let dns_board = DnsBoard::default();
        let dns_rounds = supervise(engines[1].clone(), {
            let (estate, checks, board, local, engine) =
                (estate.clone(), checks.clone(), dns_board.clone(), local.clone(), engines[1].clone());
            move || dns::engine::run_rounds(estate.clone(), checks.clone(), board.clone(), Some(local.clone()), engine.clone())
        });
        let replication = ReplicationBoard::default();
        let replication_rounds = supervise(engines[2].clone(), {
            let (estate, board, local, engine) = (estate.clone(), replication.clone(), local.clone(), engines[2].clone());
            move || crate::replication::engine::run_rounds(estate.clone(), board.clone(), Some(local.clone()), engine.clone())
        });
        let backlog = LoaderBoard::new(estate.clone(), Some(local.clone()));
        let scrapes = supervise(engines[3].clone(), {
            let (estate, board, engine) = (estate.clone(), backlog.clone(), engines[3].clone());
            move || crate::backlog::engine::run_rounds(estate.clone(), board.clone(), engine.clone())
        });

        let listener = tokio::net::TcpListener::bind(estate.instance.listen)
            .await
            .map_err(|source| StartError::Io { what: format!("cannot listen on {}", estate.instance.listen), source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Io { what: "cannot read the listen address".into(), source })?;
        let leptos_options = LeptosOptions::builder()
            .output_name("crowsnest")
            .site_root(site.root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let bundle = site.root.join("pkg").join("crowsnest.js");
        if !bundle.exists() {
            tracing::warn!(
                site_root = %site.root.display(),
                "no {} here: pages render but will not hydrate or update live; \
                 build with `scripts/build-site.sh` or pass --site-root",
                bundle.display()
            );
        }
        let (shutdown, stopping) = watch::channel(false);
        let io = |what: String| move |source| StartError::Io { what, source };

        let directory = Directory::default();
        if let Err(e) = directory.refresh(&control).await {
            // It is re-read every second; a replica may not have the users yet.
            tracing::warn!(error = %e, "cannot read users yet");
        }
        let edge_dir = estate.edge_dir();
        let edge = EdgePublisher::new(edge_dir.clone(), estate.edge.default_retry_after_seconds)
            .map_err(io(format!("cannot create the edge directory {}", edge_dir.display())))?;
        let observations = Observations::default();
        let actions = ActionService::new(control.clone(), local.clone(), edge, estate.clone(), observations.clone(), mode.clone());
        actions.publish_all().await;

        let session_store = SqliteStore::new(local.pool());
        session_store.migrate().await.map_err(|source| StoreError::Query {
            store: "local",
            doing: "creating the sessions table",
            source,
        })?;
        let on_primary = {
            let (control, estate, actions) = (control.clone(), estate.clone(), actions.clone());
            move || {
                let (control, estate, actions) = (control.clone(), estate.clone(), actions.clone());
                async move {
                    if let Err(e) = adopt_config(&control, &estate).await {
                        tracing::error!(error = %e, "promoted to primary but cannot adopt this config");
                    }
                    if let Err(e) = actions.replay_pending().await {
                        tracing::error!(error = %e, "promoted to primary but cannot replay break-glass changes yet");
                    }
                }
            }
        };
        let on_primary_elsewhere = {
            let actions = actions.clone();
            move |primary: ControlStore| {
                let actions = actions.clone();
                async move {
                    if let Err(e) = actions.replay_pending_into(&primary).await {
                        tracing::warn!(error = %e, "the primary answers but the break-glass journal cannot be replayed into it yet");
                    }
                }
            }
        };
        let chores = vec![
            tokio::spawn(mode.clone().run(
                control.clone(),
                others,
                (Duration::from_secs(estate.probes.interval_seconds), look_limit),
                on_primary,
                on_primary_elsewhere,
            )),
            tokio::spawn(directory.clone().run(control.clone())),
            tokio::spawn(actions.clone().run_expiry()),
            tokio::spawn(actions.clone().run_edge_sync(Duration::from_secs(estate.probes.interval_seconds))),
            tokio::spawn(crate::actions::observe::run(estate.clone(), observations)),
            tokio::spawn(async move {
                let _ = session_store.continuously_delete_expired(Duration::from_secs(60)).await;
            }),
        ];
        let auth = &estate.auth;
        let https = auth.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
        let sessions = SessionManagerLayer::new(CachedStore::new(SqliteStore::new(local.pool())))
            .with_name("crowsnest_session")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(https)
            .with_expiry(Expiry::OnInactivity(time::Duration::seconds(auth.idle_timeout_seconds as i64)));
        let mut csrf = CsrfLayer::new();
        if let Some(origin) = &auth.public_url {
            csrf = csrf.add_trusted_origin(origin.trim_end_matches('/')).map_err(|e| StartError::Io {
                what: format!("auth.public_url {origin:?} is not an origin"),
                source: std::io::Error::other(e.to_string()),
            })?;
        }
        let prelogin = crate::auth::prelogin::PreLogin::default();
        let gate = Arc::new(GateState {
            directory: directory.clone(),
            timeouts: Timeouts {
                idle_ms: auth.idle_timeout_seconds as i64 * 1000,
                absolute_ms: auth.absolute_timeout_seconds as i64 * 1000,
            },
            anonymous_role: auth.anonymous_role,
            public_metrics: auth.public_metrics,
            metrics_token_sha256: auth.metrics_token_sha256.clone(),
            loader_tokens: crate::backlog::engine::LoaderTokens::from_estate(&estate),
            peer_tokens: crate::peers::PeerTokens::from_estate(&estate),
            prelogin: prelogin.clone(),
            secure_cookies: https,
        });
        let login = Arc::new(LoginState {
            control: control.clone(),
            passwords: Passwords::new(auth.concurrent_password_checks),
            limiter: std::sync::Mutex::new(LoginLimiter::new(crate::auth::limit::Limits {
                per_account_address: auth.max_failures_per_account,
                per_address: auth.max_failures_per_address,
                account_backoff_after: auth.account_backoff_after,
                window_ms: auth.failure_window_seconds as i64 * 1000,
            })),
            trusted_proxies: auth.trusted_proxies.clone(),
            directory,
            prelogin,
        });

        let peers = crate::peers::PeerBook::new(&estate);
        let mut chores = chores;
        chores.push(tokio::spawn(crate::peers::run(estate.clone(), peers.clone(), local.clone(), mode.clone())));
        let drift = crate::drift::Drift::default();
        chores.push(tokio::spawn(drift.clone().run(
            estate.clone(),
            control.clone(),
            mode.clone(),
            Duration::from_secs(estate.probes.interval_seconds),
        )));
        let boards = Boards { health: board, dns: dns_board, replication, backlog, peers, drift };
        let console =
            Arc::new(ConsoleState::new(estate.clone(), boards, control.clone(), checks, local.clone(), actions.clone(), mode.clone()));
        let router = web::router(
            AppState {
                leptos_options,
                console,
                shutdown: stopping.clone(),
                sse_clients: Default::default(),
                streams_per_session: Default::default(),
                actions,
                login,
                engines,
            },
            gate,
            sessions,
            csrf,
            mode.clone(),
            (
                Arc::new(web::headers::HeaderPolicy { hsts: https }),
                Arc::new(web::host::AllowedHosts::new(auth.public_url.as_deref(), &auth.allowed_hosts)),
            ),
        );
        let mut until_stop = stopping;
        let i = &estate.instance;
        let limits = web::serve::ServeLimits {
            max_connections: i.max_connections,
            header_read_timeout: Duration::from_secs(i.header_read_timeout_seconds),
            stalled_client: Duration::from_secs(i.stalled_client_seconds),
        };
        let serve = tokio::spawn(async move {
            let stop = async move {
                let _ = until_stop.wait_for(|s| *s).await;
            };
            web::serve::serve(listener, router, limits, stop).await;
        });
        tracing::info!(
            %addr,
            instance = %estate.instance.name,
            region = %estate.instance.region,
            control_store = control.backend(),
            lab = with_lab,
            "crowsnest is listening on http://{addr}"
        );
        Ok(Server {
            addr,
            lab,
            estate: estate.clone(),
            shutdown,
            serve,
            probes,
            dns_rounds,
            replication_rounds,
            scrapes,
            chores,
            control,
            local,
        })
    }

    /// The estate this server runs with.
    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// Stops accepting, ends event streams, waits for requests in flight, closes the stores.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.serve).await;
        self.probes.abort();
        self.dns_rounds.abort();
        self.replication_rounds.abort();
        self.scrapes.abort();
        for chore in &self.chores {
            chore.abort();
        }
        if let Some(lab) = self.lab {
            lab.stop().await;
        }
        self.control.close().await;
        self.local.close().await;
    }
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
