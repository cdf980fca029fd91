//! The backlog engine against real loaders: the lab's queuing loader served over real HTTP and
//! draining into a real PostgreSQL primary, scraped every second. Every status: stalled (no
//! primary to drain into), ok while draining (with an ETA), growing, stopped (the loader goes
//! away), a malformed exposition kept out while the previous good report stays, and pushes.

use crate::common::{self, eventually, eventually_ok, Check, Tier};
use app::model::{BacklogStatus, Loader};
use crowsnest::backlog::engine::{self, LoaderBoard, PushError};
use crowsnest::config;
use crowsnest::lab::pgcluster::Cluster;
use crowsnest::lab::LabLoader;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

async fn serve(router: axum::Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, task)
}

fn estate(urls: &[(&str, SocketAddr)], push_token: &str) -> config::Estate {
    let mut b = common::estate("t", "sjc", Path::new("data"))
        .set("backlog", "interval_seconds", 1i64)
        .set("backlog", "timeout_ms", 800i64)
        .set("backlog", "window_seconds", 6i64)
        .set("backlog", "stopped_after_seconds", 3i64)
        .regions(&["sjc"]);
    let all: Vec<&str> = urls.iter().map(|(n, _)| *n).chain(["l-push"]).collect();
    for (i, name) in all.iter().enumerate() {
        b = b.host(name, "sjc", Tier::Loader, format!("127.8.0.{}", i + 1).parse().unwrap(), Check::Tcp(9));
    }
    for (name, addr) in urls {
        b = b.loader(name, name).and("metrics_url", format!("http://{addr}/metrics"));
    }
    let hash = format!("{:x}", Sha256::digest(push_token.as_bytes()));
    common::load(&b.loader("l-push", "l-push").and("push_token_sha256", hash))
}

fn loader(board: &LoaderBoard, name: &str) -> Loader {
    crowsnest::backlog::view::backlog(board, crowsnest::clock::now_ms()).loaders.into_iter().find(|l| l.name == name).unwrap()
}

