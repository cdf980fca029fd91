//! What a notice to a direct receiver says, built purely from the tracked alerts: the alerts
//! that fired, resolved or are repeated, at most [`MAX_LISTED`] of them by name (fifty records
//! failing at once are one notice listing them; ten thousand are one notice listing a hundred
//! and counting the rest), and per rule whether anything of it still fires. The notice is kept
//! in the outbox as JSON and each receiver's own format (`receivers`) is made from it.

use super::alertmanager::{rfc3339, Sender};
use super::evaluate::Tracked;
use super::rules::Rules;
use app::model::AlertState;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Alerts a notice lists by name; the rest are counted.
pub const MAX_LISTED: usize = 100;

/// One notice: the body the generic webhook receives, and what every other format is made of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// The shape's version.
    pub version: String,
    /// `firing` when anything in it fires, else `resolved`.
    pub status: String,
    /// The alerts that moved (or are repeated), firing first, at most [`MAX_LISTED`].
    pub alerts: Vec<NoticeAlert>,
    /// Alerts that moved but are not listed.
    pub more: usize,
    /// Each rule the notice touches, with what of it still fires.
    pub rules: Vec<RuleGroup>,
    /// Sites whose maintenance began or ended (their alerts are muted meanwhile).
    #[serde(default)]
    pub maintenance: Vec<MaintenanceChange>,
    /// Who asked for this test notification, when it is one.
    #[serde(default)]
    pub test_by: Option<String>,
    /// The incident update subscribers are told, when it is one.
    #[serde(default)]
    pub incident: Option<IncidentNotice>,
    /// The instance and region that sent it.
    pub sent_from: String,
    /// When it was made (RFC 3339).
    pub sent_at: String,
}

/// One alert in a notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeAlert {
    /// The rule's alert name (`HostDown`).
    pub name: String,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// `firing` or `resolved`.
    pub state: String,
    /// Its identity within the rule.
    pub labels: BTreeMap<String, String>,
    /// What is wrong, in the console's words.
    pub summary: String,
    /// The console page that shows it.
    pub link: String,
    /// The same for this alert from every region (rule and labels hashed).
    pub fingerprint: String,
    /// When it fired.
    pub fired_at: Option<String>,
    /// When it resolved.
    pub resolved_at: Option<String>,
    /// A reminder: it fired earlier, nobody acknowledged it, and it still fires.
    #[serde(default)]
    pub repeat: bool,
}

/// A site's maintenance beginning or ending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceChange {
    /// The site.
    pub site: String,
    /// True: it began.
    pub on: bool,
    /// Who changed it.
    pub by: Option<String>,
    /// The maintenance page's message, when it began.
    pub message: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// An incident update as subscribers are told it: what the public is told, as posted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentNotice {
    /// The incident's key.
    pub incident: String,
    /// The update's key (the notice's identity in every region).
    pub update: String,
    /// `incident` or `maintenance`.
    pub kind: String,
    /// The incident's title.
    pub title: String,
    /// The state the update moves it to.
    pub state: String,
    /// What the public is told.
    pub body: String,
    /// The affected components.
    pub components: Vec<String>,
    /// When it was posted (RFC 3339).
    pub at: String,
    /// The status page's section for it (empty without `status_page.public_url`).
    pub link: String,
}

/// The notice telling subscribers of update `u` to the incident titled `title`; `page` is
/// where the public reads the status page.
pub fn incident(u: &app::model::IncidentUpdate, title: &str, page: &str, sender: &Sender<'_>, now_ms: i64) -> Notice {
    let link = if page.is_empty() { String::new() } else { format!("{page}#incident-{}", u.incident) };
    let told = IncidentNotice {
        incident: u.incident.clone(),
        update: u.key.clone(),
        kind: <&str>::from(u.kind).to_string(),
        title: title.to_string(),
        state: u.state.word().to_string(),
        body: u.body.clone(),
        components: u.components.clone(),
        at: rfc3339(u.at_ms),
        link,
    };
    Notice { status: "incident".into(), incident: Some(told), ..maintenance(Vec::new(), sender, now_ms) }
}

