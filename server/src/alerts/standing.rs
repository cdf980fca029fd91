//! Findings about the console's own standing rather than the estate's: a vantage that is cut
//! off (it sees every host down while the other regions see them up: one alert, and its host,
//! certificate and DNS findings dropped, not a storm), a site whose maintenance users do not
//! get, and break-glass used on this secondary. Pure, table-tested.

use super::evaluate::{Elsewhere, Finding};
use crate::config::RuleKey;
use crate::store::{BreakGlass, SiteRecord};
use app::action::SiteObservation;
use app::vantage::PeerStatus;
use std::collections::{BTreeMap, BTreeSet};

/// The rules whose findings come from this vantage's own probes of the estate.
fn probed(rule: RuleKey) -> bool {
    matches!(
        rule,
        RuleKey::HostDown | RuleKey::CertificateInvalid | RuleKey::CertificateExpiring | RuleKey::DnsWrongAnswer | RuleKey::DnsFailedOver
    )
}

/// When this vantage is cut off, its probed findings replaced by one `VantageIsolated`; else
/// `found` as it is. Cut off: at least half the `hosts` (and two) down from here, and either
/// every reachable peer sees most of those up, or no peer answers and every host is down.
pub fn isolate(found: Vec<Finding>, hosts: usize, instance: &str, elsewhere: &Elsewhere, peers: &[PeerStatus]) -> Vec<Finding> {
    let here: BTreeSet<&str> =
        found.iter().filter(|f| f.rule == RuleKey::HostDown).filter_map(|f| f.labels.get("host").map(String::as_str)).collect();
    if here.len() < 2 || here.len() * 2 < hosts {
        return found;
    }
    let reachable: Vec<&str> = peers.iter().filter(|p| p.reachable).map(|p| p.name.as_str()).collect();
    let mut seen_down_by: BTreeMap<&str, BTreeSet<&str>> = reachable.iter().map(|p| (*p, BTreeSet::new())).collect();
    for ((name, labels), by) in elsewhere {
        let Some(host) = labels.get("host").filter(|_| name == "HostDown") else { continue };
        for peer in by {
            if let Some(set) = seen_down_by.get_mut(peer.as_str()) {
                set.insert(host.as_str());
            }
        }
    }
    let summary = if reachable.is_empty() {
        if peers.is_empty() || here.len() < hosts {
            return found;
        }
        format!("{instance} sees every host down ({hosts}) and reaches no peer: this vantage is cut off, or everything is down")
    } else {
        let others_see_up = seen_down_by.values().all(|theirs| here.intersection(theirs).count() * 2 < here.len());
        if !others_see_up {
            return found;
        }
        format!(
            "{instance} sees {} of {hosts} hosts down while {} see them up: this vantage's network, not the hosts",
            here.len(),
            reachable.join(", ")
        )
    };
    let mut out: Vec<Finding> = found.into_iter().filter(|f| !probed(f.rule)).collect();
    out.push(Finding {
        rule: RuleKey::VantageIsolated,
        labels: [("instance".to_string(), instance.to_string())].into(),
        summary,
        page: "/",
        caused_by_hostname: None,
    });
    out
}

/// Sites whose maintenance, looked at through the balancer, is not what was asked.
pub fn unobserved(sites: &[SiteRecord], observed: &BTreeMap<String, SiteObservation>) -> Vec<Finding> {
    sites
        .iter()
        .filter_map(|site| {
            let seen = observed.get(&site.name)?;
            (seen.maintenance_seen != site.state.on).then(|| Finding {
                rule: RuleKey::MaintenanceNotObserved,
                labels: [("site".to_string(), site.name.clone())].into(),
                summary: if site.state.on {
                    format!(
                        "maintenance on {} is on, but its balancer still {}: users do not get the maintenance page",
                        site.name, seen.detail
                    )
                } else {
                    format!("maintenance on {} is off, but users still get the maintenance page ({})", site.name, seen.detail)
                },
                page: "/actions",
                caused_by_hostname: None,
            })
        })
        .collect()
}

