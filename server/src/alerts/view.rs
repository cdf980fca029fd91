//! The Alerts page's data from the tracked alerts: firing first, then pending, then resolved,
//! newest first within each.

use super::alertmanager::{rfc3339, Sender};
use super::evaluate::{Book, Labels};
use super::notice::fingerprint;
use super::rules::Rules;
use super::silence::matches;
use crate::config::RuleKey;
use crate::store::AckRecord;
use app::model::{Alert, AlertState, Alerts, Receiver, Silence};
use std::collections::BTreeMap;

/// An alert's identity in the book.
type Id = (RuleKey, Labels);

/// The page's data at `now_ms`.
pub fn alerts(book: &Book, rules: &Rules, sender: &Sender<'_>, receivers: &[Receiver], now_ms: i64) -> Alerts {
    let mut alerts: Vec<Alert> = book
        .values()
        .map(|a| {
            let rule = rules.get(a.finding.rule);
            Alert {
                name: rule.name.to_string(),
                severity: <&str>::from(rule.severity).to_string(),
                state: a.state,
                labels: a.finding.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                summary: a.finding.summary.clone(),
                link: format!("{}{}", sender.public_url, a.finding.page),
                runbook: rule.runbook.clone(),
                since_ms: a.since_ms,
                fired_ms: a.fired_ms,
                resolved_ms: a.resolved_ms,
                seen_from: a.seen_here.then(|| sender.instance.to_string()).into_iter().chain(a.seen_elsewhere.iter().cloned()).collect(),
                fingerprint: String::new(),
                silenced: None,
                acknowledged: None,
            }
        })
        .collect();
    let rank = |s: AlertState| match s {
        AlertState::Firing => 0,
        AlertState::Pending => 1,
        AlertState::Resolved => 2,
    };
    alerts.sort_by_key(|a| (rank(a.state), std::cmp::Reverse(a.resolved_ms.or(a.fired_ms).unwrap_or(a.since_ms)), a.name.clone()));
    Alerts { alerts, receivers: receivers.to_vec(), evaluated_at_ms: now_ms, ..Alerts::default() }
}

/// Adds to the page what on-call decided: each alert's fingerprint, why it is muted, who
/// acknowledged it; and the silences with how many alerts each silences now.
pub fn decorate(
    shown: &mut Alerts,
    book: &Book,
    rules: &Rules,
    muted: &BTreeMap<Id, String>,
    acked: &BTreeMap<Id, &AckRecord>,
    silences: &[Silence],
    now_ms: i64,
) {
    let by_print: BTreeMap<String, &Id> = book.keys().map(|id| (fingerprint(rules.get(id.0).name, &id.1), id)).collect();
    for alert in &mut shown.alerts {
        let labels: Labels = alert.labels.iter().cloned().collect();
        alert.fingerprint = fingerprint(&alert.name, &labels);
        let Some(id) = by_print.get(&alert.fingerprint) else { continue };
        alert.silenced = muted.get(*id).cloned();
        alert.acknowledged = acked.get(*id).map(|a| format!("by {} at {}: {}", a.by, rfc3339(a.at_ms), a.reason));
    }
    shown.silences = silences
        .iter()
        .map(|s| Silence {
            silencing: if s.starts_ms <= now_ms && now_ms < s.ends_ms {
                book.keys().filter(|(rule, labels)| matches(&s.matchers, rules.get(*rule).name, labels)).count()
            } else {
                0
            },
            ..s.clone()
        })
        .collect();
}
