//! The configuration's shape. Every key has a one-line doc comment; `deploy/demo.toml` shows
//! each in use. Defaults are applied by serde; cross references are checked in `validate`.

use serde::Deserialize;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// The whole estate plus this instance's place in it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Estate {
    /// This running instance: its name, region (vantage), listen address and data directory.
    pub instance: InstanceConfig,
    /// How often and how strictly hosts are probed.
    #[serde(default)]
    pub probes: ProbeConfig,
    /// Which certificates HTTPS checks trust, and when one that expires starts to worry.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Datacenters; exactly one is the primary.
    pub regions: Vec<RegionConfig>,
    /// Machines and balancers, each in a region and a tier, with a health check.
    #[serde(default)]
    pub hosts: Vec<HostConfig>,
    /// Public hostnames and the tier that must serve each.
    #[serde(default)]
    pub hostnames: Vec<HostnameConfig>,
    /// Sites whose maintenance page can be switched on.
    #[serde(default)]
    pub sites: Vec<SiteConfig>,
    /// The DNS zone the public hostnames live in, with its declared records.
    pub zone: Option<ZoneConfig>,
    /// DNS resolvers to ask, authoritative and recursive.
    #[serde(default)]
    pub resolvers: Vec<ResolverConfig>,
    /// PostgreSQL clusters to watch for replication.
    #[serde(default)]
    pub databases: Vec<DatabaseConfig>,
    /// Offline loaders whose backlog is watched.
    #[serde(default)]
    pub loaders: Vec<LoaderConfig>,
    /// People who may log in, with their role.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// How replication is watched: interval and lag thresholds.
    #[serde(default)]
    pub replication: ReplicationConfig,
    /// How loader backlogs are watched: scrape interval, rate window, stop detection.
    #[serde(default)]
    pub backlog: BacklogConfig,
    /// The loopback lab that stands the estate up for demos and tests.
    #[serde(default)]
    pub lab: LabConfig,
    /// Login, sessions, CSRF and the two-person rule.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Where this region's nginx reads each site's maintenance flag and page.
    #[serde(default)]
    pub edge: EdgeConfig,
    /// Every node of the control store (the primary and its standbys), to find the writable one
    /// and to notice a second writable one (split brain).
    #[serde(default)]
    pub control_nodes: Vec<ControlNodeConfig>,
    /// The other Crowsnest instances: each is a vantage whose observations this one shows.
    #[serde(default)]
    pub peers: Vec<PeerConfig>,
    /// Where alerts are sent and how each rule behaves.
    #[serde(default)]
    pub alerting: super::AlertingConfig,
    /// The public status page: its components and what feeds each.
    #[serde(default)]
    pub status_page: super::StatusPageConfig,
}

/// One node of the control store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlNodeConfig {
    /// Name shown in the banner, e.g. `db-sjc`.
    pub name: String,
    /// Its URL, `postgres://…`; the node equal to `instance.control_db` is this instance's own.
    pub url: String,
}

/// Another Crowsnest instance, asked for its observations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The peer's instance name, e.g. `sin-1`.
    pub name: String,
    /// The peer's region key (its vantage).
    pub region: String,
    /// Base URL of the peer's console, e.g. `http://10.1.0.5:3000`.
    pub url: String,
    /// The token this instance presents to that peer.
    pub token: String,
    /// SHA-256 (hex) of the token that peer presents here; only the hash is stored.
    pub accept_token_sha256: String,
}

