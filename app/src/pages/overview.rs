//! Overview: one status per area, and each site's maintenance state.

use crate::api::get_overview;
use crate::components::{Failure, StatusBadge};
use crate::format;
use crate::live::use_live;
use crate::model::{Area, FailBack, Overview};
use leptos::prelude::*;
use leptos_meta::Title;

/// The overview page.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let rendered = Resource::new(|| (), |_| get_overview());
    let live = use_live();
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading overview…"</p> }>
            <Failure>
                {move || Suspend::new(async move {
                    rendered.await.map(|first| {
                        let current = move || {
                            let mut overview = first.clone();
                            // Live snapshots refresh the health and DNS areas in place.
                            if let Some(topology) = live.topology.get() {
                                if let Some(area) = overview.areas.iter_mut().find(|a| a.key == "health") {
                                    *area = Area::health(&topology);
                                }
                            }
                            if let Some(dns) = live.dns.get() {
                                if let Some(area) = overview.areas.iter_mut().find(|a| a.key == "dns") {
                                    *area = Area::dns(&dns);
                                }
                            }
                            let (replication, backlog) = (live.replication.get(), live.backlog.get());
                            if let Some(r) = &replication {
                                if let Some(area) = overview.areas.iter_mut().find(|a| a.key == "replication") {
                                    *area = Area::replication(r);
                                }
                            }
                            if let Some(b) = &backlog {
                                if let Some(area) = overview.areas.iter_mut().find(|a| a.key == "backlog") {
                                    *area = Area::backlog(b);
                                }
                            }
                            if let (Some(r), Some(b)) = (&replication, &backlog) {
                                overview.fail_back = FailBack::judge(r, b);
                            }
                            overview
                        };
                        view! { {move || view! { <OverviewView overview=current()/> }} }
                    })
                })}
            </Failure>
        </Suspense>
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
                <li class=format!("area status-{}", area.status.as_str()) data-area=key>
                    <a href=area.href>
                        <h2>{area.title}</h2>
                        <StatusBadge status=area.status/>
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
                let state = if site.maintenance { "maintenance page on" } else { "serving normally" };
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
    let verdict = overview.fail_back;
    let answer = if verdict.safe { "Yes" } else { "No" };
    let reasons = verdict.reasons.into_iter().map(|r| view! { <li>{r}</li> }).collect_view();
    view! {
        <ul class="areas">{areas}</ul>
        <section class=format!("fail-back status-{}", verdict.status.as_str()) id="fail-back"
            data-safe=if verdict.safe { "true" } else { "false" }>
            <h2>"Safe to fail back? " <StatusBadge status=verdict.status/> " " <strong>{answer}</strong></h2>
            <p class="muted">"Every replica within its lag thresholds and every loader's queue empty; otherwise, why not:"</p>
            <ul class="reasons">{reasons}</ul>
        </section>
        <h2>"Sites"</h2>
        {sites}
    }
}
