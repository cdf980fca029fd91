//! The guarded surface over real HTTP: the gate on every route as every role, CSRF, sessions,
//! login limits, the two-person rule, idempotency, bad input, the edge files and the audit log.

use app::action::ActionState;
use crowsnest::config::Estate;
use crowsnest::run::{Server, Site};
use reqwest::{Client, Method, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::common;
use common::{browser, csrf_in, login_as, Check, Role, Tier};

/// Users and their passwords: name, role, password.
const USERS: [(&str, Role, &str); 4] = [
    ("alice", Role::Oncall, "alice-oncall-pw"),
    ("bob", Role::Viewer, "bob-viewer-pw"),
    ("carol", Role::Admin, "carol-admin-pw"),
    ("dave", Role::Oncall, "dave-oncall-pw"),
];

fn estate(data: &Path, tweak: impl FnOnce(&mut Estate)) -> Estate {
    let mut b = common::estate("sjc-1", "sjc", data)
        .regions(&["sjc"])
        .host("lb2", "sjc", Tier::WebLb, "127.0.0.1".parse().unwrap(), Check::Tcp(9))
        .site("web", false)
        .site("api", true)
        .hostname("www.example.test", Tier::WebLb, Some("web"))
        .hostname("api.example.test", Tier::WebLb, Some("api"));
    for (name, role, pw) in USERS {
        b = b.user(name, role, &crowsnest::auth::password::hash(pw).unwrap());
    }
    let mut estate = common::load(&b);
    tweak(&mut estate);
    estate
}

struct Console {
    server: Server,
    dir: tempfile::TempDir,
    base: String,
}

async fn start(tweak: impl FnOnce(&mut Estate)) -> Console {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/crowsnest.css"), "body {}").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "not for the web").unwrap();
    let estate = Arc::new(estate(&dir.path().join("data"), tweak));
    let server = Server::start(estate, Site { root: site }, false).await.expect("server starts");
    let base = format!("http://{}", server.addr);
    Console { server, dir, base }
}

/// Logs `name` in and returns its browser and CSRF token.
async fn session(base: &str, name: &str) -> (Client, String) {
    let password = USERS.iter().find(|u| u.0 == name).unwrap().2;
    let http = browser();
    let r = login_as(base, &http, name, password).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{name} logs in");
    assert_eq!(r.headers()["location"], "/actions");
    let page = http.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
    (http, csrf_in(&page).expect("a logged-in page carries the token"))
}

fn form<'a>(site: &'a str, kind: &'a str, key: &'a str, token: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", token),
        ("kind", kind),
        ("site", site),
        ("reason", "primary datacenter unreachable"),
        ("confirmation", site),
        ("message", "Back soon. <script>alert(1)</script>"),
        ("expected_end", ""),
        ("idempotency_key", key),
    ]
}

async fn requests(base: &str, http: &Client) -> Vec<serde_json::Value> {
    let board: serde_json::Value = http.get(format!("{base}/api/v1/actions")).send().await.unwrap().json().await.unwrap();
    board["requests"].as_array().cloned().unwrap_or_default()
}

