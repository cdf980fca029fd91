//! Live updates: one Server-Sent Events stream per browser tab, shared by every page.
//!
//! The server renders the last known state; once hydrated, the page opens `/api/v1/events` and
//! replaces that state with each snapshot the server pushes. Without JavaScript nothing here runs
//! and the page simply shows what was rendered.

use crate::model::{Backlog, Dns, Replication, Topology};
use leptos::prelude::*;

/// Name of the SSE event that carries a topology snapshot as JSON.
pub const TOPOLOGY_EVENT: &str = "topology";

/// Name of the SSE event that carries a DNS snapshot as JSON.
pub const DNS_EVENT: &str = "dns";

/// Name of the SSE event that carries a replication snapshot as JSON.
pub const REPLICATION_EVENT: &str = "replication";

/// Name of the SSE event that carries a backlog snapshot as JSON.
pub const BACKLOG_EVENT: &str = "backlog";

/// Path of the event stream.
pub const EVENTS_PATH: &str = "/api/v1/events";

/// Whether the live stream is connected, as shown in the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Server-rendered page, not (yet) hydrated: shows the state at render time.
    Static,
    /// Receiving snapshots.
    Live,
    /// The stream broke; the browser is retrying.
    Reconnecting,
}

/// Signals fed by the event stream.
#[derive(Clone, Copy)]
pub struct Live {
    /// The latest topology pushed by the server, if any arrived since hydration.
    pub topology: RwSignal<Option<Topology>>,
    /// The latest DNS snapshot pushed by the server, if any arrived since hydration.
    pub dns: RwSignal<Option<Dns>>,
    /// The latest replication snapshot pushed by the server, if any arrived since hydration.
    pub replication: RwSignal<Option<Replication>>,
    /// The latest backlog snapshot pushed by the server, if any arrived since hydration.
    pub backlog: RwSignal<Option<Backlog>>,
    /// State of the stream.
    pub link: RwSignal<Link>,
}

/// Provides [`Live`] to the app and, in the browser, connects it to the event stream.
pub fn provide_live() {
    let live = Live {
        topology: RwSignal::new(None),
        dns: RwSignal::new(None),
        replication: RwSignal::new(None),
        backlog: RwSignal::new(None),
        link: RwSignal::new(Link::Static),
    };
    provide_context(live);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        connect(live);
    });
}

/// The live state; panics only if called outside [`crate::App`], a programming error.
pub fn use_live() -> Live {
    expect_context::<Live>()
}

#[cfg(feature = "hydrate")]
fn connect(live: Live) {
    use futures::StreamExt;
    use gloo_net::eventsource::futures::EventSource;

    let Ok(mut source) = EventSource::new(EVENTS_PATH) else {
        live.link.set(Link::Reconnecting);
        return;
    };
    let subscriptions = [TOPOLOGY_EVENT, DNS_EVENT, REPLICATION_EVENT, BACKLOG_EVENT].map(|e| source.subscribe(e));
    let Ok(streams) = subscriptions.into_iter().collect::<Result<Vec<_>, _>>() else {
        live.link.set(Link::Reconnecting);
        return;
    };
    let mut events = futures::stream::select_all(streams);
    leptos::task::spawn_local(async move {
        // Keep the source alive for as long as the stream is read: dropping it closes it.
        let _source = source;
        while let Some(item) = events.next().await {
            match item {
                Ok((event, message)) => {
                    let Some(text) = message.data().as_string() else { continue };
                    let applied = match event.as_str() {
                        TOPOLOGY_EVENT => serde_json::from_str::<Topology>(&text)
                            .map(|t| live.topology.set(Some(t)))
                            .is_ok(),
                        DNS_EVENT => serde_json::from_str::<Dns>(&text).map(|d| live.dns.set(Some(d))).is_ok(),
                        REPLICATION_EVENT => serde_json::from_str::<Replication>(&text)
                            .map(|r| live.replication.set(Some(r)))
                            .is_ok(),
                        BACKLOG_EVENT => serde_json::from_str::<Backlog>(&text)
                            .map(|b| live.backlog.set(Some(b)))
                            .is_ok(),
                        _ => false,
                    };
                    if applied {
                        live.link.set(Link::Live);
                    }
                }
                // The browser reconnects by itself; say so until the next snapshot arrives.
                Err(_) => live.link.set(Link::Reconnecting),
            }
        }
    });
}
