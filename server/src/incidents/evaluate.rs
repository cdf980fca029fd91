//! Incidents, pure: what a posted form means ([`check`]), what the updates add up to
//! ([`fold`]), where a maintenance stands by its window ([`state_at`]), and what the open ones
//! say about each component ([`declared`], [`in_maintenance`]) and which alerts a window mutes
//! ([`maintenance_silences`]). Table-tested.

use crate::actions::decide::FieldErrors;
use crate::config::ComponentConfig;
use app::model::{Impact, Incident, IncidentKind, IncidentState, IncidentUpdate, Silence};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest update text, in characters.
pub const MAX_BODY: usize = 5_000;
/// How far ahead a maintenance may be announced.
pub const MAX_AHEAD_MS: i64 = 366 * 86_400_000;
/// The longest maintenance window.
pub const MAX_WINDOW_MS: i64 = 30 * 86_400_000;
/// How long resolved incidents stay listed on the pages.
pub const SHOWN_AFTER_MS: i64 = 7 * 86_400_000;

/// A posted incident form, or its JSON. `incident` empty opens a new one.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct IncidentForm {
    /// The incident this updates (empty: a new one).
    pub incident: String,
    /// The update's idempotency key (the form's hidden field; empty: one is made).
    pub key: String,
    /// `incident` or `maintenance` (new ones only).
    pub kind: String,
    /// The title (required for a new one; empty keeps it).
    pub title: String,
    /// The state word.
    pub state: String,
    /// The impact word (`none` when empty).
    pub impact: String,
    /// The affected components (required for a new one; empty keeps them).
    pub components: Vec<String>,
    /// What the public is told.
    pub body: String,
    /// A maintenance window's start, UTC: `2026-12-07 02:00` or `2026-12-07T02:00`.
    pub starts: String,
    /// A maintenance window's length: `30m`, `2h`, `1d`.
    pub duration: String,
}

impl IncidentForm {
    /// A form from urlencoded pairs: `components` may come once per checkbox, which
    /// `serde_urlencoded` cannot put in a list.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> IncidentForm {
        let mut form = IncidentForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "incident" => form.incident = v,
                "key" => form.key = v,
                "kind" => form.kind = v,
                "title" => form.title = v,
                "state" => form.state = v,
                "impact" => form.impact = v,
                "components" => form.components.push(v),
                "body" => form.body = v,
                "starts" => form.starts = v,
                "duration" => form.duration = v,
                // The CSRF token and anything else the gate has already read.
                _ => {}
            }
        }
        form
    }
}

