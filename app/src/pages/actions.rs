//! Actions: each site's maintenance state, what users really see, the forms that change it, and
//! every request with where it stands. Plain HTML forms: they work without JavaScript.

use crate::action::{ActionKind, ActionRequest, ActionState, ActionsBoard, FormOutcome, SiteView, MESSAGE_MAX_CHARS};
use crate::api::get_actions;
use crate::auth::{personal_page, refusal, who, CsrfField, Permission};
use crate::components::{Badge, Failure};
use crate::format;
use crate::live::LiveRegion;
use leptos::prelude::*;
use leptos_meta::Title;

/// The Actions page.
#[component]
pub fn ActionsPage() -> impl IntoView {
    personal_page();
    let outcome = use_context::<FormOutcome>().unwrap_or_default();
    let notice = crate::auth::notice();
    let forms = Resource::new_blocking(|| (), |_| get_actions());
    view! {
        <Title text="Actions"/>
        <h1>"Actions"</h1>
        {notice.map(|n| view! { <p class="notice" role="status" id="notice">{n}</p> })}
        {outcome.error("").map(|e| view! { <p class="form-error" role="alert" id="form-error">{e}</p> })}
        <LiveRegion on="actions topology" loading="Loading requests…" load=get_actions
            render=|board| view! { <Requests board/> }/>
        <h2>"Sites"</h2>
        <Suspense fallback=|| view! { <p class="loading">"Loading sites…"</p> }>
            <Failure>
                {move || {
                    let outcome = outcome.clone();
                    Suspend::new(async move {
                        forms.await.map(|board| {
                            let key = board.form_key.clone();
                            let read_only = board.read_only;
                            let closed = board.break_glass_closed.clone();
                            board
                                .sites
                                .into_iter()
                                .map(|site| view! { <SiteCard site outcome=outcome.clone() form_key=key.clone() read_only closed=closed.clone()/> })
                                .collect_view()
                        })
                    })
                }}
            </Failure>
        </Suspense>
    }
}

