//! Users: who may log in, with what role. Admins add managed users and disable or enable them
//! here (or with `crowsnest user …`); the config's users are changed in the config.

use crate::action::FormOutcome;
use crate::api::{get_instance, get_users};
use crate::auth::{personal_page, refusal, who, CsrfField, Permission, UserView, PASSWORD_MIN_CHARS};
use crate::components::Failure;
use leptos::prelude::*;
use leptos_meta::Title;

/// The users page.
#[component]
pub fn UsersPage() -> impl IntoView {
    personal_page();
    let outcome = use_context::<FormOutcome>().unwrap_or_default();
    let notice = crate::auth::notice();
    let role_denied = who().and_then(|w| refusal(w.role, Permission::ManageUsers)).map(str::to_string);
    // Users live in the control store: a read-only instance refuses changes, in the same words.
    let data = Resource::new_blocking(
        || (),
        |_| async move { Ok::<_, crate::error::ConsoleError>((get_users().await?, get_instance().await?.refusal())) },
    );
    view! {
        <Title text="Users"/>
        <h1>"Users"</h1>
        {notice.map(|n| view! { <p class="notice" role="status" id="notice">{n}</p> })}
        {outcome.error("").map(|e| view! { <p class="form-error" role="alert" id="form-error">{e}</p> })}
        <Suspense fallback=|| view! { <p class="loading">"Loading users…"</p> }>
            <Failure>
                {move || {
                    let (outcome, role_denied) = (outcome.clone(), role_denied.clone());
                    Suspend::new(async move {
                        data.await.map(|(list, read_only)| {
                            let denied = read_only.or(role_denied);
                            let disabled = denied.is_some();
                            view! {
                                <UserTable users=list disabled/>
                                <AddUser outcome denied/>
                            }
                        })
                    })
                }}
            </Failure>
        </Suspense>
    }
}

/// The form that adds a managed user, disabled with the reason when this person may not.
#[component]
fn AddUser(outcome: FormOutcome, denied: Option<String>) -> impl IntoView {
    let disabled = denied.is_some();
    let error = |field: &str| outcome.error(field).map(|e| view! { <p class="field-error" id=format!("user-{field}-error")>{e}</p> });
    view! {
        <h2>"Add a user"</h2>
        <form method="post" action="/admin/users" class="action-form" id="add-user">
            <CsrfField/>
            <label for="user-name">"Name (letters, digits, _ . -)"</label>
            <input type="text" id="user-name" name="name" required=true disabled=disabled value=outcome.value("name")/>
            {error("name")}
            <label for="user-role">"Role"</label>
            <select id="user-role" name="role" disabled=disabled>
                <option value="viewer">"viewer: reads every page"</option>
                <option value="oncall">"oncall: also runs and approves actions"</option>
                <option value="admin">"admin: also manages users"</option>
            </select>
            {error("role")}
            <label for="user-password">{format!("Password (at least {PASSWORD_MIN_CHARS} characters)")}</label>
            <input type="password" id="user-password" name="password" autocomplete="new-password" required=true disabled=disabled/>
            {error("password")}
            <button type="submit" disabled=disabled>"Add user"</button>
            {denied.map(|why| view! { <p class="denied" id="users-denied">{why}</p> })}
        </form>
    }
}

#[component]
fn UserTable(users: Vec<UserView>, disabled: bool) -> impl IntoView {
    let rows = users
        .into_iter()
        .map(|u| {
            let verb = if u.disabled { "enable" } else { "disable" };
            let control = if u.managed {
                view! {
                    <form method="post" action=format!("/admin/users/{}/{verb}", u.name) class="inline">
                        <CsrfField/>
                        <button type="submit" disabled=disabled id=format!("{verb}-{}", u.name)>{if u.disabled { "Enable" } else { "Disable" }}</button>
                    </form>
                }
                .into_any()
            } else {
                view! { <span class="muted">"change it in the config"</span> }.into_any()
            };
            let key = u.name.clone();
            view! {
                <tr data-user=key data-disabled=if u.disabled { "true" } else { "false" }>
                    <th scope="row">{u.name}</th>
                    <td>{u.role.as_str()}</td>
                    <td>{if u.managed { "managed" } else { "config" }}</td>
                    <td>{if u.disabled { "disabled" } else { "active" }}</td>
                    <td>{control}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="users" id="users">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"From"</th>
                    <th scope="col">"Standing"</th>
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