/// Login, sessions and approvals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The URL people reach the console at; `https://…` makes the session cookie `Secure`, and
    /// its origin is trusted for same-origin checks behind a proxy.
    pub public_url: Option<String>,
    /// Seconds without a request after which a session ends.
    pub idle_timeout_seconds: u64,
    /// Seconds after login after which a session ends, however busy.
    pub absolute_timeout_seconds: u64,
    /// Role given to visitors who have not logged in (`viewer` for a wall display); off unless set.
    pub anonymous_role: Option<Role>,
    /// Serve `/metrics` without a session or token (off by default: it names the estate).
    pub public_metrics: bool,
    /// SHA-256 (hex) of a bearer token a scraper presents for `/metrics`
    /// (`Authorization: Bearer TOKEN`); only the hash is configured.
    pub metrics_token_sha256: Option<String>,
    /// Host names served besides the `public_url` host and `localhost` (IP literals always
    /// are); any other `Host` gets 421, so DNS rebinding cannot reach the console.
    pub allowed_hosts: Vec<String>,
    /// Addresses of reverse proxies whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Vec<IpAddr>,
    /// Failed logins per account from one client address within the window before further
    /// tries of that account from that address get 429 (other addresses are not locked out).
    pub max_failures_per_account: u32,
    /// Failed logins per client address within the window before further tries get 429.
    pub max_failures_per_address: u32,
    /// Failed logins of one account from every address within the window after which
    /// addresses that never logged into it back off (1 s, doubling per failure, at most 60 s).
    pub account_backoff_after: u32,
    /// Seconds over which failed logins are counted.
    pub failure_window_seconds: u64,
    /// Password checks running at once (each takes about 19 MiB and tens of milliseconds).
    pub concurrent_password_checks: usize,
    /// Seconds a two-person request waits for its approver before it expires.
    pub approval_ttl_seconds: u64,
    /// File holding the audit chain's key (at least 32 bytes; `CROWSNEST_AUDIT_KEY` wins). Needed
    /// with a PostgreSQL control store, the same secret on every instance; an embedded store
    /// makes one under `data_dir` (`audit.key`) when neither is given.
    pub audit_key_file: Option<PathBuf>,
    /// Seconds without any writable control node answering before a secondary allows
    /// break-glass; default three probe intervals.
    pub break_glass_after_seconds: Option<u64>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            public_url: None,
            idle_timeout_seconds: 3600,
            absolute_timeout_seconds: 12 * 3600,
            anonymous_role: None,
            public_metrics: false,
            metrics_token_sha256: None,
            allowed_hosts: Vec::new(),
            trusted_proxies: Vec::new(),
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            account_backoff_after: 20,
            failure_window_seconds: 300,
            concurrent_password_checks: 2,
            approval_ttl_seconds: 15 * 60,
            break_glass_after_seconds: None,
            audit_key_file: None,
        }
    }
}

/// The edge publisher: files this region's web balancer reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EdgeConfig {
    /// Directory nginx reads (`flags/SITE.maintenance`, `pages/SITE.html`); default `DATA_DIR/edge`.
    pub dir: Option<PathBuf>,
    /// Retry-After, in seconds, when a maintenance has no expected end.
    pub default_retry_after_seconds: u64,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig { dir: None, default_retry_after_seconds: 300 }
    }
}

/// This instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// Instance name shown in the banner, e.g. `sjc-1`.
    pub name: String,
    /// Region key this instance runs in and probes from.
    pub region: String,
    /// Address the console listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Directory for the local SQLite store (and the control store when embedded).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Control store URL (`postgres://…` or `sqlite://…`); default: SQLite under `data_dir`.
    pub control_db: Option<String>,
    /// Live event streams (open browser tabs) served at once; more get 503 until one closes.
    #[serde(default = "default_max_event_streams")]
    pub max_event_streams: usize,
    /// Seconds a client may leave sent data unread (its receive window shut) before the
    /// kernel closes its connection: a stalled tab's event stream is dropped, not kept.
    #[serde(default = "default_stalled_client_seconds")]
    pub stalled_client_seconds: u64,
    /// Connections open at once; further clients wait until one closes.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers before the connection is closed.
    #[serde(default = "default_header_read_timeout_seconds")]
    pub header_read_timeout_seconds: u64,
    /// Seconds a request may take until its response starts (408 after); event streams start
    /// at once and are not cut.
    #[serde(default = "default_request_timeout_seconds")]
    pub request_timeout_seconds: u64,
    /// Live event streams one session (or one anonymous address) may hold at once.
    #[serde(default = "default_max_streams_per_session")]
    pub max_streams_per_session: usize,
}

