//! The failover drill, against real processes on loopback: a PostgreSQL control primary and a
//! streaming standby, three Crowsnest processes (sjc-1 on the primary; sin-1 and ams-1 on the
//! standby, all peers of each other), one nginx per region with the shipped config, and the
//! lab's DNS (`crowsnest lab`) serving the zone every region resolves www in.
//!
//! Each run, with randomized timing: cut off the primary region (runs 1, 2 of every four:
//! SIGKILL its Crowsnest and crash its PostgreSQL; runs 3, 4: the region lives in a network
//! namespace and its link goes silent, everything in it still running, where namespaces can be
//! made); check that Singapore notices within one probe interval, serves every page,
//! refuses an ordinary write with 503 and says why, and lets on-call put `web` into maintenance
//! (which Singapore's nginx then serves); bring the primary back (odd runs) or promote the
//! standby (even runs, which then also bring the stale primary back writable: split brain);
//! check the journal is replayed exactly once and every audit chain verifies. Every region's
//! console sends direct notices to one webhook (the drill's pager): the cut's alerts (San Jose
//! unreachable, no writable control store) page exactly once, from a surviving region, and
//! after a restart each is resolved; resolved notices beyond one are counted in the report.
//!
//! `scripts/drill --runs N` runs it N times (default 20) and prints the report; plain
//! `cargo test` runs it `DRILL_RUNS` times (default 4: each kind of cut and recovery once).

use crowsnest::lab::free_port;
use crowsnest::lab::pgcluster::{Cluster, Node};
use crowsnest::store::ControlStore;
use reqwest::{Client, StatusCode};
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

use crate::common;
use common::{browser, csrf_in, login_as, start_nginx, Check, EstateBuilder, Role, Tier};
use crowsnest::config::{RecordKind, ResolverKind};

const BINARY: &str = env!("CARGO_BIN_EXE_crowsnest");
const INTERVAL_MS: u64 = 1000;
/// Noticing a cut-off primary may take one probe interval plus the look itself.
const DETECTION_LIMIT_MS: u64 = INTERVAL_MS + 1000;
const PAGES: &[&str] = &["/", "/topology", "/dns", "/replication", "/backlog", "/actions", "/audit"];
const PASSWORD: &str = "alice-oncall-pw";

/// A child process stopped (SIGKILL) when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

/// A network namespace for the primary region, joined to the host by a veth pair; taking the
/// host's end down isolates the region with everything in it still running.
struct Net {
    ns: String,
    host_if: String,
    ns_if: String,
    host_ip: String,
    ns_ip: String,
    network: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("ip").args(args).output().map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl Net {
    /// A namespace for run `run`, or why not (no `ip`, no privilege): the run then fails.
    fn new(run: usize) -> Result<Net, String> {
        let tag = format!("{:x}{run}", std::process::id() & 0xfff);
        let octet = 100 + std::process::id() % 100;
        let net = Net {
            ns: format!("cn-drill-{tag}"),
            host_if: format!("cnd{tag}h"),
            ns_if: format!("cnd{tag}n"),
            host_ip: format!("10.{octet}.{run}.1"),
            ns_ip: format!("10.{octet}.{run}.2"),
            network: format!("10.{octet}.{run}.0/24"),
        };
        let ns_if = net.ns_if.clone();
        ip(&["netns", "add", &net.ns])?;
        let steps: [&[&str]; 7] = [
            &["link", "add", &net.host_if, "type", "veth", "peer", "name", &ns_if],
            &["link", "set", &ns_if, "netns", &net.ns],
            &["addr", "add", &format!("{}/24", net.host_ip), "dev", &net.host_if],
            &["link", "set", &net.host_if, "up"],
            &["-n", &net.ns, "addr", "add", &format!("{}/24", net.ns_ip), "dev", &ns_if],
            &["-n", &net.ns, "link", "set", &ns_if, "up"],
            &["-n", &net.ns, "link", "set", "lo", "up"],
        ];
        for step in steps {
            ip(step)?;
        }
        Ok(net)
    }

    /// Cuts (false) or restores (true) the region's link, at the region's end: the host's end
    /// stays up, so its address still answers locally, while packets to the region go nowhere
    /// (a silent network, not a refused connection).
    fn link(&self, up: bool) {
        ip(&["-n", &self.ns, "link", "set", &self.ns_if, if up { "up" } else { "down" }]).expect("the veth link can be switched");
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Deleting the namespace deletes its end of the pair, and with it the host's end.
        let _ = ip(&["netns", "del", &self.ns]);
        let _ = ip(&["link", "del", &self.host_if]);
    }
}

/// One region of the drill's estate.
struct Region {
    key: &'static str,
    display: &'static str,
    instance: &'static str,
    host: &'static str,
    console: SocketAddr,
    nginx: SocketAddr,
    data: PathBuf,
    config: PathBuf,
    /// The network namespace its console runs in, if any.
    netns: Option<String>,
}

impl Region {
    fn base(&self) -> String {
        format!("http://{}", self.console)
    }
}

/// The drill's pager: a webhook receiver every region's console sends its direct notices to,
/// keeping each notice with its delivery key and when it arrived.
#[derive(Clone, Default)]
struct Pager(std::sync::Arc<std::sync::Mutex<Vec<(String, serde_json::Value, Instant)>>>);

/// The secret the drill's consoles sign their notices with.
const PAGER_SECRET: &str = "drill-pager-secret-0123456789";

impl Pager {
    /// Starts listening on `ip` (where every region, a namespace too, can reach it); its URL.
    async fn start(&self, ip: &str) -> String {
        use axum::{extract::State, http::HeaderMap, routing::post, Router};
        let app = Router::new()
            .route(
                "/notices",
                post(|State(pager): State<Pager>, headers: HeaderMap, body: String| async move {
                    let key = headers.get("x-crowsnest-delivery").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    let notice = serde_json::from_str(&body).unwrap_or_default();
                    pager.0.lock().unwrap().push((key, notice, Instant::now()));
                }),
            )
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind(format!("{ip}:0")).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/notices")
    }