/// The notice for sites whose maintenance began or ended: no alerts, so PagerDuty hears nothing.
pub fn maintenance(changes: Vec<MaintenanceChange>, sender: &Sender<'_>, now_ms: i64) -> Notice {
    Notice {
        version: "2".into(),
        status: "maintenance".into(),
        alerts: Vec::new(),
        more: 0,
        rules: Vec::new(),
        maintenance: changes,
        test_by: None,
        incident: None,
        sent_from: format!("{} ({})", sender.instance, sender.region),
        sent_at: rfc3339(now_ms),
    }
}

/// A test notification asked for by `by`: nothing is wrong, it checks the way out.
pub fn test(by: &str, sender: &Sender<'_>, now_ms: i64) -> Notice {
    Notice { status: "test".into(), test_by: Some(by.to_string()), ..maintenance(Vec::new(), sender, now_ms) }
}

/// A rule the notice touches: PagerDuty keeps one incident per rule, open while any of its
/// alerts fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleGroup {
    /// The rule's alert name.
    pub name: String,
    /// Its severity.
    pub severity: String,
    /// How many of its alerts fire after this round (0: the rule's incident is over).
    pub firing: usize,
    /// The first firing alert's words, or what resolved.
    pub summary: String,
    /// The page of its first alert.
    pub link: String,
    /// Its runbook.
    pub runbook: Option<String>,
}

/// The alert's identity, the same from every region: its rule's name and labels.
pub fn fingerprint(name: &str, labels: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    for (k, v) in labels {
        h.update(format!("\u{1f}{k}={v}").as_bytes());
    }
    format!("{:x}", h.finalize())[..32].to_string()
}

/// The notice for `moved` (alerts that fired or resolved this round) and `repeated` (still
/// firing, due a reminder), with `firing_now` every alert that fires after the round.
pub fn build(
    moved: &[&Tracked],
    repeated: &[&Tracked],
    firing_now: &[&Tracked],
    rules: &Rules,
    sender: &Sender<'_>,
    now_ms: i64,
) -> Notice {
    let item = |a: &Tracked, repeat: bool| {
        let rule = rules.get(a.finding.rule);
        NoticeAlert {
            name: rule.name.to_string(),
            severity: <&str>::from(rule.severity).to_string(),
            state: <&str>::from(a.state).to_string(),
            labels: a.finding.labels.clone(),
            summary: a.finding.summary.clone(),
            link: format!("{}{}", sender.public_url, a.finding.page),
            fingerprint: fingerprint(rule.name, &a.finding.labels),
            fired_at: a.fired_ms.map(rfc3339),
            resolved_at: a.resolved_ms.map(rfc3339),
            repeat,
        }
    };
    let mut all: Vec<NoticeAlert> = moved.iter().map(|a| item(a, false)).chain(repeated.iter().map(|a| item(a, true))).collect();
    // Firing first (what to act on), then by rule and labels, so the listed hundred are stable.
    all.sort_by(|a, b| (a.state != "firing", &a.name, &a.labels).cmp(&(b.state != "firing", &b.name, &b.labels)));
    let status = if all.iter().any(|a| a.state == "firing") { "firing" } else { "resolved" };
    let mut groups: BTreeMap<String, RuleGroup> = BTreeMap::new();
    for a in &all {
        groups.entry(a.name.clone()).or_insert_with(|| RuleGroup {
            name: a.name.clone(),
            severity: a.severity.clone(),
            firing: 0,
            summary: a.summary.clone(),
            link: a.link.clone(),
            runbook: None,
        });
    }
    for a in firing_now.iter().filter(|a| a.state == AlertState::Firing) {
        let rule = rules.get(a.finding.rule);
        if let Some(group) = groups.get_mut(rule.name) {
            if group.firing == 0 {
                // The incident's words are a firing alert's, not a resolved one's.
                (group.summary, group.link) = (a.finding.summary.clone(), format!("{}{}", sender.public_url, a.finding.page));
            }
            group.firing += 1;
        }
    }
    for group in groups.values_mut() {
        group.runbook = rules.all().iter().find(|r| r.name == group.name).and_then(|r| r.runbook.clone());
        if group.firing > 1 {
            group.summary = format!("{} alerts firing; first: {}", group.firing, group.summary);
        }
    }
    let more = all.len().saturating_sub(MAX_LISTED);
    all.truncate(MAX_LISTED);
    Notice {
        version: "2".into(),
        status: status.into(),
        alerts: all,
        more,
        rules: groups.into_values().collect(),
        maintenance: Vec::new(),
        test_by: None,
        incident: None,
        sent_from: format!("{} ({})", sender.instance, sender.region),
        sent_at: rfc3339(now_ms),
    }
}