fn default_max_connections() -> usize {
    1024
}

fn default_header_read_timeout_seconds() -> u64 {
    10
}

fn default_request_timeout_seconds() -> u64 {
    30
}

fn default_max_streams_per_session() -> usize {
    8
}

fn default_max_event_streams() -> usize {
    1000
}

fn default_stalled_client_seconds() -> u64 {
    30
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 3000))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}

/// TLS as the checks see it: `https://` health checks verify the balancer's certificate for
/// the URL's name against these roots and judge its days left.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// Extra trusted roots (PEM), e.g. a private CA; added to the system's.
    pub ca_file: Option<PathBuf>,
    /// Trust the system's roots too (`/etc/ssl/certs`); false trusts only `ca_file`.
    pub system_roots: bool,
    /// A certificate with this many days left or fewer is `warn`.
    pub warn_days: u32,
    /// With this many days left or fewer it is `critical`.
    pub critical_days: u32,
}

impl Default for TlsConfig {
    fn default() -> Self {
        // Let's Encrypt renews at 30 days left; 14 is late, 3 is an outage in waiting.
        TlsConfig { ca_file: None, system_roots: true, warn_days: 14, critical_days: 3 }
    }
}

/// Probe timing and thresholds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeConfig {
    /// Seconds between probe rounds.
    pub interval_seconds: u64,
    /// Milliseconds before a single check counts as timed out; must be below the interval.
    pub timeout_ms: u64,
    /// Latency above which a passing check is `warn`, in milliseconds.
    pub latency_warn_ms: u64,
    /// Rounds without a fresh result after which a host is `unknown`.
    pub stale_after_intervals: u32,
    /// Hours of observations kept in the local store.
    pub retention_hours: u64,
    /// DNS queries in flight at once across all resolvers.
    pub dns_concurrency: usize,
    /// A host or record shows a new status once this many ...
    pub settle_rounds: usize,
    /// ... of the last this many rounds agree on it.
    pub settle_window: usize,
    /// This many changes of status ...
    pub flap_changes: usize,
    /// ... within the last this many rounds show a host or record as flapping.
    pub flap_window: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            interval_seconds: 5,
            timeout_ms: 2000,
            latency_warn_ms: 500,
            stale_after_intervals: 3,
            retention_hours: 24,
            dns_concurrency: 64,
            // Two of three rounds, flapping at four changes in eight (engines::damping's DEFAULT).
            settle_rounds: 2,
            settle_window: 3,
            flap_changes: 4,
            flap_window: 8,
        }
    }
}

/// One datacenter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// Short key used in references, e.g. `sjc`.
    pub name: String,
    /// Human name, e.g. `San Jose`.
    pub display: String,
    /// True for the one primary region (master database, writable control state).
    #[serde(default)]
    pub primary: bool,
}

/// What a host does; the DNS page labels answers with it and alarms on the wrong one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Tier {
    /// Load balancer in front of the website.
    WebLb,
    /// Load balancer in front of the API.
    ApiLb,
    /// Website application server.
    Web,
    /// API application server.
    Api,
    /// Database server.
    Db,
    /// Offline loader that writes into the master.
    Loader,
    /// DNS server.
    Dns,
    /// Administration host.
    Admin,
    /// Monitoring host.
    Monitoring,
}

impl Tier {
    /// The key as written in the config.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One machine or balancer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Short unique name, e.g. `lb1`.
    pub name: String,
    /// Region key the host is in.
    pub region: String,
    /// What the host does.
    pub tier: Tier,
    /// IP address the host answers on; DNS answers are matched against it.
    pub address: IpAddr,
    /// How this instance checks the host's health.
    pub check: CheckConfig,
}