    /// Each alert's notices, counting a delivery key once (a receiver drops a retried key):
    /// by alert (`name labels`), (firing, resolved, who sent, when it first fired).
    fn tally(&self) -> std::collections::BTreeMap<String, Tally> {
        let mut seen_keys = std::collections::HashSet::new();
        let mut out: std::collections::BTreeMap<String, Tally> = Default::default();
        for (key, notice, at) in self.0.lock().unwrap().iter() {
            if !seen_keys.insert(key.clone()) {
                continue;
            }
            for alert in notice["alerts"].as_array().into_iter().flatten() {
                let labels = alert["labels"]
                    .as_object()
                    .map(|l| l.iter().map(|(k, v)| format!(" {k}={}", v.as_str().unwrap_or(""))).collect::<String>());
                let name = format!("{}{}", alert["name"].as_str().unwrap_or("?"), labels.unwrap_or_default());
                let t = out.entry(name).or_default();
                match (alert["state"].as_str(), alert["repeat"].as_bool().unwrap_or(false)) {
                    (Some("firing"), false) => {
                        t.firing += 1;
                        t.first_fired.get_or_insert(*at);
                    }
                    (Some("resolved"), _) => {
                        t.resolved += 1;
                        t.resolved_by.push(notice["sent_from"].as_str().unwrap_or("?").split(' ').next().unwrap_or("?").to_string());
                    }
                    _ => {}
                }
                t.senders.insert(notice["sent_from"].as_str().unwrap_or("?").split(' ').next().unwrap_or("?").to_string());
            }
        }
        out
    }
}

/// What the pager heard of one alert.
#[derive(Debug, Default)]
struct Tally {
    firing: usize,
    resolved: usize,
    senders: std::collections::BTreeSet<String>,
    /// Who sent each resolved notice, in order (two names tell a hand-back's duplicate).
    resolved_by: Vec<String>,
    first_fired: Option<Instant>,
}

/// The alerts cutting off the primary region must page for, once, from a surviving region.
const CUT_ALERTS: &[&str] = &["PeerUnreachable peer=sjc-1 region=sjc", "ControlStoreUnwritable"];

fn token(from: &str, to: &str) -> String {
    format!("drill-peer-token-{from}-to-{to}")
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// A tiny seeded generator (xorshift64*): the timing is random, and the seed reproduces it.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// The zone every instance declares and the lab's DNS serves: www on San Jose's web balancer.
fn zone(b: EstateBuilder, www: &str) -> EstateBuilder {
    b.zone("example.test").set("zone", "serial", 1i64).record("www", RecordKind::A, 60, &[www])
}

/// The lab alone, serving the zone (no hosts, no PostgreSQL): the drill's DNS.
fn lab_config(dns: SocketAddr, control: SocketAddr, www: &str) -> String {
    let b = EstateBuilder::new("drill-lab", "sjc")
        .regions(&["sjc"])
        .set("lab", "control_listen", control.to_string())
        .set("lab", "dns_listen", dns.to_string())
        .set("lab", "postgres", false);
    zone(b, www).text()
}

fn config(me: &Region, all: &[Region], control_db: &str, nodes: &[(&str, String)], hash: &str, dns: SocketAddr, pager: &str) -> String {
    let key_file = me.data.join("audit.key");
    std::fs::create_dir_all(&me.data).unwrap();
    std::fs::write(&key_file, DRILL_KEY).unwrap();
    let mut b = common::estate(me.instance, me.key, &me.data)
        .listen(me.console)
        .control_db(control_db)
        .probes(INTERVAL_MS / 1000, 500)
        .set("edge", "dir", me.data.join("edge").display().to_string())
        .set("auth", "break_glass_after_seconds", (2 * INTERVAL_MS / 1000) as i64)
        .set("auth", "audit_key_file", key_file.display().to_string())
        .site("web", false)
        .and("check_url", format!("http://{}/", me.nginx))
        .hostname("www.example.test", Tier::WebLb, Some("web"))
        .user("alice", Role::Oncall, hash)
        // Every region may page: the primary while it holds the control store, else the first
        // surviving region by name. The cut's alerts fire after a second.
        .push_in("alerting", "webhooks", &[("name", "pager".into()), ("url", pager.into()), ("secret", PAGER_SECRET.into())])
        .set("alerting", "group_wait_seconds", 0i64)
        .set_in(&["alerting", "rules", "peer_unreachable"], "for_seconds", 1i64)
        .set_in(&["alerting", "rules", "control_store_unwritable"], "for_seconds", 1i64);
    for r in all {
        b = b.region(r.key, r.display, r.key == "sjc").host(r.host, r.key, Tier::WebLb, r.nginx.ip(), Check::Tcp(r.nginx.port()));
    }
    for (name, url) in nodes {
        b = b.control_node(name, url);
    }
    b = zone(b, &all[0].nginx.ip().to_string()).resolver("lab-auth", dns, ResolverKind::Authoritative);
    for peer in all.iter().filter(|r| r.instance != me.instance) {
        b = b.peer(peer.instance, peer.key, &peer.base(), &token(me.instance, peer.instance), &sha256(&token(peer.instance, me.instance)));
    }
    common::load(&b);
    b.text()
}

fn spawn_console(region: &Region, site: &Path) -> Process {
    let log = std::fs::File::create(region.data.join("console.log")).unwrap();
    let mut command = match &region.netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, BINARY]);
            c
        }
        None => Command::new(BINARY),
    };
    let child = command
        .args(["--config", &region.config.display().to_string(), "serve", "--site-root", &site.display().to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the crowsnest binary starts");
    Process(child)
}

/// Polls `f` every 20 ms until it returns Some, or gives None after `limit`.
/// Polls `f` every 20 ms (the drill measures in milliseconds) until Some, or None after `limit`.
async fn within<T, F, Fut>(limit: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    common::poll(limit, Duration::from_millis(20), || {
        let next = f();
        async move { next.await.ok_or(()) }
    })
    .await
    .ok()
}

async fn json(http: &Client, url: String) -> Option<serde_json::Value> {
    http.get(url).send().await.ok()?.json().await.ok()
}

async fn healthy(http: &Client, region: &Region) -> bool {
    within(Duration::from_secs(30), || async {
        let r = http.get(format!("{}/healthz", region.base())).send().await.ok()?;
        (r.status() == StatusCode::OK).then_some(())
    })
    .await
    .is_some()
}

fn maintenance_form(token: &str, key: &str, kind: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", token.to_string()),
        ("kind", kind.to_string()),
        ("site", "web".to_string()),
        ("reason", "failover drill".to_string()),
        ("confirmation", "web".to_string()),
        ("message", "Back soon.".to_string()),
        ("idempotency_key", key.to_string()),
    ]
}

