//! The console against the real lab: both started on loopback, pages and JSON checked over HTTP,
//! a host taken down through the lab's control API and seen going critical.

use crowsnest::config;
use crowsnest::run::{Server, Site};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common;
use common::{client, eventually};

const DEMO: &str = include_str!("../../../deploy/demo.toml");

/// `text` with every `from` replaced; fails when `from` is not there, so a changed line in the
/// demo cannot silently leave a test on the demo's fixed ports, data dir or PostgreSQL.
fn edit(text: String, from: &str, to: &str) -> String {
    assert!(text.contains(from), "deploy/demo.toml no longer has {from:?}: update this test's edits");
    text.replace(from, to)
}

/// The demo estate moved to its own loopback block and free ports, probing every second, with
/// the lab's PostgreSQL on or off.
fn estate_with(block: u8, data_dir: &Path, postgres: bool) -> config::Estate {
    let mut text = DEMO.to_string();
    #[rustfmt::skip]
    let edits = [
        ("127.0.1.", format!("127.{block}.1.")),
        ("127.0.2.", format!("127.{block}.2.")),
        ("127.0.3.", format!("127.{block}.3.")),
        ("listen = \"127.0.0.1:3000\"", "listen = \"127.0.0.1:0\"".into()),
        ("control_listen = \"127.0.0.1:3100\"", "control_listen = \"127.0.0.1:0\"".into()),
        // With their quotes: a free port such as 53551 must not match a later edit's 5355.
        ("\"127.0.0.1:5354\"", format!("\"127.0.0.1:{}\"", crowsnest::lab::free_port())),
        ("\"127.0.0.1:5355\"", format!("\"127.0.0.1:{}\"", crowsnest::lab::free_port())),
        ("\"127.0.0.1:5356\"", format!("\"127.0.0.1:{}\"", crowsnest::lab::free_port())),
        // The lab's cache keeps answers a second, so DNS settles within the tests' deadlines.
        ("dns_cache_max_ttl_seconds = 10", "dns_cache_max_ttl_seconds = 1".into()),
        ("interval_seconds = 5", "interval_seconds = 1".into()),
        // Tests that need the lab's PostgreSQL turn it back on (see `start_with_postgres`).
        ("postgres = true", if postgres { "postgres = true" } else { "postgres = false" }.into()),
        ("interval_seconds = 2", "interval_seconds = 1".into()),
        ("timeout_ms = 1500", "timeout_ms = 800".into()),
        ("stopped_after_seconds = 10", "stopped_after_seconds = 4".into()),
        ("timeout_ms = 2000", "timeout_ms = 800".into()),
        ("data_dir = \"data\"", format!("data_dir = {:?}", data_dir.display().to_string())),
    ];
    for (from, to) in edits {
        text = edit(text, from, &to);
    }
    let mut estate = config::parse(Path::new("test.toml"), &text).unwrap_or_else(|e| panic!("{}", config::report(&e)));
    // These tests read pages as a wall display would; logins have their own tests (`auth.rs`).
    estate.auth.anonymous_role = Some(app::auth::Role::Viewer);
    estate
}

/// A loopback block no other test in this run uses: room for 12 tests (n = 0..=11) per
/// process, always within 127.20–127.247 (the old formula overflowed a u8 for some pids).
fn block(n: u8) -> u8 {
    assert!(n < 16, "block {n}: widen the stride in `block` for more tests");
    20 + (std::process::id() % 14) as u8 * 16 + n
}

async fn start(n: u8) -> (Server, tempfile::TempDir) {
    start_with(n, false).await
}

async fn start_with(n: u8, postgres: bool) -> (Server, tempfile::TempDir) {
    start_edited(n, postgres, |_| ()).await
}

/// Starts the demo on block `n` after `edit` changed its parsed config.
async fn start_edited(n: u8, postgres: bool, edit: impl FnOnce(&mut config::Estate)) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut estate = estate_with(block(n), dir.path(), postgres);
    edit(&mut estate);
    let estate = Arc::new(estate);
    let site = Site { root: dir.path().join("site") };
    std::fs::create_dir_all(&site.root).unwrap();
    let server = Server::start(estate, site, true).await.expect("server starts");
    (server, dir)
}

async fn host_status(base: &str, host: &str) -> Option<String> {
    let topology: serde_json::Value = client().get(format!("{base}/api/v1/topology")).send().await.ok()?.json().await.ok()?;
    topology["regions"]
        .as_array()?
        .iter()
        .flat_map(|r| r["hosts"].as_array().cloned().unwrap_or_default())
        .find(|h| h["name"] == host)
        .map(|h| h["health"]["status"].as_str().unwrap_or("").to_string())
}

/// The generation a rendered page claims (`<main id="main" data-generation="N">`).
fn generation_of(html: &str) -> u64 {
    let at = html.find("data-generation=\"").expect("page carries its generation") + "data-generation=\"".len();
    html[at..].split('"').next().and_then(|g| g.parse().ok()).expect("generation is a number")
}