/// A health check: exactly one of `http` or `tcp`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckConfig {
    /// URL to GET; any 2xx or 3xx passes unless `expect_status` is set.
    pub http: Option<String>,
    /// TCP port on the host's address to connect to.
    pub tcp: Option<u16>,
    /// The exact HTTP status that passes (HTTP checks only).
    pub expect_status: Option<u16>,
}

/// A public hostname.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostnameConfig {
    /// Fully qualified name, e.g. `www.example.test`.
    pub name: String,
    /// The tier that must serve it.
    pub tier: Tier,
    /// The maintenance site it belongs to.
    pub site: Option<String>,
    /// Where its A/AAAA records may fail over to: host names, addresses or `tier:<tier>`.
    #[serde(default)]
    pub failover: Vec<String>,
}

/// Who must agree to a break-glass change on a two-person site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakGlassRule {
    /// A second on-call agrees, as on the primary.
    #[default]
    Second,
    /// One on-call may act alone (still audited with their name).
    Single,
}

/// A site whose maintenance page can be switched on.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Site key, e.g. `web`; typed to confirm actions on it.
    pub name: String,
    /// True when switching maintenance needs a second approver.
    #[serde(default)]
    pub two_person: bool,
    /// Break-glass on a two-person site: `"second"` (default) needs a second on-call on the
    /// same instance; `"single"` lets one on-call act alone while the primary is lost.
    #[serde(default)]
    pub break_glass: BreakGlassRule,
    /// URL of the site through its balancer (e.g. `http://127.0.1.2/`), fetched with the site's
    /// first hostname as `Host`, to see whether users really get the maintenance page.
    pub check_url: Option<String>,
}

/// The DNS zone and its declared records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Zone apex, e.g. `example.test`.
    pub origin: String,
    /// SOA serial the authoritative servers are expected to publish.
    #[serde(default = "default_serial")]
    pub serial: u32,
    /// Declared records.
    #[serde(default)]
    pub records: Vec<RecordConfig>,
}

fn default_serial() -> u32 {
    1
}

/// One declared record set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordConfig {
    /// Owner name relative to the zone (`www`, `@` for the apex) or absolute with a final dot.
    pub name: String,
    /// Record type.
    #[serde(rename = "type")]
    pub kind: RecordKind,
    /// Declared TTL in seconds.
    #[serde(default = "default_ttl")]
    pub ttl: u32,
    /// The values, in the type's presentation format.
    pub values: Vec<String>,
    /// A/AAAA only: where it may fail over to: host names, addresses or `tier:<tier>`.
    #[serde(default)]
    pub failover: Vec<String>,
}

fn default_ttl() -> u32 {
    300
}

/// Record types Crowsnest compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "UPPERCASE")]
#[strum(serialize_all = "UPPERCASE")]
pub enum RecordKind {
    /// IPv4 address.
    A,
    /// IPv6 address.
    Aaaa,
    /// Alias to another name.
    Cname,
    /// Mail exchanger: `preference host`.
    Mx,
    /// Free text.
    Txt,
    /// Name server.
    Ns,
}

impl RecordKind {
    /// The type's mnemonic.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A DNS resolver to ask.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolverConfig {
    /// Unique name shown in columns, e.g. `auth-1`.
    pub name: String,
    /// `ip:port` to send queries to.
    pub address: SocketAddr,
    /// Whether it is an authoritative server of the zone or a recursive resolver.
    pub kind: ResolverKind,
}

/// Kind of resolver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolverKind {
    /// Serves the zone itself; answers must carry the AA flag.
    Authoritative,
    /// Resolves recursively and caches.
    Recursive,
}

/// A PostgreSQL cluster: one primary and its replicas.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Cluster name, e.g. `main`.
    pub name: String,
    /// The primary node.
    pub primary: DatabaseNode,
    /// The replicas.
    #[serde(default)]
    pub replicas: Vec<DatabaseNode>,
}

