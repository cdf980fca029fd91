//! The direct receivers against real parts: a Slack-shaped and a PagerDuty-shaped sink (small
//! test servers that record what they are sent) and Debian's `python3-aiosmtpd` as the SMTP
//! server, writing each message to a maildir. Two hosts going down together are one message
//! per receiver; PagerDuty gets one trigger under a deterministic key and, once both are back,
//! a resolve with no trigger after it; a PagerDuty integration that answers 400 is given up,
//! not retried.

use super::{json, start_edited};
use crate::common::{client, eventually};
use axum::{extract::State, http::StatusCode, routing::post, Router};
use crowsnest::config::{EmailConfig, PagerDutyConfig, SlackConfig, SmtpSecurity};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every request received, as (path, JSON body), in order; `/pd-bad` answers 400.
#[derive(Clone, Default)]
pub(super) struct Sink(Arc<Mutex<Vec<(String, Value)>>>);

impl Sink {
    pub(super) async fn start(&self) -> String {
        let record = |status: StatusCode, path: &'static str| {
            move |State(sink): State<Sink>, body: String| async move {
                sink.0.lock().unwrap().push((path.to_string(), serde_json::from_str(&body).unwrap_or(Value::Null)));
                status
            }
        };
        let app = Router::new()
            .route("/slack", post(record(StatusCode::OK, "/slack")))
            .route("/pd", post(record(StatusCode::ACCEPTED, "/pd")))
            .route("/pd-bad", post(record(StatusCode::BAD_REQUEST, "/pd-bad")))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    pub(super) fn at(&self, path: &str) -> Vec<Value> {
        self.0.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, v)| v.clone()).collect()
    }
}

/// Debian's aiosmtpd, writing every message it takes to a maildir; killed on drop.
struct Smtp {
    child: std::process::Child,
    maildir: std::path::PathBuf,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Smtp {
    async fn start(dir: &std::path::Path) -> (Smtp, u16) {
        let port = crowsnest::lab::free_port();
        let maildir = dir.join("maildir");
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is installed (scripts/setup.sh)");
        let smtp = Smtp { child, maildir };
        eventually(Duration::from_secs(10), "aiosmtpd listening", || async {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
        })
        .await;
        (smtp, port)
    }

    /// Every message delivered so far, its body's quoted-printable decoded, oldest first.
    fn messages(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, String)> = std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, std::fs::read_to_string(e.path()).ok()?)))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(_, text)| unquote(&text)).collect()
    }
}

/// A message with its body's quoted-printable undone (soft line breaks and `=XX` bytes).
fn unquote(message: &str) -> String {
    let Some((head, body)) = message.split_once("\n\n") else { return message.to_string() };
    let body = body.replace("=\r\n", "").replace("=\n", "");
    let mut bytes = Vec::new();
    let mut rest = body.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        match (b, tail.get(..2).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())) {
            (b'=', Some(decoded)) => (bytes.push(decoded), rest = &tail[2..]),
            _ => (bytes.push(b), rest = tail),
        };
    }
    format!("{head}\n\n{}", String::from_utf8_lossy(&bytes))
}

