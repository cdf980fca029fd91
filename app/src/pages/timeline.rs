//! The incident timeline: for a window, every status change seen from every vantage, every alert
//! and notification, every action and incident update, in order, with the region that saw it;
//! and the same as Markdown for the post-mortem. The window is a plain GET form (no JavaScript).

use crate::api::get_timeline;
use crate::auth::personal_page;
use crate::format;
use crate::model::Timeline;
use crate::paging::encode;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The Timeline page.
#[component]
pub fn TimelinePage() -> impl IntoView {
    personal_page();
    let query = use_query_map().get_untracked();
    let typed = move |k: &str| query.get(k).unwrap_or_default();
    let (from, to) = (typed("from"), typed("to"));
    let markdown = format!("/api/v1/timeline?format=markdown&from={}&to={}", encode(&from), encode(&to));
    let timeline = Resource::new_blocking(move || (from.clone(), to.clone()), |(from, to)| get_timeline(from, to));
    view! {
        <Title text="Timeline"/>
        <h1>"Timeline"</h1>
        <p class="muted">"Every status change seen from every vantage, every alert and notice, every action and every update told to the public, in order. The window is UTC; empty means the last 3 hours."</p>
        <form method="get" action="/timeline" class="filters" id="timeline-window">
            <label>"From (UTC) " <input type="datetime-local" name="from" id="timeline-from" value=typed("from")/></label>
            <label>"To (UTC) " <input type="datetime-local" name="to" id="timeline-to" value=typed("to")/></label>
            <button type="submit">"Show"</button>
            " " <a href=markdown id="timeline-markdown">"Export as Markdown (for the post-mortem)"</a>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Reading every vantage…"</p> }>
            <crate::components::Failure>
                {move || Suspend::new(async move { timeline.await.map(|t| view! { <TimelineTable t/> }) })}
            </crate::components::Failure>
        </Suspense>
    }
}

#[component]
fn TimelineTable(t: Timeline) -> impl IntoView {
    let asked = t
        .vantages
        .iter()
        .map(|v| match &v.error {
            None => {
                view! { <li data-vantage=v.vantage.clone()>{format!("{} ({}): {} events", v.vantage, v.region, v.events)}</li> }.into_any()
            }
            Some(e) => {
                view! { <li data-vantage=v.vantage.clone() class="not-read">{format!("{} ({}): not read, {e}", v.vantage, v.region)}</li> }
                    .into_any()
            }
        })
        .collect_view();
    let window = format!("{} to {}", format::utc(t.from_ms), format::utc(t.to_ms));
    view! {
        <p id="timeline-span">{window}</p>
        <ul class="vantages" id="timeline-vantages">{asked}</ul>
        {t.truncated.then(|| view! { <p class="form-error" role="status">"Only the first events are listed: narrow the window for the rest."</p> })}
        {if t.events.is_empty() {
            view! { <p class="empty" id="timeline-empty">"Nothing happened in this window, as far as these vantages stored."</p> }.into_any()
        } else {
            view! {
                <table class="timeline" id="timeline">
                    <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"What happened"</th><th scope="col">"Seen from"</th><th scope="col">"Kind"</th></tr></thead>
                    <tbody>
                        {t.events.into_iter().map(|e| view! {
                            <tr data-kind=e.kind.word() data-vantage=e.vantage.clone()>
                                <td><time>{format::utc(e.at_ms)}</time></td>
                                <td>{e.text}</td>
                                <td>{format!("{} ({})", e.vantage, e.region)}</td>
                                <td>{e.kind.word()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
