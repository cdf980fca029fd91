//! The mode comes from the control store: a real PostgreSQL primary and streaming standby, one
//! Crowsnest on each. The one on the standby starts without migrating, is secondary, logs people
//! in from the replica, refuses writes with 503 in front of the routes, and becomes primary
//! when its standby is promoted, without a restart.

use crowsnest::config::Estate;
use crowsnest::lab::pgcluster::Cluster;
use crowsnest::run::{Server, Site};
use reqwest::StatusCode;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common;
use common::{browser, csrf_in, eventually, login_as, Role, Tier};

/// The audit key both regions share (one PostgreSQL control store).
const KEY: &str = "secondary-test-audit-key-0123456789abcdef";

fn key() -> crowsnest::audit::AuditKey {
    crowsnest::audit::AuditKey::new(KEY.as_bytes(), "test").unwrap()
}

fn estate(name: &str, region: &str, data: &Path, control_db: &str, hash: &str, nodes: &[(&str, &str)]) -> Estate {
    std::fs::create_dir_all(data).unwrap();
    let key_file = data.join("audit.key");
    std::fs::write(&key_file, KEY).unwrap();
    let mut b = common::estate(name, region, data)
        .control_db(control_db)
        .probes(1, 800)
        .set("auth", "break_glass_after_seconds", 2i64)
        .set("auth", "audit_key_file", key_file.display().to_string())
        .regions(&["sjc", "sin"]);
    for (node, url) in nodes {
        b = b.control_node(node, url);
    }
    common::load(
        &b.site("web", false)
            .site("api", true)
            .hostname("www.example.test", Tier::WebLb, Some("web"))
            .push_in("status_page", "components", &[("name", "Website".into()), ("manual", true.into())])
            .user("alice", Role::Oncall, hash)
            .user("carol", Role::Oncall, hash),
    )
}

async fn mode_of(base: &str, http: &reqwest::Client) -> Option<String> {
    let instance: serde_json::Value = http.get(format!("{base}/api/v1/instance")).send().await.ok()?.json().await.ok()?;
    instance["mode"].as_str().map(str::to_string)
}

fn maintenance_form(token: &str, key: &str) -> Vec<(String, String)> {
    site_form(token, key, "web")
}

