//! The console against the real lab: both started on loopback, pages and JSON checked over HTTP,
//! a host taken down through the lab's control API and seen going critical.

use crowsnest::config;
use crowsnest::run::{Server, Site};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{client, eventually};

const DEMO: &str = include_str!("../../deploy/demo.toml");

/// A UDP port that is free now (the lab binds UDP and TCP on it; the resolver config names it).
fn free_dns_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The demo estate moved to its own loopback block and free ports, probing every second, with
/// the lab's PostgreSQL on or off.
fn estate_with(block: u8, data_dir: &Path, postgres: bool) -> config::Estate {
    let dns_port = free_dns_port();
    let text = DEMO
        .replace("127.0.1.", &format!("127.{block}.1."))
        .replace("127.0.2.", &format!("127.{block}.2."))
        .replace("127.0.3.", &format!("127.{block}.3."))
        .replace("listen = \"127.0.0.1:3000\"", "listen = \"127.0.0.1:0\"")
        .replace("control_listen = \"127.0.0.1:3100\"", "control_listen = \"127.0.0.1:0\"")
        .replace("127.0.0.1:5354", &format!("127.0.0.1:{dns_port}"))
        .replace("interval_seconds = 5", "interval_seconds = 1")
        // Tests that need the lab's PostgreSQL turn it back on (see `start_with_postgres`).
        .replace("postgres = true", if postgres { "postgres = true" } else { "postgres = false" })
        .replace("interval_seconds = 2", "interval_seconds = 1")
        .replace("timeout_ms = 1500", "timeout_ms = 800")
        .replace("stopped_after_seconds = 10", "stopped_after_seconds = 4")
        .replace("timeout_ms = 2000", "timeout_ms = 800")
        .replace("data_dir = \"data\"", &format!("data_dir = {:?}", data_dir.display().to_string()));
    let mut estate = config::parse(Path::new("test.toml"), &text).unwrap_or_else(|e| panic!("{}", config::report(&e)));
    // These tests read pages as a wall display would; logins have their own tests (`auth.rs`).
    estate.auth.anonymous_role = Some(app::auth::Role::Viewer);
    estate
}

/// A loopback block no other test in this run uses.
fn block(n: u8) -> u8 {
    50 + (std::process::id() % 50) as u8 * 4 + n
}

async fn start(n: u8) -> (Server, tempfile::TempDir) {
    start_with(n, false).await
}

async fn start_with(n: u8, postgres: bool) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let estate = Arc::new(estate_with(block(n), dir.path(), postgres));
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
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string()).unwrap_or_default()
            };
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

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_taken_down_in_the_lab_goes_critical_and_comes_back() {
    let (server, _dir) = start(1).await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    eventually(Duration::from_secs(5), "lb2 ok", || async {
        (host_status(&base, "lb2").await? == "ok").then_some(())
    })
    .await;

    // Open the live stream before the change, as a browser would.
    let mut events = http.get(format!("{base}/api/v1/events")).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    let r = http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // One interval is 1 s; allow the round in flight plus one.
    eventually(Duration::from_secs(3), "lb2 critical", || async {
        (host_status(&base, "lb2").await? == "critical").then_some(())
    })
    .await;
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
            .filter_map(|r| match &r.data { RData::A(a) => Some(a.0.to_string()), _ => None })
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
    dns["records"].as_array()?.iter().find(|r| format!("{} {}", r["name"].as_str().unwrap_or(""), r["kind"].as_str().unwrap_or("")) == key).cloned()
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
    let latest = eventually(Duration::from_secs(3), "www latest wrong_tier", || async {
        let r = dns_record(&base, "www.example.test. A").await?;
        (r["latest"] == "wrong_tier").then_some(r)
    })
    .await;
    assert!(latest["detail"].as_str().unwrap().contains("lb1 · api_lb · San Jose"), "{latest}");
    // …and the alarm holds once two of three rounds agree.
    eventually(Duration::from_secs(3), "www settled wrong_tier", || async {
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

    // Delete the record: missing.
    http.delete(format!("{lab}/lab/records/www/A")).send().await.unwrap();
    eventually(Duration::from_secs(4), "www missing", || async {
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
    tokio::time::sleep(Duration::from_secs(2)).await;
    let b = json(&format!("{base}/api/v1/backlog")).await.unwrap();
    assert!(loader(&b, "loader-sin")["depth"].as_f64().unwrap() > depth_then, "the backlog grows: {}", loader(&b, "loader-sin"));

    client().post(format!("{lab}/lab/hosts/db1")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    let eta = eventually(Duration::from_secs(30), "draining with an ETA", || async {
        let b = json(&format!("{base}/api/v1/backlog")).await?;
        let l = loader(&b, "loader-sin");
        (l["status"] == "ok").then(|| l["eta_seconds"].as_f64()).flatten()
    })
    .await;
    assert!(eta > 0.0);
    eventually(Duration::from_secs(60), "replicas streaming again and the verdict safe", || async {
        let o = json(&format!("{base}/api/v1/overview")).await?;
        (o["fail_back"]["safe"] == true).then_some(())
    })
    .await;

    // The primary server really stopped, then started again: the same backing up and draining.
    let stop = client().post(format!("{lab}/lab/postgres/db1")).json(&serde_json::json!({"state": "stopped"})).send().await.unwrap();
    assert_eq!(stop.status(), 200, "{}", stop.text().await.unwrap_or_default());
    // A burst of writes at the Amsterdam loader while the master is down.
    let burst = client()
        .post(format!("http://127.{}.3.5:9100/enqueue", block(4)))
        .json(&serde_json::json!({"items": 600}))
        .send()
        .await
        .unwrap();
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
