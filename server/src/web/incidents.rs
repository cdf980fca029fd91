//! Incident updates told to the public: `POST /incidents` (the console's form, answered with a
//! redirect or the Incidents page showing what was wrong) and `POST /api/v1/incidents` (JSON,
//! answered with the update or one error shape); `GET /api/v1/incidents` reads them. The gate
//! has checked the session, the role and the CSRF token; the service checks the rest and keeps
//! each update with its audit entry (or journals it under break-glass on a secondary).

use super::error::ApiError;
use super::gate::BODY_LIMIT;
use super::{redirect_with_notice, render_with_outcome, AppState};
use crate::incidents::evaluate::IncidentForm;
use crate::incidents::{IncidentError, Posted};
use crate::store::StoreError;
use app::action::FormOutcome;
use app::api::Console;
use app::auth::Who;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// The page a refused form is shown on again.
const PAGE: &str = "/incidents";

/// `GET /api/v1/incidents`: the status page's components as published here and the incidents.
pub async fn list(State(state): State<AppState>) -> Response {
    Json(state.console.incidents()).into_response()
}

/// `POST /incidents` and `POST /api/v1/incidents`: opens an incident or maintenance, or posts
/// an update to one (`incident` names it).
pub async fn post(State(state): State<AppState>, request: Request) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is over {BODY_LIMIT} bytes")).respond(!api);
    };
    let form = if api {
        if !content_type.starts_with("application/json") {
            let e = format!("send the update as application/json, not {content_type:?}");
            return ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "content_type", e).respond(false);
        }
        serde_json::from_slice::<IncidentForm>(&bytes).map_err(|e| e.to_string())
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes).map(IncidentForm::from_pairs).map_err(|e| e.to_string())
    };
    let form = match form {
        Ok(form) => form,
        Err(e) => {
            return ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("the body is not an incident update: {e}"))
                .respond(!api)
        }
    };
    let Some(who) = parts.extensions.get::<Who>().cloned() else { return ApiError::unauthenticated().respond(!api) };
    let Some(service) = state.console.incident_service() else {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "starting", "incidents are not wired up yet").retry_after(5).respond(!api);
    };
    match service.post(&who, &form).await {
        Ok(posted) if api => {
            let status = if posted.fresh { StatusCode::CREATED } else { StatusCode::OK };
            (status, Json(serde_json::json!({ "update": posted.update, "fresh": posted.fresh, "journaled": posted.journaled })))
                .into_response()
        }
        Ok(posted) => redirect_with_notice(&parts.extensions, PAGE, notice(&posted)).await,
        Err(IncidentError::Invalid(errors)) if api => {
            let message = errors.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; ");
            let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
            e.fields = errors;
            e.respond(false)
        }
        Err(IncidentError::Invalid(errors)) => {
            let which =
                if form.incident.trim().is_empty() { "new-incident".to_string() } else { format!("update-{}", form.incident.trim()) };
            let mut values = vec![
                ("kind".to_string(), form.kind.clone()),
                ("title".into(), form.title.clone()),
                ("state".into(), form.state.clone()),
                ("impact".into(), form.impact.clone()),
                ("body".into(), form.body.clone()),
                ("starts".into(), form.starts.clone()),
                ("duration".into(), form.duration.clone()),
            ];
            values.extend(form.components.iter().map(|c| ("components".to_string(), c.clone())));
            let outcome = FormOutcome { form: which, errors, values };
            render_with_outcome(&state, parts.extensions, PAGE, outcome, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(IncidentError::Refused(r)) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::CONFLICT);
            ApiError::new(status, r.code, r.message).respond(!api)
        }
        Err(IncidentError::Store(e)) => store_error(e).respond(!api),
    }
}

/// What the person is told after a post.
fn notice(posted: &Posted) -> String {
    let u = &posted.update;
    match (posted.fresh, posted.journaled) {
        (false, _) => "That update was posted already (the same form sent twice): nothing new.".to_string(),
        (true, false) => format!("Posted: {} ({}). The status page shows it within a probe interval.", u.state.words(), u.incident),
        (true, true) => format!(
            "Break-glass: {} ({}) is on this region's status page and pending replay into the primary.",
            u.state.words(),
            u.incident
        ),
    }
}

/// What a store failure means to the person who asked.
fn store_error(e: StoreError) -> ApiError {
    let message = if e.is_read_only() {
        "the control store turned read-only under this post: post again (break-glass applies on a secondary whose primary is lost)"
            .to_string()
    } else {
        e.to_string()
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", message).retry_after(30)
}
