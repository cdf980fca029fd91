//! The action endpoints: HTML forms (`POST /actions`, `/actions/{id}/approve|cancel`) answer
//! with a redirect or the Actions page showing what was wrong; the JSON API
//! (`/api/v1/actions…`) answers with the request or one error shape. The gate has already
//! checked the session, the role and the CSRF token.

use super::error::ApiError;
use super::gate::BODY_LIMIT;
use super::{render_with_outcome, AppState};
use crate::actions::decide::RequestForm;
use crate::actions::ActionError;
use app::action::{ActionRequest, FormOutcome};
use app::auth::Who;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// How a body is encoded.
#[derive(PartialEq)]
enum Encoding {
    Form,
    Json,
}

/// Reads the body as `want` says, or answers 415/413/422 with what is wrong.
async fn read_body(request: Request, want: Encoding) -> Result<(axum::http::request::Parts, RequestForm), ApiError> {
    let (parts, body) = request.into_parts();
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let (expected, ok) = match want {
        Encoding::Form => ("application/x-www-form-urlencoded", content_type.starts_with("application/x-www-form-urlencoded")),
        Encoding::Json => ("application/json", content_type.starts_with("application/json")),
    };
    if !ok {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            format!("send the request as {expected}, not {content_type:?}"),
        ));
    }
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is over {BODY_LIMIT} bytes")))?;
    let form = match want {
        Encoding::Form => serde_urlencoded::from_bytes::<RequestForm>(&bytes).map_err(|e| e.to_string()),
        Encoding::Json => serde_json::from_slice::<RequestForm>(&bytes).map_err(|e| e.to_string()),
    }
    .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", format!("the body is not a request: {e}")))?;
    Ok((parts, form))
}

fn who(parts: &axum::http::request::Parts) -> Result<Who, ApiError> {
    parts.extensions.get::<Who>().cloned().ok_or_else(ApiError::unauthenticated)
}

