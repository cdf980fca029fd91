//! The incident's night, replayed on the lab by `scripts/replay-incident` against a real console,
//! and the timeline the console exports for the post-mortem: each step of the night is in it, in
//! the order the replay caused them, with the vantage that saw it; the JSON and the page agree.

use super::start;
use crate::common::{browser, eventually, login_as};
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replayed_night_is_in_the_exported_timeline_step_by_step() {
    let (server, _data) = start(20).await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let bob = browser();
    login_as(&base, &bob, "bob", "bob-viewer").await;
    // The lab's first rounds: every host judged before the night begins.
    eventually(Duration::from_secs(30), "the estate judged", || async {
        let t: Value = bob.get(format!("{base}/api/v1/topology")).send().await.ok()?.json().await.ok()?;
        t["regions"].as_array()?.iter().all(|r| r["status"] == "ok").then_some(())
    })
    .await;

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/replay-incident");
    let out = tokio::process::Command::new(script)
        .args(["--console", &base, "--lab", &lab, "--user", "bob", "--password", "bob-viewer"])
        .output()
        .await
        .expect("scripts/replay-incident runs");
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "every step shown: {printed}\n{}", String::from_utf8_lossy(&out.stderr));
    let md = &printed[printed.find("# Incident timeline").unwrap_or_else(|| panic!("the timeline is printed: {printed}"))..];
    // Shown with --nocapture: the replay as the post-mortem gets it.
    println!("{printed}");

    // Each step the replay caused, in its order, seen from this console's vantage.
    let steps = [
        "lb2 (web_lb, San Jose) stops answering",
        "api.example.test. A: failed_over",
        "www.example.test. A: wrong_tier",
        "www.example.test. A: missing",
        "lb2 (web_lb, San Jose) answers again",
        "api.example.test. A: wrong_tier",
    ];
    let mut after = 0;
    for step in steps {
        let at = md[after..].find(step).map(|i| i + after).unwrap_or_else(|| panic!("{step:?} after byte {after}:\n{md}"));
        let line = md[at..].lines().next().unwrap();
        assert!(line.ends_with(", seen from sjc-1 (San Jose) [status]"), "{line}");
        after = at;
    }
    for host in ["lb1 (api_lb, San Jose)", "db1 (db, San Jose)", "web1 (web, San Jose)"] {
        assert!(md.contains(&format!("{host} stops answering")), "{host}:\n{md}");
    }
    assert!(md.contains("alert HostDown fires (critical, host=lb2 region=sjc tier=web_lb)"), "the alerts are in it too:\n{md}");
    assert!(md.contains("Seen from: sjc-1 (San Jose, "), "{md}");

    // The JSON has the same events, oldest first; the console's page lists them.
    let from = md.lines().nth(2).unwrap_or_default().to_string();
    assert!(from.contains(" UTC to ") && from.ends_with(" events."), "{from}");
    let t: Value = bob.get(format!("{base}/api/v1/timeline")).send().await.unwrap().json().await.unwrap();
    let events = t["events"].as_array().unwrap();
    assert!(events.windows(2).all(|w| w[0]["at_ms"].as_i64() <= w[1]["at_ms"].as_i64()), "in order");
    assert!(events.iter().any(|e| e["kind"] == "status" && e["text"].as_str().unwrap().starts_with("www.example.test. A: wrong_tier")));
    let page = bob.get(format!("{base}/timeline")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"timeline\"") && page.contains("www.example.test. A: wrong_tier"), "{page}");
    let r = bob.get(format!("{base}/api/v1/timeline?from=2027-01-02T00:00&to=2027-01-01T00:00")).send().await.unwrap();
    assert_eq!(r.status(), 422, "a window that ends before it starts");
    server.stop().await;
}
