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
    let (https, said) = cookie_security(auth.public_url.as_deref(), w.addr);
    match https {
        true => tracing::info!("{said}"),
        false => tracing::warn!("{said}"),
    }
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

/// Whether session cookies are `Secure`, and the sentence start-up logs about it. An https
/// public URL makes them Secure, and nothing turns that off: a browser then never sends the
/// session over plain HTTP.
fn cookie_security(public_url: Option<&str>, listen: std::net::SocketAddr) -> (bool, String) {
    match public_url {
        Some(url) if url.starts_with("https://") => {
            (true, format!("auth.public_url is {url}: session cookies are Secure, sent by browsers over https only"))
        }
        Some(url) => (false, format!("auth.public_url is {url}, not https: session cookies are not Secure; serve the console over TLS")),
        None if listen.ip().is_loopback() => (false, "no auth.public_url: session cookies are not Secure (fine on loopback)".into()),
        None => (
            false,
            format!("no auth.public_url and listening on {listen}: session cookies are not Secure; set an https public_url behind TLS"),
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cookies_are_secure_exactly_when_the_public_url_is_https() {
        let (lo, any): (std::net::SocketAddr, std::net::SocketAddr) = ("127.0.0.1:3000".parse().unwrap(), "0.0.0.0:3000".parse().unwrap());
        // (public url, listen, secure, words)
        let table = [
            (Some("https://crowsnest.example.com"), any, true, "session cookies are Secure"),
            (Some("https://crowsnest.example.com"), lo, true, "over https only"),
            (Some("http://crowsnest.example.com"), any, false, "not https: session cookies are not Secure; serve the console over TLS"),
            (None, lo, false, "fine on loopback"),
            (None, any, false, "listening on 0.0.0.0:3000: session cookies are not Secure"),
        ];
        for (url, listen, secure, words) in table {
            let (got, said) = super::cookie_security(url, listen);
            assert_eq!(got, secure, "{url:?}");
            assert!(said.contains(words), "{said:?} lacks {words:?}");
        }
    }
}