/// The complete events in an SSE text: (event name, id, data).
fn sse_events(text: &str) -> Vec<(String, String, String)> {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_on_the_server_with_live_health() {
    let (server, _dir) = start(0).await;
    let base = format!("http://{}", server.addr);
    let http = client();

    // Healthy once the first round is in.
    eventually(Duration::from_secs(5), "healthz ok", || async {
        let r = http.get(format!("{base}/healthz")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;

    // Every page renders fully on the server, with the instance banner.
    for (path, heading) in [
        ("/", "Overview"),
        ("/topology", "Topology"),
        ("/dns", "DNS"),
        ("/replication", "Replication"),
        ("/backlog", "Backlog"),
        ("/actions", "Actions"),
    ] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains(&format!("<h1>{heading}</h1>")), "{path} lacks its heading");
        assert!(html.contains("instance-banner") && html.contains("sjc-1") && html.contains("San Jose"), "{path} lacks the banner");
        assert!(html.contains("/pkg/crowsnest.js"), "{path} does not load the hydrate bundle");
    }

    // The topology page carries every host with its status, in the diagram and the table, once
    // two rounds agree (health is damped: one round shows only as the latest check).
    let hosts = ["lb1", "lb2", "lb3", "lb4", "db1", "loader-ams"];
    let html = eventually(Duration::from_secs(20), "every host ok after two rounds", || async {
        let html = http.get(format!("{base}/topology")).send().await.ok()?.text().await.ok()?;
        hosts.iter().all(|h| html.contains(&format!("<tr data-host=\"{h}\" data-status=\"ok\""))).then_some(html)
    })
    .await;
    for host in hosts {
        assert!(html.contains(&format!("data-host=\"{host}\" data-status=\"ok\"")), "{host}");
    }
    assert!(html.contains("<svg"), "no diagram");
    assert!(html.contains("<tbody>"), "tables need tbody for hydration");

    // The page claims the generation read before its data; each live event the generation read
    // before its snapshot. The browser refetches a page when an event's id is above the page's.
    let before = generation_of(&html);
    let mut events = http.get(format!("{base}/api/v1/events?snapshots=false")).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let (mut text, mut newer) = (String::new(), None);
    let deadline = Instant::now() + Duration::from_secs(5);
    while newer.is_none() {
        assert!(Instant::now() < deadline, "no event newer than generation {before}; got {text:?}");
        match tokio::time::timeout(Duration::from_secs(3), events.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("event stream ended: {other:?}"),
        }
        for (name, id, data) in sse_events(&text) {
            if name == "heartbeat" {
                continue;
            }
            assert!(app::live::EVENTS.contains(&name.as_str()), "{name}");
            let id: u64 = id.parse().unwrap_or_else(|_| panic!("event {name} has id {id:?}"));
            assert_eq!(data, id.to_string(), "without snapshots an event's data is its generation");
            assert!(id >= before, "an event older than the page: {id} < {before}");
            if id > before {
                newer = Some(id);
            }
        }
    }
    let page = http.get(format!("{base}/topology")).send().await.unwrap().text().await.unwrap();
    assert!(generation_of(&page) >= newer.unwrap(), "a page fetched after an event is at least as new");
    // Snapshots stay on the stream by default, for API consumers.
    let mut full = http.get(format!("{base}/api/v1/events")).send().await.unwrap();
    let chunk = tokio::time::timeout(Duration::from_secs(3), full.chunk()).await.unwrap().unwrap().unwrap();
    assert!(String::from_utf8_lossy(&chunk).contains("data: {"), "no snapshot in the default stream");
    let r = http.get(format!("{base}/api/v1/events?snapshots=maybe")).send().await.unwrap();
    assert_eq!(r.status(), 400, "a bad query is refused");

    // Unknown paths are a 404 page, not an error.
    let r = http.get(format!("{base}/no-such-page")).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // JSON API.
    let instance: serde_json::Value = http.get(format!("{base}/api/v1/instance")).send().await.unwrap().json().await.unwrap();
    assert_eq!(instance["region"], "sjc");
    assert_eq!(instance["mode"], "primary");
    assert_eq!(instance["control_store"], "sqlite");
    let overview: serde_json::Value = http.get(format!("{base}/api/v1/overview")).send().await.unwrap().json().await.unwrap();
    assert_eq!(overview["areas"][0]["key"], "health");
    assert_eq!(overview["areas"][0]["status"], "ok");
    assert_eq!(overview["sites"].as_array().unwrap().len(), 2);

    // Metrics in base units.
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("crowsnest_host_status{host=\"lb2\",region=\"sjc\",tier=\"web_lb\",status=\"ok\"} 1"), "{metrics}");
    assert!(metrics.contains("crowsnest_host_check_latency_seconds{host=\"lb1\""));
    assert!(metrics.contains("crowsnest_probe_rounds_total "));
    // Every engine's round clock, and none stale while they all run.
    for engine in ["health", "dns", "replication", "backlog"] {
        let rounds = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&format!("crowsnest_engine_rounds_total{{engine=\"{engine}\"}} ")))
            .unwrap_or_else(|| panic!("no round count for {engine}: {metrics}"));
        assert!(rounds.parse::<f64>().unwrap() >= 1.0, "{engine} has not finished a round: {rounds}");
        assert!(metrics.contains(&format!("crowsnest_engine_stale{{engine=\"{engine}\"}} 0")), "{engine} stale: {metrics}");
        assert!(metrics.contains(&format!("crowsnest_engine_round_duration_seconds{{engine=\"{engine}\"}} ")), "{engine}");
    }
    // DNS in Prometheus terms: records per status, the declared serial and the servers' serials.
    assert!(metrics.contains("crowsnest_dns_record_ok{name=\"www.example.test.\",type=\"A\"} "), "{metrics}");
    assert!(metrics.contains("crowsnest_dns_soa_serial{resolver=\"lab-auth\"} "), "{metrics}");
    assert!(metrics.contains("crowsnest_dns_declared_serial 2026112501"), "{metrics}");
    assert!(metrics.contains("crowsnest_dns_queries_per_round "), "{metrics}");
    // The whole exposition reads with the strict parser; every family it declares has samples
    // (but the few that only exist while there is something to say), with this demo's values.
    let samples = crowsnest::backlog::exposition::parse(&metrics).unwrap_or_else(|e| panic!("{e}: {metrics}"));
    let matching = |name: &str, labels: &[(&str, &str)]| -> Vec<f64> {
        samples
            .iter()
            .filter(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.iter().any(|(a, b)| a == k && b == v)))
            .map(|s| s.value)
            .collect()
    };
    let only_when_known = ["crowsnest_replica_lag_bytes", "crowsnest_replica_lag_seconds", "crowsnest_loader_eta_seconds"];
    for family in metrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split(' ').next()) {
        assert!(only_when_known.contains(&family) || !matching(family, &[]).is_empty(), "{family} is declared without a sample");
    }
    let estate = server.estate();
    let records = estate.zone.as_ref().map_or(0, |z| z.records.len()) as f64;
    let authoritative = estate.resolvers.iter().filter(|r| r.kind == config::ResolverKind::Authoritative).count() as f64;
    #[rustfmt::skip]
    let table: Vec<(&str, Vec<(&str, &str)>, f64)> = vec![
        // (series, labels, value: one sample, or the sum of the matching samples)
        ("crowsnest_info", vec![("instance", "sjc-1"), ("region", "sjc"), ("mode", "primary")], 1.0),
        ("crowsnest_host_status", vec![("host", "lb2"), ("status", "ok")], 1.0),
        ("crowsnest_host_status", vec![("host", "lb2"), ("status", "critical")], 0.0),
        ("crowsnest_host_status", vec![("status", "ok")], estate.hosts.len() as f64),
        ("crowsnest_engine_panics_total", vec![], 0.0),
        ("crowsnest_engine_stale", vec![], 0.0),
        ("crowsnest_dns_records", vec![], records),
        ("crowsnest_dns_record_ok", vec![("name", "www.example.test."), ("type", "A")], 1.0),
        ("crowsnest_dns_resolver_answers", vec![("resolver", "lab-auth")], records),
        ("crowsnest_dns_declared_serial", vec![], 2026112501.0),
        ("crowsnest_dns_queries_per_round", vec![], records * estate.resolvers.len() as f64 + authoritative),
    ];
    for (series, labels, want) in table {
        let got: f64 = matching(series, &labels).iter().sum();
        assert_eq!(got, want, "{series}{labels:?}: {metrics}");
    }
    assert!(matching("crowsnest_sse_clients", &[]).iter().all(|n| *n >= 1.0), "the stream opened above is counted: {metrics}");
    assert!(matching("crowsnest_dns_soa_serial", &[("resolver", "lab-auth")]).iter().all(|s| *s >= 2026112501.0), "{metrics}");
    assert_eq!(matching("crowsnest_db_node_status", &[]).len(), 3, "one status per database node: {metrics}");
    assert_eq!(matching("crowsnest_loader_queue_depth", &[]).len(), 3, "one depth per loader: {metrics}");
    let health: serde_json::Value = http.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["stale"].as_array().map(Vec::len), Some(0), "{health}");
    assert_eq!(health["engines"].as_array().map(Vec::len), Some(4), "{health}");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_taken_down_in_the_lab_goes_critical_and_comes_back() {
    let (server, _dir) = start(1).await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    eventually(Duration::from_secs(5), "lb2 ok", || async { (host_status(&base, "lb2").await? == "ok").then_some(()) }).await;

    // Open the live stream before the change, as a browser would.
    let mut events = http.get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    let r = http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // One interval is 1 s; allow the round in flight plus one.
    eventually(Duration::from_secs(3), "lb2 critical", || async { (host_status(&base, "lb2").await? == "critical").then_some(()) }).await;
    // The server-rendered page follows within the same round (the page cache never serves an
    // older round).
    eventually(Duration::from_secs(2), "topology page shows lb2 critical", || async {
        let html = http.get(format!("{base}/topology")).send().await.ok()?.text().await.ok()?;
        html.contains("<tr data-host=\"lb2\" data-status=\"critical\"").then_some(())
    })
    .await;
    let topology: serde_json::Value = http.get(format!("{base}/api/v1/topology")).send().await.unwrap().json().await.unwrap();
    let lb2 = &topology["regions"][0]["hosts"][1];
    assert_eq!(lb2["name"], "lb2");
    assert_eq!(lb2["health"]["detail"], "connection refused");

    // The stream pushed a snapshot with lb2 critical, without anyone asking.
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !seen.contains("connection refused") {
        assert!(Instant::now() < deadline, "no SSE event showed lb2 down; got {seen:?}");
        match tokio::time::timeout(Duration::from_secs(2), events.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("event stream ended: {other:?}"),
        }
    }
    assert!(seen.contains("event: topology"));

    // A hung host (accepts, never answers) is a timeout, not ok.
    http.post(format!("{lab}/lab/hosts/lb1")).json(&serde_json::json!({"state": "hang"})).send().await.unwrap();
    eventually(Duration::from_secs(4), "lb1 timeout", || async {
        let topology: serde_json::Value = http.get(format!("{base}/api/v1/topology")).send().await.ok()?.json().await.ok()?;
        let detail = topology["regions"][0]["hosts"][0]["health"]["detail"].as_str()?.to_string();
        detail.contains("timed out").then_some(())
    })
    .await;

    // A failing host answers 503.
    http.post(format!("{lab}/lab/hosts/web1")).json(&serde_json::json!({"state": "error"})).send().await.unwrap();
    eventually(Duration::from_secs(3), "web1 503", || async {
        let topology: serde_json::Value = http.get(format!("{base}/api/v1/topology")).send().await.ok()?.json().await.ok()?;
        let detail = topology["regions"][0]["hosts"][2]["health"]["detail"].as_str()?.to_string();
        detail.contains("HTTP 503").then_some(())
    })
    .await;

    // And back up.
    for host in ["lb1", "lb2", "web1"] {
        http.post(format!("{lab}/lab/hosts/{host}")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    }
    eventually(Duration::from_secs(4), "all ok again", || async {
        for host in ["lb1", "lb2", "web1"] {
            if host_status(&base, host).await? != "ok" {
                return None;
            }
        }
        Some(())
    })
    .await;

    // Bad input to the lab API is a clear error.
    let r = http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "sideways"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("up|down|hang|error"));
    let r = http.post(format!("{lab}/lab/hosts/lb9")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    assert_eq!(r.status(), 404);

    // Graceful shutdown completes even with an event stream open.
    let stopped = tokio::time::timeout(Duration::from_secs(8), server.stop()).await;
    assert!(stopped.is_ok(), "shutdown hung on the open event stream");
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_dns_server_answers_and_changes_at_runtime() {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RData, RecordType};
    use std::str::FromStr;

    let (server, _dir) = start(2).await;
    let lab = server.lab.as_ref().unwrap();
    let dns = lab.dns_addr.unwrap();
    let control = format!("http://{}", lab.control_addr);
    let ask = |name: &'static str| async move {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut query = Message::query();
        query.add_query(Query::query(Name::from_str(name).unwrap(), RecordType::A));
        socket.send_to(&query.to_vec().unwrap(), dns).await.unwrap();
        let mut buf = [0u8; 1500];
        let n = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf)).await.unwrap().unwrap();
        let answer = Message::from_vec(&buf[..n]).unwrap();
        let addrs: Vec<String> = answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0.to_string()),
                _ => None,
            })
            .collect();
        (answer.metadata.response_code.to_string(), addrs)
    };
    let b = block(2);
    assert_eq!(ask("www.example.test.").await, ("No Error".to_string(), vec![format!("127.{b}.1.2")]));

    // Repoint www at lb1 (the API tier): the incident's first failure.
    let http = client();
    let r = http
        .put(format!("{control}/lab/records/www/A"))
        .json(&serde_json::json!({"ttl": 30, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(ask("www.example.test.").await.1, vec![format!("127.{b}.1.1")]);

    // Delete it: the incident's second failure.
    let r = http.delete(format!("{control}/lab/records/www/A")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (rcode, addrs) = ask("www.example.test.").await;
    assert!(addrs.is_empty(), "deleted record still answers {addrs:?} ({rcode})");

    // Bad values are refused with the reason.
    let r = http
        .put(format!("{control}/lab/records/www/A"))
        .json(&serde_json::json!({"ttl": 30, "values": ["not-an-ip"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not an IPv4 address"));
    server.stop().await;
}

async fn dns_record(base: &str, key: &str) -> Option<serde_json::Value> {
    let dns: serde_json::Value = client().get(format!("{base}/api/v1/dns")).send().await.ok()?.json().await.ok()?;
    dns["records"]
        .as_array()?
        .iter()
        .find(|r| format!("{} {}", r["name"].as_str().unwrap_or(""), r["kind"].as_str().unwrap_or("")) == key)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_dns_failures_show_on_the_dns_page() {
    let (server, _dir) = start(3).await;
    let b = block(3);
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();

    // Two agreeing rounds settle www as ok.
    let www = eventually(Duration::from_secs(5), "www ok", || async {
        let r = dns_record(&base, "www.example.test. A").await?;
        (r["status"] == "ok").then_some(r)
    })
    .await;
    assert_eq!(www["required_tier"], "web_lb");
    assert!(www["declared"][0].as_str().unwrap().contains("lb2 · web_lb · San Jose"), "{www}");
    assert_eq!(www["cells"][0]["status"], "ok");

    // Repoint www at lb1, the API tier's balancer: the latest round says wrong_tier at once…
    let r = http
        .put(format!("{lab}/lab/records/www/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let latest = eventually(Duration::from_secs(8), "www latest wrong_tier", || async {
        let r = dns_record(&base, "www.example.test. A").await?;
        (r["latest"] == "wrong_tier").then_some(r)
    })
    .await;
    assert!(latest["detail"].as_str().unwrap().contains("lb1 · api_lb · San Jose"), "{latest}");
    // …and the alarm holds once two of three rounds agree.
    eventually(Duration::from_secs(8), "www settled wrong_tier", || async {
        (dns_record(&base, "www.example.test. A").await?["status"] == "wrong_tier").then_some(())
    })
    .await;

    // Topology says where www actually lands, and that it is the wrong tier.
    let topology: serde_json::Value = http.get(format!("{base}/api/v1/topology")).send().await.unwrap().json().await.unwrap();
    let host = topology["hostnames"].as_array().unwrap().iter().find(|h| h["name"] == "www.example.test").unwrap().clone();
    assert_eq!(host["dns_status"], "wrong_tier");
    assert_eq!(host["lands_on"][0], format!("127.{b}.1.1 = lb1 · api_lb · San Jose"));
    let html = http.get(format!("{base}/topology")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("WRONG TIER"), "the topology page must raise wrong tier loudly");

    // The overview names it.
    let overview: serde_json::Value = http.get(format!("{base}/api/v1/overview")).send().await.unwrap().json().await.unwrap();
    let dns_area = overview["areas"].as_array().unwrap().iter().find(|a| a["key"] == "dns").unwrap().clone();
    assert_eq!(dns_area["status"], "critical");
    assert!(dns_area["summary"].as_str().unwrap().contains("www.example.test. A wrong_tier"), "{dns_area}");

    // Delete the record: missing, once the secondary has the change and the cache let go.
    http.delete(format!("{lab}/lab/records/www/A")).send().await.unwrap();
    eventually(Duration::from_secs(12), "www missing", || async {
        (dns_record(&base, "www.example.test. A").await?["status"] == "missing").then_some(())
    })
    .await;

    // The DNS page renders the rows with their statuses, and filters without JavaScript.
    let html = http.get(format!("{base}/dns?status=missing")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-record=\"www.example.test. A\""), "filtered page lacks www");
    assert!(!html.contains("data-record=\"api.example.test. A\""), "filter let api through");
    let html = http.get(format!("{base}/dns?name=api")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-record=\"api.example.test. A\"") && !html.contains("data-record=\"www.example.test. A\""));

    // The record's page keeps its history: every status it went through, newest first.
    let html = http.get(format!("{base}/dns/record?key=www.example.test.%20A")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<h1>www.example.test. A</h1>"), "no detail heading");
    let missing = html.find("data-change-status=\"missing\"").expect("missing in history");
    let wrong = html.find("data-change-status=\"wrong_tier\"").expect("wrong_tier in history");
    let ok = html.find("data-change-status=\"ok\"").expect("ok in history");
    assert!(missing < wrong && wrong < ok, "history must be newest first");
    assert!(html.contains(&format!("lab-auth: 127.{b}.1.1")), "answers are kept with the change");
    let html = http.get(format!("{base}/dns/record?key=nope.example.test.%20A")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("No such record"));
    server.stop().await;
}

/// The demo's two authoritative servers and its caching resolver (unbound), for real: a paused
/// secondary lags (its serial behind, named as the cause of the split), and after it catches up
/// the cache still serves the old answer for its TTL, shown as stale, never as wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_secondary_and_a_stale_cache_show_as_themselves() {
    let (server, _dir) = start(6).await;
    let b = block(6);
    let base = format!("http://{}", server.addr);
    let lab_addr = server.lab.as_ref().unwrap();
    assert!(lab_addr.secondary_addr.is_some(), "the demo runs a secondary");
    assert!(lab_addr.cache_addr.is_some(), "unbound is installed by scripts/setup.sh and started by the lab");
    let lab = format!("http://{}", lab_addr.control_addr);
    let http = client();
    let status = |key: &'static str| {
        let base = base.clone();
        async move { dns_record(&base, key).await }
    };
    eventually(Duration::from_secs(15), "api ok at all three resolvers", || async {
        let r = status("api.example.test. A").await?;
        let cells = r["cells"].as_array()?;
        (r["status"] == "ok" && cells.len() == 3 && cells.iter().all(|c| c["status"] == "ok")).then_some(())
    })
    .await;

    // The secondary stops taking transfers; api moves to lb2 (the web tier) on the primary only.
    let r = http.post(format!("{lab}/lab/dns/transfers")).json(&serde_json::json!({"paused": true})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    http.put(format!("{lab}/lab/records/api/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.3.1")]}))
        .send()
        .await
        .unwrap();
    // lb4 is in api's failover pool: the primary says failed_over, the lagging secondary still
    // says ok. They disagree, both acceptable: failed over, with lab-auth-2's serial behind.
    let seen = eventually(Duration::from_secs(15), "lab-auth-2's serial named behind", || async {
        let dns: serde_json::Value = http.get(format!("{base}/api/v1/dns")).send().await.ok()?.json().await.ok()?;
        let overview: serde_json::Value = http.get(format!("{base}/api/v1/overview")).send().await.ok()?.json().await.ok()?;
        let area = overview["areas"].as_array()?.iter().find(|a| a["key"] == "dns")?.clone();
        let lagging = area["summary"].as_str()?.contains("lab-auth-2 publishes");
        (lagging && dns["soa"].as_array()?.len() == 2).then_some(area)
    })
    .await;
    assert_eq!(seen["status"], "warn", "{seen}");
    // Now an answer outside the pool on the primary: the secondary still has the old zone, so
    // the record is split, and the secondary's old serial is named as the likely cause.
    http.put(format!("{lab}/lab/records/api/A")).json(&serde_json::json!({"ttl": 60, "values": ["192.0.2.10"]})).send().await.unwrap();
    let split = eventually(Duration::from_secs(15), "api split", || async {
        let r = status("api.example.test. A").await?;
        (r["latest"] == "split").then_some(r)
    })
    .await;
    let detail = split["detail"].as_str().unwrap();
    assert!(detail.contains("lab-auth says wrong_target"), "{detail}");
    // The primary's own answer is the new one; the lagging secondary answers the declared value.
    assert!(detail.contains("lab-auth-2 says ok"), "{detail}");

    // Put it back and let the secondary catch up: the servers agree again, and whatever the
    // cache still holds is stale until it expires, then ok.
    http.put(format!("{lab}/lab/records/api/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    http.post(format!("{lab}/lab/dns/transfers")).json(&serde_json::json!({"paused": false})).send().await.unwrap();
    eventually(Duration::from_secs(15), "api ok everywhere again", || async {
        let r = status("api.example.test. A").await?;
        let cells = r["cells"].as_array()?;
        (r["status"] == "ok" && cells.iter().all(|c| c["status"] == "ok")).then_some(())
    })
    .await;
    let state: serde_json::Value = http.get(format!("{lab}/lab/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["secondary"]["serial"], state["serial"], "{state}");
    assert_eq!(state["secondary"]["transfers"], "running");
    server.stop().await;
}

/// unbound (the lab's cache) still holds an answer the servers no longer give: the record is
/// `stale`, a warning naming what the cache holds and for how long, never wrong or split.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_holding_an_old_answer_is_stale_not_wrong() {
    let (server, _dir) = start_edited(11, false, |e| e.lab.dns_cache_max_ttl_seconds = 30).await;
    let b = block(11);
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    let cell = |r: &serde_json::Value, resolver: &str| {
        r["cells"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["resolver"] == resolver))
            .map(|c| c["detail"].as_str().unwrap_or("").to_string())
    };
    // Put an outsider on both servers and wait until the cache has taken it (it may first have
    // to let go of the declared answer it holds).
    http.put(format!("{lab}/lab/records/api/A")).json(&serde_json::json!({"ttl": 60, "values": ["192.0.2.10"]})).send().await.unwrap();
    eventually(Duration::from_secs(45), "the cache holds the outsider", || async {
        let r = dns_record(&base, "api.example.test. A").await?;
        cell(&r, "lab-cache")?.contains("192.0.2.10").then_some(())
    })
    .await;
    // The servers are fixed; the cache keeps the outsider for up to 30 s more.
    http.put(format!("{lab}/lab/records/api/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    let r = eventually(Duration::from_secs(10), "servers right, cache stale", || async {
        let r = dns_record(&base, "api.example.test. A").await?;
        (r["latest"] == "stale" && cell(&r, "lab-auth")?.contains("lb1") && cell(&r, "lab-auth-2")?.contains("lb1")).then_some(r)
    })
    .await;
    let cached = cell(&r, "lab-cache").unwrap();
    assert!(cached.starts_with("its cache still holds 192.0.2.10 (outside the estate)"), "{cached}");
    assert!(cached.contains("the authoritative servers answer as declared"), "{cached}");
    assert_eq!(r["cells"].as_array().unwrap().iter().find(|c| c["resolver"] == "lab-cache").unwrap()["status"], "stale");
    server.stop().await;
}

/// A loader's push over real HTTP: 202 for a good report (seen on the backlog), 401 for a
/// wrong token, 422 with the reason for a bad body, 409 for a scraped loader, 404 for no loader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loader_push_is_accepted_refused_and_rejected_over_http() {
    use sha2::Digest;
    let token = "push-token-for-loader-ams-0123456789";
    let hash = format!("{:x}", sha2::Sha256::digest(token.as_bytes()));
    let (server, _dir) = start_edited(8, false, |e| {
        let ams = e.loaders.iter_mut().find(|l| l.name == "loader-ams").expect("the demo has loader-ams");
        ams.metrics_url = None;
        ams.push_token_sha256 = Some(hash);
    })
    .await;
    let base = format!("http://{}", server.addr);
    let http = client();
    let push = |loader: &str, bearer: Option<&str>, body: &str| {
        let mut request =
            http.post(format!("{base}/api/v1/loaders/{loader}/report")).header("content-type", "application/json").body(body.to_string());
        if let Some(b) = bearer {
            request = request.bearer_auth(b);
        }
        request.send()
    };
    let good = r#"{"queue_depth": 12, "oldest_item_age_seconds": 3.5, "enqueued_total": 100, "loaded_total": 88}"#;
    let r = push("loader-ams", Some(token), good).await.unwrap();
    assert_eq!(r.status(), 202, "{}", r.text().await.unwrap());
    let backlog = eventually(Duration::from_secs(5), "the pushed depth on the backlog", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        (loader(&b, "loader-ams")["depth"] == 12.0).then_some(b)
    })
    .await;
    assert_eq!(loader(&backlog, "loader-ams")["source"], "push");
    let r = push("loader-ams", Some("not-the-token"), good).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = push("loader-ams", None, good).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = push("loader-ams", Some(token), r#"{"queue_depth": -1, "oldest_item_age_seconds": 0, "enqueued_total": 0, "loaded_total": 0}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("rejected report for loader \"loader-ams\": queue_depth must be a finite number"), "{body}");
    let r = push("loader-ams", Some(token), "not json").await.unwrap();
    assert_eq!(r.status(), 422);
    let r = push("loader-sjc", Some(token), good).await.unwrap();
    assert!(matches!(r.status().as_u16(), 401 | 409), "a scraped loader takes no pushes: {}", r.status());
    let r = push("loader-nowhere", Some(token), good).await.unwrap();
    assert!(matches!(r.status().as_u16(), 401 | 404), "no such loader: {}", r.status());
    server.stop().await;
}

/// Past `instance.max_event_streams`, a new live stream is refused with a clear 503 (and the
/// pages still load); when a stream closes, the next one is admitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_streams_past_the_limit_get_a_clear_503() {
    let (server, _dir) = start_edited(9, false, |e| e.instance.max_event_streams = 2).await;
    let base = format!("http://{}", server.addr);
    let events = format!("{base}/api/v1/events?snapshots=false");
    let streamer = reqwest::Client::builder().no_proxy().build().unwrap();
    let first = streamer.get(&events).send().await.unwrap();
    let second = streamer.get(&events).send().await.unwrap();
    assert_eq!((first.status(), second.status()), (reqwest::StatusCode::OK, reqwest::StatusCode::OK));
    let third = client().get(&events).send().await.unwrap();
    assert_eq!(third.status(), 503);
    assert_eq!(third.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("15"));
    let body: serde_json::Value = third.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("max_event_streams = 2"), "{body}");
    // Pages are not streams: they still load.
    assert_eq!(client().get(format!("{base}/topology")).send().await.unwrap().status(), 200);
    drop(first);
    eventually(Duration::from_secs(20), "a closed stream frees its slot", || async {
        let r = streamer.get(&events).send().await.ok()?;
        (r.status() == 200).then_some(r)
    })
    .await;
    drop(second);
    server.stop().await;
}

/// A tab that stops reading its live stream is dropped once its receive window has been shut
/// for `instance.stalled_client_seconds`, while a tab that reads keeps getting every turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_without_slowing_others() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, _dir) = start_edited(12, false, |e| {
        e.instance.stalled_client_seconds = 2;
        e.probes.interval_seconds = 1;
        e.probes.timeout_ms = 800;
    })
    .await;
    let base = format!("http://{}", server.addr);
    let open_streams = || async {
        let text = client().get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
        text.lines().find_map(|l| l.strip_prefix("crowsnest_sse_clients ")).and_then(|v| v.trim().parse::<u32>().ok())
    };
    // The stalled tab: a receive buffer of a few kilobytes, snapshots asked for, never read.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(server.addr).await.unwrap();
    // Host: the address (a made-up name would be refused as DNS rebinding, 421).
    let request = format!("GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n", server.addr);
    stalled.write_all(request.as_bytes()).await.unwrap();
    // The reading tab.
    let mut reading = client().get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(reading.status(), 200);
    eventually(Duration::from_secs(20), "both streams open", || async { (open_streams().await? == 2).then_some(()) }).await;
    // The stalled stream goes; the reader sees new generations all along.
    let mut ids = std::collections::BTreeSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), reading.chunk()).await.expect("the reading tab hears within 10 s");
        let chunk = chunk.unwrap().expect("the reading stream stays open");
        for line in String::from_utf8_lossy(&chunk).lines() {
            if let Some(id) = line.strip_prefix("id:") {
                ids.insert(id.trim().parse::<u64>().unwrap());
            }
        }
        if open_streams().await == Some(1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the stalled stream was never dropped");
    }
    assert!(ids.len() >= 3, "the reading tab kept getting generations while the other stalled: {ids:?}");
    // The stalled socket was closed by the server: reading it now ends (after what was buffered).
    let mut sink = vec![0u8; 1 << 16];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closed the stalled connection");
    server.stop().await;
}

