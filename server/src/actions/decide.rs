//! Whether an action may run: pure functions of the form, the person, the site and `now`.

use app::action::{ActionKind, ActionRequest, ActionState};
use app::action::{MESSAGE_MAX_CHARS, REASON_MAX_CHARS, REASON_MIN_CHARS};
use app::auth::{refusal, Permission, Role};

/// A request as submitted (form fields or JSON), before any check.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    /// `maintenance_on` or `maintenance_off`.
    #[serde(default)]
    pub kind: String,
    /// Site key.
    #[serde(default)]
    pub site: String,
    /// Why.
    #[serde(default)]
    pub reason: String,
    /// The site's name, typed again.
    #[serde(default)]
    pub confirmation: String,
    /// The maintenance page's message.
    #[serde(default)]
    pub message: String,
    /// Expected end, UTC, `YYYY-MM-DDTHH:MM`.
    #[serde(default)]
    pub expected_end: String,
    /// The form's key: the same key never executes twice.
    #[serde(default)]
    pub idempotency_key: String,
    /// The CSRF token (forms only; checked by the gate).
    #[serde(default)]
    pub csrf: String,
}

/// A request whose fields are all good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRequest {
    /// What it does.
    pub kind: ActionKind,
    /// Site key.
    pub site: String,
    /// Why, trimmed.
    pub reason: String,
    /// The message, for `maintenance_on`.
    pub message: Option<String>,
    /// Expected end (unix milliseconds).
    pub expected_end_ms: Option<i64>,
    /// Idempotency key.
    pub key: String,
}

/// Field errors: (field, message); the empty field is the form as a whole.
pub type FieldErrors = Vec<(String, String)>;

/// Checks every field of `form` against the configured `sites` (name, two_person) at `now`.
pub fn check_form(form: &RequestForm, sites: &[String], now: i64) -> Result<ValidRequest, FieldErrors> {
    let mut errors: FieldErrors = Vec::new();
    let mut err = |field: &str, message: String| errors.push((field.to_string(), message));
    let kind = ActionKind::parse(form.kind.trim());
    if kind.is_none() {
        err("kind", format!("unknown action kind {:?}; expected maintenance_on or maintenance_off", form.kind));
    }
    let site = form.site.trim();
    if !sites.iter().any(|s| s == site) {
        err("site", format!("unknown site {site:?}; expected one of: {}", sites.join(", ")));
    } else if form.confirmation.trim() != site {
        err("confirmation", format!("type the site's name, {site}, exactly to confirm"));
    }
    let reason = form.reason.trim();
    let reason_chars = reason.chars().count();
    if reason_chars < REASON_MIN_CHARS {
        err("reason", format!("say why in at least {REASON_MIN_CHARS} characters; it goes into the audit log"));
    } else if reason_chars > REASON_MAX_CHARS {
        err("reason", format!("the reason has {reason_chars} characters; at most {REASON_MAX_CHARS}"));
    }
    let mut message = None;
    let mut expected_end_ms = None;
    if kind == Some(ActionKind::MaintenanceOn) {
        let text = form.message.trim();
        let chars = text.chars().count();
        if text.is_empty() {
            err("message", "write the message users will see on the maintenance page".into());
        } else if chars > MESSAGE_MAX_CHARS {
            err("message", format!("the message has {chars} characters; at most {MESSAGE_MAX_CHARS}"));
        } else {
            message = Some(text.to_string());
        }
        let end = form.expected_end.trim();
        if !end.is_empty() {
            match app::format::parse_utc(end) {
                None => err("expected_end", format!("{end:?} is not a time; write it as 2026-11-26T23:30 (UTC)")),
                Some(ms) if ms <= now => err("expected_end", format!("the expected end {} is in the past", app::format::utc(ms))),
                Some(ms) => expected_end_ms = Some(ms),
            }
        }
    }
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 200 {
        err("", "the form has no usable idempotency key; reload the page and submit again".into());
    }
    match (kind, errors.is_empty()) {
        (Some(kind), true) => {
            Ok(ValidRequest { kind, site: site.to_string(), reason: reason.to_string(), message, expected_end_ms, key: key.to_string() })
        }
        _ => Err(errors),
    }
}

/// Why an action may not go ahead, with the HTTP status that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 403, 404, 409, 410 or 503.
    pub status: u16,
    /// Machine-readable code.
    pub code: &'static str,
    /// For the person.
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { status, code, message: message.into() }
}

/// What happens to a valid request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Runs now.
    Execute,
    /// Waits for a second person.
    AwaitApproval,
}

/// Whether `role` may make this request on a site that is `two_person`, currently in
/// maintenance or not, on an instance that is `read_only` or not.
pub fn decide_request(role: Role, kind: ActionKind, two_person: bool, maintenance_on: bool, read_only: bool) -> Result<Step, Refusal> {
    if read_only {
        return Err(refuse(503, "read_only", "this instance is read-only: control state is a replica; act on the primary"));
    }
    if let Some(why) = refusal(role, Permission::OperateSites) {
        return Err(refuse(403, "forbidden", why));
    }
    if kind == ActionKind::MaintenanceOff && !maintenance_on {
        return Err(refuse(409, "conflict", "maintenance is already off for this site"));
    }
    Ok(if two_person { Step::AwaitApproval } else { Step::Execute })
}