/// The notice's one-line title: `FIRING: HostDown lb2 (and 3 more)`, `RESOLVED: …`.
pub fn title(notice: &Notice) -> String {
    if let Some(i) = &notice.incident {
        let what = if i.kind == "maintenance" { "MAINTENANCE" } else { "INCIDENT" };
        return format!("{what} {}: {}", i.state.to_uppercase().replace('_', " "), i.title);
    }
    if let Some(by) = &notice.test_by {
        return format!("TEST: a test notification asked for by {by}");
    }
    if notice.alerts.is_empty() && notice.more == 0 {
        let sites = |on: bool| notice.maintenance.iter().filter(|m| m.on == on).map(|m| m.site.as_str()).collect::<Vec<_>>().join(", ");
        return match (sites(true), sites(false)) {
            (began, ended) if ended.is_empty() => format!("MAINTENANCE STARTED: {began}"),
            (began, ended) if began.is_empty() => format!("MAINTENANCE ENDED: {ended}"),
            (began, ended) => format!("MAINTENANCE STARTED: {began}; ENDED: {ended}"),
        };
    }
    let total = notice.alerts.len() + notice.more;
    let firing = notice.alerts.iter().filter(|a| a.state == "firing").count();
    let first = notice.alerts.first().map(|a| format!("{} {}", a.name, label_words(&a.labels))).unwrap_or_default();
    let state = if firing > 0 { "FIRING" } else { "RESOLVED" };
    match total {
        0 | 1 => format!("{state}: {}", first.trim_end()),
        n => format!("{state}: {} (and {} more)", first.trim_end(), n - 1),
    }
}