async fn until(board: &LoaderBoard, name: &str, want: BacklogStatus) -> Loader {
    eventually_ok(Duration::from_secs(30), || async {
        let l = loader(board, name);
        match l.status == want {
            true => Ok(l),
            false => Err(format!("{name}: wanted {want:?}, got {:?}: {}", l.status, l.detail)),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_backlog_status_from_real_scraped_loaders() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = tokio::task::spawn_blocking({
        let root = dir.path().to_path_buf();
        move || Cluster::build(&root, &[], "", None)
    })
    .await
    .unwrap()
    .expect("a PostgreSQL primary starts");
    let dsn = cluster.primary.dsn();
    let mut tasks = tokio::task::JoinSet::new();

    // No primary to write into: items wait, nothing loads.
    let stalled = LabLoader::new("l-stall");
    stalled.spawn(&mut tasks, None, 10, 0);
    // Drains 50/s against 5/s of new writes, starting with 300 queued.
    let draining = LabLoader::new("l-drain");
    draining.spawn(&mut tasks, Some(dsn.clone()), 5, 50);
    // 30/s of new writes against 10/s of loading.
    let growing = LabLoader::new("l-grow");
    growing.spawn(&mut tasks, Some(dsn.clone()), 30, 10);
    // Serves a good exposition, then garbage when told to.
    let garbage = Arc::new(AtomicBool::new(false));
    let flaky = axum::Router::new().route(
        "/metrics",
        axum::routing::get({
            let garbage = garbage.clone();
            move || async move {
                if garbage.load(Ordering::Relaxed) {
                    "loader_queue_depth{queue=\"a\" 3\n".to_string()
                } else {
                    "loader_queue_depth 0\nloader_oldest_item_age_seconds 0\nloader_enqueued_total 7\nloader_loaded_total 7\n".to_string()
                }
            }
        }),
    );

    let (stall_addr, _s) = serve(stalled.router()).await;
    let (drain_addr, _d) = serve(draining.router()).await;
    let (grow_addr, grow_server) = serve(growing.router()).await;
    let (flaky_addr, _f) = serve(flaky).await;
    // Loopback only: never through an HTTP_PROXY from the environment.
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let queued = client.post(format!("http://{drain_addr}/enqueue")).json(&serde_json::json!({ "items": 300 })).send().await.unwrap();
    assert_eq!(queued.status(), 202);
    let refused = client
        .post(format!("http://{drain_addr}/enqueue"))
        .body("{\"items\": -1}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400, "a bad enqueue body is refused");

    let estate = Arc::new(estate(
        &[("l-stall", stall_addr), ("l-drain", drain_addr), ("l-grow", grow_addr), ("l-flaky", flaky_addr)],
        "s3cret-token",
    ));
    let board = LoaderBoard::new(estate.clone(), None);
    let scrapes = tokio::spawn(engine::run_rounds(
        estate.clone(),
        board.clone(),
        crowsnest::engines::Engine::new("backlog", std::time::Duration::from_secs(60), 0),
    ));

    let s = until(&board, "l-stall", BacklogStatus::Stalled).await;
    assert!(s.depth.unwrap() > 0.0 && s.load_rate == Some(0.0), "{s:?}");
    assert_eq!(s.eta_seconds, None, "no ETA unless draining");

    let d = until(&board, "l-drain", BacklogStatus::Ok).await;
    assert!(d.net_drain.unwrap() > 0.0, "{d:?}");
    if d.depth.unwrap() > 0.0 {
        assert!(d.eta_seconds.is_some(), "draining with items left has an ETA: {d:?}");
    }
    let loaded: i64 = {
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&dsn).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM lab_loaded WHERE loader = 'l-drain'").fetch_one(&mut conn).await.unwrap()
    };
    assert!(loaded > 0, "the loader really wrote into PostgreSQL");

    let g = until(&board, "l-grow", BacklogStatus::Growing).await;
    assert!(g.enqueue_rate.unwrap() > g.load_rate.unwrap() && g.load_rate.unwrap() > 0.0, "{g:?}");

    until(&board, "l-flaky", BacklogStatus::Ok).await;
    garbage.store(true, Ordering::Relaxed);
    let f = eventually(Duration::from_secs(10), "a malformed scrape to be reported", || async {
        Some(loader(&board, "l-flaky")).filter(|f| f.last_error.is_some())
    })
    .await;
    let error = f.last_error.unwrap();
    assert!(error.contains("line 1") && error.contains("expected ',' or '}'"), "{error}");
    assert_eq!(f.depth, Some(0.0), "the previous good report stays in use");

    // The loader goes away: stopped once no report arrives for stopped_after_seconds.
    grow_server.abort();
    let gone = until(&board, "l-grow", BacklogStatus::Stopped).await;
    assert!(gone.detail.contains("no report since"), "{}", gone.detail);

    // Pushes: token checked, body checked, previous good report kept on a bad one.
    let good = br#"{"queue_depth": 4, "oldest_item_age_seconds": 2.5, "enqueued_total": 10, "loaded_total": 6}"#;
    let tokens = crowsnest::backlog::engine::LoaderTokens::from_estate(&estate);
    assert!(matches!(tokens.check("l-push", Some("wrong")), Err(PushError::Unauthorized(_))));
    assert!(matches!(tokens.check("l-push", None), Err(PushError::Unauthorized(_))));
    assert!(matches!(tokens.check("nobody", Some("s3cret-token")), Err(PushError::UnknownLoader(_))));
    assert!(matches!(tokens.check("l-drain", Some("s3cret-token")), Err(PushError::NotPushing(_))));
    assert!(tokens.check("l-push", Some("s3cret-token")).is_ok());
    assert!(matches!(board.push("nobody", good).await, Err(PushError::UnknownLoader(_))));
    assert!(matches!(board.push("l-drain", good).await, Err(PushError::NotPushing(_))));
    board.push("l-push", good).await.expect("a good push is accepted");
    let bad = br#"{"queue_depth": -4, "oldest_item_age_seconds": 2.5, "enqueued_total": 10, "loaded_total": 6}"#;
    match board.push("l-push", bad).await {
        Err(PushError::Rejected { reason, .. }) => assert!(reason.contains("queue_depth"), "{reason}"),
        other => panic!("a negative depth is rejected, got {other:?}"),
    }
    let unknown_field = br#"{"queue_depth": 1, "oldest_item_age_seconds": 0, "enqueued_total": 1, "loaded_total": 0, "extra": 1}"#;
    assert!(matches!(board.push("l-push", unknown_field).await, Err(PushError::Rejected { .. })));
    let p = loader(&board, "l-push");
    assert_eq!(p.depth, Some(4.0), "the good push stays");
    assert!(p.last_error.is_some());

    scrapes.abort();
    tasks.shutdown().await;
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
