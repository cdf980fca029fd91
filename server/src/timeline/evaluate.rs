//! The timeline, pure: events from what was stored (status changes from observations, alerts,
//! notices, audit entries, incident updates), merged in order, and written as Markdown in the
//! shape of a post-mortem. Table-tested.

use crate::store::{AuditEntry, Observed, OutboxRow};
use app::model::{EventKind, IncidentUpdate, Timeline, TimelineEvent};
use std::collections::BTreeMap;

/// At most this many events in one timeline (the first ones are kept).
pub const MAX_EVENTS: usize = 5_000;

/// Who saw the events: an instance and its region's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vantage<'a> {
    /// The instance, e.g. `sin-1`.
    pub instance: &'a str,
    /// Its region, e.g. `Singapore`.
    pub region: &'a str,
}

impl Vantage<'_> {
    fn event(&self, at_ms: i64, kind: EventKind, subject: &str, text: String) -> TimelineEvent {
        TimelineEvent {
            at_ms,
            kind,
            vantage: self.instance.to_string(),
            region: self.region.to_string(),
            subject: subject.to_string(),
            text,
        }
    }
}

/// The first `n` characters of `text`, with an ellipsis when it was longer.
fn clip(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(n).collect::<String>())
    }
}

/// A health answer as people say it: `Http(200)` → `HTTP 200`, `TcpConnected` → `TCP connected`.
fn answer_words(detail: &str) -> String {
    if let Some(code) = detail.strip_prefix("Http(").and_then(|d| d.strip_suffix(')')) {
        return format!("HTTP {code}");
    }
    match detail {
        "TcpConnected" => "TCP connected".to_string(),
        other => other.to_string(),
    }
}

/// Status changes in `rows` (sorted by kind, subject, time): a host that stops or starts
/// answering, each stored DNS change (the DNS engine stores changes only), a replica whose status
/// word moves. A subject failing at the window's first row is reported as already failing.
/// `labels` names hosts for people (`lb1` → `lb1 (api_lb, San Jose)`).
pub fn status_changes(rows: &[Observed], labels: &BTreeMap<String, String>, seen: &Vantage<'_>) -> Vec<TimelineEvent> {
    let mut out = Vec::new();
    let mut last: Option<(&str, &str, String)> = None;
    for r in rows.iter().filter(|r| r.kind != "alert") {
        let word = match r.kind.as_str() {
            "health" => (if r.ok { "up" } else { "down" }).to_string(),
            _ => serde_json::from_str::<serde_json::Value>(&r.detail)
                .ok()
                .and_then(|v| v["status"].as_str().map(str::to_string))
                .unwrap_or_else(|| "unknown".into()),
        };
        let first = !matches!(&last, Some((k, s, _)) if *k == r.kind && *s == r.subject);
        let changed = first || last.as_ref().is_some_and(|(_, _, w)| *w != word);
        last = Some((r.kind.as_str(), r.subject.as_str(), word.clone()));
        // DNS rows are changes already; the others count when their word moves (a first row
        // only when something is wrong: "ok" at the window's start is no event).
        let report = match r.kind.as_str() {
            "dns" => true,
            _ => changed && !(first && (word == "up" || word == "ok")),
        };
        if !report {
            continue;
        }
        let name = labels.get(&r.subject).cloned().unwrap_or_else(|| r.subject.clone());
        let text = match (r.kind.as_str(), word.as_str()) {
            ("health", "down") if first => format!("{name} is not answering: {}", clip(&r.detail, 160)),
            ("health", "down") => format!("{name} stops answering: {}", clip(&r.detail, 160)),
            ("health", _) => format!("{name} answers again ({})", clip(&answer_words(&r.detail), 80)),
            (_, _) => {
                let detail = serde_json::from_str::<serde_json::Value>(&r.detail)
                    .ok()
                    .and_then(|v| v["detail"].as_str().map(str::to_string))
                    .unwrap_or_default();
                match (r.kind.as_str(), detail.is_empty()) {
                    ("dns", true) => format!("{name}: {word}"),
                    ("dns", false) => format!("{name}: {word} ({})", clip(&detail, 200)),
                    (_, true) => format!("replica {name}: {word}"),
                    (_, false) => format!("replica {name}: {word} ({})", clip(&detail, 160)),
                }
            }
        };
        out.push(seen.event(r.at_ms, EventKind::Status, &r.subject, text));
    }
    out
}

