//! The lab: the demo estate stood up on loopback with real protocols, so the console has
//! something true to watch. Each host answers HTTP (or TCP) on its own loopback address; an
//! authoritative DNS server (hickory-server) serves the zone; a control API changes both at
//! runtime so tests and demos can replay the incident.

mod control;
mod dns;
mod hosts;

pub use dns::{serve as serve_zone, LabZone, Running as RunningDns, ZoneError};
pub use hosts::HostState;

use crate::config::Estate;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
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
}

/// A running lab; dropping it stops every task.
pub struct Lab {
    /// Where the control API listens.
    pub control_addr: SocketAddr,
    /// Where the DNS server listens (UDP and TCP), if a zone is configured.
    pub dns_addr: Option<SocketAddr>,
    tasks: JoinSet<()>,
    _dns: Option<dns::Running>,
}

impl Lab {
    /// Starts every host endpoint, the DNS server and the control API.
    pub async fn start(estate: Arc<Estate>) -> Result<Lab, LabError> {
        let mut tasks = JoinSet::new();
        let mut switches = BTreeMap::new();
        for host in &estate.hosts {
            let endpoint = hosts::Endpoint::of(host);
            let (tx, rx) = tokio::sync::watch::channel(HostState::Up);
            // Bind once up front so a taken port fails the start, not a later round.
            let listener = endpoint.bind().await?;
            tasks.spawn(hosts::run(endpoint, listener, rx));
            switches.insert(host.name.clone(), tx);
        }
        let (zone, dns_running, dns_addr) = match &estate.zone {
            Some(zone_config) => {
                let zone = Arc::new(LabZone::new(zone_config)?);
                let running = dns::serve(zone.clone(), estate.lab.dns_listen).await?;
                let addr = running.addr;
                (Some(zone), Some(running), Some(addr))
            }
            None => (None, None, None),
        };
        let control = control::Control {
            hosts: Arc::new(switches),
            zone,
        };
        let listener = tokio::net::TcpListener::bind(estate.lab.control_listen)
            .await
            .map_err(|source| LabError::Bind {
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
        tracing::info!(%control_addr, ?dns_addr, hosts = estate.hosts.len(), "lab is up");
        Ok(Lab {
            control_addr,
            dns_addr,
            tasks,
            _dns: dns_running,
        })
    }

    /// Stops every task of the lab.
    pub async fn stop(mut self) {
        self.tasks.shutdown().await;
    }
}
