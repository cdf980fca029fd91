//! Guarded actions and the audit log as the pages see them.

use serde::{Deserialize, Serialize};

/// Longest maintenance message, in characters: the form's `maxlength` and the server's check.
pub const MESSAGE_MAX_CHARS: usize = 500;

/// Shortest reason, in characters: it goes into the audit log, so "x" will not do.
pub const REASON_MIN_CHARS: usize = 10;

/// Longest reason kept, in characters.
pub const REASON_MAX_CHARS: usize = 500;

/// What an action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ActionKind {
    /// Turn a site's maintenance page on.
    MaintenanceOn,
    /// Turn a site's maintenance page off.
    MaintenanceOff,
}

impl ActionKind {
    /// The key used in forms, JSON and the audit log.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The kind for a key.
    pub fn parse(text: &str) -> Option<ActionKind> {
        text.parse().ok()
    }

    /// The kind that leaves maintenance `on` (or off).
    pub fn turning(on: bool) -> ActionKind {
        if on {
            ActionKind::MaintenanceOn
        } else {
            ActionKind::MaintenanceOff
        }
    }

    /// True for the kind that turns maintenance on.
    pub fn turns_on(self) -> bool {
        self == ActionKind::MaintenanceOn
    }

    /// A short phrase for people.
    pub fn phrase(self) -> &'static str {
        match self {
            ActionKind::MaintenanceOn => "maintenance on",
            ActionKind::MaintenanceOff => "maintenance off",
        }
    }
}

/// Where an action request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ActionState {
    /// Waiting for a second person's approval.
    Pending,
    /// Approved; about to execute.
    Approved,
    /// Done: the state change and its effect both happened.
    Executed,
    /// The state changed but the effect (the edge) failed; see the detail.
    Failed,
    /// Nobody approved it within the approval time.
    Expired,
    /// Withdrawn by the requester or an admin.
    Cancelled,
}

impl ActionState {
    /// The stored key, also the badge word.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The state for a stored key.
    pub fn parse(text: &str) -> Option<ActionState> {
        text.parse().ok()
    }

    /// True once nothing more can happen to the request.
    pub fn is_final(self) -> bool {
        !matches!(self, ActionState::Pending | ActionState::Approved)
    }
}

/// A site's maintenance: on or off, with the page's message and expected end. The one value a
/// request asks for, a site stores, a break-glass change journals and the edge publishes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaintenanceState {
    /// True while the maintenance page is on (`maintenance` in JSON, as before).
    #[serde(rename = "maintenance")]
    pub on: bool,
    /// The message shown on the maintenance page, while on.
    pub message: Option<String>,
    /// When the maintenance is expected to end (unix milliseconds), if said.
    pub expected_end_ms: Option<i64>,
}

impl MaintenanceState {
    /// What `kind` asks for, with its message and expected end (kept only when turning on).
    pub fn requested(kind: ActionKind, message: Option<String>, expected_end_ms: Option<i64>) -> MaintenanceState {
        let on = kind.turns_on();
        MaintenanceState { on, message: message.filter(|_| on), expected_end_ms: expected_end_ms.filter(|_| on) }
    }

    /// The action kind that leads to this state.
    pub fn kind(&self) -> ActionKind {
        ActionKind::turning(self.on)
    }
}

/// What a person sees for one site on the Actions page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteView {
    /// Site key, e.g. `web`: what is typed to confirm.
    pub name: String,
    /// Public hostnames served by the site.
    pub hostnames: Vec<String>,
    /// True when a change needs a second person's approval.
    pub two_person: bool,
    /// The maintenance requested (flattened: `maintenance`, `message`, `expected_end_ms`).
    #[serde(flatten)]
    pub state: MaintenanceState,
    /// Who changed it last.
    pub changed_by: Option<String>,
    /// When it last changed (unix milliseconds).
    pub changed_at_ms: Option<i64>,
    /// What users really get through the site's balancer, if the site has a check.
    pub observed: Option<SiteObservation>,
    /// A break-glass change taken here and not yet replayed into the primary, in words.
    pub pending_replay: Option<String>,
}

