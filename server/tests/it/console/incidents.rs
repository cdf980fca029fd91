//! Incidents told to the public, against the real lab: on-call posts an incident (a form, then
//! the same form again), updates it through the JSON API and resolves it; a viewer and a post
//! without the form's token are refused; the status page's files say it, the Atom feed parses
//! with a real feed parser (Debian's python3-feedparser) with an entry id that never changes,
//! a manual component shows what the incident declares, and a scheduled maintenance under way
//! turns its component "under maintenance" and mutes its balancer's alert. A subscriber is told
//! each update once, and gets no alerts. Every post is audited.

use super::start_edited;
use crate::common::{browser, csrf_in, eventually, login_as};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// The feed as python3-feedparser reads it: `bozo` (not well-formed), the feed's title, and
/// each entry's id, title and link.
fn parse_feed(path: &Path) -> Value {
    let script = "import feedparser, json, sys\n\
                  f = feedparser.parse(sys.argv[1])\n\
                  print(json.dumps({'bozo': f.bozo, 'version': f.version, 'title': f.feed.get('title'),\n\
                  'entries': [{'id': e.id, 'title': e.title, 'link': e.link, 'updated': e.updated} for e in f.entries]}))";
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script, &path.display().to_string()])
        .output()
        .expect("/usr/bin/python3 runs (scripts/setup.sh installs python3-feedparser)");
    assert!(out.status.success(), "feedparser: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// A component's exact status in `summary`.
fn component(summary: &Value, name: &str) -> Option<String> {
    summary["components"].as_array()?.iter().find(|c| c["name"] == name)?["crowsnest_status"].as_str().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_call_tells_the_public_and_the_status_page_and_feed_say_it() {
    let sink = super::receivers::Sink::default();
    let subscriber = format!("{}/slack", sink.start().await);
    let (server, data) = start_edited(19, false, |e| {
        e.status_page.subscribers.slack = vec![crowsnest::config::SlackConfig { name: "customers".into(), url: subscriber.clone() }];
    })
    .await;
    let told = || sink.at("/slack").iter().map(|m| m["text"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>();
    let base = format!("http://{}", server.addr);
    let status = data.path().join("edge").join("status");
    let summary_file = status.join("api/v2/summary.json");
    let alice = browser();
    login_as(&base, &alice, "alice", "alice-oncall").await;
    let page = alice.get(format!("{base}/incidents")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).expect("the Incidents page carries a form token");
    assert!(page.contains("id=\"new-incident\"") && page.contains("id=\"no-open-incidents\""), "{page}");
    let key = page.split("name=\"key\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("the form has a key").to_string();

    // A viewer may read, not post; nor may a post without the form's token.
    let bob = browser();
    login_as(&base, &bob, "bob", "bob-viewer").await;
    let bob_token = csrf_in(&bob.get(format!("{base}/incidents")).send().await.unwrap().text().await.unwrap()).unwrap_or_default();
    let body = serde_json::json!({"kind": "incident", "title": "bob", "state": "investigating", "components": ["API"], "body": "b"});
    let r = bob.post(format!("{base}/api/v1/incidents")).header("x-csrf-token", bob_token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 403, "a viewer");
    let r = alice.post(format!("{base}/api/v1/incidents")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 403, "no CSRF token");

    // A form with mistakes comes back with them, nothing kept.
    let form = |title: &str| {
        vec![
            ("csrf", token.clone()),
            ("key", key.clone()),
            ("kind", "incident".into()),
            ("title", title.to_string()),
            ("components", "Website".into()),
            ("components", "Support desk".into()),
            ("state", "investigating".into()),
            ("impact", "major_outage".into()),
            ("body", "www hangs for some users; we are looking into it.".into()),
        ]
    };
    let r = alice.post(format!("{base}/incidents")).form(&form("")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    let refused = r.text().await.unwrap();
    assert!(refused.contains("the title is required") && refused.contains("www hangs for some users"), "{refused}");

    // Posted; the same form again is the same update.
    for _ in 0..2 {
        let r = alice.post(format!("{base}/incidents")).form(&form("www hangs")).send().await.unwrap();
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
    }
    let listed: Value = alice.get(format!("{base}/api/v1/incidents")).send().await.unwrap().json().await.unwrap();
    let open = &listed["incidents"][0];
    assert_eq!(
        (open["key"].as_str(), open["title"].as_str(), open["state"].as_str()),
        (Some(key.as_str()), Some("www hangs"), Some("investigating"))
    );
    assert_eq!(open["updates"].as_array().unwrap().len(), 1, "posted twice, kept once: {open}");
    let page = alice.get(format!("{base}/incidents")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("id=\"incident-{key}\"")), "{page}");

    // The status page says it: the manual component is what the incident declares.
    // The page is written last in each pass: once it says so, every file of the pass does.
    let html_says = |what: String| {
        let page = status.join("index.html");
        move || std::fs::read_to_string(&page).is_ok_and(|html| html.contains(&what))
    };
    let active = html_says(format!("<section id=\"active\"><h2>Active incidents</h2><article class=\"incident\" id=\"incident-{key}\""));
    eventually(Duration::from_secs(15), "the incident on the status page", || async { active().then_some(()) }).await;
    let summary = read_json(&summary_file).unwrap();
    assert_eq!(summary["incidents"][0]["name"], "www hangs");
    assert_eq!(component(&summary, "Support desk").as_deref(), Some("major_outage"), "{summary}");
    assert_eq!(summary["incidents"][0]["impact"], "critical");
    assert_eq!(summary["incidents"][0]["incident_updates"][0]["status"], "investigating");
    assert_eq!(component(&summary, "Website").as_deref(), Some("major_outage"), "declared beats measured");
    let feed = parse_feed(&status.join("history.atom"));
    assert_eq!((feed["bozo"].as_bool(), feed["version"].as_str()), (Some(false), Some("atom10")), "{feed}");
    let entry = feed["entries"][0].clone();
    assert_eq!(entry["title"], "[Investigating] www hangs");
    assert!(entry["id"].as_str().unwrap().starts_with("urn:uuid:"), "{entry}");
    assert!(entry["link"].as_str().unwrap().ends_with(&format!("#incident-{key}")), "{entry}");

    // Resolved through the API: the feed's entry keeps its id and says so.
    let r = alice
        .post(format!("{base}/api/v1/incidents"))
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"incident": key, "state": "resolved", "body": "www is back: DNS points at lb2 again."}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let posted: Value = r.json().await.unwrap();
    assert_eq!((posted["fresh"].as_bool(), posted["journaled"].as_bool()), (Some(true), Some(false)), "{posted}");
    let past = html_says(format!("<section id=\"past\"><h2>Past incidents (7 days)</h2><article class=\"incident\" id=\"incident-{key}\""));
    eventually(Duration::from_secs(15), "the incident resolved on the status page", || async { past().then_some(()) }).await;
    let summary = read_json(&summary_file).unwrap();
    assert_eq!(summary["incidents"], serde_json::json!([]));
    assert_eq!(component(&summary, "Support desk").as_deref(), Some("operational"));
    assert_ne!(component(&summary, "Website").as_deref(), Some("major_outage"), "no longer declared: {summary}");
    let all = read_json(&status.join("api/v2/incidents.json")).unwrap();
    assert_eq!(all["incidents"][0]["status"], "resolved");
    assert!(all["incidents"][0]["resolved_at"].is_string());
    let resolved = parse_feed(&status.join("history.atom"));
    assert_eq!(resolved["entries"][0]["id"], entry["id"], "one entry, the same id");
    assert_eq!(resolved["entries"][0]["title"], "[Resolved] www hangs");

    // A maintenance under way: API under maintenance, lb1's alert muted by its window.
    let starts = crowsnest::alerts::alertmanager::rfc3339(crowsnest::clock::now_ms());
    let r = alice
        .post(format!("{base}/api/v1/incidents"))
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"kind": "maintenance", "title": "API balancer upgrade", "state": "scheduled", "components": ["API"],
            "body": "lb1 is upgraded.", "starts": starts, "duration": "10m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    eventually(Duration::from_secs(15), "API under maintenance", || async {
        let v = read_json(&summary_file)?;
        (component(&v, "API")? == "under_maintenance" && v["scheduled_maintenances"][0]["status"] == "in_progress").then_some(())
    })
    .await;
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    crate::common::client().post(format!("{lab}/lab/hosts/lb1")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    let muted = eventually(Duration::from_secs(30), "lb1's alert muted by the window", || async {
        let alerts: Value = alice.get(format!("{base}/api/v1/alerts")).send().await.ok()?.json().await.ok()?;
        let lb1 = alerts["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["name"] == "HostDown" && a["labels"].as_array().is_some_and(|l| l.iter().any(|p| p[1] == "lb1")))?;
        lb1["silenced"].as_str().map(str::to_string)
    })
    .await;
    assert!(muted.contains("scheduled maintenance: API balancer upgrade"), "{muted}");
    crate::common::client().post(format!("{lab}/lab/hosts/lb1")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();

    // The subscriber was told each update once (the form posted twice is one update), and
    // nothing of lb1's alert.
    let said = eventually(Duration::from_secs(15), "the subscriber told of all three updates", || async {
        let said = told();
        (said.iter().filter(|t| t.starts_with("*MAINTENANCE SCHEDULED: API balancer upgrade*")).count() == 1).then_some(said)
    })
    .await;
    assert_eq!(said.iter().filter(|t| t.starts_with("*INCIDENT INVESTIGATING: www hangs*")).count(), 1, "{said:?}");
    assert_eq!(said.iter().filter(|t| t.starts_with("*INCIDENT RESOLVED: www hangs*")).count(), 1, "{said:?}");
    assert!(said.iter().any(|t| t.contains("www is back: DNS points at lb2 again.")), "{said:?}");
    assert!(!said.iter().any(|t| t.contains("HostDown")), "a subscriber gets no alerts: {said:?}");
    assert_eq!(said.len(), 3, "{said:?}");

    // Every post is in the audit log, by alice.
    let audit: Value = alice.get(format!("{base}/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    let posted = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "incident.posted" && e["actor"] == "alice").count();
    assert_eq!(posted, 3, "{audit}");
    server.stop().await;
}
