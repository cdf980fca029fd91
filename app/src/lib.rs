//! Crowsnest's Leptos app: routes, pages, components, server functions and the shared data model.
//!
//! Built twice: with `ssr` into the server binary, with `hydrate` into the WebAssembly bundle.
//! In islands mode: the server renders every page; the bundle carries only [`live::LiveLink`].

pub mod action;
pub mod api;
pub mod auth;
pub mod components;
pub mod error;
pub mod format;
pub mod live;
pub mod model;
pub mod pages;
pub mod paging;
pub mod vantage;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

/// The HTML document around the app; rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: banner, navigation and routes.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Read before any page data, so the page is at least as new as the generation it claims.
    let generation = use_context::<live::RenderedAt>().map(|r| r.0.to_string());

    view! {
        <Stylesheet id="crowsnest" href="/pkg/crowsnest.css"/>
        <Title formatter=|page: String| format!("{page} · Crowsnest")/>
        <Router>
            <components::Banner/>
            <components::Nav/>
            <main id="main" data-generation=generation>
                // Async: resources resolve before the HTML is sent, so every page is complete
                // without JavaScript (out-of-order streaming would need a script to show data).
                <Routes fallback=|| view! { <pages::NotFound/> }>
                    <Route path=path!("/") view=pages::overview::OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/topology") view=pages::topology::TopologyPage ssr=SsrMode::Async/>
                    <Route path=path!("/dns") view=pages::dns::DnsPage ssr=SsrMode::Async/>
                    <Route path=path!("/dns/record") view=pages::dns::DnsRecordPage ssr=SsrMode::Async/>
                    <Route path=path!("/replication") view=pages::replication::ReplicationPage ssr=SsrMode::Async/>
                    <Route path=path!("/backlog") view=pages::backlog::BacklogPage ssr=SsrMode::Async/>
                    <Route path=path!("/alerts") view=pages::alerts::AlertsPage ssr=SsrMode::Async/>
                    <Route path=path!("/silences") view=pages::silences::SilencesPage ssr=SsrMode::Async/>
                    <Route path=path!("/actions") view=pages::actions::ActionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/incidents") view=pages::incidents::IncidentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=pages::audit::AuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/timeline") view=pages::timeline::TimelinePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=pages::login::LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view=pages::admin::UsersPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
