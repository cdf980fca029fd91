//! The direct receivers (no Alertmanager in between): a signed JSON webhook, a Slack-compatible
//! incoming webhook, PagerDuty's Events API v2 and email over SMTP. Each one's format is made
//! from a kept [`Notice`] by a pure function (table-tested); [`send`] is the thin I/O around it
//! and says whether a failure is worth retrying.

use super::notice::{self, Notice};
use crate::config::{AlertingConfig, EmailConfig, PagerDutyConfig, SlackConfig, SmtpSecurity, WebhookConfig};
use hmac::{Hmac, Mac};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;
use std::time::Duration;

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub const SIGNATURE_HEADER: &str = "x-crowsnest-signature";
/// The header carrying the delivery's idempotency key, the same on every retry.
pub const KEY_HEADER: &str = "x-crowsnest-delivery";

/// One configured direct receiver.
#[derive(Clone)]
pub enum Direct {
    /// `[[alerting.webhooks]]`: the notice as it is, signed.
    Webhook(WebhookConfig),
    /// `[[alerting.slack]]`: a message.
    Slack(SlackConfig),
    /// `[[alerting.pagerduty]]`: an event per rule.
    PagerDuty(PagerDutyConfig),
    /// `[[alerting.email]]`: a message, through a transport made once.
    Email(EmailConfig, Box<AsyncSmtpTransport<Tokio1Executor>>),
}

impl Direct {
    /// Every configured receiver; an email relay whose TLS cannot be set up is left out, said
    /// in the log. `ca_pem` is trusted on top of the system's roots (`tls.ca_file`).
    pub fn all(config: &AlertingConfig, ca_pem: Option<&[u8]>, timeout: Duration) -> Vec<Direct> {
        let mut out: Vec<Direct> = config.webhooks.iter().cloned().map(Direct::Webhook).collect();
        out.extend(config.slack.iter().cloned().map(Direct::Slack));
        out.extend(config.pagerduty.iter().cloned().map(Direct::PagerDuty));
        for mail in &config.email {
            match transport(mail, ca_pem, timeout) {
                Ok(t) => out.push(Direct::Email(mail.clone(), Box::new(t))),
                Err(why) => tracing::error!(receiver = %mail.name, %why, "alerting: this email receiver gets nothing"),
            }
        }
        out
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Direct::Webhook(c) => &c.name,
            Direct::Slack(c) => &c.name,
            Direct::PagerDuty(c) => &c.name,
            Direct::Email(c, _) => &c.name,
        }
    }

    /// What kind it is, as the Alerts page says.
    pub fn kind(&self) -> &'static str {
        match self {
            Direct::Webhook(_) => "webhook",
            Direct::Slack(_) => "slack",
            Direct::PagerDuty(_) => "pagerduty",
            Direct::Email(..) => "email",
        }
    }

    /// Where it goes, for the page (never a secret: no Slack URL path, no routing key).
    pub fn target(&self) -> String {
        let host = |url: &str| reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        match self {
            Direct::Webhook(c) => c.url.clone(),
            Direct::Slack(c) => host(&c.url),
            Direct::PagerDuty(c) => host(&c.url),
            Direct::Email(c, _) => format!("{} via {}", c.to.join(", "), c.smtp),
        }
    }
}

/// The SMTP transport for `mail`.
fn transport(mail: &EmailConfig, ca_pem: Option<&[u8]>, timeout: Duration) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let (host, port) = mail.relay().ok_or_else(|| format!("smtp {:?} is not host:port", mail.smtp))?;
    let tls = || {
        let mut params = TlsParameters::builder(host.to_string());
        if let Some(pem) = ca_pem {
            params = params.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("tls.ca_file: {e}"))?);
        }
        params.build_rustls().map_err(|e| format!("TLS for {host}: {e}"))
    };
    let security = match mail.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::Starttls => Tls::Required(tls()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).tls(security).timeout(Some(timeout));
    if let (Some(user), Some(password)) = (&mail.username, &mail.password) {
        builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Refused for now (5xx, 429, a timeout, a closed port): tried again after a backoff.
    Retry(String),
    /// Refused for good (PagerDuty's 400, Slack's unknown hook, SMTP's 5xx): given up, shown.
    GiveUp(String),
}

