//! The HTTP surface, one edge: the gate (sessions, roles, CSRF) over every route, Leptos pages,
//! the forms that log in and act, the JSON API, the live event stream, `/healthz` and `/metrics`.
//!
//! Layers, outermost first: the front door (a wall display's cached page, answered before the
//! rest: `front.rs`), the security headers, the host check, time and body limits, cookies and
//! sessions, the same-origin check (tower-http's CSRF layer on `Sec-Fetch-Site` / `Origin`),
//! the route table's policy for the request (`routes.rs`), the gate, the read-only layer (a
//! secondary refuses writes), the page cache, then the routes.

pub mod actions;
pub mod api;
pub mod error;
pub mod events;
pub mod front;
pub mod gate;
pub mod headers;
pub mod host;
pub mod incidents;
pub mod login;
pub mod metrics;
pub mod page_cache;
pub mod read_only;
pub mod routes;
pub mod serve;
pub mod silences;
pub mod users;
pub mod who_slot;

use crate::actions::ActionService;
use crate::auth::{LoginLimiter, Passwords};
use crate::clock::now_ms;
use crate::console::ConsoleState;
use crate::store::ControlStore;
use app::action::FormOutcome;
use app::api::SharedConsole;
use app::live::RenderedAt;
use app::{shell, App};
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, Request};
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use page_cache::{Freshness, PageCache};

use axum::Router;
use futures::StreamExt;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::IpAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Largest page body the server buffers (to fill the who-slot or to cache); larger pages are
/// streamed as they are.
pub const MAX_BUFFERED_PAGE: usize = 16 * 1024 * 1024;

/// Application state shared by every handler: one pointer, because axum clones the state into
/// every request (a clone of all the fields below cost a tenth of a cached page's time).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    /// The state, shared.
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// What every handler reads through [`AppState`].
pub struct Shared {
    /// Leptos' own options (site root, output name, address).
    pub leptos_options: LeptosOptions,
    /// The console the pages read.
    pub console: Arc<ConsoleState>,
    /// Flips to true when the server is shutting down, so event streams end.
    pub shutdown: watch::Receiver<bool>,
    /// Browsers connected to the event stream.
    pub sse_clients: Arc<AtomicUsize>,
    /// Event streams open per session (or per address for a wall display).
    pub streams_per_session: Arc<Mutex<std::collections::HashMap<String, usize>>>,
    /// Guarded actions.
    pub actions: ActionService,
    /// Logins: passwords, failure limits, the audit log.
    pub login: Arc<LoginState>,
    /// The engines' round clocks, for `/healthz` and `/metrics`.
    pub engines: Vec<Arc<crate::engines::Engine>>,
}

/// What the login handler needs.
pub struct LoginState {
    /// Users, hashes and roles.
    pub control: ControlStore,
    /// Password checks off the async threads.
    pub passwords: Passwords,
    /// Failed logins per account and address.
    pub limiter: Mutex<LoginLimiter>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Refreshed right after a login, so a new user's session is seen at once.
    pub directory: crate::auth::Directory,
    /// Checks the login form's token when nobody is logged in (the gate made it).
    pub prelogin: crate::auth::prelogin::PreLogin,
}

