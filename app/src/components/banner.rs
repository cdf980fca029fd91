//! The instance banner and the navigation bar, shown on every page.

use crate::api::get_instance;
use crate::live::LiveLink;
use crate::model::{Instance, Mode};
use leptos::prelude::*;
use leptos_router::components::A;

/// Which instance, region and mode you are looking at, and whether updates are live.
#[component]
pub fn Banner() -> impl IntoView {
    view! {
        <header class="banner" id="instance-banner">
            <a class="brand" href="/">"Crowsnest"</a>
            <Suspense fallback=|| view! { <span class="instance">"instance …"</span> }>
                {move || Suspend::new(async move {
                    match get_instance().await {
                        Ok(i) => view! { <InstanceFacts instance=i/> }.into_any(),
                        Err(e) => view! { <span class="instance error">{e.to_string()}</span> }.into_any(),
                    }
                })}
            </Suspense>
            <LiveLink/>
            // The server puts who is logged in here, outside the shared rendering of the page.
            <span class="who" id="who" inner_html=crate::auth::WHO_SLOT></span>
        </header>
    }
}

#[component]
fn InstanceFacts(instance: Instance) -> impl IntoView {
    let mode = match instance.mode {
        Mode::Primary => "primary",
        Mode::Secondary => "secondary",
    };
    let access = if instance.read_only { "read-only" } else { "writable" };
    let region_key = instance.region.clone();
    let why = format!("{mode} since {}: {}", crate::format::utc(instance.mode_since_ms), instance.mode_reason);
    view! {
        <span class="instance" data-region=region_key data-mode=mode>
            "instance " <strong>{instance.name}</strong>
            " · vantage " <strong>{instance.region_display}</strong>
            " (" {instance.region} ")"
            " · " <span class=format!("mode mode-{mode}") title=why.clone()>{mode}</span>
            " · " <span class=format!("access access-{access}")>{access}</span>
            " · control store " {instance.control_store}
        </span>
        {instance.read_only.then(|| view! {
            <p class="read-only-notice" id="read-only-notice" role="status">
                "Read-only: " {why} ". Pages show this region's own observations and the replica; changes are refused until the primary is writable."
            </p>
        })}
    }
}

/// Links to every page; the current one is marked for screen readers and styles.
#[component]
pub fn Nav() -> impl IntoView {
    view! {
        <nav class="nav" aria-label="Pages">
            <A href="/" exact=true>"Overview"</A>
            <A href="/topology">"Topology"</A>
            <A href="/dns">"DNS"</A>
            <A href="/replication">"Replication"</A>
            <A href="/backlog">"Backlog"</A>
            <A href="/actions">"Actions"</A>
            <A href="/audit">"Audit"</A>
            <A href="/admin/users">"Users"</A>
        </nav>
    }
}
