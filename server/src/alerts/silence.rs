//! Silences, acknowledgements and maintenance, decided purely: what a silence form says
//! (matchers, a duration), which alerts a silence or a site's maintenance mutes, and whether an
//! acknowledgement covers an alert's current episode. Muted alerts are shown, never notified;
//! acknowledged ones are notified once and not repeated.

use super::evaluate::{Book, Labels};
use crate::config::{Estate, RuleKey};
use crate::store::{AckRecord, SiteRecord};
use app::model::Silence;
use std::collections::{BTreeMap, BTreeSet};

/// Longest silence, in milliseconds (30 days).
pub const MAX_SILENCE_MS: i64 = 30 * 86_400_000;

/// Longest comment or reason, in characters.
pub const MAX_WORDS: usize = 500;

/// Matchers from a form: `alertname=HostDown host=lb2` (spaces or commas between pairs).
pub fn parse_matchers(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in text.split([' ', ',', '\n', '\t']).map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(format!("{pair:?} is not name=value, e.g. host=lb2"));
        };
        let (name, value) = (name.trim(), value.trim().trim_matches('"'));
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(format!("{name:?} is not a label name (a-z, 0-9, _), e.g. alertname, host, hostname"));
        }
        if value.is_empty() {
            return Err(format!("{name}= needs a value"));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("{name} is named twice; an alert has one value per label"));
        }
        out.push((name.to_string(), value.to_string()));
    }
    if out.is_empty() {
        return Err("name at least one label, e.g. alertname=HostDown host=lb2".into());
    }
    Ok(out)
}

/// A duration from a form: `30m`, `2h`, `1d` (a bare number is minutes), at most 30 days.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let ms = app::format::parse_duration(text)?;
    if !(60_000..=MAX_SILENCE_MS).contains(&ms) {
        return Err(format!("{:?} is out of range; a silence lasts 1m to 30d", text.trim()));
    }
    Ok(ms)
}

/// A silence form (or its JSON).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SilenceForm {
    /// `name=value` pairs.
    pub matchers: String,
    /// `30m`, `2h`, `1d`.
    pub duration: String,
    /// Why.
    pub comment: String,
}

/// An acknowledgement form (or its JSON).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct AckForm {
    /// The alert's fingerprint.
    pub alert: String,
    /// What the person is doing about it.
    pub reason: String,
}

/// Mistakes by form field (`""` for the form as a whole).
pub type FieldErrors = Vec<(String, String)>;

/// The words a person typed: trimmed, present, not too long.
fn words(field: &str, text: &str, errors: &mut FieldErrors) -> String {
    let text = text.trim();
    if text.is_empty() {
        errors.push((field.into(), format!("say why: the {field} is kept in the audit log")));
    } else if text.chars().count() > MAX_WORDS {
        errors.push((field.into(), format!("at most {MAX_WORDS} characters")));
    }
    text.to_string()
}

/// The silence a form asks for, made by `by` at `now_ms`, or what is wrong with it.
pub fn silence_from(form: &SilenceForm, by: &str, now_ms: i64) -> Result<Silence, FieldErrors> {
    let mut errors = FieldErrors::new();
    let matchers = parse_matchers(&form.matchers).map_err(|e| errors.push(("matchers".into(), e))).unwrap_or_default();
    let duration = parse_duration(&form.duration).map_err(|e| errors.push(("duration".into(), e))).unwrap_or_default();
    let comment = words("comment", &form.comment, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Silence {
        id: 0,
        matchers,
        starts_ms: now_ms,
        ends_ms: now_ms + duration,
        created_by: by.into(),
        comment,
        expired_by: None,
        silencing: 0,
    })
}

/// The acknowledgement a form asks for, of the firing alert `alert` (looked up by the form's
/// fingerprint), or what is wrong with it.
pub fn ack_from(form: &AckForm, alert: Option<&app::model::Alert>, by: &str, now_ms: i64) -> Result<AckRecord, FieldErrors> {
    let mut errors = FieldErrors::new();
    let reason = words("reason", &form.reason, &mut errors);
    let alert = match alert {
        Some(a) if a.state == app::model::AlertState::Firing => Some(a),
        Some(_) => {
            errors.push((String::new(), "that alert is not firing any more: nothing to acknowledge".into()));
            None
        }
        None => {
            errors.push((String::new(), "no alert has that fingerprint now; it may have resolved".into()));
            None
        }
    };
    match (alert, errors.is_empty()) {
        (Some(a), true) => Ok(AckRecord {
            fingerprint: a.fingerprint.clone(),
            alertname: a.name.clone(),
            labels: a.labels.clone(),
            by: by.into(),
            reason,
            at_ms: now_ms,
        }),
        _ => Err(errors),
    }
}

