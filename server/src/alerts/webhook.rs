//! Direct receivers without an Alertmanager: a signed JSON webhook per `[[alerting.webhooks]]`.
//! Each round's transitions (fired, resolved) are one notice per receiver, kept in the local
//! outbox before the first attempt and retried with backoff and jitter until a receiver takes
//! it, always under the same key. Across regions one instance sends ([`sends`]).

use super::alertmanager::{rfc3339, Sender};
use super::evaluate::Tracked;
use super::rules::Rules;
use crate::config::WebhookConfig;
use crate::store::LocalStore;
use app::model::{AlertState, Instance, Mode};
use app::vantage::PeerStatus;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub const SIGNATURE_HEADER: &str = "x-crowsnest-signature";
/// The header carrying the delivery's idempotency key, the same on every retry.
pub const KEY_HEADER: &str = "x-crowsnest-delivery";

/// Whether this instance sends direct notices: the primary while it holds the control store;
/// with the primary lost, the first (by instance name) of the instances that can still be
/// reached. A partition may make two senders (a duplicate), never none.
pub fn sends(instance: &Instance, peers: &[PeerStatus]) -> bool {
    if instance.primary_lost_since_ms.is_none() {
        return instance.mode == Mode::Primary;
    }
    let lost = instance.primary.as_deref();
    !peers.iter().any(|p| p.reachable && Some(p.name.as_str()) != lost && p.name < instance.name)
}

/// The notice for one round's transitions, as JSON.
pub fn notice(changed: &[&Tracked], rules: &Rules, sender: &Sender<'_>, now_ms: i64) -> serde_json::Value {
    let alerts: Vec<serde_json::Value> = changed
        .iter()
        .map(|a| {
            let rule = rules.get(a.finding.rule);
            serde_json::json!({
                "name": rule.name,
                "severity": <&str>::from(rule.severity),
                "state": <&str>::from(a.state),
                "labels": a.finding.labels,
                "summary": a.finding.summary,
                "link": format!("{}{}", sender.public_url, a.finding.page),
                "fired_at": a.fired_ms.map(rfc3339),
                "resolved_at": a.resolved_ms.map(rfc3339),
            })
        })
        .collect();
    let status = if changed.iter().any(|a| a.state == AlertState::Firing) { "firing" } else { "resolved" };
    serde_json::json!({
        "version": "1",
        "status": status,
        "alerts": alerts,
        "sent_from": format!("{} ({})", sender.instance, sender.region),
        "sent_at": rfc3339(now_ms),
    })
}

/// The notice's key for `receiver`: the same transitions give the same key, whoever computes
/// it, so a retry (or a second region sending the same) is recognisable.
pub fn key(receiver: &str, changed: &[&Tracked], rules: &Rules) -> String {
    let mut h = Sha256::new();
    h.update(receiver.as_bytes());
    for a in changed {
        h.update([0]);
        h.update(rules.get(a.finding.rule).name.as_bytes());
        for (k, v) in &a.finding.labels {
            h.update(format!("\u{1f}{k}={v}").as_bytes());
        }
        let state: &str = a.state.into();
        h.update(format!("\u{1e}{state}@{}", a.fired_ms.unwrap_or(a.since_ms)).as_bytes());
    }
    format!("{:x}", h.finalize())
}

