//! On-call's alerting controls: silences, acknowledgements and test notifications. Forms
//! (`POST /silences`, `/silences/{id}/expire`, `/alerts/acknowledge`,
//! `/alerts/receivers/{name}/test`) answer with a redirect or the Silences page showing what was
//! wrong; the JSON API (the same under `/api/v1/`) with the result or one error shape. The gate has already checked the session, the role and the CSRF token; the
//! control store writes each change with its audit entry.

use super::error::ApiError;
use super::gate::BODY_LIMIT;
use super::{redirect_with_notice, render_with_outcome, AppState};
use crate::alerts::alertmanager::rfc3339;
use crate::alerts::silence::{self, AckForm, FieldErrors, SilenceForm};
use crate::audit::{AuditAction, NewAuditEntry};
use crate::clock::now_ms;
use crate::store::StoreError;
use app::action::FormOutcome;
use app::api::Console;
use app::auth::Who;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, Extensions, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

/// A body with nothing to say (a form carries only its token).
#[derive(serde::Deserialize, Default)]
struct NoFields {}

/// A request's body as `T`, whether a form or JSON (the API's paths), with who sent it.
async fn read<T: DeserializeOwned>(request: Request) -> Result<(Extensions, T, Who, bool), ApiError> {
    let api = request.uri().path().starts_with("/api/");
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is over {BODY_LIMIT} bytes")))?;
    let parsed = if api {
        if !content_type.starts_with("application/json") && !bytes.is_empty() {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content_type",
                format!("send the request as application/json, not {content_type:?}"),
            ));
        }
        // An empty body is an empty object: `POST …/expire` needs no fields.
        serde_json::from_slice::<T>(if bytes.is_empty() { b"{}" } else { &bytes }).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| e.to_string())
    }
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("the body is not what this takes: {e}")))?;
    let who = parts.extensions.get::<Who>().cloned().ok_or_else(ApiError::unauthenticated)?;
    Ok((parts.extensions, parsed, who, api))
}

/// What a store failure means to the person who asked.
fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::ReadOnly { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "read_only",
            "the control store is read-only from this instance: silence or acknowledge on the primary (or in Alertmanager)",
        )
        .retry_after(30),
        other => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", other.to_string()).retry_after(30),
    }
}

/// The answer to a refused form: the Silences page again with what was wrong (a form), or 422
/// with the fields (the API).
async fn refused(
    state: &AppState,
    extensions: Extensions,
    api: bool,
    form: &str,
    errors: FieldErrors,
    values: Vec<(String, String)>,
) -> Response {
    if api {
        let mut e = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            errors.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>().join("; "),
        );
        e.fields = errors;
        return e.respond(false);
    }
    let outcome = FormOutcome { form: form.to_string(), errors, values };
    render_with_outcome(state, extensions, "/silences", outcome, StatusCode::UNPROCESSABLE_ENTITY).await
}

/// `POST /silences` and `POST /api/v1/silences`.
pub async fn create(State(state): State<AppState>, request: Request) -> Response {
    let html = !request.uri().path().starts_with("/api/");
    let (extensions, form, who, api) = match read::<SilenceForm>(request).await {
        Ok(read) => read,
        Err(e) => return e.respond(html),
    };
    let now = now_ms();
    let record = match silence::silence_from(&form, &who.name, now) {
        Ok(record) => record,
        Err(errors) => {
            let values = vec![("matchers".into(), form.matchers), ("duration".into(), form.duration), ("comment".into(), form.comment)];
            return refused(&state, extensions, api, "silence", errors, values).await;
        }
    };
    let matchers = record.matchers.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    let until = rfc3339(record.ends_ms);
    let detail = format!("matchers: {matchers}; until {until}");
    let audit = NewAuditEntry::new(now, &who.name, AuditAction::SilenceCreated, "silence", &record.comment, detail);
    match state.login.control.add_silence(&record, audit).await {
        Ok(id) if api => (StatusCode::CREATED, Json(serde_json::json!({ "id": id, "ends_at": until }))).into_response(),
        Ok(id) => redirect_with_notice(&extensions, "/silences", format!("Silence {id} ({matchers}) is in force until {until}.")).await,
        Err(e) => store_error(e).respond(!api),
    }
}