/// Alerts that fired or resolved, from the stored rows (`alert` observations).
pub fn alert_events(rows: &[Observed], seen: &Vantage<'_>) -> Vec<TimelineEvent> {
    rows.iter()
        .filter(|r| r.kind == "alert")
        .map(|r| {
            let detail: serde_json::Value = serde_json::from_str(&r.detail).unwrap_or_default();
            let (name, labels) = r.subject.split_once(' ').unwrap_or((r.subject.as_str(), ""));
            let text = if r.ok {
                format!("alert {name} resolves ({labels})")
            } else {
                format!("alert {name} fires ({}, {labels})", detail["severity"].as_str().unwrap_or("critical"))
            };
            seen.event(r.at_ms, EventKind::Alert, &r.subject, text)
        })
        .collect()
}

/// What a notice says, from its body as the receiver gets it (Slack's text, PagerDuty's
/// summary, an Alertmanager-shaped webhook's status and alert names, an email's subject).
fn notice_summary(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body) else { return clip(body, 120) };
    if let Some(text) = v["text"].as_str().or(v["subject"].as_str()) {
        return clip(text.lines().next().unwrap_or(text), 160);
    }
    if let Some(summary) = v["payload"]["summary"].as_str() {
        let action = v["event_action"].as_str().unwrap_or("event");
        return clip(&format!("{action}: {summary}"), 160);
    }
    if let Some(alerts) = v["alerts"].as_array() {
        let names: Vec<&str> = alerts.iter().filter_map(|a| a["labels"]["alertname"].as_str()).collect();
        return clip(&format!("{} {}", v["status"].as_str().unwrap_or(""), names.join(", ")), 160);
    }
    clip(body, 120)
}

/// Notices made for direct receivers, and whether they arrived.
pub fn notification_events(rows: &[OutboxRow], seen: &Vantage<'_>) -> Vec<TimelineEvent> {
    rows.iter()
        .map(|r| {
            let outcome = match (r.delivered_ms, &r.last_error) {
                (Some(at), _) => format!("delivered after {:.1} s", (at - r.created_ms) as f64 / 1000.0),
                (None, Some(e)) => format!("not delivered: {}", clip(e, 100)),
                (None, None) => "waiting".to_string(),
            };
            seen.event(
                r.created_ms,
                EventKind::Notification,
                &r.receiver,
                format!("notice to {}: {} ({outcome})", r.receiver, notice_summary(&r.body)),
            )
        })
        .collect()
}

/// Audit entries as events: who did what to what, and why.
pub fn audit_events(entries: &[AuditEntry], seen: &Vantage<'_>) -> Vec<TimelineEvent> {
    entries
        .iter()
        .map(|e| {
            let e = &e.entry;
            let reason = if e.reason.is_empty() { String::new() } else { format!(": \"{}\"", clip(&e.reason, 120)) };
            let target = if e.target == e.actor || e.target.is_empty() { String::new() } else { format!(" {}", e.target) };
            seen.event(e.at_ms, EventKind::Action, &e.target, format!("{} {}{target}{reason}", e.actor, e.action))
        })
        .collect()
}

/// Incident updates as events: what the public was told.
pub fn incident_events(updates: &[IncidentUpdate], titles: &BTreeMap<String, String>, seen: &Vantage<'_>) -> Vec<TimelineEvent> {
    updates
        .iter()
        .map(|u| {
            let title = titles.get(&u.incident).cloned().unwrap_or_else(|| u.title.clone());
            let text = format!(
                "the public is told \"{title}\" is {}: {} (by {} on {})",
                u.state.words().to_lowercase(),
                clip(&u.body, 200),
                u.by,
                u.written_on
            );
            seen.event(u.at_ms, EventKind::Incident, &u.incident, text)
        })
        .collect()
}

/// Every list merged in time order (then vantage, kind, subject), identical events once, at
/// most [`MAX_EVENTS`]; the flag says some were left out.
pub fn merge(lists: Vec<Vec<TimelineEvent>>) -> (Vec<TimelineEvent>, bool) {
    let mut all: Vec<TimelineEvent> = lists.into_iter().flatten().collect();
    all.sort_by(|a, b| (a.at_ms, &a.vantage, a.kind, &a.subject, &a.text).cmp(&(b.at_ms, &b.vantage, b.kind, &b.subject, &b.text)));
    all.dedup();
    let truncated = all.len() > MAX_EVENTS;
    all.truncate(MAX_EVENTS);
    (all, truncated)
}