fn site_form(token: &str, key: &str, site: &str) -> Vec<(String, String)> {
    [
        ("csrf", token),
        ("kind", "maintenance_on"),
        ("site", site),
        ("reason", "primary datacenter unreachable"),
        ("confirmation", site),
        ("message", "Back soon."),
        ("idempotency_key", key),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secondary_reads_the_replica_refuses_writes_and_follows_a_promotion() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = tokio::task::spawn_blocking({
        let root = dir.path().join("pg");
        move || Cluster::build(&root, &["db-sin"], "", None)
    })
    .await
    .unwrap()
    .expect("initdb, pg_basebackup and two servers start")
    .remove_on_drop();
    let hash = crowsnest::auth::password::hash("alice-oncall-pw").unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();

    // The primary region's instance migrates and writes its config's users.
    let nodes = [("db-sjc", cluster.primary.dsn()), ("db-sin", cluster.standbys[0].dsn())];
    let nodes: Vec<(&str, &str)> = nodes.iter().map(|(n, u)| (*n, u.as_str())).collect();
    let sjc = estate("sjc-1", "sjc", &dir.path().join("sjc"), &cluster.primary.dsn(), &hash, &nodes);
    let primary = Server::start(Arc::new(sjc), Site { root: site.clone() }, false).await.expect("primary starts");
    let sjc_base = format!("http://{}", primary.addr);
    let at_sjc = browser();
    assert_eq!(login_as(&sjc_base, &at_sjc, "alice", "alice-oncall-pw").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(mode_of(&sjc_base, &at_sjc).await.as_deref(), Some("primary"));

    // Singapore's instance on the standby: starts once the replica has the schema and users.
    let standby = cluster.standbys[0].clone();
    let dsn = standby.dsn();
    let replica = crowsnest::store::ControlStore::connect(&standby.dsn()).await.unwrap();
    eventually(Duration::from_secs(20), "the users to reach the standby", || async {
        replica.user("alice").await.ok().flatten().map(|_| ())
    })
    .await;
    assert!(!replica.writable().await.unwrap(), "a standby is not writable");
    let sin = estate("sin-1", "sin", &dir.path().join("sin"), &standby.dsn(), &hash, &nodes);
    let secondary = Server::start(Arc::new(sin), Site { root: site }, false).await.expect("a secondary starts on a standby");
    let sin_base = format!("http://{}", secondary.addr);

    // Login works on the secondary: users from the replica, the session in the local store.
    let alice = browser();
    let r = login_as(&sin_base, &alice, "alice", "alice-oncall-pw").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let instance: serde_json::Value = alice.get(format!("{sin_base}/api/v1/instance")).send().await.unwrap().json().await.unwrap();
    assert_eq!((instance["mode"].as_str(), instance["read_only"].as_bool()), (Some("secondary"), Some(true)));
    assert!(instance["mode_reason"].as_str().unwrap().contains("read-only replica"));

    // Every page renders, with the banner saying read-only.
    let page = alice.get(format!("{sin_base}/actions")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"read-only-notice\""));
    let token = csrf_in(&html).unwrap();

    // An ordinary write is refused in front of the routes: 503, Retry-After, the reason.
    let r = alice.post(format!("{sin_base}/actions")).form(&maintenance_form(&token, "s1")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "30");
    assert!(r.text().await.unwrap().contains("read-only secondary"));
    let body = serde_json::json!({"kind": "maintenance_on", "site": "web", "reason": "primary datacenter unreachable", "confirmation": "web", "message": "m", "idempotency_key": "s2"});
    let r = alice.post(format!("{sin_base}/api/v1/actions")).header("x-csrf-token", &token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let err: serde_json::Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "read_only");
    // Nothing was half-written: the primary sees no request.
    let board: serde_json::Value = at_sjc.get(format!("{sjc_base}/api/v1/actions")).send().await.unwrap().json().await.unwrap();
    assert_eq!(board["requests"].as_array().unwrap().len(), 0);

    // Break-glass while the primary answers: refused, naming the primary (one on-call on a
    // healthy secondary cannot go around the primary or its two-person rule).
    let mut glass = maintenance_form(&token, "glass-1");
    glass.retain(|(k, _)| k != "csrf");
    glass.push(("csrf".into(), token.clone()));
    let r = alice.post(format!("{sin_base}/actions/break-glass")).form(&glass).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("the primary db-sjc accepts writes"));
    assert!(!dir.path().join("sin/edge/flags/web.maintenance").exists(), "nothing reached the edge");
    let page = alice.get(format!("{sin_base}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Break-glass is closed: the primary db-sjc accepts writes"), "the form says why it is closed");

    // Telling the public from a secondary is break-glass too: refused while the primary answers.
    let incident = |key: &str, title: &str| {
        vec![
            ("csrf", token.clone()),
            ("key", key.to_string()),
            ("kind", "incident".to_string()),
            ("title", title.to_string()),
            ("components", "Website".to_string()),
            ("state", "investigating".to_string()),
            ("impact", "major_outage".to_string()),
            ("body", "San Jose is unreachable; Singapore and Amsterdam serve.".to_string()),
        ]
    };
    let r = alice.post(format!("{sin_base}/incidents")).form(&incident("inc-sin-1", "Primary region lost")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("the primary db-sjc accepts writes"));
    // On the primary it is an ordinary post, replicated to every region.
    let sjc_token = csrf_in(&at_sjc.get(format!("{sjc_base}/incidents")).send().await.unwrap().text().await.unwrap()).unwrap();
    let mut on_primary = incident("inc-sjc-1", "Slow checkout");
    on_primary[0].1 = sjc_token;
    assert_eq!(at_sjc.post(format!("{sjc_base}/incidents")).form(&on_primary).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    eventually(Duration::from_secs(20), "the primary's incident to reach the standby", || async {
        replica.incident_updates(0).await.ok()?.iter().any(|u| u.key == "inc-sjc-1").then_some(())
    })
    .await;

    // The primary region is lost: its console and its database stop.
    primary.stop().await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.primary.stop().unwrap();
        cluster
    })
    .await
    .unwrap();
    // Break-glass opens once no primary has answered for break_glass_after_seconds: on-call
    // turns maintenance on here. This region's edge serves it at once; it waits in the local
    // journal for a writable control store.
    eventually(Duration::from_secs(20), "break-glass to open", || async {
        let r = alice.post(format!("{sin_base}/actions/break-glass")).form(&glass).send().await.ok()?;
        (r.status() == StatusCode::SEE_OTHER).then_some(())
    })
    .await;
    let r = alice.post(format!("{sin_base}/actions/break-glass")).form(&glass).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "a double submit is harmless");
    assert!(dir.path().join("sin/edge/flags/web.maintenance").exists(), "the local edge serves maintenance at once");
    let html = alice.get(format!("{sin_base}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-pending-replay=\"true\""), "the page says it waits for replay");
    assert!(html.contains("maintenance on by alice at "), "and what waits");
    assert!(!replica.sites().await.unwrap().iter().any(|s| s.state.on), "nothing reached the control store yet");

    // An incident posted here now is break-glass: journaled, on this region's status page at
    // once (as a manual component's outage), replayed later; posting it twice is one update.
    for _ in 0..2 {
        let r = alice.post(format!("{sin_base}/incidents")).form(&incident("inc-sin-1", "Primary region lost")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
    }
    let summary_file = dir.path().join("sin/edge/status/api/v2/summary.json");
    let summary = eventually(Duration::from_secs(20), "the break-glass incident on Singapore's status page", || async {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary_file).ok()?).ok()?;
        v["incidents"].as_array()?.iter().any(|i| i["name"] == "Primary region lost").then_some(v)
    })
    .await;
    assert_eq!(summary["components"][0]["crowsnest_status"], "major_outage", "{summary}");
    let html = alice.get(format!("{sin_base}/incidents")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("pending replay"), "the Incidents page says it waits for replay");
    assert!(!replica.incident_updates(0).await.unwrap().iter().any(|u| u.key == "inc-sin-1"), "not in the control store yet");

    // A two-person site still needs a second on-call: alice's change waits, she cannot agree
    // to it herself, carol can; then it reaches the edge.
    let glass_api = site_form(&token, "glass-api", "api");
    let r = alice.post(format!("{sin_base}/actions/break-glass")).form(&glass_api).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!dir.path().join("sin/edge/flags/api.maintenance").exists(), "one on-call alone changes nothing on a two-person site");
    let html = alice.get(format!("{sin_base}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("waits for a second on-call"), "the notice says it waits");
    let r = alice.post(format!("{sin_base}/actions/break-glass/glass-api/approve")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "nobody agrees to their own break-glass");
    assert!(!dir.path().join("sin/edge/flags/api.maintenance").exists());
    let carol = browser();
    assert_eq!(login_as(&sin_base, &carol, "carol", "alice-oncall-pw").await.status(), StatusCode::SEE_OTHER);
    let carol_page = carol.get(format!("{sin_base}/actions")).send().await.unwrap().text().await.unwrap();
    let carol_token = csrf_in(&carol_page).unwrap();
    let r = carol
        .post(format!("{sin_base}/actions/break-glass/glass-api/approve"))
        .form(&[("csrf", carol_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(dir.path().join("sin/edge/flags/api.maintenance").exists(), "agreed by a second on-call: on the edge");

    // Singapore's standby is promoted: its instance becomes primary within a probe interval
    // or two, without a restart, and accepts the write.
    let _cluster = tokio::task::spawn_blocking(move || {
        standby.promote().unwrap();
        cluster
    })
    .await
    .unwrap();
    eventually(Duration::from_secs(20), "the promoted instance to be primary", || async {
        (mode_of(&sin_base, &alice).await.as_deref() == Some("primary")).then_some(())
    })
    .await;
    // The journal is replayed into the now-writable store exactly once.
    let promoted = crowsnest::store::ControlStore::connect(&dsn).await.unwrap().keyed(key());
    // Both journals (the actions' and the incident updates') are replayed in the same chore.
    let replayed = eventually(Duration::from_secs(20), "the break-glass changes to be replayed", || async {
        let chain = promoted.audit_chain().await.ok()?;
        let n = chain.iter().filter(|e| e.entry.action == "maintenance_on.replayed").count();
        (n >= 2 && chain.iter().any(|e| e.entry.action == "incident.replayed")).then_some(chain)
    })
    .await;
    let entry = replayed.iter().find(|e| e.entry.action == "maintenance_on.replayed" && e.entry.target == "web").unwrap();
    assert_eq!(replayed.iter().filter(|e| e.entry.action == "maintenance_on.replayed").count(), 2, "each change once");
    let api = replayed.iter().find(|e| e.entry.action == "maintenance_on.replayed" && e.entry.target == "api").unwrap();
    assert_eq!(api.entry.actor, "alice");
    assert!(api.entry.detail.contains("agreed by carol"), "both names are kept: {}", api.entry.detail);
    assert_eq!(entry.entry.actor, "alice");
    assert!(entry.entry.detail.starts_with("break-glass on sin-1 at "), "{}", entry.entry.detail);
    assert!(promoted.sites().await.unwrap().iter().any(|s| s.name == "web" && s.state.on));
    assert_eq!(crowsnest::audit::verify(&key(), &replayed, &[]), Ok(replayed.len()), "the chain still verifies");
    // Replaying the same key again changes nothing.
    let again = crowsnest::store::BreakGlass {
        key: "glass-1".into(),
        site: "web".into(),
        state: app::action::MaintenanceState { on: true, message: None, expected_end_ms: None },
        reason: "again".into(),
        actor: "alice".into(),
        at_ms: crowsnest::clock::now_ms(),
        approved_by: None,
        awaiting: false,
        expires_at_ms: None,
    };
    assert_eq!(promoted.replay(&again, "sin-1", crowsnest::clock::now_ms()).await.unwrap(), crowsnest::store::Replay::AlreadyReplayed);
    assert_eq!(promoted.audit_chain().await.unwrap().len(), replayed.len());
    // The incident update is replayed exactly once, next to the one the primary kept.
    assert_eq!(replayed.iter().filter(|e| e.entry.action == "incident.replayed").count(), 1);
    let updates = promoted.incident_updates(0).await.unwrap();
    assert_eq!(updates.iter().filter(|u| u.key == "inc-sin-1").count(), 1);
    assert!(updates.iter().any(|u| u.key == "inc-sjc-1" && u.written_on == "sjc-1"));
    let sin_update = updates.iter().find(|u| u.key == "inc-sin-1").unwrap().clone();
    assert_eq!((sin_update.by.as_str(), sin_update.written_on.as_str()), ("alice", "sin-1"));
    assert_eq!(
        promoted.replay_incident_update(&sin_update, crowsnest::clock::now_ms()).await.unwrap(),
        crowsnest::store::UpdateReplay::AlreadyReplayed
    );

    // A journal naming someone the primary does not know (a forged or stale secondary) is
    // recorded and refused, never applied; a clock ahead of the primary's is taken as now.
    let forged = crowsnest::store::BreakGlass {
        key: "glass-forged".into(),
        site: "web".into(),
        state: app::action::MaintenanceState::default(),
        actor: "mallory".into(),
        at_ms: crowsnest::clock::now_ms() + 86_400_000,
        ..again.clone()
    };
    assert_eq!(promoted.replay(&forged, "sin-1", crowsnest::clock::now_ms()).await.unwrap(), crowsnest::store::Replay::Refused);
    assert!(promoted.sites().await.unwrap().iter().any(|s| s.name == "web" && s.state.on), "not applied");
    let chain = promoted.audit_chain().await.unwrap();
    let refused = chain.last().unwrap();
    assert_eq!(refused.entry.action, "maintenance_off.refused");
    assert!(refused.entry.detail.contains("mallory is not a user here"), "{}", refused.entry.detail);
    assert!(refused.entry.at_ms <= crowsnest::clock::now_ms(), "a future journal time is not believed");

    let page = alice.get(format!("{sin_base}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("id=\"read-only-notice\""));
    assert!(!page.contains("data-pending-replay"), "nothing is pending after the replay");
    let token = csrf_in(&page).unwrap();
    let mut off = maintenance_form(&token, "s3");
    for (k, v) in off.iter_mut() {
        if k == "kind" {
            *v = "maintenance_off".into();
        }
    }
    let r = alice.post(format!("{sin_base}/actions")).form(&off).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{}", r.text().await.unwrap());
    assert!(!dir.path().join("sin/edge/flags/web.maintenance").exists());

    // A break-glass change older than the primary's latest change of the site is superseded:
    // the later change stands, and the audit entry says whose it was.
    let stale = crowsnest::store::BreakGlass { key: "glass-old".into(), at_ms: crowsnest::clock::now_ms() - 60_000, ..again.clone() };
    assert_eq!(promoted.replay(&stale, "ams-1", crowsnest::clock::now_ms()).await.unwrap(), crowsnest::store::Replay::Superseded);
    assert!(!promoted.sites().await.unwrap().iter().any(|s| s.name == "web" && s.state.on), "not applied");
    let chain = promoted.audit_chain().await.unwrap();
    let last = chain.last().unwrap();
    assert_eq!(last.entry.action, "maintenance_on.superseded");
    assert!(last.entry.detail.contains("superseded by a later change on the primary (alice at "), "{}", last.entry.detail);
    assert_eq!(crowsnest::audit::verify(&key(), &chain, &[]), Ok(chain.len()));
    secondary.stop().await;
}
