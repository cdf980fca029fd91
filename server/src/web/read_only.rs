//! The read-only layer: on a secondary, every state-changing request is refused here, in front
//! of the routes, with 503, Retry-After and why, so no handler can half-write. Which routes
//! still run is the route table's `on_secondary`: reads, login and logout (sessions live in the
//! local store), loader pushes (kept in memory) and break-glass.

use super::error::{wants_html, ApiError};
use crate::mode::ModeWatch;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

/// Seconds a refused client is told to wait: about how often the mode is re-checked.
pub const RETRY_AFTER_SECONDS: u64 = 30;

/// Refuses ordinary writes while this instance is a secondary.
pub async fn refuse_writes(State(mode): State<ModeWatch>, request: Request, next: Next) -> Response {
    if !mode.read_only() || super::routes::of_request(&request).on_secondary {
        return next.run(request).await;
    }
    let state = mode.get();
    let message = app::model::read_only_refusal(state.mode, &state.reason, state.since_ms);
    let html = wants_html(request.headers(), request.uri().path());
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "read_only", message).retry_after(RETRY_AFTER_SECONDS).respond(html)
}

#[cfg(test)]
mod tests {
    use axum::http::Method;

    /// Whether `method path` may run on a secondary, from the route table.
    fn allowed_on_secondary(method: &Method, path: &str) -> bool {
        crate::web::routes::policies().of(method, path).on_secondary
    }

    #[test]
    fn only_reads_login_logout_and_pushes_run_on_a_secondary() {
        // (method, path, allowed)
        let table = [
            (Method::GET, "/actions", true),
            (Method::HEAD, "/", true),
            (Method::POST, "/login", true),
            (Method::POST, "/logout", true),
            (Method::POST, "/api/v1/loaders/loader-sin/report", true),
            (Method::POST, "/api/topology", true),
            (Method::POST, "/actions", false),
            (Method::POST, "/actions/3/approve", false),
            (Method::POST, "/actions/break-glass", true),
            (Method::POST, "/actions/break-glass/k-1/approve", true),
            (Method::POST, "/api/v1/actions", false),
            (Method::POST, "/admin/users", false),
            (Method::DELETE, "/anything", false),
        ];
        for (method, path, want) in table {
            assert_eq!(allowed_on_secondary(&method, path), want, "{method} {path}");
        }
    }
}