/// Whether an alert named `alertname` with `labels` has every matcher.
pub fn matches(matchers: &[(String, String)], alertname: &str, labels: &Labels) -> bool {
    !matchers.is_empty()
        && matchers.iter().all(|(name, value)| if name == "alertname" { alertname == value } else { labels.get(name) == Some(value) })
}

/// Whether an acknowledgement made at `ack_at_ms` covers the episode first seen at `since_ms`:
/// one made before the alert came back belongs to an earlier episode.
pub fn acknowledges(ack_at_ms: i64, since_ms: i64) -> bool {
    ack_at_ms >= since_ms
}

/// Per site, the hostnames it serves and the balancers of their tier: what its maintenance
/// covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceScope(BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>);

impl MaintenanceScope {
    /// From the config: each hostname with a site, and the hosts of that hostname's tier.
    pub fn of(estate: &Estate) -> Self {
        let mut scope: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
        for hostname in &estate.hostnames {
            let Some(site) = &hostname.site else { continue };
            let entry = scope.entry(site.clone()).or_default();
            entry.0.insert(hostname.name.clone());
            entry.1.extend(estate.hosts.iter().filter(|h| h.tier == hostname.tier).map(|h| h.name.clone()));
        }
        MaintenanceScope(scope)
    }

    /// The site in maintenance (of `on`) whose hostnames or balancers an alert is about.
    pub fn covering<'a>(&self, labels: &Labels, on: &'a [SiteRecord]) -> Option<&'a SiteRecord> {
        on.iter().filter(|s| s.state.on).find(|site| {
            self.0.get(&site.name).is_some_and(|(hostnames, hosts)| {
                labels.get("hostname").is_some_and(|h| hostnames.contains(h)) || labels.get("host").is_some_and(|h| hosts.contains(h))
            })
        })
    }
}

/// How long an Alertmanager copy of a maintenance silence lasts: it is deleted when the
/// maintenance ends, so this only bounds one left behind by an instance that died.
const MAINTENANCE_SILENCE_MS: i64 = 7 * 86_400_000;

impl MaintenanceScope {
    /// The sites in maintenance as silences for an Alertmanager (which knows nothing of our
    /// sites): one per hostname and per balancer a site covers, since its matchers are exact.
    /// Each has a negative number derived from what it matches, so the same site in the same
    /// config is the same silence in every round and every region.
    pub fn as_silences(&self, sites: &[SiteRecord], now_ms: i64) -> Vec<Silence> {
        use sha2::{Digest, Sha256};
        let mut out = Vec::new();
        for site in sites.iter().filter(|s| s.state.on) {
            let Some((hostnames, hosts)) = self.0.get(&site.name) else { continue };
            let starts_ms = site.changed_at_ms.unwrap_or(now_ms).min(now_ms);
            let matchers = hostnames.iter().map(|h| ("hostname", h)).chain(hosts.iter().map(|h| ("host", h)));
            for (label, value) in matchers {
                let digest = Sha256::digest(format!("{}\u{1f}{label}\u{1f}{value}", site.name).as_bytes());
                let id = -(i64::from_be_bytes(digest[..8].try_into().unwrap_or_default()) & 0x0000_ffff_ffff_ffff) - 1;
                out.push(Silence {
                    id,
                    matchers: vec![(label.to_string(), value.clone())],
                    starts_ms,
                    // Renewed (posted again) once it runs out while the maintenance goes on.
                    ends_ms: starts_ms + ((now_ms - starts_ms) / MAINTENANCE_SILENCE_MS + 1) * MAINTENANCE_SILENCE_MS,
                    created_by: site.changed_by.clone().unwrap_or_else(|| "crowsnest".into()),
                    comment: format!("maintenance on {} (Crowsnest mutes its alerts while it lasts)", site.name),
                    expired_by: None,
                    silencing: 0,
                });
            }
        }
        out
    }
}

