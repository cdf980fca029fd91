//! Status badge and the one error boundary every page's data goes through.

use crate::model::Worded;
use leptos::prelude::*;

/// A status word (a probe outcome, or a DNS, replica or backlog status) coloured by what it
/// means; the word is always there, colour is never the only signal. `data-status-word` carries
/// the word for scripts and tests.
#[component]
pub fn Badge<S: Worded + Send + Sync + 'static>(
    /// The status to show.
    status: S,
) -> impl IntoView {
    view! {
        <span class=format!("badge status-{}", status.meaning().as_str()) data-status-word=status.word()>
            {status.word()}
        </span>
    }
}

/// Renders `children` inside an error boundary that shows each error in words.
#[component]
pub fn Failure(children: Children) -> impl IntoView {
    view! {
        <ErrorBoundary fallback=|errors| {
            // A page whose data failed is not a 200: monitors and scripts must see it.
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
            }
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
