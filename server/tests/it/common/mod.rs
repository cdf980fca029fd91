//! What the integration tests share: HTTP clients that behave like a browser, logging in
//! through the form, and polling with a deadline instead of sleeping.

pub(crate) use crowsnest::config::example::{Check, EstateBuilder};
pub(crate) use crowsnest::config::{RecordKind, ResolverKind, Role, Tier};
use reqwest::Client;
use std::time::{Duration, Instant};

/// A plain client for loopback: no proxy from the environment, bounded in time.
pub(crate) fn client() -> Client {
    Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().unwrap()
}

/// A browser: a cookie jar, no redirects followed, no proxy for loopback.
pub(crate) fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The value of the first `name="csrf"` hidden field in a page.
pub(crate) fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().map(str::to_string)
}

/// Logs in through the form at `base`, as a browser would: fetch the form for its token, post.
pub(crate) async fn login_as(base: &str, http: &Client, name: &str, password: &str) -> reqwest::Response {
    let page = http.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).expect("the login form carries a token");
    http.post(format!("{base}/login"))
        .form(&[("csrf", token.as_str()), ("name", name), ("password", password), ("next", "/actions")])
        .send()
        .await
        .unwrap()
}

/// Polls `f` every `every` until it gives `Ok`; after `limit`, its last `Err` (what it saw).
/// The one polling loop of the tests: the helpers below and each area's waits are built on it.
pub(crate) async fn poll<T, E, F, Fut>(limit: Duration, every: Duration, mut f: F) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(last) if start.elapsed() >= limit => return Err(last),
            Err(_) => tokio::time::sleep(every).await,
        }
    }
}

/// Polls `f` until it returns Some, or fails after `limit` naming `what`.
pub(crate) async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    poll(limit, Duration::from_millis(100), || {
        let next = f();
        async move { next.await.ok_or(()) }
    })
    .await
    .unwrap_or_else(|()| panic!("timed out waiting for {what}"))
}

/// Polls `f` until it returns Ok, or fails after `limit` with the last state it described.
pub(crate) async fn eventually_ok<T, F, Fut>(limit: Duration, f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    poll(limit, Duration::from_millis(200), f).await.unwrap_or_else(|last| panic!("timed out: {last}"))
}

/// Renders the shipped nginx config and runs nginx in the foreground (also used by the demo and
/// the Playwright suite, so all of them run the same file).
pub(crate) const EDGE_NGINX: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/edge-nginx.sh");

/// Debian's nginx with the shipped config, stopped when dropped.
pub(crate) struct Nginx(pub std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `scripts/edge-nginx.sh LISTEN UPSTREAM EDGE_DIR PREFIX`.
pub(crate) fn start_nginx(
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

/// The one fixture every test estate starts from: an instance named `name` watching from
/// `region`, keeping its data in `data`, listening on a free loopback port. Add regions, hosts,
/// sites, users and the rest with the builder's typed methods, then [`load`] it.
pub(crate) fn estate(name: &str, region: &str, data: &std::path::Path) -> EstateBuilder {
    EstateBuilder::new(name, region).data_dir(data)
}

/// The DNS tests' estate: the incident's two San Jose balancers (lb1 for the API, lb2 for the
/// website) and `www` declared on lb2; add resolvers.
pub(crate) fn dns_estate() -> EstateBuilder {
    EstateBuilder::new("t", "sjc")
        .regions(&["sjc"])
        .host("lb1", "sjc", Tier::ApiLb, "127.0.1.1".parse().unwrap(), Check::Tcp(1))
        .host("lb2", "sjc", Tier::WebLb, "127.0.1.2".parse().unwrap(), Check::Tcp(1))
        .hostname("www.example.test", Tier::WebLb, None)
        .zone("example.test")
        .record("www", RecordKind::A, 60, &["127.0.1.2"])
}

/// Loads what the builder wrote, as a config file would be loaded; a mistake fails the test with
/// the file, line and key.
pub(crate) fn load(builder: &EstateBuilder) -> crowsnest::config::Estate {
    builder.build("test.toml").unwrap_or_else(|e| panic!("{}\n{}", crowsnest::config::report(&e), builder.text()))
}
