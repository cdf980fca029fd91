//! `POST /login` and `POST /logout`: plain forms, so they work without JavaScript.

use super::error::ApiError;
use super::gate::{client_address, peer, BODY_LIMIT};
use super::{render_with_outcome, AppState};
use crate::audit::{AuditAction, NewAuditEntry};
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

/// Only a path on this console may be where a login leads: an absolute path of visible ASCII
/// with no `//` and no `\\` anywhere. Browsers drop tabs and newlines from URLs, so
/// `/\t/evil.example` would become `//evil.example`, another origin; and a CR or LF cannot go
/// into a `Location` header at all.
fn safe_next(next: &str) -> &str {
    let visible = next.bytes().all(|b| (0x21..0x7f).contains(&b));
    if visible && next.starts_with('/') && !next.contains("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// A name as the audit log keeps it from a failed login: at most 64 characters (real names are
/// no longer), control characters shown as `?`, and `…` where it was cut.
fn claimed_name(name: &str) -> String {
    let mut kept: String = name.chars().take(64).map(|c| if c.is_control() { '?' } else { c }).collect();
    if name.chars().nth(64).is_some() {
        kept.push('…');
    }
    kept
}

async fn audit(state: &AppState, actor: &str, action: AuditAction, detail: String) {
    let entry = NewAuditEntry::new(now_ms(), actor, action, actor, "", detail);
    match state.login.control.append_audit(entry).await {
        Ok(_) => {}
        // A read-only instance cannot write the control store's audit log; the log line keeps it.
        Err(e @ crate::store::StoreError::ReadOnly { .. }) => {
            tracing::info!(error = %e, %action, actor, "login on a read-only instance, not in the control store's audit log")
        }
        Err(e) => tracing::error!(error = %e, %action, "cannot audit a login"),
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
    let mut form: LoginForm = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    // Names are lower case (config and `user add` refuse others): `Alice` is alice, one
    // account with one set of failure counts.
    form.name = form.name.trim().to_ascii_lowercase();
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
    let nonce = crate::auth::prelogin::PreLogin::nonce_in(&parts.headers);
    let good_token = match &expected {
        Some(r) => same_secret(&r.csrf_token, &form.csrf),
        None => state.login.prelogin.check(nonce.as_deref(), &form.csrf),
    };
    if !good_token {
        // Not audited: anyone can send a form without a token, and the audit log is permanent
        // and replicated. Nothing was tried against the account.
        tracing::info!(%address, "login form with a stale or missing CSRF token");
        return refused("This login form is stale; it has been refreshed. Log in again.", StatusCode::FORBIDDEN, None).await;
    }
    let now = now_ms();
    // Counted before the password is checked, so guesses sent at once cannot all be checked.
    let reserved = state.login.limiter.lock().map_err(|_| 1).and_then(|mut l| l.reserve(&form.name, &address, now));
    let attempt = match reserved {
        Ok(attempt) => attempt,
        Err(seconds) => {
            tracing::info!(name = %claimed_name(&form.name), %address, seconds, "login refused: too many failed logins");
            let message = format!("Too many failed logins. Try again in {seconds} seconds.");
            return refused(&message, StatusCode::TOO_MANY_REQUESTS, Some(seconds)).await;
        }
    };
    let user = state.login.control.user(&form.name).await.ok().flatten().filter(|u| !u.disabled);
    let good = match state.login.passwords.verify(user.as_ref().map(|u| u.password_hash.clone()), form.password.clone()).await {
        Ok(good) => good,
        Err(crate::auth::password::Busy) => {
            // Not the user's fault: give the attempt back.
            if let Ok(mut l) = state.login.limiter.lock() {
                l.succeeded_without_login(&attempt);
            }
            return refused("Too many logins are being checked; try again in a few seconds.", StatusCode::SERVICE_UNAVAILABLE, Some(2))
                .await;
        }
    };
    if !good {
        let budget = state.login.limiter.lock().ok().and_then(|mut l| l.audit_failure(now));
        match budget {
            Some(unwritten) => {
                let mut detail = format!("from {address}: wrong name or password");
                if unwritten > 0 {
                    detail.push_str(&format!(" ({unwritten} failed logins before this one were not recorded one by one)"));
                }
                audit(&state, &claimed_name(&form.name), AuditAction::LoginFailed, detail).await;
            }
            None => tracing::info!(name = %claimed_name(&form.name), %address, "failed login not audited: over the budget for this window"),
        }
        return refused("Wrong name or password.", StatusCode::UNAUTHORIZED, None).await;
    }
    if let Ok(mut l) = state.login.limiter.lock() {
        l.succeeded(&attempt);
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
    audit(&state, &form.name, AuditAction::Login, format!("from {address}")).await;
    Redirect::to(safe_next(&form.next)).into_response()
}

/// `POST /logout`: ends the session at once (the gate has checked its token).
pub async fn logout(State(state): State<AppState>, session: Session, request: Request) -> Response {
    let who = request.extensions().get::<app::auth::Who>().cloned();
    // Flush: deleted from the store, and the browser told to drop the cookie.
    let _ = session.flush().await;
    if let Some(who) = who.filter(|w| !w.anonymous) {
        let address = client_address(peer(request.extensions()), request.headers(), &state.login.trusted_proxies);
        audit(&state, &who.name, AuditAction::Logout, format!("from {address}")).await;
    }
    Redirect::to("/login").into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_login_only_leads_to_this_console() {
        // (next, where the login leads)
        let table = [
            ("/dns", "/dns"),
            ("/dns?status=missing&page=2", "/dns?status=missing&page=2"),
            ("//evil.example", "/"),
            ("https://evil.example", "/"),
            ("/\\evil", "/"),
            ("/\t/evil.example", "/"),
            ("/%09/evil.example", "/%09/evil.example"),
            ("/\r\nSet-Cookie: x=1", "/"),
            ("/a//b", "/"),
            ("/ü", "/"),
            ("dns", "/"),
            ("", "/"),
        ];
        for (next, want) in table {
            assert_eq!(super::safe_next(next), want, "{next:?}");
        }
    }

    #[test]
    fn claimed_names_are_cut_and_cleaned() {
        assert_eq!(super::claimed_name("alice"), "alice");
        assert_eq!(super::claimed_name("a\nb"), "a?b");
        let long = super::claimed_name(&"x".repeat(65_536));
        assert_eq!(long.chars().count(), 65);
        assert!(long.ends_with('…'));
    }
}
