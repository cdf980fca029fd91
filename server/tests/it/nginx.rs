//! Maintenance mode through a real nginx: Debian's nginx, started unprivileged under a temp
//! prefix on loopback with the shipped `deploy/nginx/crowsnest-site.conf`, in front of a real
//! upstream, with a real Crowsnest writing the edge files and looking through the balancer.

use crowsnest::run::{Server, Site};
use reqwest::{Method, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common;
use common::{browser, csrf_in, eventually, login_as, start_nginx, Role, Tier};

/// A port free on 127.0.0.1 now.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_is_served_by_nginx_for_every_method_without_a_reload() {
    assert!(Path::new("/usr/sbin/nginx").exists(), "nginx is needed for this test: scripts/setup.sh installs Debian's nginx");
    let dir = tempfile::tempdir().unwrap();
    let edge = dir.path().join("edge");

    // The upstream web tier.
    let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream_port = upstream.local_addr().unwrap().port();
    let web = axum::Router::new().fallback(|| async { "hello from the web tier" });
    tokio::spawn(async move { axum::serve(upstream, web).await });

    // Crowsnest, publishing to the edge directory nginx reads and looking through nginx.
    let port = crowsnest::lab::free_port();
    let hash = crowsnest::auth::password::hash("alice-oncall-pw").unwrap();
    let estate = common::load(
        &common::estate("sjc-1", "sjc", &dir.path().join("data"))
            .probes(1, 800)
            .set("edge", "dir", edge.display().to_string())
            .regions(&["sjc"])
            .site("web", false)
            .and("check_url", format!("http://127.0.0.1:{port}/"))
            .hostname("www.example.test", Tier::WebLb, Some("web"))
            .user("alice", Role::Oncall, &hash),
    );
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let server = Server::start(Arc::new(estate), Site { root: site }, false).await.unwrap();
    let console = format!("http://{}", server.addr);

    let nginx = start_nginx(format!("127.0.0.1:{port}"), format!("127.0.0.1:{upstream_port}"), &edge, &dir.path().join("nginx"));
    // What a reload or restart would change: the process (pid and its start time, which a
    // reused pid would not share) and the config nginx reads.
    let conf_dir = dir.path().join("nginx/conf");
    let identity = |pid: u32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Field 22, after the parenthesised command name: the start time in clock ticks.
        let started = stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().nth(19)).map(str::to_string);
        let mut conf: Vec<(String, Vec<u8>)> = std::fs::read_dir(&conf_dir)
            .map(|d| {
                d.flatten().map(|e| (e.file_name().to_string_lossy().to_string(), std::fs::read(e.path()).unwrap_or_default())).collect()
            })
            .unwrap_or_default();
        conf.sort();
        (started, conf)
    };
    let pid = nginx.0.id();
    let balancer = format!("http://127.0.0.1:{port}");
    let plain = common::client();
    let ask = |method: Method, path: &str, host: &str| plain.request(method, format!("{balancer}{path}")).header("host", host).send();

    // Normal service through the balancer.
    eventually(Duration::from_secs(10), "nginx to answer", || async {
        let r = ask(Method::GET, "/", "www.example.test").await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    assert_eq!(ask(Method::GET, "/", "www.example.test").await.unwrap().text().await.unwrap(), "hello from the web tier");

    // API traffic on the web tier, and hostnames it does not serve: 421 with a clear body.
    let r = ask(Method::GET, "/v1/things", "api.example.test").await.unwrap();
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    assert!(r.text().await.unwrap().contains("served by the API tier"));
    let r = ask(Method::POST, "/api/v1/things", "www.example.test").await.unwrap();
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(ask(Method::GET, "/", "elsewhere.example").await.unwrap().status(), StatusCode::MISDIRECTED_REQUEST);

    let before = identity(pid);
    assert!(before.0.is_some() && !before.1.is_empty(), "nginx's process and config can be read: {:?}", before.0);
    // Log in as on-call and turn maintenance on, with an expected end in two hours.
    let http = browser();
    let r = login_as(&console, &http, "alice", "alice-oncall-pw").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = http.get(format!("{console}/actions")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).unwrap();
    let end = app::format::utc(crowsnest::clock::now_ms() + 2 * 3600 * 1000 + 120_000).trim_end_matches(" UTC").replace(' ', "T");
    let r = http
        .post(format!("{console}/actions"))
        .form(&[
            ("csrf", token.as_str()),
            ("kind", "maintenance_on"),
            ("site", "web"),
            ("reason", "primary datacenter unreachable"),
            ("confirmation", "web"),
            ("message", "Back soon <b>& thanks</b>"),
            ("expected_end", end.as_str()),
            ("idempotency_key", "nginx-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());

    // Every method answers 503 with Retry-After (the expected end's bucket), no-store and the page.
    for method in [Method::GET, Method::POST, Method::HEAD, Method::PUT, Method::DELETE] {
        let r = ask(method.clone(), "/checkout", "www.example.test").await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{method}");
        assert_eq!(r.headers()["retry-after"], "7200", "{method}");
        assert_eq!(r.headers()["cache-control"], "no-store", "{method}");
        if method != Method::HEAD {
            let body = r.text().await.unwrap();
            assert!(body.contains("Back soon &lt;b&gt;&amp; thanks&lt;/b&gt;"), "{method}: {body}");
            assert!(!body.contains("<b>"), "the message is escaped");
        }
    }
    // Crowsnest sees what users see: requested = observed.
    eventually(Duration::from_secs(10), "the console to observe the maintenance page", || async {
        let board: serde_json::Value = http.get(format!("{console}/api/v1/actions")).send().await.ok()?.json().await.ok()?;
        let web = board["sites"].as_array()?.iter().find(|s| s["name"] == "web")?.clone();
        (web["maintenance"] == true && web["observed"]["maintenance_seen"] == true && web["observed"]["status_code"] == 503).then_some(())
    })
    .await;
    let html = http.get(format!("{console}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-observed=\"agree\"") && html.contains("users see the maintenance page"));

    // Off: the upstream answers again, with no reload (same nginx process, no signal sent).
    let r = http
        .post(format!("{console}/actions"))
        .form(&[
            ("csrf", token.as_str()),
            ("kind", "maintenance_off"),
            ("site", "web"),
            ("reason", "primary is back and healthy"),
            ("confirmation", "web"),
            ("idempotency_key", "nginx-2"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = ask(Method::POST, "/checkout", "www.example.test").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello from the web tier");
    assert_eq!(nginx.0.id(), pid);
    assert_eq!(identity(pid), before, "the same nginx process, with the same config, served both: no reload, no restart");
    eventually(Duration::from_secs(10), "the console to observe normal service", || async {
        let board: serde_json::Value = http.get(format!("{console}/api/v1/actions")).send().await.ok()?.json().await.ok()?;
        let web = board["sites"].as_array()?.iter().find(|s| s["name"] == "web")?.clone();
        (web["maintenance"] == false && web["observed"]["status_code"] == 200).then_some(())
    })
    .await;
    drop(nginx);
    server.stop().await;
}

/// The public status page through the shipped nginx config: written by the console into the
/// edge directory, then served by nginx alone once the console is stopped: the page, the
/// Statuspage-shaped JSON and the badge, each saying as of when and from where.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_is_served_by_nginx_with_the_console_stopped() {
    use toml_edit::Value;
    assert!(Path::new("/usr/sbin/nginx").exists(), "nginx is needed for this test: scripts/setup.sh installs Debian's nginx");
    let dir = tempfile::tempdir().unwrap();
    let edge = dir.path().join("edge");
    // lb2 answers (a listener the test holds); lb4's port is closed.
    let up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = crowsnest::lab::free_port();
    let list = |items: &[&str]| Value::from_iter(items.iter().copied());
    let estate = common::load(
        &common::estate("sjc-1", "sjc", &dir.path().join("data"))
            .probes(1, 500)
            .set("edge", "dir", edge.display().to_string())
            .regions(&["sjc"])
            .host("lb2", "sjc", Tier::WebLb, "127.0.0.1".parse().unwrap(), common::Check::Tcp(up.local_addr().unwrap().port()))
            .host("lb4", "sjc", Tier::WebLb, "127.0.0.2".parse().unwrap(), common::Check::Tcp(closed))
            .site("web", false)
            .hostname("www.example.test", Tier::WebLb, Some("web"))
            .set("status_page", "title", "Example status")
            .push_in(
                "status_page",
                "components",
                &[("name", "Website".into()), ("group", "Public".into()), ("hosts", list(&["lb2"])), ("sites", list(&["web"]))],
            )
            .push_in("status_page", "components", &[("name", "Checkout".into()), ("group", "Public".into()), ("hosts", list(&["lb4"]))])
            .push_in("status_page", "components", &[("name", "Both balancers".into()), ("hosts", list(&["lb2", "lb4"]))]),
    );
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let estate = Arc::new(estate);
    let elsewhere = dir.path().join("export");
    assert_ne!(crowsnest::cli::status_export(&estate, &elsewhere), std::process::ExitCode::SUCCESS, "nothing published yet");
    let server = Server::start(estate.clone(), Site { root: site }, false).await.unwrap();
    let port = crowsnest::lab::free_port();
    let _nginx = start_nginx(format!("127.0.0.1:{port}"), "127.0.0.1:9", &edge, &dir.path().join("nginx"));
    let plain = common::client();
    let get = |path: &str| plain.get(format!("http://127.0.0.1:{port}{path}")).header("host", "status.example.test").send();
    let summary = eventually(Duration::from_secs(20), "the judged statuses published", || async {
        let r = get("/api/v2/summary.json").await.ok()?;
        let v: serde_json::Value = serde_json::from_str(&r.text().await.ok()?).ok()?;
        let status = |name: &str| v["components"].as_array()?.iter().find(|c| c["name"] == name).map(|c| c["crowsnest_status"].clone());
        let judged =
            status("Website")? == "operational" && status("Checkout")? == "major_outage" && status("Both balancers")? == "partial_outage";
        // The page is written last (never newer than its data): wait for it too.
        let html = get("/").await.ok()?.text().await.ok()?;
        (judged && html.contains("<li data-status=\"major_outage\"><span class=\"name\">Checkout</span>")).then_some(v)
    })
    .await;
    assert_eq!(summary["status"]["indicator"], "critical");
    assert_eq!(summary["page"]["name"], "Example status");
    server.stop().await;
    drop(up);

    // The console is gone: nginx still serves its last page, JSON and badge.
    let r = get("/").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("<h1>Example status</h1>") && html.contains("(sjc-1)"), "{html}");
    assert!(html.contains("<li data-status=\"major_outage\"><span class=\"name\">Checkout</span>"), "{html}");
    let r = get("/api/v2/status.json").await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let status: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status["status"], serde_json::json!({"indicator": "critical", "description": "Major System Outage"}));
    let r = get("/badge.svg").await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert!(r.text().await.unwrap().contains("Major System Outage"));
    let r = get("/history.atom").await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/atom+xml");
    assert!(r.text().await.unwrap().contains("<feed xmlns=\"http://www.w3.org/2005/Atom\""));
    let r = get("/api/v2/incidents/unresolved.json").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["incidents"], serde_json::json!([]));
    assert_eq!(get("/../data/local.db").await.unwrap().status(), StatusCode::NOT_FOUND, "only the page's files");
    // `crowsnest status export DIR`: the same files, to host anywhere else.
    assert_eq!(crowsnest::cli::status_export(&estate, &elsewhere), std::process::ExitCode::SUCCESS);
    for file in crowsnest::cli::STATUS_FILES {
        assert_eq!(std::fs::read(elsewhere.join(file)).unwrap(), std::fs::read(edge.join("status").join(file)).unwrap(), "{file}");
    }
}
