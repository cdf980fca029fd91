//! Silences and acknowledgements: on-call mutes what they already know about (a silence: label
//! matchers, a duration, a comment) or says "I am on it" (an acknowledgement: repeats stop until
//! the alert resolves). Both are guarded writes: the server checks the role and the CSRF token
//! and keeps an audit entry. Personal (forms carry the session's token), so never cached.

use crate::action::FormOutcome;
use crate::api::get_alerts;
use crate::auth::{personal_page, refusal, who, CsrfField, Permission};
use crate::format;
use crate::model::{Alert, AlertState, Alerts, Silence};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The silences page.
#[component]
pub fn SilencesPage() -> impl IntoView {
    personal_page();
    let outcome = use_context::<FormOutcome>().unwrap_or_default();
    let notice = crate::auth::notice();
    let asked = use_query_map().read_untracked().get("matchers").unwrap_or_default();
    let alerts = Resource::new_blocking(|| (), |_| get_alerts());
    view! {
        <Title text="Silences"/>
        <h1>"Silences and acknowledgements"</h1>
        {notice.map(|n| view! { <p class="notice" role="status" id="notice">{n}</p> })}
        {outcome.error("").map(|e| view! { <p class="form-error" role="alert" id="form-error">{e}</p> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading alerts…"</p> }>
            <crate::components::Failure>
                {move || {
                    let (outcome, asked) = (outcome.clone(), asked.clone());
                    Suspend::new(async move { alerts.await.map(|alerts| view! { <SilencesView alerts outcome asked/> }) })
                }}
            </crate::components::Failure>
        </Suspense>
    }
}

#[component]
fn SilencesView(alerts: Alerts, outcome: FormOutcome, asked: String) -> impl IntoView {
    let denied = who().and_then(|w| refusal(w.role, Permission::OperateSites).map(str::to_string));
    let disabled = denied.is_some();
    let mine = outcome.form == "silence";
    let field = |name: &str, default: &str| if mine { outcome.value(name) } else { default.to_string() };
    let error = |name: &'static str| {
        (if mine { outcome.error(name) } else { None }).map(|e| view! { <p class="field-error" id=format!("silence-{name}-error")>{e}</p> })
    };
    let now = alerts.evaluated_at_ms;
    let (in_force, ended): (Vec<Silence>, Vec<Silence>) = alerts.silences.into_iter().partition(|s| s.starts_ms <= now && now < s.ends_ms);
    let firing: Vec<Alert> = alerts.alerts.into_iter().filter(|a| a.state == AlertState::Firing).collect();
    let ack_outcome = outcome.clone();
    view! {
        {denied.clone().map(|why| view! { <p class="muted" id="denied">{why}</p> })}
        <h2>"Silence alerts"</h2>
        <form method="post" action="/silences" class="action-form" id="silence-form">
            <CsrfField/>
            <label for="silence-matchers">"Labels every silenced alert has (name=value, e.g. alertname=HostDown host=lb2)"</label>
            <input type="text" id="silence-matchers" name="matchers" value=field("matchers", &asked) required=true disabled=disabled/>
            {error("matchers")}
            <label for="silence-duration">"For how long (30m, 2h, 1d; at most 30d)"</label>
            <input type="text" id="silence-duration" name="duration" value=field("duration", "2h") required=true disabled=disabled/>
            {error("duration")}
            <label for="silence-comment">"Why (kept in the audit log and sent to Alertmanager)"</label>
            <input type="text" id="silence-comment" name="comment" value=field("comment", "") required=true disabled=disabled/>
            {error("comment")}
            <button type="submit" id="silence-submit" disabled=disabled>"Silence"</button>
        </form>
        <h2>"In force"</h2>
        {if in_force.is_empty() {
            view! { <p class="empty" id="no-silences">"No silence is in force: every firing alert is sent."</p> }.into_any()
        } else {
            view! { <SilenceTable silences=in_force expire=!disabled/> }.into_any()
        }}
        {(!ended.is_empty()).then(|| view! { <h2>"Ended in the last day"</h2> <SilenceTable silences=ended expire=false/> })}
        <h2>"Test the receivers"</h2>
        {if alerts.direct.is_empty() {
            view! { <p class="empty" id="no-direct">"No direct receiver is configured (webhook, Slack, PagerDuty, email)."</p> }.into_any()
        } else {
            alerts.direct.into_iter().map(|d| view! {
                <form method="post" action=format!("/alerts/receivers/{}/test", d.name) class="inline test-receiver" data-receiver=d.name.clone()>
                    <CsrfField/>
                    <button type="submit" id=format!("test-{}", d.name) disabled=disabled>{format!("Send a test notification to {} ({}, {})", d.name, d.kind, d.target)}</button>
                </form>
            }).collect_view().into_any()
        }}
        <h2>"Firing alerts"</h2>
        {if firing.is_empty() {
            view! { <p class="empty" id="no-firing">"Nothing is firing."</p> }.into_any()
        } else {
            firing.into_iter().map(|alert| view! { <AckCard alert outcome=ack_outcome.clone() disabled/> }).collect_view().into_any()
        }}
    }
}

#[component]
fn SilenceTable(silences: Vec<Silence>, expire: bool) -> impl IntoView {
    let rows = silences
        .into_iter()
        .map(|s| {
            let matchers = s.matchers.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
            let ended = s.expired_by.clone().map(|by| format!(" (ended early by {by})")).unwrap_or_default();
            view! {
                <tr data-silence=s.id>
                    <th scope="row">{s.id}</th>
                    <td><code>{matchers}</code></td>
                    <td>{s.comment} <div class="muted">"by " {s.created_by}</div></td>
                    <td><time>{format::utc(s.starts_ms)}</time> " to " <time>{format::utc(s.ends_ms)}</time> {ended}</td>
                    <td>{s.silencing}</td>
                    <td>{expire.then(|| view! {
                        <form method="post" action=format!("/silences/{}/expire", s.id) class="inline">
                            <CsrfField/>
                            <button type="submit" id=format!("expire-{}", s.id)>"End now"</button>
                        </form>
                    })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="silences">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"Matchers"</th>
                    <th scope="col">"Why"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Silencing"</th>
                    <th scope="col">"End"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// One firing alert, with who acknowledged it or the form to.
#[component]
fn AckCard(alert: Alert, outcome: FormOutcome, disabled: bool) -> impl IntoView {
    let labels = alert.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    let form = format!("ack-{}", alert.fingerprint);
    let mine = outcome.form == form;
    let id = |part: &str| format!("{form}-{part}");
    let reason = if mine { outcome.value("reason") } else { String::new() };
    let error = if mine { outcome.error("reason") } else { None };
    view! {
        <section class="site-card" data-ack=alert.fingerprint.clone()>
            <h3>{alert.name.clone()} " " <code>{labels}</code></h3>
            <p>{alert.summary.clone()}</p>
            {alert.silenced.clone().map(|why| view! { <p class="silenced">"Silenced: " {why}</p> })}
            {match alert.acknowledged.clone() {
                Some(who) => view! { <p class="acknowledged" data-acknowledged="true">"Acknowledged " {who}</p> }.into_any(),
                None => view! {
                    <form method="post" action="/alerts/acknowledge" class="action-form" id=id("form")>
                        <CsrfField/>
                        <input type="hidden" name="alert" value=alert.fingerprint.clone()/>
                        <label for=id("reason")>"Acknowledge: what you are doing about it (stops repeats until it resolves)"</label>
                        <input type="text" id=id("reason") name="reason" value=reason required=true disabled=disabled/>
                        {error.map(|e| view! { <p class="field-error">{e}</p> })}
                        <button type="submit" id=id("submit") disabled=disabled>"Acknowledge"</button>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}
