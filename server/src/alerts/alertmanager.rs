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

/// The tag a silence's comment starts with in Alertmanager, naming ours: how the sync finds
/// the silences it made (and no one else's).
fn tag(id: i64) -> String {
    format!("[crowsnest silence {id}]")
}

/// Our silence as Alertmanager's v2 API takes it (`POST /api/v2/silences`): exact matchers,
/// our times, the author, the comment tagged with our number.
pub fn postable_silence(s: &app::model::Silence) -> serde_json::Value {
    let matchers: Vec<serde_json::Value> = s
        .matchers
        .iter()
        .map(|(name, value)| serde_json::json!({ "name": name, "value": value, "isRegex": false, "isEqual": true }))
        .collect();
    serde_json::json!({
        "matchers": matchers,
        "startsAt": rfc3339(s.starts_ms),
        "endsAt": rfc3339(s.ends_ms),
        "createdBy": s.created_by,
        "comment": format!("{} {}", tag(s.id), s.comment),
    })
}

/// One of Alertmanager's silences that we made: its id there, our number, whether in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theirs {
    /// Alertmanager's id.
    pub id: String,
    /// Our number, from the comment's tag.
    pub ours: i64,
    /// `active` or `pending` there (not `expired`).
    pub in_force: bool,
}

/// What to change in an Alertmanager so it holds exactly our silences in force at `now_ms`:
/// ours it lacks (to post) and its copies of ours that ended (to delete).
pub fn reconcile<'a>(ours: &'a [app::model::Silence], theirs: &[Theirs], now_ms: i64) -> (Vec<&'a app::model::Silence>, Vec<String>) {
    let in_force = |s: &app::model::Silence| s.starts_ms <= now_ms && now_ms < s.ends_ms;
    let post = ours.iter().filter(|s| in_force(s) && !theirs.iter().any(|t| t.ours == s.id && t.in_force)).collect();
    let delete =
        theirs.iter().filter(|t| t.in_force && !ours.iter().any(|s| s.id == t.ours && in_force(s))).map(|t| t.id.clone()).collect();
    (post, delete)
}

/// Makes the Alertmanager at `base` hold our silences in force: reads its silences, posts
/// the missing ones, deletes the ones we ended.
pub async fn sync_silences(client: &reqwest::Client, base: &str, ours: &[app::model::Silence], now_ms: i64) -> Result<(), String> {
    let base = base.trim_end_matches('/');
    let listed: Vec<serde_json::Value> = match client.get(format!("{base}/api/v2/silences")).send().await {
        Ok(r) if r.status().is_success() => r.json_or_text().await.map_err(|e| format!("GET {base}/api/v2/silences: {e}"))?,
        Ok(r) => return Err(format!("GET {base}/api/v2/silences: {}", r.status())),
        Err(e) => return Err(format!("GET {base}/api/v2/silences: {e}")),
    };
    let theirs: Vec<Theirs> = listed
        .iter()
        .filter_map(|s| {
            let comment = s["comment"].as_str()?;
            let ours = comment.strip_prefix("[crowsnest silence ")?.split(']').next()?.parse().ok()?;
            let state = s["status"]["state"].as_str().unwrap_or("expired");
            Some(Theirs { id: s["id"].as_str()?.to_string(), ours, in_force: state != "expired" })
        })
        .collect();
    let (post, delete) = reconcile(ours, &theirs, now_ms);
    for silence in post {
        let body = postable_silence(silence).to_string();
        let sent = client
            .post(format!("{base}/api/v2/silences"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => return Err(format!("POST {base}/api/v2/silences: {}", r.status())),
            Err(e) => return Err(format!("POST {base}/api/v2/silences: {e}")),
        }
    }
    for id in delete {
        match client.delete(format!("{base}/api/v2/silence/{id}")).send().await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => return Err(format!("DELETE {base}/api/v2/silence/{id}: {}", r.status())),
            Err(e) => return Err(format!("DELETE {base}/api/v2/silence/{id}: {e}")),
        }
    }
    Ok(())
}

/// Reads a JSON answer without reqwest's `json` feature (which only the tests enable).
trait JsonOrText {
    async fn json_or_text<T: serde::de::DeserializeOwned>(self) -> Result<T, String>;
}

impl JsonOrText for reqwest::Response {
    async fn json_or_text<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        let text = self.text().await.map_err(|e| e.to_string())?;
        serde_json::from_str(&text).map_err(|e| format!("not the JSON expected: {e}"))
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

    #[test]
    fn an_alertmanager_gets_our_silences_in_force_and_loses_the_ended_ones() {
        let silence = |id: i64, starts_ms: i64, ends_ms: i64| app::model::Silence {
            id,
            matchers: vec![("host".into(), "lb2".into())],
            starts_ms,
            ends_ms,
            created_by: "alice".into(),
            comment: "deploy".into(),
            expired_by: None,
            silencing: 0,
        };
        let theirs = |id: &str, ours: i64, in_force: bool| Theirs { id: id.into(), ours, in_force };
        let ours = [silence(1, 0, 10_000), silence(2, 0, 3_000), silence(3, 0, 10_000), silence(4, 8_000, 10_000)];
        // 1 is there already; 2 ended (delete its copy); 3 is missing (post it); 4 starts later;
        // 9 is not ours any more; an expired copy of 3 does not count.
        let there = [theirs("a", 1, true), theirs("b", 2, true), theirs("c", 3, false), theirs("z", 9, true)];
        let (post, delete) = reconcile(&ours, &there, 5_000);
        assert_eq!(post.iter().map(|s| s.id).collect::<Vec<_>>(), vec![3]);
        assert_eq!(delete, vec!["b".to_string(), "z".to_string()]);
        let body = postable_silence(&ours[0]);
        assert_eq!(body["comment"], "[crowsnest silence 1] deploy");
        assert_eq!(body["matchers"][0], serde_json::json!({"name": "host", "value": "lb2", "isRegex": false, "isEqual": true}));
    }
}
