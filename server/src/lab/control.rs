//! The lab's control API (JSON over HTTP), used by tests, Playwright and demos:
//!
//! - `GET /lab/state`: every host's state and the zone's records
//! - `POST /lab/hosts/{name}` with `{"state": "up" | "down" | "hang" | "error"}`
//! - `PUT /lab/records/{name}/{type}` with `{"ttl": 60, "values": ["127.0.1.1"]}`
//! - `DELETE /lab/records/{name}/{type}`
//! - `POST /lab/postgres/{host}` with `{"state": "stopped" | "running"}`: stops or starts the
//!   lab's real PostgreSQL server behind a db host (with `lab.postgres = true`)
//! - `POST /lab/dns/transfers` with `{"paused": true | false}`: stops or resumes the secondary
//!   authoritative server's zone transfers (with `lab.dns_secondary_listen`), so it lags
//! - `PUT /lab/hosts/{name}/certificate` with `{"certificate": "valid" | "expiring" | "expired"
//!   | "wrong_name" | "unknown_issuer"}` (and `"days": N` for expiring, `"name": "…"` for
//!   wrong_name): the certificate an https:// balancer serves from its next handshake

use super::{HostState, LabZone};
use crate::config::RecordKind;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone)]
pub(super) struct Control {
    pub hosts: Arc<BTreeMap<String, watch::Sender<HostState>>>,
    pub zone: Option<Arc<LabZone>>,
    pub secondary: Option<Arc<LabZone>>,
    pub transfers: Arc<std::sync::atomic::AtomicBool>,
    pub postgres: Arc<BTreeMap<String, crate::lab::pgcluster::Node>>,
    pub certificates: Arc<BTreeMap<String, super::tls::Served>>,
    pub authority: Option<Arc<super::tls::LabAuthority>>,
}

type Reply = (StatusCode, Json<Value>);

fn problem(status: StatusCode, message: impl Into<String>) -> Reply {
    (status, Json(json!({ "error": message.into() })))
}

/// A request's JSON body, or a 400 that shows the expected `shape` and what was wrong.
fn body<T>(body: Result<Json<T>, JsonRejection>, shape: &str) -> Result<T, Reply> {
    body.map(|Json(b)| b).map_err(|e| problem(StatusCode::BAD_REQUEST, format!("body must be {shape}: {e}")))
}

pub(super) fn router(control: Control) -> Router {
    Router::new()
        .route("/lab/state", get(state))
        .route("/lab/hosts/{name}", post(set_host))
        .route("/lab/hosts/{name}/certificate", put(set_certificate))
        .route("/lab/records/{name}/{kind}", put(set_record).delete(delete_record))
        .route("/lab/postgres/{host}", post(set_postgres))
        .route("/lab/dns/transfers", post(set_transfers))
        .with_state(control)
}