/// Builds the router with the gate (`gate`) and the session layer (`sessions`) over it.
pub fn router(
    state: AppState,
    gate: Arc<gate::GateState>,
    sessions: tower_sessions::SessionManagerLayer<crate::auth::session_cache::CachedStore<tower_sessions_sqlx_store::SqliteStore>>,
    csrf: tower_http::csrf::CsrfLayer,
    mode: crate::mode::ModeWatch,
    policy: (Arc<headers::HeaderPolicy>, Arc<host::AllowedHosts>),
) -> Router {
    let pages = generate_route_list(App);
    let options = state.leptos_options.clone();
    let console = state.console.clone();
    let cache = PageCache::new(move || Freshness { round: console.generation(), second: now_ms() / 1000 });
    let context = page_context(&state);
    let request_timeout = std::time::Duration::from_secs(state.console.estate().instance.request_timeout_seconds);
    let mut router = Router::new();
    for route in routes::table() {
        router = router.route(route.path, route.handler);
    }
    let door = front::FrontDoor {
        cache: cache.clone(),
        headers: policy.0.clone(),
        hosts: policy.1.clone(),
        wall: gate.anonymous_role.map(who_slot::wall),
    };
    let routed = router
        .leptos_routes_with_context(&state, pages, context, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    // The layers wrap the routed app once, not each route: `Router::layer` puts the whole stack
    // on every route, and each middleware clones what is under it per request, so a request
    // paid for cloning (and dropping) ten layers' state. Over the whole router each layer
    // clones only the next one, and the router itself is an Arc.
    let layered = tower::ServiceBuilder::new()
        .layer(axum::middleware::from_fn_with_state(policy.0, headers::secure))
        .layer(axum::middleware::from_fn_with_state(policy.1, host::check))
        // Every body bounded (413), every request answered or refused in time (408).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(gate::BODY_LIMIT))
        .map_request(|r: axum::http::Request<_>| r.map(axum::body::Body::new))
        .layer(sessions)
        .layer(axum::middleware::from_fn(error::explain_cross_origin))
        .layer(csrf)
        .layer(axum::middleware::from_fn(routes::classify))
        .layer(axum::middleware::from_fn_with_state(gate, gate::gate))
        .layer(axum::middleware::from_fn_with_state(mode, read_only::refuse_writes))
        .layer(axum::middleware::from_fn_with_state(cache, page_cache::serve))
        .service(routed);
    Router::new().fallback_service(tower::Layer::layer(&front::FrontLayer(Arc::new(door)), layered))
}

/// What every rendered page gets in its context.
fn page_context(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let shared: SharedConsole = state.console.clone();
    let console = state.console.clone();
    move || {
        provide_context(shared.clone());
        provide_context(RenderedAt(console.generation()));
    }
}

/// Renders the page at `path` in answer to a form, with what the form got wrong, and `status`.
/// The request's extensions (who is logged in, the login token) go with it.
pub async fn render_with_outcome(
    state: &AppState,
    extensions: axum::http::Extensions,
    path: &'static str,
    outcome: FormOutcome,
    status: StatusCode,
) -> Response {
    let base = page_context(state);
    let context = move || {
        base();
        provide_context(outcome.clone());
    };
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_async_with_context(context, move || shell(options.clone()));
    let mut request = Request::new(Body::empty());
    *request.method_mut() = Method::GET;
    *request.uri_mut() = Uri::from_static(path);
    *request.extensions_mut() = extensions;
    let mut response = render(request).await;
    *response.status_mut() = status;
    response
}

/// Session key of the notice a form leaves for the page it leads to: `(id, words)`.
pub const NOTICE_KEY: &str = "crowsnest.notice";

/// Longest notice kept, in characters.
const NOTICE_MAX_CHARS: usize = 500;

/// Leaves `notice` in the session under a fresh id and redirects to `to?notice=ID` (post,
/// redirect, get: a reload never resubmits). The words never travel in the URL: the page shows
/// them only when the id is this session's latest, so a link cannot put words on someone's
/// page, and a live refresh of the same URL keeps showing them.
pub async fn redirect_with_notice(extensions: &axum::http::Extensions, to: &'static str, notice: String) -> Response {
    use axum::response::IntoResponse;
    let id = crate::auth::random_token()[..16].to_string();
    if let Some(session) = extensions.get::<tower_sessions::Session>() {
        let notice: String = notice.chars().take(NOTICE_MAX_CHARS).collect();
        if let Err(e) = session.insert(NOTICE_KEY, (id.clone(), notice)).await {
            tracing::warn!(error = %e, "cannot keep a form's notice in the session");
        }
    }
    axum::response::Redirect::to(&format!("{to}?notice={id}")).into_response()
}

/// The notice id a page's query names, if any.
pub fn notice_id(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|pair| pair.strip_prefix("notice=")).filter(|id| id.len() == 16)
}

/// Where `needle` first occurs in `haystack` (the who-slot in a page, a page's scripts). Every
/// page is searched twice per request, so this is memchr's vectorised search, not a byte-by-byte
/// window compare.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Reads a body up to `limit` bytes. A longer body comes back as what was read plus the rest of
/// the stream, so the caller can still send it whole. A body of one chunk (a cached page) comes
/// back as that chunk, uncopied.
pub async fn buffer(body: Body, limit: usize) -> Result<Bytes, (Bytes, futures::stream::BoxStream<'static, Result<Bytes, axum::Error>>)> {
    fn joined(mut chunks: Vec<Bytes>) -> Bytes {
        match chunks.len() {
            1 => chunks.remove(0),
            _ => Bytes::from(chunks.concat()),
        }
    }
    let mut stream = body.into_data_stream();
    let (mut chunks, mut read) = (Vec::new(), 0);
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => {
                read += chunk.len();
                chunks.push(chunk);
                if read > limit {
                    return Err((joined(chunks), stream.boxed()));
                }
            }
            Err(e) => return Err((joined(chunks), futures::stream::once(async move { Err(e) }).boxed())),
        }
    }
    Ok(joined(chunks))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static str]) -> Body {
        let parts: Vec<Result<Bytes, std::io::Error>> = parts.iter().map(|p| Ok(Bytes::from_static(p.as_bytes()))).collect();
        Body::from_stream(futures::stream::iter(parts))
    }

    #[tokio::test]
    async fn a_body_is_read_whole_or_handed_back_with_its_rest() {
        // One chunk comes back as it is, not copied.
        let page = Bytes::from_static(b"<html>one chunk</html>");
        let read = buffer(Body::from(page.clone()), 100).await.ok().unwrap();
        assert_eq!((read.as_ptr(), read.len()), (page.as_ptr(), page.len()));
        // Several chunks are joined.
        assert_eq!(buffer(chunks(&["ab", "cd", "", "ef"]), 100).await.ok().unwrap(), "abcdef");
        // Past the limit: what was read, and the rest still to send.
        let Err((head, rest)) = buffer(chunks(&["abc", "def", "ghi"]), 4).await else { panic!("over the limit") };
        let rest: Vec<Bytes> = rest.map(|c| c.unwrap()).collect().await;
        assert_eq!((head, rest), (Bytes::from_static(b"abcdef"), vec![Bytes::from_static(b"ghi")]));
        let Err((head, _)) = buffer(chunks(&["abcdef"]), 4).await else { panic!("over the limit") };
        assert_eq!(head, "abcdef");
    }
}
