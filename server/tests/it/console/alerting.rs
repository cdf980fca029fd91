//! Alerting against the real router: two clustered Alertmanagers (Debian's) on loopback, the
//! console posting to both, and a webhook sink the Alertmanagers notify. A host taken down in
//! the lab is one notification, not one per Alertmanager, and its return is resolved without a
//! flap. Alertmanager's cluster delivers at least once: its second member flushes on a clock of
//! its own (each flush waits for its peer first, so the two drift apart), and when it checks the
//! shared log before the first member's "resolved" has reached it, it sends that resolve too.
//! So the resolve is asserted as "arrives, nothing fires after it, at most once per member";
//! how often it comes twice is measured in the closing note, not hidden.

use super::{json, start_edited};
use crate::common::{client, eventually};
use axum::{extract::State, routing::post, Json, Router};
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// Every webhook notification received, in order.
#[derive(Clone, Default)]
pub(super) struct Sink(Arc<Mutex<Vec<Value>>>);

impl Sink {
    /// Starts the sink on loopback; returns its URL.
    pub(super) async fn start(&self) -> String {
        let app = Router::new()
            .route(
                "/hook",
                post(|State(sink): State<Sink>, Json(body): Json<Value>| async move {
                    sink.0.lock().unwrap().push(body);
                }),
            )
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/hook")
    }

    /// The notifications of the group with these labels, as (status, alert count).
    fn of(&self, alertname: &str, host: &str) -> Vec<(String, usize)> {
        let all = self.0.lock().unwrap().clone();
        all.iter()
            .filter(|n| n["groupLabels"]["alertname"] == alertname && n["groupLabels"]["host"] == host)
            .map(|n| (n["status"].as_str().unwrap_or("").to_string(), n["alerts"].as_array().map_or(0, Vec::len)))
            .collect()
    }
}

/// One Alertmanager of the cluster; killed on drop.
pub(super) struct Alertmanager {
    child: std::process::Child,
    pub(super) base: String,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two Alertmanagers gossiping on loopback (every 50 ms), both routing every group to `hook`,
/// with resolved notices. The second waits `peer-timeout` (0.5 s here, 15 s by default) for the
/// first's notification before sending its own. A flush of the second still waiting when the
/// first sends "resolved" sends a stale "firing": the chance is about that wait over
/// `group_interval` (5 s here, 5 min in `deploy/alertmanager.yml`), so the wait is kept short
/// against the interval, as it is in production (15 s against 5 min).
pub(super) async fn cluster(dir: &Path, hook: &str) -> [Alertmanager; 2] {
    assert!(Path::new(ALERTMANAGER).exists(), "Alertmanager is needed: scripts/setup.sh installs Debian's prometheus-alertmanager");
    let config = dir.join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: sink\n  group_by: [alertname, host]\n  group_wait: 1s\n  group_interval: 5s\n  repeat_interval: 1h\n\
             receivers:\n  - name: sink\n    webhook_configs:\n      - url: {hook}\n        send_resolved: true\n"
        ),
    )
    .unwrap();
    let (web, gossip) =
        ([crowsnest::lab::free_port(), crowsnest::lab::free_port()], [crowsnest::lab::free_port(), crowsnest::lab::free_port()]);
    let start = |i: usize| {
        let log = std::fs::File::create(dir.join(format!("am{i}.log"))).unwrap();
        let child = std::process::Command::new(ALERTMANAGER)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.join(format!("am{i}")).display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", web[i]))
            .arg(format!("--cluster.listen-address=127.0.0.1:{}", gossip[i]))
            .arg(format!("--cluster.advertise-address=127.0.0.1:{}", gossip[i]))
            .arg(format!("--cluster.peer=127.0.0.1:{}", gossip[1 - i]))
            .arg("--cluster.peer-timeout=500ms")
            .arg("--cluster.gossip-interval=50ms")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("alertmanager starts");
        Alertmanager { child, base: format!("http://127.0.0.1:{}", web[i]) }
    };
    let both = [start(0), start(1)];
    for am in &both {
        let status = format!("{}/api/v2/status", am.base);
        eventually(Duration::from_secs(30), "both Alertmanagers ready and clustered", || async {
            let s: Value = client().get(&status).send().await.ok()?.json().await.ok()?;
            (s["cluster"]["peers"].as_array()?.len() == 2).then_some(())
        })
        .await;
    }
    both
}