/// The value of `name:` in a message's headers, unfolded (a long subject spans lines).
fn header(message: &str, name: &str) -> Option<String> {
    let mut unfolded: Vec<String> = Vec::new();
    for line in message.lines().take_while(|l| !l.trim().is_empty()) {
        match (line.starts_with([' ', '\t']), unfolded.last_mut()) {
            (true, Some(last)) => last.push_str(line.trim_end_matches('\r')),
            _ => unfolded.push(line.trim_end_matches('\r').to_string()),
        }
    }
    unfolded.iter().find_map(|l| Some(l.strip_prefix(name)?.strip_prefix(':')?.trim().to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_pagerduty_and_email_hear_once_per_group_and_once_when_it_is_over() {
    let sink = Sink::default();
    let base_url = sink.start().await;
    let mail_dir = tempfile::tempdir().unwrap();
    let (smtp, port) = Smtp::start(mail_dir.path()).await;
    let (server, _dir) = start_edited(17, false, |e| {
        let a = &mut e.alerting;
        // Two hosts down a round apart land in one notice.
        a.group_wait_seconds = 3;
        a.slack = vec![SlackConfig { name: "chat".into(), url: format!("{base_url}/slack") }];
        a.pagerduty = vec![
            PagerDutyConfig { name: "pager".into(), routing_key: "R0UTINGKEY0123456789abcdef012345".into(), url: format!("{base_url}/pd") },
            PagerDutyConfig { name: "pager-typo".into(), routing_key: "wrong".into(), url: format!("{base_url}/pd-bad") },
        ];
        a.email = vec![EmailConfig {
            name: "mail".into(),
            smtp: format!("127.0.0.1:{port}"),
            security: SmtpSecurity::None,
            from: "Crowsnest <crowsnest@example.test>".into(),
            to: vec!["oncall@example.test".into()],
            username: None,
            password: None,
        }];
    })
    .await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    eventually(Duration::from_secs(30), "lb2 and lb3 up", || async {
        (super::host_status(&base, "lb2").await? == "ok" && super::host_status(&base, "lb3").await? == "ok").then_some(())
    })
    .await;

    for host in ["lb2", "lb3"] {
        http.post(format!("{lab}/lab/hosts/{host}")).json(&serde_json::json!({"state": "down"})).send().await.unwrap();
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    eventually(Duration::from_secs(40), "Slack, PagerDuty and email told", || async {
        (!sink.at("/slack").is_empty() && !sink.at("/pd").is_empty() && !smtp.messages().is_empty()).then_some(())
    })
    .await;
    // Wait past another group wait: nothing more comes for the same two hosts.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let slack = sink.at("/slack");
    assert_eq!(slack.len(), 1, "one message for both: {slack:?}");
    let text = slack[0]["text"].as_str().unwrap();
    assert!(text.starts_with("*FIRING: HostDown host=lb2 region=sjc tier=web_lb (and 1 more)*"), "{text}");
    assert!(text.contains("[firing] HostDown host=lb3") && text.contains("|open>"), "{text}");
    let pd = sink.at("/pd");
    assert_eq!(pd.len(), 1, "one trigger for the rule: {pd:?}");
    assert_eq!((pd[0]["event_action"].as_str(), pd[0]["dedup_key"].as_str()), (Some("trigger"), Some("crowsnest/HostDown")));
    assert_eq!(pd[0]["payload"]["custom_details"]["firing"], 2, "{}", pd[0]);
    assert_eq!(pd[0]["routing_key"], "R0UTINGKEY0123456789abcdef012345");
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(header(&mails[0], "Subject").as_deref(), Some("[Crowsnest] FIRING: HostDown host=lb2 region=sjc tier=web_lb (and 1 more)"));
    assert_eq!(header(&mails[0], "To").as_deref(), Some("oncall@example.test"));
    assert!(mails[0].contains("[firing] HostDown host=lb3"), "{}", mails[0]);
    let message_id = header(&mails[0], "Message-ID").unwrap_or_default().to_string();

    // The integration PagerDuty refuses (400) is tried once and given up, visibly.
    let typo = eventually(Duration::from_secs(30), "the refused delivery shown as failed", || async {
        let alerts = json(&format!("{base}/api/v1/alerts")).await?;
        alerts["deliveries"].as_array()?.iter().find(|d| d["receiver"] == "pager-typo" && d["status"] == "failed").cloned()
    })
    .await;
    assert!(typo["error"].as_str().unwrap_or_default().contains("400"), "{typo}");
    assert_eq!(sink.at("/pd-bad").len(), 1, "a 400 is not retried");
    let mail_key = eventually(Duration::from_secs(20), "the mail's delivery", || async {
        let alerts = json(&format!("{base}/api/v1/alerts")).await?;
        alerts["deliveries"]
            .as_array()?
            .iter()
            .find(|d| d["receiver"] == "mail" && d["status"] == "sent")
            .map(|d| d["key"].as_str().unwrap().to_string())
    })
    .await;
    assert_eq!(message_id, format!("<{mail_key}@crowsnest>"), "the mail carries its delivery key");

    for host in ["lb2", "lb3"] {
        http.post(format!("{lab}/lab/hosts/{host}")).json(&serde_json::json!({"state": "up"})).send().await.unwrap();
    }
    eventually(Duration::from_secs(40), "PagerDuty resolved", || async {
        sink.at("/pd").last().is_some_and(|e| e["event_action"] == "resolve").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pd = sink.at("/pd");
    let actions: Vec<&str> = pd.iter().map(|e| e["event_action"].as_str().unwrap()).collect();
    // Both back in one round: trigger, resolve; a round apart, the first return is a change
    // to the open incident (a trigger with one firing) before the resolve.
    assert!(actions == ["trigger", "resolve"] || actions == ["trigger", "trigger", "resolve"], "{actions:?}");
    assert!(pd.iter().all(|e| e["dedup_key"] == "crowsnest/HostDown"));
    let slack = sink.at("/slack");
    let resolved: Vec<&str> = slack[1..].iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert!(!resolved.is_empty() && resolved.iter().all(|t| t.starts_with("*RESOLVED: HostDown")), "{resolved:?}");
    assert!(resolved.iter().any(|t| t.contains("host=lb2")) && resolved.iter().any(|t| t.contains("host=lb3")), "{resolved:?}");
    let mails = smtp.messages();
    assert_eq!(mails.len(), slack.len(), "email says what Slack says");
    assert!(mails[1..].iter().all(|m| header(m, "Subject").is_some_and(|s| s.starts_with("[Crowsnest] RESOLVED: HostDown"))), "{mails:?}");

    // On-call sends a test notification to one receiver from the Silences page's control.
    let alice = crate::common::browser();
    crate::common::login_as(&base, &alice, "alice", "alice-oncall").await;
    let page = alice.get(format!("{base}/silences")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"test-mail\""), "a test control per receiver");
    let token = crate::common::csrf_in(&page).unwrap();
    let asked = alice.post(format!("{base}/api/v1/alerts/receivers/mail/test")).header("x-csrf-token", &token).send().await.unwrap();
    assert_eq!(asked.status(), 202);
    let nobody = alice.post(format!("{base}/api/v1/alerts/receivers/nobody/test")).header("x-csrf-token", &token).send().await.unwrap();
    assert_eq!(nobody.status(), 404);
    let test = eventually(Duration::from_secs(30), "the test mail", || async {
        smtp.messages().into_iter().find(|m| header(m, "Subject").is_some_and(|s| s.starts_with("[Crowsnest] TEST:")))
    })
    .await;
    assert_eq!(header(&test, "Subject").as_deref(), Some("[Crowsnest] TEST: a test notification asked for by alice"));
    assert_eq!(sink.at("/slack").len(), slack.len(), "only the receiver asked for gets the test");
    server.stop().await;
}