/// One site: its state, what users see, and the form to change it.
#[component]
fn SiteCard(site: SiteView, outcome: FormOutcome, form_key: String, read_only: bool, closed: Option<String>) -> impl IntoView {
    let agreement = site.agreement();
    let (kind, verb) = if site.state.on {
        (ActionKind::MaintenanceOff, "Turn maintenance off")
    } else {
        (ActionKind::MaintenanceOn, "Turn maintenance on")
    };
    let hosts = if site.hostnames.is_empty() { site.name.clone() } else { site.hostnames.join(", ") };
    let preview = match kind {
        ActionKind::MaintenanceOn => format!("{hosts} and every page under it will answer 503 with this message until you turn it off."),
        ActionKind::MaintenanceOff => format!("{hosts} will be served normally again."),
    };
    let preview = if read_only && site.two_person {
        format!("{preview} Break-glass on a two-person site: it waits for a second on-call on this instance, then takes effect on this region's edge and is replayed into the primary with both names.")
    } else if read_only {
        format!("{preview} Break-glass: this instance is read-only, so it takes effect on this region's edge now and is replayed into the primary once the control store is writable again.")
    } else if site.two_person {
        format!("{preview} This site needs a second person: your request waits for their approval.")
    } else {
        preview
    };
    let (action, verb) = if read_only {
        (
            "/actions/break-glass",
            if kind == ActionKind::MaintenanceOn {
                "Break glass: turn maintenance on here"
            } else {
                "Break glass: turn maintenance off here"
            },
        )
    } else {
        ("/actions", verb)
    };
    let mine = outcome.form == site.name;
    let field = {
        let outcome = outcome.clone();
        move |name: &str| if mine { outcome.value(name) } else { String::new() }
    };
    let error_of = move |name: &str| if mine { outcome.error(name) } else { None };
    let denied = who()
        .and_then(|w| refusal(w.role, Permission::OperateSites).map(str::to_string))
        .or(closed.filter(|_| read_only).map(|why| format!("Break-glass is closed: {why}")));
    let disabled = denied.is_some();
    let id = |part: &str| format!("{}-{part}", site.name);
    let state_words = if site.state.on { "maintenance page on" } else { "serving normally" };
    let state_class = if site.state.on { "site-state on" } else { "site-state off" };
    let field_error =
        |name: &'static str| error_of(name).map(|e| view! { <p class="field-error" id=format!("{}-{name}-error", site.name)>{e}</p> });
    let message_field = (kind == ActionKind::MaintenanceOn).then(|| {
        view! {
            <label for=id("message")>"Message on the maintenance page (plain text, at most 500 characters)"</label>
            <textarea id=id("message") name="message" maxlength=MESSAGE_MAX_CHARS rows="3" disabled=disabled>{field("message")}</textarea>
            {field_error("message")}
            <label for=id("expected_end")>"Expected end (UTC, optional; sets Retry-After)"</label>
            <input type="datetime-local" id=id("expected_end") name="expected_end" value=field("expected_end") disabled=disabled/>
            {field_error("expected_end")}
        }
    });
    view! {
        <section class="site-card" id=format!("site-{}", site.name) data-site=site.name.clone()
            data-maintenance=if site.state.on { "on" } else { "off" }>
            <h3>{site.name.clone()} " " <span class=state_class>{state_words}</span>
                {site.two_person.then(|| view! { " " <span class="two-person">"two-person"</span> })}</h3>
            <p class="muted">{format!("Hostnames: {hosts}")}</p>
            {site.state.message.clone().filter(|_| site.state.on).map(|m| view! { <p>"Message: " <q class="maintenance-message">{m}</q></p> })}
            {site.state.expected_end_ms.filter(|_| site.state.on).map(|t| view! { <p>"Expected end: " <time>{format::utc(t)}</time></p> })}
            <p class="muted">"Last changed by " {site.changed_by.clone().unwrap_or_else(|| "nobody".into())}
                " at " <time>{format::utc_or_never(site.changed_at_ms)}</time></p>
            {match agreement {
                Some((agree, words)) => view! {
                    <p class=if agree { "observed agree" } else { "observed disagree" } data-observed=if agree { "agree" } else { "disagree" }>
                        {if agree { "Observed: " } else { "Warning: " }} {words}
                    </p>
                }.into_any(),
                None => view! { <p class="observed muted" data-observed="none">"Not observed: this site has no check_url to look through its balancer."</p> }.into_any(),
            }}
            {site.pending_replay.clone().map(|p| view! { <p class="pending-replay" data-pending-replay="true">"Pending replay: " {p}</p> })}
            <form method="post" action=action class="action-form" id=id("form")>
                <CsrfField/>
                <input type="hidden" name="idempotency_key" value=format!("{form_key}-{}", site.name)/>
                <input type="hidden" name="site" value=site.name.clone()/>
                <input type="hidden" name="kind" value=kind.as_str()/>
                {message_field}
                <label for=id("reason")>"Reason (at least 10 characters; kept in the audit log)"</label>
                <input type="text" id=id("reason") name="reason" value=field("reason") required=true disabled=disabled/>
                {field_error("reason")}
                <label for=id("confirmation")>{format!("Type the site's name, {}, to confirm", site.name)}</label>
                <input type="text" id=id("confirmation") name="confirmation" autocomplete="off" value=field("confirmation") required=true disabled=disabled/>
                {field_error("confirmation")}
                <p class="preview" id=id("preview")>{preview}</p>
                <button type="submit" disabled=disabled>{verb}</button>
                {denied.map(|why| view! { <p class="denied" id=id("denied")>{why}</p> })}
            </form>
        </section>
    }
}

