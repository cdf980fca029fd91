//! Overview: one status per area, and each site's maintenance state.

use crate::api::get_overview;
use crate::components::Badge;
use crate::format;
use crate::live::LiveRegion;
use crate::model::Overview;
use leptos::prelude::*;
use leptos_meta::Title;

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <LiveRegion on="topology dns replication backlog" loading="Loading overview…" load=get_overview
            render=|overview| view! { <OverviewView overview/> }/>
    }
}

#[component]
fn OverviewView(overview: Overview) -> impl IntoView {
    let areas = overview
        .areas
        .into_iter()
        .map(|area| {
            let key = area.key.clone();
            view! {
                <li class=format!("area status-{}", area.status.as_str()) data-area=key data-status=area.status.as_str()>
                    <a href=area.href>
                        <h2>{area.title}</h2>
                        <Badge status=area.status/>
                        <p>{area.summary}</p>
                    </a>
                </li>
            }
        })
        .collect_view();
    let sites = if overview.sites.is_empty() {
        view! { <p class="empty">"No sites are configured for maintenance."</p> }.into_any()
    } else {
        let rows = overview
            .sites
            .into_iter()
            .map(|site| {
                let state = if site.state.on { "maintenance page on" } else { "serving normally" };
                let key = site.name.clone();
                view! {
                    <tr data-site=key>
                        <th scope="row">{site.name}</th>
                        <td>{state}</td>
                        <td>{site.changed_by.unwrap_or_else(|| "—".into())}</td>
                        <td><time>{format::utc_or_never(site.changed_at_ms)}</time></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="sites">
                <thead>
                    <tr>
                        <th scope="col">"Site"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Changed by"</th>
                        <th scope="col">"Changed at"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let hostnames = (!overview.hostnames.is_empty()).then(|| {
        let rows = overview
            .hostnames
            .into_iter()
            .map(|h| {
                let key = h.name.clone();
                let words = h.serving_words();
                view! {
                    <li data-hostname=key data-dns-status=h.dns_status.map(|s| s.as_str()).unwrap_or("unchecked")>
                        {h.dns_status.map(|s| view! { <Badge status=s/> " " })}
                        <strong>{h.name}</strong> " " {words}
                    </li>
                }
            })
            .collect_view();
        view! {
            <h2>"Where traffic lands"</h2>
            <ul class="serving" id="serving">{rows}</ul>
        }
    });
    let verdict = overview.fail_back;
    let answer = if verdict.safe { "Yes" } else { "No" };
    let reasons = verdict.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view();
    view! {
        <ul class="areas">{areas}</ul>
        {hostnames}
        <section class=format!("fail-back status-{}", verdict.status.as_str()) id="fail-back"
            data-safe=if verdict.safe { "true" } else { "false" }>
            <h2>"Safe to fail back? " <Badge status=verdict.status/> " " <strong>{answer}</strong></h2>
            <p class="muted">"Every replica within its lag thresholds, every loader's queue empty, every public hostname answering and the primary region's balancers healthy; otherwise, why not:"</p>
            <ul class="reasons">{reasons}</ul>
        </section>
        <h2>"Sites"</h2>
        {sites}
    }
}