async fn token_at(http: &Client, base: &str) -> String {
    let page = http.get(format!("{base}/actions")).send().await.unwrap().text().await.unwrap();
    csrf_in(&page).expect("the Actions page carries a form token")
}

/// How the primary comes back in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Recovery {
    /// The primary region returns with its old state.
    Restart,
    /// Singapore's standby is promoted; the stale primary later returns writable.
    Promote,
}

/// What one run measured.
#[derive(Debug, Default)]
struct RunReport {
    run: usize,
    recovery: Option<Recovery>,
    /// `kill` or `isolate` (network namespace), and why not isolated when it could not be.
    cut: String,
    detection_ms: Option<u64>,
    peer_detection_ms: Option<u64>,
    pages_ok: usize,
    refused_writes: usize,
    break_glass_ms: Option<u64>,
    replay_ms: Option<u64>,
    replays: i64,
    lost_audit: usize,
    duplicated_audit: usize,
    chains_verified: usize,
    split_brain_ms: Option<u64>,
    /// From the cut to the first page for it reaching the pager.
    page_ms: Option<u64>,
    /// Who paged for the cut (instances).
    paged_from: String,
    /// The cut's alerts never paged for, or (after a restart) never resolved.
    pages_lost: usize,
    /// Pages for the cut's alerts beyond the first.
    pages_duplicated: usize,
    /// Resolved notices for the cut's alerts beyond the first.
    resolves_duplicated: usize,
    failures: Vec<String>,
}

impl RunReport {
    fn fail(&mut self, what: impl Into<String>) {
        self.failures.push(what.into());
    }
}