/// `HH:MM:SS` of a time, UTC.
fn clock(ms: i64) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The timeline as Markdown in the shape of a post-mortem: a heading per day, a line per event
/// ("21:30:05 www.example.test A: wrong_tier (…), seen from sin-1 (Singapore)").
pub fn markdown(t: &Timeline, title: &str) -> String {
    let mut out = format!("# {title}\n\n{} to {}, {} events.\n\n", app::format::utc(t.from_ms), app::format::utc(t.to_ms), t.events.len());
    let asked: Vec<String> = t
        .vantages
        .iter()
        .map(|v| match &v.error {
            None => format!("{} ({}, {} events)", v.vantage, v.region, v.events),
            Some(e) => format!("{} ({}: not read, {e})", v.vantage, v.region),
        })
        .collect();
    out.push_str(&format!("Seen from: {}.\n", asked.join("; ")));
    if t.truncated {
        out.push_str(&format!("\nOnly the first {MAX_EVENTS} events are listed: narrow the window for the rest.\n"));
    }
    let mut day = String::new();
    for e in &t.events {
        let this_day = app::format::utc(e.at_ms).chars().take(10).collect::<String>();
        if this_day != day {
            out.push_str(&format!("\n## {this_day}\n\n"));
            day = this_day;
        }
        // A Markdown line: no line breaks inside, no table or list syntax to escape.
        let text = e.text.replace(['\n', '\r'], " ");
        out.push_str(&format!("- {} {text}, seen from {} ({}) [{}]\n", clock(e.at_ms), e.vantage, e.region, e.kind.word()));
    }
    if t.events.is_empty() {
        out.push_str("\nNothing happened in this window, as far as these vantages stored.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEEN: Vantage<'static> = Vantage { instance: "sin-1", region: "Singapore" };

    fn obs(kind: &str, subject: &str, at_ms: i64, ok: bool, detail: &str) -> Observed {
        Observed { kind: kind.into(), subject: subject.into(), at_ms, ok, detail: detail.into() }
    }

    fn dns(status: &str, detail: &str) -> String {
        serde_json::json!({"status": status, "detail": detail, "answers": []}).to_string()
    }

    /// (rows) → the texts of the events
    #[test]
    fn only_changes_are_events_and_a_failing_start_is_already_failing() {
        let labels: BTreeMap<String, String> = [("lb1".to_string(), "lb1 (api_lb, San Jose)".to_string())].into();
        #[rustfmt::skip]
        let table: Vec<(Vec<Observed>, Vec<&str>)> = vec![
            (vec![obs("health", "lb2", 1, true, "200"), obs("health", "lb2", 2, true, "200")], vec![]),
            (vec![obs("health", "lb2", 1, true, "200"), obs("health", "lb2", 2, false, "connection refused"), obs("health", "lb2", 3, false, "x"), obs("health", "lb2", 4, true, "200 in 3 ms")],
             vec!["lb2 stops answering: connection refused", "lb2 answers again (200 in 3 ms)"]),
            (vec![obs("health", "lb1", 1, false, "timed out")], vec!["lb1 (api_lb, San Jose) is not answering: timed out"]),
            (vec![obs("health", "db1", 1, false, "refused"), obs("health", "db1", 2, true, "TcpConnected"), obs("health", "web1", 1, false, "x"), obs("health", "web1", 2, true, "Http(200)")],
             vec!["db1 is not answering: refused", "db1 answers again (TCP connected)", "web1 is not answering: x", "web1 answers again (HTTP 200)"]),
            // Two hosts: the second's first row is its own start.
            (vec![obs("health", "lb1", 1, false, "timed out"), obs("health", "lb2", 2, true, "200")], vec!["lb1 (api_lb, San Jose) is not answering: timed out"]),
            (vec![obs("dns", "www.example.test A", 5, false, &dns("wrong_tier", "www resolves to lb1 (API tier, San Jose)")), obs("dns", "www.example.test A", 9, false, &dns("missing", ""))],
             vec!["www.example.test A: wrong_tier (www resolves to lb1 (API tier, San Jose))", "www.example.test A: missing"]),
            (vec![obs("replication", "main/db3", 1, true, &dns("ok", "")), obs("replication", "main/db3", 2, false, &dns("stalled", "no replay for 40 s"))],
             vec!["replica main/db3: stalled (no replay for 40 s)"]),
        ];
        for (rows, want) in table {
            let got: Vec<String> = status_changes(&rows, &labels, &SEEN).into_iter().map(|e| e.text).collect();
            assert_eq!(got, want, "{rows:?}");
        }
        let one = status_changes(&[obs("health", "lb1", 7, false, "x")], &labels, &SEEN).remove(0);
        assert_eq!((one.at_ms, one.vantage.as_str(), one.region.as_str(), one.kind), (7, "sin-1", "Singapore", EventKind::Status));
    }

    #[test]
    fn alerts_fire_and_resolve_and_actions_say_who() {
        let fired = serde_json::json!({"status": "firing", "severity": "critical"}).to_string();
        let resolved = serde_json::json!({"status": "resolved", "severity": "critical"}).to_string();
        let rows = [
            obs("alert", "HostDown host=lb2", 10, false, &fired),
            obs("health", "lb2", 11, true, "200"),
            obs("alert", "HostDown host=lb2", 30, true, &resolved),
        ];
        let texts: Vec<(i64, String)> = alert_events(&rows, &SEEN).into_iter().map(|e| (e.at_ms, e.text)).collect();
        assert_eq!(
            texts,
            vec![(10, "alert HostDown fires (critical, host=lb2)".to_string()), (30, "alert HostDown resolves (host=lb2)".to_string())]
        );
        assert!(status_changes(&rows[..1], &BTreeMap::new(), &SEEN).is_empty(), "an alert row is no status change");
        let entry = |actor: &str, action: &str, target: &str, reason: &str| AuditEntry {
            seq: 1,
            entry: crate::store::NewAuditEntry {
                at_ms: 5,
                actor: actor.into(),
                action: action.into(),
                target: target.into(),
                reason: reason.into(),
                detail: String::new(),
            },
            prev_hash: String::new(),
            hash: String::new(),
        };
        let got: Vec<String> =
            audit_events(&[entry("bob", "login", "bob", ""), entry("alice", "maintenance_on.executed", "web", "www hangs")], &SEEN)
                .into_iter()
                .map(|e| e.text)
                .collect();
        assert_eq!(got, vec!["bob login".to_string(), "alice maintenance_on.executed web: \"www hangs\"".to_string()]);
    }

    #[test]
    fn notices_say_what_the_receiver_read() {
        #[rustfmt::skip]
        let table = [
            (r#"{"text":"*FIRING: HostDown*\nlb2 is down"}"#, "*FIRING: HostDown*"),
            (r#"{"event_action":"trigger","payload":{"summary":"lb2 is down"}}"#, "trigger: lb2 is down"),
            (r#"{"status":"resolved","alerts":[{"labels":{"alertname":"HostDown"}}]}"#, "resolved HostDown"),
            ("not json", "not json"),
        ];
        for (body, want) in table {
            assert_eq!(notice_summary(body), want, "{body}");
        }
    }

    #[test]
    fn merged_in_order_once_and_written_for_the_post_mortem() {
        let a = SEEN.event(
            1_800_000_005_000,
            EventKind::Status,
            "www.example.test A",
            "www.example.test A: wrong_tier (www resolves to lb1)".into(),
        );
        let b = Vantage { instance: "ams-1", region: "Amsterdam" }.event(
            1_800_000_001_000,
            EventKind::Alert,
            "HostDown",
            "alert HostDown fires".into(),
        );
        let (events, truncated) = merge(vec![vec![a.clone(), a.clone()], vec![b.clone()]]);
        assert_eq!((events, truncated), (vec![b.clone(), a.clone()], false));
        let t = Timeline {
            from_ms: 1_800_000_000_000,
            to_ms: 1_800_000_060_000,
            events: vec![b, a],
            vantages: vec![
                app::model::VantageRead { vantage: "sin-1".into(), region: "Singapore".into(), events: 1, error: None },
                app::model::VantageRead { vantage: "ams-1".into(), region: "Amsterdam".into(), events: 0, error: Some("timed out".into()) },
            ],
            truncated: false,
        };
        let md = markdown(&t, "The night of the 15th");
        assert!(md.starts_with("# The night of the 15th\n"), "{md}");
        assert!(md.contains("Seen from: sin-1 (Singapore, 1 events); ams-1 (Amsterdam: not read, timed out)."), "{md}");
        assert!(md.contains("\n## 2027-01-15\n"), "{md}");
        assert!(
            md.contains("- 08:00:05 www.example.test A: wrong_tier (www resolves to lb1), seen from sin-1 (Singapore) [status]\n"),
            "{md}"
        );
        let first = md.find("08:00:01").unwrap();
        assert!(first < md.find("08:00:05").unwrap(), "in order: {md}");
        let many: Vec<TimelineEvent> = (0..MAX_EVENTS as i64 + 1).map(|i| SEEN.event(i, EventKind::Status, "x", format!("{i}"))).collect();
        assert!(merge(vec![many]).1, "more than the most is truncated");
    }
}