/// A zone of 250 more records: the DNS page shows problems first, 100 rows a page, counts per
/// status, and page links that work without JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_zone_is_paged_problems_first() {
    let b = block(10);
    let (server, _dir) = start_edited(10, false, |e| {
        let zone = e.zone.as_mut().expect("the demo declares a zone");
        for i in 0..250 {
            zone.records.push(config::RecordConfig {
                name: format!("host{i:03}"),
                kind: config::RecordKind::A,
                ttl: 60,
                values: vec![format!("127.{b}.2.1")],
                failover: vec![],
            });
        }
    })
    .await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    // One record goes missing at the servers.
    http.delete(format!("{lab}/lab/records/host123/A")).send().await.unwrap();
    let html = eventually(Duration::from_secs(20), "host123 missing, first on page 1", || async {
        let html = http.get(format!("{base}/dns")).send().await.ok()?.text().await.ok()?;
        // Settled as missing (two agreeing rounds), not merely first while still unchecked.
        let first = html.find("<tr data-record=")?;
        let tag = &html[first..first + html[first..].find('>')?];
        (tag.starts_with("<tr data-record=\"host123.example.test. A\"") && tag.contains("data-dns-status=\"missing\"")).then_some(html)
    })
    .await;
    assert_eq!(html.matches("<tr data-record=").count(), 100, "one page of rows");
    assert!(html.contains("Page 1 of 3"), "the pager says where we are");
    assert!(html.contains("matching (255 declared), problems first"), "counts in words");
    let count = html.split("<li data-count=\"missing\">").nth(1).and_then(|rest| rest.split("</li>").next()).expect("a count for missing");
    assert!(count.contains("href=\"/dns?status=missing\"") && count.contains("<strong>1</strong>"), "counts link to their filter: {count}");
    assert!(html.contains("href=\"/dns?page=2\""), "a next link");
    // The last page, by its link alone.
    let last = http.get(format!("{base}/dns?page=3")).send().await.unwrap().text().await.unwrap();
    assert_eq!(last.matches("<tr data-record=").count(), 55);
    assert!(last.contains("Page 3 of 3") && last.contains("href=\"/dns?page=2\""));
    // A filter keeps its pages small too.
    let missing = http.get(format!("{base}/dns?status=missing")).send().await.unwrap().text().await.unwrap();
    assert_eq!(missing.matches("<tr data-record=").count(), 1);
    assert!(!missing.contains("Page 1 of"), "one page needs no pager");
    // The JSON API is paged the same way: never every record in one body.
    let api: serde_json::Value = http.get(format!("{base}/api/v1/dns")).send().await.unwrap().json().await.unwrap();
    assert_eq!(api["records"].as_array().map(Vec::len), Some(100), "one page of records");
    assert_eq!(
        (api["paging"]["page"].as_u64(), api["paging"]["pages"].as_u64(), api["paging"]["per_page"].as_u64()),
        (Some(1), Some(3), Some(100))
    );
    let api: serde_json::Value = http.get(format!("{base}/api/v1/dns?page=3")).send().await.unwrap().json().await.unwrap();
    assert_eq!(api["records"].as_array().map(Vec::len), Some(55), "the last page");
    let bad = http.get(format!("{base}/api/v1/dns?page=x")).send().await.unwrap();
    assert_eq!(bad.status(), 400, "a bad page is a clear error");
    server.stop().await;
}