/// Every recent request, pending ones with their approve and cancel buttons.
#[component]
fn Requests(board: ActionsBoard) -> impl IntoView {
    let glass = (!board.break_glass.is_empty()).then(|| view! { <BreakGlassTable changes=board.break_glass.clone()/> });
    if board.requests.is_empty() {
        return view! {
            {glass}
            <h2>"Requests"</h2> <p class="empty" id="no-requests">"No action has been requested yet."</p>
        }
        .into_any();
    }
    let me = who();
    let rows =
        board.requests.into_iter().map(|r| view! { <RequestRow request=r me=me.clone() refusal=board.refusal.clone()/> }).collect_view();
    view! {
        {glass}
        <h2>"Requests"</h2>
        <p class="muted">{format!("Two-person requests wait {} for a second person, then expire.", crate::format::seconds(Some(board.approval_ttl_seconds as f64)))}</p>
        <table class="requests" id="requests">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Requested by"</th>
                    <th scope="col">"Reason"</th>
                    <th scope="col">"Approved by"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Detail"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// Break-glass changes taken here, and what became of each when replayed; one waiting for a
/// second on-call has an Agree button for everyone but the person who broke the glass.
#[component]
fn BreakGlassTable(changes: Vec<crate::action::BreakGlassView>) -> impl IntoView {
    let me = who();
    let rows = changes
        .into_iter()
        .map(|c| {
            let words = c.outcome_words();
            let kind = if c.maintenance { "maintenance on" } else { "maintenance off" };
            let agree = (c.awaiting && c.outcome.is_none()).then(|| {
                let denied = me
                    .as_ref()
                    .and_then(|w| refusal(w.role, Permission::OperateSites).map(str::to_string))
                    .or(me.as_ref().filter(|w| w.name == c.actor).map(|_| "you broke the glass; a different on-call must agree".to_string()));
                let expires = c.expires_at_ms.map(|t| format!(" (until {})", crate::format::utc(t)));
                view! {
                    <form method="post" action=format!("/actions/break-glass/{}/approve", c.key) class="inline">
                        <CsrfField/>
                        <button type="submit" disabled=denied.is_some() id=format!("agree-{}", c.key)>"Agree as second on-call"</button>
                    </form>
                    {expires}
                    {denied.map(|w| view! { <span class="denied">{w}</span> })}
                }
                .into_any()
            });
            view! {
                <tr data-key=c.key.clone() data-outcome=c.outcome.clone().unwrap_or_else(|| if c.awaiting { "awaiting".into() } else { "pending".into() })>
                    <td>{kind}</td>
                    <td>{c.site}</td>
                    <td>{c.actor} {c.approved_by.map(|a| format!(", agreed by {a}"))}</td>
                    <td>{c.reason}</td>
                    <td><time>{crate::format::utc(c.at_ms)}</time></td>
                    <td>{words} {c.replayed_at_ms.map(|t| format!(" at {}", crate::format::utc(t)))} {agree}</td>
                </tr>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <h2>"Break-glass changes from this instance"</h2>
        <table class="break-glass" id="break-glass">
            <thead>
                <tr>
                    <th scope="col">"Change"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"By"</th>
                    <th scope="col">"Reason"</th>
                    <th scope="col">"Taken at"</th>
                    <th scope="col">"Outcome"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn RequestRow(request: ActionRequest, me: Option<crate::auth::Who>, refusal: Option<String>) -> impl IntoView {
    let id = request.id;
    let pending = request.state == ActionState::Pending;
    let controls = pending.then(|| {
        let own = me.as_ref().is_some_and(|w| w.name == request.requested_by);
        let read_only = refusal.clone();
        let denied = read_only
            .clone()
            .or_else(|| me.as_ref().and_then(|w| crate::auth::refusal(w.role, Permission::OperateSites)).map(str::to_string))
            .or(own.then(|| "you asked for this; a different person must approve it".to_string()));
        let why = denied.clone().map(|w| view! { <span class="denied">{w}</span> });
        view! {
            <form method="post" action=format!("/actions/{id}/approve") class="inline">
                <CsrfField/>
                <button type="submit" disabled=denied.is_some() id=format!("approve-{id}")>"Approve"</button>
            </form>
            <form method="post" action=format!("/actions/{id}/cancel") class="inline">
                <CsrfField/>
                <button type="submit" disabled=read_only.is_some() id=format!("cancel-{id}")>"Cancel"</button>
            </form>
            {why}
        }
    });
    let when = match request.decided_at_ms {
        Some(t) => format::utc(t),
        None if pending => format!("expires {}", format::utc(request.expires_at_ms)),
        None => format::utc(request.requested_at_ms),
    };
    view! {
        <tr data-request=id data-state=request.state.as_str()>
            <td>{id}</td>
            <td>{request.kind.phrase()}</td>
            <td>{request.site}</td>
            <td><Badge status=request.state/> {controls}</td>
            <td>{request.requested_by}</td>
            <td>{request.reason}</td>
            <td>{request.approved_by.unwrap_or_else(|| "—".into())}</td>
            <td><time>{when}</time></td>
            <td>{request.detail}</td>
        </tr>
    }
}
