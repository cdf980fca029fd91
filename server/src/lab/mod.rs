//! The lab: the demo estate stood up on loopback with real protocols, so the console has
//! something true to watch. Each host answers HTTP, HTTPS (certificates from a CA the lab makes,
//! swappable) or TCP on its own loopback address; an
//! authoritative DNS server (hickory-server) serves the zone; a control API changes both at
//! runtime so tests and demos can replay the incident.

mod cache;
mod control;
mod dns;
mod hosts;
mod loader;
pub mod pgcluster;
mod tls;

/// A port on 127.0.0.1 free for both TCP and UDP now, for a server started as another process
/// (PostgreSQL, Knot, nginx), which must bind it itself: the port is released on return, so
/// a caller that loses the race sees that server fail to bind and says so. At most 100 tries.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(udp) = std::net::UdpSocket::bind("127.0.0.1:0") else { continue };
        let Ok(port) = udp.local_addr().map(|a| a.port()) else { continue };
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no loopback port free for both TCP and UDP in 100 tries");
}

pub use dns::{serve as serve_zone, LabZone, Running as RunningDns, ZoneError};
pub use hosts::HostState;
pub use loader::LabLoader;
pub use tls::{CertificateChange, CertificateKind};

use crate::config::Estate;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Why the lab could not start.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A socket could not be bound.
    #[error("the lab cannot listen on {addr} for {what}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What it was for.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The zone in the config could not be turned into DNS records.
    #[error("the lab cannot serve the zone: {0}")]
    Zone(#[from] ZoneError),
    /// The lab's PostgreSQL cluster could not be built.
    #[error("the lab cannot build its PostgreSQL cluster (set lab.postgres = false to run without): {0}")]
    Postgres(#[from] crate::lab::pgcluster::ClusterError),
    /// The lab's CA or a balancer's certificate could not be made.
    #[error("the lab cannot serve HTTPS: {0}")]
    Tls(String),
}

/// A running lab; dropping it stops every task.
pub struct Lab {
    /// Where the control API listens.
    pub control_addr: SocketAddr,
    /// Where the DNS server listens (UDP and TCP), if a zone is configured.
    pub dns_addr: Option<SocketAddr>,
    /// Where the secondary authoritative server listens, when configured.
    pub secondary_addr: Option<SocketAddr>,
    /// Where the caching resolver listens, when configured and unbound is installed.
    pub cache_addr: Option<SocketAddr>,
    /// The CA the lab's HTTPS balancers are signed by, when any host is checked over https://.
    pub ca_file: Option<std::path::PathBuf>,
    tasks: JoinSet<()>,
    _dns: Vec<dns::Running>,
    _cache: Option<cache::Cache>,
    postgres: Option<crate::lab::pgcluster::Cluster>,
}

/// Stops and removes lab clusters whose console is gone: a run killed without a chance to
/// stop its servers (SIGKILL, an interrupted test run) leaves `crowsnest-lab-pg-*-<pid>`
/// behind with PostgreSQL still running; the next lab on this machine cleans them up.
fn clear_orphans(temp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(temp) else { return };
    for dir in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else { continue };
        let Some(pid) = name.strip_prefix("crowsnest-lab-pg-").and_then(|rest| rest.rsplit('-').next()?.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            tracing::info!(dir = %dir.display(), "lab: stopping PostgreSQL left by an earlier run (process {pid} is gone)");
            crate::lab::pgcluster::Cluster::clear(&dir);
        }
    }
}

