//! What the integration tests share: HTTP clients that behave like a browser, logging in
//! through the form, and polling with a deadline instead of sleeping.
#![allow(dead_code)] // each test binary uses its own part of this

use reqwest::Client;
use std::time::{Duration, Instant};

/// A plain client for loopback: no proxy from the environment, bounded in time.
pub fn client() -> Client {
    Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap()
}

/// A browser: a cookie jar, no redirects followed, no proxy for loopback.
pub fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The value of the first `name="csrf"` hidden field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().map(str::to_string)
}

/// Logs in through the form at `base`, as a browser would: fetch the form for its token, post.
pub async fn login_as(base: &str, http: &Client, name: &str, password: &str) -> reqwest::Response {
    let page = http.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).expect("the login form carries a token");
    http.post(format!("{base}/login"))
        .form(&[("csrf", token.as_str()), ("name", name), ("password", password), ("next", "/actions")])
        .send()
        .await
        .unwrap()
}

/// Polls `f` until it returns Some, or fails after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Renders the shipped nginx config and runs nginx in the foreground (also used by the demo and
/// the Playwright suite, so all of them run the same file).
pub const EDGE_NGINX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/edge-nginx.sh");

/// Debian's nginx with the shipped config, stopped when dropped.
pub struct Nginx(pub std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `scripts/edge-nginx.sh LISTEN UPSTREAM EDGE_DIR PREFIX`.
pub fn start_nginx(
    listen: impl std::fmt::Display,
    upstream: impl std::fmt::Display,
    edge: &std::path::Path,
    prefix: &std::path::Path,
) -> Nginx {
    let child = std::process::Command::new("bash")
        .arg(EDGE_NGINX)
        .arg(listen.to_string())
        .arg(upstream.to_string())
        .arg(edge)
        .arg(prefix)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("scripts/edge-nginx.sh starts");
    Nginx(child)
}

/// The incident's regions, in config order: San Jose is the primary.
pub const REGIONS: [(&str, &str); 3] = [("sjc", "San Jose"), ("sin", "Singapore"), ("ams", "Amsterdam")];

/// `[[regions]]` tables for `keys` (from `REGIONS`), San Jose the primary: the one way every
/// test estate declares its regions.
pub fn regions_toml(keys: &[&str]) -> String {
    keys.iter()
        .map(|key| {
            let (_, display) = REGIONS.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("no test region {key}"));
            format!("\n[[regions]]\nname = \"{key}\"\ndisplay = \"{display}\"\nprimary = {}\n", *key == "sjc")
        })
        .collect()
}

/// A `[[users]]` table.
pub fn user_toml(name: &str, role: &str, password_hash: &str) -> String {
    format!("\n[[users]]\nname = \"{name}\"\nrole = \"{role}\"\npassword_hash = \"{password_hash}\"\n")
}
