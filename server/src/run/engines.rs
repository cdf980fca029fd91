//! The engines a console runs, as one table: each row names an engine, how old its last round
//! may be before `/healthz` calls it stale, and one life of it (the supervisor restarts it
//! after a panic).

use crate::backlog::engine::LoaderBoard;
use crate::clock::now_ms;
use crate::config::Estate;
use crate::dns::engine::{DnsBoard, RecordCheck};
use crate::engines::{supervise, Engine};
use crate::health::engine::{HealthBoard, NetProbe};
use crate::health::evaluate::Policy;
use crate::replication::engine::ReplicationBoard;
use crate::store::LocalStore;
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// What the engines publish to: the boards the console reads.
pub(super) struct EngineBoards {
    /// Host health.
    pub(super) health: HealthBoard,
    /// DNS answers and statuses.
    pub(super) dns: DnsBoard,
    /// Replication readings and lag history.
    pub(super) replication: ReplicationBoard,
    /// Loader reports.
    pub(super) backlog: LoaderBoard,
}

/// One row of the table.
struct EngineRow {
    name: &'static str,
    stale_after: Duration,
    life: Box<dyn FnMut(Arc<Engine>) -> BoxFuture<'static, ()> + Send>,
}

/// The engines, started: their round clocks (for `/healthz` and `/metrics`) and their tasks.
pub(super) struct Started {
    /// Round clocks, in table order.
    pub(super) clocks: Vec<Arc<Engine>>,
    /// Supervisor tasks, aborted at stop.
    pub(super) tasks: Vec<JoinHandle<()>>,
    /// What they publish to.
    pub(super) boards: EngineBoards,
}

/// Starts every engine in the table, each supervised.
pub(super) fn start(estate: &Arc<Estate>, local: &LocalStore, checks: Arc<Vec<RecordCheck>>) -> Started {
    let boards = EngineBoards {
        health: HealthBoard::default(),
        dns: DnsBoard::default(),
        replication: ReplicationBoard::default(),
        backlog: LoaderBoard::new(estate.clone(), Some(local.clone())),
    };
    // The stale limits are the ones the pages use: probes go stale after their policy's limit,
    // the slower engines after three of their intervals.
    let probe_stale = Duration::from_millis(Policy::of_config(&estate.probes, &estate.tls).stale_after_ms as u64);
    let every = |interval_seconds: u64, timeout_ms: u64| Duration::from_millis(3 * interval_seconds * 1000 + timeout_ms);
    let probe = NetProbe::new(Duration::from_millis(estate.probes.timeout_ms));
    let probe = Arc::new(match crate::tls::probe::Trust::new(estate.tls.ca_file.as_deref(), estate.tls.system_roots) {
        Ok(trust) => probe.with_trust(trust),
        // Each HTTPS check then says so; the other checks run as ever.
        Err(e) => {
            tracing::warn!(error = %e, "HTTPS checks cannot verify certificates");
            probe
        }
    });
    let table = vec![
        EngineRow {
            name: "health",
            stale_after: probe_stale,
            life: {
                let (estate, board, local) = (estate.clone(), boards.health.clone(), local.clone());
                Box::new(move |clock| {
                    Box::pin(crate::health::engine::run_rounds(estate.clone(), probe.clone(), board.clone(), Some(local.clone()), clock))
                })
            },
        },
        EngineRow {
            name: "dns",
            stale_after: probe_stale,
            life: {
                let (estate, board, local) = (estate.clone(), boards.dns.clone(), local.clone());
                Box::new(move |clock| {
                    Box::pin(crate::dns::engine::run_rounds(estate.clone(), checks.clone(), board.clone(), Some(local.clone()), clock))
                })
            },
        },
        EngineRow {
            name: "replication",
            stale_after: every(estate.replication.interval_seconds, estate.replication.timeout_ms),
            life: {
                let (estate, board, local) = (estate.clone(), boards.replication.clone(), local.clone());
                Box::new(move |clock| {
                    Box::pin(crate::replication::engine::run_rounds(estate.clone(), board.clone(), Some(local.clone()), clock))
                })
            },
        },
        EngineRow {
            name: "backlog",
            stale_after: every(estate.backlog.interval_seconds, estate.backlog.timeout_ms),
            life: {
                let (estate, board) = (estate.clone(), boards.backlog.clone());
                Box::new(move |clock| Box::pin(crate::backlog::engine::run_rounds(estate.clone(), board.clone(), clock)))
            },
        },
    ];
    let started_ms = now_ms();
    let (mut clocks, mut tasks) = (Vec::new(), Vec::new());
    for EngineRow { name, stale_after, mut life } in table {
        let clock = Engine::new(name, stale_after, started_ms);
        let for_life = clock.clone();
        tasks.push(supervise(clock.clone(), move || life(for_life.clone())));
        clocks.push(clock);
    }
    Started { clocks, tasks, boards }
}