/// Builds the lab's PostgreSQL for the first database cluster: a primary and one standby per
/// replica in a temp dir, standbys streaming through the primary host's proxy so
/// taking that host down cuts replication too. Returns the cluster and each host's real port.
async fn build_postgres(estate: &Estate) -> Result<Option<(crate::lab::pgcluster::Cluster, BTreeMap<String, SocketAddr>)>, LabError> {
    let Some(db) = estate.databases.first().filter(|_| estate.lab.postgres) else { return Ok(None) };
    // Under the system temp dir, not the data dir: the servers run as `postgres`, which must be
    // able to reach the directory (a data dir made by `mktemp -d` is closed to other users).
    let root = std::env::temp_dir().join(format!("crowsnest-lab-pg-{}-{}", estate.instance.name, std::process::id()));
    let replicas: Vec<String> = db.replicas.iter().map(|r| r.host.clone()).collect();
    // Standbys reach the primary at its host's address and check port: the proxy.
    let upstream = estate.host(&db.primary.host).map(|h| (h.address.to_string(), h.check.tcp.unwrap_or(5432)));
    tracing::info!(dir = %root.display(), "lab: building PostgreSQL primary and {} standbys", replicas.len());
    let cluster = tokio::task::spawn_blocking(move || {
        clear_orphans(&std::env::temp_dir());
        crate::lab::pgcluster::Cluster::clear(&root);
        let names: Vec<&str> = replicas.iter().map(String::as_str).collect();
        let upstream = upstream.as_ref().map(|(h, p)| (h.as_str(), *p));
        crate::lab::pgcluster::Cluster::build(&root, &names, "", upstream).map(|c| c.remove_on_drop())
    })
    .await
    .map_err(|e| crate::lab::pgcluster::ClusterError::Failed {
        command: "building the lab cluster".into(),
        status: e.to_string(),
        output: String::new(),
    })??;
    let mut ports = BTreeMap::new();
    ports.insert(db.primary.host.clone(), SocketAddr::from(([127, 0, 0, 1], cluster.primary.port)));
    for (replica, node) in db.replicas.iter().zip(&cluster.standbys) {
        ports.insert(replica.host.clone(), SocketAddr::from(([127, 0, 0, 1], node.port)));
    }
    Ok(Some((cluster, ports)))
}