/// `POST /silences/{id}/expire` and `POST /api/v1/silences/{id}/expire`.
pub async fn expire(State(state): State<AppState>, Path(id): Path<i64>, request: Request) -> Response {
    let html = !request.uri().path().starts_with("/api/");
    let (extensions, _, who, api) = match read::<NoFields>(request).await {
        Ok(read) => read,
        Err(e) => return e.respond(html),
    };
    let now = now_ms();
    let audit = NewAuditEntry::new(now, &who.name, AuditAction::SilenceExpired, &format!("silence {id}"), "ended early", String::new());
    match state.login.control.expire_silence(id, &who.name, audit).await {
        Ok(true) if api => Json(serde_json::json!({ "id": id, "ended_at": rfc3339(now) })).into_response(),
        Ok(true) => redirect_with_notice(&extensions, "/silences", format!("Silence {id} has ended.")).await,
        Ok(false) => ApiError::not_found(format!("silence {id} (none in force has that number)")).respond(!api),
        Err(e) => store_error(e).respond(!api),
    }
}

/// `POST /alerts/acknowledge` and `POST /api/v1/alerts/acknowledge`.
pub async fn acknowledge(State(state): State<AppState>, request: Request) -> Response {
    let html = !request.uri().path().starts_with("/api/");
    let (extensions, form, who, api) = match read::<AckForm>(request).await {
        Ok(read) => read,
        Err(e) => return e.respond(html),
    };
    let now = now_ms();
    let alerts = state.console.alerts();
    let alert = alerts.alerts.iter().find(|a| !form.alert.is_empty() && a.fingerprint == form.alert);
    let ack = match silence::ack_from(&form, alert, &who.name, now) {
        Ok(ack) => ack,
        Err(errors) => {
            let values = vec![("reason".into(), form.reason.clone())];
            return refused(&state, extensions, api, &format!("ack-{}", form.alert), errors, values).await;
        }
    };
    let target = format!("{} {}", ack.alertname, ack.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" "));
    let audit = NewAuditEntry::new(
        now,
        &who.name,
        AuditAction::AlertAcknowledged,
        &target,
        &ack.reason,
        format!("fingerprint {}", ack.fingerprint),
    );
    match state.login.control.acknowledge(&ack, audit).await {
        Ok(()) if api => Json(serde_json::json!({ "alert": ack.fingerprint, "acknowledged_by": ack.by })).into_response(),
        Ok(()) => redirect_with_notice(&extensions, "/silences", format!("{target} is acknowledged: no repeats until it resolves.")).await,
        Err(e) => store_error(e).respond(!api),
    }
}

/// `POST /alerts/receivers/{name}/test` and its API twin: a test notification to one direct
/// receiver, from this instance (a secondary too: it checks this region's way out).
pub async fn test_receiver(State(state): State<AppState>, Path(name): Path<String>, request: Request) -> Response {
    let html = !request.uri().path().starts_with("/api/");
    let (extensions, _, who, api) = match read::<NoFields>(request).await {
        Ok(read) => read,
        Err(e) => return e.respond(html),
    };
    if !state.console.alert_board().request_test(&name, &who.name) {
        return ApiError::not_found(format!("direct receiver {name:?} (see [[alerting.webhooks]], slack, pagerduty, email)")).respond(!api);
    }
    let audit = NewAuditEntry::new(now_ms(), &who.name, AuditAction::ReceiverTested, &name, "test notification", String::new());
    if let Err(e) = state.login.control.append_audit(audit).await {
        // A secondary cannot write the control store's audit log; the log line keeps it.
        tracing::info!(error = %e, receiver = %name, by = %who.name, "a receiver test not in the control store's audit log");
    }
    if api {
        return (StatusCode::ACCEPTED, Json(serde_json::json!({ "receiver": name, "queued": true }))).into_response();
    }
    redirect_with_notice(
        &extensions,
        "/silences",
        format!("A test notification to {name} goes out with the next round; its delivery shows on the Alerts page."),
    )
    .await
}