/// The signature header's value for `body` sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { unreachable!("HMAC takes a key of any length") };
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// A Slack-compatible message: the title in bold, a line per alert with its link, who sent it.
pub fn slack_message(n: &Notice) -> serde_json::Value {
    let mut text = format!("*{}*", notice::title(n));
    for (line, alert) in notice::lines(n).iter().zip(n.alerts.iter().map(Some).chain(std::iter::repeat(None))) {
        match alert {
            Some(a) => text.push_str(&format!("\n• {line} <{}|open>", a.link)),
            None => text.push_str(&format!("\n{line}")),
        }
    }
    text.push_str(&format!("\n_sent from {} at {}_", n.sent_from, n.sent_at));
    serde_json::json!({ "text": text })
}

/// PagerDuty's severity for ours.
fn pagerduty_severity(severity: &str) -> &'static str {
    match severity {
        "critical" => "critical",
        "warning" => "warning",
        _ => "info",
    }
}

/// The dedup key of a rule's PagerDuty incident: the same from every region and every retry,
/// so a second region's trigger joins the open incident instead of paging again.
pub fn dedup_key(rule: &str) -> String {
    format!("crowsnest/{rule}")
}

/// PagerDuty events for a notice: per rule it touches, a trigger while any of its alerts
/// fires (again on a change: PagerDuty adds it to the open incident) or a resolve once none
/// does. Summaries are cut to PagerDuty's 1,024 characters.
pub fn pagerduty_events(n: &Notice, routing_key: &str) -> Vec<serde_json::Value> {
    if let Some(by) = &n.test_by {
        // A test opens an info incident and closes it at once, under a key of its own.
        let key = format!("crowsnest/test/{}", n.sent_at);
        let summary = format!("Crowsnest test notification from {}, asked for by {by}; nothing is wrong", n.sent_from);
        return vec![
            serde_json::json!({
                "routing_key": routing_key, "event_action": "trigger", "dedup_key": key,
                "payload": { "summary": summary, "source": "crowsnest", "severity": "info", "timestamp": n.sent_at },
                "client": "Crowsnest",
            }),
            serde_json::json!({ "routing_key": routing_key, "event_action": "resolve", "dedup_key": key }),
        ];
    }
    n.rules
        .iter()
        .map(|g| {
            if g.firing == 0 {
                return serde_json::json!({ "routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key(&g.name) });
            }
            let summary: String = format!("{}: {}", g.name, g.summary).chars().take(1024).collect();
            let alerts: Vec<String> =
                n.alerts.iter().filter(|a| a.name == g.name).map(|a| format!("[{}] {}", a.state, a.summary)).collect();
            let mut links = vec![serde_json::json!({ "href": g.link, "text": "Open in Crowsnest" })];
            if let Some(runbook) = &g.runbook {
                links.push(serde_json::json!({ "href": runbook, "text": "Runbook" }));
            }
            serde_json::json!({
                "routing_key": routing_key,
                "event_action": "trigger",
                "dedup_key": dedup_key(&g.name),
                "payload": {
                    "summary": summary,
                    "source": "crowsnest",
                    "severity": pagerduty_severity(&g.severity),
                    "timestamp": n.sent_at,
                    "component": g.name,
                    "class": g.name,
                    "custom_details": { "firing": g.firing, "changes": alerts, "sent_from": n.sent_from },
                },
                "links": links,
                "client": "Crowsnest",
            })
        })
        .collect()
}

/// An email's subject and text.
pub fn email_text(n: &Notice) -> (String, String) {
    let mut body = String::new();
    for (line, alert) in notice::lines(n).iter().zip(n.alerts.iter().map(Some).chain(std::iter::repeat(None))) {
        body.push_str(line);
        body.push('\n');
        if let Some(a) = alert {
            body.push_str(&format!("  {}\n", a.link));
        }
    }
    for g in n.rules.iter().filter(|g| g.runbook.is_some()) {
        body.push_str(&format!("\nRunbook for {}: {}\n", g.name, g.runbook.as_deref().unwrap_or_default()));
    }
    body.push_str(&format!("\nSent from {} at {}.\n", n.sent_from, n.sent_at));
    (format!("[Crowsnest] {}", notice::title(n)), body)
}

/// Sends one kept notice (`body`, under `key`) to `to`.
pub async fn send(to: &Direct, client: &reqwest::Client, key: &str, body: &str, now_ms: i64) -> Result<(), Failure> {
    let parsed = || serde_json::from_str::<Notice>(body).map_err(|e| Failure::GiveUp(format!("the kept notice does not parse: {e}")));
    match to {
        Direct::Webhook(hook) => {
            let request = client
                .post(&hook.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, sign(&hook.secret, now_ms / 1000, body))
                .header(KEY_HEADER, key)
                .body(body.to_string());
            // A generic receiver may come back from anything: every refusal is retried.
            post(request, &hook.url, &[]).await
        }
        Direct::Slack(slack) => {
            let request = client
                .post(&slack.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(slack_message(&parsed()?).to_string());
            // Slack's answers for a hook that is gone or a payload it will never take.
            post(request, "the Slack webhook", &[400, 403, 404, 410]).await
        }
        Direct::PagerDuty(pd) => {
            // In order, each idempotent by its dedup key: a retry re-sends the ones that went.
            for event in pagerduty_events(&parsed()?, &pd.routing_key) {
                let request = client.post(&pd.url).header(reqwest::header::CONTENT_TYPE, "application/json").body(event.to_string());
                post(request, &pd.url, &[400]).await?;
            }
            Ok(())
        }
        Direct::Email(mail, transport) => {
            let (subject, text) = email_text(&parsed()?);
            let message = email(mail, key, subject, text).map_err(Failure::GiveUp)?;
            match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(Failure::GiveUp(format!("{}: {e}", mail.smtp))),
                Err(e) => Err(Failure::Retry(format!("{}: {e}", mail.smtp))),
            }
        }
    }
}

/// The message for `mail`; its Message-ID is the delivery's key, so a retry is recognisable.
fn email(mail: &EmailConfig, key: &str, subject: String, text: String) -> Result<Message, String> {
    let from: Mailbox = mail.from.parse().map_err(|e| format!("from {:?}: {e}", mail.from))?;
    let mut builder = Message::builder().from(from).subject(subject).message_id(Some(format!("<{key}@crowsnest>")));
    for to in &mail.to {
        builder = builder.to(to.parse().map_err(|e| format!("to {to:?}: {e}"))?);
    }
    builder.header(ContentType::TEXT_PLAIN).body(text).map_err(|e| e.to_string())
}

/// Posts `request`; a status in `final_statuses` is given up, any other failure retried.
async fn post(request: reqwest::RequestBuilder, to: &str, final_statuses: &[u16]) -> Result<(), Failure> {
    match request.send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) if final_statuses.contains(&r.status().as_u16()) => {
            let status = r.status();
            let said: String = r.text().await.unwrap_or_default().chars().take(200).collect();
            Err(Failure::GiveUp(format!("{to} answered {status} (not retried): {said}")))
        }
        Ok(r) => Err(Failure::Retry(format!("{to} answered {}", r.status()))),
        Err(e) => Err(Failure::Retry(format!("POST {to}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::notice::{NoticeAlert, RuleGroup};

    fn alert(name: &str, host: &str, state: &str) -> NoticeAlert {
        NoticeAlert {
            name: name.into(),
            severity: "critical".into(),
            state: state.into(),
            labels: [("host".to_string(), host.to_string())].into(),
            summary: format!("{host} is down"),
            link: "https://c.example/topology".into(),
            fingerprint: "f".into(),
            fired_at: None,
            resolved_at: None,
            repeat: false,
        }
    }

    fn group(name: &str, firing: usize) -> RuleGroup {
        RuleGroup {
            name: name.into(),
            severity: "warning".into(),
            firing,
            summary: "lb2 is down".into(),
            link: "https://c.example/topology".into(),
            runbook: Some("https://runbooks.example/host".into()),
        }
    }

    fn sample() -> Notice {
        Notice {
            version: "2".into(),
            status: "firing".into(),
            alerts: vec![alert("HostDown", "lb2", "firing"), alert("PeerUnreachable", "sjc-1", "resolved")],
            more: 0,
            rules: vec![group("HostDown", 1), group("PeerUnreachable", 0)],
            maintenance: vec![],
            test_by: None,
            incident: None,
            sent_from: "sin-1 (Singapore)".into(),
            sent_at: "2026-12-06T21:40:00Z".into(),
        }
    }

    #[test]
    fn a_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 does not cover this framing; the value is checked against Python's hmac:
        // hmac.new(b"0123456789abcdef", b"1800000000.{}", hashlib.sha256).hexdigest()
        let got = sign("0123456789abcdef", 1_800_000_000, "{}");
        assert_eq!(got, "t=1800000000,v1=1313ae9c874eb1a0868ad0b65f841c4243c23fdcfad69a3ada227726fad9960e");
        assert_ne!(sign("0123456789abcdef", 1_800_000_001, "{}"), got, "the timestamp is signed");
        assert_ne!(sign("0123456789abcdef", 1_800_000_000, "{ }"), got, "the body is signed");
    }

    #[test]
    fn pagerduty_gets_a_trigger_per_firing_rule_and_a_resolve_per_rule_that_ended() {
        let events = pagerduty_events(&sample(), "R0UTING");
        // (action, dedup key, severity)
        let got: Vec<(&str, &str, Option<&str>)> = events
            .iter()
            .map(|e| (e["event_action"].as_str().unwrap(), e["dedup_key"].as_str().unwrap(), e["payload"]["severity"].as_str()))
            .collect();
        assert_eq!(got, [("trigger", "crowsnest/HostDown", Some("warning")), ("resolve", "crowsnest/PeerUnreachable", None)]);
        assert_eq!(events[0]["payload"]["summary"], "HostDown: lb2 is down");
        assert_eq!(events[0]["routing_key"], "R0UTING");
        assert_eq!(events[0]["links"][1]["href"], "https://runbooks.example/host");
        let mut long = sample();
        long.rules[0].summary = "x".repeat(5000);
        assert_eq!(pagerduty_events(&long, "k")[0]["payload"]["summary"].as_str().unwrap().chars().count(), 1024);
    }

    #[test]
    fn slack_and_email_say_the_same_words_with_links() {
        let text = slack_message(&sample())["text"].as_str().unwrap().to_string();
        assert_eq!(
            text,
            "*FIRING: HostDown host=lb2 (and 1 more)*\n\
             • [firing] HostDown host=lb2 (critical): lb2 is down <https://c.example/topology|open>\n\
             • [resolved] PeerUnreachable host=sjc-1 (critical): sjc-1 is down <https://c.example/topology|open>\n\
             _sent from sin-1 (Singapore) at 2026-12-06T21:40:00Z_"
        );
        let (subject, body) = email_text(&sample());
        assert_eq!(subject, "[Crowsnest] FIRING: HostDown host=lb2 (and 1 more)");
        assert!(body.starts_with("[firing] HostDown host=lb2 (critical): lb2 is down\n  https://c.example/topology\n"), "{body}");
        assert!(body.contains("Runbook for HostDown: https://runbooks.example/host"), "{body}");
        assert!(body.ends_with("Sent from sin-1 (Singapore) at 2026-12-06T21:40:00Z.\n"), "{body}");
    }
}