/// Whether `key` may be an idempotency key: 8 to 64 of `A-Z a-z 0-9 - _`.
pub fn is_key(key: &str) -> bool {
    (8..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A time typed in UTC (`2026-12-07 02:00`, a `T` for the space, seconds and a `Z` allowed),
/// as unix milliseconds.
pub fn parse_utc(text: &str) -> Result<i64, String> {
    app::format::parse_utc(text).ok_or_else(|| format!("{text:?} is not a UTC time; write e.g. 2026-12-07 02:00"))
}

fn text(field: &str, value: &str, max: usize, required: bool, errors: &mut FieldErrors) -> String {
    // Control characters have no place in what the public reads (nor in the feed's XML).
    let value: String = value.chars().filter(|c| !c.is_control() || *c == '\n').collect();
    let value = value.trim();
    if required && value.is_empty() {
        errors.push((field.into(), format!("the {field} is required")));
    } else if value.chars().count() > max {
        errors.push((field.into(), format!("the {field} is over {max} characters")));
    }
    value.to_string()
}

/// The update a form asks for, posted by `by` on `instance` at `now_ms`, or what is wrong with
/// it by field. `existing` is the incident it updates (None for a new one); `components` every
/// configured component; `fresh_key` the key to use when the form brings none.
pub fn check(
    form: &IncidentForm,
    existing: Option<&Incident>,
    components: &[String],
    by: &str,
    instance: &str,
    fresh_key: &str,
    now_ms: i64,
) -> Result<IncidentUpdate, FieldErrors> {
    let mut errors = FieldErrors::new();
    let new = existing.is_none();
    if !form.incident.trim().is_empty() && new {
        errors.push(("incident".into(), format!("there is no incident {:?}", form.incident.trim())));
        return Err(errors);
    }
    let key = if form.key.trim().is_empty() { fresh_key.to_string() } else { form.key.trim().to_string() };
    if !is_key(&key) {
        errors.push(("key".into(), "the form's key is 8 to 64 letters, digits, - or _ (reload the page)".into()));
    }
    let kind = match existing {
        Some(i) => i.kind,
        None => IncidentKind::from_str(form.kind.trim()).unwrap_or_else(|_| {
            errors.push(("kind".into(), format!("{:?} is neither incident nor maintenance", form.kind)));
            IncidentKind::Incident
        }),
    };
    let title = text("title", &form.title, MAX_TITLE, new, &mut errors);
    let body = text("body", &form.body, MAX_BODY, true, &mut errors);
    let allowed = IncidentState::of(kind);
    let state = match IncidentState::from_str(form.state.trim()) {
        Ok(s) if allowed.contains(&s) => s,
        _ => {
            let words: Vec<&str> = allowed.iter().map(|s| s.word()).collect();
            errors
                .push(("state".into(), format!("{:?} is not a state of {}: one of {}", form.state, <&str>::from(kind), words.join(", "))));
            allowed[0]
        }
    };
    let impact = match form.impact.trim() {
        "" => Impact::None,
        word => Impact::from_str(word).unwrap_or_else(|_| {
            errors
                .push(("impact".into(), format!("{word:?} is not an impact: none, degraded_performance, partial_outage or major_outage")));
            Impact::None
        }),
    };
    if kind == IncidentKind::Maintenance && impact != Impact::None {
        errors.push(("impact".into(), "a maintenance shows its components as under maintenance; its impact is none".into()));
    }
    let mut chosen: Vec<String> = Vec::new();
    for c in form.components.iter().map(|c| c.trim()).filter(|c| !c.is_empty()) {
        if !components.iter().any(|k| k == c) {
            errors.push(("components".into(), format!("{c:?} is not a component of the status page")));
        } else if !chosen.iter().any(|k| k == c) {
            chosen.push(c.to_string());
        }
    }
    if new && chosen.is_empty() {
        errors.push(("components".into(), "choose at least one affected component".into()));
    }
    let (mut starts_ms, mut ends_ms) = (None, None);
    if kind == IncidentKind::Maintenance && (new || !form.starts.trim().is_empty() || !form.duration.trim().is_empty()) {
        match parse_utc(&form.starts) {
            Ok(at) if at > now_ms + MAX_AHEAD_MS => {
                errors.push(("starts".into(), "a maintenance is announced at most a year ahead".into()))
            }
            Ok(at) => starts_ms = Some(at),
            Err(e) => errors.push(("starts".into(), e)),
        }
        match app::format::parse_duration(&form.duration) {
            Ok(ms) if (60_000..=MAX_WINDOW_MS).contains(&ms) => ends_ms = starts_ms.map(|s| s + ms),
            Ok(_) => errors.push(("duration".into(), format!("{:?} is out of range; a window lasts 1m to 30d", form.duration.trim()))),
            Err(e) => errors.push(("duration".into(), e)),
        }
        if ends_ms.is_some_and(|end| end <= now_ms) && new {
            errors.push(("starts".into(), "that window is over already".into()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(IncidentUpdate {
        incident: existing.map_or_else(|| key.clone(), |i| i.key.clone()),
        key,
        kind,
        state,
        title,
        body,
        components: chosen,
        impact,
        starts_ms,
        ends_ms,
        by: by.to_string(),
        at_ms: now_ms,
        written_on: instance.to_string(),
        pending_replay: false,
    })
}

/// The incidents `updates` add up to, newest first; an update's key counts once (a replayed
/// copy of a journaled update is the same update).
pub fn fold(updates: &[IncidentUpdate]) -> Vec<Incident> {
    let mut seen = BTreeSet::new();
    let mut ordered: Vec<&IncidentUpdate> = updates.iter().filter(|u| seen.insert(u.key.as_str())).collect();
    ordered.sort_by(|a, b| (a.at_ms, &a.key).cmp(&(b.at_ms, &b.key)));
    let mut by_key: BTreeMap<&str, Incident> = BTreeMap::new();
    for u in ordered {
        let incident = by_key.entry(u.incident.as_str()).or_insert_with(|| Incident {
            key: u.incident.clone(),
            kind: u.kind,
            title: String::new(),
            state: u.state,
            impact: u.impact,
            components: Vec::new(),
            created_ms: u.at_ms,
            updated_ms: u.at_ms,
            resolved_ms: None,
            starts_ms: None,
            ends_ms: None,
            updates: Vec::new(),
        });
        if !u.title.is_empty() {
            incident.title = u.title.clone();
        }
        if !u.components.is_empty() {
            incident.components = u.components.clone();
        }
        if u.starts_ms.is_some() {
            (incident.starts_ms, incident.ends_ms) = (u.starts_ms, u.ends_ms);
        }
        incident.state = u.state;
        incident.impact = u.impact;
        incident.updated_ms = u.at_ms;
        // Reopened by a later update: no longer over.
        incident.resolved_ms = if u.state.is_over() { incident.resolved_ms.or(Some(u.at_ms)) } else { None };
        incident.updates.insert(0, u.clone());
    }
    let mut out: Vec<Incident> = by_key.into_values().collect();
    out.sort_by(|a, b| (b.created_ms, &b.key).cmp(&(a.created_ms, &a.key)));
    out
}

/// Where an incident stands at `now_ms`: a maintenance moves with its window (scheduled → in
/// progress when it begins, → completed when it ends) unless on-call moved it on already.
pub fn state_at(i: &Incident, now_ms: i64) -> IncidentState {
    use IncidentState::*;
    if i.kind != IncidentKind::Maintenance || i.state.is_over() {
        return i.state;
    }
    match (i.starts_ms, i.ends_ms) {
        (_, Some(end)) if now_ms >= end => Completed,
        (Some(start), _) if now_ms >= start && i.state == Scheduled => InProgress,
        _ => i.state,
    }
}

/// The incident as of `now_ms` (its state moved with its window, see [`state_at`]).
pub fn as_of(mut i: Incident, now_ms: i64) -> Incident {
    let state = state_at(&i, now_ms);
    if state != i.state {
        i.state = state;
        if state.is_over() {
            i.resolved_ms = i.ends_ms;
        }
    }
    i
}

/// What open incidents declare for each component at `now_ms`: the worst impact.
pub fn declared(incidents: &[Incident], now_ms: i64) -> BTreeMap<String, Impact> {
    let mut out: BTreeMap<String, Impact> = BTreeMap::new();
    for i in incidents.iter().filter(|i| i.kind == IncidentKind::Incident && !state_at(i, now_ms).is_over()) {
        for c in &i.components {
            let worst = out.entry(c.clone()).or_insert(Impact::None);
            *worst = (*worst).max(i.impact);
        }
    }
    out.retain(|_, impact| *impact != Impact::None);
    out
}

/// Whether a maintenance is under way at `now_ms` (in progress or verifying, by its window).
pub fn under_way(i: &Incident, now_ms: i64) -> bool {
    i.kind == IncidentKind::Maintenance && matches!(state_at(i, now_ms), IncidentState::InProgress | IncidentState::Verifying)
}

/// The components a maintenance under way covers at `now_ms`.
pub fn in_maintenance(incidents: &[Incident], now_ms: i64) -> BTreeSet<String> {
    incidents.iter().filter(|i| under_way(i, now_ms)).flat_map(|i| i.components.iter().cloned()).collect()
}

/// Whether to list it now: open, scheduled, or over within [`SHOWN_AFTER_MS`].
pub fn listed(i: &Incident, now_ms: i64) -> bool {
    match as_of(i.clone(), now_ms).resolved_ms {
        Some(at) => now_ms - at <= SHOWN_AFTER_MS,
        None => true,
    }
}

/// Each maintenance under way as silences: one per host, hostname, cluster and loader its
/// components are fed by, lasting the window. Numbered (negative, stable) from the maintenance
/// and what it matches, so each round and region posts the same silence.
pub fn maintenance_silences(incidents: &[Incident], components: &[ComponentConfig], now_ms: i64) -> Vec<Silence> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    for i in incidents.iter().filter(|i| under_way(i, now_ms)) {
        let mut matchers: BTreeSet<(&str, &str)> = BTreeSet::new();
        for c in components.iter().filter(|c| i.components.contains(&c.name)) {
            matchers.extend(c.hosts.iter().map(|h| ("host", h.as_str())));
            matchers.extend(c.hostnames.iter().map(|h| ("hostname", h.as_str())));
            matchers.extend(c.databases.iter().map(|d| ("cluster", d.as_str())));
            matchers.extend(c.loaders.iter().map(|l| ("loader", l.as_str())));
        }
        for (label, value) in matchers {
            let digest = Sha256::digest(format!("{}\u{1f}{label}\u{1f}{value}", i.key).as_bytes());
            let id = -(i64::from_be_bytes(digest[..8].try_into().unwrap_or_default()) & 0x0000_ffff_ffff_ffff) - 1;
            out.push(Silence {
                id,
                matchers: vec![(label.to_string(), value.to_string())],
                starts_ms: i.starts_ms.unwrap_or(i.created_ms),
                // Open-ended (on-call moved it to in progress without a window): a day at a time.
                ends_ms: i.ends_ms.unwrap_or(now_ms + 86_400_000),
                created_by: i.updates.last().map_or_else(|| "crowsnest".into(), |u| u.by.clone()),
                comment: format!("scheduled maintenance: {} (Crowsnest mutes its alerts for the window)", i.title),
                expired_by: None,
                silencing: 0,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const MIN: i64 = 60_000;

    fn names() -> Vec<String> {
        vec!["Website".into(), "API".into()]
    }

    fn form(pairs: &[(&str, &str)]) -> IncidentForm {
        IncidentForm::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn update(key: &str, incident: &str, state: IncidentState, at_ms: i64) -> IncidentUpdate {
        IncidentUpdate {
            key: key.into(),
            incident: incident.into(),
            kind: if IncidentState::of(IncidentKind::Incident).contains(&state) {
                IncidentKind::Incident
            } else {
                IncidentKind::Maintenance
            },
            state,
            title: if key == incident { format!("{incident} title") } else { String::new() },
            body: format!("{key} text"),
            components: if key == incident { vec!["Website".into()] } else { vec![] },
            impact: Impact::MajorOutage,
            starts_ms: None,
            ends_ms: None,
            by: "alice".into(),
            at_ms,
            written_on: "sjc-1".into(),
            pending_replay: false,
        }
    }

    /// (form pairs, errors by field) for a new incident.
    #[test]
    fn a_new_incident_needs_a_title_a_state_of_its_kind_components_and_words() {
        #[rustfmt::skip]
        let table: Vec<(Vec<(&str, &str)>, Vec<&str>)> = vec![
            (vec![("kind", "incident"), ("title", "www hangs"), ("state", "investigating"), ("components", "Website"), ("body", "Looking")], vec![]),
            (vec![("kind", "incident"), ("title", ""), ("state", "investigating"), ("components", "Website"), ("body", "Looking")], vec!["title"]),
            (vec![("kind", "incident"), ("title", "t"), ("state", "scheduled"), ("components", "Website"), ("body", "b")], vec!["state"]),
            (vec![("kind", "outage"), ("title", "t"), ("state", "investigating"), ("components", "Website"), ("body", "b")], vec!["kind"]),
            (vec![("kind", "incident"), ("title", "t"), ("state", "investigating"), ("body", "b")], vec!["components"]),
            (vec![("kind", "incident"), ("title", "t"), ("state", "investigating"), ("components", "Mail"), ("body", "b")], vec!["components", "components"]),
            (vec![("kind", "incident"), ("title", "t"), ("state", "resolved"), ("components", "API"), ("body", " "), ("impact", "total")], vec!["body", "impact"]),
            (vec![("kind", "incident"), ("title", "t"), ("state", "identified"), ("components", "API"), ("body", "b"), ("key", "short")], vec!["key"]),
            (vec![("kind", "maintenance"), ("title", "t"), ("state", "scheduled"), ("components", "API"), ("body", "b"), ("starts", "2027-01-15 09:00"), ("duration", "2h")], vec![]),
            (vec![("kind", "maintenance"), ("title", "t"), ("state", "scheduled"), ("components", "API"), ("body", "b"), ("starts", "tomorrow"), ("duration", "2h")], vec!["starts"]),
            (vec![("kind", "maintenance"), ("title", "t"), ("state", "scheduled"), ("components", "API"), ("body", "b"), ("starts", "2027-01-15 09:00"), ("duration", "2y")], vec!["duration"]),
            (vec![("kind", "maintenance"), ("title", "t"), ("state", "scheduled"), ("components", "API"), ("body", "b"), ("starts", "2027-01-14 09:00"), ("duration", "1h")], vec!["starts"]),
            (vec![("kind", "maintenance"), ("title", "t"), ("state", "scheduled"), ("components", "API"), ("body", "b"), ("starts", "2027-01-15 09:00"), ("duration", "1h"), ("impact", "major_outage")], vec!["impact"]),
        ];
        for (pairs, want) in table {
            let got = check(&form(&pairs), None, &names(), "alice", "sjc-1", "fresh-key-1", NOW);
            let fields: Vec<String> = got.as_ref().err().map(|e| e.iter().map(|(f, _)| f.clone()).collect()).unwrap_or_default();
            assert_eq!(fields, want, "{pairs:?}: {got:?}");
        }
    }

    #[test]
    fn a_checked_update_carries_what_was_asked_and_a_key() {
        let pairs = [
            ("kind", "maintenance"),
            ("title", " DB upgrade "),
            ("state", "scheduled"),
            ("components", "API"),
            ("components", "API"),
            ("body", "b"),
            ("starts", "2027-01-15T09:00"),
            ("duration", "2h"),
        ];
        let u = check(&form(&pairs), None, &names(), "alice", "sjc-1", "fresh-key-1", NOW).unwrap();
        assert_eq!((u.key.as_str(), u.incident.as_str(), u.title.as_str()), ("fresh-key-1", "fresh-key-1", "DB upgrade"));
        assert_eq!(u.components, vec!["API".to_string()]);
        assert_eq!((u.starts_ms, u.ends_ms), (Some(parse_utc("2027-01-15 09:00").unwrap()), Some(parse_utc("2027-01-15 11:00").unwrap())));
        assert_eq!(parse_utc("2027-01-15 09:00"), Ok(NOW + 3_600_000));
        assert_eq!(parse_utc("2027-01-15T09:00:30Z"), Ok(NOW + 3_630_000));
        assert!(parse_utc("2027-02-30 09:00").is_err());
    }

    #[test]
    fn an_update_keeps_the_incidents_kind_and_may_leave_title_and_components() {
        let open = fold(&[update("inc-000001", "inc-000001", IncidentState::Investigating, NOW - MIN)]).remove(0);
        let pairs = [("incident", "inc-000001"), ("key", "upd-000002"), ("state", "identified"), ("body", "lb1 is the API tier")];
        let u = check(&form(&pairs), Some(&open), &names(), "bob", "sin-1", "x", NOW).unwrap();
        assert_eq!((u.incident.as_str(), u.kind, u.title.as_str(), u.components.len()), ("inc-000001", IncidentKind::Incident, "", 0));
        let wrong = [("incident", "inc-000001"), ("state", "in_progress"), ("body", "b")];
        assert_eq!(check(&form(&wrong), Some(&open), &names(), "bob", "sin-1", "fresh-key-2", NOW).unwrap_err()[0].0, "state");
        let unknown = [("incident", "nope-0000"), ("state", "identified"), ("body", "b")];
        assert_eq!(check(&form(&unknown), None, &names(), "bob", "sin-1", "fresh-key-2", NOW).unwrap_err()[0].0, "incident");
    }

    #[test]
    fn updates_add_up_to_incidents_once_each_in_time_order() {
        use IncidentState::*;
        let first = update("inc-a", "inc-a", Investigating, NOW);
        let updates = vec![
            update("upd-3", "inc-a", Resolved, NOW + 3 * MIN),
            first.clone(),
            update("upd-2", "inc-a", Monitoring, NOW + 2 * MIN),
            // A replayed copy of the same update.
            update("upd-2", "inc-a", Monitoring, NOW + 2 * MIN),
            update("inc-b", "inc-b", Identified, NOW + MIN),
        ];
        let incidents = fold(&updates);
        assert_eq!(incidents.iter().map(|i| i.key.as_str()).collect::<Vec<_>>(), vec!["inc-b", "inc-a"]);
        let a = &incidents[1];
        assert_eq!((a.state, a.resolved_ms, a.title.as_str()), (Resolved, Some(NOW + 3 * MIN), "inc-a title"));
        assert_eq!(a.updates.iter().map(|u| u.key.as_str()).collect::<Vec<_>>(), vec!["upd-3", "upd-2", "inc-a"]);
        // Reopened.
        let reopened = fold(&[first, update("upd-3", "inc-a", Resolved, NOW + MIN), update("upd-4", "inc-a", Identified, NOW + 2 * MIN)]);
        assert_eq!((reopened[0].state, reopened[0].resolved_ms), (Identified, None));
    }

    /// (state on-call set, window, now) → state shown
    #[test]
    fn a_maintenance_moves_with_its_window() {
        use IncidentState::*;
        #[rustfmt::skip]
        let table = [
            (Scheduled, NOW - MIN, Scheduled),
            (Scheduled, NOW, InProgress),
            (Scheduled, NOW + 30 * MIN, InProgress),
            (Verifying, NOW + 30 * MIN, Verifying),
            (Scheduled, NOW + 60 * MIN, Completed),
            (InProgress, NOW + 61 * MIN, Completed),
            (Completed, NOW + 10 * MIN, Completed),
        ];
        for (state, at, want) in table {
            let mut i = fold(&[update("mnt-1", "mnt-1", state, NOW - 60 * MIN)]).remove(0);
            (i.starts_ms, i.ends_ms) = (Some(NOW), Some(NOW + 60 * MIN));
            assert_eq!(state_at(&i, at), want, "{state:?} at +{}m", (at - NOW) / MIN);
        }
    }

    #[test]
    fn open_incidents_declare_their_worst_impact_and_maintenance_under_way_covers_its_components() {
        use IncidentState::*;
        let mut minor = update("inc-m", "inc-m", Investigating, NOW);
        minor.impact = Impact::DegradedPerformance;
        minor.components = vec!["Website".into(), "API".into()];
        let major = update("inc-x", "inc-x", Identified, NOW);
        let mut over = update("inc-o", "inc-o", Resolved, NOW);
        over.components = vec!["API".into()];
        let mut window = update("mnt-1", "mnt-1", Scheduled, NOW - 60 * MIN);
        (window.starts_ms, window.ends_ms, window.impact, window.components) =
            (Some(NOW), Some(NOW + 60 * MIN), Impact::None, vec!["API".into()]);
        let incidents = fold(&[minor, major, over, window]);
        let declared = declared(&incidents, NOW);
        assert_eq!(declared.get("Website"), Some(&Impact::MajorOutage));
        assert_eq!(declared.get("API"), Some(&Impact::DegradedPerformance));
        assert_eq!(in_maintenance(&incidents, NOW - 1).len(), 0);
        assert_eq!(in_maintenance(&incidents, NOW + MIN).into_iter().collect::<Vec<_>>(), vec!["API".to_string()]);
        assert_eq!(in_maintenance(&incidents, NOW + 60 * MIN).len(), 0);

        let api = ComponentConfig {
            name: "API".into(),
            hosts: vec!["lb1".into()],
            hostnames: vec!["api.example.test".into()],
            ..Default::default()
        };
        let silences = maintenance_silences(&incidents, &[api], NOW + MIN);
        let matchers: Vec<_> = silences.iter().map(|s| s.matchers[0].clone()).collect();
        assert_eq!(matchers, vec![("host".to_string(), "lb1".to_string()), ("hostname".to_string(), "api.example.test".to_string())]);
        assert!(silences.iter().all(|s| s.id < 0 && s.starts_ms == NOW && s.ends_ms == NOW + 60 * MIN));
        assert_eq!(maintenance_silences(&incidents, &[], NOW + 2 * MIN).len(), 0);
    }
}
