//! The route table: every route the server answers, with its policy. Who may call it (public,
//! a loader's or a peer's bearer token, a scraper's token, or a session that may read, operate
//! or manage), whether it runs on a secondary, and whether its page may come from the page
//! cache. The router is built from this table; the gate, the read-only layer and the page cache
//! read the policy [`classify`] found for each request instead of matching paths themselves.
//! A request that no route claims (a file under the site root, a 404) gets [`unrouted`]'s
//! policy: it needs a session, and writes need the most.

use super::{actions, api, events, incidents, login, silences, users, AppState};
use app::auth::Permission;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a session.
    Public,
    /// A pushing loader, with its own bearer token.
    Loader,
    /// A peer, with a configured peer's bearer token.
    Peer,
    /// A scraper's bearer token, or anyone when `auth.public_metrics`, or a session.
    Metrics,
    /// Anyone logged in, or a wall display (reads only).
    Read,
    /// On-call and admins: guarded actions.
    Operate,
    /// Admins: users.
    Manage,
}

impl Access {
    /// Whether a request needs no session (the bearer kinds check their own token).
    pub fn is_public(self, public_metrics: bool) -> bool {
        match self {
            Access::Public | Access::Loader | Access::Peer => true,
            Access::Metrics => public_metrics,
            Access::Read | Access::Operate | Access::Manage => false,
        }
    }

    /// The permission a session needs for a state-changing request.
    pub fn permission(self) -> Permission {
        match self {
            Access::Operate => Permission::OperateSites,
            Access::Manage => Permission::ManageUsers,
            Access::Public | Access::Loader | Access::Peer | Access::Metrics | Access::Read => Permission::Read,
        }
    }
}

/// What the layers need to know about a request's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Who may call it.
    pub access: Access,
    /// It runs on a secondary (whose control store is read-only).
    pub on_secondary: bool,
    /// Its `200 OK` HTML may be served from the page cache.
    pub cacheable: bool,
}

impl Policy {
    /// A read that runs anywhere, never cached.
    const fn reads(access: Access) -> Policy {
        Policy { access, on_secondary: true, cacheable: false }
    }

    /// A write that a secondary refuses.
    const fn writes(access: Access) -> Policy {
        Policy { access, on_secondary: false, cacheable: false }
    }

    /// A write that also runs on a secondary (sessions and loader reports are local state;
    /// break-glass acts on this region's edge).
    const fn writes_anywhere(access: Access) -> Policy {
        Policy { access, on_secondary: true, cacheable: false }
    }
}

/// One route: method, path, policy and handler.
pub struct Route {
    /// The method (GET also answers HEAD).
    pub method: Method,
    /// The path, in axum's syntax (`{param}`).
    pub path: &'static str,
    /// Who may call it, where, and whether it is cached.
    pub policy: Policy,
    /// What answers it.
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, policy: Policy, handler: MethodRouter<AppState>) -> Route {
    Route { method, path, policy, handler }
}