impl Lab {
    /// Starts every host endpoint, the DNS server and the control API.
    pub async fn start(estate: Arc<Estate>) -> Result<Lab, LabError> {
        let mut tasks = JoinSet::new();
        let mut switches = BTreeMap::new();
        let (postgres, forwards) = match build_postgres(&estate).await? {
            Some((cluster, ports)) => (Some(cluster), ports),
            None => (None, BTreeMap::new()),
        };
        let primary_dsn = estate.databases.first().map(|db| db.primary.dsn.clone());
        let authority = match estate.hosts.iter().any(|h| hosts::Endpoint::tls_name(h).is_some()) {
            true => Some(Arc::new(tls::LabAuthority::create(&estate.instance.data_dir)?)),
            false => None,
        };
        let mut certificates = BTreeMap::new();
        for host in &estate.hosts {
            let mut endpoint = hosts::Endpoint::of(host);
            endpoint.forward = forwards.get(&host.name).copied();
            if let (Some(authority), Some(name)) = (&authority, hosts::Endpoint::tls_name(host)) {
                let served = authority.serve(&name)?;
                endpoint.tls = Some(served.config.subscribe());
                certificates.insert(host.name.clone(), served);
            }
            if let Some(config) = estate.loaders.iter().find(|l| l.host == host.name) {
                let loader = LabLoader::new(&config.name);
                endpoint.extra = Some(loader.router());
                loader.spawn(&mut tasks, primary_dsn.clone(), estate.lab.loader_enqueue_per_second, estate.lab.loader_drain_per_second);
            }
            let (tx, rx) = tokio::sync::watch::channel(HostState::Up);
            // Bind once up front so a taken port fails the start, not a later round.
            let listener = endpoint.bind().await?;
            tasks.spawn(hosts::run(endpoint, listener, rx));
            switches.insert(host.name.clone(), tx);
        }
        let mut running = Vec::new();
        let (mut zone, mut secondary, mut dns_addr, mut secondary_addr, mut cache_addr, mut cache_process) =
            (None, None, None, None, None, None);
        let transfers = Arc::new(std::sync::atomic::AtomicBool::new(true));
        if let Some(zone_config) = &estate.zone {
            let primary = Arc::new(LabZone::new(zone_config)?);
            let served = dns::serve(primary.clone(), estate.lab.dns_listen).await?;
            dns_addr = Some(served.addr);
            running.push(served);
            let mut servers = vec![dns_addr.unwrap_or(estate.lab.dns_listen)];
            if let Some(listen) = estate.lab.dns_secondary_listen {
                // A secondary that copies the primary's zone by "transfer" every few seconds,
                // unless the control API pauses it: the lagging server of issue 12.
                let copy = Arc::new(LabZone::new(zone_config)?);
                let served = dns::serve(copy.clone(), listen).await?;
                secondary_addr = Some(served.addr);
                servers.push(served.addr);
                running.push(served);
                let (from, to, on) = (primary.clone(), copy.clone(), transfers.clone());
                let every = Duration::from_secs(estate.lab.dns_transfer_seconds.max(1));
                tasks.spawn(async move {
                    let mut ticker = tokio::time::interval(every);
                    loop {
                        ticker.tick().await;
                        if on.load(std::sync::atomic::Ordering::SeqCst) && to.transfer_from(&from).await {
                            tracing::debug!(serial = to.serial(), "lab: the secondary took a zone transfer");
                        }
                    }
                });
                secondary = Some(copy);
            }
            if let Some(listen) = estate.lab.dns_cache_listen {
                match cache::start(listen, &zone_config.origin, &servers, estate.lab.dns_cache_max_ttl_seconds).await {
                    Ok(c) => {
                        cache_addr = Some(c.addr);
                        cache_process = Some(c);
                    }
                    // The demo still runs; the cache's column then says why it has no answers.
                    Err(e) => tracing::warn!(error = %e, %listen, "lab: no caching resolver"),
                }
            }
            zone = Some(primary);
        }
        // Each db host's real server, so the control API can stop and start it for real.
        let mut servers = BTreeMap::new();
        if let (Some(cluster), Some(db)) = (&postgres, estate.databases.first()) {
            servers.insert(db.primary.host.clone(), cluster.primary.clone());
            for (replica, node) in db.replicas.iter().zip(&cluster.standbys) {
                servers.insert(replica.host.clone(), node.clone());
            }
        }
        let ca_file = authority.as_ref().map(|a| a.ca_file().to_path_buf());
        let control = control::Control {
            hosts: Arc::new(switches),
            zone,
            secondary,
            transfers,
            postgres: Arc::new(servers),
            certificates: Arc::new(certificates),
            authority,
        };
        let listener = tokio::net::TcpListener::bind(estate.lab.control_listen).await.map_err(|source| LabError::Bind {
            addr: estate.lab.control_listen,
            what: "the lab control API".into(),
            source,
        })?;
        let control_addr = listener.local_addr().map_err(|source| LabError::Bind {
            addr: estate.lab.control_listen,
            what: "the lab control API".into(),
            source,
        })?;
        let router = control::router(control);
        tasks.spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::error!(error = %e, "lab control API stopped");
            }
        });
        tracing::info!(%control_addr, ?dns_addr, ?secondary_addr, ?cache_addr, hosts = estate.hosts.len(), "lab is up");
        Ok(Lab { control_addr, dns_addr, secondary_addr, cache_addr, ca_file, tasks, _dns: running, _cache: cache_process, postgres })
    }

    /// The lab's PostgreSQL cluster, when `lab.postgres` built one.
    pub fn postgres(&self) -> Option<&crate::lab::pgcluster::Cluster> {
        self.postgres.as_ref()
    }

    /// Stops every task of the lab, and its PostgreSQL.
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
        if let Some(cluster) = self.postgres.take() {
            let _ = tokio::task::spawn_blocking(move || drop(cluster)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clusters_of_gone_consoles_are_cleared_and_live_ones_kept() {
        let temp = tempfile::tempdir().unwrap();
        let me = std::process::id();
        // (directory, kept): a dead process id, this process, and a directory not of the lab.
        let table = [
            ("crowsnest-lab-pg-sjc-1-4000000000".to_string(), false),
            (format!("crowsnest-lab-pg-sjc-1-{me}"), true),
            ("crowsnest-lab-pg-notapid".to_string(), true),
            ("something-else-4000000000".to_string(), true),
        ];
        for (name, _) in &table {
            std::fs::create_dir_all(temp.path().join(name).join("primary")).unwrap();
        }
        super::clear_orphans(temp.path());
        for (name, kept) in table {
            assert_eq!(temp.path().join(&name).exists(), kept, "{name}");
        }
    }
}
