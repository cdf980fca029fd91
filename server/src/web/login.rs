//! `POST /login` and `POST /logout`: plain forms, so they work without JavaScript.

use super::error::ApiError;
use super::gate::{client_address, peer, BODY_LIMIT};
use super::{render_with_outcome, AppState};
use crate::audit::NewAuditEntry;
use crate::auth::session::{self, SessionRecord};
use crate::auth::{random_token, same_secret};
use crate::clock::now_ms;
use app::action::FormOutcome;
use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

/// The login form.
#[derive(serde::Deserialize, Default)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only a path on this console may be where a login leads.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

async fn audit(state: &AppState, actor: &str, action: &str, detail: String) {
    let entry = NewAuditEntry {
        at_ms: now_ms(),
        actor: actor.to_string(),
        action: action.to_string(),
        target: actor.to_string(),
        reason: String::new(),
        detail,
    };
    match state.login.control.append_audit(entry).await {
        Ok(_) => state.actions.changed(),
        // A read-only instance cannot write the control store's audit log; the log line keeps it.
        Err(e @ crate::store::StoreError::ReadOnly { .. }) => {
            tracing::info!(error = %e, action, actor, "login on a read-only instance, not in the control store's audit log")
        }
        Err(e) => tracing::error!(error = %e, action, "cannot audit a login"),
    }
}

/// `POST /login`: checks the form's token, the failure limits and the password; on success a
/// new session id (no fixation) and a new CSRF token.
pub async fn login(State(state): State<AppState>, session: Session, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let address = client_address(peer(&parts.extensions), &parts.headers, &state.login.trusted_proxies);
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "log in with a form: application/x-www-form-urlencoded with name, password and csrf",
        )
        .respond(true);
    }
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the login form is too large").respond(true);
    };
    let form: LoginForm = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let refused = |message: &str, status: StatusCode, retry: Option<u64>| {
        let outcome = FormOutcome {
            form: "login".into(),
            errors: vec![(String::new(), message.to_string())],
            values: vec![("name".into(), form.name.clone()), ("next".into(), form.next.clone())],
        };
        let extensions = parts.extensions.clone();
        let state = state.clone();
        async move {
            let mut response = render_with_outcome(&state, extensions, "/login", outcome, status).await;
            if let Some(s) = retry {
                response.headers_mut().insert(header::RETRY_AFTER, s.into());
            }
            response
        }
    };
    let expected: Option<SessionRecord> = session.get(session::KEY).await.ok().flatten();
    if !expected.as_ref().is_some_and(|r| same_secret(&r.csrf_token, &form.csrf)) {
        audit(&state, &form.name, "login_failed", format!("from {address}: the form's CSRF token did not match")).await;
        return refused("This login form is stale; it has been refreshed. Log in again.", StatusCode::FORBIDDEN, None).await;
    }
    let now = now_ms();
    let wait = state.login.limiter.lock().ok().and_then(|mut l| l.retry_after(&form.name, &address, now));
    if let Some(seconds) = wait {
        audit(&state, &form.name, "login_failed", format!("from {address}: too many failed logins; refused for {seconds} s")).await;
        let message = format!("Too many failed logins. Try again in {seconds} seconds.");
        return refused(&message, StatusCode::TOO_MANY_REQUESTS, Some(seconds)).await;
    }
    let user = state.login.control.user(&form.name).await.ok().flatten().filter(|u| !u.disabled);
    let good = state.login.passwords.verify(user.as_ref().map(|u| u.password_hash.clone()), form.password.clone()).await;
    if !good {
        if let Ok(mut l) = state.login.limiter.lock() {
            l.failed(&form.name, &address, now);
        }
        audit(&state, &form.name, "login_failed", format!("from {address}: wrong name or password")).await;
        return refused("Wrong name or password.", StatusCode::UNAUTHORIZED, None).await;
    }
    if let Ok(mut l) = state.login.limiter.lock() {
        l.succeeded(&form.name);
    }
    // A new id at login: an id planted before login is worthless after it.
    if let Err(e) = session.cycle_id().await {
        tracing::error!(error = %e, "cannot rotate the session id");
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "session", "cannot start a session; try again").respond(true);
    }
    let record = SessionRecord { user: Some(form.name.clone()), csrf_token: random_token(), login_at_ms: now, seen_at_ms: now };
    if let Err(e) = session.insert(session::KEY, &record).await {
        tracing::error!(error = %e, "cannot store the session");
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "session", "cannot start a session; try again").respond(true);
    }
    let _ = state.login.directory.refresh(&state.login.control).await;
    audit(&state, &form.name, "login", format!("from {address}")).await;
    Redirect::to(safe_next(&form.next)).into_response()
}

/// `POST /logout`: ends the session at once (the gate has checked its token).
pub async fn logout(State(state): State<AppState>, session: Session, request: Request) -> Response {
    let who = request.extensions().get::<app::auth::Who>().cloned();
    // Flush: deleted from the store, and the browser told to drop the cookie.
    let _ = session.flush().await;
    if let Some(who) = who.filter(|w| !w.anonymous) {
        let address = client_address(peer(request.extensions()), request.headers(), &state.login.trusted_proxies);
        audit(&state, &who.name, "logout", format!("from {address}")).await;
    }
    Redirect::to("/login").into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_login_only_leads_to_this_console() {
        for (next, want) in [("/dns", "/dns"), ("//evil.example", "/"), ("https://evil.example", "/"), ("/\\evil", "/"), ("", "/")] {
            assert_eq!(super::safe_next(next), want, "{next}");
        }
    }
}
