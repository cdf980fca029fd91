//! The one error shape of the HTTP surface: `{"error": {"code", "message", "fields"?}}` with a
//! real status for the API, and a small HTML page with the same words for browsers.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

/// An error answered to a client.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine-readable code, e.g. `unauthenticated`, `forbidden`, `csrf`, `invalid`.
    pub code: &'static str,
    /// For the person.
    pub message: String,
    /// Errors by field, for bad input.
    pub fields: Vec<(String, String)>,
    /// Seconds to wait (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), fields: Vec::new(), retry_after: None }
    }

    /// 401: log in first.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "log in first (POST /login)")
    }

    /// 403 with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 naming what was not found.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// Adds a Retry-After.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// As JSON or as an HTML page, whichever the request asked for.
    pub fn respond(self, html: bool) -> Response {
        if html {
            self.page()
        } else {
            self.into_response()
        }
    }

    /// A small HTML page saying what went wrong, with the same status.
    pub fn page(self) -> Response {
        let escape = crate::html::escape;
        let login = if self.status == StatusCode::UNAUTHORIZED {
            "<p><a href=\"/login\" id=\"login-link\">Log in</a> to see this page.</p>"
        } else {
            "<p><a href=\"/\">Back to the overview</a></p>"
        };
        let fields: String = self.fields.iter().map(|(f, m)| format!("<li><strong>{}</strong>: {}</li>", escape(f), escape(m))).collect();
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{status} · Crowsnest</title><link rel=\"stylesheet\" href=\"/pkg/crowsnest.css\"></head>\
             <body><main id=\"main\" class=\"error-page\" data-error-code=\"{code}\"><h1>{status}</h1>\
             <p class=\"form-error\" role=\"alert\">{message}</p><ul>{fields}</ul>{login}</main></body></html>",
            status = self.status,
            code = self.code,
            message = escape(&self.message),
        );
        let mut response = (self.status, Html(body)).into_response();
        add_retry_after(response.headers_mut(), self.retry_after);
        response
    }
}

fn add_retry_after(headers: &mut HeaderMap, seconds: Option<u64>) {
    if let Some(s) = seconds {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message });
        if !self.fields.is_empty() {
            error["fields"] = self.fields.iter().map(|(f, m)| (f.clone(), serde_json::Value::from(m.clone()))).collect();
        }
        let mut response = (self.status, Json(serde_json::json!({ "error": error }))).into_response();
        add_retry_after(response.headers_mut(), self.retry_after);
        response
    }
}

/// True when the client wants HTML (a browser's page load or form post), not JSON.
pub fn wants_html(headers: &HeaderMap, path: &str) -> bool {
    !path.starts_with("/api/")
        && headers
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_none_or(|a| a.contains("text/html") || a.contains("*/*") && !a.contains("application/json"))
}

/// tower-http's same-origin check refuses a cross-site write with a bare 403 and no body: say
/// why, in this surface's one error shape (a page for a browser form, JSON for the API).
pub async fn explain_cross_origin(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let html = wants_html(request.headers(), request.uri().path());
    let response = next.run(request).await;
    let bare = response.status() == StatusCode::FORBIDDEN && !response.headers().contains_key(axum::http::header::CONTENT_TYPE);
    if !bare {
        return response;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_origin",
        "this request came from another site (Origin or Sec-Fetch-Site says so), so it was refused; act from the console's own pages",
    )
    .respond(html)
}
