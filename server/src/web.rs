//! The HTTP surface: Leptos pages and server functions, the JSON API, the live event stream,
//! `/healthz` and `/metrics`.

use crate::console::ConsoleState;
use crate::metrics;
use crate::page_cache::{self, Freshness, PageCache};
use crate::probe::now_ms;
use app::api::{Console, SharedConsole};
use app::live::{DNS_EVENT, TOPOLOGY_EVENT};
use app::{shell, App};
use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
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
    let board = state.console.board().clone();
    let dns_board = state.console.dns_board().clone();
    let cache = PageCache::new(move || Freshness {
        round: board.rounds() + dns_board.rounds(),
        second: now_ms() / 1000,
    });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/api/v1/instance", get(instance))
        .route("/api/v1/topology", get(topology))
        .route("/api/v1/overview", get(overview))
        .route("/api/v1/dns", get(dns))
        .route(app::live::EVENTS_PATH, get(events))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(shared.clone()),
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
    let text = metrics::render(
        &console.instance(),
        &console.topology(),
        console.board().rounds(),
        state.sse_clients.load(Ordering::Relaxed),
    );
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

async fn events(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let console = state.console.clone();
    let mut rounds = console.board().subscribe();
    let mut dns_rounds = console.dns_board().subscribe();
    let mut shutdown = state.shutdown.clone();
    state.sse_clients.fetch_add(1, Ordering::Relaxed);
    let connected = Connected(state.sse_clients.clone());
    let stream = async_stream::stream! {
        let _connected = connected;
        // Both snapshots at once, then each after its engine's round.
        let (mut send_topology, mut send_dns) = (true, true);
        loop {
            if send_topology {
                match Event::default().event(TOPOLOGY_EVENT).json_data(console.topology()) {
                    Ok(event) => yield Ok(event),
                    Err(e) => tracing::error!(error = %e, "cannot encode a topology event"),
                }
            }
            if send_dns {
                match Event::default().event(DNS_EVENT).json_data(console.dns()) {
                    Ok(event) => yield Ok(event),
                    Err(e) => tracing::error!(error = %e, "cannot encode a DNS event"),
                }
            }
            tokio::select! {
                changed = rounds.changed() => {
                    if changed.is_err() { break }
                    (send_topology, send_dns) = (true, false);
                }
                changed = dns_rounds.changed() => {
                    if changed.is_err() { break }
                    // The topology's hostname landing follows DNS too.
                    (send_topology, send_dns) = (true, true);
                }
                _ = shutdown.wait_for(|stopping| *stopping) => break,
            }
        }
    };
    Sse::new(stream).keep_alive(KeepAlive::default())
}
