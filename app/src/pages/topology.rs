//! Topology: regions, hosts, tiers and live health, as a diagram and a table.

use crate::api::get_topology;
use crate::components::Badge;
use crate::format;
use crate::live::LiveRegion;
use crate::model::{DnsStatus, Host, Region, Status, Topology};
use crate::paging::{host_page, topology_href, HostPage, HostQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Above this many hosts the diagram gives way to a summary per region: a 300-host estate
/// would draw a column thousands of pixels tall.
const DIAGRAM_MAX_HOSTS: usize = 60;

/// The topology page. Filters are a plain GET form, so they work without JavaScript.
#[component]
pub fn TopologyPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let word = |key: &str| query.get(key).map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty());
    let filters = HostQuery {
        status: word("status"),
        region: word("region"),
        name: word("name"),
        page: query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1),
    };
    let options = [Status::Critical, Status::Unknown, Status::Warn, Status::Ok]
        .into_iter()
        .map(|s| view! { <option value=s.as_str() selected=filters.status.as_deref() == Some(s.as_str())>{s.as_str()}</option> })
        .collect_view();
    let form = view! {
        <form class="filters" method="get" action="/topology">
            <label>"Status "
                <select name="status">
                    <option value="" selected=filters.status.is_none()>"any"</option>
                    {options}
                </select>
            </label>
            <label>" Region " <input type="search" name="region" size="8" value=filters.region.clone().unwrap_or_default()/></label>
            <label>" Host, tier or address contains " <input type="search" name="name" value=filters.name.clone().unwrap_or_default()/></label>
            " " <button type="submit">"Filter"</button>
            " " <a href="/topology">"clear"</a>
        </form>
    };
    view! {
        <Title text="Topology"/>
        <h1>"Topology"</h1>
        {form}
        // Hostnames' landing follows DNS rounds too.
        <LiveRegion on="topology dns" loading="Loading topology…" load=get_topology
            render=move |topology| view! { <TopologyView topology filters=filters.clone()/> }/>
    }
}

#[component]
fn TopologyView(topology: Topology, filters: HostQuery) -> impl IntoView {
    let counts = topology
        .counts()
        .into_iter()
        .map(|(status, n)| {
            let href = topology_href(&HostQuery { status: Some(status.as_str().into()), page: 1, ..filters.clone() });
            view! { <li data-count=status.as_str()><a href=href><Badge status/> " " <strong>{n}</strong></a></li> }
        })
        .collect_view();
    let hosts: Vec<(String, Host)> =
        topology.regions.iter().flat_map(|r| r.hosts.iter().map(move |h| (r.display.clone(), h.clone()))).collect();
    let big = hosts.len() > DIAGRAM_MAX_HOSTS;
    let paged = host_page(hosts, &filters);
    // Taken apart rather than cloned piece by piece: every render builds this view afresh.
    let Topology { regions, hostnames, probe_interval_seconds, evaluated_at_ms, vantages } = topology;
    let picture = if big { view! { <RegionSummary regions/> }.into_any() } else { view! { <Diagram regions/> }.into_any() };
    view! {
        <p class="lede">
            "Health as probed from this instance every " {probe_interval_seconds} " s. "
            "Evaluated " <time id="evaluated-at">{format::utc(evaluated_at_ms)}</time> ". "
            "A host with no check newer than three intervals is " <em>"unknown"</em> ", never ok."
        </p>
        <ul class="counts" id="host-counts" aria-label="Hosts by status">{counts}</ul>
        {picture}
        <h2>"Hosts"</h2>
        <HostTable paged filters/>
        <h2>"Public hostnames"</h2>
        <HostnameTable hostnames/>
        <VantageView vantages/>
    }
}