/// One firing notification, then resolves only (no firing after the first resolve, which
/// would be the flap regions that disagree cause), at most one per Alertmanager.
fn resolved_once_per_member_at_most(seen: &[(String, usize)]) {
    assert_eq!(seen.first(), Some(&("firing".to_string(), 1)), "{seen:?}");
    let rest = &seen[1..];
    assert!(!rest.is_empty() && rest.len() <= 2, "one resolve, or one per member: {seen:?}");
    assert!(rest.iter().all(|(status, n)| status == "resolved" && *n == 1), "nothing fires again after the resolve: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_down_is_one_notification_through_two_clustered_alertmanagers_and_resolves_without_a_flap() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::default();
    let hook = sink.start().await;
    let ams = cluster(dir.path(), &hook).await;
    let urls: Vec<String> = ams.iter().map(|a| a.base.clone()).collect();
    let (server, _data) = start_edited(14, false, |e| {
        e.alerting.alertmanagers = urls.clone();
        e.alerting.resend_seconds = 10;
    })
    .await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();

    // Both Alertmanagers hear the Watchdog, from the first round on.
    for am in &ams {
        eventually(Duration::from_secs(10), "the Watchdog reaches each Alertmanager", || async {
            let alerts: Value = http.get(format!("{}/api/v2/alerts", am.base)).send().await.ok()?.json().await.ok()?;
            alerts.as_array()?.iter().any(|a| a["labels"]["alertname"] == "Watchdog" && a["labels"]["instance"] == "sjc-1").then_some(())
        })
        .await;
    }

    http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    eventually(Duration::from_secs(15), "a firing notification for lb2", || async {
        (!sink.of("HostDown", "lb2").is_empty()).then_some(())
    })
    .await;
    // The alert as both Alertmanagers hold it: the console's words and link, an end in the future.
    for am in &ams {
        let alerts: Value =
            http.get(format!("{}/api/v2/alerts?filter=alertname%3D%22HostDown%22", am.base)).send().await.unwrap().json().await.unwrap();
        let lb2 =
            alerts.as_array().unwrap().iter().find(|a| a["labels"]["host"] == "lb2").cloned().expect("each Alertmanager holds the alert");
        assert_eq!(lb2["labels"]["severity"], "critical", "{lb2}");
        assert_eq!(lb2["status"]["state"], "active", "{lb2}");
        let summary = lb2["annotations"]["summary"].as_str().unwrap();
        assert!(summary.starts_with("lb2 (web_lb, San Jose) is down: "), "{summary}");
        assert_eq!(lb2["annotations"]["seen_from"], "sjc-1 (San Jose)");
    }
    // The console shows it firing, in its JSON and on its page.
    let alerts = json(&format!("{base}/api/v1/alerts")).await.unwrap();
    let row = alerts["alerts"].as_array().unwrap().iter().find(|a| a["name"] == "HostDown").cloned().expect("HostDown listed");
    assert_eq!(row["state"], "firing", "{row}");
    assert_eq!(alerts["receivers"].as_array().map(Vec::len), Some(2));
    assert!(alerts["receivers"].as_array().unwrap().iter().all(|r| r["error"].is_null() && r["last_ok_ms"].is_number()), "{alerts}");
    let page = http.get(format!("{base}/alerts")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("data-alert=\"HostDown\" data-state=\"firing\""), "the Alerts page lists it firing");

    // Longer than the second Alertmanager's wait and a group interval: still one notification.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(sink.of("HostDown", "lb2"), vec![("firing".to_string(), 1)]);

    http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    eventually(Duration::from_secs(15), "a resolved notification for lb2", || async {
        sink.of("HostDown", "lb2").iter().any(|(status, _)| status == "resolved").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    resolved_once_per_member_at_most(&sink.of("HostDown", "lb2"));
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("crowsnest_alert_receiver_up{url=\""), "{metrics}");

    server.stop().await;
}

/// Two regions watch the same lab and post to both Alertmanagers: lb2 going down is one
/// notification, and its return one resolve, though the regions see it come back at different
/// moments (each holds its resolve until the other agrees, by their peer reports).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_regions_page_once_and_resolve_without_a_flap_when_they_agree() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::default();
    let hook = sink.start().await;
    let ams = cluster(dir.path(), &hook).await;
    let urls: Vec<String> = ams.iter().map(|a| a.base.clone()).collect();
    let (sjc_port, sin_port) = (crowsnest::lab::free_port(), crowsnest::lab::free_port());
    let (sjc_token, sin_token) = ("sjc-1-token-for-the-alerting-test", "sin-1-token-for-the-alerting-test");
    let peer = |name: &str, region: &str, port: u16, token: &str, accept: &str| crowsnest::config::PeerConfig {
        name: name.into(),
        region: region.into(),
        url: format!("http://127.0.0.1:{port}"),
        token: token.into(),
        accept_token_sha256: format!("{:x}", Sha256::digest(accept.as_bytes())),
    };
    let (sjc, _sjc_data) = start_edited(15, false, |e| {
        e.instance.listen = ([127, 0, 0, 1], sjc_port).into();
        e.alerting.alertmanagers = urls.clone();
        e.alerting.resend_seconds = 10;
        e.peers = vec![peer("sin-1", "sin", sin_port, sjc_token, sin_token)];
    })
    .await;
    // Singapore: the same estate and lab, its own data, trusting the lab's CA as sjc-1 does.
    let sin_data = tempfile::tempdir().unwrap();
    let mut sin = sjc.estate().clone();
    sin.instance.name = "sin-1".into();
    sin.instance.region = "sin".into();
    sin.instance.listen = ([127, 0, 0, 1], sin_port).into();
    sin.instance.data_dir = sin_data.path().join("data");
    sin.peers = vec![peer("sjc-1", "sjc", sjc_port, sin_token, sjc_token)];
    let site = crowsnest::run::Site { root: sin_data.path().join("site") };
    std::fs::create_dir_all(&site.root).unwrap();
    let sin = crowsnest::run::Server::start(Arc::new(sin), site, false).await.expect("sin-1 starts");
    let lab = format!("http://{}", sjc.lab.as_ref().unwrap().control_addr);
    let http = client();

    for base in [format!("http://{}", sjc.addr), format!("http://{}", sin.addr)] {
        eventually(Duration::from_secs(10), "each region sees lb2 up and its peer reachable", || async {
            let topology = json(&format!("{base}/api/v1/topology")).await?;
            let peers = topology["vantages"]["peers"].as_array().map_or(0, |p| p.iter().filter(|p| p["reachable"] == true).count());
            (super::host_status(&base, "lb2").await? == "ok" && peers == 1).then_some(())
        })
        .await;
    }

    http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    let base = format!("http://{}", sin.addr);
    eventually(Duration::from_secs(15), "Singapore's alert is seen from both regions", || async {
        let alerts = json(&format!("{base}/api/v1/alerts")).await?;
        let lb2 = alerts["alerts"].as_array()?.iter().find(|a| a["name"] == "HostDown")?.clone();
        (lb2["state"] == "firing" && lb2["seen_from"] == serde_json::json!(["sin-1", "sjc-1"])).then_some(())
    })
    .await;
    eventually(Duration::from_secs(15), "a firing notification", || async { (!sink.of("HostDown", "lb2").is_empty()).then_some(()) }).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(sink.of("HostDown", "lb2"), vec![("firing".to_string(), 1)], "two regions, two Alertmanagers: one page");

    http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    eventually(Duration::from_secs(20), "a resolved notification", || async {
        sink.of("HostDown", "lb2").iter().any(|(status, _)| status == "resolved").then_some(())
    })
    .await;
    // Longer than both regions' resends and a group interval: nothing fires again.
    tokio::time::sleep(Duration::from_secs(12)).await;
    resolved_once_per_member_at_most(&sink.of("HostDown", "lb2"));

    sin.stop().await;
    sjc.stop().await;
}

/// A receiver of signed notices: answers 503 while `refuse` is above zero (counting down, or
/// forever at `u32::MAX`), and keeps every attempt.
#[derive(Clone, Default)]
struct Receiver {
    refuse: Arc<std::sync::atomic::AtomicU32>,
    /// (delivery key, signature header, body, status answered)
    attempts: Arc<Mutex<Vec<(String, String, String, u16)>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        use axum::http::{HeaderMap, StatusCode};
        use std::sync::atomic::Ordering;
        let app = Router::new()
            .route(
                "/notices",
                post(|State(r): State<Receiver>, headers: HeaderMap, body: String| async move {
                    let refuse = r.refuse.load(Ordering::SeqCst);
                    let status = if refuse > 0 {
                        if refuse != u32::MAX {
                            r.refuse.fetch_sub(1, Ordering::SeqCst);
                        }
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    };
                    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    r.attempts.lock().unwrap().push((
                        header("x-crowsnest-delivery"),
                        header("x-crowsnest-signature"),
                        body,
                        status.as_u16(),
                    ));
                    status
                }),
            )
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/notices")
    }

    fn attempts(&self) -> Vec<(String, String, String, u16)> {
        self.attempts.lock().unwrap().clone()
    }
}

