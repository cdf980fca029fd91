//! Silences, acknowledgements and maintenance against real parts: two clustered Debian
//! Alertmanagers (a silence made in the console is theirs too, and ends there when it ends
//! here) and a Slack-shaped sink as the direct receiver. A silenced alert is shown, not sent,
//! until the silence ends; an acknowledged one stops repeating; a site in maintenance mutes
//! its balancers' alerts and is one "started" and one "ended" notice. Every change is audited,
//! and a viewer cannot make one.

use super::start_edited;
use crate::common::{browser, client, csrf_in, eventually, login_as};
use serde_json::Value;
use std::time::Duration;

/// The firing alert for `host`, from the JSON API.
async fn alert_for(base: &str, http: &reqwest::Client, host: &str) -> Option<Value> {
    let alerts: Value = http.get(format!("{base}/api/v1/alerts")).send().await.ok()?.json().await.ok()?;
    alerts["alerts"]
        .as_array()?
        .iter()
        .find(|a| {
            a["name"] == "HostDown" && a["state"] == "firing" && a["labels"].as_array().is_some_and(|l| l.iter().any(|p| p[1] == host))
        })
        .cloned()
}

/// Slack messages so far.
fn texts(sink: &super::receivers::Sink) -> Vec<String> {
    sink.at("/slack").iter().map(|m| m["text"].as_str().unwrap_or_default().to_string()).collect()
}

