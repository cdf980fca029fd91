//! What every response carries, whoever asked: the browser security headers, a Content
//! Security Policy that names each inline script of a page by its hash, and `no-store` on the
//! JSON API. The outermost layer, so refusals and error pages carry them too.

use super::find;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The settings this layer needs.
#[derive(Debug, Clone)]
pub struct HeaderPolicy {
    /// Send `Strict-Transport-Security` (people reach the console over https).
    pub hsts: bool,
}

/// The policy's fixed part: only this origin's scripts, styles, images and connections; wasm may
/// compile (the live island); no frames, plugins, `<base>` or foreign form targets.
const CSP_BASE: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The `script-src` directive for a page whose inline scripts are `inline`.
fn script_src(inline: &[&[u8]]) -> String {
    use base64::Engine;
    let mut directive = String::from("script-src 'self' 'wasm-unsafe-eval'");
    for script in inline {
        let digest = Sha256::digest(script);
        directive.push_str(&format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest)));
    }
    directive
}

/// The bodies of every inline `<script>` (one without `src=`) in `html`.
fn inline_scripts(html: &[u8]) -> Vec<&[u8]> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = find(rest, b"<script") {
        let after = &rest[open..];
        let Some(tag_end) = find(after, b">") else { break };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = find(body, b"</script>") else { break };
        if find(tag, b"src=").is_none() {
            found.push(&body[..close]);
        }
        rest = &body[close..];
    }
    found
}

/// The Content Security Policy of an HTML page: the fixed part and each inline script's hash.
pub fn page_csp(html: &[u8]) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("{CSP_BASE}; {}", script_src(&inline_scripts(html)))).ok()
}

/// The headers every response carries, whatever it is.
pub fn stamp(h: &mut HeaderMap, policy: &HeaderPolicy) {
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // same-origin, not no-referrer: a form posted without JavaScript is answered with a
    // redirect to its Referer.
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if policy.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
}

/// The layer.
pub async fn secure(State(policy): State<Arc<HeaderPolicy>>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let h = &mut parts.headers;
    stamp(h, &policy);
    if matches!(parts.status, StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT) {
        // The request's body was left unread, so the connection cannot carry another request;
        // saying so keeps a client from reusing it and losing its next request to the close.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let html = h.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !html {
        let csp = format!("{CSP_BASE}; {}", script_src(&[]));
        if let Ok(v) = HeaderValue::from_str(&csp) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        return Response::from_parts(parts, body);
    }
    if parts.headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        // The page cache hashed this rendering's scripts once, when it kept it.
        return Response::from_parts(parts, body);
    }
    // Pages: each inline script by its hash, so nothing injected could run.
    let (bytes, rest) = match super::buffer(body, super::MAX_BUFFERED_PAGE).await {
        Ok(bytes) => (bytes, None),
        Err((head, rest)) => (head, Some(rest)),
    };
    if let Some(v) = page_csp(&bytes) {
        parts.headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    let body = match rest {
        None => Body::from(bytes),
        Some(rest) => {
            use futures::StreamExt;
            Body::from_stream(futures::stream::once(async move { Ok(bytes) }).chain(rest))
        }
    };
    Response::from_parts(parts, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_found_and_hashed_and_loaded_ones_are_not() {
        let html = br#"<head><script type="module">import('/pkg/a.js')</script><script src="/pkg/b.js"></script></head><body><script>x()</script></body>"#;
        let found = inline_scripts(html);
        assert_eq!(found, vec![&b"import('/pkg/a.js')"[..], &b"x()"[..]]);
        // The CSP hash of `x()` (as `echo -n 'x()' | openssl dgst -sha256 -binary | base64`).
        assert_eq!(script_src(&[b"x()"]), "script-src 'self' 'wasm-unsafe-eval' 'sha256-D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI='");
        assert_eq!(inline_scripts(b"<p>no scripts</p>"), Vec::<&[u8]>::new());
        assert_eq!(inline_scripts(b"<script>unclosed"), Vec::<&[u8]>::new());
    }
}