fn ms(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

/// The audit key every region shares (a PostgreSQL control store is shared by all of them).
const DRILL_KEY: &str = "drill-audit-key-shared-by-every-region-0123456789";

fn drill_key() -> crowsnest::audit::AuditKey {
    crowsnest::audit::AuditKey::new(DRILL_KEY.as_bytes(), "drill").unwrap()
}

/// The audit entries of `store`, verified; None (with why) when the chain does not verify.
async fn verified_chain(store: &ControlStore) -> Result<Vec<crowsnest::audit::AuditEntry>, String> {
    let chain = store.audit_chain().await.map_err(|e| e.to_string())?;
    crowsnest::audit::verify(&drill_key(), &chain, &[]).map_err(|e| e.to_string())?;
    Ok(chain)
}

async fn one_run(run: usize, recovery: Recovery, isolate: bool, rng: &mut Rng, root: &Path, site: &Path, hash: &str) -> RunReport {
    let mut report = RunReport { run, recovery: Some(recovery), cut: "kill".into(), ..Default::default() };
    let dir = root.join(format!("run-{run}"));
    Cluster::clear(&dir);
    // Where namespaces work, the primary region lives in one, and the cut is its link going down.
    let net = if isolate {
        match Net::new(run) {
            Ok(net) => Some(net),
            Err(why) => {
                // An isolate run that cannot isolate has not tested a network cut: it fails,
                // rather than quietly becoming another kill run.
                report.cut = "isolate".into();
                report.fail(format!("cannot make the primary region's network namespace: {why}"));
                return report;
            }
        }
    } else {
        None
    };
    let mut cluster = {
        let pg = dir.join("pg");
        tokio::task::spawn_blocking(move || Cluster::build(&pg, &["db-sin"], "", None))
            .await
            .unwrap()
            .expect("initdb, pg_basebackup and two PostgreSQL servers start")
    };
    if let Some(net) = &net {
        report.cut = "isolate".into();
        let (ns, address, network, host_ip) = (net.ns.clone(), net.ns_ip.clone(), net.network.clone(), net.host_ip.clone());
        cluster = tokio::task::spawn_blocking(move || {
            cluster.primary.move_into_namespace(&ns, &address, &network).expect("the primary restarts in the namespace");
            let port = cluster.primary.port;
            let standby = &mut cluster.standbys[0];
            standby.set_upstream(&address, port).expect("the standby follows the primary's new address");
            // Reachable from the namespace too (at the host's end of the link): once the link is
            // back, the stale primary's console sees the promoted node, as after a healed partition.
            standby.listen_also(&host_ip, &network).expect("the standby listens on the link");
            standby.stop().and_then(|_| standby.start()).expect("the standby restarts");
            cluster
        })
        .await
        .unwrap();
    }
    let (primary, standby): (Node, Node) = (cluster.primary.clone(), cluster.standbys[0].clone());
    let nodes = [("db-sjc", primary.dsn()), ("db-sin", standby.dsn())];
    let regions: Vec<Region> =
        [("sjc", "San Jose", "sjc-1", "lb2", 1), ("sin", "Singapore", "sin-1", "lb3", 2), ("ams", "Amsterdam", "ams-1", "lb4", 3)]
            .into_iter()
            .map(|(key, display, instance, host, n)| {
                let ip = format!("127.0.3.{n}");
                let port = |ip: &str| std::net::TcpListener::bind(format!("{ip}:0")).unwrap().local_addr().unwrap();
                let data = dir.join(instance);
                std::fs::create_dir_all(data.join("edge")).unwrap();
                // With a namespace, the consoles listen where the other side can reach them: San
                // Jose's inside it (an empty namespace has every port free), the others on the
                // host's end of the link.
                let (console, netns) = match &net {
                    Some(net) if key == "sjc" => (format!("{}:{}", net.ns_ip, free_port()).parse().unwrap(), Some(net.ns.clone())),
                    Some(net) => (port(&net.host_ip), None),
                    None => (port(&ip), None),
                };
                Region { key, display, instance, host, console, nginx: port(&ip), config: data.join("crowsnest.toml"), data, netns }
            })
            .collect();
    // The lab's DNS, where every region (San Jose's namespace too) can ask it.
    let dns_ip = net.as_ref().map(|n| n.host_ip.clone()).unwrap_or_else(|| "127.0.3.9".into());
    let free_udp = |ip: &str| std::net::UdpSocket::bind(format!("{ip}:0")).unwrap().local_addr().unwrap();
    let dns = free_udp(&dns_ip);
    let lab_control = std::net::TcpListener::bind(format!("{dns_ip}:0")).unwrap().local_addr().unwrap();
    let lab_toml = dir.join("lab.toml");
    std::fs::write(&lab_toml, lab_config(dns, lab_control, &regions[0].nginx.ip().to_string())).unwrap();
    let _lab = {
        let log = std::fs::File::create(dir.join("lab.log")).unwrap();
        Process(
            Command::new(BINARY)
                .args(["--config", &lab_toml.display().to_string(), "lab"])
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .expect("the lab's DNS starts"),
        )
    };
    let pager = Pager::default();
    let pager_url = pager.start(&dns_ip).await;
    for r in &regions {
        let control = if r.key == "sjc" { primary.dsn() } else { standby.dsn() };
        std::fs::write(&r.config, config(r, &regions, &control, &nodes, hash, dns, &pager_url)).unwrap();
    }
    // Nothing listens upstream: a site out of maintenance answers 502, in maintenance 503.
    let upstream: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let _nginx: Vec<common::Nginx> =
        regions.iter().map(|r| start_nginx(r.nginx, upstream, &r.data.join("edge"), &r.data.join("nginx"))).collect();
    let (sjc, sin) = (&regions[0], &regions[1]);
    let mut sjc_process = Some(spawn_console(sjc, site));
    let plain = common::client();
    assert!(healthy(&plain, sjc).await, "sjc-1 starts (see {})", sjc.data.join("console.log").display());
    let replica = ControlStore::connect(&standby.dsn()).await.unwrap();
    within(Duration::from_secs(30), || async { replica.user("alice").await.ok().flatten() }).await.expect("the users reach the standby");
    let _others: Vec<Process> = regions[1..].iter().map(|r| spawn_console(r, site)).collect();
    for r in &regions[1..] {
        assert!(healthy(&plain, r).await, "{} starts (see {})", r.instance, r.data.join("console.log").display());
    }

    // Before the night: ordinary changes on the primary, so the chain has a past to lose.
    let at_sjc = browser();
    assert_eq!(login_as(&sjc.base(), &at_sjc, "alice", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    for (i, kind) in ["maintenance_on", "maintenance_off"].into_iter().enumerate() {
        let t = token_at(&at_sjc, &sjc.base()).await;
        let r = at_sjc
            .post(format!("{}/actions", sjc.base()))
            .form(&maintenance_form(&t, &format!("before-{run}-{i}"), kind))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "an ordinary change on the primary");
    }
    let alice = browser();
    assert_eq!(login_as(&sin.base(), &alice, "alice", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let primary_store = ControlStore::connect(&primary.dsn()).await.unwrap();
    let before = verified_chain(&primary_store).await.expect("the primary's chain verifies before the cut");
    within(Duration::from_secs(20), || async { (replica.audit_chain().await.ok()?.len() == before.len()).then_some(()) })
        .await
        .expect("the standby has the whole chain before the cut");
    primary_store.close().await;

    // Every region sees www land on San Jose's web balancer, side by side on Singapore's page.
    let agreed = within(Duration::from_secs(15), || async {
        let t = json(&alice, format!("{}/api/v1/topology", sin.base())).await?;
        let row = t["vantages"]["hostnames"].as_array()?.iter().find(|r| r["name"] == "www.example.test")?.clone();
        let cells = row["cells"].as_array()?;
        (cells.len() == 3
            && cells.iter().all(|c| c["status"] == "ok" && c["text"].as_str().is_some_and(|t| t.contains("lb2 · web_lb · San Jose"))))
        .then_some(())
    })
    .await;
    if agreed.is_none() {
        report.fail("Singapore's page never showed www landing on lb2 from all three regions");
    }

    // While San Jose answers, break-glass in Singapore is refused: one on-call next to a
    // healthy primary cannot go around it.
    let t = token_at(&alice, &sin.base()).await;
    let early = format!("early-{run}-{}", rng.below(1 << 40));
    let r = alice
        .post(format!("{}/actions/break-glass", sin.base()))
        .form(&maintenance_form(&t, &early, "maintenance_on"))
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::CONFLICT {
        report.fail(format!("break-glass next to a healthy primary answered {}, not 409", r.status()));
    }

    // The cut, at a random point of the probe interval.
    tokio::time::sleep(Duration::from_millis(rng.below(INTERVAL_MS))).await;
    match &net {
        // Everything in San Jose keeps running, unreachable.
        Some(net) => net.link(false),
        None => {
            drop(sjc_process.take());
            tokio::task::spawn_blocking({
                let primary = primary.clone();
                move || primary.kill()
            })
            .await
            .unwrap()
            .expect("the primary PostgreSQL stops as in a crash");
        }
    }
    let cut = Instant::now();

    // Singapore notices: its banner says the primary does not answer; its peers table says so.
    let lost = within(Duration::from_secs(10), || async {
        let i = json(&alice, format!("{}/api/v1/instance", sin.base())).await?;
        i["primary_lost_since_ms"].as_i64().map(|_| ())
    })
    .await;
    report.detection_ms = lost.map(|_| ms(cut));
    let peer_lost = within(Duration::from_secs(10), || async {
        let t = json(&alice, format!("{}/api/v1/topology", sin.base())).await?;
        let peers = t["vantages"]["peers"].as_array()?.clone();
        peers.iter().any(|p| p["name"] == "sjc-1" && p["reachable"] == false).then_some(())
    })
    .await;
    report.peer_detection_ms = peer_lost.map(|_| ms(cut));
    let column = async {
        let t = json(&alice, format!("{}/api/v1/topology", sin.base())).await?;
        let at = t["vantages"]["columns"].as_array()?.iter().position(|c| c.as_str().is_some_and(|c| c.ends_with("(sjc-1)")))?;
        let row = t["vantages"]["hostnames"].as_array()?.iter().find(|r| r["name"] == "www.example.test")?.clone();
        Some(row["cells"][at]["text"].as_str()? == "unreachable")
    };
    if column.await != Some(true) {
        report.fail("Singapore's page still shows San Jose's view of www after the cut");
    }
    match report.detection_ms {
        Some(d) if d <= DETECTION_LIMIT_MS => {}
        other => report.fail(format!("the secondary noticed the primary's loss after {other:?} ms, limit {DETECTION_LIMIT_MS} ms")),
    }

    // Every page is served from Singapore.
    for page in PAGES {
        match alice.get(format!("{}{page}", sin.base())).send().await {
            Ok(r) if r.status() == StatusCode::OK => report.pages_ok += 1,
            Ok(r) => report.fail(format!("{page} answered {}", r.status())),
            Err(e) => report.fail(format!("{page}: {e}")),
        }
    }
    let banner = alice.get(format!("{}/", sin.base())).send().await.unwrap().text().await.unwrap_or_default();
    if !banner.contains("The primary has not answered for") {
        report.fail("the banner does not say how long the primary has been unreachable");
    }

    // An ordinary write is refused, as a form and as JSON.
    let t = token_at(&alice, &sin.base()).await;
    let form = alice
        .post(format!("{}/actions", sin.base()))
        .form(&maintenance_form(&t, &format!("refused-{run}"), "maintenance_on"))
        .send()
        .await
        .unwrap();
    if form.status() == StatusCode::SERVICE_UNAVAILABLE && form.text().await.unwrap_or_default().contains("read-only secondary") {
        report.refused_writes += 1;
    } else {
        report.fail("an ordinary form write was not refused with 503 and the reason");
    }
    let body = serde_json::json!({"kind": "maintenance_on", "site": "web", "reason": "drill", "confirmation": "web", "message": "m", "idempotency_key": format!("refused-json-{run}")});
    let api = alice.post(format!("{}/api/v1/actions", sin.base())).header("x-csrf-token", &t).json(&body).send().await.unwrap();
    let code = api.status();
    let err: serde_json::Value = api.json().await.unwrap_or_default();
    if code == StatusCode::SERVICE_UNAVAILABLE && err["error"]["code"] == "read_only" {
        report.refused_writes += 1;
    } else {
        report.fail(format!("an ordinary API write answered {code}, not 503 read_only"));
    }

    // Break-glass: on-call puts `web` into maintenance from Singapore; Singapore's nginx serves it.
    // It opens once no primary has answered for break_glass_after_seconds (409 until then).
    let key = format!("drill-{run}-{}", rng.below(1 << 40));
    let opened = within(Duration::from_secs(15), || async {
        let r = alice
            .post(format!("{}/actions/break-glass", sin.base()))
            .form(&maintenance_form(&t, &key, "maintenance_on"))
            .send()
            .await
            .ok()?;
        (r.status() != StatusCode::CONFLICT).then_some(r.status())
    })
    .await;
    let glass = Instant::now();
    if opened != Some(StatusCode::SEE_OTHER) {
        report.fail(format!("break-glass answered {opened:?} after the primary was lost"));
    }
    let served = within(Duration::from_secs(5), || async {
        let r = plain.get(format!("http://{}/", sin.nginx)).header("host", "www.example.test").send().await.ok()?;
        (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    report.break_glass_ms = served.map(|_| ms(glass));
    if served.is_none() {
        report.fail("Singapore's nginx never served the maintenance page");
    }

    // The outage lasts until the pager heard the cut's alerts (an interval, the rules' `for`
    // and a delivery), at most 10 s: a page missing by then is counted lost below. Without
    // this wait a quick return could end an outage before its slowest alert was due.
    within(Duration::from_secs(10), || async {
        let t = pager.tally();
        CUT_ALERTS.iter().all(|a| t.get(*a).is_some_and(|t| t.firing > 0)).then_some(())
    })
    .await;
    // The way back, after a random wait.
    tokio::time::sleep(Duration::from_millis(rng.below(2 * INTERVAL_MS))).await;
    let back = Instant::now();
    let writable = match (recovery, &net) {
        (Recovery::Restart, Some(net)) => {
            // The region returns as it was: its PostgreSQL and console never stopped.
            net.link(true);
            primary.dsn()
        }
        (Recovery::Restart, None) => {
            let p = primary.clone();
            tokio::task::spawn_blocking(move || p.start()).await.unwrap().expect("the primary restarts");
            sjc_process = Some(spawn_console(sjc, site));
            primary.dsn()
        }
        (Recovery::Promote, _) => {
            let s = standby.clone();
            tokio::task::spawn_blocking(move || s.promote()).await.unwrap().expect("the standby is promoted");
            standby.dsn()
        }
    };
    // Right after a link comes back its neighbour entry may still be failed ("no route to host"
    // for a moment): ask again until the node answers.
    let store = within(Duration::from_secs(10), || async { ControlStore::connect(&writable).await.ok() })
        .await
        .expect("the writable control node answers within 10 s of the way back");
    let count = |store: &ControlStore, key: String| {
        let store = store.clone();
        async move { store.replayed_count(&key).await.ok() }
    };
    let replayed = within(Duration::from_secs(30), || async { count(&store, key.clone()).await.filter(|n| *n > 0) }).await;
    report.replay_ms = replayed.map(|_| ms(back));
    // A few intervals more: a second replay (from a retry, or another instance) would show.
    tokio::time::sleep(Duration::from_millis(3 * INTERVAL_MS)).await;
    report.replays = count(&store, key.clone()).await.unwrap_or(0);
    if report.replays != 1 {
        report.fail(format!("the break-glass change was replayed {} times", report.replays));
    }
    // Every region's edge follows the control state once the change is replayed: Amsterdam,
    // which never took the change itself, serves the maintenance page too.
    let ams = &regions[2];
    let converged = within(Duration::from_secs(3 * INTERVAL_MS / 1000 + 5), || async {
        let r = plain.get(format!("http://{}/", ams.nginx)).header("host", "www.example.test").send().await.ok()?;
        (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
    })
    .await;
    if converged.is_none() {
        report.fail("Amsterdam's nginx did not follow the replayed change");
    }

    // No audit entry lost or duplicated, and every chain verifies.
    match verified_chain(&store).await {
        Ok(after) => {
            report.chains_verified += 1;
            report.lost_audit = before.iter().filter(|b| !after.iter().any(|a| a.hash == b.hash)).count();
            let glass_entries = after
                .iter()
                .filter(|a| {
                    a.entry.detail.contains(&format!("break-glass on {}", sin.instance)) && a.entry.action.starts_with("maintenance_on")
                })
                .count();
            report.lost_audit += usize::from(glass_entries == 0);
            let mut seen = std::collections::HashSet::new();
            report.duplicated_audit = after
                .iter()
                .filter(|a| {
                    !seen.insert((
                        a.entry.at_ms,
                        a.entry.actor.clone(),
                        a.entry.action.clone(),
                        a.entry.target.clone(),
                        a.entry.reason.clone(),
                    ))
                })
                .count();
        }
        Err(e) => report.fail(format!("the writable node's chain does not verify: {e}")),
    }
    if recovery == Recovery::Restart {
        // The standby follows the returned primary; its copy of the chain must verify too.
        let len = store.audit_chain().await.map(|c| c.len()).unwrap_or(0);
        let caught_up = within(Duration::from_secs(20), || async { (replica.audit_chain().await.ok()?.len() == len).then_some(()) }).await;
        match (caught_up, verified_chain(&replica).await) {
            (Some(()), Ok(_)) => report.chains_verified += 1,
            (None, _) => report.fail("the standby did not catch up with the returned primary"),
            (_, Err(e)) => report.fail(format!("the standby's chain does not verify: {e}")),
        }
    }
    if recovery == Recovery::Promote {
        // The stale primary comes back writable: Singapore, now primary, must refuse writes.
        match &net {
            Some(net) => net.link(true),
            None => {
                let p = primary.clone();
                tokio::task::spawn_blocking(move || p.start()).await.unwrap().expect("the stale primary restarts");
            }
        }
        let returned = Instant::now();
        let split = within(Duration::from_secs(10), || async {
            let i = json(&alice, format!("{}/api/v1/instance", sin.base())).await?;
            (i["read_only"] == true && i["mode_reason"].as_str()?.starts_with("split brain")).then_some(())
        })
        .await;
        report.split_brain_ms = split.map(|_| ms(returned));
        if split.is_none() {
            report.fail("split brain (two writable control nodes) was not noticed");
        }
        // In split brain nobody writes: not the promoted side, and not the stale primary
        // (its console still runs when the region was isolated rather than killed).
        let mut consoles = vec![(sin.base(), &alice)];
        if net.is_some() {
            consoles.push((sjc.base(), &at_sjc));
        }
        for (base, http) in consoles {
            let refused = within(Duration::from_secs(10), || async {
                let t = token_at(http, &base).await;
                let body = serde_json::json!({"kind": "maintenance_off", "site": "web", "reason": "split brain write", "confirmation": "web", "idempotency_key": format!("split-{run}-{base}")});
                let r = http.post(format!("{base}/api/v1/actions")).header("x-csrf-token", &t).json(&body).send().await.ok()?;
                (r.status() == StatusCode::SERVICE_UNAVAILABLE).then_some(())
            })
            .await;
            if refused.is_none() {
                report.fail(format!("a write at {base} was not refused in split brain"));
            }
        }
    }
    // Every node is back by now (the stale primary too, after a promotion): each control node's
    // chain verifies, and each instance's own check (the chain against the head it kept
    // locally, and its local break-glass chain) passes.
    if recovery == Recovery::Promote {
        match ControlStore::connect(&primary.dsn()).await {
            Ok(old) => {
                match verified_chain(&old).await {
                    Ok(_) => report.chains_verified += 1,
                    Err(e) => report.fail(format!("the stale primary's chain does not verify: {e}")),
                }
                old.close().await;
            }
            Err(e) => report.fail(format!("the stale primary cannot be reached to verify: {e}")),
        }
    }
    for r in &regions {
        let out = Command::new(BINARY).args(["--config", &r.config.display().to_string(), "audit", "verify"]).output().await.unwrap();
        if out.status.success() {
            report.chains_verified += 1;
        } else {
            report.fail(format!("`crowsnest audit verify` on {}: {}", r.instance, String::from_utf8_lossy(&out.stderr).trim()));
        }
    }
    // The pager heard each of the cut's alerts once, from a surviving region; after a restart
    // it hears each resolved once (the returned primary, or the region still sending, says so).
    if recovery == Recovery::Restart {
        within(Duration::from_secs(20), || async {
            let t = pager.tally();
            CUT_ALERTS.iter().all(|a| t.get(*a).is_some_and(|t| t.resolved > 0)).then_some(())
        })
        .await;
    }
    // A few intervals more: a late duplicate would show.
    tokio::time::sleep(Duration::from_millis(3 * INTERVAL_MS)).await;
    let tally = pager.tally();
    let mut senders = std::collections::BTreeSet::new();
    for alert in CUT_ALERTS {
        let t = tally.get(*alert);
        let (firing, resolved) = t.map_or((0, 0), |t| (t.firing, t.resolved));
        report.pages_lost += usize::from(firing == 0) + usize::from(recovery == Recovery::Restart && resolved == 0);
        report.pages_duplicated += firing.saturating_sub(1);
        report.resolves_duplicated += resolved.saturating_sub(1);
        if let Some(t) = t {
            senders.extend(t.senders.iter().cloned());
            if let Some(at) = t.first_fired {
                let after = at.saturating_duration_since(cut).as_millis() as u64;
                report.page_ms = Some(report.page_ms.map_or(after, |p| p.min(after)));
            }
        }
    }
    report.paged_from = senders.into_iter().collect::<Vec<_>>().join("+");
    if report.pages_lost > 0 || report.pages_duplicated > 0 || report.resolves_duplicated > 0 {
        let heard: Vec<String> = tally
            .iter()
            .map(|(a, t)| format!("{a}: {}f/{}r from {:?}, resolved by {:?}", t.firing, t.resolved, t.senders, t.resolved_by))
            .collect();
        report.fail(format!(
            "the pager heard {} lost, {} paged twice, {} resolved twice: {}",
            report.pages_lost,
            report.pages_duplicated,
            report.resolves_duplicated,
            heard.join("; ")
        ));
    }
    store.close().await;
    replica.close().await;
    drop(sjc_process);
    drop(cluster);
    drop(net);
    let _ = std::fs::remove_dir_all(&dir);
    report
}

fn stats(values: &[u64]) -> String {
    if values.is_empty() {
        return "—".into();
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    format!("median {} ms, max {} ms", v[v.len() / 2], v[v.len() - 1])
}

fn render(reports: &[RunReport], seed: u64) -> String {
    let mut out = format!("Failover drill: {} runs, seed {seed}, probe interval {INTERVAL_MS} ms\n\n", reports.len());
    out.push_str(
        "run cut     recovery  detect  peers  pages refused glass  replay replays lost dup chains split  paged  from        result\n",
    );
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_else(|| "—".into());
    for r in reports {
        let _ = writeln!(
            out,
            "{:>3} {:<7} {:<9} {:>6} {:>6} {:>5} {:>7} {:>6} {:>6} {:>7} {:>4} {:>3} {:>6} {:>6} {:>6}  {:<11} {}",
            r.run,
            r.cut.split_whitespace().next().unwrap_or("kill"),
            format!("{:?}", r.recovery.unwrap_or(Recovery::Restart)).to_lowercase(),
            opt(r.detection_ms),
            opt(r.peer_detection_ms),
            format!("{}/{}", r.pages_ok, PAGES.len()),
            r.refused_writes,
            opt(r.break_glass_ms),
            opt(r.replay_ms),
            r.replays,
            r.lost_audit,
            r.duplicated_audit,
            r.chains_verified,
            opt(r.split_brain_ms),
            opt(r.page_ms),
            r.paged_from,
            if r.failures.is_empty() { "ok".to_string() } else { format!("FAILED: {}", r.failures.join("; ")) }
        );
    }
    let all = |f: fn(&RunReport) -> Option<u64>| reports.iter().filter_map(f).collect::<Vec<_>>();
    let _ = writeln!(out, "\nTotals");
    let _ = writeln!(out, "  detection (banner): {}", stats(&all(|r| r.detection_ms)));
    let _ = writeln!(out, "  detection (peers):  {}", stats(&all(|r| r.peer_detection_ms)));
    let _ = writeln!(out, "  refused writes:     {} of {}", reports.iter().map(|r| r.refused_writes).sum::<usize>(), 2 * reports.len());
    let _ = writeln!(out, "  break-glass → nginx: {}", stats(&all(|r| r.break_glass_ms)));
    let _ = writeln!(out, "  replay after return: {}", stats(&all(|r| r.replay_ms)));
    let _ =
        writeln!(out, "  replays:            {} for {} break-glass changes", reports.iter().map(|r| r.replays).sum::<i64>(), reports.len());
    let _ = writeln!(out, "  split brain noticed: {}", stats(&all(|r| r.split_brain_ms)));
    let _ = writeln!(out, "  lost audit entries: {}", reports.iter().map(|r| r.lost_audit).sum::<usize>());
    let _ = writeln!(out, "  duplicated audit entries: {}", reports.iter().map(|r| r.duplicated_audit).sum::<usize>());
    let _ = writeln!(out, "  cut → page:         {}", stats(&all(|r| r.page_ms)));
    let _ = writeln!(
        out,
        "  pages lost: {}, paged twice: {}, resolved notices beyond one: {} (the cut's {} alerts, per run)",
        reports.iter().map(|r| r.pages_lost).sum::<usize>(),
        reports.iter().map(|r| r.pages_duplicated).sum::<usize>(),
        reports.iter().map(|r| r.resolves_duplicated).sum::<usize>(),
        CUT_ALERTS.len()
    );
    let _ = writeln!(out, "  failed runs:        {}", reports.iter().filter(|r| !r.failures.is_empty()).count());
    for r in reports.iter().filter(|r| r.cut.starts_with("kill (")) {
        let _ = writeln!(out, "  run {}: {}", r.run, r.cut);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failover_drill() {
    assert!(Path::new("/usr/sbin/nginx").exists(), "the drill needs nginx: scripts/setup.sh installs Debian's nginx");
    let runs: usize = std::env::var("DRILL_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let seed: u64 = std::env::var("DRILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    let mut rng = Rng(seed);
    let root = tempfile::tempdir().unwrap();
    let site = root.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let hash = crowsnest::auth::password::hash(PASSWORD).unwrap();
    let mut reports = Vec::new();
    for run in 1..=runs {
        // Runs 1, 2: kill then restart / promote; runs 3, 4: isolate then reconnect / promote; …
        let recovery = if run % 2 == 1 { Recovery::Restart } else { Recovery::Promote };
        let isolate = (run - 1) % 4 >= 2;
        let report = one_run(run, recovery, isolate, &mut rng, root.path(), &site, &hash).await;
        eprintln!("drill run {run}: {}", if report.failures.is_empty() { "ok".to_string() } else { report.failures.join("; ") });
        reports.push(report);
    }
    let text = render(&reports, seed);
    println!("{text}");
    if let Ok(path) = std::env::var("DRILL_REPORT") {
        std::fs::write(&path, &text).expect("the report file can be written");
    }
    let failed: Vec<String> =
        reports.iter().filter(|r| !r.failures.is_empty()).map(|r| format!("run {}: {}", r.run, r.failures.join("; "))).collect();
    assert!(failed.is_empty(), "the drill failed:\n{}\n\n{text}", failed.join("\n"));
    assert_eq!(reports.iter().map(|r| r.lost_audit + r.duplicated_audit).sum::<usize>(), 0, "{text}");
}
