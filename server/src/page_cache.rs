//! A micro-cache for server-rendered pages.
//!
//! A page's content only changes when a probe round lands (or, for staleness, as time passes),
//! so a rendered page is reused for requests in the same probe round and the same second.
//! Rendered pages carry nothing personal: who is logged in is filled into the banner by the
//! gate, outside this cache. Pages that are personal anyway (forms with tokens) say so with
//! `Cache-Control: no-store` and are never kept, nor is any response that sets a cookie. Only
//! `200 OK` HTML responses to plain GETs are cached; a page too large to keep is served as is.

use axum::body::{Body, Bytes};
use futures::StreamExt;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
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

/// Cached renderings by path.
#[derive(Clone)]
pub struct PageCache {
    pages: Arc<Mutex<HashMap<String, (Freshness, Bytes, HeaderValue)>>>,
    freshness: Arc<dyn Fn() -> Freshness + Send + Sync>,
}

impl PageCache {
    /// A cache whose entries are valid while `freshness()` returns the same value.
    pub fn new(freshness: impl Fn() -> Freshness + Send + Sync + 'static) -> Self {
        PageCache {
            pages: Arc::default(),
            freshness: Arc::new(freshness),
        }
    }
}

fn cacheable(request: &Request) -> bool {
    request.method() == Method::GET
        && request.uri().query().is_none()
        && !request.uri().path().starts_with("/api/")
        && !request.uri().path().starts_with("/pkg/")
}

/// Axum middleware: serve from the cache or render and remember.
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    if !cacheable(&request) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_string();
    let now = (cache.freshness)();
    let hit = cache
        .pages
        .lock()
        .ok()
        .and_then(|pages| pages.get(&path).filter(|(f, _, _)| *f == now).map(|(_, b, t)| (b.clone(), t.clone())));
    if let Some((body, content_type)) = hit {
        return ([(header::CONTENT_TYPE, content_type)], body).into_response();
    }
    let response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
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
    if let (Some(content_type), Ok(mut pages)) = (parts.headers.get(header::CONTENT_TYPE), cache.pages.lock()) {
        pages.insert(path, (now, bytes.clone(), content_type.clone()));
    }
    Response::from_parts(parts, Body::from(bytes))
}