/// The status that answers an action error.
fn status_of(e: &ActionError) -> StatusCode {
    match e {
        ActionError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ActionError::Refused(r) => StatusCode::from_u16(r.status).unwrap_or(StatusCode::FORBIDDEN),
        ActionError::NotFound(_) => StatusCode::NOT_FOUND,
        ActionError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The API's answer for an action error.
fn api_error(e: ActionError) -> ApiError {
    let status = status_of(&e);
    let mut err = ApiError::new(status, "invalid", e.to_string());
    match e {
        ActionError::Invalid(fields) => err.fields = fields,
        ActionError::Refused(r) => err.code = r.code,
        ActionError::NotFound(_) => err.code = "not_found",
        ActionError::Store(_) => err.code = "store",
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        err.retry_after(30)
    } else {
        err
    }
}

/// Words for a notice after a form.
fn notice(r: &ActionRequest) -> String {
    format!("Request {}: {} for {} is {}.", r.id, r.kind.phrase(), r.site, r.state.as_str())
}

/// Back to the Actions page with a notice (post, redirect, get: a reload never resubmits).
async fn see_actions(extensions: &axum::http::Extensions, notice: String) -> Response {
    super::redirect_with_notice(extensions, "/actions", notice).await
}

/// A form's body and who sent it, or the error page to answer.
async fn read_form(request: Request) -> Result<(axum::http::request::Parts, RequestForm, Who), Response> {
    let (parts, form) = read_body(request, Encoding::Form).await.map_err(ApiError::page)?;
    let who = who(&parts).map_err(ApiError::page)?;
    Ok((parts, form, who))
}

/// The Actions page again, with what a refused form got wrong next to its fields.
async fn refused_form(state: &AppState, extensions: axum::http::Extensions, form: &RequestForm, e: ActionError) -> Response {
    let status = status_of(&e);
    let errors = match e {
        ActionError::Invalid(fields) => fields,
        other => vec![(String::new(), other.to_string())],
    };
    let values =
        [("reason", &form.reason), ("confirmation", &form.confirmation), ("message", &form.message), ("expected_end", &form.expected_end)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
    let outcome = FormOutcome { form: form.site.trim().to_string(), errors, values };
    render_with_outcome(state, extensions, "/actions", outcome, status).await
}

/// `POST /actions` (form).
pub async fn form_request(State(state): State<AppState>, request: Request) -> Response {
    let (parts, form, who) = match read_form(request).await {
        Ok(read) => read,
        Err(page) => return page,
    };
    match state.actions.request(&who, &form).await {
        Ok((r, _)) => see_actions(&parts.extensions, notice(&r)).await,
        Err(e) => refused_form(&state, parts.extensions, &form, e).await,
    }
}

async fn decide(state: &AppState, who: &Who, id: i64, verb: &str) -> Result<ActionRequest, ApiError> {
    match verb {
        "approve" => state.actions.approve(who, id).await.map_err(api_error),
        "cancel" => state.actions.cancel(who, id).await.map_err(api_error),
        other => Err(ApiError::not_found(format!("no such thing to do to a request: {other:?}; expected approve or cancel"))),
    }
}

/// `POST /actions/{id}/approve|cancel` (form).
pub async fn form_decide(State(state): State<AppState>, Path((id, verb)): Path<(i64, String)>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let who = match who(&parts) {
        Ok(w) => w,
        Err(e) => return e.page(),
    };
    match decide(&state, &who, id, &verb).await {
        Ok(r) => see_actions(&parts.extensions, notice(&r)).await,
        Err(e) => {
            let outcome =
                FormOutcome { form: format!("{verb}-{id}"), errors: vec![(String::new(), e.message.clone())], values: Vec::new() };
            render_with_outcome(&state, parts.extensions, "/actions", outcome, e.status).await
        }
    }
}

/// `POST /api/v1/actions` (JSON): 201 with the new request, 200 with the stored one when the
/// idempotency key was seen before.
pub async fn api_request(State(state): State<AppState>, request: Request) -> Response {
    let result = async {
        let (parts, form) = read_body(request, Encoding::Json).await?;
        let who = who(&parts)?;
        state.actions.request(&who, &form).await.map_err(api_error)
    };
    match result.await {
        Ok((r, true)) => (StatusCode::CREATED, Json(r)).into_response(),
        Ok((r, false)) => (StatusCode::OK, Json(r)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/actions/{id}/approve|cancel` (JSON).
pub async fn api_decide(State(state): State<AppState>, Path((id, verb)): Path<(i64, String)>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let result = async {
        let who = who(&parts)?;
        decide(&state, &who, id, &verb).await
    };
    match result.await {
        Ok(r) => Json(r).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /actions/break-glass` (form): maintenance on a secondary, journaled for replay.
pub async fn form_break_glass(State(state): State<AppState>, request: Request) -> Response {
    let (parts, form, who) = match read_form(request).await {
        Ok(read) => read,
        Err(page) => return page,
    };
    match state.actions.break_glass(&who, &form).await {
        Ok(words) => see_actions(&parts.extensions, words).await,
        Err(e) => refused_form(&state, parts.extensions, &form, e).await,
    }
}

/// `POST /actions/break-glass/{key}/approve` (form): a second on-call agrees to a waiting
/// break-glass change on a two-person site.
pub async fn form_glass_approve(State(state): State<AppState>, Path(key): Path<String>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let who = match who(&parts) {
        Ok(w) => w,
        Err(e) => return e.page(),
    };
    match state.actions.approve_break_glass(&who, &key).await {
        Ok(words) => see_actions(&parts.extensions, words).await,
        Err(e) => {
            let status = status_of(&e);
            let outcome = FormOutcome { form: format!("glass-{key}"), errors: vec![(String::new(), e.to_string())], values: Vec::new() };
            render_with_outcome(&state, parts.extensions, "/actions", outcome, status).await
        }
    }
}