/// One look at a site through its balancer, as its users see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteObservation {
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// HTTP status answered, if any.
    pub status_code: Option<u16>,
    /// True when the answer was Crowsnest's maintenance page.
    pub maintenance_seen: bool,
    /// The answer or error, in words.
    pub detail: String,
}

impl SiteView {
    /// Whether what users see matches what was requested, in words; None while unobserved.
    pub fn agreement(&self) -> Option<(bool, String)> {
        let seen = self.observed.as_ref()?;
        let agree = seen.maintenance_seen == self.state.on;
        let answer = seen.status_code.map_or_else(|| seen.detail.clone(), |c| format!("answers {c}"));
        let words = match (self.state.on, agree) {
            (true, true) => format!("users see the maintenance page ({answer})"),
            (true, false) => {
                let since = self.changed_at_ms.map(|t| (seen.at_ms - t).max(0) as f64 / 1000.0);
                format!("maintenance on for {}; the balancer still {answer}", crate::format::seconds(since))
            }
            (false, true) => format!("users are served normally ({answer})"),
            (false, false) => format!("maintenance is off but users still get the maintenance page ({answer})"),
        };
        Some((agree, words))
    }
}

/// One action request as stored and listed: what it asks for, who asked and approved, where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionRequest {
    /// Its number.
    pub id: i64,
    /// What it does.
    pub kind: ActionKind,
    /// The site it acts on.
    pub site: String,
    /// The maintenance message, for `maintenance_on`.
    pub message: Option<String>,
    /// Expected end of the maintenance (unix milliseconds), if said.
    pub expected_end_ms: Option<i64>,
    /// Why, in the requester's words.
    pub reason: String,
    /// Who asked.
    pub requested_by: String,
    /// When (unix milliseconds).
    pub requested_at_ms: i64,
    /// When a pending request expires (unix milliseconds).
    pub expires_at_ms: i64,
    /// Where it stands.
    pub state: ActionState,
    /// Who approved it (two-person sites).
    pub approved_by: Option<String>,
    /// When it reached its current state (unix milliseconds).
    pub decided_at_ms: Option<i64>,
    /// Why it failed or was refused, or what it did.
    pub detail: String,
}

/// Everything the Actions page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionsBoard {
    /// Every configured site.
    pub sites: Vec<SiteView>,
    /// Recent requests, newest first (pending ones first of all).
    pub requests: Vec<ActionRequest>,
    /// How long a two-person request waits for approval, in seconds.
    pub approval_ttl_seconds: i64,
    /// A fresh random key for this rendering's forms, so a double submit executes once.
    pub form_key: String,
    /// True on a secondary: only break-glass maintenance is possible here.
    pub read_only: bool,
    /// While read-only: why ordinary changes are refused, in the read-only layer's words.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Break-glass changes taken on this instance, newest first, with their replay outcome.
    #[serde(default)]
    pub break_glass: Vec<BreakGlassView>,
    /// While read-only: why break-glass is closed now (the primary answers, or has not been
    /// lost long enough); None when on-call may break the glass.
    #[serde(default)]
    pub break_glass_closed: Option<String>,
    /// When this was read (unix milliseconds).
    pub evaluated_at_ms: i64,
}

/// A break-glass change taken on this instance and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakGlassView {
    /// Its idempotency key.
    pub key: String,
    /// The site.
    pub site: String,
    /// Maintenance on (true) or off.
    pub maintenance: bool,
    /// Who broke the glass.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// When it took effect on this region's edge (unix milliseconds).
    pub at_ms: i64,
    /// When it was replayed into the control store, if it has been.
    pub replayed_at_ms: Option<i64>,
    /// `replayed` (applied), `superseded` (the primary changed the site later),
    /// `already_replayed` or `expired` (nobody agreed in time); none while pending.
    pub outcome: Option<String>,
    /// The second on-call who agreed, on a two-person site.
    pub approved_by: Option<String>,
    /// True while it waits for a second on-call.
    pub awaiting: bool,
    /// When a waiting change expires unagreed (unix milliseconds).
    pub expires_at_ms: Option<i64>,
}

impl BreakGlassView {
    /// What became of it, in words.
    pub fn outcome_words(&self) -> &'static str {
        match self.outcome.as_deref() {
            None if self.awaiting => "waiting for a second on-call",
            None => "pending replay",
            Some("expired") => "expired: no second on-call agreed in time",
            Some("replayed") => "applied on the primary",
            Some("superseded") => "superseded: the primary changed the site later, so its state stands",
            Some("already_replayed") => "already replayed (a retry found it done)",
            Some(_) => "replayed",
        }
    }
}

