//! The gate: one layer over the whole router. Every request needs a session unless the route
//! table (`routes.rs`) says its route is public, so a route added later is protected by default. For every
//! state-changing request it checks the role (through `app::auth::refusal`, the one place roles
//! are decided) and the session's synchronizer token. It then has who is logged in filled into
//! each HTML page (`who_slot.rs`), outside the shared (cached) rendering.

use super::error::{wants_html, ApiError};
use super::routes::{self, Access};
use super::who_slot;
use crate::auth::prelogin::PreLogin;
use crate::auth::session::{self, SessionRecord, Timeouts};
use crate::auth::{same_secret, Directory};
use crate::clock::now_ms;
use app::auth::{refusal, LoginToken, Role, Who, CSRF_FIELD, CSRF_HEADER};
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tower_sessions::Session;

/// The client's address: the socket's peer, or the last `X-Forwarded-For` hop when the peer is
/// a trusted proxy (nginx overwrites the header with `$remote_addr`).
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let forwarded = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|v| v.trim().parse::<IpAddr>().ok());
    match (peer, forwarded) {
        (Some(p), Some(f)) if trusted.contains(&p) => f.to_string(),
        (Some(p), _) => p.to_string(),
        (None, _) => "unknown".to_string(),
    }
}

/// The gate's settings and the directory it checks sessions against.
pub struct GateState {
    /// Users by name.
    pub directory: Directory,
    /// Session lifetimes.
    pub timeouts: Timeouts,
    /// Role of visitors without a session, if any (a wall display).
    pub anonymous_role: Option<Role>,
    /// `/metrics` without a session.
    pub public_metrics: bool,
    /// SHA-256 (hex) of the bearer token that may read `/metrics` without a session.
    pub metrics_token_sha256: Option<String>,
    /// Pushing loaders' token hashes.
    pub loader_tokens: crate::backlog::engine::LoaderTokens,
    /// Peers' token hashes.
    pub peer_tokens: crate::peers::PeerTokens,
    /// Login forms' tokens, made without a session.
    pub prelogin: crate::auth::prelogin::PreLogin,
    /// Cookies are `Secure` (the console is served over https).
    pub secure_cookies: bool,
}

/// The bearer token of a request, if it has one.
fn bearer(request: &Request) -> Option<&str> {
    request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}

/// The loader a push path (`/api/v1/loaders/{name}/report`, matched by the route table) names.
fn loader_named(path: &str) -> &str {
    path.trim_start_matches("/api/v1/loaders/").trim_end_matches("/report")
}

/// Bodies the gate reads to find a form's token (and handlers read at most).
pub const BODY_LIMIT: usize = 64 * 1024;

/// Reads the session's record, ending it if it is over. None: nobody logged in.
async fn logged_in(gate: &GateState, session: &Session, now: i64) -> Option<(SessionRecord, Who)> {
    let record: SessionRecord = session.get(session::KEY).await.ok().flatten()?;
    let name = record.user.clone()?;
    let user = gate.directory.get(&name);
    match session::check(&record, user.as_ref(), gate.timeouts, now) {
        Ok(()) => {
            let role = user.map_or(Role::Viewer, |u| u.role);
            let who = Who { name, role, csrf_token: record.csrf_token.clone(), anonymous: false };
            Some((record, who))
        }
        Err(ended) => {
            tracing::info!(user = %name, ?ended, "session ended");
            let _ = session.flush().await;
            None
        }
    }
}