/// One PostgreSQL node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseNode {
    /// Host name (a `db` tier host) the node runs on.
    pub host: String,
    /// Connection URL for the monitoring role (`pg_monitor`; on the primary also INSERT and
    /// UPDATE on `crowsnest_heartbeat`), `postgres://…`.
    pub dsn: String,
    /// The replica's `application_name` in the primary's `pg_stat_replication`; default: `host`.
    pub application_name: Option<String>,
}

impl DatabaseNode {
    /// The name the primary lists this replica's sender under.
    pub fn sender_name(&self) -> &str {
        self.application_name.as_deref().unwrap_or(&self.host)
    }
}

/// Replication watching: how often, and when lag is a warning or critical.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationConfig {
    /// Seconds between rounds; the heartbeat row is written on each primary this often.
    pub interval_seconds: u64,
    /// Milliseconds one node may take to connect and answer; must be below the interval.
    pub timeout_ms: u64,
    /// Seconds behind (by heartbeat) that make a replica `warn`.
    pub lag_warn_seconds: f64,
    /// Seconds behind (by heartbeat) that make a replica `critical`.
    pub lag_critical_seconds: f64,
    /// Bytes of WAL behind that make a replica `warn`.
    pub lag_warn_bytes: i64,
    /// Bytes of WAL behind that make a replica `critical`.
    pub lag_critical_bytes: i64,
    /// Write the heartbeat row on each primary (turn off where the role may not write).
    pub heartbeat: bool,
    /// Lag points kept in memory per replica for the page's charts.
    pub history_points: usize,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            interval_seconds: 5,
            timeout_ms: 2000,
            lag_warn_seconds: 5.0,
            lag_critical_seconds: 30.0,
            lag_warn_bytes: 16 * 1024 * 1024,
            lag_critical_bytes: 256 * 1024 * 1024,
            heartbeat: true,
            history_points: 120,
        }
    }
}

/// Loader backlog watching.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BacklogConfig {
    /// Seconds between scrapes of each loader's metrics.
    pub interval_seconds: u64,
    /// Milliseconds a scrape may take; must be below the interval.
    pub timeout_ms: u64,
    /// Seconds of reports that enqueue and load rates are computed over.
    pub window_seconds: u64,
    /// Seconds without a good report after which a loader is `stopped`.
    pub stopped_after_seconds: u64,
    /// Depth points kept in memory per loader for the page's charts.
    pub history_points: usize,
}

impl Default for BacklogConfig {
    fn default() -> Self {
        BacklogConfig { interval_seconds: 5, timeout_ms: 2000, window_seconds: 60, stopped_after_seconds: 30, history_points: 120 }
    }
}

/// An offline loader.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoaderConfig {
    /// Loader name, e.g. `loader-sin`.
    pub name: String,
    /// Host name (a `loader` tier host) it runs on.
    pub host: String,
    /// URL of its Prometheus metrics, if it can be scraped.
    pub metrics_url: Option<String>,
    /// SHA-256 (hex) of the bearer token it pushes JSON reports with, if it pushes.
    pub push_token_sha256: Option<String>,
    /// Names of the four metrics, where the loader uses others.
    #[serde(default)]
    pub metric_names: MetricNames,
}

/// The metric names a loader exposes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricNames {
    /// Gauge: items queued.
    pub queue_depth: String,
    /// Gauge: age of the oldest queued item, seconds.
    pub oldest_item_age_seconds: String,
    /// Counter: items accepted.
    pub enqueued_total: String,
    /// Counter: items written into the master.
    pub loaded_total: String,
}

impl Default for MetricNames {
    fn default() -> Self {
        MetricNames {
            queue_depth: "loader_queue_depth".into(),
            oldest_item_age_seconds: "loader_oldest_item_age_seconds".into(),
            enqueued_total: "loader_enqueued_total".into(),
            loaded_total: "loader_loaded_total".into(),
        }
    }
}

pub use app::auth::Role;

