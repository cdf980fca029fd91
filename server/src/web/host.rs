//! Which `Host` this console answers to. A page on an attacker's domain whose name they point
//! at 127.0.0.1 (DNS rebinding) reaches the console from a victim's browser as same-origin to
//! *that* domain; refusing every name but ours closes it. IP literals cannot be rebound, so
//! they are always served (peers, scrapers and the tests use them); names must be the
//! `auth.public_url` host, `localhost`, or one of `auth.allowed_hosts`.

use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// The names served, lower case, without ports.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl AllowedHosts {
    /// `localhost`, the public URL's host and the extra names.
    pub fn new(public_url: Option<&str>, extra: &[String]) -> Self {
        let mut names = vec!["localhost".to_string()];
        if let Some(host) = public_url.and_then(|u| reqwest::Url::parse(u).ok()).and_then(|u| u.host_str().map(str::to_ascii_lowercase)) {
            names.push(host);
        }
        names.extend(extra.iter().map(|h| h.trim().to_ascii_lowercase()));
        AllowedHosts { names }
    }

    /// Whether a request naming `host` (as sent, perhaps with a port) is served.
    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim();
        // `[::1]:3000`, `127.0.0.1:3000`, `name:3000`, `name`.
        let name = if let Some(v6) = host.strip_prefix('[') {
            return v6.split(']').next().is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
        } else {
            host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(n, _)| n)
        };
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return true;
        }
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.names.contains(&name)
    }
}

/// The layer: 421 Misdirected Request for any other name.
pub async fn check(State(allowed): State<Arc<AllowedHosts>>, request: Request, next: Next) -> Response {
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string);
    match host {
        Some(h) if !allowed.allows(&h) => {
            ApiError::new(StatusCode::MISDIRECTED_REQUEST, "host", "this console does not answer to that host name").respond(false)
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_names_and_ip_literals_are_served() {
        let allowed = AllowedHosts::new(Some("https://crowsnest.example.com"), &["sin-1.internal".to_string()]);
        // (Host header, served)
        let table = [
            ("127.0.0.1:3000", true),
            ("10.1.0.5", true),
            ("[::1]:3000", true),
            ("localhost:3000", true),
            ("crowsnest.example.com", true),
            ("CrowsNest.Example.com.", true),
            ("sin-1.internal:8443", true),
            ("evil.example", false),
            ("crowsnest.example.com.evil.example", false),
            ("127.0.0.1.nip.io", false),
            ("[not-an-address]", false),
        ];
        for (host, want) in table {
            assert_eq!(allowed.allows(host), want, "{host}");
        }
        assert!(!AllowedHosts::new(None, &[]).allows("crowsnest.example.com"));
    }
}