/// Labels as `host=lb2 region=sjc`.
pub fn label_words(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// One line per listed alert: `[firing] HostDown host=lb2: lb2 is down … <link>`, and a last
/// line counting the alerts not listed.
pub fn lines(notice: &Notice) -> Vec<String> {
    let mut out: Vec<String> = notice
        .alerts
        .iter()
        .map(|a| {
            let state = if a.repeat { "still firing" } else { a.state.as_str() };
            format!("[{state}] {} {} ({}): {}", a.name, label_words(&a.labels), a.severity, a.summary)
        })
        .collect();
    if notice.more > 0 {
        out.push(format!("… and {} more not listed; the Alerts page lists them all", notice.more));
    }
    if let Some(by) = &notice.test_by {
        out.push(format!(
            "This is a test from {}, asked for by {by}: nothing is wrong. If you read this, this receiver works.",
            notice.sent_from
        ));
    }
    if let Some(i) = &notice.incident {
        out.push(format!("[{}] {}", i.state.replace('_', " "), i.body));
        if !i.components.is_empty() {
            out.push(format!("Affects: {}.", i.components.join(", ")));
        }
        if !i.link.is_empty() {
            out.push(i.link.clone());
        }
    }
    for m in &notice.maintenance {
        let by = m.by.as_deref().map(|b| format!(" by {b}")).unwrap_or_default();
        let message = m.message.as_deref().map(|t| format!(": {t}")).unwrap_or_default();
        let (what, after) = if m.on { ("started", "; its alerts are shown, not sent, until it ends") } else { ("ended", "") };
        out.push(format!("[maintenance {what}] {}{by} at {}{message}{after}", m.site, m.at));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::evaluate::Finding;
    use crate::config::{AlertingConfig, RuleKey};

    fn tracked(rule: RuleKey, host: &str, state: AlertState) -> Tracked {
        Tracked {
            finding: Finding {
                rule,
                labels: [("host".to_string(), host.to_string())].into(),
                summary: format!("{host} is down"),
                page: "/topology",
                caused_by_hostname: None,
            },
            state,
            seen_here: true,
            seen_elsewhere: Vec::new(),
            since_ms: 0,
            fired_ms: Some(1_000),
            resolved_ms: (state == AlertState::Resolved).then_some(2_000),
        }
    }

    fn sender() -> Sender<'static> {
        Sender { instance: "sin-1", region: "Singapore", public_url: "https://crowsnest.example" }
    }

    #[test]
    fn a_notice_lists_firing_first_and_says_per_rule_what_still_fires() {
        let rules = crate::alerts::rules::Rules::of_config(&AlertingConfig::default());
        let (lb2, lb3) = (tracked(RuleKey::HostDown, "lb2", AlertState::Firing), tracked(RuleKey::HostDown, "lb3", AlertState::Resolved));
        let peer = tracked(RuleKey::PeerUnreachable, "sjc-1", AlertState::Resolved);
        let n = build(&[&lb3, &peer, &lb2], &[], &[&lb2], &rules, &sender(), 5_000);
        assert_eq!(n.status, "firing");
        let order: Vec<(&str, &str)> = n.alerts.iter().map(|a| (a.state.as_str(), a.labels["host"].as_str())).collect();
        assert_eq!(order, [("firing", "lb2"), ("resolved", "lb3"), ("resolved", "sjc-1")]);
        assert_eq!(n.alerts[0].link, "https://crowsnest.example/topology");
        // (rule, firing after the round, words)
        let groups: Vec<(&str, usize, &str)> = n.rules.iter().map(|g| (g.name.as_str(), g.firing, g.summary.as_str())).collect();
        assert_eq!(groups, [("HostDown", 1, "lb2 is down"), ("PeerUnreachable", 0, "sjc-1 is down")]);
        assert_eq!(title(&n), "FIRING: HostDown host=lb2 (and 2 more)");
        assert_eq!(lines(&n)[1], "[resolved] HostDown host=lb3 (critical): lb3 is down");
        // The same alert has the same fingerprint from every region; another host another.
        assert_eq!(n.alerts[0].fingerprint, fingerprint("HostDown", &lb2.finding.labels));
        assert_ne!(n.alerts[0].fingerprint, n.alerts[1].fingerprint);
        let again = build(&[], &[&lb2], &[&lb2], &rules, &sender(), 9_000);
        assert_eq!(lines(&again), ["[still firing] HostDown host=lb2 (critical): lb2 is down"]);
    }

    #[test]
    fn maintenance_is_its_own_notice_with_no_alerts() {
        let change = |site: &str, on: bool| MaintenanceChange {
            site: site.into(),
            on,
            by: Some("alice".into()),
            message: on.then(|| "Back at 22:00".to_string()),
            at: "2026-12-06T21:40:00Z".into(),
        };
        let n = maintenance(vec![change("web", true)], &sender(), 0);
        assert_eq!((title(&n).as_str(), n.rules.len()), ("MAINTENANCE STARTED: web", 0));
        assert_eq!(
            lines(&n),
            ["[maintenance started] web by alice at 2026-12-06T21:40:00Z: Back at 22:00; its alerts are shown, not sent, until it ends"]
        );
        let n = maintenance(vec![change("web", false), change("api", true)], &sender(), 0);
        assert_eq!(title(&n), "MAINTENANCE STARTED: api; ENDED: web");
    }

    #[test]
    fn ten_thousand_alerts_are_one_notice_of_bounded_size() {
        let rules = crate::alerts::rules::Rules::of_config(&AlertingConfig::default());
        let many: Vec<Tracked> = (0..10_000).map(|i| tracked(RuleKey::HostDown, &format!("h{i:05}"), AlertState::Firing)).collect();
        let refs: Vec<&Tracked> = many.iter().collect();
        let n = build(&refs, &[], &refs, &rules, &sender(), 0);
        assert_eq!((n.alerts.len(), n.more), (MAX_LISTED, 10_000 - MAX_LISTED));
        assert_eq!(n.rules[0].firing, 10_000);
        assert!(n.rules[0].summary.starts_with("10000 alerts firing; first: h00000 is down"), "{}", n.rules[0].summary);
        assert!(serde_json::to_string(&n).unwrap().len() < 64 * 1024, "a notice stays small whatever fails");
        assert_eq!(lines(&n).last().unwrap(), "… and 9900 more not listed; the Alerts page lists them all");
    }
}
