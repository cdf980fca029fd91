//! Starting and stopping: the console server (optionally with the lab in-process) and the lab
//! alone. Shared by `main.rs` and the integration tests. [`Server::start`] reads top to bottom:
//! check the site, open the stores, start the engines (one table, [`engines`]), start the
//! services and chores ([`chores`]), build the web front ([`web`]) and serve it.

mod chores;
mod engines;
mod stores;
mod web;

use crate::actions::edge::EdgePublisher;
use crate::actions::observe::Observations;
use crate::actions::ActionService;
use crate::auth::Directory;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::console::{Boards, ConsoleState};
use crate::lab::Lab;
use crate::store::{ControlStore, LocalStore, StoreError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

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
    serve: JoinHandle<()>,
    /// The engines' supervisors and the chores, aborted at stop.
    tasks: Vec<JoinHandle<()>>,
    control: ControlStore,
    local: LocalStore,
}

/// Only the built site is ever served (never a working directory by default), and never one
/// that holds the data directory.
fn check_site(site: &Site, estate: &Estate) -> Result<(), StartError> {
    if site.root.as_os_str().is_empty() || !site.root.is_dir() {
        return Err(StartError::SiteRoot(site.root.clone()));
    }
    let data_dir = &estate.instance.data_dir;
    std::fs::create_dir_all(data_dir)
        .map_err(|source| StartError::Io { what: format!("cannot create the data directory {}", data_dir.display()), source })?;
    // `--site-root .` next to `data/` would serve local.db and audit.key to anyone.
    if let (Ok(root), Ok(data)) = (site.root.canonicalize(), data_dir.canonicalize()) {
        if data.starts_with(&root) {
            return Err(StartError::SiteHoldsData { root, data });
        }
    }
    Ok(())
}

/// The console a lab runs in trusts the lab's CA on top of what its config trusts, so the
/// demo's https:// checks judge the lab's certificates as a production console would its own.
fn trusting(estate: Arc<Estate>, lab_ca: &std::path::Path) -> Result<Arc<Estate>, StartError> {
    let mut trusting = (*estate).clone();
    trusting.tls.ca_file = Some(match &estate.tls.ca_file {
        None => lab_ca.to_path_buf(),
        Some(own) => {
            // One file holds both: the config's CA first, then the lab's.
            let bundle = lab_ca.with_file_name("trusted.pem");
            let read = |path: &std::path::Path| {
                std::fs::read(path).map_err(|source| StartError::Io { what: format!("cannot read {}", path.display()), source })
            };
            let both = [read(own)?, b"\n".to_vec(), read(lab_ca)?].concat();
            std::fs::write(&bundle, both)
                .map_err(|source| StartError::Io { what: format!("cannot write {}", bundle.display()), source })?;
            bundle
        }
    });
    tracing::info!(ca_file = ?trusting.tls.ca_file, "https:// checks trust the lab's CA");
    Ok(Arc::new(trusting))
}