/// What every vantage sees, side by side: the meta-monitoring the incident lacked.
#[component]
fn VantageView(vantages: crate::vantage::Vantages) -> impl IntoView {
    if vantages.peers.is_empty() {
        return view! {
            <section id="vantages" aria-labelledby="vantages-heading">
                <h2 id="vantages-heading">"Vantages"</h2>
                <p class="empty">"No peers are configured: this instance is the only vantage. List the other regions' instances under [[peers]] to compare what each region sees."</p>
            </section>
        }
        .into_any();
    }
    let findings = (!vantages.findings.is_empty()).then(|| {
        let items = vantages.findings.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view();
        view! { <ul class="findings" id="vantage-findings" role="status">{items}</ul> }
    });
    let peers = vantages
        .peers
        .iter()
        .map(|p| {
            let status = if p.reachable { crate::model::Status::Ok } else { crate::model::Status::Critical };
            let words = if p.reachable {
                format!("answered at {}; {}", format::utc_or_never(p.last_ok_ms), p.mode.clone().unwrap_or_default())
            } else {
                format!("unreachable since {}: {}", format::utc_or_never(p.failing_since_ms), p.error.clone().unwrap_or_default())
            };
            view! {
                <tr data-peer=p.name.clone() data-reachable=p.reachable.to_string()>
                    <th scope="row">{p.name.clone()}</th>
                    <td>{p.region.clone()}</td>
                    <td><Badge status/></td>
                    <td>{words}</td>
                </tr>
            }
        })
        .collect_view();
    let table = |id: &'static str, caption: &'static str, rows: Vec<crate::vantage::VantageRow>| {
        let heads = vantages.columns.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view();
        let body = rows
            .into_iter()
            .map(|row| {
                let cells = row.cells.into_iter().map(|c| view! { <td><Badge status=c.status/> " " {c.text}</td> }).collect_view();
                let (name, label) = (row.name.clone(), row.name);
                let disagree = row.disagree;
                view! {
                    <tr data-name=name data-disagree=disagree.to_string() class:disagree=disagree>
                        <th scope="row">{label}</th>{cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="vantage-table" id=id>
                <caption>{caption}</caption>
                <thead><tr><th scope="col">""</th>{heads}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        }
    };
    view! {
        <section id="vantages" aria-labelledby="vantages-heading">
            <h2 id="vantages-heading">"Vantages " <Badge status=vantages.status/></h2>
            {findings}
            <table class="peer-table" id="peer-table">
                <caption>"Peers, as this instance reaches them"</caption>
                <thead><tr><th scope="col">"Peer"</th><th scope="col">"Region"</th><th scope="col">"Status"</th><th scope="col">"Detail"</th></tr></thead>
                <tbody>{peers}</tbody>
            </table>
            {table("vantage-hostnames", "Where each hostname lands, seen from each region", vantages.hostnames.clone())}
            {table("vantage-hosts", "Host health, seen from each region", vantages.hosts.clone())}
            {table("vantage-areas", "What each region reports", vantages.areas.clone())}
        </section>
    }
    .into_any()
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
            let label = if region.primary { format!("{} · primary", region.display) } else { region.display.clone() };
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

/// Each region's hosts counted by status, each count a link to those hosts.
#[component]
fn RegionSummary(regions: Vec<Region>) -> impl IntoView {
    let rows = regions
        .into_iter()
        .map(|region| {
            let cells = [Status::Critical, Status::Unknown, Status::Warn, Status::Ok]
                .into_iter()
                .map(|status| {
                    let n = region.hosts.iter().filter(|h| h.health.status == status).count();
                    let query = HostQuery { status: Some(status.as_str().into()), region: Some(region.name.clone()), name: None, page: 1 };
                    view! { <td class="num" data-count=status.as_str()><a href=topology_href(&query)>{n}</a></td> }
                })
                .collect_view();
            let label = if region.primary { format!("{} · primary", region.display) } else { region.display.clone() };
            view! {
                <tr data-region=region.name.clone() data-status=region.status.as_str()>
                    <th scope="row">{label}</th>
                    <td><Badge status=region.status/></td>
                    <td class="num">{region.hosts.len()}</td>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="regions" id="regions">
            <caption>"Regions: hosts by status (the diagram is drawn for up to 60 hosts)"</caption>
            <thead>
                <tr>
                    <th scope="col">"Region"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Hosts"</th>
                    <th scope="col">"critical"</th>
                    <th scope="col">"unknown"</th>
                    <th scope="col">"warn"</th>
                    <th scope="col">"ok"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn HostTable(paged: HostPage, filters: HostQuery) -> impl IntoView {
    let HostPage { hosts, total, matching, page, pages } = paged;
    let shown = hosts.len();
    let rows = hosts.into_iter().map(|(region, host)| view! { <HostRow region host/> }).collect_view();
    let pager = (pages > 1).then(|| {
        let at = |page| topology_href(&HostQuery { page, ..filters.clone() });
        let previous = (page > 1).then(|| view! { <a rel="prev" href=at(page - 1)>"← previous"</a> " " });
        let next = (page < pages).then(|| view! { " " <a rel="next" href=at(page + 1)>"next →"</a> });
        view! { <nav class="pager" aria-label="Host pages">{previous} {format!("Page {page} of {pages}")} {next}</nav> }
    });
    view! {
        <p class="muted" id="hosts-shown">{format!("Showing {shown} of {matching} matching ({total} hosts), problems first.")}</p>
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
        {pager}
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
            <td>
                <Badge status=host.health.status/>
                {host.health.flapping.as_ref().map(|f| view! { <div class="flapping" data-flapping=f.changes>{format::flapping(f)}</div> })}
            </td>
            <td class="num">{format::latency(host.health.latency_ms)}</td>
            <td><time>{format::utc_or_never(host.health.checked_at_ms)}</time></td>
            <td>
                <code>{host.check}</code>
                {host.certificate.map(|c| {
                    let days = if c.days_left < 0 { format!("expired {} d ago", -c.days_left) } else { format!("{} d left", c.days_left) };
                    view! {
                        <div class="certificate" data-certificate=c.status.as_str() title=c.detail>
                            <Badge status=c.status/> " " {c.hostname} ": " {days} " · " {c.issuer}
                        </div>
                    }
                })}
            </td>
            <td>{host.health.detail}</td>
        </tr>
    }
}

#[component]
fn HostnameTable(hostnames: Vec<crate::model::PublicHostname>) -> impl IntoView {
    if hostnames.is_empty() {
        return view! { <p class="empty">"No public hostnames are configured."</p> }.into_any();
    }
    let rows = hostnames
        .into_iter()
        .map(|h| {
            let key = h.name.clone();
            let status = h.dns_status;
            let wrong_tier = status == Some(DnsStatus::WrongTier);
            let words = h.serving_words();
            let lands = if h.lands_on.is_empty() { String::new() } else { h.lands_on.join(", ") };
            let certificates = if h.certificates.is_empty() {
                view! { <span class="muted">"not checked over HTTPS"</span> }.into_any()
            } else {
                h.certificates
                    .into_iter()
                    .map(|c| {
                        view! {
                            <div class="certificate" data-host=c.host data-certificate=c.status.as_str()>
                                <Badge status=c.status/> " " {c.detail}
                            </div>
                        }
                    })
                    .collect_view()
                    .into_any()
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
                        {words}
                        <div class="answer muted">{lands}</div>
                    </td>
                    <td>{certificates}</td>
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
                    <th scope="col">"Certificate served"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
