//! The front door: the one request a console answers most (a wall display, with no cookie,
//! reloading a page already rendered this second) is answered here, outside the other layers.
//!
//! Such a request would go through the sessions (no cookie: no session), the same-origin check
//! (a GET), the gate (no session: the wall display's role, which may read every page), the
//! read-only layer (a read) and reach the page cache, which answers it. Each of those layers
//! costs per request (a clone of what is under it, a boxed future, a session looked for), and
//! together they held a cached page to under half of what bare axum serves. The door gives the
//! same answer as that path, byte for byte, and sends anything else through it: a cookie, a
//! query, another method, a host name the console does not answer to, a route the page cache
//! does not keep, or no wall display configured.

use super::headers::{self, HeaderPolicy};
use super::host::AllowedHosts;
use super::page_cache::PageCache;
use super::routes::{self, Access};
use super::who_slot;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use futures::future::{ready, Either, Ready};
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What the door needs to answer on the gate's behalf.
pub struct FrontDoor {
    /// The pages rendered this round and second.
    pub cache: PageCache,
    /// The security headers every response carries.
    pub headers: Arc<HeaderPolicy>,
    /// The host names served.
    pub hosts: Arc<AllowedHosts>,
    /// The wall display's banner, when visitors without a session may read (`anonymous_role`).
    pub wall: Option<Bytes>,
}

/// Whether a request may be answered from a kept rendering without the layers: a wall display
/// is configured, the request is a plain GET without a query or a cookie, its host is served,
/// and the route table calls its route a cacheable read.
fn skips_layers(method: &Method, query: Option<&str>, headers: &HeaderMap, path: &str, wall: bool, hosts: &AllowedHosts) -> bool {
    if !wall || method != Method::GET || query.is_some() || headers.contains_key(header::COOKIE) {
        return false;
    }
    // As `host::check`: a request without a Host header is not refused there either.
    if let Some(host) = headers.get(header::HOST) {
        if !host.to_str().is_ok_and(|h| hosts.allows(h)) {
            return false;
        }
    }
    let policy = routes::policies().of(method, path);
    policy.cacheable && policy.access == Access::Read
}

impl FrontDoor {
    /// The answer to `request` from a kept rendering, or None to send it through the layers.
    fn answer(&self, request: &Request) -> Option<Response> {
        let wall = self.wall.as_ref();
        let uri = request.uri();
        if !skips_layers(request.method(), uri.query(), request.headers(), uri.path(), wall.is_some(), &self.hosts) {
            return None;
        }
        let kept = self.cache.kept(uri.path())?;
        let body = who_slot::assemble(kept.body, kept.slot, wall?.clone());
        let mut response = Response::new(body);
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, kept.content_type);
        if let Some(csp) = kept.csp {
            h.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        headers::stamp(h, &self.headers);
        Some(response)
    }
}

/// The door as a layer over the rest of the stack.
#[derive(Clone)]
pub struct FrontLayer(pub Arc<FrontDoor>);

impl<S> tower::Layer<S> for FrontLayer {
    type Service = Front<S>;
    fn layer(&self, inner: S) -> Front<S> {
        Front { door: self.0.clone(), inner }
    }
}

/// The door in front of `S`.
#[derive(Clone)]
pub struct Front<S> {
    door: Arc<FrontDoor>,
    inner: S,
}

impl<S> tower::Service<Request> for Front<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match self.door.answer(&request) {
            Some(response) => Either::Left(ready(Ok(response))),
            None => Either::Right(self.inner.call(request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_cookieless_plain_read_of_a_cached_page_skips_the_layers() {
        let hosts = AllowedHosts::new(Some("https://crowsnest.example.com"), &[]);
        let plain = |host: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, host.parse().unwrap());
            h
        };
        let mut with_cookie = plain("127.0.0.1:3000");
        with_cookie.insert(header::COOKIE, "crowsnest_session=x".parse().unwrap());
        let get = Method::GET;
        // (method, query, headers, path, wall display configured, skips)
        let table = [
            (&get, None, plain("127.0.0.1:3000"), "/topology", true, true),
            (&get, None, plain("crowsnest.example.com"), "/", true, true),
            (&get, None, HeaderMap::new(), "/topology", true, true),
            (&get, None, plain("127.0.0.1:3000"), "/topology", false, false),
            (&get, Some("notice=abc"), plain("127.0.0.1:3000"), "/topology", true, false),
            (&get, None, with_cookie, "/topology", true, false),
            (&get, None, plain("evil.example"), "/topology", true, false),
            (&Method::HEAD, None, plain("127.0.0.1:3000"), "/topology", true, false),
            (&Method::POST, None, plain("127.0.0.1:3000"), "/topology", true, false),
            (&get, None, plain("127.0.0.1:3000"), "/login", true, false),
            (&get, None, plain("127.0.0.1:3000"), "/api/v1/topology", true, false),
            (&get, None, plain("127.0.0.1:3000"), "/metrics", true, false),
            (&get, None, plain("127.0.0.1:3000"), "/not-a-route", true, false),
        ];
        for (method, query, headers, path, wall, want) in table {
            assert_eq!(skips_layers(method, query, &headers, path, wall, &hosts), want, "{method} {path}?{query:?} wall={wall}");
        }
    }