/// The token a state-changing request carries: `X-CSRF-Token`, or the form's `csrf` field (the
/// body is read and put back).
async fn carried_token(request: Request) -> Result<(Request, Option<String>), ApiError> {
    if let Some(token) = request.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let token = token.to_string();
        return Ok((request, Some(token)));
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", format!("the body is over {BODY_LIMIT} bytes")))?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let token = fields.into_iter().find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v);
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// The gate middleware.
pub async fn gate(State(gate): State<Arc<GateState>>, session: Session, mut request: Request, next: Next) -> Response {
    let now = now_ms();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let html = wants_html(request.headers(), &path);
    let policy = routes::of_request(&request);
    match policy.access {
        Access::Loader => {
            // The loader's own token instead of a session.
            if let Err(e) = gate.loader_tokens.check(loader_named(&path), bearer(&request)) {
                return super::api::push_error(e).into_response();
            }
            return next.run(request).await;
        }
        Access::Peer => {
            // A peer's token instead of a session.
            if gate.peer_tokens.check(bearer(&request)).is_none() {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "a peer report needs a configured peer's token: Authorization: Bearer TOKEN",
                )
                .respond(false);
            }
            return next.run(request).await;
        }
        Access::Metrics => {
            // A scraper's token instead of a session.
            if let (Some(want), Some(token)) = (&gate.metrics_token_sha256, bearer(&request)) {
                if same_secret(&crate::auth::token_sha256(token), &want.to_ascii_lowercase()) {
                    return next.run(request).await;
                }
            }
        }
        Access::Public | Access::Read | Access::Operate | Access::Manage => {}
    }
    let found = logged_in(&gate, &session, now).await;
    // Visitors without a session are a wall display when `anonymous_role` is set.
    let anonymous = gate.anonymous_role.map(|role| Who { name: "anonymous".into(), role, csrf_token: String::new(), anonymous: true });
    if policy.access.is_public(gate.public_metrics) {
        // The login form's token: the session's when someone is logged in, else one made from
        // a nonce cookie, with nothing stored (anonymous visitors fill no table).
        let mut new_nonce = None;
        if path == "/login" {
            let token = match &found {
                Some((record, _)) => record.csrf_token.clone(),
                None => match PreLogin::nonce_in(request.headers()) {
                    Some(nonce) => gate.prelogin.token(&nonce),
                    None => {
                        let (nonce, token) = gate.prelogin.issue();
                        new_nonce = Some(nonce);
                        token
                    }
                },
            };
            request.extensions_mut().insert(LoginToken(token));
        }
        // A wall display shows everything anyway; anyone else learns nothing about the instance
        // from a public path.
        if let Some(who) = found.map(|(_, who)| who).or(anonymous) {
            request.extensions_mut().insert(who);
        }
        let mut response = who_slot::fill(next.run(request).await, None).await;
        if let Some(cookie) = new_nonce.and_then(|n| header::HeaderValue::from_str(&PreLogin::cookie(&n, gate.secure_cookies)).ok()) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
        return response;
    }
    let (record, who) = match (found, anonymous) {
        (Some((record, who)), _) => (Some(record), who),
        (None, Some(wall)) => (None, wall),
        (None, None) => return ApiError::unauthenticated().respond(html),
    };
    if !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS) {
        if who.anonymous {
            return ApiError::forbidden("the wall display is read-only; log in to act").respond(html);
        }
        if let Some(why) = refusal(who.role, policy.access.permission()) {
            return ApiError::forbidden(why).respond(html);
        }
        let (back, token) = match carried_token(request).await {
            Ok(found) => found,
            Err(e) => return e.respond(html),
        };
        request = back;
        if !token.is_some_and(|t| same_secret(&t, &who.csrf_token)) {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "csrf",
                "this request does not carry this session's CSRF token (form field `csrf` or header X-CSRF-Token); reload the page and try again",
            )
            .respond(html);
        }
    }
    if method == Method::GET && html {
        // The notice the session's last form left, when the URL names it by its id.
        if let Some(id) = super::notice_id(request.uri().query()) {
            if let Ok(Some((kept, notice))) = session.get::<(String, String)>(super::NOTICE_KEY).await {
                if same_secret(&kept, id) {
                    request.extensions_mut().insert(app::auth::Notice(notice));
                }
            }
        }
    }
    if let Some(record) = record.filter(|r| session::needs_touch(r, gate.timeouts, now)) {
        let _ = session.insert(session::KEY, SessionRecord { seen_at_ms: now, ..record }).await;
    }
    request.extensions_mut().insert(who.clone());
    let response = next.run(request).await;
    who_slot::fill(response, Some(&who)).await
}

/// The peer address of a request, when the server was started with connect info.
pub fn peer(request_extensions: &axum::http::Extensions) -> Option<IpAddr> {
    request_extensions.get::<axum::extract::ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::auth::Permission;

    /// Whether `method path` needs no session (the route table says; a loader's push and a peer's
    /// report check their own bearer token instead).
    fn is_public(method: &Method, path: &str, public_metrics: bool) -> bool {
        routes::policies().of(method, path).access.is_public(public_metrics)
    }

    /// What a state-changing `method path` needs, from the route table.
    fn required(method: &Method, path: &str) -> Permission {
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return Permission::Read;
        }
        routes::policies().of(method, path).access.permission()
    }

    #[test]
    fn the_public_list_is_short_and_exact() {
        let get = Method::GET;
        let post = Method::POST;
        // (method, path, public_metrics, public)
        let table = [
            (&get, "/login", false, true),
            (&post, "/login", false, true),
            (&get, "/healthz", false, true),
            (&get, "/metrics", true, true),
            (&get, "/metrics", false, false),
            (&get, "/pkg/crowsnest.css", false, true),
            (&post, "/pkg/crowsnest.css", false, false),
            (&post, "/api/v1/loaders/loader-sin/report", false, true),
            (&get, "/api/v1/loaders/loader-sin/report", false, false),
            (&post, "/api/v1/loaders//report", false, false),
            (&post, "/api/v1/loaders/a/b/report", false, false),
            (&get, "/api/v1/peer/report", false, true),
            (&post, "/api/v1/peer/report", false, false),
            (&get, "/api/v1/peer/report/x", false, false),
            (&get, "/", false, false),
            (&get, "/topology", false, false),
            (&get, "/api/v1/topology", false, false),
            (&post, "/actions", false, false),
            (&get, "/login/../topology", false, false),
            (&get, "/new-route-added-later", false, false),
        ];
        for (method, path, metrics, want) in table {
            assert_eq!(is_public(method, path, metrics), want, "{method} {path}");
        }
    }

    #[test]
    fn every_write_needs_its_permission_and_unknown_writes_need_the_most() {
        // (method, path, permission)
        let table = [
            (Method::GET, "/actions", Permission::Read),
            (Method::POST, "/logout", Permission::Read),
            (Method::POST, "/actions", Permission::OperateSites),
            (Method::POST, "/actions/3/approve", Permission::OperateSites),
            (Method::POST, "/api/v1/actions", Permission::OperateSites),
            (Method::POST, "/api/topology", Permission::Read),
            (Method::POST, "/api/v1/something-new", Permission::ManageUsers),
            (Method::DELETE, "/anything", Permission::ManageUsers),
        ];
        for (method, path, want) in table {
            assert_eq!(required(&method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let proxy: IpAddr = "127.0.0.9".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "198.51.100.7, 203.0.113.5".parse().unwrap());
        assert_eq!(client_address(Some(proxy), &headers, &[proxy]), "203.0.113.5");
        assert_eq!(client_address(Some("127.0.0.2".parse().unwrap()), &headers, &[proxy]), "127.0.0.2");
        assert_eq!(client_address(Some(proxy), &HeaderMap::new(), &[proxy]), "127.0.0.9");
    }
}
