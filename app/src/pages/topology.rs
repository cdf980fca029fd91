//! Topology: regions, hosts, tiers and live health, as a diagram and a table.

use crate::api::get_topology;
use crate::components::Badge;
use crate::format;
use crate::live::LiveRegion;
use crate::model::{DnsStatus, Host, Region, Topology};
use leptos::prelude::*;
use leptos_meta::Title;

/// The topology page.
#[component]
pub fn TopologyPage() -> impl IntoView {
    view! {
        <Title text="Topology"/>
        <h1>"Topology"</h1>
        // Hostnames' landing follows DNS rounds too.
        <LiveRegion on="topology dns" loading="Loading topology…" load=get_topology
            render=|topology| view! { <TopologyView topology/> }/>
    }
}

#[component]
fn TopologyView(topology: Topology) -> impl IntoView {
    let counts = topology
        .counts()
        .into_iter()
        .map(|(status, n)| view! { <li><Badge status/> " " {n}</li> })
        .collect_view();
    view! {
        <p class="lede">
            "Health as probed from this instance every " {topology.probe_interval_seconds} " s. "
            "Evaluated " <time id="evaluated-at">{format::utc(topology.evaluated_at_ms)}</time> ". "
            "A host with no check newer than three intervals is " <em>"unknown"</em> ", never ok."
        </p>
        <ul class="counts" aria-label="Hosts by status">{counts}</ul>
        <Diagram regions=topology.regions.clone()/>
        <h2>"Hosts"</h2>
        <HostTable regions=topology.regions.clone()/>
        <h2>"Public hostnames"</h2>
        <HostnameTable topology=topology.clone()/>
    }
}

const COLUMN: i32 = 250;
const ROW: i32 = 46;

/// Regions side by side, each host a box coloured by status (the word is in the box too).
#[component]
fn Diagram(regions: Vec<Region>) -> impl IntoView {
    let tallest = regions.iter().map(|r| r.hosts.len()).max().unwrap_or(0) as i32;
    let width = (regions.len() as i32).max(1) * COLUMN + 10;
    let height = tallest * ROW + 70;
    let columns = regions
        .into_iter()
        .enumerate()
        .map(|(i, region)| {
            let x = 10 + i as i32 * COLUMN;
            let label = if region.primary {
                format!("{} · primary", region.display)
            } else {
                region.display.clone()
            };
            let hosts = region
                .hosts
                .into_iter()
                .enumerate()
                .map(|(j, host)| {
                    let y = 50 + j as i32 * ROW;
                    let status = host.health.status.as_str();
                    let key = host.name.clone();
                    view! {
                        <g class=format!("host status-{status}") data-host=key data-status=status>
                            <title>{format!("{} ({}) {}: {}", host.name, host.tier, status, host.health.detail)}</title>
                            <rect x=x + 10 y=y width=COLUMN - 40 height=ROW - 8 rx="6"></rect>
                            <text x=x + 20 y=y + 16 class="host-name">{host.name.clone()}</text>
                            <text x=x + 20 y=y + 31 class="host-tier">{format!("{} · {}", host.tier, status)}</text>
                        </g>
                    }
                })
                .collect_view();
            let key = region.name.clone();
            view! {
                <g class=format!("region status-{}", region.status.as_str()) data-region=key>
                    <rect class="region-box" x=x y="10" width=COLUMN - 20 height=height - 20 rx="10"></rect>
                    <text x=x + 12 y="34" class="region-name">{label}</text>
                    {hosts}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="diagram">
            <svg viewBox=format!("0 0 {width} {height}") width=width height=height role="img"
                aria-label="Regions and hosts coloured by health">
                {columns}
            </svg>
        </figure>
    }
}

#[component]
fn HostTable(regions: Vec<Region>) -> impl IntoView {
    let rows = regions
        .into_iter()
        .flat_map(|r| {
            let display = r.display.clone();
            r.hosts.into_iter().map(move |h| (display.clone(), h))
        })
        .map(|(region, host)| view! { <HostRow region host/> })
        .collect_view();
    view! {
        <table class="hosts" id="hosts">
            <thead>
                <tr>
                    <th scope="col">"Host"</th>
                    <th scope="col">"Region"</th>
                    <th scope="col">"Tier"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Latency"</th>
                    <th scope="col">"Last check"</th>
                    <th scope="col">"Check"</th>
                    <th scope="col">"Detail"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn HostRow(region: String, host: Host) -> impl IntoView {
    let key = host.name.clone();
    view! {
        <tr data-host=key data-status=host.health.status.as_str()>
            <th scope="row">{host.name}</th>
            <td>{region}</td>
            <td><code>{host.tier}</code></td>
            <td><Badge status=host.health.status/></td>
            <td class="num">{format::latency(host.health.latency_ms)}</td>
            <td><time>{format::utc_or_never(host.health.checked_at_ms)}</time></td>
            <td><code>{host.check}</code></td>
            <td>{host.health.detail}</td>
        </tr>
    }
}

#[component]
fn HostnameTable(topology: Topology) -> impl IntoView {
    if topology.hostnames.is_empty() {
        return view! { <p class="empty">"No public hostnames are configured."</p> }.into_any();
    }
    let rows = topology
        .hostnames
        .into_iter()
        .map(|h| {
            let key = h.name.clone();
            let status = h.dns_status;
            let wrong_tier = status == Some(DnsStatus::WrongTier);
            let lands = if h.lands_on.is_empty() {
                match status {
                    None => "not checked yet".to_string(),
                    Some(_) => "nowhere: no address is answered".to_string(),
                }
            } else {
                h.lands_on.join(", ")
            };
            view! {
                <tr data-hostname=key data-dns-status=status.map(|s| s.as_str()).unwrap_or("unchecked")
                    class=if wrong_tier { "alarm" } else { "" }>
                    <th scope="row">{h.name}</th>
                    <td><code>{h.tier}</code></td>
                    <td>{h.site.unwrap_or_else(|| "—".into())}</td>
                    <td>
                        {status.map(|s| view! { <Badge status=s/> " " })}
                        {wrong_tier.then(|| view! { <strong class="alarm-text">"WRONG TIER: "</strong> })}
                        {lands}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="hostnames">
            <thead>
                <tr>
                    <th scope="col">"Hostname"</th>
                    <th scope="col">"Must be served by tier"</th>
                    <th scope="col">"Site"</th>
                    <th scope="col">"Actually lands on"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