/// Every route besides the Leptos pages and server functions (their policy is
/// [`page_policy`] and [`SERVER_FN`]).
pub fn table() -> Vec<Route> {
    use Access::*;
    use Method as M;
    vec![
        route(M::GET, "/healthz", Policy::reads(Public), get(api::healthz)),
        route(M::GET, "/metrics", Policy::reads(Metrics), get(api::metrics_text)),
        route(M::GET, "/api/v1/instance", Policy::reads(Read), get(api::instance)),
        route(M::GET, "/api/v1/topology", Policy::reads(Read), get(api::topology)),
        route(M::GET, "/api/v1/overview", Policy::reads(Read), get(api::overview)),
        route(M::GET, "/api/v1/dns", Policy::reads(Read), get(api::dns)),
        route(M::GET, "/api/v1/replication", Policy::reads(Read), get(api::replication)),
        route(M::GET, "/api/v1/backlog", Policy::reads(Read), get(api::backlog)),
        route(M::GET, "/api/v1/alerts", Policy::reads(Read), get(api::alerts)),
        route(M::GET, "/api/v1/audit", Policy::reads(Read), get(api::audit)),
        route(M::GET, "/api/v1/actions", Policy::reads(Read), get(api::actions)),
        route(M::POST, "/api/v1/actions", Policy::writes(Operate), post(actions::api_request)),
        route(M::POST, "/api/v1/actions/{id}/{verb}", Policy::writes(Operate), post(actions::api_decide)),
        route(M::POST, "/api/v1/loaders/{name}/report", Policy::writes_anywhere(Loader), post(api::push_report)),
        route(M::GET, crate::peers::REPORT_PATH, Policy::reads(Peer), get(api::peer_report)),
        route(M::GET, crate::timeline::PEER_PATH, Policy::reads(Peer), get(api::peer_timeline)),
        route(M::GET, "/api/v1/timeline", Policy::reads(Read), get(api::timeline)),
        route(M::GET, app::live::EVENTS_PATH, Policy::reads(Read), get(events::events)),
        route(M::POST, "/login", Policy::writes_anywhere(Public), post(login::login)),
        route(M::POST, "/logout", Policy::writes_anywhere(Read), post(login::logout)),
        route(M::POST, "/actions", Policy::writes(Operate), post(actions::form_request)),
        route(M::POST, "/actions/break-glass", Policy::writes_anywhere(Operate), post(actions::form_break_glass)),
        route(M::POST, "/actions/break-glass/{key}/approve", Policy::writes_anywhere(Operate), post(actions::form_glass_approve)),
        route(M::POST, "/actions/{id}/{verb}", Policy::writes(Operate), post(actions::form_decide)),
        route(M::POST, "/silences", Policy::writes(Operate), post(silences::create)),
        route(M::POST, "/silences/{id}/expire", Policy::writes(Operate), post(silences::expire)),
        route(M::POST, "/alerts/acknowledge", Policy::writes(Operate), post(silences::acknowledge)),
        route(M::POST, "/api/v1/silences", Policy::writes(Operate), post(silences::create)),
        route(M::POST, "/api/v1/silences/{id}/expire", Policy::writes(Operate), post(silences::expire)),
        route(M::POST, "/api/v1/alerts/acknowledge", Policy::writes(Operate), post(silences::acknowledge)),
        route(M::POST, "/alerts/receivers/{name}/test", Policy::writes_anywhere(Operate), post(silences::test_receiver)),
        route(M::POST, "/api/v1/alerts/receivers/{name}/test", Policy::writes_anywhere(Operate), post(silences::test_receiver)),
        // Incident updates run on a secondary too: there they are break-glass (or refused).
        route(M::GET, "/api/v1/incidents", Policy::reads(Read), get(incidents::list)),
        route(M::POST, "/incidents", Policy::writes_anywhere(Operate), post(incidents::post)),
        route(M::POST, "/api/v1/incidents", Policy::writes_anywhere(Operate), post(incidents::post)),
        route(M::POST, "/admin/users", Policy::writes(Manage), post(users::add)),
        route(M::POST, "/admin/users/{name}/{verb}", Policy::writes(Manage), post(users::standing)),
    ]
}

/// A Leptos page: anyone logged in reads it and it may be cached, except the login page, which
/// anyone may read and which carries a token.
pub fn page_policy(path: &str) -> Policy {
    match path {
        "/login" => Policy::reads(Access::Public),
        _ => Policy { access: Access::Read, on_secondary: true, cacheable: true },
    }
}

/// Leptos' server functions only read.
pub const SERVER_FN: Policy = Policy::reads(Access::Read);

/// A request no route claims: the site's own files under `/pkg/` and the icon are public;
/// any other read needs a session; any other write needs the most guarded permission there is.
pub fn unrouted(method: &Method, path: &str) -> Policy {
    let reads = matches!(*method, Method::GET | Method::HEAD);
    match () {
        _ if reads && (path.starts_with("/pkg/") || path == "/favicon.svg") => Policy::reads(Access::Public),
        _ if reads || *method == Method::OPTIONS => Policy::reads(Access::Read),
        _ => Policy::writes(Access::Manage),
    }
}

/// Every route's policy by path and method.
pub struct Policies {
    paths: matchit::Router<HashMap<Method, Policy>>,
}

impl Policies {
    /// The table, the Leptos pages and the server functions.
    fn build() -> Policies {
        let mut by_path: HashMap<String, HashMap<Method, Policy>> = HashMap::new();
        for r in table() {
            by_path.entry(r.path.to_string()).or_default().insert(r.method, r.policy);
        }
        for page in leptos_axum::generate_route_list(app::App) {
            by_path.entry(page.path().to_string()).or_default().insert(Method::GET, page_policy(page.path()));
        }
        for (path, method) in leptos::server_fn::axum::server_fn_paths() {
            by_path.entry(path.to_string()).or_default().insert(method, SERVER_FN);
        }
        let mut paths = matchit::Router::new();
        for (path, methods) in by_path {
            paths.insert(path, methods).expect("the route table's paths do not overlap");
        }
        Policies { paths }
    }

