//! The instance banner and the navigation bar, shown on every page.

use crate::api::get_instance;
use crate::live::LiveLink;
use crate::model::{Instance, Mode};
use leptos::prelude::*;
use leptos_router::components::A;

/// Which instance, region and mode you are looking at, and whether updates are live.
#[component]
pub fn Banner() -> impl IntoView {
    // Anonymous visitors (the login page) learn nothing about the instance.
    let known = crate::auth::who().is_some();
    view! {
        <header class="banner" id="instance-banner">
            <a class="brand" href="/">"Crowsnest"</a>
            <Show when=move || known>
            <Suspense fallback=|| view! { <span class="instance">"instance …"</span> }>
                {move || Suspend::new(async move {
                    match get_instance().await {
                        Ok(i) => view! { <InstanceFacts instance=i/> }.into_any(),
                        Err(e) => view! { <span class="instance error">{e.to_string()}</span> }.into_any(),
                    }
                })}
            </Suspense>
            </Show>
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
    let instance_primary = instance.clone();
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
            <div class="read-only-notice" id="read-only-notice" role="status">
                "Read-only: " {why} ". Pages show this region's own observations and the replica; changes are refused until the primary is writable."
                {primary_facts(&instance_primary)}
            </div>
        })}
    }
}

/// Where the primary is and how far behind this replica is, in one sentence each.
fn primary_facts(i: &Instance) -> impl IntoView {
    use crate::format::{bytes, seconds, utc};
    let primary = match (&i.primary, i.primary_lost_since_ms) {
        (Some(p), _) => format!(" This is a replica of a healthy primary, {p}."),
        (None, Some(since)) => format!(" The primary has not answered for {} (since {}).", seconds(i.primary_lost_seconds), utc(since)),
        (None, None) => String::new(),
    };
    let lag = match (i.replica_unreplayed_bytes, i.replica_last_replay_seconds) {
        (None, None) => String::new(),
        (b, s) => format!(
            " Replica lag: {} received but not replayed; last change replayed was made {} ago.",
            b.map(bytes).unwrap_or_else(|| "—".into()),
            seconds(s)
        ),
    };
    let drift = (!i.config_differences.is_empty()).then(|| {
        let items = i.config_differences.iter().map(|d| view! { <li>{d.clone()}</li> }).collect_view();
        view! {
            <details class="config-drift" id="config-drift">
                <summary>"This instance's config differs from the primary's; the primary's config wins (" {i.config_differences.len()} ")"</summary>
                <ul>{items}</ul>
            </details>
        }
    });
    view! {
        <span class="primary-facts" id="primary-facts" data-primary-lost=i.primary_lost_since_ms.is_some().to_string()>{primary}</span>
        <span class="replica-lag">{lag}</span>
        {drift}
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
            <A href="/alerts">"Alerts"</A>
            <A href="/actions">"Actions"</A>
            <A href="/incidents">"Incidents"</A>
            <A href="/audit">"Audit"</A>
            <A href="/timeline">"Timeline"</A>
            <A href="/admin/users">"Users"</A>
        </nav>
    }
}