/// Why each alert is muted, if it is: the first silence in force that matches it, else the
/// maintenance of a site it is about.
pub fn muted(
    book: &Book,
    names: &dyn Fn(RuleKey) -> &'static str,
    silences: &[Silence],
    scope: &MaintenanceScope,
    sites: &[SiteRecord],
    now_ms: i64,
) -> BTreeMap<(RuleKey, Labels), String> {
    let mut out = BTreeMap::new();
    for ((rule, labels), _) in book.iter() {
        let name = names(*rule);
        let silence = silences.iter().find(|s| s.starts_ms <= now_ms && now_ms < s.ends_ms && matches(&s.matchers, name, labels));
        let why = match silence {
            Some(s) => Some(format!(
                "silence {} by {} until {}: {}",
                s.id,
                s.created_by,
                crate::alerts::alertmanager::rfc3339(s.ends_ms),
                s.comment
            )),
            None => scope.covering(labels, sites).map(|site| match site.changed_at_ms {
                Some(at) => format!("maintenance on {} since {}", site.name, crate::alerts::alertmanager::rfc3339(at)),
                None => format!("maintenance on {}", site.name),
            }),
        };
        if let Some(why) = why {
            out.insert((*rule, labels.clone()), why);
        }
    }
    out
}

/// The newest acknowledgement covering each alert's episode, by alert.
pub fn acknowledged<'a>(
    book: &Book,
    fingerprint: &dyn Fn(RuleKey, &Labels) -> String,
    acks: &'a [AckRecord],
) -> BTreeMap<(RuleKey, Labels), &'a AckRecord> {
    let mut out = BTreeMap::new();
    for ((rule, labels), alert) in book.iter() {
        let print = fingerprint(*rule, labels);
        if let Some(ack) = acks.iter().filter(|a| a.fingerprint == print && acknowledges(a.at_ms, alert.since_ms)).max_by_key(|a| a.at_ms) {
            out.insert((*rule, labels.clone()), ack);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn matchers_from_a_form_or_what_is_wrong_with_them() {
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        #[rustfmt::skip]
        let table: Vec<(&str, Result<Vec<(String, String)>, &str>)> = vec![
            ("alertname=HostDown host=lb2", Ok(vec![pair("alertname", "HostDown"), pair("host", "lb2")])),
            (" host=\"lb2\", region=sjc ", Ok(vec![pair("host", "lb2"), pair("region", "sjc")])),
            ("", Err("name at least one label")),
            ("host", Err("is not name=value")),
            ("Host=lb2", Err("is not a label name")),
            ("host=", Err("host= needs a value")),
            ("host=lb2 host=lb3", Err("host is named twice")),
        ];
        for (text, want) in table {
            match (parse_matchers(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{text:?}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text:?}: {got}"),
                (got, want) => panic!("{text:?}: {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn durations_from_a_form() {
        #[rustfmt::skip]
        let table: Vec<(&str, Result<i64, &str>)> = vec![
            ("30m", Ok(1_800_000)), ("2h", Ok(7_200_000)), ("1d", Ok(86_400_000)), ("45", Ok(2_700_000)), ("30d", Ok(MAX_SILENCE_MS)),
            ("31d", Err("out of range")), ("0m", Err("out of range")), ("2w", Err("the unit is m, h or d")), ("soon", Err("is not a duration")),
        ];
        for (text, want) in table {
            match (parse_duration(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{text:?}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text:?}: {got}"),
                (got, want) => panic!("{text:?}: {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn a_silence_matches_an_alert_with_every_label() {
        let lb2 = labels(&[("host", "lb2"), ("region", "sjc")]);
        let m = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        // (matchers, alert name, matches)
        let table = [
            (m(&[("host", "lb2")]), "HostDown", true),
            (m(&[("alertname", "HostDown"), ("host", "lb2")]), "HostDown", true),
            (m(&[("alertname", "HostDown"), ("host", "lb2")]), "CertificateInvalid", false),
            (m(&[("host", "lb2"), ("region", "sin")]), "HostDown", false),
            (m(&[("hostname", "www.example.test")]), "HostDown", false),
            (m(&[]), "HostDown", false),
        ];
        for (matchers, name, want) in table {
            assert_eq!(matches(&matchers, name, &lb2), want, "{matchers:?} {name}");
        }
    }

    #[test]
    fn a_silence_form_is_checked_field_by_field() {
        let form = |m: &str, d: &str, c: &str| SilenceForm { matchers: m.into(), duration: d.into(), comment: c.into() };
        let ok = silence_from(&form("host=lb2", "2h", " deploy "), "alice", 1_000).unwrap();
        assert_eq!((ok.starts_ms, ok.ends_ms, ok.comment.as_str(), ok.created_by.as_str()), (1_000, 7_201_000, "deploy", "alice"));
        // (form, the fields named wrong)
        let table = [
            (form("", "2h", "deploy"), vec!["matchers"]),
            (form("host=lb2", "forever", "deploy"), vec!["duration"]),
            (form("host=lb2", "2h", "  "), vec!["comment"]),
            (form("host=lb2", "2h", &"x".repeat(MAX_WORDS + 1)), vec!["comment"]),
            (form("host", "0m", ""), vec!["matchers", "duration", "comment"]),
        ];
        for (f, want) in table {
            let errors = silence_from(&f, "alice", 0).unwrap_err();
            assert_eq!(errors.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), want, "{f:?}");
        }
    }

    #[test]
    fn only_a_firing_alert_is_acknowledged_and_with_a_reason() {
        let alert = |state: app::model::AlertState| app::model::Alert {
            name: "HostDown".into(),
            severity: "critical".into(),
            state,
            labels: vec![("host".into(), "lb2".into())],
            summary: String::new(),
            link: String::new(),
            runbook: None,
            since_ms: 0,
            fired_ms: Some(0),
            resolved_ms: None,
            seen_from: vec![],
            fingerprint: "f1".into(),
            silenced: None,
            acknowledged: None,
        };
        let form = |reason: &str| AckForm { alert: "f1".into(), reason: reason.into() };
        let firing = alert(app::model::AlertState::Firing);
        let ack = ack_from(&form("restarting nginx"), Some(&firing), "bob", 5).unwrap();
        assert_eq!((ack.fingerprint.as_str(), ack.by.as_str(), ack.at_ms), ("f1", "bob", 5));
        // (form, alert, the fields named wrong)
        let resolved = alert(app::model::AlertState::Resolved);
        let table =
            [(form(""), Some(&firing), vec!["reason"]), (form("on it"), Some(&resolved), vec![""]), (form("on it"), None, vec![""])];
        for (f, a, want) in table {
            let errors = ack_from(&f, a, "bob", 5).unwrap_err();
            assert_eq!(errors.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), want, "{f:?}");
        }
    }

    /// A site in maintenance is one exact silence per hostname and balancer it covers, the
    /// same in every round; a site out of maintenance is none.
    #[test]
    fn maintenance_becomes_exact_silences_for_an_alertmanager() {
        use app::action::MaintenanceState;
        let set = |items: &[&str]| items.iter().map(|i| i.to_string()).collect::<BTreeSet<String>>();
        let scope = MaintenanceScope(
            [
                ("web".to_string(), (set(&["www.example.test"]), set(&["lb2", "lb4"]))),
                ("api".to_string(), (set(&["api.example.test"]), set(&["lb1"]))),
            ]
            .into(),
        );
        let site = |name: &str, on: bool| SiteRecord {
            name: name.into(),
            state: MaintenanceState { on, ..MaintenanceState::default() },
            changed_by: Some("alice".into()),
            changed_at_ms: Some(1_000),
        };
        let sites = [site("web", true), site("api", false)];
        let silences = scope.as_silences(&sites, 5_000);
        let matched: Vec<(String, String)> = silences.iter().flat_map(|s| s.matchers.clone()).collect();
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(matched, vec![pair("hostname", "www.example.test"), pair("host", "lb2"), pair("host", "lb4")]);
        assert!(silences.iter().all(|s| s.id < 0 && s.starts_ms == 1_000 && s.ends_ms > 5_000 && s.created_by == "alice"), "{silences:?}");
        let ids: BTreeSet<i64> = silences.iter().map(|s| s.id).collect();
        assert_eq!(ids.len(), 3, "each its own number");
        assert_eq!(scope.as_silences(&sites, 9_000), silences, "the same in the next round");
        assert_eq!(scope.as_silences(&[site("web", false)], 9_000), vec![], "maintenance over: none");
    }

    #[test]
    fn an_acknowledgement_covers_only_the_episode_it_was_made_in() {
        // (acknowledged at, episode first seen at, covered)
        for (ack, since, want) in [(5_000, 1_000, true), (1_000, 1_000, true), (1_000, 9_000, false)] {
            assert_eq!(acknowledges(ack, since), want, "ack {ack} episode {since}");
        }
    }
}
