//! Log in: a plain form (works without JavaScript) that posts to `/login`.

use crate::action::FormOutcome;
use crate::auth::{login_token, personal_page, CSRF_FIELD};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The login page.
#[component]
pub fn LoginPage() -> impl IntoView {
    personal_page();
    let outcome = use_context::<FormOutcome>().unwrap_or_default();
    let query = use_query_map().get_untracked();
    // Only a path on this console may be the destination: never another site.
    let next = query
        .get("next")
        .or_else(|| Some(outcome.value("next")))
        .filter(|n| n.starts_with('/') && !n.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let error = outcome.error("").or_else(|| query.get("expired").map(|_| "Your session ended; log in again.".into()));
    view! {
        <Title text="Log in"/>
        <h1>"Log in"</h1>
        {error.map(|e| view! { <p class="form-error" role="alert" id="login-error">{e}</p> })}
        <form method="post" action="/login" class="login-form" id="login-form">
            <input type="hidden" name=CSRF_FIELD value=login_token().unwrap_or_default()/>
            <input type="hidden" name="next" value=next/>
            <label for="login-name">"Name"</label>
            <input type="text" id="login-name" name="name" autocomplete="username" required=true autofocus=true value=outcome.value("name")/>
            <label for="login-password">"Password"</label>
            <input type="password" id="login-password" name="password" autocomplete="current-password" required=true/>
            <button type="submit">"Log in"</button>
        </form>
        <p class="muted">"Accounts come from the config's users and from "
            <code>"crowsnest user add"</code> ". Every login, good or bad, is in the audit log."</p>
    }
}
