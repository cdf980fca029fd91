//! `POST /admin/users` (add) and `POST /admin/users/{name}/disable|enable`: admin-only forms
//! (the gate requires the admin role for them), each change audited.

use super::error::ApiError;
use super::gate::BODY_LIMIT;
use super::{render_with_outcome, AppState};
use crate::audit::{AuditAction, NewAuditEntry};
use crate::clock::now_ms;
use crate::store::UserChange;
use app::action::FormOutcome;
use app::auth::Who;
use axum::body::to_bytes;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;

#[derive(serde::Deserialize, Default)]
struct NewUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

async fn done(extensions: &axum::http::Extensions, notice: String) -> Response {
    super::redirect_with_notice(extensions, "/admin/users", notice).await
}

fn entry(who: &Who, action: AuditAction, target: &str, detail: String) -> NewAuditEntry {
    NewAuditEntry::new(now_ms(), &who.name, action, target, "", detail)
}

/// `POST /admin/users`: adds a managed user.
pub async fn add(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(who) = parts.extensions.get::<Who>().cloned() else { return ApiError::unauthenticated().page() };
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the form is too large").page();
    };
    let form: NewUser = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let refused = |errors: Vec<(String, String)>, status| {
        let outcome = FormOutcome { form: "add-user".into(), errors, values: vec![("name".into(), form.name.clone())] };
        render_with_outcome(&state, parts.extensions.clone(), "/admin/users", outcome, status)
    };
    let role = match crate::auth::check_new_user(form.name.trim(), &form.role, &form.password) {
        Ok(role) => role,
        Err(errors) => return refused(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let password = form.password.clone();
    let hash = match tokio::task::spawn_blocking(move || crate::auth::password::hash(&password)).await {
        Ok(Ok(hash)) => hash,
        _ => return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "hash", "cannot hash the password; try again").page(),
    };
    let name = form.name.trim();
    let audit = entry(&who, AuditAction::UserAdded, name, format!("role {}", role.as_str()));
    match state.login.control.add_user(name, role, &hash, audit).await {
        Ok(true) => {
            let _ = state.login.directory.refresh(&state.login.control).await;
            done(&parts.extensions, format!("Added {name} ({}).", role.as_str())).await
        }
        Ok(false) => refused(vec![("name".into(), format!("there is already a user {name:?}"))], StatusCode::CONFLICT).await,
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).page(),
    }
}

/// `POST /admin/users/{name}/disable|enable`: a managed user's standing; disabling ends their
/// sessions.
pub async fn standing(State(state): State<AppState>, Path((name, verb)): Path<(String, String)>, request: Request) -> Response {
    let Some(who) = request.extensions().get::<Who>().cloned() else { return ApiError::unauthenticated().page() };
    let disabled = match verb.as_str() {
        "disable" => true,
        "enable" => false,
        other => return ApiError::not_found(format!("no such change {other:?}; expected disable or enable")).page(),
    };
    let user = match state.login.control.user(&name).await {
        Ok(Some(u)) => u,
        Ok(None) => return ApiError::not_found(format!("there is no user {name:?}")).page(),
        Err(e) => return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).page(),
    };
    if !user.managed {
        return ApiError::new(StatusCode::CONFLICT, "config_user", format!("{name} comes from the config's [[users]]; change it there"))
            .page();
    }
    if name == who.name && disabled {
        return ApiError::new(StatusCode::CONFLICT, "self", "you cannot disable yourself; ask another admin").page();
    }
    let action = if disabled { AuditAction::UserDisabled } else { AuditAction::UserEnabled };
    match state.login.control.change_user(&name, UserChange::Disabled(disabled), entry(&who, action, &name, String::new())).await {
        Ok(_) => {
            let _ = state.login.directory.refresh(&state.login.control).await;
            done(request.extensions(), format!("{name} is {}.", if disabled { "disabled; their sessions have ended" } else { "enabled" }))
                .await
        }
        Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "store", e.to_string()).page(),
    }
}
