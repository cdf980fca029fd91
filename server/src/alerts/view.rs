//! The Alerts page's data from the tracked alerts: firing first, then pending, then resolved,
//! newest first within each.

use super::alertmanager::Sender;
use super::evaluate::Book;
use super::rules::Rules;
use app::model::{Alert, AlertState, Alerts, Receiver};

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
            }
        })
        .collect();
    let rank = |s: AlertState| match s {
        AlertState::Firing => 0,
        AlertState::Pending => 1,
        AlertState::Resolved => 2,
    };
    alerts.sort_by_key(|a| (rank(a.state), std::cmp::Reverse(a.resolved_ms.or(a.fired_ms).unwrap_or(a.since_ms)), a.name.clone()));
    Alerts { alerts, receivers: receivers.to_vec(), evaluated_at_ms: now_ms, deliveries: Vec::new() }
}
