//! Alerts: what the rules found from this vantage (firing, pending, recently resolved), with
//! each alert's words, labels, times and a link to the page that shows it, and every
//! Alertmanager it is posted to with how the last post went.

use crate::api::get_alerts;
use crate::components::Badge;
use crate::format;
use crate::live::LiveRegion;
use crate::model::{Alert, AlertState, Alerts};
use leptos::prelude::*;
use leptos_meta::Title;

/// The alerts page.
#[component]
pub fn AlertsPage() -> impl IntoView {
    view! {
        <Title text="Alerts"/>
        <h1>"Alerts"</h1>
        <LiveRegion on="alerts" loading="Loading alerts…" load=get_alerts render=|alerts| view! { <AlertsView alerts/> }/>
    }
}

#[component]
fn AlertsView(alerts: Alerts) -> impl IntoView {
    let count = |state: AlertState| alerts.alerts.iter().filter(|a| a.state == state).count();
    let (firing, pending, resolved) = (count(AlertState::Firing), count(AlertState::Pending), count(AlertState::Resolved));
    let evaluated = if alerts.evaluated_at_ms == 0 { "not yet".to_string() } else { format::utc(alerts.evaluated_at_ms) };
    let body = if alerts.alerts.is_empty() {
        view! { <p class="empty" id="no-alerts">"Nothing is firing or pending, and nothing resolved in the last 15 minutes."</p> }
            .into_any()
    } else {
        let rows = alerts.alerts.into_iter().map(|alert| view! { <AlertRow alert/> }).collect_view();
        view! {
            <table class="alerts" id="alerts">
                <thead>
                    <tr>
                        <th scope="col">"Alert"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"What is wrong"</th>
                        <th scope="col">"Labels"</th>
                        <th scope="col">"Since"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let receivers = view! { <Receivers receivers=alerts.receivers/> };
    let deliveries = view! { <Deliveries deliveries=alerts.deliveries/> };
    let direct = view! { <DirectReceivers direct=alerts.direct/> };
    let in_force = alerts.silences.iter().filter(|s| s.ends_ms > alerts.evaluated_at_ms && s.starts_ms <= alerts.evaluated_at_ms).count();
    view! {
        <p class="lede">
            {firing} " firing · " {pending} " pending · " {resolved} " resolved in the last 15 minutes. "
            "Rules evaluated " <time>{evaluated}</time> ", from this instance's vantage."
        </p>
        <p><a href="/silences" id="silences-link">{format!("Silences and acknowledgements ({in_force} silences in force)")}</a></p>
        {body}
        <h2>"Receivers"</h2>
        {receivers}
        {direct}
        {deliveries}
    }
}

#[component]
fn AlertRow(alert: Alert) -> impl IntoView {
    let labels = alert.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ");
    let when = match alert.state {
        AlertState::Pending => format!("pending since {}", format::utc(alert.since_ms)),
        AlertState::Firing => format!("firing since {}", format::utc_or_never(alert.fired_ms)),
        AlertState::Resolved => {
            format!("resolved {} (fired {})", format::utc_or_never(alert.resolved_ms), format::utc_or_never(alert.fired_ms))
        }
    };
    let state: &'static str = alert.state.into();
    let name = alert.name.clone();
    let data_labels = labels.clone();
    let silence_link = format!("/silences?matchers={}", crate::paging::encode(&format!("alertname={} {labels}", alert.name)));
    view! {
        <tr data-alert=name data-state=state data-labels=data_labels>
            <th scope="row">{alert.name} <div class="muted">{alert.severity}</div></th>
            <td><Badge status=alert.state/></td>
            <td>
                {alert.summary}
                {(!alert.seen_from.is_empty()).then(|| view! { <div class="muted seen-from">"seen from " {alert.seen_from.join(", ")}</div> })}
                {alert.silenced.map(|why| view! { <div class="silenced" data-silenced="true">"Silenced: " {why}</div> })}
                {alert.acknowledged.map(|who| view! { <div class="acknowledged" data-acknowledged="true">"Acknowledged " {who}</div> })}
                <div><a href=alert.link>"Show in the console"</a>
                    {alert.runbook.map(|r| view! { " · " <a href=r>"Runbook"</a> })}
                    {(alert.state != AlertState::Resolved).then(|| view! { " · " <a href=silence_link>"Silence or acknowledge"</a> })}
                </div>
            </td>
            <td><code>{labels}</code></td>
            <td><time>{when}</time></td>
        </tr>
    }
}

/// The Alertmanagers posted to, with how the last post went.
#[component]
fn Receivers(receivers: Vec<crate::model::Receiver>) -> impl IntoView {
    if receivers.is_empty() {
        view! {
            <p class="empty" id="no-receivers">
                "No Alertmanager is configured: alerts are shown here only. Add "
                <code>"[alerting] alertmanagers = [\"http://…:9093\"]"</code> " to the config."
            </p>
        }
        .into_any()
    } else {
        let rows = receivers
            .into_iter()
            .map(|r| {
                let status = if r.error.is_some() {
                    crate::model::Status::Critical
                } else if r.last_ok_ms.is_some() {
                    crate::model::Status::Ok
                } else {
                    crate::model::Status::Unknown
                };
                let url = r.url.clone();
                view! {
                    <tr data-receiver=url data-status=status.as_str()>
                        <th scope="row"><code>{r.url}</code></th>
                        <td><Badge status/> " " {r.error.unwrap_or_default()}</td>
                        <td><time>{format::utc_or_never(r.last_ok_ms)}</time></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="receivers" id="receivers">
                <thead>
                    <tr>
                        <th scope="col">"Alertmanager"</th>
                        <th scope="col">"Last post"</th>
                        <th scope="col">"Last stored"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    }
}

/// The direct receivers (webhook, Slack, PagerDuty, email).
#[component]
fn DirectReceivers(direct: Vec<crate::model::DirectReceiver>) -> impl IntoView {
    (!direct.is_empty()).then(|| {
        let rows = direct
            .into_iter()
            .map(|d| {
                let key = d.name.clone();
                view! {
                    <tr data-direct=key>
                        <th scope="row">{d.name}</th>
                        <td>{d.kind}</td>
                        <td><code>{d.target}</code></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="direct" id="direct">
                <thead>
                    <tr>
                        <th scope="col">"Direct receiver"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Goes to"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    })
}

/// The newest notices to direct receivers, with where each is.
#[component]
fn Deliveries(deliveries: Vec<crate::model::Delivery>) -> impl IntoView {
    (!deliveries.is_empty()).then(|| {
        let rows = deliveries
            .into_iter()
            .map(|d| {
                let key = d.key.clone();
                let word: &'static str = d.status.into();
                view! {
                    <tr data-delivery=key data-status=word>
                        <th scope="row">{d.receiver}</th>
                        <td>{d.about}</td>
                        <td><Badge status=d.status/> " after " {d.attempts} " attempts " {d.error.map(|e| view! { <div class="alarm-text">{e}</div> })}</td>
                        <td><time>{format::utc(d.created_ms)}</time></td>
                        <td><time>{format::utc_or_never(d.delivered_ms)}</time></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h2>"Deliveries to direct receivers"</h2>
            <table class="deliveries" id="deliveries">
                <thead>
                    <tr>
                        <th scope="col">"Receiver"</th>
                        <th scope="col">"Notice"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Kept"</th>
                        <th scope="col">"Taken"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
    })
}