/// Break-glass changes taken on this instance and not yet replayed into the primary.
pub fn break_glass(pending: &[BreakGlass], instance: &str) -> Vec<Finding> {
    pending
        .iter()
        .map(|g| Finding {
            rule: RuleKey::BreakGlassUsed,
            labels: [("site".to_string(), g.site.clone()), ("instance".to_string(), instance.to_string())].into(),
            summary: format!(
                "break-glass on {instance}: maintenance {} on {} by {}{} at {}, waiting to be replayed into the primary",
                if g.state.on { "on" } else { "off" },
                g.site,
                g.actor,
                g.approved_by.as_deref().map(|a| format!(" and {a}")).unwrap_or_default(),
                app::format::utc(g.at_ms)
            ),
            page: "/actions",
            caused_by_hostname: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::evaluate::Labels;

    fn host_down(host: &str) -> Finding {
        Finding {
            rule: RuleKey::HostDown,
            labels: [("host".to_string(), host.to_string())].into(),
            summary: String::new(),
            page: "/topology",
            caused_by_hostname: None,
        }
    }

    fn peer(name: &str, reachable: bool) -> PeerStatus {
        PeerStatus { name: name.into(), region: "x".into(), reachable, last_ok_ms: None, failing_since_ms: None, error: None, mode: None }
    }

    /// (hosts down here, hosts in all, peers, what each peer sees down) → isolated?
    #[test]
    fn a_vantage_that_sees_everything_down_alone_is_one_alert() {
        #[rustfmt::skip]
        let table: Vec<(&str, Vec<&str>, usize, Vec<PeerStatus>, Vec<(&str, Vec<&str>)>, bool)> = vec![
            ("the night in San Jose: all down, no peer answers", vec!["lb1", "lb2", "lb3", "lb4"], 4, vec![peer("sin-1", false)], vec![], true),
            ("all down here, up from the others", vec!["lb1", "lb2", "lb3", "lb4"], 4, vec![peer("sin-1", true), peer("ams-1", true)], vec![], true),
            ("half down here, the others agree", vec!["lb1", "lb2"], 4, vec![peer("sin-1", true)], vec![("sin-1", vec!["lb1", "lb2"])], false),
            ("San Jose down, seen from Singapore too", vec!["lb1", "lb2"], 4, vec![peer("sin-1", true), peer("sjc-1", false)], vec![("sin-1", vec!["lb1", "lb2"])], false),
            ("one host down is a host, not a vantage", vec!["lb2"], 2, vec![peer("sin-1", true)], vec![], false),
            ("a third down here", vec!["lb1", "lb2"], 6, vec![peer("sin-1", true)], vec![], false),
            ("no peers configured: nobody to compare with", vec!["lb1", "lb2"], 2, vec![], vec![], false),
            ("no peer answers but some hosts are up", vec!["lb1", "lb2", "lb3"], 4, vec![peer("sin-1", false)], vec![], false),
        ];
        for (name, here, hosts, peers, theirs, want) in table {
            let mut found: Vec<Finding> = here.iter().map(|h| host_down(h)).collect();
            found.push(Finding {
                rule: RuleKey::PeerUnreachable,
                labels: Labels::new(),
                summary: String::new(),
                page: "/",
                caused_by_hostname: None,
            });
            let mut elsewhere = Elsewhere::new();
            for (peer, down) in theirs {
                for host in down {
                    elsewhere
                        .entry(("HostDown".to_string(), [("host".to_string(), host.to_string())].into()))
                        .or_default()
                        .push(peer.to_string());
                }
            }
            let out = isolate(found, hosts, "sjc-1", &elsewhere, &peers);
            let isolated = out.iter().any(|f| f.rule == RuleKey::VantageIsolated);
            assert_eq!(isolated, want, "{name}");
            if isolated {
                let rules: Vec<RuleKey> = out.iter().map(|f| f.rule).collect();
                assert_eq!(rules, vec![RuleKey::PeerUnreachable, RuleKey::VantageIsolated], "{name}: host findings dropped, the rest kept");
            } else {
                assert_eq!(out.iter().filter(|f| f.rule == RuleKey::HostDown).count(), here.len(), "{name}");
            }
        }
    }

    #[test]
    fn maintenance_asked_but_not_seen_is_a_finding() {
        use app::action::MaintenanceState;
        let site = |on: bool| SiteRecord {
            name: "web".into(),
            state: MaintenanceState { on, message: None, expected_end_ms: None },
            changed_by: Some("alice".into()),
            changed_at_ms: Some(0),
        };
        let seen = |maintenance_seen: bool, code: u16| SiteObservation {
            at_ms: 0,
            status_code: Some(code),
            maintenance_seen,
            detail: format!("answers {code}"),
        };
        // (asked on, seen on, finding's words)
        let table = [
            (true, true, None),
            (false, false, None),
            (true, false, Some("maintenance on web is on, but its balancer still answers 200: users do not get the maintenance page")),
            (false, true, Some("maintenance on web is off, but users still get the maintenance page (answers 503)")),
        ];
        for (on, seen_on, want) in table {
            let observed: BTreeMap<String, SiteObservation> = [("web".to_string(), seen(seen_on, if seen_on { 503 } else { 200 }))].into();
            let got = unobserved(&[site(on)], &observed);
            assert_eq!(got.first().map(|f| f.summary.as_str()), want, "asked {on}, seen {seen_on}");
        }
        assert!(unobserved(&[site(true)], &BTreeMap::new()).is_empty(), "not looked at yet: nothing to say");
    }
}
