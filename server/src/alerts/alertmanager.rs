//! Alertmanager as a client sees it (`POST /api/v2/alerts`): the batch a round posts, built
//! purely from the tracked alerts, and the post itself. Every Alertmanager is posted to
//! directly; they gossip notifications, not alerts.

use super::evaluate::{Book, Tracked};
use super::rules::Rules;
use app::model::AlertState;
use serde::Serialize;
use std::collections::BTreeMap;

/// One alert as Alertmanager's v2 API takes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Postable {
    /// The identity: alertname, severity and the rule's labels; never the vantage.
    pub labels: BTreeMap<String, String>,
    /// Words and links: summary, where it was seen from, the console page, the runbook.
    pub annotations: BTreeMap<String, String>,
    /// When it fired (RFC 3339).
    pub starts_at: String,
    /// For a firing alert, a little past the next resend, so only a dead sender lets it lapse;
    /// for a resolved one, when it resolved.
    pub ends_at: String,
    /// The console page that shows it.
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
}

/// What a post's answer means for the next round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// 200: every alert stored.
    Stored,
    /// 400: the valid alerts were stored, the rest named in the answer; re-sending the batch
    /// would not fix the rest, so the round counts as sent.
    PartlyRefused(String),
    /// Not stored (5xx, refused, timed out): posted again next round.
    Failed(String),
}

/// RFC 3339 in UTC with milliseconds, as Alertmanager parses it.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Who sends, for the annotations and the Watchdog.
pub struct Sender<'a> {
    /// This instance's name, e.g. `sin-1`.
    pub instance: &'a str,
    /// Its region's display name, e.g. `Singapore`.
    pub region: &'a str,
    /// Where the console is reached (`auth.public_url`), or empty for relative links.
    pub public_url: &'a str,
}

/// The batch a round posts at `now_ms`: every firing alert this vantage finds (ending
/// `4 × resend` from now), every resolved one still kept (ending when it resolved), and this
/// instance's `Watchdog`, which always fires so an outside dead man's switch can page when it
/// stops. Pending alerts have not fired; a firing one only peers still find is theirs to post.
pub fn batch(book: &Book, rules: &Rules, sender: &Sender<'_>, resend_ms: i64, now_ms: i64) -> Vec<Postable> {
    let mut out: Vec<Postable> = book
        .values()
        .filter(|a| a.state == AlertState::Resolved || (a.state == AlertState::Firing && a.seen_here))
        .map(|a| postable(a, rules, sender, resend_ms, now_ms))
        .collect();
    let mut labels = BTreeMap::new();
    labels.insert("alertname".to_string(), "Watchdog".to_string());
    labels.insert("severity".to_string(), "none".to_string());
    // The Watchdog is per sender: its instance label is its identity.
    labels.insert("instance".to_string(), sender.instance.to_string());
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), format!("Crowsnest {} ({}) is evaluating its rules", sender.instance, sender.region));
    out.push(Postable {
        labels,
        annotations,
        starts_at: rfc3339(now_ms),
        ends_at: rfc3339(now_ms + 4 * resend_ms),
        generator_url: format!("{}/alerts", sender.public_url),
    });
    out
}

fn postable(alert: &Tracked, rules: &Rules, sender: &Sender<'_>, resend_ms: i64, now_ms: i64) -> Postable {
    let rule = rules.get(alert.finding.rule);
    let mut labels = alert.finding.labels.clone();
    labels.insert("alertname".to_string(), rule.name.to_string());
    labels.insert("severity".to_string(), <&str>::from(rule.severity).to_string());
    let link = format!("{}{}", sender.public_url, alert.finding.page);
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_string(), alert.finding.summary.clone());
    if alert.state == AlertState::Firing {
        let others = alert.seen_elsewhere.iter().map(|p| format!(", {p}")).collect::<String>();
        annotations.insert("seen_from".to_string(), format!("{} ({}){others}", sender.instance, sender.region));
    }
    annotations.insert("console".to_string(), link.clone());
    if let Some(runbook) = &rule.runbook {
        annotations.insert("runbook_url".to_string(), runbook.clone());
    }
    let ends_ms = match (alert.state, alert.resolved_ms) {
        (AlertState::Resolved, Some(at)) => at,
        _ => now_ms + 4 * resend_ms,
    };
    Postable {
        labels,
        annotations,
        starts_at: rfc3339(alert.fired_ms.unwrap_or(alert.since_ms)),
        ends_at: rfc3339(ends_ms),
        generator_url: link,
    }
}