/// What a receiver checks: the signature is HMAC-SHA256 of `t.body` under the shared secret.
fn signed_by(secret: &str, signature: &str, body: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Some((t, v1)) = signature.strip_prefix("t=").and_then(|rest| rest.split_once(",v1=")) else { return false };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let want: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    want == v1
}

/// Without an Alertmanager: a host down is one signed notice, retried under one key until the
/// receiver takes it; its resolve, refused until the console is stopped, is delivered by the
/// restarted console from its outbox, under the same key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_notices_are_signed_retried_under_one_key_and_survive_a_restart() {
    use std::sync::atomic::Ordering;
    const SECRET: &str = "a-webhook-secret-for-the-test";
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut estate = super::estate_with(super::block(16), dir.path(), false);
    estate.alerting.webhooks = vec![crowsnest::config::WebhookConfig { name: "ops".into(), url, secret: SECRET.into() }];
    let site = crowsnest::run::Site { root: dir.path().join("site") };
    std::fs::create_dir_all(&site.root).unwrap();
    let start = || crowsnest::run::Server::start(Arc::new(estate.clone()), site.clone(), true);
    let server = start().await.expect("the console starts");
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    eventually(Duration::from_secs(10), "lb2 up", || async { (super::host_status(&base, "lb2").await? == "ok").then_some(()) }).await;

    // The first two attempts are refused (1 s, then 2 s of backoff): the third is taken.
    receiver.refuse.store(2, Ordering::SeqCst);
    http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
    eventually(Duration::from_secs(20), "the firing notice taken", || async {
        receiver.attempts().iter().any(|a| a.3 == 200).then_some(())
    })
    .await;
    let attempts = receiver.attempts();
    assert_eq!(attempts.iter().map(|a| a.3).collect::<Vec<_>>(), vec![503, 503, 200], "{attempts:?}");
    assert!(attempts.iter().all(|a| a.0 == attempts[0].0 && a.0.len() == 64), "one key for every attempt: {attempts:?}");
    assert!(attempts.iter().all(|(_, signature, body, _)| signed_by(SECRET, signature, body)), "every attempt is signed");
    assert!(!signed_by("another-secret-entirely", &attempts[2].1, &attempts[2].2), "the signature depends on the secret");
    let notice: Value = serde_json::from_str(&attempts[2].2).unwrap();
    assert_eq!(notice["status"], "firing", "{notice}");
    assert_eq!(notice["alerts"][0]["name"], "HostDown");
    assert_eq!(notice["alerts"][0]["labels"]["host"], "lb2");
    assert!(notice["alerts"][0]["summary"].as_str().unwrap().starts_with("lb2 (web_lb, San Jose) is down: "), "{notice}");
    assert_eq!(notice["sent_from"], "sjc-1 (San Jose)");
    // The Alerts page lists the delivery, taken after three attempts.
    eventually(Duration::from_secs(5), "the delivery on the Alerts page", || async {
        let alerts = json(&format!("{base}/api/v1/alerts")).await?;
        let d = alerts["deliveries"].as_array()?.iter().find(|d| d["key"] == attempts[0].0.as_str())?.clone();
        (d["status"] == "sent" && d["attempts"] == 3 && d["about"] == "firing HostDown host=lb2 region=sjc tier=web_lb").then_some(())
    })
    .await;
    let page = http.get(format!("{base}/alerts")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("data-delivery=\"{}\" data-status=\"sent\"", attempts[0].0)), "the page lists the delivery");

    // The resolve is refused until the console stops: it waits in the outbox.
    receiver.refuse.store(u32::MAX, Ordering::SeqCst);
    http.post(format!("{lab}/lab/hosts/lb2")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    let resolve_key = eventually(Duration::from_secs(20), "the resolve attempted", || async {
        receiver.attempts().iter().find(|a| a.2.contains("\"status\":\"resolved\"")).map(|a| a.0.clone())
    })
    .await;
    assert_ne!(resolve_key, attempts[0].0, "the resolve is a notice of its own");
    server.stop().await;
    receiver.refuse.store(0, Ordering::SeqCst);
    let server = start().await.expect("the console starts again on the same data");
    eventually(Duration::from_secs(20), "the resolve delivered after the restart", || async {
        receiver.attempts().iter().any(|a| a.0 == resolve_key && a.3 == 200).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let taken: Vec<String> = receiver.attempts().iter().filter(|a| a.3 == 200).map(|a| a.0.clone()).collect();
    assert_eq!(taken, vec![attempts[0].0.clone(), resolve_key], "each notice taken once");
    server.stop().await;
}
