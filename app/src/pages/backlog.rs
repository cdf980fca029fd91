//! Loader backlog: per loader depth, oldest item age, enqueue and load rates, net drain, ETA
//! (only while draining) and a depth history.

use crate::api::get_backlog;
use crate::components::{Badge, Sparkline};
use crate::format;
use crate::live::LiveRegion;
use crate::model::{Backlog, Loader};
use leptos::prelude::*;
use leptos_meta::Title;

/// The backlog page.
#[component]
pub fn BacklogPage() -> impl IntoView {
    view! {
        <Title text="Backlog"/>
        <h1>"Backlog"</h1>
        <LiveRegion on="backlog" loading="Loading backlog…" load=get_backlog
            render=|backlog| view! { <BacklogView backlog/> }/>
    }
}

#[component]
fn BacklogView(backlog: Backlog) -> impl IntoView {
    let body = if backlog.loaders.is_empty() {
        view! { <p class="empty">"No loaders are configured: add [[loaders]] to the config."</p> }.into_any()
    } else {
        let rows = backlog.loaders.into_iter().map(|loader| view! { <LoaderRow loader/> }).collect_view();
        view! {
            <table class="backlog" id="loaders">
                <thead>
                    <tr>
                        <th scope="col">"Loader"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Depth"</th>
                        <th scope="col">"Oldest item"</th>
                        <th scope="col">"Enqueued"</th>
                        <th scope="col">"Loaded"</th>
                        <th scope="col">"Net drain"</th>
                        <th scope="col">"ETA"</th>
                        <th scope="col">"History (depth)"</th>
                        <th scope="col">"Last report"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <p class="lede">
            "Scraped every " {backlog.interval_seconds} " s (or pushed by the loader). Rates are over the last "
            {backlog.window_seconds} " s; an ETA is shown only while the queue drains. "
            "Evaluated " <time>{format::utc(backlog.evaluated_at_ms)}</time> "."
        </p>
        {body}
    }
}

#[component]
fn LoaderRow(loader: Loader) -> impl IntoView {
    let name = loader.name.clone();
    let error = loader.last_error.map(|e| view! { <div class="alarm-text">"last report rejected: " {e}</div> });
    let points = loader.history.iter().map(|p| (p.at_ms, Some(p.depth))).collect();
    let chart_label = format!("queue depth of {}", loader.name);
    view! {
        <tr data-loader=name data-status=loader.status.as_str()>
            <th scope="row">{loader.name} <div class="muted">{loader.host} " · " {loader.region_display}</div>
                <div class="muted">{loader.source}</div></th>
            <td><Badge status=loader.status/> <div class="answer">{loader.detail}</div> {error}</td>
            <td class="depth">{format::count(loader.depth)}</td>
            <td>{format::seconds(loader.oldest_age_seconds)}</td>
            <td>{format::rate(loader.enqueue_rate)}</td>
            <td>{format::rate(loader.load_rate)}</td>
            <td>{format::rate(loader.net_drain)}</td>
            <td class="eta">{format::seconds(loader.eta_seconds)}</td>
            <td><Sparkline points label=chart_label/></td>
            <td><time>{format::utc_or_never(loader.last_report_ms)}</time></td>
        </tr>
    }
    .into_any()
}
