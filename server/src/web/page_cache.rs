//! A micro-cache for server-rendered pages.
//!
//! A page's content only changes when a probe round lands (or, for staleness, as time passes),
//! so a rendered page is reused for requests in the same probe round and the same second.
//! Rendered pages carry nothing personal: who is logged in is filled into the banner by the
//! gate, outside this cache. Pages that are personal anyway (forms with tokens) say so with
//! `Cache-Control: no-store` and are never kept, nor is any response that sets a cookie. Only
//! `200 OK` HTML responses to plain GETs are cached; a page too large to keep is served as is.

use super::routes::Policy;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Pages larger than this are not cached (and still served).
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// What makes two requests share a rendering: same path, same probe round, same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Probe rounds completed.
    pub round: u64,
    /// Unix seconds.
    pub second: i64,
}

/// One kept rendering: when it was rendered, the page, its content type, its Content Security
/// Policy (the inline scripts hashed once per rendering, not once per request) and where its
/// who-slot is (found once too).
#[derive(Clone)]
pub struct Kept {
    fresh: Freshness,
    /// The page as rendered, its who-slot unfilled.
    pub body: Bytes,
    /// Its `Content-Type`.
    pub content_type: HeaderValue,
    /// Its `Content-Security-Policy`.
    pub csp: Option<HeaderValue>,
    /// Where its who-slot starts, if it has one.
    pub slot: Option<usize>,
}

/// Cached renderings by path.
#[derive(Clone)]
pub struct PageCache {
    pages: Arc<Mutex<HashMap<String, Kept>>>,
    freshness: Arc<dyn Fn() -> Freshness + Send + Sync>,
}

impl PageCache {
    /// A cache whose entries are valid while `freshness()` returns the same value.
    pub fn new(freshness: impl Fn() -> Freshness + Send + Sync + 'static) -> Self {
        PageCache { pages: Arc::default(), freshness: Arc::new(freshness) }
    }

    /// The rendering of `path` kept for this round and second, if there is one.
    pub fn kept(&self, path: &str) -> Option<Kept> {
        let now = (self.freshness)();
        self.pages.lock().ok()?.get(path).filter(|k| k.fresh == now).cloned()
    }
}

/// A plain GET (no query) of a route the route table calls cacheable.
fn cacheable(request: &Request) -> bool {
    request.method() == Method::GET && request.uri().query().is_none() && request.extensions().get::<Policy>().is_some_and(|p| p.cacheable)
}

