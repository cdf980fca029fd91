//! DNS: every declared record against what every resolver answers, labelled with the estate's
//! hosts, tiers and regions. Filters are a plain GET form, so they work without JavaScript.

use crate::api::{get_dns_page, get_dns_record};
use crate::components::Badge;
use crate::format;
use crate::live::LiveRegion;
use crate::model::{Dns, DnsRecord, DnsRecordDetail, DnsStatus};
use crate::paging::{dns_href, DnsPage, DnsQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const STATUSES: [DnsStatus; 13] = [
    DnsStatus::Ok,
    DnsStatus::Missing,
    DnsStatus::WrongTarget,
    DnsStatus::WrongTier,
    DnsStatus::Split,
    DnsStatus::TtlMismatch,
    DnsStatus::Stale,
    DnsStatus::UnexpectedExtra,
    DnsStatus::Partial,
    DnsStatus::FailedOver,
    DnsStatus::Servfail,
    DnsStatus::Timeout,
    DnsStatus::Unchecked,
];

/// Link to a record's detail page; keys are DNS names and a type, so only the space needs escaping.
pub fn record_href(key: &str) -> String {
    format!("/dns/record?key={}", key.replace(' ', "%20"))
}

/// A record's history of answers and status changes.
#[component]
pub fn DnsRecordPage() -> impl IntoView {
    let key = use_query_map().read_untracked().get("key").unwrap_or_default();
    let load = {
        let key = key.clone();
        move || get_dns_record(key.clone())
    };
    let render = move |found: Option<DnsRecordDetail>| match found {
        None => view! {
            <h1>"No such record"</h1>
            <p>"Nothing is declared under " <code>{key.clone()}</code> ". Pick one from the DNS page."</p>
        }
        .into_any(),
        Some(detail) => view! { <RecordDetail detail/> }.into_any(),
    };
    view! {
        <Title text="DNS record"/>
        <p><a href="/dns">"← all records"</a></p>
        <LiveRegion on="dns" loading="Loading record…" load render/>
    }
}

#[component]
fn RecordDetail(detail: DnsRecordDetail) -> impl IntoView {
    let record = detail.record;
    let heading = format!("{} {}", record.name, record.kind);
    let rows = if detail.changes.is_empty() {
        view! { <tr><td colspan="4" class="empty">"No changes stored yet."</td></tr> }.into_any()
    } else {
        detail
            .changes
            .into_iter()
            .map(|c| {
                let status = c.status.clone();
                view! {
                    <tr data-change-status=status>
                        <td><time>{format::utc(c.at_ms)}</time></td>
                        <td><code>{c.status}</code></td>
                        <td>{c.answers.join("; ")}</td>
                        <td>{c.detail}</td>
                    </tr>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <h1>{heading}</h1>
        <p>
            <Badge status=record.status/> " since " <time>{format::utc_or_never(record.since_ms)}</time>
            {record.flapping.as_ref().map(|f| format!(" · {}", format::flapping(f)))}
        </p>
        <p>"Declared: " {record.declared.join(", ")} " · TTL " {record.ttl} " s"
            {record.required_tier.map(|t| format!(" · must be served by {t}"))}</p>
        <p class="answer">{record.detail}</p>
        <h2>"History of answers and status changes"</h2>
        <p class="lede">"A row is stored whenever the round's status or any resolver's answer changes."</p>
        <table class="history" id="history">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Answers"</th>
                    <th scope="col">"Detail"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The DNS page.
#[component]
pub fn DnsPage() -> impl IntoView {
    let query = use_query_map().read_untracked();
    let status = query.get("status").filter(|s| !s.is_empty());
    let name = query.get("name").map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty());
    let page = query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1);
    let options = STATUSES
        .iter()
        .map(|s| {
            let word = s.as_str();
            view! { <option value=word selected=status.as_deref() == Some(word)>{word}</option> }
        })
        .collect_view();
    let form = view! {
        <form class="filters" method="get" action="/dns">
            <label>"Status "
                <select name="status">
                    <option value="" selected=status.is_none()>"any"</option>
                    {options}
                </select>
            </label>
            <label>" Name contains "
                <input type="search" name="name" value=name.clone().unwrap_or_default()/>
            </label>
            " " <button type="submit">"Filter"</button>
            " " <a href="/dns">"clear"</a>
        </form>
    };
    let filters = DnsQuery { status: status.clone(), name: name.clone(), page };
    // Problems first, one page at a time, cut on the server: a 10,000-record zone stays a small
    // page, and the live refresh fetches this same page.
    let load = {
        let filters = filters.clone();
        move || get_dns_page(filters.status.clone(), filters.name.clone(), filters.page)
    };
    let render = move |(dns, paged): (Dns, DnsPage)| view! { <DnsView dns paged filters=filters.clone()/> };
    view! {
        <Title text="DNS"/>
        <h1>"DNS"</h1>
        // The form stays outside the live region, so a refresh never takes the focus away.
        {form}
        <LiveRegion on="dns" loading="Loading DNS…" load render/>
    }
}

#[component]
fn DnsView(dns: Dns, paged: DnsPage, filters: DnsQuery) -> impl IntoView {
    let headers = dns.resolvers.iter().map(|r| view! { <th scope="col">{r.clone()}</th> }).collect_view();
    let DnsPage { records, total, matching, page, pages, counts } = paged;
    let shown = records.len();
    let (status, name) = (filters.status.as_deref(), filters.name.as_deref());
    let counts = counts
        .into_iter()
        .map(|(word, n)| {
            let href = dns_href(Some(&word), name, 1);
            let label = word.clone();
            view! { <li data-count=word><a href=href>{label} " " <strong>{n}</strong></a></li> }
        })
        .collect_view();
    let pager = (pages > 1).then(|| {
        let previous = (page > 1).then(|| view! { <a rel="prev" href=dns_href(status, name, page - 1)>"← previous"</a> " " });
        let next = (page < pages).then(|| view! { " " <a rel="next" href=dns_href(status, name, page + 1)>"next →"</a> });
        view! { <nav class="pager" aria-label="Record pages">{previous} {format!("Page {page} of {pages}")} {next}</nav> }
    });
    let serials = dns
        .soa
        .iter()
        .map(|c| match (c.serial, &c.error) {
            (Some(serial), _) => format!("{} {serial}", c.resolver),
            (None, Some(e)) => format!("{} unknown ({e})", c.resolver),
            (None, None) => format!("{} unknown", c.resolver),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let soa = (!dns.soa.is_empty()).then(|| {
        let skew = dns.soa_skew;
        view! {
            <p class=if skew { "soa alarm-text" } else { "soa" } id="soa">
                "SOA serial: " {serials}
                {dns.declared_serial.map(|d| format!(" (declared {d})"))}
                {skew.then_some(" · SKEW: authoritative servers publish different serials")}
            </p>
        }
    });
    let rows = records.into_iter().map(|record| view! { <RecordRow record/> }).collect_view();
    view! {
        <p class="lede">
            "Each declared record is asked of every resolver from this instance every "
            {dns.probe_interval_seconds} " s. A status must hold for two of three rounds before it alarms. "
            "Evaluated " <time>{format::utc(dns.evaluated_at_ms)}</time>
            {format!(". Showing {shown} of {matching} matching ({total} declared), problems first.")}
        </p>
        <ul class="counts" id="dns-counts" aria-label="Records per status">{counts}</ul>
        {soa}
        <table class="dns" id="records">
            <thead>
                <tr>
                    <th scope="col">"Record"</th>
                    <th scope="col">"Declared"</th>
                    <th scope="col">"Status"</th>
                    {headers}
                    <th scope="col">"Since"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {pager}
    }
}

#[component]
fn RecordRow(record: DnsRecord) -> impl IntoView {
    let key = format!("{} {}", record.name, record.kind);
    let href_key = key.clone();
    let cells = record
        .cells
        .into_iter()
        .map(|c| {
            let resolver = c.resolver.clone();
            view! {
                <td data-resolver=resolver>
                    <Badge status=c.status/>
                    <div class="answer">{c.detail}</div>
                </td>
            }
        })
        .collect_view();
    let declared = record.declared.join(", ");
    let tier = record.required_tier.map(|t| format!("must be served by {t}"));
    let latest = (record.latest != record.status).then(|| {
        view! { <div class="muted">"latest round: " {record.latest.as_str()}</div> }
    });
    let flapping = record.flapping.as_ref().map(|f| view! { <div class="flapping" data-flapping=f.changes>{format::flapping(f)}</div> });
    view! {
        <tr data-record=key data-status=record.status.status().as_str() data-dns-status=record.status.as_str()>
            <th scope="row"><a href=record_href(&href_key)><code>{record.name}</code> " " {record.kind}</a></th>
            <td>{declared} <div class="muted">"TTL " {record.ttl} " s" {tier.map(|t| format!(" · {t}"))}</div></td>
            <td><Badge status=record.status/> {latest} {flapping} <div class="answer">{record.detail}</div></td>
            {cells}
            <td><time>{format::utc_or_never(record.since_ms)}</time></td>
        </tr>
    }
}
