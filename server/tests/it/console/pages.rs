//! Pages rendered on the server with live health, and a host the lab takes down and brings back.

use super::*;

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
