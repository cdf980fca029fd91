//! The banner's who-slot: every page is rendered without knowing who asks (so renderings can be
//! shared through the page cache), with a marker where the name goes; the gate has it filled
//! here, per request, with the name, the role and a logout button carrying the session's token.

use app::auth::{Who, CSRF_FIELD, WHO_SLOT};
use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use futures::StreamExt;

/// The banner's who-slot for `who`: name, role and a logout button carrying the token.
fn who_html(who: Option<&Who>) -> String {
    let escape = crate::html::escape;
    match who {
        None => String::new(),
        Some(w) if w.anonymous => format!(
            "<span class=\"who-name\">wall display</span> <span class=\"who-role\">{}</span> <a href=\"/login\">Log in</a>",
            w.role.as_str()
        ),
        Some(w) => format!(
            "<span class=\"who-name\" id=\"who-name\">{}</span> <span class=\"who-role\" id=\"who-role\">{}</span> \
             <form method=\"post\" action=\"/logout\" class=\"inline\"><input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{}\">\
             <button type=\"submit\" id=\"logout\">Log out</button></form>",
            escape(&w.name),
            w.role.as_str(),
            escape(&w.csrf_token)
        ),
    }
}

/// Fills the who-slot of an HTML response. A page too large to buffer is sent as it is.
pub async fn fill(response: Response, who: Option<&Who>) -> Response {
    let is_html = response.headers().get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let (bytes, rest) = match super::buffer(body, super::MAX_BUFFERED_PAGE).await {
        Ok(bytes) => (bytes, None),
        Err((head, rest)) => (head, Some(rest)),
    };
    let fill = who_html(who);
    let Some(at) = (rest.is_none()).then(|| super::find(&bytes, WHO_SLOT.as_bytes())).flatten() else {
        let body = match rest {
            None => Body::from(bytes),
            Some(rest) => Body::from_stream(futures::stream::once(async move { Ok(bytes) }).chain(rest)),
        };
        return Response::from_parts(parts, body);
    };
    let mut out = Vec::with_capacity(bytes.len() + fill.len());
    out.extend_from_slice(&bytes[..at]);
    out.extend_from_slice(fill.as_bytes());
    out.extend_from_slice(&bytes[at + WHO_SLOT.len()..]);
    parts.headers.remove(header::CONTENT_LENGTH);
    if who.is_some_and(|w| !w.anonymous) {
        // A page carrying a person's token is theirs alone.
        parts.headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-store"));
    }
    Response::from_parts(parts, Body::from(out))
}
