//! Audit: the hash-chained log of every login, user change, action request, approval, refusal
//! and execution, with filters and paging that are plain links (no JavaScript needed).

use crate::action::{AuditFilter, AuditPage};
use crate::api::get_audit;
use crate::auth::personal_page;
use crate::format;
use crate::live::LiveRegion;
use crate::paging::encode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The filter a query string asks for; unreadable times are ignored (and shown as typed).
pub fn filter_from(query: &leptos_router::params::ParamsMap) -> AuditFilter {
    let text = |k: &str| query.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    AuditFilter {
        actor: text("actor"),
        action: text("action"),
        target: text("target"),
        since_ms: text("since").and_then(|t| format::parse_utc(&t)),
        until_ms: text("until").and_then(|t| format::parse_utc(&t)),
        before_seq: text("before").and_then(|t| t.parse().ok()),
    }
}

/// The Audit page.
#[component]
pub fn AuditPage() -> impl IntoView {
    personal_page();
    let query = use_query_map().get_untracked();
    let filter = filter_from(&query);
    let typed = move |k: &str| query.get(k).unwrap_or_default();
    let load = {
        let filter = filter.clone();
        move || get_audit(filter.clone())
    };
    view! {
        <Title text="Audit"/>
        <h1>"Audit"</h1>
        <p class="muted">"Every entry is chained to the one before it by SHA-256; "
            <code>"crowsnest audit verify"</code> " proves the chain is whole."</p>
        <form method="get" action="/audit" class="filters" id="audit-filters">
            <label>"Who " <input type="text" name="actor" value=typed("actor")/></label>
            <label>"Kind " <input type="text" name="action" value=typed("action") placeholder="login, maintenance_on…"/></label>
            <label>"Target " <input type="text" name="target" value=typed("target")/></label>
            <label>"Since (UTC) " <input type="datetime-local" name="since" value=typed("since")/></label>
            <label>"Until (UTC) " <input type="datetime-local" name="until" value=typed("until")/></label>
            <button type="submit">"Filter"</button>
            " " <a href="/audit">"Clear"</a>
        </form>
        <LiveRegion on="actions" loading="Loading the audit log…" load
            render=move |page| view! { <AuditTable page filter=filter.clone()/> }/>
    }
}

#[component]
fn AuditTable(page: AuditPage, filter: AuditFilter) -> impl IntoView {
    if page.entries.is_empty() {
        return view! { <p class="empty" id="audit-empty">"No audit entry matches."</p> }.into_any();
    }
    let next = page.next_before_seq.map(|before| {
        let mut params: Vec<(String, String)> = Vec::new();
        for (k, v) in [("actor", &filter.actor), ("action", &filter.action), ("target", &filter.target)] {
            if let Some(v) = v {
                params.push((k.to_string(), v.clone()));
            }
        }
        for (k, v) in [("since", filter.since_ms), ("until", filter.until_ms)] {
            if let Some(ms) = v {
                params.push((k.to_string(), format::utc(ms).trim_end_matches(" UTC").replace(' ', "T")));
            }
        }
        params.push(("before".into(), before.to_string()));
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
        view! { <a class="next-page" id="audit-next" href=format!("/audit?{}", query.join("&"))>"Older entries →"</a> }
    });
    let rows = page
        .entries
        .into_iter()
        .map(|e| {
            let kind = e.action.clone();
            view! {
                <tr data-seq=e.seq data-action=kind>
                    <td>{e.seq}</td>
                    <td><time>{format::utc(e.at_ms)}</time></td>
                    <td>{e.actor}</td>
                    <td><code>{e.action}</code></td>
                    <td>{e.target}</td>
                    <td>{e.reason}</td>
                    <td>{e.detail}</td>
                    <td><code title=e.hash.clone()>{e.hash.chars().take(12).collect::<String>()}</code></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted" id="audit-total">{format!("{} entries in the log.", page.total)}</p>
        <table class="audit" id="audit">
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"Kind"</th>
                    <th scope="col">"Target"</th>
                    <th scope="col">"Reason"</th>
                    <th scope="col">"Detail"</th>
                    <th scope="col">"Hash"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
        {next}
    }
    .into_any()
}
