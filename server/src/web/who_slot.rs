//! The banner's who-slot: every page is rendered without knowing who asks (so renderings can be
//! shared through the page cache), with a marker where the name goes; the gate has it filled
//! here, per request, with the name, the role and a logout button carrying the session's token.

use app::auth::{Role, Who, CSRF_FIELD, WHO_SLOT};
use axum::body::{Body, Bytes};
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
    let Some(at) = (rest.is_none()).then(|| find(&bytes)).flatten() else {
        let body = match rest {
            None => Body::from(bytes),
            Some(rest) => Body::from_stream(futures::stream::once(async move { Ok(bytes) }).chain(rest)),
        };
        return Response::from_parts(parts, body);
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    if who.is_some_and(|w| !w.anonymous) {
        // A page carrying a person's token is theirs alone.
        parts.headers.insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-store"));
    }
    Response::from_parts(parts, assemble(bytes, Some(at), Bytes::from(who_html(who))))
}

/// Where the who-slot starts in `page`, if it has one.
pub fn find(page: &[u8]) -> Option<usize> {
    SLOT.find(page)
}

/// The banner a wall display of `role` gets (the front door fills it in without the gate).
pub fn wall(role: Role) -> Bytes {
    Bytes::from(who_html(Some(&Who { name: "anonymous".into(), role, csrf_token: String::new(), anonymous: true })))
}

/// `page` with `fill` in its who-slot at `slot` (as it is, without one), sent as pieces with
/// its exact length rather than copied whole.
pub fn assemble(page: Bytes, slot: Option<usize>, fill: Bytes) -> Body {
    match slot.filter(|at| at + WHO_SLOT.len() <= page.len()) {
        Some(at) => Body::new(Pieces { pieces: [page.slice(..at), fill, page.slice(at + WHO_SLOT.len()..)], next: 0 }),
        None => Body::from(page),
    }
}

/// The who-slot, searched for in every page served: its searcher is built once.
static SLOT: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(WHO_SLOT.as_bytes()));

/// A page sent as its pieces (the head, the slot's fill, the tail) rather than copied whole for
/// every request, with its exact length known so it still goes out with a Content-Length.
struct Pieces {
    pieces: [Bytes; 3],
    next: usize,
}

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let piece = this.pieces.get_mut(this.next).map(std::mem::take);
        this.next += 1;
        std::task::Poll::Ready(piece.map(|piece| Ok(http_body::Frame::data(piece))))
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.pieces.len()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.pieces.iter().skip(self.next).map(|piece| piece.len() as u64).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn filled(page: &str, who: Option<&Who>) -> (Option<u64>, String) {
        let response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page.to_string());
        let response = fill(axum::response::IntoResponse::into_response(response), who).await;
        let exact = http_body::Body::size_hint(response.body()).exact();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (exact, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_slot_is_filled_in_place_with_the_exact_length() {
        let who = Who { name: "<bob>".into(), role: Role::Viewer, csrf_token: "t0k".into(), anonymous: false };
        let wall = Who { name: "anonymous".into(), role: Role::Viewer, csrf_token: String::new(), anonymous: true };
        let page = format!("<header>{WHO_SLOT}</header><main>x</main>");
        // (who, what the banner must hold)
        let table = [
            (Some(&who), "<span class=\"who-name\" id=\"who-name\">&lt;bob&gt;</span>"),
            (Some(&wall), "<span class=\"who-name\">wall display</span>"),
            (None, "<header></header>"),
        ];
        for (who, want) in table {
            let (exact, body) = filled(&page, who).await;
            assert!(body.contains(want), "{body}");
            assert!(!body.contains(WHO_SLOT) && body.ends_with("</header><main>x</main>"), "{body}");
            assert_eq!(exact, Some(body.len() as u64), "sent with its length");
        }
        assert!(filled(&page, Some(&who)).await.1.contains("value=\"t0k\""), "the logout form carries the token");
        let plain = "<p>no slot here</p>";
        assert_eq!(filled(plain, Some(&who)).await.1, plain, "a page without the slot is sent as it is");
    }
}
