//! One module per page.

pub mod actions;
pub mod admin;
pub mod alerts;
pub mod audit;
pub mod backlog;
pub mod dns;
pub mod incidents;
pub mod login;
pub mod overview;
pub mod replication;
pub mod silences;
pub mod timeline;
pub mod topology;

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path the router does not know.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p>"Nothing lives at this address. Use the navigation above."</p>
    }
}
