//! Live updates: the one island of the app.
//!
//! Every page is rendered by the server; its data sits in live regions (see [`LiveRegion`]) that
//! name the event-stream events they depend on. Once the bundle loads, the [`LiveLink`] island in
//! the banner opens `/api/v1/events` and, whenever an event a region depends on reports a newer
//! probe generation than the page was rendered at, fetches the same page again and swaps those
//! regions in place. The server stays the only renderer, so the browser ships no page code; without
//! JavaScript nothing here runs and the page shows what was rendered.

use crate::components::Failure;
use crate::error::ConsoleError;
use leptos::prelude::*;
use std::future::Future;

/// Name of the SSE event that carries a topology snapshot as JSON.
pub const TOPOLOGY_EVENT: &str = "topology";

/// Name of the SSE event that carries a DNS snapshot as JSON.
pub const DNS_EVENT: &str = "dns";

/// Name of the SSE event that carries a replication snapshot as JSON.
pub const REPLICATION_EVENT: &str = "replication";

/// Name of the SSE event that carries a backlog snapshot as JSON.
pub const BACKLOG_EVENT: &str = "backlog";

/// Name of the SSE event sent when an action request, site state or the audit log changes.
pub const ACTIONS_EVENT: &str = "actions";

/// Sent after each alert evaluation round (carries `Alerts`).
pub const ALERTS_EVENT: &str = "alerts";

/// Every event the stream sends.
pub const EVENTS: [&str; 6] = [TOPOLOGY_EVENT, DNS_EVENT, REPLICATION_EVENT, BACKLOG_EVENT, ACTIONS_EVENT, ALERTS_EVENT];

/// Name of the event the stream sends when it has sent nothing else for
/// [`HEARTBEAT_SECONDS`], so that a browser can tell a quiet stream from a dead one.
pub const HEARTBEAT_EVENT: &str = "heartbeat";

/// Longest silence on the event stream, in seconds.
pub const HEARTBEAT_SECONDS: u64 = 5;

/// Path of the event stream.
pub const EVENTS_PATH: &str = "/api/v1/events";

/// Query that asks the stream for generations only, without snapshots: what the page needs.
pub const GENERATIONS_ONLY: &str = "snapshots=false";

/// The probe generation a page was rendered at: a counter that moves whenever any engine
/// completes a round. The server provides it per request, read before any data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderedAt(pub u64);

/// Whether the live stream is connected, as shown in the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Server-rendered page, not (yet) hydrated: shows the state at render time.
    Static,
    /// Connected; regions are refreshed as their engines move.
    Live,
    /// The stream broke or a refresh failed; the browser is retrying.
    Reconnecting,
}

/// The banner's live marker, and the only code the browser runs.
#[island]
pub fn LiveLink() -> impl IntoView {
    let link = RwSignal::new(Link::Static);
    #[cfg(feature = "hydrate")]
    browser::connect(link);
    let shown = move || match link.get() {
        Link::Static => ("link link-static", "as rendered"),
        Link::Live => ("link link-live", "live"),
        Link::Reconnecting => ("link link-lost", "reconnecting…"),
    };
    view! {
        <span class=move || shown().0 id="live-link" title="live updates">{move || shown().1}</span>
    }
}

