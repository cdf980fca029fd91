//! The JSON API: each page's data, the loader push, `/healthz` and `/metrics`.

use super::error::ApiError;
use super::metrics;
use super::AppState;
use app::action::AuditFilter;
use app::api::Console;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::sync::atomic::Ordering;

/// `GET /healthz`: the status word for anyone (a load balancer's check); the engines, the
/// instance and the mode's reason only with a session (they name the estate).
pub async fn healthz(State(state): State<AppState>, who: Option<axum::Extension<app::auth::Who>>) -> Response {
    // Healthy once the first probe round has completed (before that the pages have nothing
    // true) and while every engine's last round is within its stale limit.
    let rounds = state.console.board().rounds();
    let engines: Vec<_> = state.engines.iter().map(|e| e.snapshot()).collect();
    let stale = crate::engines::stale(&engines, crate::clock::now_ms());
    let status = match (rounds > 0, stale.is_empty()) {
        (false, _) => "starting",
        (true, false) => "stale",
        (true, true) => "ok",
    };
    let code = if status == "ok" { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    if who.is_none() {
        return (code, Json(serde_json::json!({ "status": status }))).into_response();
    }
    let body = serde_json::json!({
        "status": status,
        "probe_rounds": rounds,
        "stale": stale,
        "engines": engines.iter().map(|e| serde_json::json!({
            "engine": e.name, "rounds": e.rounds, "last_round_ms": e.last_round_ms,
            "last_duration_seconds": e.last_duration_seconds, "panics": e.panics, "idle": e.idle,
        })).collect::<Vec<_>>(),
        "instance": state.console.instance(),
    });
    (code, Json(body)).into_response()
}

/// `GET /metrics`: Prometheus text for every area, the engines' clocks and this instance.
pub async fn metrics_text(State(state): State<AppState>) -> Response {
    let console = &state.console;
    let mut text =
        metrics::render(&console.instance(), &console.topology(), console.board().rounds(), state.sse_clients.load(Ordering::Relaxed));
    metrics::render_engines(&mut text, &console.replication(), &console.backlog());
    let engines: Vec<_> = state.engines.iter().map(|e| e.snapshot()).collect();
    metrics::render_engine_clocks(&mut text, &engines, crate::clock::now_ms());
    metrics::render_dns(&mut text, &console.dns_snapshot());
    metrics::render_alerts(&mut text, &console.alert_board().get());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `GET /api/v1/instance`: who this instance is and its mode.
pub async fn instance(State(state): State<AppState>) -> Json<app::model::Instance> {
    Json(state.console.instance())
}

/// `GET /api/v1/peer/report`: this vantage's own observations for a peer (the gate has
/// checked the peer's token).
pub async fn peer_report(State(state): State<AppState>) -> Json<app::vantage::VantageReport> {
    let mut report = state.console.vantage_report_at(crate::clock::now_ms());
    report.audit_head = state.console.audit_head().await;
    Json(report)
}

/// Query of `GET /api/v1/timeline`: the window (UTC `2026-12-07 02:00`, or unix
/// milliseconds) and `format=markdown` for the post-mortem's text.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TimelineQuery {
    from: String,
    to: String,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    format: Option<String>,
}

impl TimelineQuery {
    fn window(&self) -> Result<(i64, i64), ApiError> {
        let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m);
        let (from, to) = match (self.from_ms, self.to_ms) {
            (Some(f), Some(t)) => (f, t),
            (None, None) => app::format::window(&self.from, &self.to, crate::clock::now_ms()).map_err(invalid)?,
            _ => return Err(invalid("give both from_ms and to_ms, or neither".into())),
        };
        crate::timeline::check_window(from, to).map_err(invalid)
    }
}

/// `GET /api/v1/timeline`: every event of the window from every vantage, as JSON, or with
/// `format=markdown` as the post-mortem's timeline.
pub async fn timeline(State(state): State<AppState>, Query(q): Query<TimelineQuery>) -> Response {
    let window = match q.window() {
        Ok(w) => w,
        Err(e) => return e.respond(false),
    };
    let t = state.console.timeline(window.0, window.1).await;
    match q.format.as_deref() {
        None | Some("json") => Json(t).into_response(),
        Some("markdown") => {
            let text = crate::timeline::evaluate::markdown(&t, "Incident timeline");
            ([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], text).into_response()
        }
        Some(other) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("format {other:?}: json or markdown")).respond(false)
        }
    }
}

/// `GET /api/v1/peer/timeline?from_ms=&to_ms=`: what this instance itself saw, for a peer
/// merging its timeline (at most [`crate::timeline::PEER_EVENTS`] events).
pub async fn peer_timeline(State(state): State<AppState>, Query(q): Query<TimelineQuery>) -> Response {
    let (from, to) = match q.window() {
        Ok(w) => w,
        Err(e) => return e.respond(false),
    };
    match state.console.own_timeline(from, to).await {
        Ok(mut events) => {
            events.truncate(crate::timeline::PEER_EVENTS);
            Json(events).into_response()
        }
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).retry_after(30).respond(false),
    }
}