    /// The policy of `method path`.
    pub fn of(&self, method: &Method, path: &str) -> Policy {
        // axum answers HEAD with the GET route.
        let key = if *method == Method::HEAD { &Method::GET } else { method };
        // A route's parameters are never empty (`/api/v1/loaders//report` names no loader).
        let Some(methods) = self.paths.at(path).ok().filter(|m| m.params.iter().all(|(_, v)| !v.is_empty())).map(|m| m.value) else {
            return unrouted(method, path);
        };
        if let Some(policy) = methods.get(key) {
            return *policy;
        }
        if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
            return unrouted(method, path);
        }
        // Another write to a path that takes writes needs what its writes need (it will get a
        // 405, not a 403, from whoever may write there); a bearer token is for its own route only.
        let rank = |a: Access| [Access::Public, Access::Read, Access::Operate, Access::Manage].iter().position(|x| *x == a);
        let writes = methods.iter().filter(|(m, _)| !matches!(**m, Method::GET | Method::HEAD)).map(|(_, p)| p.access);
        let access = writes.filter_map(|a| rank(a).map(|r| (r, a))).max_by_key(|(r, _)| *r).map(|(_, a)| a);
        Policy::writes(access.unwrap_or(Access::Manage))
    }
}

/// The policies, built once.
pub fn policies() -> &'static Policies {
    static POLICIES: OnceLock<Policies> = OnceLock::new();
    POLICIES.get_or_init(Policies::build)
}

/// Every path the server routes: the table, the Leptos pages and the server functions.
pub fn paths() -> Vec<String> {
    let mut paths: Vec<String> = table().into_iter().map(|r| r.path.to_string()).collect();
    paths.extend(leptos_axum::generate_route_list(app::App).iter().map(|r| r.path().to_string()));
    paths.extend(leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_string()));
    paths.sort();
    paths.dedup();
    paths
}

/// Middleware, outside the gate: finds the request's policy once and leaves it in the
/// request's extensions for the gate, the read-only layer and the page cache.
pub async fn classify(mut request: Request, next: Next) -> Response {
    let policy = policies().of(request.method(), request.uri().path());
    request.extensions_mut().insert(policy);
    next.run(request).await
}

/// The policy [`classify`] left on a request (a request it never saw gets the unrouted one).
pub fn of_request(request: &Request) -> Policy {
    request.extensions().get::<Policy>().copied().unwrap_or_else(|| unrouted(request.method(), request.uri().path()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_one_policy_per_method_and_path() {
        let mut seen = std::collections::HashSet::new();
        for r in table() {
            assert!(seen.insert((r.method.clone(), r.path)), "{} {} twice", r.method, r.path);
        }
    }

    #[test]
    fn requests_find_their_route_policy() {
        let p = policies();
        // (method, path, access, on a secondary, cacheable)
        let table = [
            (Method::GET, "/topology", Access::Read, true, true),
            (Method::HEAD, "/topology", Access::Read, true, true),
            (Method::GET, "/login", Access::Public, true, false),
            (Method::POST, "/login", Access::Public, true, false),
            (Method::GET, "/healthz", Access::Public, true, false),
            (Method::GET, "/metrics", Access::Metrics, true, false),
            (Method::POST, "/api/topology", Access::Read, true, false),
            (Method::POST, "/api/v1/actions/7/approve", Access::Operate, false, false),
            (Method::POST, "/actions/break-glass/k-1/approve", Access::Operate, true, false),
            (Method::POST, "/actions/3/cancel", Access::Operate, false, false),
            (Method::POST, "/incidents", Access::Operate, true, false),
            (Method::GET, "/incidents", Access::Read, true, true),
            (Method::POST, "/admin/users/bob/disable", Access::Manage, false, false),
            (Method::GET, "/pkg/crowsnest.js", Access::Public, true, false),
            (Method::POST, "/pkg/crowsnest.js", Access::Manage, false, false),
            (Method::GET, "/not-a-route", Access::Read, true, false),
            (Method::PUT, "/topology", Access::Manage, false, false),
            (Method::PUT, "/actions", Access::Operate, false, false),
            (Method::DELETE, "/api/v1/actions/7/approve", Access::Operate, false, false),
            (Method::PUT, "/api/v1/loaders/l-1/report", Access::Manage, false, false),
            (Method::GET, "/api/v1/loaders/l-1/report", Access::Read, true, false),
            (Method::POST, "/api/v1/peer/report", Access::Manage, false, false),
            (Method::POST, "/api/v1/loaders//report", Access::Manage, false, false),
        ];
        for (method, path, access, on_secondary, cacheable) in table {
            assert_eq!(p.of(&method, path), Policy { access, on_secondary, cacheable }, "{method} {path}");
        }
    }
}
