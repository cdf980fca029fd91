//! The live event stream: a named event each time an engine moves, or an action or the audit
//! log changes.

use super::error::ApiError;
use super::AppState;
use app::api::Console;
use app::live::{ACTIONS_EVENT, ALERTS_EVENT, BACKLOG_EVENT, DNS_EVENT, REPLICATION_EVENT, TOPOLOGY_EVENT};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts a connected browser, in all and for its session, for as long as its stream lives.
struct Connected {
    all: Arc<AtomicUsize>,
    owners: Arc<std::sync::Mutex<HashMap<String, usize>>>,
    owner: String,
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.all.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut owners) = self.owners.lock() {
            if let Some(n) = owners.get_mut(&self.owner) {
                *n -= 1;
                if *n == 0 {
                    owners.remove(&self.owner);
                }
            }
        }
    }
}

/// Query of the event stream.
#[derive(serde::Deserialize)]
pub struct EventsQuery {
    /// `false`: each event carries only its generation (what pages need), not the snapshot.
    #[serde(default = "yes")]
    snapshots: bool,
}

fn yes() -> bool {
    true
}

/// `GET /api/v1/events`: a named event per engine move, its `id` the console's generation read
/// before the snapshot, so the snapshot is at least as new as the id says.
pub async fn events(
    State(state): State<AppState>,
    Query(query): Query<EventsQuery>,
    who: Option<axum::Extension<app::auth::Who>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
) -> Response {
    // A configured ceiling on open streams: past it, a clear 503 (pages still render and the
    // island retries) rather than unbounded tasks and memory.
    let limit = state.console.estate().instance.max_event_streams;
    let open = state.sse_clients.load(Ordering::Relaxed);
    if open >= limit {
        let message = format!(
            "this console already serves {open} live event streams (instance.max_event_streams = {limit}); \
             pages still load, and live updates resume when a stream closes"
        );
        let mut refused = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too_many_streams", message).into_response();
        refused.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("15"));
        return refused;
    }
    // One session (its token), or one wall-display address, holds a few streams: tabs, not a
    // flood of full snapshots.
    let owner = match (&who, &peer) {
        (Some(w), _) if !w.anonymous => format!("session:{}", w.csrf_token),
        (_, Some(p)) => format!("address:{}", p.0 .0.ip()),
        _ => "unknown".to_string(),
    };
    let per_session = state.console.estate().instance.max_streams_per_session;
    {
        let Ok(mut owners) = state.streams_per_session.lock() else {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "try again").into_response();
        };
        let mine = owners.entry(owner.clone()).or_insert(0);
        if *mine >= per_session {
            let message = format!(
                "this session already has {mine} live event streams open (instance.max_streams_per_session = {per_session}); \
                 close a tab, or pages update when one closes"
            );
            let mut refused = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_streams", message).into_response();
            refused.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("15"));
            return refused;
        }
        *mine += 1;
    }
    let connected = Connected { all: state.sse_clients.clone(), owners: state.streams_per_session.clone(), owner };
    state.sse_clients.fetch_add(1, Ordering::Relaxed);
    stream(state, query, connected).into_response()
}

/// The stream itself, once admitted. A browser that stops reading holds only its own stream:
/// each stream waits on its own watch receivers (no shared queue to fill), and at most one
/// turn's events are pending for it.
fn stream(state: AppState, query: EventsQuery, connected: Connected) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let console = state.console.clone();
    let snapshots = query.snapshots;
    let mut rounds = console.board().subscribe();
    let mut dns_rounds = console.dns_board().subscribe();
    let mut replication_rounds = console.replication_board().subscribe();
    let mut backlog_changes = console.backlog_board().subscribe();
    let mut alert_rounds = console.alert_board().changes();
    let mut action_changes = state.actions.subscribe();
    let mut audit_changes = console.audit_changes();
    let mut shutdown = state.shutdown.clone();
    let stream = async_stream::stream! {
        let _connected = connected;
        // Every snapshot at once, then each after its engine moves.
        let mut send = Pending { topology: true, dns: true, replication: true, backlog: true, actions: true, alerts: true };
        loop {
            let generation = console.generation();
            if send.topology {
                yield Ok(event(TOPOLOGY_EVENT, generation, snapshots.then(|| console.topology())));
            }
            if send.dns {
                let dns = snapshots.then(|| console.dns_snapshot());
                yield Ok(event(DNS_EVENT, generation, dns.as_deref()));
            }
            if send.replication {
                yield Ok(event(REPLICATION_EVENT, generation, snapshots.then(|| console.replication())));
            }
            if send.backlog {
                yield Ok(event(BACKLOG_EVENT, generation, snapshots.then(|| console.backlog())));
            }
            if send.alerts {
                yield Ok(event(ALERTS_EVENT, generation, snapshots.then(|| console.alert_board().get())));
            }
            if send.actions {
                // No snapshot: the actions board is per person (buttons, tokens), so it is fetched.
                yield Ok(event(ACTIONS_EVENT, generation, None::<()>));
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
                changed = alert_rounds.changed() => {
                    if changed.is_err() { break }
                    send.alerts = true;
                }
                changed = action_changes.changed() => {
                    if changed.is_err() { break }
                    send.actions = true;
                }
                changed = audit_changes.changed() => {
                    if changed.is_err() { break }
                    // The actions page shows the audit log's latest entries.
                    send.actions = true;
                }
                _ = shutdown.wait_for(|stopping| *stopping) => break,
            }
        }
    };
    // A named event rather than a comment: browsers cannot see comments, and the page's
    // watchdog tells a quiet stream from a dead one by hearing something every few seconds.
    let heartbeat = Event::default().event(app::live::HEARTBEAT_EVENT).data("alive");
    Sse::new(stream).keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(app::live::HEARTBEAT_SECONDS)).event(heartbeat))
}

/// Which snapshots the next turn of an event stream sends.
#[derive(Default)]
struct Pending {
    topology: bool,
    dns: bool,
    replication: bool,
    backlog: bool,
    actions: bool,
    alerts: bool,
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