/// Query of `GET /api/v1/topology`: the Topology page's host filters and page.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyApiQuery {
    status: Option<String>,
    region: Option<String>,
    name: Option<String>,
    #[serde(default)]
    page: Option<usize>,
}

/// `GET /api/v1/topology`: the topology with one page of hosts, like the Topology page
/// ([`app::paging::PER_PAGE`] hosts a page, problems first, `?status=&region=&name=&page=`):
/// each region keeps only its hosts on this page, and `paging` says where it is.
pub async fn topology(State(state): State<AppState>, Query(q): Query<TopologyApiQuery>) -> Response {
    let mut topology = state.console.topology();
    let query = app::paging::HostQuery { status: q.status, region: q.region, name: q.name, page: q.page.unwrap_or(1).max(1) };
    let hosts: Vec<(String, app::model::Host)> =
        topology.regions.iter().flat_map(|r| r.hosts.iter().map(move |h| (r.name.clone(), h.clone()))).collect();
    let page = app::paging::host_page(hosts, &query);
    for region in &mut topology.regions {
        region.hosts.retain(|h| page.hosts.iter().any(|(r, p)| *r == region.name && p.name == h.name));
    }
    let mut body = serde_json::to_value(&topology).unwrap_or_default();
    body["paging"] = serde_json::json!({
        "page": page.page, "pages": page.pages, "per_page": app::paging::PER_PAGE, "matching": page.matching, "total": page.total,
    });
    Json(body).into_response()
}

/// Query of `GET /api/v1/dns`: the DNS page's filters and page.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsApiQuery {
    status: Option<String>,
    name: Option<String>,
    #[serde(default)]
    page: Option<usize>,
}

/// `GET /api/v1/dns`: one page of records like the DNS page ([`app::paging::PER_PAGE`] a page,
/// problems first, `?status=&name=&page=`), with `paging` saying where it is: a 100,000-record
/// zone is not one 56 MB body.
pub async fn dns(State(state): State<AppState>, Query(q): Query<DnsApiQuery>) -> Response {
    let (mut dns, page) =
        state.console.dns_page(app::paging::DnsQuery { status: q.status, name: q.name, page: q.page.unwrap_or(1).max(1) });
    dns.records = page.records;
    let mut body = serde_json::to_value(&dns).unwrap_or_default();
    body["paging"] = serde_json::json!({
        "page": page.page, "pages": page.pages, "per_page": app::paging::PER_PAGE,
        "matching": page.matching, "total": page.total, "counts": page.counts,
    });
    Json(body).into_response()
}

/// `GET /api/v1/replication`: every cluster's nodes, lag and history.
pub async fn replication(State(state): State<AppState>) -> Json<app::model::Replication> {
    Json(state.console.replication())
}

/// `GET /api/v1/alerts`: firing, pending and recently resolved alerts, and each receiver.
pub async fn alerts(State(state): State<AppState>) -> Json<app::model::Alerts> {
    Json((*state.console.alert_board().get()).clone())
}

/// `GET /api/v1/backlog`: every loader's backlog and the fail-back verdict.
pub async fn backlog(State(state): State<AppState>) -> Json<app::model::Backlog> {
    Json(state.console.backlog())
}

/// `POST /api/v1/loaders/{name}/report` with a JSON report; the gate has checked the loader's
/// `Authorization: Bearer TOKEN`.
pub async fn push_report(State(state): State<AppState>, Path(name): Path<String>, body: axum::body::Bytes) -> Response {
    match state.console.backlog_board().push(&name, &body).await {
        Ok(()) => (StatusCode::ACCEPTED, Json(serde_json::json!({ "accepted": name }))).into_response(),
        Err(e) => push_error(e).into_response(),
    }
}

/// The answer for a refused push: 404 unknown loader, 409 not a pushing loader, 401 wrong
/// token, 422 a bad report.
pub fn push_error(e: crate::backlog::engine::PushError) -> ApiError {
    use crate::backlog::engine::PushError;
    let code = match e {
        PushError::UnknownLoader(_) => StatusCode::NOT_FOUND,
        PushError::NotPushing(_) => StatusCode::CONFLICT,
        PushError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        PushError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(code, "push_refused", e.to_string())
}

/// `GET /api/v1/overview`: every area's summary.
pub async fn overview(State(state): State<AppState>) -> Response {
    match state.console.overview().await {
        Ok(o) => Json(o).into_response(),
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).into_response(),
    }
}

/// `GET /api/v1/actions`: sites, what users see, and requests.
pub async fn actions(State(state): State<AppState>) -> Response {
    match state.actions.board().await {
        Ok(board) => Json(board).into_response(),
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).into_response(),
    }
}

/// `GET /api/v1/audit?actor=&action=&target=&before=`: one page of the audit log.
pub async fn audit(State(state): State<AppState>, Query(filter): Query<AuditQuery>) -> Response {
    let filter = AuditFilter {
        actor: filter.actor,
        action: filter.action,
        target: filter.target,
        since_ms: filter.since_ms,
        until_ms: filter.until_ms,
        before_seq: filter.before,
    };
    match state.console.audit(filter).await {
        Ok(page) => Json(page).into_response(),
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).into_response(),
    }
}

/// Query of `GET /api/v1/audit`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    before: Option<i64>,
}