/// Debian's Prometheus, started on a loopback port for one test; killed when dropped.
struct Prometheus {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus scraping `target` (`host:port`) every second.
async fn prometheus(target: &str) -> Prometheus {
    assert!(Path::new("/usr/bin/prometheus").exists(), "Prometheus is needed: scripts/setup.sh installs Debian's prometheus");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: crowsnest\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    let port = crowsnest::lab::free_port();
    let child = std::process::Command::new("/usr/bin/prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let running = Prometheus { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
    let ready = format!("{}/-/ready", running.base);
    eventually(Duration::from_secs(30), "Prometheus ready", || async {
        (client().get(&ready).send().await.ok()?.status() == 200).then_some(())
    })
    .await;
    running
}

/// The first sample of an instant query's result, as a number.
async fn query(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let reply: serde_json::Value =
        client().get(format!("{}/api/v1/query", prometheus.base)).query(&[("query", promql)]).send().await.ok()?.json().await.ok()?;
    reply["data"]["result"].as_array()?.first()?["value"][1].as_str()?.parse().ok()
}

/// A real Prometheus scrapes `/metrics` and a DNS series and an engine series come back from
/// its query API: the exposition is valid for the real parser, not only for ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_console_and_queries_dns_back() {
    let (server, _dir) = start(7).await;
    let prometheus = prometheus(&server.addr.to_string()).await;
    eventually(Duration::from_secs(30), "the scrape is up", || async {
        (query(&prometheus, "up{job=\"crowsnest\"}").await? == 1.0).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "www answers as declared, by Prometheus", || async {
        (query(&prometheus, "crowsnest_dns_record_ok{name=\"www.example.test.\",type=\"A\"}").await? == 1.0).then_some(())
    })
    .await;
    let rounds = eventually(Duration::from_secs(30), "the DNS engine's rounds", || async {
        query(&prometheus, "crowsnest_engine_rounds_total{engine=\"dns\"}").await.filter(|n| *n >= 1.0)
    })
    .await;
    assert!(rounds >= 1.0);
    let ok = query(&prometheus, "sum(crowsnest_dns_records{status=\"ok\"})").await.expect("records per status");
    assert!(ok >= 1.0, "{ok}");
    drop(prometheus);
    server.stop().await;
}

async fn json(url: &str) -> Option<serde_json::Value> {
    client().get(url).send().await.ok()?.json().await.ok()
}

fn loader<'a>(backlog: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    backlog["loaders"].as_array().and_then(|l| l.iter().find(|l| l["name"] == name)).expect("loader listed")
}

/// The lab demo end to end: real PostgreSQL behind db1's proxy, three real loaders scraped.
/// Cutting db1 off stalls the loaders (depth grows) and disconnects the replicas; bringing it
/// back drains the queues with an ETA, and the fail-back verdict follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_backlog_grows_while_the_primary_is_cut_off_and_drains_after() {
    let (server, _dir) = start_with(4, true).await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let replica_status = |r: &serde_json::Value, host: &str| {
        r["clusters"][0]["nodes"]
            .as_array()
            .and_then(|n| n.iter().find(|n| n["host"] == host))
            .map(|n| n["status"].as_str().unwrap_or("").to_string())
    };
    eventually(Duration::from_secs(40), "replicas streaming through the lab proxy", || async {
        let r = json(&format!("{base}/api/v1/replication")).await?;
        (replica_status(&r, "db-sin")? == "ok" && replica_status(&r, "db-ams")? == "ok").then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "the verdict to say safe", || async {
        let o = json(&format!("{base}/api/v1/overview")).await?;
        (o["fail_back"]["safe"] == true).then_some(())
    })
    .await;

    let cut = client().post(format!("{lab}/lab/hosts/db1")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    assert_eq!(cut.status(), 200);
    let depth_then = eventually(Duration::from_secs(30), "loaders to stall while db1 is cut off", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        let l = loader(&b, "loader-sin");
        (l["status"] == "stalled").then(|| l["depth"].as_f64().unwrap_or(0.0))
    })
    .await;
    eventually(Duration::from_secs(30), "replicas disconnected and the primary unknown", || async {
        let r = json(&format!("{base}/api/v1/replication")).await?;
        (replica_status(&r, "db1")? == "unknown" && replica_status(&r, "db-sin")? == "disconnected").then_some(())
    })
    .await;
    let o = json(&format!("{base}/api/v1/overview")).await.unwrap();
    assert_eq!(o["fail_back"]["safe"], false, "not safe while db1 is cut off: {}", o["fail_back"]);
    let reasons = o["fail_back"]["reasons"].to_string();
    assert!(reasons.contains("db1") && reasons.contains("loader-sin"), "{reasons}");
    // The backlog grows: polled with a deadline, not read once after a fixed sleep.
    eventually(Duration::from_secs(15), "the backlog grows", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        (loader(&b, "loader-sin")["depth"].as_f64()? > depth_then).then_some(())
    })
    .await;