async fn state(State(c): State<Control>) -> Json<Value> {
    let hosts: BTreeMap<&String, HostState> = c.hosts.iter().map(|(n, tx)| (n, *tx.borrow())).collect();
    let certificates: BTreeMap<&String, Value> =
        c.certificates.iter().map(|(n, s)| (n, json!({ "name": s.name, "certificate": *s.kind.borrow() }))).collect();
    let records = match &c.zone {
        Some(z) => z.dump().await,
        None => Vec::new(),
    };
    let serial = c.zone.as_ref().map(|z| z.serial());
    let secondary = c.secondary.as_ref().map(|z| {
        json!({ "serial": z.serial(), "transfers": if c.transfers.load(std::sync::atomic::Ordering::SeqCst) { "running" } else { "paused" } })
    });
    Json(json!({ "hosts": hosts, "certificates": certificates, "records": records, "serial": serial, "secondary": secondary }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfers {
    paused: bool,
}

async fn set_transfers(State(c): State<Control>, request: Result<Json<Transfers>, JsonRejection>) -> Reply {
    let change = match body(request, r#"{"paused": true|false}"#) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let Some(secondary) = &c.secondary else {
        return problem(StatusCode::NOT_FOUND, "the lab runs no secondary DNS server (set lab.dns_secondary_listen)");
    };
    c.transfers.store(!change.paused, std::sync::atomic::Ordering::SeqCst);
    tracing::info!(paused = change.paused, serial = secondary.serial(), "lab: secondary zone transfers switched");
    let state = if change.paused { "paused" } else { "running" };
    (StatusCode::OK, Json(json!({ "transfers": state, "secondary_serial": secondary.serial() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HostChange {
    state: HostState,
}

async fn set_host(State(c): State<Control>, Path(name): Path<String>, request: Result<Json<HostChange>, JsonRejection>) -> Reply {
    let change = match body(request, r#"{"state": "up|down|hang|error"}"#) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let Some(tx) = c.hosts.get(&name) else {
        let known: Vec<&String> = c.hosts.keys().collect();
        return problem(StatusCode::NOT_FOUND, format!("no lab host {name:?}; known: {known:?}"));
    };
    tx.send_replace(change.state);
    tracing::info!(host = %name, state = ?change.state, "lab host switched");
    (StatusCode::OK, Json(json!({ "host": name, "state": change.state })))
}

async fn set_certificate(
    State(c): State<Control>,
    Path(host): Path<String>,
    request: Result<Json<super::CertificateChange>, JsonRejection>,
) -> Reply {
    let shape = r#"{"certificate": "valid|expiring|expired|wrong_name|unknown_issuer", "days": N, "name": "…"}"#;
    let change = match body(request, shape) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let (Some(authority), Some(served)) = (&c.authority, c.certificates.get(&host)) else {
        let known: Vec<&String> = c.certificates.keys().collect();
        return problem(StatusCode::NOT_FOUND, format!("no lab host {host:?} checked over https://; those are: {known:?}"));
    };
    if let Some(days) = change.days.filter(|d| !(0..=3650).contains(d)) {
        return problem(StatusCode::BAD_REQUEST, format!("days must be 0 to 3650 (expired is its own kind), not {days}"));
    }
    // Issuing signs a fresh key: off the async threads.
    let (authority, name, wanted) = (authority.clone(), served.name.clone(), change.clone());
    match tokio::task::spawn_blocking(move || authority.config(&name, &wanted)).await {
        Ok(Ok(config)) => {
            served.config.send_replace(config);
            served.kind.send_replace(change.certificate);
            tracing::info!(%host, certificate = ?change.certificate, "lab certificate switched");
            (StatusCode::OK, Json(json!({ "host": host, "name": served.name, "certificate": change.certificate })))
        }
        Ok(Err(e)) => problem(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordChange {
    ttl: u32,
    values: Vec<String>,
}

fn kind(text: &str) -> Result<RecordKind, Reply> {
    serde_json::from_value(Value::String(text.to_ascii_uppercase()))
        .map_err(|_| problem(StatusCode::BAD_REQUEST, format!("unknown record type {text:?}; expected A, AAAA, CNAME, MX, TXT or NS")))
}

async fn set_record(
    State(c): State<Control>,
    Path((name, kind_text)): Path<(String, String)>,
    request: Result<Json<RecordChange>, JsonRejection>,
) -> Reply {
    let Some(zone) = &c.zone else {
        return problem(StatusCode::NOT_FOUND, "the lab serves no zone (no [zone] in the config)");
    };
    let change = match body(request, r#"{"ttl": N, "values": [..]}"#) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let kind = match kind(&kind_text) {
        Ok(k) => k,
        Err(reply) => return reply,
    };
    if change.values.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "values must not be empty; use DELETE to remove a record");
    }
    match zone.set(&name, kind, change.ttl, &change.values).await {
        Ok(serial) => (StatusCode::OK, Json(json!({ "name": name, "type": kind.as_str(), "serial": serial }))),
        Err(e) => problem(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn delete_record(State(c): State<Control>, Path((name, kind_text)): Path<(String, String)>) -> Reply {
    let Some(zone) = &c.zone else {
        return problem(StatusCode::NOT_FOUND, "the lab serves no zone (no [zone] in the config)");
    };
    let kind = match kind(&kind_text) {
        Ok(k) => k,
        Err(reply) => return reply,
    };
    match zone.delete(&name, kind).await {
        Ok(true) => (StatusCode::OK, Json(json!({ "deleted": name, "type": kind.as_str() }))),
        Ok(false) => problem(StatusCode::NOT_FOUND, format!("no {} record at {name:?}", kind.as_str())),
        Err(e) => problem(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ServerState {
    Stopped,
    Running,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerChange {
    state: ServerState,
}

async fn set_postgres(State(c): State<Control>, Path(host): Path<String>, request: Result<Json<ServerChange>, JsonRejection>) -> Reply {
    let change = match body(request, r#"{"state": "stopped|running"}"#) {
        Ok(change) => change,
        Err(reply) => return reply,
    };
    let Some(node) = c.postgres.get(&host).cloned() else {
        let known: Vec<&String> = c.postgres.keys().collect();
        return problem(StatusCode::NOT_FOUND, format!("no lab PostgreSQL behind {host:?}; known: {known:?} (needs lab.postgres = true)"));
    };
    let (word, result) = match change.state {
        ServerState::Stopped => ("stopped", tokio::task::spawn_blocking(move || node.stop()).await),
        ServerState::Running => ("running", tokio::task::spawn_blocking(move || node.start()).await),
    };
    match result {
        Ok(Ok(())) => {
            tracing::info!(%host, state = word, "lab PostgreSQL switched");
            (StatusCode::OK, Json(json!({ "host": host, "postgres": word })))
        }
        Ok(Err(e)) => problem(StatusCode::CONFLICT, e.to_string()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}