/// Axum middleware: serve from the cache or render and remember.
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    if !cacheable(&request) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    let now = (cache.freshness)();
    if let Some(kept) = cache.kept(&path) {
        let mut response = ([(header::CONTENT_TYPE, kept.content_type)], kept.body).into_response();
        if let Some(csp) = kept.csp {
            response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        return response;
    }
    let response = next.run(request).await;
    let is_html = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    let personal = response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("no-store") || v.contains("private")));
    if response.status() != StatusCode::OK || !is_html || personal || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = match crate::web::buffer(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => bytes,
        // Too large to keep: sent whole, uncached.
        Err((head, rest)) => {
            let stream = futures::stream::once(async move { Ok::<_, axum::Error>(head) }).chain(rest);
            return Response::from_parts(parts, Body::from_stream(stream));
        }
    };
    let mut parts = parts;
    let csp = super::headers::page_csp(&bytes);
    if let Some(csp) = &csp {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    }
    if let (Some(content_type), Ok(mut pages)) = (parts.headers.get(header::CONTENT_TYPE), cache.pages.lock()) {
        // Entries of an older round or second can never be served again: dropping them keeps
        // the cache to the pages rendered in this one.
        pages.retain(|_, k| k.fresh == now);
        let slot = super::who_slot::find(&bytes);
        pages.insert(path, Kept { fresh: now, body: bytes.clone(), content_type: content_type.clone(), csp, slot });
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use axum::Router;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tower::ServiceExt;

    /// A router whose pages count their renders, behind the cache, fresh for round 1, second 1.
    fn app(renders: Arc<AtomicU64>) -> Router {
        app_at(renders, Arc::new(AtomicU64::new(1)), Arc::new(AtomicU64::new(1)))
    }

    /// The same, with the round and second read from `round` and `second`.
    fn app_at(renders: Arc<AtomicU64>, round: Arc<AtomicU64>, second: Arc<AtomicU64>) -> Router {
        let html = |body: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body);
        let count = move || {
            let n = renders.fetch_add(1, Ordering::SeqCst) + 1;
            html(format!("render {n}"))
        };
        let (c1, c2, c3, c4) = (count.clone(), count.clone(), count.clone(), count.clone());
        let (c5, c6, c7) = (count.clone(), count.clone(), count.clone());
        let freshness = move || Freshness { round: round.load(Ordering::SeqCst), second: second.load(Ordering::SeqCst) as i64 };
        Router::new()
            .route("/api/v1/thing", get(move || async move { c5() }))
            .route("/pkg/thing", get(move || async move { c6() }))
            .route("/form", get(move || async move { c7() }).post(|| async { ([(header::CONTENT_TYPE, "text/html")], "posted") }))
            .route("/page", get(move || async move { c1() }))
            .route("/personal", get(move || async move { ([(header::CACHE_CONTROL, "private, no-store")], c2()) }))
            .route("/cookie", get(move || async move { ([(header::SET_COOKIE, "a=b")], c3()) }))
            .route("/missing", get(move || async move { (StatusCode::NOT_FOUND, c4()) }))
            .route("/huge", get(|| async { ([(header::CONTENT_TYPE, "text/html")], "x".repeat(MAX_PAGE_BYTES + 10)) }))
            .layer(axum::middleware::from_fn_with_state(PageCache::new(freshness), serve))
            .layer(axum::middleware::from_fn(mark_pages))
    }

    /// What the route table would say: the test's JSON and file routes are not pages.
    async fn mark_pages(mut request: Request, next: Next) -> Response {
        let path = request.uri().path();
        let page = !path.starts_with("/api/") && !path.starts_with("/pkg/");
        let access = crate::web::routes::Access::Read;
        request.extensions_mut().insert(Policy { access, on_secondary: true, cacheable: page });
        next.run(request).await
    }

    async fn fetch(app: &Router, uri: &str, cookie: bool) -> (StatusCode, String) {
        let mut request = Request::builder().uri(uri);
        if cookie {
            request = request.header(header::COOKIE, "crowsnest_session=x");
        }
        let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn what_is_kept_and_what_is_rendered_again() {
        let renders = Arc::new(AtomicU64::new(0));
        let app = app(renders.clone());
        // (uri, with a cookie, expected body): a cached page is the same rendering for everyone.
        let table = [
            ("/page", false, "render 1"),
            ("/page", true, "render 1"),
            ("/page?q=1", false, "render 2"),
            ("/personal", true, "render 3"),
            ("/personal", true, "render 4"),
            ("/page", false, "render 1"),
        ];
        for (uri, cookie, want) in table {
            assert_eq!(fetch(&app, uri, cookie).await, (StatusCode::OK, want.to_string()), "{uri} cookie={cookie}");
        }
        // Responses that set a cookie or are not 200 are never kept (and still served).
        assert_eq!(fetch(&app, "/cookie", false).await.1, "render 5");
        assert_eq!(fetch(&app, "/cookie", false).await.1, "render 6");
        assert_eq!(fetch(&app, "/missing", false).await, (StatusCode::NOT_FOUND, "render 7".to_string()));
        assert_eq!(fetch(&app, "/missing", false).await, (StatusCode::NOT_FOUND, "render 8".to_string()));
        // A page too large to keep is served whole, uncached, never refused.
        let (status, body) = fetch(&app, "/huge", false).await;
        assert_eq!((status, body.len()), (StatusCode::OK, MAX_PAGE_BYTES + 10));
        // The API and the shipped files are never kept, however often they are asked.
        assert_eq!(fetch(&app, "/api/v1/thing", false).await.1, "render 9");
        assert_eq!(fetch(&app, "/api/v1/thing", false).await.1, "render 10");
        assert_eq!(fetch(&app, "/pkg/thing", false).await.1, "render 11");
        assert_eq!(fetch(&app, "/pkg/thing", false).await.1, "render 12");
        // A POST goes through, and does not replace the GET's rendering.
        assert_eq!(fetch(&app, "/form", false).await.1, "render 13");
        let post = Request::builder().method(Method::POST).uri("/form").body(Body::empty()).unwrap();
        let posted = axum::body::to_bytes(app.clone().oneshot(post).await.unwrap().into_body(), usize::MAX).await.unwrap();
        assert_eq!(&posted[..], b"posted");
        assert_eq!(fetch(&app, "/form", false).await.1, "render 13");
    }

    #[tokio::test]
    async fn a_rendering_lasts_one_round_and_one_second() {
        let (renders, round, second) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(1)), Arc::new(AtomicU64::new(1)));
        let app = app_at(renders, round.clone(), second.clone());
        // (round, second, expected body)
        let table = [
            (1, 1, "render 1"),
            (1, 1, "render 1"),
            (2, 1, "render 2"),
            (2, 1, "render 2"),
            (2, 2, "render 3"),
            (2, 2, "render 3"),
            (1, 1, "render 4"),
        ];
        for (r, s, want) in table {
            round.store(r, Ordering::SeqCst);
            second.store(s, Ordering::SeqCst);
            assert_eq!(fetch(&app, "/page", false).await.1, want, "round {r} second {s}");
        }
    }

    #[tokio::test]
    async fn only_the_current_round_is_kept() {
        let (renders, round) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(1)));
        let cache = PageCache::new({
            let round = round.clone();
            move || Freshness { round: round.load(Ordering::SeqCst), second: 1 }
        });
        let html = |body: String| ([(header::CONTENT_TYPE, "text/html")], body);
        let app = Router::new()
            .route("/{page}", get(move || async move { html(format!("render {}", renders.fetch_add(1, Ordering::SeqCst))) }))
            .layer(axum::middleware::from_fn_with_state(cache.clone(), serve))
            .layer(axum::middleware::from_fn(mark_pages));
        for n in 0..50 {
            fetch(&app, &format!("/p{n}"), false).await;
        }
        assert_eq!(cache.pages.lock().unwrap().len(), 50, "one entry per page of this round");
        round.store(2, Ordering::SeqCst);
        fetch(&app, "/p0", false).await;
        assert_eq!(cache.pages.lock().unwrap().len(), 1, "a new round drops the old renderings");
    }
}