    /// Requests that got past the door, by path.
    #[derive(Clone, Default)]
    struct Passed(Arc<std::sync::Mutex<Vec<String>>>);

    /// A page with a who-slot at /topology behind the page cache and the route table's policy,
    /// with what gets past the door counted, and the door in front.
    fn app(wall: Option<app::auth::Role>, passed: Passed) -> axum::Router {
        use super::super::page_cache::{serve, Freshness};
        use axum::middleware::{from_fn, from_fn_with_state, Next};
        let page = format!("<header>{}</header><main>topology</main>", app::auth::WHO_SLOT);
        let cache = PageCache::new(|| Freshness { round: 1, second: 1 });
        let count = move |request: Request, next: Next| {
            let passed = passed.clone();
            async move {
                passed.0.lock().unwrap().push(request.uri().path().to_string());
                next.run(request).await
            }
        };
        let stack = axum::Router::new()
            .route("/topology", axum::routing::get(move || async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page) }))
            .layer(from_fn_with_state(cache.clone(), serve))
            .layer(from_fn(routes::classify))
            .layer(from_fn(count));
        let door = FrontDoor {
            cache,
            headers: Arc::new(HeaderPolicy { hsts: true }),
            hosts: Arc::new(AllowedHosts::new(None, &[])),
            wall: wall.map(who_slot::wall),
        };
        axum::Router::new().fallback_service(tower::Layer::layer(&FrontLayer(Arc::new(door)), stack))
    }

    async fn get(app: &axum::Router, cookie: bool) -> (HeaderMap, String) {
        use tower::ServiceExt;
        let mut request = Request::builder().uri("/topology").header(header::HOST, "127.0.0.1:3000");
        if cookie {
            request = request.header(header::COOKIE, "crowsnest_session=x");
        }
        let response = app.clone().oneshot(request.body(axum::body::Body::empty()).unwrap()).await.unwrap();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (headers, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_door_answers_a_wall_display_from_the_cache_and_nobody_else() {
        let passed = Passed::default();
        let wall = app(Some(app::auth::Role::Viewer), passed.clone());
        // The first request renders through the stack; the second is the door's.
        let (_, first) = get(&wall, false).await;
        let (headers, second) = get(&wall, false).await;
        assert_eq!(passed.0.lock().unwrap().len(), 1, "the second request never reached the stack");
        assert!(first.contains(app::auth::WHO_SLOT), "the stack here has no gate to fill the slot: {first}");
        assert!(second.starts_with("<header><span class=\"who-name\">wall display</span>"), "{second}");
        assert!(second.ends_with("</header><main>topology</main>"), "{second}");
        for (name, want) in
            [("content-type", "text/html; charset=utf-8"), ("x-frame-options", "DENY"), ("strict-transport-security", "max-age=31536000")]
        {
            assert_eq!(headers.get(name).and_then(|v| v.to_str().ok()), Some(want), "{name}");
        }
        assert!(headers.get("content-security-policy").is_some_and(|v| v.to_str().unwrap().contains("script-src")));
        // A cookie goes through the stack (and its gate) every time.
        get(&wall, true).await;
        assert_eq!(passed.0.lock().unwrap().len(), 2);
        // Without a wall display every request goes through (the gate sends it to log in).
        let passed = Passed::default();
        let guarded = app(None, passed.clone());
        get(&guarded, false).await;
        get(&guarded, false).await;
        assert_eq!(passed.0.lock().unwrap().len(), 2);
    }
}