/// Our silences as an Alertmanager holds them: (comment, state).
async fn am_silences(am: &str) -> Vec<(String, String)> {
    let listed: Value = client().get(format!("{am}/api/v2/silences")).send().await.unwrap().json().await.unwrap();
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["comment"].as_str().unwrap_or_default().to_string(), s["status"]["state"].as_str().unwrap_or_default().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_acknowledgements_and_maintenance_mute_what_on_call_already_knows() {
    let dir = tempfile::tempdir().unwrap();
    let am_sink = super::alerting::Sink::default();
    let ams = super::alerting::cluster(dir.path(), &am_sink.start().await).await;
    let urls: Vec<String> = ams.iter().map(|a| a.base.clone()).collect();
    let sink = super::receivers::Sink::default();
    let slack = format!("{}/slack", sink.start().await);
    let (server, _data) = start_edited(18, false, |e| {
        e.alerting.alertmanagers = urls.clone();
        e.alerting.resend_seconds = 10;
        e.alerting.repeat_seconds = 10;
        e.alerting.slack = vec![crowsnest::config::SlackConfig { name: "chat".into(), url: slack.clone() }];
    })
    .await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let lab_host = |host: &'static str, state: &'static str| {
        let url = format!("{lab}/lab/hosts/{host}");
        async move { client().post(url).json(&serde_json::json!({ "state": state })).send().await.unwrap() }
    };
    let alice = browser();
    login_as(&base, &alice, "alice", "alice-oncall").await;
    let page = alice.get(format!("{base}/silences")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).expect("the Silences page carries a form token");
    assert!(page.contains("id=\"who-name\">alice<"), "alice is logged in");
    assert!(page.contains("id=\"silence-form\""), "{page}");

    // A viewer may read the page but not silence.
    let bob = browser();
    login_as(&base, &bob, "bob", "bob-viewer").await;
    let bob_page = bob.get(format!("{base}/silences")).send().await.unwrap().text().await.unwrap();
    assert!(bob_page.contains("id=\"who-name\">bob<"), "bob is logged in");
    let bob_token = csrf_in(&bob_page).unwrap_or_default();
    let refused = bob
        .post(format!("{base}/api/v1/silences"))
        .header("x-csrf-token", bob_token)
        .json(&serde_json::json!({"matchers": "host=lb3", "duration": "10m", "comment": "bob tries"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);

    // A form with mistakes comes back with them, field by field.
    let wrong = alice
        .post(format!("{base}/silences"))
        .form(&[("csrf", token.as_str()), ("matchers", "host"), ("duration", "forever"), ("comment", "")])
        .send()
        .await
        .unwrap();
    let status = wrong.status();
    let wrong = wrong.text().await.unwrap();
    assert_eq!(status, 422, "{wrong}");
    for field in ["matchers", "duration", "comment"] {
        assert!(wrong.contains(&format!("id=\"silence-{field}-error\"")), "{field}: {wrong}");
    }

    // alice silences lb3 through the form: both Alertmanagers get the silence.
    let made = alice
        .post(format!("{base}/silences"))
        .form(&[("csrf", token.as_str()), ("matchers", "host=lb3"), ("duration", "10m"), ("comment", "planned work on lb3")])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 303, "a form is answered with a redirect");
    for am in &urls {
        eventually(Duration::from_secs(30), "the silence in each Alertmanager", || async {
            am_silences(am).await.iter().any(|(c, s)| c == "[crowsnest silence 1] planned work on lb3" && s == "active").then_some(())
        })
        .await;
    }

    // lb3 goes down silenced: shown as silenced, not sent. lb2 goes down: sent.
    lab_host("lb3", "down").await;
    let lb3 = eventually(Duration::from_secs(30), "lb3 firing", || alert_for(&base, &alice, "lb3")).await;
    assert!(lb3["silenced"].as_str().is_some_and(|w| w.starts_with("silence 1 by alice until ")), "{lb3}");
    lab_host("lb2", "down").await;
    eventually(Duration::from_secs(30), "lb2's notice", || async {
        texts(&sink).iter().any(|t| t.contains("[firing] HostDown host=lb2")).then_some(())
    })
    .await;
    assert!(!texts(&sink).iter().any(|t| t.contains("host=lb3")), "a silenced alert is not sent: {:?}", texts(&sink));

    // Nobody acknowledged lb2: it is repeated; acknowledged, the repeats stop.
    eventually(Duration::from_secs(30), "lb2 repeated", || async {
        texts(&sink).iter().any(|t| t.contains("[still firing] HostDown host=lb2")).then_some(())
    })
    .await;
    let lb2 = alert_for(&base, &alice, "lb2").await.unwrap();
    let acked = alice
        .post(format!("{base}/api/v1/alerts/acknowledge"))
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"alert": lb2["fingerprint"], "reason": "restarting lb2's nginx"}))
        .send()
        .await
        .unwrap();
    assert_eq!(acked.status(), 200, "{}", acked.text().await.unwrap());
    eventually(Duration::from_secs(20), "lb2 shown acknowledged", || async {
        alert_for(&base, &alice, "lb2").await?["acknowledged"].as_str()?.starts_with("by alice at ").then_some(())
    })
    .await;
    let repeats = || texts(&sink).iter().filter(|t| t.contains("[still firing] HostDown host=lb2")).count();
    let before = repeats();
    tokio::time::sleep(Duration::from_secs(13)).await;
    assert_eq!(repeats(), before, "no repeat after the acknowledgement: {:?}", texts(&sink));

    // The silence ends early: lb3, still down, is sent then; the Alertmanagers' copies end too.
    let ended = alice.post(format!("{base}/api/v1/silences/1/expire")).header("x-csrf-token", &token).send().await.unwrap();
    assert_eq!(ended.status(), 200, "{}", ended.text().await.unwrap());
    eventually(Duration::from_secs(30), "lb3 sent once its silence ended", || async {
        texts(&sink).iter().any(|t| t.contains("[firing] HostDown host=lb3")).then_some(())
    })
    .await;
    for am in &urls {
        eventually(Duration::from_secs(30), "the silence ended in each Alertmanager", || async {
            am_silences(am).await.iter().all(|(c, s)| !c.starts_with("[crowsnest silence 1]") || s == "expired").then_some(())
        })
        .await;
    }

    // Maintenance on `web` (lb2's tier): one "started" notice, lb2 shown silenced by it.
    let maintenance = |kind: &'static str, key: &'static str| {
        let body = serde_json::json!({"kind": kind, "site": "web", "reason": "silences test", "confirmation": "web", "message": "Back soon", "idempotency_key": key});
        alice.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &token).json(&body).send()
    };
    assert!(maintenance("maintenance_on", "silences-on").await.unwrap().status().is_success());
    eventually(Duration::from_secs(30), "maintenance started, once", || async {
        texts(&sink).iter().any(|t| t.starts_with("*MAINTENANCE STARTED: web*")).then_some(())
    })
    .await;
    let lb2 = eventually(Duration::from_secs(20), "lb2 muted by the maintenance", || async {
        let a = alert_for(&base, &alice, "lb2").await?;
        a["silenced"].as_str()?.starts_with("maintenance on web since ").then_some(a)
    })
    .await;
    assert!(lb2["acknowledged"].is_string(), "still acknowledged as well: {lb2}");
    // Each Alertmanager holds the maintenance as silences of its own (lb2 among them), which
    // end with it.
    let maintained = |listed: &[(String, String)], state: &str| listed.iter().any(|(c, s)| c.contains("maintenance on web") && s == state);
    for am in &urls {
        eventually(Duration::from_secs(30), "the maintenance silenced in each Alertmanager", || async {
            let listed: Value = client().get(format!("{am}/api/v2/silences")).send().await.ok()?.json().await.ok()?;
            listed
                .as_array()?
                .iter()
                .any(|s| {
                    s["comment"].as_str().is_some_and(|c| c.contains("maintenance on web"))
                        && s["status"]["state"] == "active"
                        && s["matchers"][0]["name"] == "host"
                        && s["matchers"][0]["value"] == "lb2"
                })
                .then_some(())
        })
        .await;
    }
    assert!(maintenance("maintenance_off", "silences-off").await.unwrap().status().is_success());
    for am in &urls {
        eventually(Duration::from_secs(30), "the maintenance's silences ended in each Alertmanager", || async {
            let listed = am_silences(am).await;
            (maintained(&listed, "expired") && !maintained(&listed, "active")).then_some(())
        })
        .await;
    }
    eventually(Duration::from_secs(30), "maintenance ended", || async {
        texts(&sink).iter().any(|t| t.starts_with("*MAINTENANCE ENDED: web*")).then_some(())
    })
    .await;
    let said = texts(&sink);
    assert_eq!(said.iter().filter(|t| t.contains("MAINTENANCE")).count(), 2, "{said:?}");

    // Every change is in the audit log, by alice.
    let audit: Value = alice.get(format!("{base}/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    let actions: Vec<(String, String)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap_or_default().to_string(), e["actor"].as_str().unwrap_or_default().to_string()))
        .collect();
    for action in ["silence_created", "alert_acknowledged", "silence_expired"] {
        assert!(actions.iter().any(|(a, by)| a == action && by == "alice"), "{action}: {actions:?}");
    }
    lab_host("lb2", "up").await;
    lab_host("lb3", "up").await;
    server.stop().await;
}
