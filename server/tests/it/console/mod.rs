//! The console against the real lab: both started on loopback, pages and JSON checked over HTTP.
//! One file per area; the harness that starts a console on its own loopback block is here.

use crowsnest::config;
use crowsnest::config::example::EstateBuilder;
use crowsnest::run::{Server, Site};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use common::{client, eventually};

mod alerting;
mod backlog;
mod certificates;
mod dns;
mod incidents;
mod live;
mod metrics;
mod pages;
mod receivers;
mod silences;
mod timeline;

const DEMO: &str = include_str!("../../../../deploy/demo.toml");

/// The demo estate moved to its own loopback block and free ports, probing every second, with
/// the lab's PostgreSQL on or off: the demo as shipped, changed key by key by the builder.
pub(super) fn estate_with(block: u8, data_dir: &Path, postgres: bool) -> config::Estate {
    let lab_dns = |name: &str, key: &str, b: EstateBuilder| {
        // The lab serves on it and the resolver of the same name asks it: one free port for both.
        let addr = format!("127.0.0.1:{}", crowsnest::lab::free_port());
        b.set("lab", key, addr.as_str()).named("resolvers", name, "address", addr.as_str())
    };
    let b = EstateBuilder::from_text(DEMO).expect("deploy/demo.toml parses").move_loopback_block(block);
    let b = lab_dns("lab-auth", "dns_listen", b);
    let b = lab_dns("lab-auth-2", "dns_secondary_listen", b);
    let b = lab_dns("lab-cache", "dns_cache_listen", b);
    let estate = b
        .set("instance", "listen", "127.0.0.1:0")
        .set("instance", "data_dir", data_dir.display().to_string())
        .set("lab", "control_listen", "127.0.0.1:0")
        // The lab's cache keeps answers a second, so DNS settles within the tests' deadlines.
        .set("lab", "dns_cache_max_ttl_seconds", 1i64)
        // Tests that need the lab's PostgreSQL turn it on (see `start_with_postgres`).
        .set("lab", "postgres", postgres)
        .probes(1, 800)
        .set("replication", "interval_seconds", 1i64)
        .set("replication", "timeout_ms", 800i64)
        .set("backlog", "interval_seconds", 1i64)
        .set("backlog", "timeout_ms", 800i64)
        .set("backlog", "stopped_after_seconds", 4i64)
        .build("test.toml");
    let mut estate = estate.unwrap_or_else(|e| panic!("{}", config::report(&e)));
    // These tests read pages as a wall display would; logins have their own tests (`auth.rs`).
    estate.auth.anonymous_role = Some(app::auth::Role::Viewer);
    estate
}

/// A loopback block no other test in this run uses: room for 23 tests (n = 0..=22) per
/// process, always within 127.20–127.249 (the old formula overflowed a u8 for some pids).
pub(super) fn block(n: u8) -> u8 {
    assert!(n < 23, "block {n}: widen the stride in `block` for more tests");
    20 + (std::process::id() % 10) as u8 * 23 + n
}

pub(super) async fn start(n: u8) -> (Server, tempfile::TempDir) {
    start_with(n, false).await
}

pub(super) async fn start_with(n: u8, postgres: bool) -> (Server, tempfile::TempDir) {
    start_edited(n, postgres, |_| ()).await
}

/// Starts the demo on block `n` after `edit` changed its parsed config.
pub(super) async fn start_edited(n: u8, postgres: bool, edit: impl FnOnce(&mut config::Estate)) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut estate = estate_with(block(n), dir.path(), postgres);
    edit(&mut estate);
    let estate = Arc::new(estate);
    let site = Site { root: dir.path().join("site") };
    std::fs::create_dir_all(&site.root).unwrap();
    let server = Server::start(estate, site, true).await.expect("server starts");
    (server, dir)
}

pub(super) async fn host_status(base: &str, host: &str) -> Option<String> {
    let topology: serde_json::Value = client().get(format!("{base}/api/v1/topology")).send().await.ok()?.json().await.ok()?;
    topology["regions"]
        .as_array()?
        .iter()
        .flat_map(|r| r["hosts"].as_array().cloned().unwrap_or_default())
        .find(|h| h["name"] == host)
        .map(|h| h["health"]["status"].as_str().unwrap_or("").to_string())
}

/// The generation a rendered page claims (`<main id="main" data-generation="N">`).
pub(super) fn generation_of(html: &str) -> u64 {
    let at = html.find("data-generation=\"").expect("page carries its generation") + "data-generation=\"".len();
    html[at..].split('"').next().and_then(|g| g.parse().ok()).expect("generation is a number")
}

/// The complete events in an SSE text: (event name, id, data).
pub(super) fn sse_events(text: &str) -> Vec<(String, String, String)> {
    let complete = &text[..text.rfind("\n\n").map_or(0, |i| i + 2)];
    complete
        .split("\n\n")
        .filter(|block| block.lines().any(|l| l.starts_with("event:")))
        .map(|block| {
            let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string()).unwrap_or_default();
            (field("event:"), field("id:"), field("data:"))
        })
        .collect()
}

pub(super) async fn json(url: &str) -> Option<serde_json::Value> {
    client().get(url).send().await.ok()?.json().await.ok()
}
