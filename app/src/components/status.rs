//! Status badge and the one error boundary every page's data goes through.

use crate::model::Status;
use leptos::prelude::*;

/// A status word with its colour; the word is always there, colour is never the only signal.
#[component]
pub fn StatusBadge(status: Status) -> impl IntoView {
    view! { <span class=format!("badge status-{}", status.as_str())>{status.as_str()}</span> }
}

/// Renders `children` inside an error boundary that shows each error in words.
#[component]
pub fn Failure(children: Children) -> impl IntoView {
    view! {
        <ErrorBoundary fallback=|errors| {
            view! {
                <div class="error-box" role="alert">
                    <h2>"This page's data could not be loaded"</h2>
                    <ul>
                        {move || {
                            errors
                                .get()
                                .into_iter()
                                .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                .collect_view()
                        }}
                    </ul>
                    <p>"Reload to try again. The rest of the console keeps working."</p>
                </div>
            }
        }>{children()}</ErrorBoundary>
    }
}
