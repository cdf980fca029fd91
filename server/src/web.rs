//! The HTTP surface: Leptos pages and server functions, the JSON API, the live event stream,
//! `/healthz` and `/metrics`.

use crate::console::ConsoleState;
use crate::metrics;
use crate::page_cache::{self, Freshness, PageCache};
use crate::probe::now_ms;
use app::api::{Console, SharedConsole};
use app::live::{RenderedAt, BACKLOG_EVENT, DNS_EVENT, REPLICATION_EVENT, TOPOLOGY_EVENT};
use app::{shell, App};
use axum::extract::{FromRef, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// Application state shared by every handler.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' own options (site root, output name, address).
    pub leptos_options: LeptosOptions,
    /// The console the pages read.
    pub console: Arc<ConsoleState>,
    /// Flips to true when the server is shutting down, so event streams end.
    pub shutdown: watch::Receiver<bool>,
    /// Browsers connected to the event stream.
    pub sse_clients: Arc<AtomicUsize>,
}

/// Builds the router.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let shared: SharedConsole = state.console.clone();
    let options = state.leptos_options.clone();
    let console = state.console.clone();
    let cache = PageCache::new(move || Freshness {
        round: console.generation(),
        second: now_ms() / 1000,
    });
    let console = state.console.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/instance", get(instance))
        .route("/api/v1/topology", get(topology))
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/dns", get(dns))
        .route("/api/v1/replication", get(replication))
        .route("/api/v1/backlog", get(backlog))
        .route("/api/v1/loaders/{name}/report", post(push_report))
        .route(app::live::EVENTS_PATH, get(events))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(shared.clone());
                provide_context(RenderedAt(console.generation()));
            },
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(cache, page_cache::serve))
        .with_state(state)
}

async fn healthz(State(state): State<AppState>) -> Response {
    // Healthy once the first probe round has completed: before that the pages have nothing true.
    let rounds = state.console.board().rounds();
    let body = serde_json::json!({
        "status": if rounds > 0 { "ok" } else { "starting" },
        "probe_rounds": rounds,
        "instance": state.console.instance(),
    });
    let code = if rounds > 0 { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(body)).into_response()
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    let console = &state.console;
    let mut text = metrics::render(
        &console.instance(),
        &console.topology(),
        console.board().rounds(),
        state.sse_clients.load(Ordering::Relaxed),
    );
    metrics::render_engines(&mut text, &console.replication(), &console.backlog());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

async fn instance(State(state): State<AppState>) -> Json<app::model::Instance> {
    Json(state.console.instance())
}

async fn topology(State(state): State<AppState>) -> Json<app::model::Topology> {
    Json(state.console.topology())
}

async fn dns(State(state): State<AppState>) -> Json<app::model::Dns> {
    Json(state.console.dns())
}

async fn replication(State(state): State<AppState>) -> Json<app::model::Replication> {
    Json(state.console.replication())
}

async fn backlog(State(state): State<AppState>) -> Json<app::model::Backlog> {
    Json(state.console.backlog())
}

/// `POST /api/v1/loaders/{name}/report` with `Authorization: Bearer TOKEN` and a JSON report.
async fn push_report(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    use crate::backlog::engine::PushError;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match state.console.backlog_board().push(&name, bearer, &body).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(serde_json::json!({ "accepted": name }))).into_response(),
        Err(e) => {
            let code = match e {
                PushError::UnknownLoader(_) => StatusCode::NOT_FOUND,
                PushError::NotPushing(_) => StatusCode::CONFLICT,
                PushError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                PushError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (code, Json(serde_json::json!({ "error": e.to_string() }))).into_response()
        }
    }
}

async fn overview(State(state): State<AppState>) -> Response {
    match state.console.overview().await {
        Ok(o) => Json(o).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "error": e.to_string() })),
        )
            .into_response(),
    }
}

/// Counts a connected browser for as long as its stream lives.
struct Connected(Arc<AtomicUsize>);

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Query of the event stream.
#[derive(serde::Deserialize)]
struct EventsQuery {
    /// `false`: each event carries only its generation (what pages need), not the snapshot.
    #[serde(default = "yes")]
    snapshots: bool,
}

fn yes() -> bool {
    true
}

/// `GET /api/v1/events`: a named event per engine move, its `id` the console's generation read
/// before the snapshot, so the snapshot is at least as new as the id says.
async fn events(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let console = state.console.clone();
    let snapshots = query.snapshots;
    let mut rounds = console.board().subscribe();
    let mut dns_rounds = console.dns_board().subscribe();
    let mut replication_rounds = console.replication_board().subscribe();
    let mut backlog_changes = console.backlog_board().subscribe();
    let mut shutdown = state.shutdown.clone();
    state.sse_clients.fetch_add(1, Ordering::Relaxed);
    let connected = Connected(state.sse_clients.clone());
    let stream = async_stream::stream! {
        let _connected = connected;
        // Every snapshot at once, then each after its engine moves.
        let mut send = Pending { topology: true, dns: true, replication: true, backlog: true };
        loop {
            let generation = console.generation();
            if send.topology {
                yield Ok(event(TOPOLOGY_EVENT, generation, snapshots.then(|| console.topology())));
            }
            if send.dns {
                yield Ok(event(DNS_EVENT, generation, snapshots.then(|| console.dns())));
            }
            if send.replication {
                yield Ok(event(REPLICATION_EVENT, generation, snapshots.then(|| console.replication())));
            }
            if send.backlog {
                yield Ok(event(BACKLOG_EVENT, generation, snapshots.then(|| console.backlog())));
            }
            send = Pending::default();
            tokio::select! {
                changed = rounds.changed() => {
                    if changed.is_err() { break }
                    send.topology = true;
                }
                changed = dns_rounds.changed() => {
                    if changed.is_err() { break }
                    // The topology's hostname landing follows DNS too.
                    (send.topology, send.dns) = (true, true);
                }
                changed = replication_rounds.changed() => {
                    if changed.is_err() { break }
                    send.replication = true;
                }
                changed = backlog_changes.changed() => {
                    if changed.is_err() { break }
                    send.backlog = true;
                }
                _ = shutdown.wait_for(|stopping| *stopping) => break,
            }
        }
    };
    // A named event rather than a comment: browsers cannot see comments, and the page's
    // watchdog tells a quiet stream from a dead one by hearing something every few seconds.
    let heartbeat = Event::default().event(app::live::HEARTBEAT_EVENT).data("alive");
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(std::time::Duration::from_secs(app::live::HEARTBEAT_SECONDS))
            .event(heartbeat),
    )
}

/// Which snapshots the next turn of an event stream sends.
#[derive(Default)]
struct Pending {
    topology: bool,
    dns: bool,
    replication: bool,
    backlog: bool,
}

/// One named SSE event stamped with `generation`, carrying the snapshot as JSON or, without
/// one, the generation again (SSE drops events with empty data). A snapshot that cannot be
/// encoded becomes an `error` event, so the browser is told rather than left waiting.
fn event(name: &str, generation: u64, snapshot: Option<impl serde::Serialize>) -> Event {
    let stamped = Event::default().event(name).id(generation.to_string());
    match snapshot {
        None => stamped.data(generation.to_string()),
        Some(data) => stamped.json_data(data).unwrap_or_else(|e| {
            tracing::error!(error = %e, event = name, "cannot encode a snapshot");
            Event::default().event("error").data(format!("cannot encode {name}: {e}"))
        }),
    }
}
