//! Loader backlog over HTTP: pushes accepted, refused and rejected; the lab's backlog growing and draining.

use super::*;

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
