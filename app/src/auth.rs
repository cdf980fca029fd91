//! Who is looking, and what they may do.
//!
//! [`refusal`] is the one place that decides whether a role may do something. The server's gate
//! calls it for every request; pages call it to show a control as disabled with the same words.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Login roles, least to most powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// May run operational actions such as maintenance mode, and approve them.
    Oncall,
    /// May also manage users and approve anything.
    Admin,
}

impl Role {
    /// The key as written in the config and stored.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The role for a stored key.
    pub fn parse(text: &str) -> Option<Role> {
        text.parse().ok()
    }
}

/// What a request wants to do, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read pages and JSON; log out.
    Read,
    /// Request, approve or cancel an action on a site (maintenance on/off).
    OperateSites,
    /// Add, change or disable users.
    ManageUsers,
}

/// Why `role` may not do `what`, in words for the person, or None when it may.
pub fn refusal(role: Role, what: Permission) -> Option<&'static str> {
    match (what, role) {
        (Permission::Read, _) => None,
        (Permission::OperateSites, Role::Viewer) => Some("viewers cannot change maintenance; ask an on-call"),
        (Permission::OperateSites, _) => None,
        (Permission::ManageUsers, Role::Admin) => None,
        (Permission::ManageUsers, _) => Some("only admins manage users; ask an admin"),
    }
}

/// The person a request acts for. The server's gate puts it into the request's extensions;
/// pages read it with [`who`].
#[derive(Debug, Clone, PartialEq)]
pub struct Who {
    /// Login name (`anonymous` for a wall display without login).
    pub name: String,
    /// Their role, read from the user directory on every request.
    pub role: Role,
    /// The session's synchronizer token, for forms and `X-CSRF-Token`.
    pub csrf_token: String,
    /// True for the optional read-only wall display that needs no login.
    pub anonymous: bool,
}

/// Shortest password accepted, in characters: the users form says it and the server enforces it.
pub const PASSWORD_MIN_CHARS: usize = 12;

/// Name of the hidden form field that carries the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// Header that carries the CSRF token on JSON requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Placeholder in every page's banner that the server replaces with who is logged in, so the
/// shared (cached) rendering of a page never carries a person's name or token.
pub const WHO_SLOT: &str = "<!--crowsnest:who-->";

/// What the server's gate put in the request being rendered (server only; None in the browser).
fn from_request<T: Clone + Send + Sync + 'static>() -> Option<T> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()?.extensions.get::<T>().cloned()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The person this request is for (server only; None in the browser and for public pages).
pub fn who() -> Option<Who> {
    from_request::<Who>()
}

/// What the last form on this session achieved, on the page it led to. The words stay in the
/// session; the URL carries only their id, so nobody can put words on someone else's page
/// with a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice(pub String);

/// The notice for the page being rendered, if the last form left one.
pub fn notice() -> Option<String> {
    from_request::<Notice>().map(|n| n.0)
}

/// Marks the page being rendered as personal: never cached, never stored by a browser cache.
pub fn personal_page() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::CACHE_CONTROL, http::HeaderValue::from_static("private, no-store"));
    }
}

/// The hidden field every form carries: this session's CSRF token.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = who().map(|w| w.csrf_token).unwrap_or_default();
    view! { <input type="hidden" name=CSRF_FIELD value=token/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_may_do_exactly_its_share() {
        use Permission::*;
        use Role::*;
        // (role, permission, allowed)
        let table = [
            (Viewer, Read, true),
            (Oncall, Read, true),
            (Admin, Read, true),
            (Viewer, OperateSites, false),
            (Oncall, OperateSites, true),
            (Admin, OperateSites, true),
            (Viewer, ManageUsers, false),
            (Oncall, ManageUsers, false),
            (Admin, ManageUsers, true),
        ];
        for (role, what, allowed) in table {
            assert_eq!(refusal(role, what).is_none(), allowed, "{role:?} {what:?}");
        }
        assert_eq!(refusal(Viewer, OperateSites), Some("viewers cannot change maintenance; ask an on-call"));
    }

    #[test]
    fn roles_round_trip_through_their_keys() {
        for role in [Role::Viewer, Role::Oncall, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}

/// The CSRF token of a visitor who has not logged in yet: the login form carries it too.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginToken(pub String);

/// The login form's token (server only).
pub fn login_token() -> Option<String> {
    from_request::<LoginToken>().map(|t| t.0)
}

/// A user as the admin page lists them (never with the hash).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// True for users added here or with `crowsnest user add`; false for the config's.
    pub managed: bool,
    /// True when the user may not log in.
    pub disabled: bool,
}