impl Server {
    /// Opens the stores, starts the lab if asked, the engines, the chores and the HTTP server.
    pub async fn start(estate: Arc<Estate>, site: Site, with_lab: bool) -> Result<Server, StartError> {
        check_site(&site, &estate)?;
        refuse_demo_passwords(&estate).await?;
        let stores::Stores { local, control, others, mode, declared_before } = stores::open(&estate).await?;
        let lab = if with_lab { Some(Lab::start(estate.clone()).await?) } else { None };
        let estate = match lab.as_ref().and_then(|l| l.ca_file.as_deref()) {
            Some(ca) => trusting(estate, ca)?,
            None => estate,
        };

        let checks = Arc::new(crate::dns::engine::checks(&estate, &declared_before, now_ms()));
        let engines::Started { clocks, mut tasks, boards } = engines::start(&estate, &local, checks.clone());

        let listener = tokio::net::TcpListener::bind(estate.instance.listen)
            .await
            .map_err(|source| StartError::Io { what: format!("cannot listen on {}", estate.instance.listen), source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Io { what: "cannot read the listen address".into(), source })?;

        // The services the pages and the chores share.
        let directory = Directory::default();
        if let Err(e) = directory.refresh(&control).await {
            // It is re-read every second; a replica may not have the users yet.
            tracing::warn!(error = %e, "cannot read users yet");
        }
        let edge_dir = estate.edge_dir();
        let edge = EdgePublisher::new(edge_dir.clone(), estate.edge.default_retry_after_seconds)
            .map_err(|source| StartError::Io { what: format!("cannot create the edge directory {}", edge_dir.display()), source })?;
        let observations = Observations::default();
        let actions = ActionService::new(control.clone(), local.clone(), edge, estate.clone(), observations.clone(), mode.clone());
        actions.publish_all().await;
        let incidents = crate::incidents::IncidentService::new(control.clone(), local.clone(), estate.clone(), actions.clone());
        incidents.refresh().await;
        let peers = crate::peers::PeerBook::new(&estate);
        let drift = crate::mode::drift::Drift::default();

        tasks.extend(chores::start(chores::ChoreInputs {
            estate: estate.clone(),
            control: control.clone(),
            local: local.clone(),
            others,
            mode: mode.clone(),
            actions: actions.clone(),
            incidents: incidents.clone(),
            directory: directory.clone(),
            observations,
            peers: peers.clone(),
            drift: drift.clone(),
        }));

        let engines::EngineBoards { health, dns, replication, backlog } = boards;
        let alerts = crate::alerts::AlertBoard::default();
        let boards = Boards { health, dns, replication, backlog, peers: peers.clone(), drift, alerts: alerts.clone() };
        let console = Arc::new(
            ConsoleState::new(estate.clone(), boards, control.clone(), checks, local.clone(), actions.clone(), mode.clone())
                .with_incidents(incidents.clone()),
        );
        tasks.push(crate::alerts::engine::start(
            console.clone(),
            estate.clone(),
            alerts,
            clocks.clone(),
            (control.clone(), local.clone()),
            incidents.clone(),
        ));
        if !estate.status_page.components.is_empty() {
            let dir = edge_dir.join("status");
            tasks.push(crate::status_page::engine::start(
                console.clone(),
                estate.clone(),
                clocks.clone(),
                (control.clone(), local.clone()),
                incidents.clone(),
                peers.clone(),
                dir,
            ));
        }
        let (shutdown, stopping) = watch::channel(false);
        let router = web::build(web::WebInputs {
            estate: estate.clone(),
            site,
            addr,
            stopping: stopping.clone(),
            console,
            actions,
            directory,
            control: control.clone(),
            local: local.clone(),
            mode,
            engines: clocks,
        })?;
        let serve = serve(&estate, listener, router, stopping);
        tracing::info!(
            %addr,
            instance = %estate.instance.name,
            region = %estate.instance.region,
            control_store = control.backend(),
            lab = with_lab,
            "crowsnest is listening on http://{addr}"
        );
        Ok(Server { addr, lab, estate, shutdown, serve, tasks, control, local })
    }

    /// The estate this server runs with.
    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// Stops accepting, ends event streams, waits for requests in flight, closes the stores.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.serve).await;
        for task in &self.tasks {
            task.abort();
        }
        if let Some(lab) = self.lab {
            lab.stop().await;
        }
        self.control.close().await;
        self.local.close().await;
    }
}

/// Serves `router` on `listener` with the instance's connection limits until `stopping` flips.
fn serve(estate: &Estate, listener: tokio::net::TcpListener, router: axum::Router, mut stopping: watch::Receiver<bool>) -> JoinHandle<()> {
    let i = &estate.instance;
    let limits = crate::web::serve::ServeLimits {
        max_connections: i.max_connections,
        header_read_timeout: Duration::from_secs(i.header_read_timeout_seconds),
        stalled_client: Duration::from_secs(i.stalled_client_seconds),
    };
    tokio::spawn(async move {
        let stop = async move {
            let _ = stopping.wait_for(|s| *s).await;
        };
        crate::web::serve::serve(listener, router, limits, stop).await;
    })
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