/// The signature header's value for `body` sent at `unix_seconds`.
pub fn sign(secret: &str, unix_seconds: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { unreachable!("HMAC takes a key of any length") };
    mac.update(format!("{unix_seconds}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// Milliseconds before attempt `attempts + 1`: doubling from 1 s up to 5 min, then jittered
/// by ±20 % (`jitter` in 0..1) so receivers coming back are not hit all at once.
pub fn backoff_ms(attempts: i64, jitter: f64) -> i64 {
    let base = (1000i64 << attempts.clamp(0, 9)).min(300_000) as f64;
    (base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as i64
}

/// Keeps this round's notice for every receiver (when this instance sends).
pub async fn enqueue(local: &LocalStore, hooks: &[WebhookConfig], changed: &[&Tracked], rules: &Rules, sender: &Sender<'_>, now_ms: i64) {
    if changed.is_empty() {
        return;
    }
    let body = notice(changed, rules, sender, now_ms).to_string();
    for hook in hooks {
        if let Err(e) = local.outbox_add(&key(&hook.name, changed, rules), &hook.name, &body, now_ms).await {
            tracing::error!(receiver = %hook.name, error = %e, "alerting: cannot keep a notice; it is lost");
        }
    }
}

/// Delivers what is due, once: each notice signed, with its key; a failure is kept for later.
pub async fn deliver_due(local: &LocalStore, hooks: &[WebhookConfig], client: &reqwest::Client, now_ms: i64) {
    let due = match local.outbox_due(now_ms, 50).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "alerting: cannot read the outbox");
            return;
        }
    };
    for notice in due {
        let Some(hook) = hooks.iter().find(|h| h.name == notice.receiver) else {
            // The receiver left the config: give up on it, visibly.
            let _ = local.outbox_failed(&notice.key, "no such receiver in the config any more", i64::MAX).await;
            continue;
        };
        let signature = sign(&hook.secret, now_ms / 1000, &notice.body);
        let sent = client
            .post(&hook.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(KEY_HEADER, &notice.key)
            .body(notice.body.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("{} answered {}", hook.url, r.status())),
            Err(e) => Err(format!("POST {}: {e}", hook.url)),
        };
        let stored = match outcome {
            Ok(()) => local.outbox_delivered(&notice.key, now_ms).await,
            Err(why) => {
                let jitter = (u64::from_str_radix(&notice.key[..8.min(notice.key.len())], 16).unwrap_or(0) % 1000) as f64 / 1000.0;
                tracing::warn!(receiver = %hook.name, attempts = notice.attempts + 1, %why, "alerting: delivery failed; retrying");
                local.outbox_failed(&notice.key, &why, now_ms + backoff_ms(notice.attempts, jitter)).await
            }
        };
        if let Err(e) = stored {
            tracing::warn!(error = %e, "alerting: cannot record a delivery; it may be sent again, under the same key");
        }
    }
}

/// A kept notice as the Alerts page lists it.
pub fn delivery(row: &crate::store::OutboxRow) -> app::model::Delivery {
    use app::model::DeliveryStatus;
    let status = match (row.delivered_ms, row.attempts, row.next_ms) {
        (Some(_), _, _) => DeliveryStatus::Sent,
        (None, _, i64::MAX) => DeliveryStatus::Failed,
        (None, 0, _) => DeliveryStatus::Queued,
        (None, _, _) => DeliveryStatus::Retrying,
    };
    let about = serde_json::from_str::<serde_json::Value>(&row.body)
        .ok()
        .map(|notice| {
            let alerts = notice["alerts"].as_array().cloned().unwrap_or_default();
            let named: Vec<String> = alerts
                .iter()
                .map(|a| {
                    let labels = a["labels"]
                        .as_object()
                        .map(|l| l.iter().map(|(k, v)| format!(" {k}={}", v.as_str().unwrap_or_default())).collect::<String>());
                    format!("{} {}{}", a["state"].as_str().unwrap_or("?"), a["name"].as_str().unwrap_or("?"), labels.unwrap_or_default())
                })
                .collect();
            named.join("; ")
        })
        .unwrap_or_else(|| "an unreadable notice".into());
    app::model::Delivery {
        receiver: row.receiver.clone(),
        key: row.key.clone(),
        about,
        status,
        attempts: row.attempts,
        error: row.last_error.clone(),
        created_ms: row.created_ms,
        delivered_ms: row.delivered_ms,
    }
}

/// Delivers due notices every second until aborted; once a minute, forgets notices delivered
/// longer than `retention_ms` ago (the observations' retention).
pub async fn run(local: LocalStore, hooks: Vec<WebhookConfig>, client: reqwest::Client, retention_ms: i64) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 0u64.. {
        tick.tick().await;
        let now = crate::clock::now_ms();
        deliver_due(&local, &hooks, &client, now).await;
        if round % 60 == 0 {
            if let Err(e) = local.outbox_prune(now - retention_ms).await {
                tracing::warn!(error = %e, "alerting: cannot prune delivered notices");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(name: &str, mode: Mode, lost: bool) -> Instance {
        serde_json::from_value(serde_json::json!({
            "name": name, "region": "sin", "region_display": "Singapore", "mode": mode, "read_only": mode == Mode::Secondary,
            "mode_reason": "", "mode_since_ms": 0, "control_store": "postgres", "primary": "sjc-1",
            "primary_lost_since_ms": if lost { Some(0) } else { None }, "primary_lost_seconds": null,
            "replica_unreplayed_bytes": null, "replica_last_replay_seconds": null, "config_differences": [], "version": "0"
        }))
        .unwrap()
    }

    fn peer(name: &str, reachable: bool) -> PeerStatus {
        PeerStatus { name: name.into(), region: "x".into(), reachable, last_ok_ms: None, failing_since_ms: None, error: None, mode: None }
    }

    /// (instance, mode, primary lost, peers) → sends?
    #[test]
    fn one_instance_sends_the_primary_then_the_first_survivor() {
        use Mode::{Primary, Secondary};
        #[rustfmt::skip]
        let table: Vec<(&str, Mode, bool, Vec<PeerStatus>, bool)> = vec![
            ("sjc-1", Primary, false, vec![peer("ams-1", true), peer("sin-1", true)], true),
            ("sin-1", Secondary, false, vec![peer("sjc-1", true), peer("ams-1", true)], false),
            // The primary lost: the first by name among those still reachable.
            ("ams-1", Secondary, true, vec![peer("sjc-1", false), peer("sin-1", true)], true),
            ("sin-1", Secondary, true, vec![peer("sjc-1", false), peer("ams-1", true)], false),
            // ams-1 gone too: Singapore sends.
            ("sin-1", Secondary, true, vec![peer("sjc-1", false), peer("ams-1", false)], true),
            // A primary that answers peers but is lost to this one still does not count.
            ("sin-1", Secondary, true, vec![peer("sjc-1", true)], true),
        ];
        for (name, mode, lost, peers, want) in table {
            assert_eq!(sends(&instance(name, mode, lost), &peers), want, "{name} {mode:?} lost={lost} {peers:?}");
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
    fn backoff_doubles_to_five_minutes_with_bounded_jitter() {
        #[rustfmt::skip]
        let table = [(0, 0.5, 1000), (1, 0.5, 2000), (3, 0.5, 8000), (8, 0.5, 256_000), (9, 0.5, 300_000), (40, 0.5, 300_000), (0, 0.0, 800), (0, 1.0, 1200)];
        for (attempts, jitter, want) in table {
            assert_eq!(backoff_ms(attempts, jitter), want, "attempt {attempts}, jitter {jitter}");
        }
    }

    /// (delivered, attempts, next, body) → (status, about)
    #[test]
    fn a_kept_notice_reads_as_its_status_and_what_it_says() {
        use app::model::DeliveryStatus::*;
        let body = r#"{"alerts":[{"name":"HostDown","state":"firing","labels":{"host":"lb2"}},{"name":"DnsWrongAnswer","state":"resolved","labels":{"hostname":"www.example.test","type":"A"}}]}"#;
        #[rustfmt::skip]
        let table = [
            (None, 0, 0, body, Queued, "firing HostDown host=lb2; resolved DnsWrongAnswer hostname=www.example.test type=A"),
            (None, 2, 5_000, body, Retrying, "firing HostDown host=lb2; resolved DnsWrongAnswer hostname=www.example.test type=A"),
            (Some(9), 3, 5_000, body, Sent, "firing HostDown host=lb2; resolved DnsWrongAnswer hostname=www.example.test type=A"),
            (None, 1, i64::MAX, "not json", Failed, "an unreadable notice"),
        ];
        for (delivered_ms, attempts, next_ms, body, status, about) in table {
            let row = crate::store::OutboxRow {
                key: "k".into(),
                receiver: "ops".into(),
                body: body.into(),
                attempts,
                delivered_ms,
                last_error: None,
                created_ms: 0,
                next_ms,
            };
            let d = delivery(&row);
            assert_eq!((d.status, d.about.as_str()), (status, about));
        }
    }
}