/// One audit entry as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Its place in the chain (1, 2, 3, … with no gaps).
    pub seq: i64,
    /// When it happened (unix milliseconds).
    pub at_ms: i64,
    /// Who did it.
    pub actor: String,
    /// What kind of event, e.g. `login_failed`, `maintenance_on.executed`.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// Why, in the actor's words.
    pub reason: String,
    /// Anything else worth keeping (outcome, refusal reason, client address).
    pub detail: String,
    /// The entry's chain hash (first 12 hex digits are shown).
    pub hash: String,
}

/// Which audit entries to show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Only this actor.
    pub actor: Option<String>,
    /// Only actions starting with this, e.g. `login` or `maintenance_on`.
    pub action: Option<String>,
    /// Only this target.
    pub target: Option<String>,
    /// Only entries at or after this time (unix milliseconds).
    pub since_ms: Option<i64>,
    /// Only entries before this time (unix milliseconds).
    pub until_ms: Option<i64>,
    /// Entries with `seq` below this (the next page); None for the newest.
    pub before_seq: Option<i64>,
}

/// One page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Entries, newest first.
    pub entries: Vec<AuditRow>,
    /// `before_seq` of the next (older) page, if there is one.
    pub next_before_seq: Option<i64>,
    /// Entries in the whole log.
    pub total: i64,
}

/// What a refused or accepted form submission tells the page that is rendered in answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormOutcome {
    /// Which form (the site name for a request form, `approve-N` for an approval).
    pub form: String,
    /// Errors by field name (`reason`, `confirmation`, `message`, `expected_end`, `site`, `kind`);
    /// the empty field name is for the form as a whole.
    pub errors: Vec<(String, String)>,
    /// The values the person typed, to show again.
    pub values: Vec<(String, String)>,
}

impl FormOutcome {
    /// The error for `field`, if any.
    pub fn error(&self, field: &str) -> Option<String> {
        self.errors.iter().find(|(f, _)| f == field).map(|(_, e)| e.clone())
    }

    /// The value typed into `field`, or empty.
    pub fn value(&self, field: &str) -> String {
        self.values.iter().find(|(f, _)| f == field).map(|(_, v)| v.clone()).unwrap_or_default()
    }
}

impl crate::model::Worded for ActionState {
    fn word(self) -> &'static str {
        self.as_str()
    }

    fn meaning(self) -> crate::model::Status {
        use crate::model::Status;
        match self {
            ActionState::Executed => Status::Ok,
            ActionState::Pending | ActionState::Approved | ActionState::Cancelled => Status::Unknown,
            ActionState::Expired => Status::Warn,
            ActionState::Failed => Status::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_versus_observed_in_words() {
        let site = |maintenance: bool, seen: Option<(u16, bool)>| SiteView {
            name: "web".into(),
            hostnames: vec!["www.example.test".into()],
            two_person: false,
            state: MaintenanceState { on: maintenance, ..Default::default() },
            changed_by: Some("alice".into()),
            changed_at_ms: Some(1_000),
            pending_replay: None,
            observed: seen.map(|(code, page)| SiteObservation {
                at_ms: 41_000,
                status_code: Some(code),
                maintenance_seen: page,
                detail: format!("answers {code}"),
            }),
        };
        // (requested on, observed (status, maintenance page), agree, words)
        let table = [
            (true, Some((503, true)), Some((true, "users see the maintenance page (answers 503)"))),
            (true, Some((200, false)), Some((false, "maintenance on for 40 s; the balancer still answers 200"))),
            (false, Some((200, false)), Some((true, "users are served normally (answers 200)"))),
            (false, Some((503, true)), Some((false, "maintenance is off but users still get the maintenance page (answers 503)"))),
            (true, None, None),
        ];
        for (on, seen, want) in table {
            let got = site(on, seen).agreement();
            assert_eq!(got.as_ref().map(|(a, w)| (*a, w.as_str())), want, "on={on} seen={seen:?}");
        }
    }
}
