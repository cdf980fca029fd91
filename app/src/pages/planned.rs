//! Pages whose engines later issues build. Each says so plainly instead of pretending.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Planned(title: &'static str, what: &'static str, issue: &'static str) -> impl IntoView {
    view! {
        <Title text=title/>
        <h1>{title}</h1>
        <div class="planned" role="note">
            <p><strong>"Not built yet."</strong> " " {what}</p>
            <p>"This page is owned by " {issue} ". Until then Crowsnest shows no data here, so nothing on it can be mistaken for a healthy reading."</p>
        </div>
    }
}

/// Guarded actions (planned).
#[component]
pub fn ActionsPage() -> impl IntoView {
    view! { <Planned title="Actions" what="Maintenance mode per site behind login, roles, typed confirmation and an audit log." issue="the guarded-actions issue (not filed yet)"/> }
}