/// Whether `approver` (with `role`) may approve `request` at `now`.
pub fn decide_approval(approver: &str, role: Role, request: &ActionRequest, read_only: bool, now: i64) -> Result<(), Refusal> {
    if read_only {
        return Err(refuse(503, "read_only", "this instance is read-only: control state is a replica; act on the primary"));
    }
    if request.state != ActionState::Pending {
        return Err(refuse(409, "conflict", format!("request {} is {}, not pending", request.id, request.state.as_str())));
    }
    if now >= request.expires_at_ms {
        return Err(refuse(410, "expired", format!("request {} expired at {}", request.id, app::format::utc(request.expires_at_ms))));
    }
    // Teleport's rule: nobody approves their own request, admins included.
    if approver == request.requested_by {
        return Err(refuse(403, "self_approval", "you asked for this; a different person must approve it (admins too)"));
    }
    if let Some(why) = refusal(role, Permission::OperateSites) {
        return Err(refuse(403, "forbidden", why));
    }
    Ok(())
}

/// What a secondary knows about the primary when someone reaches for break-glass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimaryWatch {
    /// This instance's mode.
    pub mode: app::model::Mode,
    /// Whether ordinary writes are refused here.
    pub read_only: bool,
    /// A control node that accepts writes now, seen from here.
    pub primary: Option<String>,
    /// Where on-call should act instead: the primary region's console, when a peer names it.
    pub primary_console: Option<String>,
    /// Since when no writable control node has answered (None: never lost, or none watched).
    pub lost_since_ms: Option<i64>,
    /// Whether any other control node is configured to be watched.
    pub watching: bool,
}

/// How a site takes break-glass: whether a second on-call must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlassStep {
    /// Applied to this region's edge now.
    Apply,
    /// Journaled, waiting for a second on-call on this instance.
    AwaitSecond,
}

/// Whether `role` may break the glass on a site now, given what is known of the primary.
///
/// The rules, in order: only a read-only secondary breaks glass (a primary uses the ordinary
/// form; a primary in split brain writes nothing); only on-call and admins; never while a
/// primary accepts writes (act there); never when this instance watches no other control node
/// (it cannot tell a lost primary from a healthy one); only once no primary has answered for
/// `after_ms`. A two-person site then needs a second on-call unless it opted into `single`.
pub fn decide_break_glass(role: Role, watch: &PrimaryWatch, needs_second: bool, after_ms: i64, now: i64) -> Result<GlassStep, Refusal> {
    if watch.mode == app::model::Mode::Primary {
        return Err(if watch.read_only {
            refuse(409, "split_brain", "this instance is a primary in split brain: nothing is written until one primary is demoted")
        } else {
            refuse(409, "not_read_only", "this instance is primary: use the ordinary form")
        });
    }
    if let Some(why) = refusal(role, Permission::OperateSites) {
        return Err(refuse(403, "forbidden", why));
    }
    if let Some(primary) = &watch.primary {
        let there = watch.primary_console.as_ref().map(|url| format!(" at {url}/actions")).unwrap_or_default();
        return Err(refuse(
            409,
            "primary_reachable",
            format!("the primary {primary} accepts writes: act on the primary's console{there}; break-glass is only for a lost primary"),
        ));
    }
    if !watch.watching {
        return Err(refuse(
            409,
            "primary_unwatched",
            "this instance watches no other control node, so it cannot tell a lost primary from a healthy one; \
             list them in [[control_nodes]] to allow break-glass here",
        ));
    }
    let lost_for = watch.lost_since_ms.map_or(0, |since| now - since);
    if lost_for < after_ms {
        return Err(refuse(
            409,
            "primary_not_lost_yet",
            format!(
                "no primary has answered for {} s; break-glass opens once none has for {} s (in {} s)",
                lost_for / 1000,
                after_ms / 1000,
                (after_ms - lost_for + 999) / 1000
            ),
        ));
    }
    Ok(if needs_second { GlassStep::AwaitSecond } else { GlassStep::Apply })
}

/// Whether `approver` may be the second on-call for a break-glass change by `actor` that
/// expires at `expires_at_ms`.
pub fn decide_glass_approval(approver: &str, role: Role, actor: &str, expires_at_ms: i64, now: i64) -> Result<(), Refusal> {
    if approver == actor {
        return Err(refuse(403, "self_approval", "you broke the glass; a different on-call must agree (admins too)"));
    }
    if let Some(why) = refusal(role, Permission::OperateSites) {
        return Err(refuse(403, "forbidden", why));
    }
    if now >= expires_at_ms {
        return Err(refuse(410, "expired", format!("this break-glass change expired at {}", app::format::utc(expires_at_ms))));
    }
    Ok(())
}

/// Whether `who` (with `role`) may cancel `request`: the requester, or an admin.
pub fn decide_cancel(who: &str, role: Role, request: &ActionRequest, read_only: bool) -> Result<(), Refusal> {
    if read_only {
        return Err(refuse(503, "read_only", "this instance is read-only: control state is a replica; act on the primary"));
    }
    if request.state != ActionState::Pending {
        return Err(refuse(409, "conflict", format!("request {} is {}, not pending", request.id, request.state.as_str())));
    }
    if who != request.requested_by && role != Role::Admin {
        return Err(refuse(403, "forbidden", "only the requester or an admin may cancel a request"));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