async fn audit_actions(base: &str, http: &Client) -> Vec<String> {
    let page: serde_json::Value = http.get(format!("{base}/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    page["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

fn flag(c: &Console, site: &str) -> bool {
    c.dir.path().join(format!("data/edge/flags/{site}.maintenance")).exists()
}

/// What may be reached without a session, written here rather than read from the gate (a
/// sweep that asks the gate what is public cannot catch the gate being wrong): method, path.
/// The loader push and the peer report carry bearer tokens of their own, checked below.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/healthz"),
    ("GET", "/favicon.svg"),
    ("POST", "/api/v1/loaders/{name}/report"),
    ("GET", "/api/v1/peer/report"),
    ("GET", "/api/v1/peer/timeline"),
];

fn listed_public(m: &Method, template: &str) -> bool {
    PUBLIC.iter().any(|(pm, pp)| *pp == template && (*pm == m.as_str() || (*pm == "GET" && *m == Method::HEAD)))
}

/// What each role may do with a write, by route template: the test's own table.
fn write_allowed(role: &str, template: &str) -> bool {
    let operate = template == "/actions"
        || template.starts_with("/actions/")
        || template.starts_with("/api/v1/actions")
        || template.starts_with("/silences")
        || template.starts_with("/api/v1/silences")
        || template.ends_with("/alerts/acknowledge")
        || template.ends_with("/test")
        || template == "/incidents"
        || template == "/api/v1/incidents";
    let manage = template.starts_with("/admin/");
    match role {
        "viewer" => false,
        "oncall" => operate,
        "admin" => operate || manage,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_method_is_guarded_for_every_role() {
    let c = start(|_| {}).await;
    let base = &c.base;
    let paths = crowsnest::web::routes::paths();
    assert!(paths.len() > 20, "the sweep reads the router's own list: {paths:?}");
    let methods = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];
    // A real, pending request: refusals are asserted against an action that exists.
    let (alice, a_token) = session(base, "alice").await;
    let r = alice.post(format!("{base}/actions")).form(&form("api", "maintenance_on", "sweep-real", &a_token)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let real = requests(base, &alice).await[0]["id"].as_i64().expect("the pending request's id");
    let concrete = |p: &str| {
        p.replace("{id}", &real.to_string()).replace("{verb}", "approve").replace("{name}", "bob").replace("{key}", "no-such-key")
    };

    // Anonymous: every route not on the test's public list answers 401, never 200; and every
    // route that does answer anonymously is on that list.
    let anon = browser();
    for path in &paths {
        for m in &methods {
            let url = format!("{base}{}", concrete(path));
            let r = anon.request(m.clone(), &url).header("accept", "text/html").send().await.unwrap();
            let code = r.status();
            if listed_public(m, path) || path.starts_with("/pkg/") {
                continue;
            }
            assert!(
                code == StatusCode::UNAUTHORIZED || code == StatusCode::METHOD_NOT_ALLOWED,
                "anonymous {m} {path} answered {code}: not on the public list"
            );
        }
    }
    // The bearer routes refuse a missing or wrong token.
    for (m, path) in
        [(Method::POST, "/api/v1/loaders/loader-x/report"), (Method::GET, "/api/v1/peer/report"), (Method::GET, "/api/v1/peer/timeline")]
    {
        for token in [None, Some("wrong-token")] {
            let mut r = anon.request(m.clone(), format!("{base}{path}")).header("content-type", "application/json").body("{}");
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let code = r.send().await.unwrap().status();
            assert!(code == StatusCode::UNAUTHORIZED || code == StatusCode::NOT_FOUND, "{m} {path} with {token:?}: {code}");
        }
    }
    // Pages answer 401 with a way to log in, not 200.
    let r = anon.get(format!("{base}/topology")).header("accept", "text/html").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("href=\"/login\""));
    let r = anon.get(format!("{base}/api/v1/topology")).send().await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated", "one JSON error shape");

    // Every role reads every page; each write is refused (403) unless the test's table says
    // the role may, and an allowed write is never refused for its role.
    for (role, name) in [("viewer", "bob"), ("oncall", "dave"), ("admin", "carol")] {
        let (http, token) = session(base, name).await;
        for template in &paths {
            let path = concrete(template);
            for m in &methods {
                if listed_public(m, template) || template.starts_with("/pkg/") || path == "/logout" {
                    continue;
                }
                let r = http.request(m.clone(), format!("{base}{path}")).header("x-csrf-token", &token).send().await.unwrap();
                let code = r.status();
                let server_fn = template.starts_with("/api/") && !template.starts_with("/api/v1/");
                if *m == Method::GET || (server_fn && *m == Method::POST) {
                    assert!(code != StatusCode::UNAUTHORIZED && code != StatusCode::FORBIDDEN, "{role} {m} {path}: {code}");
                } else if code == StatusCode::METHOD_NOT_ALLOWED || code == StatusCode::NOT_FOUND {
                    // No such route for this method.
                } else if write_allowed(role, template) {
                    assert_ne!(code, StatusCode::FORBIDDEN, "{role} may {m} {path}");
                } else {
                    assert_eq!(code, StatusCode::FORBIDDEN, "{role} {m} {path}");
                }
            }
        }
        if role == "viewer" {
            // The real request is untouched by everything the viewer tried.
            let now = requests(base, &alice).await;
            let request = now.iter().find(|r| r["id"].as_i64() == Some(real)).unwrap();
            assert_eq!(request["state"], "pending", "a viewer changed a real request");
        }
    }
    // dave (on-call, not the requester) approved the real request in the sweep; carol's
    // approve then found it no longer pending.
    let now = requests(base, &alice).await;
    assert_ne!(now.iter().find(|r| r["id"].as_i64() == Some(real)).unwrap()["state"], "pending");

    let viewer = session(base, "bob").await.0;
    // The viewer wrote nothing: no site change, no edge flag.
    assert!(!flag(&c, "web"));
    // The viewer sees the controls disabled, with the reason.
    let page = viewer.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("viewers cannot change maintenance; ask an on-call"));
    assert!(page.contains("<button type=\"submit\" disabled"));
    // The banner names who is logged in, with a logout button.
    assert!(page.contains("id=\"who-name\">bob</span>") && page.contains("id=\"logout\""));

    // No file outside the built site is served.
    let r = anon.get(format!("{base}/pkg/crowsnest.css")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    for path in ["/secret.txt", "/pkg/../secret.txt", "/pkg/%2e%2e/secret.txt", "/data/control.db", "/pkg/../../Cargo.toml"] {
        let r = viewer.get(format!("{base}{path}")).send().await.unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(!body.contains("not for the web") && !body.contains("SQLite format"), "{path} leaked a file ({status})");
    }
    c.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_needs_same_origin_and_this_sessions_token() {
    let c = start(|_| {}).await;
    let base = &c.base;
    let (alice, token) = session(base, "alice").await;
    let (_bob, bob_token) = session(base, "bob").await;
    let post = |token: &str, key: &str| {
        let body = serde_urlencoded::to_string(form("web", "maintenance_on", key, token)).unwrap();
        alice.post(format!("{base}/actions")).header("content-type", "application/x-www-form-urlencoded").body(body)
    };
    // (request, status, error code or None)
    let cross_origin = post(&token, "k1").header("origin", "https://evil.example").send().await.unwrap();
    assert_eq!(cross_origin.status(), 403, "a cross-site Origin is refused");
    assert!(cross_origin.text().await.unwrap().contains("came from another site"), "the refusal says why");
    let cross_site = post(&token, "k2").header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(cross_site.status(), 403, "Sec-Fetch-Site: cross-site is refused");
    let missing = post("", "k3").send().await.unwrap();
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("CSRF token"));
    let replayed = post(&bob_token, "k4").send().await.unwrap();
    assert_eq!(replayed.status(), 403, "a viewer's token is worthless in an on-call's session");
    assert!(!flag(&c, "web") && requests(base, &alice).await.is_empty(), "nothing was written");
    // Same origin with the right token goes through.
    let ok = post(&token, "k5").header("origin", base.as_str()).header("sec-fetch-site", "same-origin").send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert!(flag(&c, "web"));
    // The JSON API takes the token in X-CSRF-Token.
    let body = serde_json::json!({"kind": "maintenance_off", "site": "web", "reason": "primary is back now", "confirmation": "web", "idempotency_key": "j1"});
    let r = alice.post(format!("{base}/api/v1/actions")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = alice.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert!(!flag(&c, "web"));
    c.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_rotate_at_login_and_end_at_logout_disable_and_idle() {
    let c = start(|e| {
        e.auth.idle_timeout_seconds = 3;
        e.auth.max_failures_per_account = 3;
    })
    .await;
    let base = &c.base;
    let cookie_of = |r: &reqwest::Response| {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("crowsnest_session="))
            .map(|v| v.split(';').next().unwrap().to_string())
    };
    // The login form stores nothing: no session cookie, no row, however many visitors.
    let http = browser();
    let sessions = || async {
        let local = crowsnest::store::LocalStore::open(&c.dir.path().join("data/local.db")).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tower_sessions").fetch_one(&local.pool()).await.unwrap();
        local.close().await;
        n
    };
    let rows_before = sessions().await;
    for _ in 0..50 {
        let r = browser().get(format!("{base}/login")).send().await.unwrap();
        assert!(cookie_of(&r).is_none(), "an anonymous login form starts no session");
    }
    assert_eq!(sessions().await, rows_before, "fifty anonymous login forms stored no session rows");
    // Fixation: an id planted before login is not the one after, and is worth nothing.
    let planted = "crowsnest_session=planted-by-someone-else".to_string();
    let before = http.get(format!("{base}/login")).header("cookie", &planted).send().await.unwrap();
    let form_cookie = before
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("crowsnest_login="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("the login form's nonce cookie");
    let token = csrf_in(&before.text().await.unwrap()).unwrap();
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", format!("{planted}; {form_cookie}"))
        .form(&[("csrf", token.as_str()), ("name", "alice"), ("password", "alice-oncall-pw"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let after = cookie_of(&r).expect("a new session cookie at login");
    assert_ne!(after, planted, "the session id is the server's, made at login");
    let attrs = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("crowsnest_session="))
        .unwrap()
        .to_ascii_lowercase();
    assert!(attrs.contains("httponly") && attrs.contains("samesite=lax"), "{attrs}");
    // The planted id is worth nothing.
    let stale = browser().get(format!("{base}/topology")).header("cookie", &planted).send().await.unwrap();
    assert_eq!(stale.status(), 401);
    assert_eq!(http.get(format!("{base}/topology")).send().await.unwrap().status(), 200);

    // Logout ends the session at once, even for a copy of the cookie.
    let page = http.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).unwrap();
    let r = http.post(format!("{base}/logout")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let copy = browser().get(format!("{base}/topology")).header("cookie", &after).send().await.unwrap();
    assert_eq!(copy.status(), 401, "a logged-out session id is dead");

    // Disabling a user ends their sessions (the directory re-reads every second).
    let (dave, _) = session(base, "dave").await;
    let control = crowsnest::store::ControlStore::open(&crowsnest::control_state::control_url(c.server_estate()))
        .await
        .unwrap()
        .keyed(crowsnest::control_state::audit_key(c.server_estate()).unwrap());
    let entry = crowsnest::audit::NewAuditEntry {
        at_ms: crowsnest::clock::now_ms(),
        actor: "cli:test".into(),
        action: "user_disabled".into(),
        target: "dave".into(),
        reason: String::new(),
        detail: String::new(),
    };
    // dave comes from the config here; disabling works on any stored user.
    assert!(control.change_user("dave", crowsnest::store::UserChange::Disabled(true), entry).await.unwrap());
    common::eventually_ok(Duration::from_secs(5), || async {
        match dave.get(format!("{base}/topology")).send().await.unwrap().status() {
            StatusCode::UNAUTHORIZED => Ok(()),
            status => Err(format!("a disabled user's session lived on ({status})")),
        }
    })
    .await;
    let r = login_as(base, &browser(), "dave", "dave-oncall-pw").await;
    assert_eq!(r.status(), 401, "a disabled user cannot log in");

    // Idle timeout: busy sessions live, idle ones end.
    let (carol, _) = session(base, "carol").await;
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(carol.get(format!("{base}/topology")).send().await.unwrap().status(), 200, "a busy session lives");
    }
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(carol.get(format!("{base}/topology")).send().await.unwrap().status(), 401, "an idle session ends");

    // Login failures are limited per account: 429 with Retry-After.
    let guesser = browser();
    for _ in 0..3 {
        assert_eq!(login_as(base, &guesser, "bob", "wrong").await.status(), 401);
    }
    let limited = login_as(base, &guesser, "bob", "bob-viewer-pw").await;
    assert_eq!(limited.status(), 429, "even the right password waits");
    let wait: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=300).contains(&wait), "{wait}");
    assert!(limited.text().await.unwrap().contains("Too many failed logins"));
    // Unknown names fail the same way as wrong passwords.
    let r = login_as(base, &browser(), "mallory", "whatever").await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Wrong name or password."));

    let (admin, _) = session(base, "alice").await;
    let kinds = audit_actions(base, &admin).await;
    for kind in ["login", "logout", "login_failed", "user_disabled"] {
        assert!(kinds.iter().any(|k| k == kind), "no {kind} in the audit log: {kinds:?}");
    }
    c.server.stop().await;
}

impl Console {
    fn server_estate(&self) -> &Estate {
        self.server.estate()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_person_rule_idempotency_bad_input_and_the_edge() {
    let c = start(|e| e.auth.approval_ttl_seconds = 4).await;
    let base = &c.base;
    let (alice, a_token) = session(base, "alice").await;
    let (carol, c_token) = session(base, "carol").await;
    let (dave, d_token) = session(base, "dave").await;
    let submit = |http: &Client, fields: Vec<(&str, &str)>| http.post(format!("{base}/actions")).form(&fields).send();

    // One-person site: executes at once; a double submit executes once.
    let r = submit(&alice, form("web", "maintenance_on", "double-1", &a_token)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = submit(&alice, form("web", "maintenance_on", "double-1", &a_token)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let reqs = requests(base, &alice).await;
    assert_eq!(reqs.len(), 1, "a double submit is one request");
    assert_eq!(reqs[0]["state"], "executed");
    let executed = audit_actions(base, &alice).await.iter().filter(|a| *a == "maintenance_on.executed").count();
    assert_eq!(executed, 1, "and one execution");
    // The edge has the flag and the escaped page.
    assert!(flag(&c, "web"));
    let page = std::fs::read_to_string(c.dir.path().join("data/edge/pages/web.html")).unwrap();
    assert!(page.contains("Back soon. &lt;script&gt;alert(1)&lt;/script&gt;") && !page.contains("<script>alert"));
    // The console escapes it too.
    let html = alice.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>alert(1)"));

    // Two-person site: pending until a different person approves.
    let r = submit(&alice, form("api", "maintenance_on", "tp-1", &a_token)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let id = requests(base, &alice).await.iter().find(|r| r["site"] == "api").unwrap()["id"].as_i64().unwrap();
    assert_eq!(requests(base, &alice).await[0]["state"], "pending");
    assert!(!flag(&c, "api"), "nothing happens before approval");
    let approve = |http: &Client, token: &str, id: i64| http.post(format!("{base}/actions/{id}/approve")).form(&[("csrf", token)]).send();
    let r = approve(&alice, &a_token, id).await.unwrap();
    assert_eq!(r.status(), 403, "the requester cannot approve their own request");
    assert!(r.text().await.unwrap().contains("a different person must approve it"));
    // Not even an admin approves their own.
    submit(&carol, form("api", "maintenance_on", "tp-2", &c_token)).await.unwrap();
    let own = requests(base, &carol).await.iter().find(|r| r["requested_by"] == "carol").unwrap()["id"].as_i64().unwrap();
    assert_eq!(approve(&carol, &c_token, own).await.unwrap().status(), 403, "admins included");
    // A second on-call approves: executed, and the edge follows.
    let r = approve(&dave, &d_token, id).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let reqs = requests(base, &alice).await;
    let done = reqs.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!((done["state"].as_str(), done["approved_by"].as_str()), (Some("executed"), Some("dave")));
    assert!(flag(&c, "api"));
    // Approving again is a conflict, not a second execution.
    assert_eq!(approve(&carol, &c_token, id).await.unwrap().status(), 409);
    // carol's own request expires unapproved.
    common::eventually_ok(Duration::from_secs(10), || async {
        let state = requests(base, &carol).await.iter().find(|r| r["id"] == own).unwrap()["state"].as_str().unwrap().to_string();
        match state == ActionState::Expired.as_str() {
            true => Ok(()),
            false => Err(format!("request {own} never expired ({state})")),
        }
    })
    .await;
    assert!(matches!(approve(&dave, &d_token, own).await.unwrap().status().as_u16(), 409 | 410));

    // Bad input: a clear error next to the field, 422, nothing changes, and it is audited.
    let before = requests(base, &alice).await.len();
    let bad = vec![
        ("csrf", a_token.as_str()),
        ("kind", "maintenance_off"),
        ("site", "web"),
        ("reason", "short"),
        ("confirmation", "Web"),
        ("idempotency_key", "bad-1"),
    ];
    let r = submit(&alice, bad).await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"web-reason-error\"") && html.contains("at least 10 characters"), "reason error next to its field");
    assert!(html.contains("id=\"web-confirmation-error\""), "confirmation error next to its field");
    assert!(html.contains("type the site&#x27;s name, web, exactly") || html.contains("type the site's name, web, exactly"));
    assert_eq!(requests(base, &alice).await.len(), before, "nothing was recorded");
    assert!(flag(&c, "web"), "nothing changed");
    // The API: field errors as JSON, wrong content type, unknown kind, oversized body.
    let json = |body: serde_json::Value| alice.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &a_token).json(&body).send();
    let r = json(serde_json::json!({"kind": "reboot", "site": "blog", "reason": "x", "confirmation": "blog", "idempotency_key": "b2"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    for field in ["kind", "site", "reason"] {
        assert!(body["error"]["fields"][field].is_string(), "no {field} error: {body}");
    }
    let long = "x".repeat(501);
    let r = json(serde_json::json!({"kind": "maintenance_on", "site": "web", "reason": "a long enough reason", "confirmation": "web", "message": long, "expected_end": "2020-01-01T00:00", "idempotency_key": "b3"})).await.unwrap();
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["error"]["fields"]["message"].as_str().unwrap().contains("at most 500"));
    assert!(body["error"]["fields"]["expected_end"].as_str().unwrap().contains("in the past"));
    let r = alice
        .post(format!("{base}/api/v1/actions"))
        .header("x-csrf-token", &a_token)
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = alice
        .post(format!("{base}/api/v1/actions"))
        .header("x-csrf-token", &a_token)
        .header("content-type", "application/json")
        .body(vec![b' '; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let refusals = audit_actions(base, &alice).await.iter().filter(|a| a.ends_with(".refused")).count();
    assert!(refusals >= 5, "refusals are audited: {refusals}");

    // Turning maintenance off removes the flag; the audit chain still verifies.
    let r = submit(
        &alice,
        vec![
            ("csrf", a_token.as_str()),
            ("kind", "maintenance_off"),
            ("site", "web"),
            ("reason", "primary is back and healthy"),
            ("confirmation", "web"),
            ("idempotency_key", "off-1"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(!flag(&c, "web"));
    c.server.stop().await;
    let estate = estate(&c.dir.path().join("data"), |_| {});
    assert_eq!(crowsnest::cli::audit_verify(&estate).await, std::process::ExitCode::SUCCESS);
}

/// The smallest config the binary accepts, in `dir/c.toml`, keeping its data in `dir/data`.
fn minimal_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("c.toml");
    std::fs::write(&config, common::estate("x", "sjc", &dir.join("data")).regions(&["sjc"]).text()).unwrap();
    config
}

#[test]
fn bare_crowsnest_needs_a_config_and_a_site() {
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_crowsnest");
    // No config: refused, with how to give one; the demo is never picked by accident.
    let out = std::process::Command::new(exe).current_dir(dir.path()).env_remove("CROWSNEST_CONFIG").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
    // A config but no built site: refused rather than serving the working directory.
    let config = minimal_config(dir.path());
    let out = std::process::Command::new(exe)
        .current_dir(dir.path())
        .env("CROWSNEST_CONFIG", &config)
        .env("LEPTOS_SITE_ROOT", dir.path().join("no-site"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("site root"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_add_and_disable_users_others_cannot() {
    let c = start(|_| {}).await;
    let base = &c.base;
    let (carol, c_token) = session(base, "carol").await;
    let (alice, a_token) = session(base, "alice").await;
    let add = |http: &Client, token: &str, name: &str, password: &str| {
        http.post(format!("{base}/admin/users")).form(&[("csrf", token), ("name", name), ("role", "oncall"), ("password", password)]).send()
    };
    // An on-call sees the form disabled with the reason, and the server refuses anyway.
    let page = alice.get(format!("{base}/admin/users")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("only admins manage users; ask an admin"));
    assert_eq!(add(&alice, &a_token, "erin", "erin-oncall-pw1").await.unwrap().status(), 403);
    // Bad input is refused next to the field.
    let r = add(&carol, &c_token, "erin smith", "short").await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"user-name-error\"") && html.contains("id=\"user-password-error\""));
    // An admin adds erin; erin logs in.
    assert_eq!(add(&carol, &c_token, "erin", "erin-oncall-pw1").await.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(add(&carol, &c_token, "erin", "erin-oncall-pw1").await.unwrap().status(), 409, "names are unique");
    let erin = browser();
    assert_eq!(login_as(base, &erin, "erin", "erin-oncall-pw1").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(erin.get(format!("{base}/actions")).send().await.unwrap().status(), 200);
    // Config users are changed in the config, not here.
    let r = carol.post(format!("{base}/admin/users/alice/disable")).form(&[("csrf", c_token.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), 409);
    // Disabling erin ends her session at once.
    let r = carol.post(format!("{base}/admin/users/erin/disable")).form(&[("csrf", c_token.as_str())]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(erin.get(format!("{base}/actions")).send().await.unwrap().status(), 401);
    let kinds = audit_actions(base, &carol).await;
    assert!(kinds.contains(&"user_added".to_string()) && kinds.contains(&"user_disabled".to_string()), "{kinds:?}");
    let users: Vec<serde_json::Value> = carol
        .post(format!("{base}/api/users"))
        .header("x-csrf-token", &c_token)
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = serde_json::to_string(&users).unwrap();
    assert!(listed.contains("erin") && !listed.contains("argon2"), "the list never carries hashes: {listed}");
    c.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_display_reads_without_login_and_never_writes() {
    // Whatever role the wall display is given, it never writes.
    for role in [app::auth::Role::Viewer, app::auth::Role::Oncall, app::auth::Role::Admin] {
        let c = start(|e| e.auth.anonymous_role = Some(role)).await;
        let base = &c.base;
        let wall = browser();
        let r = wall.get(format!("{base}/topology")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("wall display"), "the banner says it is a wall display");
        // A wall display's cached page is answered by the front door, outside the gate: the same
        // page, with the same headers, as the whole stack gives (any cookie goes through it all).
        let mut same = false;
        for _ in 0..10 {
            let full = page_and_headers(&wall, &format!("{base}/topology"), Some("unrelated=1")).await;
            let door = page_and_headers(&wall, &format!("{base}/topology"), None).await;
            if full.1 == door.1 {
                assert_eq!(full.0, door.0, "headers through the stack and through the door");
                same = true;
                break;
            }
        }
        assert!(same, "the page through the stack and through the door differ (or the data changed under ten tries)");
        let r = wall.post(format!("{base}/actions")).form(&form("web", "maintenance_on", "wall-1", "")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{role:?}");
        let r = wall
            .post(format!("{base}/admin/users"))
            .form(&[("name", "mallory"), ("role", "admin"), ("password", "long enough pw")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{role:?}");
        assert!(!flag(&c, "web"));
        c.server.stop().await;
    }
}

/// A page's headers (but its date) and body.
async fn page_and_headers(http: &Client, url: &str, cookie: Option<&str>) -> (Vec<(String, String)>, String) {
    let mut request = http.get(url);
    if let Some(cookie) = cookie {
        request = request.header(reqwest::header::COOKIE, cookie);
    }
    let r = request.send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    let mut headers: Vec<(String, String)> =
        r.headers().iter().filter(|(k, _)| *k != "date").map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string())).collect();
    headers.sort();
    (headers, r.text().await.unwrap())
}

/// A browser whose connections come from `address` (any of 127/8 reaches the server).
fn browser_from(address: &str) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn audit_count(base: &str, http: &Client) -> i64 {
    let page: serde_json::Value = http.get(format!("{base}/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    page["total"].as_i64().expect("the audit page says how many entries there are")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_resist_concurrent_guesses_remote_lockout_and_audit_flooding() {
    let c = start(|e| {
        e.auth.max_failures_per_account = 5;
        e.auth.account_backoff_after = 50;
    })
    .await;
    let base = &c.base;
    let (carol, _) = session(base, "carol").await;

    // A login form without this session's token writes nothing to the audit log, whatever
    // name it carries.
    let before = audit_count(base, &carol).await;
    let flood = browser_from("127.0.0.5");
    let huge = "m".repeat(60_000);
    for _ in 0..20 {
        let r = flood
            .post(format!("{base}/login"))
            .form(&[("csrf", "stale"), ("name", huge.as_str()), ("password", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
    }
    assert_eq!(audit_count(base, &carol).await, before, "a CSRF failure is not an audit entry");
    // A real failed login is audited, with the name cut to 64 characters.
    let r = login_as(base, &flood, &huge, "x").await;
    assert_eq!(r.status(), 401);
    let page: serde_json::Value = carol.get(format!("{base}/api/v1/audit")).send().await.unwrap().json().await.unwrap();
    let newest = &page["entries"][0];
    assert_eq!(newest["action"], "login_failed");
    assert!(newest["actor"].as_str().unwrap().chars().count() <= 65, "{}", newest["actor"].as_str().unwrap().len());

    // Sixty guesses fired at once with one pre-login token: only the limit is checked.
    let guesser = browser_from("127.0.0.6");
    let page = guesser.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).unwrap();
    let guesses = (0..60).map(|i| {
        let guesser = guesser.clone();
        let token = token.clone();
        let url = format!("{base}/login");
        async move {
            let password = format!("guess-{i}");
            guesser.post(url).form(&[("csrf", token.as_str()), ("name", "alice"), ("password", &password)]).send().await.unwrap().status()
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, limited), (5, 55), "{statuses:?}");

    // The attacker's failures do not keep alice out from her own address.
    let alice = browser_from("127.0.0.7");
    let r = login_as(base, &alice, "alice", "alice-oncall-pw").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "the right password from another address is not locked out");

    // Where a login leads: only a path on this console, and never an error.
    let visitor = browser_from("127.0.0.8");
    for (next, want) in
        [("/dns", "/dns"), ("/\t/evil.example", "/"), ("//evil.example", "/"), ("/\r\nSet-Cookie: a=b", "/"), ("/\\evil", "/")]
    {
        let page = visitor.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
        let token = csrf_in(&page).unwrap();
        let r = visitor
            .post(format!("{base}/login"))
            .form(&[("csrf", token.as_str()), ("name", "dave"), ("password", "dave-oncall-pw"), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(r.headers()["location"], want, "{next:?}");
        let page = visitor.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
        let token = csrf_in(&page).unwrap();
        visitor.post(format!("{base}/logout")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    }
    c.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_visitors_learn_nothing_and_every_response_carries_the_security_headers() {
    let token = "scraper-token-for-metrics";
    let c = start(|e| {
        e.auth.metrics_token_sha256 = Some(sha256_hex(token));
    })
    .await;
    let base = &c.base;
    let anon = browser();

    // /healthz: the status word only.
    let health: serde_json::Value = anon.get(format!("{base}/healthz")).send().await.unwrap().json().await.unwrap();
    let keys: Vec<&String> = health.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["status"], "{health}");
    // The login page names no instance, region, mode or control store.
    let login = anon.get(format!("{base}/login")).send().await.unwrap().text().await.unwrap();
    for secret in ["sjc-1", "San Jose", "control store", "primary"] {
        assert!(!login.contains(secret), "the login page tells anonymous visitors {secret:?}");
    }
    // /metrics: a session or the scraper's token.
    assert_eq!(anon.get(format!("{base}/metrics")).send().await.unwrap().status(), 401);
    let wrong = anon.get(format!("{base}/metrics")).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let scraped = anon.get(format!("{base}/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    assert!(scraped.text().await.unwrap().contains("crowsnest_"));

    // Another Host name (DNS rebinding) is refused; ours and IP literals are served.
    let rebound = anon.get(format!("{base}/login")).header("host", "evil.example").send().await.unwrap();
    assert_eq!(rebound.status(), StatusCode::MISDIRECTED_REQUEST);
    let port = c.server.addr.port();
    assert_eq!(anon.get(format!("{base}/login")).header("host", format!("localhost:{port}")).send().await.unwrap().status(), 200);

    // Security headers on pages, JSON, refusals and files alike.
    let (alice, _) = session(base, "alice").await;
    let page = alice.get(format!("{base}/actions")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'self'") && csp.contains("object-src 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    for r in [
        page,
        alice.get(format!("{base}/api/v1/topology")).send().await.unwrap(),
        anon.get(format!("{base}/topology")).send().await.unwrap(),
        anon.get(format!("{base}/pkg/crowsnest.css")).send().await.unwrap(),
    ] {
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{}", r.url());
        assert_eq!(h["x-frame-options"], "DENY", "{}", r.url());
        assert_eq!(h["referrer-policy"], "same-origin", "{}", r.url());
        assert!(h.contains_key("content-security-policy"), "{}", r.url());
        assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain http");
    }
    let api = alice.get(format!("{base}/api/v1/actions")).send().await.unwrap();
    assert_eq!(api.headers()["cache-control"], "no-store");

    // Words in the URL never reach the page: a notice comes only from this session's last form.
    let lure = alice.get(format!("{base}/actions?notice=Your+session+expired%2C+log+in+at+evil.example")).send().await.unwrap();
    assert!(!lure.text().await.unwrap().contains("evil.example"));
    c.server.stop().await;
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_passwords_are_never_served_beyond_loopback() {
    // In process: a config user with a demo password, on an address beyond loopback
    // (192.0.2.10, a documentation address: the check refuses before anything is bound).
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let demo_hash = crowsnest::auth::password::hash("alice-oncall").unwrap();
    let estate = estate(&dir.path().join("data"), |e| {
        e.users[0].password_hash = demo_hash.clone();
        e.instance.listen = "192.0.2.10:3000".parse().unwrap();
    });
    let err = Server::start(Arc::new(estate), Site { root: site.clone() }, false).await.err().expect("refused");
    assert!(err.to_string().contains("user \"alice\" has a demo password"), "{err}");

    // The binary, with the demo's own config and --listen: the flag is applied before the check.
    let exe = env!("CARGO_BIN_EXE_crowsnest");
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/demo.toml");
    let out = std::process::Command::new(exe)
        .current_dir(dir.path())
        .args(["--config", config, "serve", "--listen", "192.0.2.10:3000", "--site-root"])
        .arg(&site)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has a demo password") && stderr.contains("192.0.2.10:3000"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_floods_of_streams_and_big_bodies_are_bounded() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let c = start(|e| {
        e.instance.max_connections = 40;
        e.instance.header_read_timeout_seconds = 1;
        e.instance.max_streams_per_session = 2;
    })
    .await;
    let base = &c.base;
    // Thirty requests whose headers never finish are closed by the server, not kept forever.
    let mut slow = Vec::new();
    for _ in 0..30 {
        let mut s = tokio::net::TcpStream::connect(c.server.addr).await.unwrap();
        s.write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
        slow.push(s);
    }
    for mut s in slow {
        let mut buf = [0u8; 1024];
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "a half-sent request was still open after 5 s");
    }
    // The console still answers.
    assert_eq!(browser().get(format!("{base}/login")).send().await.unwrap().status(), 200);

    // One session holds at most max_streams_per_session event streams.
    let (alice, _) = session(base, "alice").await;
    let first = alice.get(format!("{base}/api/v1/events?snapshots=false")).send().await.unwrap();
    let second = alice.get(format!("{base}/api/v1/events?snapshots=false")).send().await.unwrap();
    assert_eq!((first.status(), second.status()), (StatusCode::OK, StatusCode::OK));
    let third = alice.get(format!("{base}/api/v1/events?snapshots=false")).send().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let err: serde_json::Value = third.json().await.unwrap();
    assert_eq!(err["error"]["code"], "too_many_streams");
    // Another session is not affected.
    let (carol, _) = session(base, "carol").await;
    assert_eq!(carol.get(format!("{base}/api/v1/events?snapshots=false")).send().await.unwrap().status(), StatusCode::OK);
    // Closing one stream frees its place.
    drop(first);
    let freed = common::eventually(Duration::from_secs(5), "a closed stream to free its place", || async {
        let r = alice.get(format!("{base}/api/v1/events?snapshots=false")).send().await.ok()?;
        (r.status() == StatusCode::OK).then_some(r)
    })
    .await;
    drop((second, freed));

    // Every body is bounded, on every route: a loader push and a login alike.
    let big = "x".repeat(100 * 1024);
    // A server function reads its own body: the layer in front of every route bounds it too.
    let page = alice.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
    let token = csrf_in(&page).unwrap();
    let r = alice
        .post(format!("{base}/api/instance"))
        .header("x-csrf-token", &token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let r =
        browser().post(format!("{base}/login")).header("content-type", "application/x-www-form-urlencoded").body(big).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    c.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_is_one_persons_and_names_have_one_case() {
    let c = start(|_| {}).await;
    let base = &c.base;
    let (alice, a_token) = session(base, "alice").await;
    let (carol, c_token) = session(base, "carol").await;
    let body = serde_json::json!({"kind": "maintenance_on", "site": "api", "reason": "primary datacenter unreachable", "confirmation": "api", "message": "alice's secret message", "idempotency_key": "shared-key-1"});
    let r = alice.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &a_token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // alice retrying gets her request back; carol replaying alice's key gets nothing of it.
    let again = alice.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &a_token).json(&body).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let stolen = carol.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &c_token).json(&body).send().await.unwrap();
    assert_eq!(stolen.status(), StatusCode::CONFLICT);
    let text = stolen.text().await.unwrap();
    assert!(text.contains("key_in_use") && !text.contains("alice's secret message"), "{text}");
    // `Alice` is alice: one account, one set of failure counts.
    let r = login_as(base, &browser(), "Alice", "alice-oncall-pw").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    c.server.stop().await;
}

/// `crowsnest audit verify`, the binary, exits 0 on an intact log and 1 naming the first bad
/// entry for each kind of tampering (done with the guard triggers dropped, as an intruder with
/// the database file could).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_exits_1_on_each_kind_of_tampering() {
    let exe = env!("CARGO_BIN_EXE_crowsnest");
    // (what, SQL after dropping the triggers, words stderr must hold)
    let table = [
        ("intact", "", ""),
        ("edited entry", "UPDATE audit_entries SET reason = 'nothing to see' WHERE id = 3", "audit entry 3: its content does not match"),
        ("deleted tail", "DELETE FROM audit_entries WHERE id >= 4", "audit entry 5: this instance recorded it as the head"),
        ("emptied", "DELETE FROM audit_entries", "audit entry 5: this instance recorded it as the head"),
        ("deleted middle", "DELETE FROM audit_entries WHERE id = 2", "audit entry 2: missing"),
        (
            "forged tail",
            "UPDATE audit_entries SET reason = 'forged', hash = 'f0f0' WHERE id = 5",
            "audit entry 5: its content does not match",
        ),
    ];
    for (what, sql, words) in table {
        let dir = tempfile::tempdir().unwrap();
        let config = minimal_config(dir.path());
        let estate = crowsnest::config::load(&config).unwrap();
        std::fs::create_dir_all(&estate.instance.data_dir).unwrap();
        let key = crowsnest::control_state::audit_key(&estate).unwrap();
        let local = crowsnest::store::LocalStore::open(&estate.instance.data_dir.join("local.db")).await.unwrap();
        let control = crowsnest::store::ControlStore::open(&crowsnest::control_state::control_url(&estate))
            .await
            .unwrap()
            .keep_head_in(local.clone())
            .keyed(key);
        for n in 1..=5 {
            let entry = crowsnest::audit::NewAuditEntry {
                at_ms: 1_795_600_000_000 + n,
                actor: "alice".into(),
                action: "note".into(),
                target: "web".into(),
                reason: format!("reason {n}"),
                detail: String::new(),
            };
            control.append_audit(entry).await.unwrap();
        }
        if !sql.is_empty() {
            control.execute_raw("DROP TRIGGER audit_entries_no_update").await.unwrap();
            control.execute_raw("DROP TRIGGER audit_entries_no_delete").await.unwrap();
            control.execute_raw(sql).await.unwrap();
        }
        control.close().await;
        local.close().await;
        let out = std::process::Command::new(exe).args(["--config"]).arg(&config).args(["audit", "verify"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if sql.is_empty() {
            assert_eq!(out.status.code(), Some(0), "{what}: {stderr}");
            assert!(String::from_utf8_lossy(&out.stdout).contains("audit log intact: 5 entries"), "{what}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
            assert!(stderr.contains(words), "{what}: {stderr}");
        }
    }
}

/// Personal pages are never shared: two people loading the Actions page in the same second
/// each get their own name and their own token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_pages_stay_personal_under_two_logins_in_the_same_second() {
    let c = start(|_| {}).await;
    let base = &c.base;
    let (alice, a_token) = session(base, "alice").await;
    let (bob, b_token) = session(base, "bob").await;
    for _ in 0..5 {
        let (a, b) = tokio::join!(alice.get(format!("{base}/actions")).send(), bob.get(format!("{base}/actions")).send());
        let (a, b) = (a.unwrap().text().await.unwrap(), b.unwrap().text().await.unwrap());
        assert!(a.contains("id=\"who-name\">alice</span>") && !a.contains(">bob</span>"), "alice's page");
        assert!(b.contains("id=\"who-name\">bob</span>") && !b.contains(">alice</span>"), "bob's page");
        assert_eq!(csrf_in(&a).as_deref(), Some(a_token.as_str()));
        assert_eq!(csrf_in(&b).as_deref(), Some(b_token.as_str()));
        // And a shared page (topology) carries nobody's token into the other's.
        let (a, b) = tokio::join!(alice.get(format!("{base}/topology")).send(), bob.get(format!("{base}/topology")).send());
        let (a, b) = (a.unwrap().text().await.unwrap(), b.unwrap().text().await.unwrap());
        assert!(!a.contains(&b_token) && !b.contains(&a_token), "a token leaked through the page cache");
    }
    c.server.stop().await;
}

/// JSON lists are paged like their pages: the topology's hosts and the DNS records come 100 a
/// page, so one viewer in a loop cannot make the console build the whole estate per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_topology_is_paged_like_the_page() {
    let c = start(|e| {
        let lb2 = e.hosts[0].clone();
        for n in 0..150 {
            e.hosts.push(crowsnest::config::HostConfig { name: format!("h{n}"), ..lb2.clone() });
        }
    })
    .await;
    let base = &c.base;
    let (viewer, _) = session(base, "bob").await;
    let hosts =
        |t: &serde_json::Value| t["regions"].as_array().unwrap().iter().map(|r| r["hosts"].as_array().unwrap().len()).sum::<usize>();
    let first: serde_json::Value = viewer.get(format!("{base}/api/v1/topology")).send().await.unwrap().json().await.unwrap();
    assert_eq!(hosts(&first), 100, "one page of hosts");
    assert_eq!((first["paging"]["pages"].as_u64(), first["paging"]["total"].as_u64()), (Some(2), Some(151)));
    let second: serde_json::Value = viewer.get(format!("{base}/api/v1/topology?page=2")).send().await.unwrap().json().await.unwrap();
    assert_eq!(hosts(&second), 51);
    let one: serde_json::Value = viewer.get(format!("{base}/api/v1/topology?name=h149")).send().await.unwrap().json().await.unwrap();
    assert_eq!(hosts(&one), 1);
    c.server.stop().await;
}