/// A person who may log in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Login name.
    pub name: String,
    /// Role granted.
    pub role: Role,
    /// Argon2 password hash in PHC format (`$argon2id$…`); never a plain password.
    pub password_hash: String,
}

/// The lab: where its control API and DNS server listen.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabConfig {
    /// Address of the lab's control API (repoint records, take hosts down).
    pub control_listen: SocketAddr,
    /// Address (UDP and TCP) of the lab's authoritative DNS server.
    pub dns_listen: SocketAddr,
    /// Build a real PostgreSQL primary and standbys (initdb, pg_basebackup) for the first
    /// `[[databases]]` cluster, reached through each db host's address as a switchable proxy.
    pub postgres: bool,
    /// Items each lab loader accepts per second on its own, so the demo always has writes.
    pub loader_enqueue_per_second: u32,
    /// Items each lab loader writes into the primary per second at most, while it is up.
    pub loader_drain_per_second: u32,
    /// Address of a second authoritative server that copies the first's zone (a secondary).
    pub dns_secondary_listen: Option<SocketAddr>,
    /// Seconds between the secondary's zone transfers (the control API can pause them).
    pub dns_transfer_seconds: u64,
    /// Address of a caching recursive resolver (Debian's unbound) in front of both servers.
    pub dns_cache_listen: Option<SocketAddr>,
    /// The longest the lab's cache keeps an answer, so a demo moves in seconds, not an hour.
    pub dns_cache_max_ttl_seconds: u32,
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            control_listen: SocketAddr::from(([127, 0, 0, 1], 3100)),
            dns_listen: SocketAddr::from(([127, 0, 0, 1], 5354)),
            postgres: false,
            loader_enqueue_per_second: 5,
            loader_drain_per_second: 20,
            dns_secondary_listen: None,
            dns_transfer_seconds: 1,
            dns_cache_listen: None,
            dns_cache_max_ttl_seconds: 10,
        }
    }
}

impl Estate {
    /// Where the edge publisher writes: `edge.dir`, or `edge` under the data directory.
    pub fn edge_dir(&self) -> PathBuf {
        self.edge.dir.clone().unwrap_or_else(|| self.instance.data_dir.join("edge"))
    }

    /// The primary region; validation guarantees there is exactly one.
    pub fn primary_region(&self) -> &RegionConfig {
        self.regions.iter().find(|r| r.primary).unwrap_or(&self.regions[0])
    }

    /// The region this instance runs in; validation guarantees it exists.
    pub fn own_region(&self) -> &RegionConfig {
        self.regions.iter().find(|r| r.name == self.instance.region).unwrap_or(&self.regions[0])
    }

    /// The addresses a failover pool names, of one address family (`v4` for A records);
    /// an entry naming nothing is a config mistake, reported by validation.
    pub fn failover_addresses(&self, entries: &[String], v4: bool) -> std::collections::BTreeSet<String> {
        let family = |ip: &IpAddr| ip.is_ipv4() == v4;
        let mut out = std::collections::BTreeSet::new();
        for entry in entries {
            if let Ok(ip) = entry.parse::<IpAddr>() {
                out.extend(family(&ip).then(|| ip.to_string()));
            } else if let Some(tier) = entry.strip_prefix("tier:") {
                let hosts = self.hosts.iter().filter(|h| h.tier.as_str() == tier && family(&h.address));
                out.extend(hosts.map(|h| h.address.to_string()));
            } else if let Some(h) = self.host(entry).filter(|h| family(&h.address)) {
                out.insert(h.address.to_string());
            }
        }
        out
    }

    /// The host with this name.
    pub fn host(&self, name: &str) -> Option<&HostConfig> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The region key and human name of a host; empty for an unknown host (validation rules
    /// that out for every host a database or loader names).
    pub fn host_region(&self, host: &str) -> (String, String) {
        let region = self.host(host).and_then(|h| self.regions.iter().find(|r| r.name == h.region));
        region.map_or_else(Default::default, |r| (r.name.clone(), r.display.clone()))
    }
}