/// Posts `batch` to one Alertmanager at `base` (no trailing slash needed).
pub async fn post(client: &reqwest::Client, base: &str, batch: &[Postable]) -> Posted {
    let url = format!("{}/api/v2/alerts", base.trim_end_matches('/'));
    // Serialised here rather than with reqwest's `json` feature, which only the tests enable.
    let body = match serde_json::to_vec(batch) {
        Ok(body) => body,
        Err(e) => return Posted::Failed(format!("encoding the batch: {e}")),
    };
    let request = client.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
    match request.send().await {
        Err(e) => Posted::Failed(format!("POST {url}: {e}")),
        Ok(r) if r.status().is_success() => Posted::Stored,
        Ok(r) if r.status() == reqwest::StatusCode::BAD_REQUEST => {
            let body = r.text().await.unwrap_or_default();
            Posted::PartlyRefused(format!("POST {url}: 400 {}", body.chars().take(300).collect::<String>()))
        }
        Ok(r) => Posted::Failed(format!("POST {url}: {}", r.status())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::evaluate::{step, Elsewhere, Finding};
    use crate::config::{AlertingConfig, RuleKey};

    #[test]
    fn a_batch_holds_firing_and_resolved_alerts_with_their_ends_and_a_watchdog() {
        let rules = Rules::of_config(&AlertingConfig::default());
        let sender = Sender { instance: "sin-1", region: "Singapore", public_url: "https://crowsnest.example" };
        let lb2 = Finding {
            rule: RuleKey::HostDown,
            labels: [("host".to_string(), "lb2".to_string())].into(),
            summary: "lb2 (web_lb, San Jose) is down: connection refused".into(),
            page: "/topology",
            caused_by_hostname: None,
        };
        let mut book = Book::new();
        let t0 = 1_800_000_000_000;
        step(&mut book, vec![lb2.clone()], &Elsewhere::new(), &rules, t0);
        let firing = batch(&book, &rules, &sender, 60_000, t0 + 1000);
        assert_eq!(firing.len(), 2, "{firing:?}");
        let alert = &firing[0];
        assert_eq!(alert.labels.get("alertname").map(String::as_str), Some("HostDown"));
        assert_eq!(alert.labels.get("severity").map(String::as_str), Some("critical"));
        assert!(!alert.labels.contains_key("instance"), "service alerts carry no sender label");
        assert_eq!(alert.annotations["seen_from"], "sin-1 (Singapore)");
        assert_eq!(alert.generator_url, "https://crowsnest.example/topology");
        assert_eq!(alert.starts_at, rfc3339(t0));
        assert_eq!(alert.ends_at, rfc3339(t0 + 1000 + 240_000), "endsAt is four resends away");
        assert_eq!(firing[1].labels["alertname"], "Watchdog");
        assert_eq!(firing[1].labels["instance"], "sin-1");

        step(&mut book, vec![], &Elsewhere::new(), &rules, t0 + 5000);
        let resolved = batch(&book, &rules, &sender, 60_000, t0 + 6000);
        assert_eq!(resolved[0].ends_at, rfc3339(t0 + 5000), "a resolved alert ends when it resolved");
        assert_eq!(resolved[0].labels, alert.labels, "the same identity resolves it");
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_800_000_000_123), "2027-01-15T08:00:00.123Z");
    }
}