    client().post(format!("{lab}/lab/hosts/db1")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    // Draining: ok with an ETA while the backlog lasts, or ok and already back under the depth
    // it stalled at (a loaded machine can see the rate window turn ok only after the drain).
    eventually(Duration::from_secs(30), "draining after db1 is back", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        let l = loader(&b, "loader-sin");
        let eta = l["eta_seconds"].as_f64().is_some_and(|eta| eta > 0.0);
        let drained = l["depth"].as_f64().is_some_and(|depth| depth < depth_then);
        (l["status"] == "ok" && (eta || drained)).then_some(())
    })
    .await;
    eventually(Duration::from_secs(60), "replicas streaming again and the verdict safe", || async {
        let o = json(&format!("{base}/api/v1/overview")).await?;
        (o["fail_back"]["safe"] == true).then_some(())
    })
    .await;

    // The primary server really stopped, then started again: the same backing up and draining.
    let stop = client().post(format!("{lab}/lab/postgres/db1")).json(&serde_json::json!({"state": "stopped"})).send().await.unwrap();
    assert_eq!(stop.status(), 200, "{}", stop.text().await.unwrap_or_default());
    // A burst of writes at the Amsterdam loader while the master is down.
    let burst =
        client().post(format!("http://127.{}.3.5:9100/enqueue", block(4))).json(&serde_json::json!({"items": 600})).send().await.unwrap();
    assert_eq!(burst.status(), 202);
    eventually(Duration::from_secs(30), "loaders backing up while the primary is stopped", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        let status = loader(&b, "loader-ams")["status"].as_str()?.to_string();
        (status == "growing" || status == "stalled").then_some(())
    })
    .await;
    let start = client().post(format!("{lab}/lab/postgres/db1")).json(&serde_json::json!({"state": "running"})).send().await.unwrap();
    assert_eq!(start.status(), 200);
    eventually(Duration::from_secs(40), "draining with an ETA after the primary restarts", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        let l = loader(&b, "loader-ams");
        (l["status"] == "ok" && l["eta_seconds"].as_f64().is_some()).then_some(())
    })
    .await;
    let bad = client().post(format!("{lab}/lab/postgres/db1")).json(&serde_json::json!({"state": "paused"})).send().await.unwrap();
    assert_eq!(bad.status(), 400, "a bad state is refused with a reason");

    let page = client().get(format!("{base}/backlog")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-loader=\"loader-sin\"") && page.contains("data-status-word=\""), "the backlog page renders loaders");
    let page = client().get(format!("{base}/replication")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("db-ams") && page.contains("Replication slots"), "the replication page renders the cluster");
    let metrics = client().get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("crowsnest_replica_lag_seconds{cluster=\"main\",host=\"db-sin\"}"), "{metrics}");
    server.stop().await;
}

/// The push endpoint over HTTP: status codes for every refusal, and a clear error body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loaders_push_reports_over_http_with_a_bearer_token() {
    let (server, _dir) = start(5).await;
    let base = format!("http://{}", server.addr);
    let post = |loader: &str, token: Option<&str>, body: &str| {
        let mut request = client()
            .post(format!("{base}/api/v1/loaders/{loader}/report"))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send()
    };
    let good = r#"{"queue_depth": 1, "oldest_item_age_seconds": 0, "enqueued_total": 1, "loaded_total": 0}"#;
    // The demo's loaders are scraped, not pushed: 409, with the reason.
    let r = post("loader-sin", Some("x"), good).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("does not push"));
    assert_eq!(post("nobody", Some("x"), good).await.unwrap().status(), 404);
    server.stop().await;
}