/// A page's data, rendered on the server from `load` and refreshed in place by [`LiveLink`]
/// when one of the events in `on` (space-separated) moves. One per page, with a loading message
/// and the error boundary every page's data goes through.
#[component]
pub fn LiveRegion<L, Fut, T, R, V>(
    /// Events this region depends on, space-separated (see [`EVENTS`]).
    on: &'static str,
    /// Shown while the data loads.
    loading: &'static str,
    /// Fetches the data (a server function).
    load: L,
    /// Renders the data.
    render: R,
) -> impl IntoView
where
    L: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, ConsoleError>> + Send + 'static,
    T: Send + 'static,
    R: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <div class="live-region" id="live-region" data-live=on>
            <Suspense fallback=move || view! { <p class="loading">{loading}</p> }>
                <Failure>
                    {move || {
                        let (load, render) = (load.clone(), render.clone());
                        Suspend::new(async move { load().await.map(render) })
                    }}
                </Failure>
            </Suspense>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The browser side: event stream in, refetched regions out.

    use super::{Link, EVENTS, EVENTS_PATH, GENERATIONS_ONLY, HEARTBEAT_EVENT};
    use futures::future::Either;
    use futures::StreamExt;
    use gloo_net::eventsource::futures::EventSource;
    use gloo_net::eventsource::State;
    use leptos::prelude::*;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;
    use wasm_bindgen::JsCast;
    use web_sys::{Document, DomParser, Element, SupportedType};

    /// The watchdog's tick.
    const TICK: Duration = Duration::from_secs(1);
    /// Ticks without any event (the server sends a heartbeat at least every
    /// [`super::HEARTBEAT_SECONDS`]) before the stream counts as dead and is reopened.
    const SILENT_TICKS: u32 = 3 * super::HEARTBEAT_SECONDS as u32;
    /// Ticks to wait before reopening a stream that closed or went silent.
    const RETRY_TICKS: u32 = 2;

    /// What the page knows about itself between events.
    struct Page {
        /// Generation of the regions on screen.
        generation: Cell<u64>,
        /// Events the page's regions depend on.
        on: Vec<String>,
        /// A refresh is running.
        busy: Cell<bool>,
        /// Another event arrived during the running refresh: run once more after it.
        again: Cell<bool>,
        /// The banner's marker.
        link: RwSignal<Link>,
    }

    fn generation_of(document: &Document) -> u64 {
        document.get_element_by_id("main").and_then(|m| m.get_attribute("data-generation")).and_then(|g| g.parse().ok()).unwrap_or(0)
    }

    /// The page's live regions (elements with `data-live`).
    fn regions(document: &Document) -> Vec<Element> {
        let Ok(found) = document.query_selector_all("[data-live]") else { return Vec::new() };
        (0..found.length()).filter_map(|i| found.item(i)?.dyn_into::<Element>().ok()).collect()
    }

    /// Opens the event stream and refreshes the page's regions as their engines move.
    pub(super) fn connect(link: RwSignal<Link>) {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
        let mut on = Vec::new();
        for names in regions(&document).iter().filter_map(|r| r.get_attribute("data-live")) {
            on.extend(names.split_whitespace().map(str::to_owned));
        }
        let page =
            Rc::new(Page { generation: Cell::new(generation_of(&document)), on, busy: Cell::new(false), again: Cell::new(false), link });
        // One tick a second drives the watchdog, for the island's whole life.
        let (tick, mut ticks) = futures::channel::mpsc::unbounded::<()>();
        leptos::prelude::set_interval(move || _ = tick.unbounded_send(()), TICK);
        leptos::task::spawn_local(async move {
            // After a break the page refreshes once whatever the generations say: changes may
            // have been missed, and a restarted server counts from zero again.
            let mut broken = false;
            loop {
                if let Some((source, mut events)) = open() {
                    let mut silent = 0;
                    loop {
                        match futures::future::select(events.next(), ticks.next()).await {
                            Either::Left((Some(Ok((event, message))), _)) => {
                                silent = 0;
                                page.link.set(Link::Live);
                                // An event without a readable generation is treated as newer:
                                // refetching once too often is harmless, missing a change is not.
                                let generation = message.last_event_id().parse().unwrap_or(u64::MAX);
                                let resync = std::mem::take(&mut broken) && !page.on.is_empty();
                                if resync || (generation > page.generation.get() && page.on.contains(&event)) {
                                    refresh(page.clone());
                                }
                            }
                            // Closed for good (gloo-net reports no error while the browser retries).
                            Either::Left(_) => break,
                            Either::Right(_) => {
                                silent += 1;
                                // The server sends something every few seconds; hearing nothing
                                // for longer means the connection is dead even where the browser
                                // still thinks it open (a network cut sends no reset).
                                if silent >= SILENT_TICKS {
                                    break;
                                }
                                if source.state() != State::Open {
                                    page.link.set(Link::Reconnecting);
                                    broken = true;
                                }
                            }
                        }
                    }
                    // Dropping the source closes it; a fresh one is opened below.
                    drop(source);
                }
                page.link.set(Link::Reconnecting);
                broken = true;
                for _ in 0..RETRY_TICKS {
                    ticks.next().await;
                }
            }
        });
    }

    /// Every subscribed event, as gloo-net delivers them.
    type Events = futures::stream::SelectAll<gloo_net::eventsource::futures::EventSourceSubscription>;

    /// Opens the event stream, subscribed to every event and the heartbeat.
    fn open() -> Option<(EventSource, Events)> {
        let mut source = EventSource::new(&format!("{EVENTS_PATH}?{GENERATIONS_ONLY}")).ok()?;
        let streams = EVENTS.iter().chain([&HEARTBEAT_EVENT]).map(|e| source.subscribe(*e)).collect::<Result<Vec<_>, _>>().ok()?;
        Some((source, futures::stream::select_all(streams)))
    }

    /// Refetches the page and swaps its regions; events during a refresh coalesce into one more.
    fn refresh(page: Rc<Page>) {
        if page.busy.replace(true) {
            page.again.set(true);
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                page.again.set(false);
                match swap_regions().await {
                    Some(generation) => page.generation.set(generation),
                    None => page.link.set(Link::Reconnecting),
                }
                if !page.again.get() {
                    break;
                }
            }
            page.busy.set(false);
        });
    }

    /// Fetches this page again and replaces every live region with its new rendering; returns
    /// the generation the new rendering is from, or None if the page could not be fetched.
    async fn swap_regions() -> Option<u64> {
        let window = web_sys::window()?;
        let href = window.location().href().ok()?;
        let response = gloo_net::http::Request::get(&href).send().await.ok()?;
        if !response.ok() {
            return None;
        }
        let html = response.text().await.ok()?;
        let fresh = DomParser::new().ok()?.parse_from_string(&html, SupportedType::TextHtml).ok()?;
        let document = window.document()?;
        for old in regions(&document).into_iter().filter(|r| !r.id().is_empty()) {
            if let Some(new) = fresh.get_element_by_id(&old.id()) {
                old.replace_with_with_node_1(&new).ok()?;
            }
        }
        let generation = generation_of(&fresh);
        if let Some(main) = document.get_element_by_id("main") {
            _ = main.set_attribute("data-generation", &generation.to_string());
        }
        Some(generation)
    }
}
