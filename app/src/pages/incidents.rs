//! Incidents: what the public status page says now (as this instance last published it), the
//! incidents and scheduled maintenance told on it, and the forms on-call tells the public with.
//! Each post is a guarded write (role and CSRF checked on the server, an audit entry kept); on a
//! secondary whose primary is lost it is break-glass. Personal (forms carry the token), so
//! never cached; every form works without JavaScript.

use crate::action::FormOutcome;
use crate::api::get_incidents;
use crate::auth::{personal_page, refusal, who, CsrfField, Permission};
use crate::format;
use crate::model::{Impact, Incident, IncidentKind, IncidentState, IncidentsBoard};
use leptos::prelude::*;
use leptos_meta::Title;

/// The incidents page.
#[component]
pub fn IncidentsPage() -> impl IntoView {
    personal_page();
    let outcome = use_context::<FormOutcome>().unwrap_or_default();
    let notice = crate::auth::notice();
    let board = Resource::new_blocking(|| (), |_| get_incidents());
    view! {
        <Title text="Incidents"/>
        <h1>"Incidents and the status page"</h1>
        {notice.map(|n| view! { <p class="notice" role="status" id="notice">{n}</p> })}
        {outcome.error("").map(|e| view! { <p class="form-error" role="alert" id="form-error">{e}</p> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading incidents…"</p> }>
            <crate::components::Failure>
                {move || {
                    let outcome = outcome.clone();
                    Suspend::new(async move { board.await.map(|board| view! { <IncidentsView board outcome/> }) })
                }}
            </crate::components::Failure>
        </Suspense>
    }
}

#[component]
fn IncidentsView(board: IncidentsBoard, outcome: FormOutcome) -> impl IntoView {
    let denied = who().and_then(|w| refusal(w.role, Permission::OperateSites).map(str::to_string));
    let (open, over): (Vec<Incident>, Vec<Incident>) = board.incidents.iter().cloned().partition(|i| !i.state.is_over());
    let public = (!board.public_url.is_empty()).then(|| {
        let url = board.public_url.clone();
        view! { <p>"The public reads it at " <a href=url.clone() id="public-url">{url.clone()}</a> "."</p> }
    });
    let published = match board.published_ms {
        Some(at) => format!("As this instance last published it, at {}.", format::utc(at)),
        None => "Not published yet from this instance (no [status_page] components, or the first interval has not passed).".to_string(),
    };
    let components = board.components.clone();
    let names = board.component_names.clone();
    let form_key = board.form_key.clone();
    let update_outcome = outcome.clone();
    view! {
        {board.secondary.clone().map(|s| view! { <p class="pending-replay" id="secondary">{s}</p> })}
        {denied.clone().map(|why| view! { <p class="muted" id="denied">{why}</p> })}
        <h2>"What the public sees"</h2>
        <p class="muted">{published}</p>
        {public}
        {if components.is_empty() {
            view! { <p class="empty" id="no-components">"Nothing is published: configure [status_page] components."</p> }.into_any()
        } else {
            view! {
                <table class="public-components" id="public-components">
                    <thead><tr><th scope="col">"Component"</th><th scope="col">"Group"</th><th scope="col">"Status"</th><th scope="col">"Since"</th></tr></thead>
                    <tbody>
                        {components.into_iter().map(|c| view! {
                            <tr data-component=c.name.clone() data-status=c.status.clone()>
                                <th scope="row">{c.name.clone()}</th>
                                <td>{c.group.unwrap_or_default()}</td>
                                <td><span class=format!("badge {}", badge_class(&c.status))>{c.words}</span></td>
                                <td><time>{format::utc(c.since_ms)}</time></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h2>"Open incidents and maintenance"</h2>
        {if open.is_empty() {
            view! { <p class="empty" id="no-open-incidents">"Nothing is open: the public is told of no incident or maintenance."</p> }.into_any()
        } else {
            open.into_iter().map(|i| {
                let form = Some(UpdateForm { key: form_key.clone(), disabled: denied.is_some(), outcome: update_outcome.clone() });
                view! { <IncidentCard incident=i form/> }
            }).collect_view().into_any()
        }}
        <NewIncidentForm names form_key=board.form_key.clone() outcome disabled=denied.is_some()/>
        <h2>"Over in the last 7 days"</h2>
        {if over.is_empty() {
            view! { <p class="empty" id="no-past-incidents">"None."</p> }.into_any()
        } else {
            over.into_iter().map(|i| view! { <IncidentCard incident=i form=None/> }).collect_view().into_any()
        }}
    }
}

/// A public status word's badge colour, in the console's four.
fn badge_class(status: &str) -> &'static str {
    match status {
        "operational" => "status-ok",
        "degraded_performance" => "status-warn",
        "partial_outage" | "major_outage" => "status-critical",
        _ => "status-unknown",
    }
}

/// What an open incident's update form needs.
#[derive(Clone)]
struct UpdateForm {
    key: String,
    disabled: bool,
    outcome: FormOutcome,
}

/// The `<option>`s for `states`, `chosen` selected.
fn state_options(states: &'static [IncidentState], chosen: &str) -> impl IntoView {
    states.iter().map(|s| view! { <option value=s.word() selected=s.word() == chosen>{s.words()}</option> }).collect_view()
}

/// The `<option>`s for the impacts, `chosen` selected.
fn impact_options(chosen: &str) -> impl IntoView {
    Impact::ALL.iter().map(|i| view! { <option value=i.word() selected=i.word() == chosen>{i.words()}</option> }).collect_view()
}

#[component]
fn IncidentCard(incident: Incident, form: Option<UpdateForm>) -> impl IntoView {
    let i = incident;
    let kind = if i.kind == IncidentKind::Maintenance { "Maintenance" } else { "Incident" };
    let window = i
        .starts_ms
        .zip(i.ends_ms)
        .map(|(s, e)| view! { <p>"Window: " <time>{format::utc(s)}</time> " to " <time>{format::utc(e)}</time></p> });
    let updates = i
        .updates
        .iter()
        .map(|u| {
            view! {
                <li data-update=u.key.clone()>
                    <strong>{u.state.words()}</strong> " - " {u.body.clone()}
                    <div class="muted">
                        <time>{format::utc(u.at_ms)}</time> {format!(" by {} on {}", u.by, u.written_on)}
                        {u.pending_replay.then(|| view! { " " <span class="pending-replay">"pending replay"</span> })}
                    </div>
                </li>
            }
        })
        .collect_view();
    let form = form.map(|f| {
        let which = format!("update-{}", i.key);
        let mine = f.outcome.form == which;
        let value = |name: &str, default: &str| if mine { f.outcome.value(name) } else { default.to_string() };
        let error = |name: &'static str| (if mine { f.outcome.error(name) } else { None }).map(|e| view! { <p class="field-error">{e}</p> });
        let id = |part: &str| format!("{which}-{part}");
        let impact = (i.kind == IncidentKind::Incident).then(|| {
            view! {
                <label for=id("impact")>"What the public is told about the components"</label>
                <select id=id("impact") name="impact" disabled=f.disabled>{impact_options(&value("impact", i.impact.word()))}</select>
                {error("impact")}
            }
        });
        view! {
            <form method="post" action="/incidents" class="action-form" id=id("form")>
                <CsrfField/>
                <input type="hidden" name="incident" value=i.key.clone()/>
                <input type="hidden" name="key" value=format!("{}-{}", f.key, i.key.chars().take(20).collect::<String>())/>
                <label for=id("state")>"State"</label>
                <select id=id("state") name="state" disabled=f.disabled>{state_options(IncidentState::of(i.kind), &value("state", i.state.word()))}</select>
                {error("state")}
                {impact}
                <label for=id("body")>"Update for the public"</label>
                <textarea id=id("body") name="body" rows="3" required=true disabled=f.disabled>{value("body", "")}</textarea>
                {error("body")}
                <button type="submit" id=id("submit") disabled=f.disabled>"Post update"</button>
            </form>
        }
    });
    view! {
        <section class="site-card incident" id=format!("incident-{}", i.key) data-incident=i.key.clone() data-state=i.state.word()>
            <h3>{format!("{kind}: {}", i.title)} " " <span class="state">{i.state.words()}</span></h3>
            <p class="muted">{format!("Affects {}; opened {}", i.components.join(", "), format::utc(i.created_ms))}</p>
            {window}
            <ol class="updates">{updates}</ol>
            {form}
        </section>
    }
}

#[component]
fn NewIncidentForm(names: Vec<String>, form_key: String, outcome: FormOutcome, disabled: bool) -> impl IntoView {
    let mine = outcome.form == "new-incident";
    let value = |name: &str, default: &str| if mine { outcome.value(name) } else { default.to_string() };
    let chosen: Vec<String> =
        if mine { outcome.values.iter().filter(|(k, _)| k == "components").map(|(_, v)| v.clone()).collect() } else { Vec::new() };
    let error = |name: &'static str| {
        (if mine { outcome.error(name) } else { None }).map(|e| view! { <p class="field-error" id=format!("new-{name}-error")>{e}</p> })
    };
    let kind = value("kind", "incident");
    let state = value("state", "investigating");
    let all_states: &'static [IncidentState] = &[
        IncidentState::Investigating,
        IncidentState::Identified,
        IncidentState::Monitoring,
        IncidentState::Resolved,
        IncidentState::Scheduled,
        IncidentState::InProgress,
        IncidentState::Verifying,
        IncidentState::Completed,
    ];
    view! {
        <h2>"Tell the public"</h2>
        <form method="post" action="/incidents" class="action-form" id="new-incident">
            <CsrfField/>
            <input type="hidden" name="key" value=form_key/>
            <fieldset>
                <legend>"What"</legend>
                <label><input type="radio" name="kind" value="incident" id="new-kind-incident" checked=kind == "incident" disabled=disabled/> "An incident (something is broken now)"</label>
                <label><input type="radio" name="kind" value="maintenance" id="new-kind-maintenance" checked=kind == "maintenance" disabled=disabled/> "A scheduled maintenance (its window mutes the components' alerts)"</label>
            </fieldset>
            {error("kind")}
            <label for="new-title">"Title"</label>
            <input type="text" id="new-title" name="title" value=value("title", "") required=true maxlength="200" disabled=disabled/>
            {error("title")}
            <fieldset>
                <legend>"Affected components"</legend>
                {names.into_iter().enumerate().map(|(n, name)| view! {
                    <label><input type="checkbox" name="components" value=name.clone() id=format!("new-component-{n}") checked=chosen.contains(&name) disabled=disabled/> {name.clone()}</label>
                }).collect_view()}
            </fieldset>
            {error("components")}
            <label for="new-state">"State (an incident: investigating to resolved; a maintenance: scheduled to completed)"</label>
            <select id="new-state" name="state" disabled=disabled>{state_options(all_states, &state)}</select>
            {error("state")}
            <label for="new-impact">"What the public is told about the components (incidents)"</label>
            <select id="new-impact" name="impact" disabled=disabled>{impact_options(&value("impact", "none"))}</select>
            {error("impact")}
            <label for="new-starts">"Maintenance window start (UTC)"</label>
            <input type="datetime-local" id="new-starts" name="starts" value=value("starts", "") disabled=disabled/>
            {error("starts")}
            <label for="new-duration">"Maintenance window length (30m, 2h, 1d)"</label>
            <input type="text" id="new-duration" name="duration" value=value("duration", "") disabled=disabled/>
            {error("duration")}
            <label for="new-body">"First update for the public"</label>
            <textarea id="new-body" name="body" rows="3" required=true disabled=disabled>{value("body", "")}</textarea>
            {error("body")}
            {error("key")}
            <button type="submit" id="new-submit" disabled=disabled>"Post"</button>
        </form>
    }
}
