//! Building the web front: Leptos' options for the built site, the session and same-origin
//! layers, the gate's and the login's state, and the router with every layer over it.

use super::{Site, StartError};
use crate::actions::ActionService;
use crate::auth::session_cache::CachedStore;
use crate::auth::{Directory, LoginLimiter, Passwords, Timeouts};
use crate::config::Estate;
use crate::console::ConsoleState;
use crate::engines::Engine;
use crate::mode::ModeWatch;
use crate::store::{ControlStore, LocalStore};
use crate::web::gate::GateState;
use crate::web::{self, AppState, LoginState, Shared};
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use tower_http::csrf::CsrfLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::SqliteStore;

/// What the web front is built from.
pub(super) struct WebInputs {
    /// The config.
    pub(super) estate: Arc<Estate>,
    /// The built site.
    pub(super) site: Site,
    /// The address really bound.
    pub(super) addr: SocketAddr,
    /// Flips to true at shutdown (event streams end).
    pub(super) stopping: watch::Receiver<bool>,
    /// What the pages read.
    pub(super) console: Arc<ConsoleState>,
    /// Guarded actions.
    pub(super) actions: ActionService,
    /// Users by name.
    pub(super) directory: Directory,
    /// Control state (logins read users from it).
    pub(super) control: ControlStore,
    /// Sessions live here.
    pub(super) local: LocalStore,
    /// The read-only layer's mode.
    pub(super) mode: ModeWatch,
    /// The engines' round clocks.
    pub(super) engines: Vec<Arc<Engine>>,
}

/// The router with every layer over it.
pub(super) fn build(w: WebInputs) -> Result<Router, StartError> {
    let leptos_options = LeptosOptions::builder()
        .output_name("crowsnest")
        .site_root(w.site.root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(w.addr)
        .build();
    let bundle = w.site.root.join("pkg").join("crowsnest.js");
    if !bundle.exists() {
        tracing::warn!(
            site_root = %w.site.root.display(),
            "no {} here: pages render but will not hydrate or update live; \
             build with `scripts/build-site.sh` or pass --site-root",
            bundle.display()
        );
    }
    let auth = &w.estate.auth;
    let https = auth.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    let sessions = SessionManagerLayer::new(CachedStore::new(SqliteStore::new(w.local.pool())))
        .with_name("crowsnest_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(auth.idle_timeout_seconds as i64)));
    let mut csrf = CsrfLayer::new();
    if let Some(origin) = &auth.public_url {
        csrf = csrf.add_trusted_origin(origin.trim_end_matches('/')).map_err(|e| StartError::Io {
            what: format!("auth.public_url {origin:?} is not an origin"),
            source: std::io::Error::other(e.to_string()),
        })?;
    }
    let prelogin = crate::auth::prelogin::PreLogin::default();
    let gate = Arc::new(GateState {
        directory: w.directory.clone(),
        timeouts: Timeouts { idle_ms: auth.idle_timeout_seconds as i64 * 1000, absolute_ms: auth.absolute_timeout_seconds as i64 * 1000 },
        anonymous_role: auth.anonymous_role,
        public_metrics: auth.public_metrics,
        metrics_token_sha256: auth.metrics_token_sha256.clone(),
        loader_tokens: crate::backlog::engine::LoaderTokens::from_estate(&w.estate),
        peer_tokens: crate::peers::PeerTokens::from_estate(&w.estate),
        prelogin: prelogin.clone(),
        secure_cookies: https,
    });
    let login = Arc::new(LoginState {
        control: w.control,
        passwords: Passwords::new(auth.concurrent_password_checks),
        limiter: std::sync::Mutex::new(LoginLimiter::new(crate::auth::limit::Limits {
            per_account_address: auth.max_failures_per_account,
            per_address: auth.max_failures_per_address,
            account_backoff_after: auth.account_backoff_after,
            window_ms: auth.failure_window_seconds as i64 * 1000,
        })),
        trusted_proxies: auth.trusted_proxies.clone(),
        directory: w.directory,
        prelogin,
    });
    let state = AppState::new(Shared {
        leptos_options,
        console: w.console,
        shutdown: w.stopping,
        sse_clients: Default::default(),
        streams_per_session: Default::default(),
        actions: w.actions,
        login,
        engines: w.engines,
    });
    let policy = (
        Arc::new(web::headers::HeaderPolicy { hsts: https }),
        Arc::new(web::host::AllowedHosts::new(auth.public_url.as_deref(), &auth.allowed_hosts)),
    );
    Ok(web::router(state, gate, sessions, csrf, w.mode, policy))
}
