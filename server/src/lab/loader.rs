//! A small real loader for the lab: it accepts writes (its own steady trickle plus
//! `POST /enqueue`), queues them in memory, and drains them into the primary PostgreSQL when it
//! can reach it, exposing the backlog metrics Crowsnest scrapes. While the primary is
//! unreachable the queue backs up; when it returns, the queue drains.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinSet;

/// Ticks per second of the trickle and the drain.
const TICKS_PER_SECOND: u32 = 5;

/// The table lab loaders write into on the primary.
const TABLE_DDL: &str = "CREATE TABLE IF NOT EXISTS lab_loaded (\
    id bigserial PRIMARY KEY, loader text NOT NULL, item bigint NOT NULL, \
    enqueued_at timestamptz NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())";

#[derive(Default)]
struct Queue {
    /// (item number, enqueued at unix ms), oldest first.
    items: VecDeque<(i64, i64)>,
    enqueued_total: u64,
    loaded_total: u64,
    next_item: i64,
}

/// One lab loader's queue, shared by its HTTP endpoint and its drain task.
#[derive(Clone)]
pub struct LabLoader {
    name: String,
    queue: Arc<Mutex<Queue>>,
}

/// Items a lab loader holds at most (16 bytes each).
const MAX_QUEUED: usize = 200_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enqueue {
    items: u32,
}

impl LabLoader {
    /// An empty loader.
    pub fn new(name: &str) -> Self {
        LabLoader { name: name.to_string(), queue: Arc::default() }
    }

    fn enqueue(&self, n: u32) {
        let now = crate::clock::now_ms();
        if let Ok(mut q) = self.queue.lock() {
            // Bounded like everything else in the process: past the cap, items are refused, as
            // a real loader's full queue would.
            let n = n.min(u32::try_from(MAX_QUEUED.saturating_sub(q.items.len())).unwrap_or(u32::MAX));
            for _ in 0..n {
                let item = q.next_item;
                q.next_item += 1;
                q.items.push_back((item, now));
            }
            q.enqueued_total += u64::from(n);
        }
    }

    /// Prometheus text of the queue, in the names Crowsnest expects by default.
    pub fn metrics(&self) -> String {
        let now = crate::clock::now_ms();
        let (depth, oldest, enqueued, loaded) = match self.queue.lock() {
            Ok(q) => {
                (q.items.len(), q.items.front().map_or(0.0, |(_, at)| (now - at).max(0) as f64 / 1000.0), q.enqueued_total, q.loaded_total)
            }
            Err(_) => (0, 0.0, 0, 0),
        };
        format!(
            "# HELP loader_queue_depth Items waiting to be written into the master.\n\
             # TYPE loader_queue_depth gauge\nloader_queue_depth {depth}\n\
             # HELP loader_oldest_item_age_seconds Age of the oldest waiting item.\n\
             # TYPE loader_oldest_item_age_seconds gauge\nloader_oldest_item_age_seconds {oldest}\n\
             # HELP loader_enqueued_total Items accepted.\n\
             # TYPE loader_enqueued_total counter\nloader_enqueued_total {enqueued}\n\
             # HELP loader_loaded_total Items written into the master.\n\
             # TYPE loader_loaded_total counter\nloader_loaded_total {loaded}\n"
        )
    }

    /// `/metrics` and `POST /enqueue` (`{"items": N}`, at most 100000 at once).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/metrics", get(|State(l): State<LabLoader>| async move { l.metrics() }))
            .route("/enqueue", post(enqueue))
            .with_state(self.clone())
    }

    /// Starts the trickle of writes and the drain into `primary_dsn`.
    pub fn spawn(&self, tasks: &mut JoinSet<()>, primary_dsn: Option<String>, enqueue_per_second: u32, drain_per_second: u32) {
        let trickle = self.clone();
        tasks.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(1) / TICKS_PER_SECOND);
            let mut owed = 0u32;
            loop {
                ticker.tick().await;
                owed += enqueue_per_second;
                trickle.enqueue(owed / TICKS_PER_SECOND);
                owed %= TICKS_PER_SECOND;
            }
        });
        let Some(dsn) = primary_dsn else { return };
        let drain = self.clone();
        tasks.spawn(async move { drain.drain(&dsn, drain_per_second).await });
    }

    async fn drain(&self, dsn: &str, per_second: u32) {
        let options = match PgConnectOptions::from_str(dsn) {
            Ok(o) => o.application_name("crowsnest-lab-loader"),
            Err(e) => {
                tracing::error!(loader = %self.name, error = %e, "lab loader has a bad primary dsn; it will only queue");
                return;
            }
        };
        let pool = PgPoolOptions::new().max_connections(1).acquire_timeout(Duration::from_secs(1)).connect_lazy_with(options);
        let batch = (per_second / TICKS_PER_SECOND).max(1) as usize;
        let mut ticker = tokio::time::interval(Duration::from_secs(1) / TICKS_PER_SECOND);
        let mut table_ready = false;
        loop {
            ticker.tick().await;
            let taken: Vec<(i64, i64)> = match self.queue.lock() {
                Ok(q) => q.items.iter().take(batch).copied().collect(),
                Err(_) => continue,
            };
            if taken.is_empty() {
                continue;
            }
            let written = async {
                if !table_ready {
                    sqlx::query(TABLE_DDL).execute(&pool).await?;
                    table_ready = true;
                }
                let items: Vec<i64> = taken.iter().map(|t| t.0).collect();
                let ats: Vec<f64> = taken.iter().map(|t| t.1 as f64 / 1000.0).collect();
                sqlx::query(
                    "INSERT INTO lab_loaded (loader, item, enqueued_at) \
                     SELECT $1, i, to_timestamp(a) FROM unnest($2::int8[], $3::float8[]) AS t(i, a)",
                )
                .bind(&self.name)
                .bind(&items)
                .bind(&ats)
                .execute(&pool)
                .await
            };
            match tokio::time::timeout(Duration::from_secs(2), written).await {
                Ok(Ok(_)) => {
                    if let Ok(mut q) = self.queue.lock() {
                        let done = taken.len().min(q.items.len());
                        q.items.drain(..done);
                        q.loaded_total += taken.len() as u64;
                    }
                }
                // The primary is unreachable: keep the items; the queue backs up.
                Ok(Err(e)) => tracing::debug!(loader = %self.name, error = %e, "lab loader cannot write; queue backs up"),
                Err(_) => tracing::debug!(loader = %self.name, "lab loader write timed out; queue backs up"),
            }
        }
    }
}

async fn enqueue(State(l): State<LabLoader>, body: Result<Json<Enqueue>, axum::extract::rejection::JsonRejection>) -> (StatusCode, String) {
    match body {
        Ok(Json(e)) if e.items <= 100_000 => {
            l.enqueue(e.items);
            (StatusCode::ACCEPTED, format!("queued {}\n", e.items))
        }
        Ok(_) => (StatusCode::BAD_REQUEST, "items must be at most 100000\n".into()),
        Err(e) => (StatusCode::BAD_REQUEST, format!("body must be {{\"items\": N}}: {e}\n")),
    }
}
