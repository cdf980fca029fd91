//! A console killed with SIGKILL in the middle of delivering a page: the restarted process
//! delivers the notice from its outbox under the same key, does not page again for what still
//! fires (it kept what it told), and sends one resolve when it is over. The console is the real
//! binary; the receiver is a webhook sink that can hold a request open, as a slow pager does.

use crate::common::{self, eventually};
use crate::common::{Check, Tier};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::{Child, Command};

const BINARY: &str = env!("CARGO_BIN_EXE_crowsnest");

/// Every request received as (delivery key, body, answered 200); holds requests open (never
/// answering) while `hang` is set.
#[derive(Clone, Default)]
struct Pager {
    heard: Arc<Mutex<Vec<(String, String, bool)>>>,
    hang: Arc<AtomicBool>,
}

impl Pager {
    async fn start(&self) -> String {
        use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post, Router};
        let app = Router::new()
            .route(
                "/notices",
                post(|State(pager): State<Pager>, headers: HeaderMap, body: String| async move {
                    let key = headers.get("x-crowsnest-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    let hang = pager.hang.load(Ordering::SeqCst);
                    pager.heard.lock().unwrap().push((key, body, !hang));
                    if hang {
                        // Longer than the console's attempt timeout and than the test.
                        tokio::time::sleep(Duration::from_secs(600)).await;
                    }
                    StatusCode::OK
                }),
            )
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/notices")
    }

    /// The notices answered 200, as (key, status, the alerts' states), oldest first.
    fn taken(&self) -> Vec<(String, String)> {
        self.heard
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(key, body, _)| {
                let notice: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                let states: Vec<String> = notice["alerts"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| format!("{} {}", a["state"].as_str().unwrap_or("?"), a["name"].as_str().unwrap_or("?")))
                    .collect();
                (key.clone(), states.join(","))
            })
            .collect()
    }
}

fn spawn(config: &Path, site: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(BINARY)
        .args(["--config", &config.display().to_string(), "serve", "--site-root", &site.display().to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the crowsnest binary starts")
}

/// lb2's status, from `/metrics` (public in this estate: the test has no session).
async fn host_status(base: &str) -> Option<String> {
    let text = reqwest::get(format!("{base}/metrics")).await.ok()?.text().await.ok()?;
    let line = text.lines().find(|l| l.starts_with("crowsnest_host_status{host=\"lb2\"") && l.ends_with(" 1"))?;
    let status = line.split("status=\"").nth(1)?.split('"').next()?;
    Some(status.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_survives_kill_9_mid_delivery_and_a_restart_does_not_page_again() {
    let dir = tempfile::tempdir().unwrap();
    let (data, site, log) = (dir.path().join("data"), dir.path().join("site"), dir.path().join("console.log"));
    std::fs::create_dir_all(&site).unwrap();
    let pager = Pager::default();
    let url = pager.start().await;
    // lb2 is "up" while this listener accepts, down once it is dropped.
    let balancer = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = balancer.local_addr().unwrap().port();
    let console: SocketAddr = format!("127.0.0.1:{}", crowsnest::lab::free_port()).parse().unwrap();
    let builder = common::estate("sjc-1", "sjc", &data)
        .listen(console)
        .probes(1, 500)
        .set("auth", "public_metrics", true)
        .regions(&["sjc"])
        .host("lb2", "sjc", Tier::WebLb, "127.0.0.1".parse().unwrap(), Check::Tcp(port))
        .push_in("alerting", "webhooks", &[("name", "pager".into()), ("url", url.into()), ("secret", "a-pager-secret-0123456789".into())])
        .set("alerting", "group_wait_seconds", 0i64);
    common::load(&builder);
    let config = dir.path().join("crowsnest.toml");
    std::fs::write(&config, builder.text()).unwrap();
    let base = format!("http://{console}");

    let mut first = spawn(&config, &site, &log);
    eventually(Duration::from_secs(30), "lb2 up", || async { (host_status(&base).await? == "ok").then_some(()) }).await;

    // The pager holds the first attempt open; the console is killed while it waits.
    pager.hang.store(true, Ordering::SeqCst);
    drop(balancer);
    let key = eventually(Duration::from_secs(30), "the page attempted", || async {
        pager.heard.lock().unwrap().iter().find(|(_, body, _)| body.contains("\"status\":\"firing\"")).map(|(k, _, _)| k.clone())
    })
    .await;
    first.start_kill().expect("SIGKILL");
    first.wait().await.unwrap();
    pager.hang.store(false, Ordering::SeqCst);

    let mut second = spawn(&config, &site, &log);
    eventually(Duration::from_secs(30), "the page delivered by the restarted console", || async {
        pager.taken().iter().any(|(k, _)| *k == key).then_some(())
    })
    .await;
    // lb2 still down: the restarted console judges it critical again, well past its warm-up,
    // and does not page for it a second time.
    eventually(Duration::from_secs(30), "lb2 critical again", || async { (host_status(&base).await? == "critical").then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let taken = pager.taken();
    assert_eq!(taken, vec![(key.clone(), "firing HostDown".to_string())], "one page, under the key of the killed attempt");

    // lb2 back: one resolve.
    let balancer = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    eventually(Duration::from_secs(30), "the resolve delivered", || async {
        pager.taken().iter().any(|(_, states)| states == "resolved HostDown").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let states: Vec<String> = pager.taken().into_iter().map(|(_, s)| s).collect();
    assert_eq!(states, vec!["firing HostDown", "resolved HostDown"], "{}", std::fs::read_to_string(&log).unwrap_or_default());
    second.start_kill().unwrap();
    let _ = second.wait().await;
    drop(balancer);
}
