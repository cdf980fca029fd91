//! A typed way to write an estate's config: the integration tests, `crowsnest example-config`
//! and the lab scripts start here rather than from hand-written TOML. It writes TOML (so what it
//! builds is exactly what an operator could write) and [`EstateBuilder::build`] loads it the way
//! a config file is loaded, validation included.

use super::{parse, ConfigError, Estate, RecordKind, ResolverKind, Role, Tier};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use toml_edit::{value, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// The incident's regions, in config order: San Jose is the primary.
pub const REGIONS: [(&str, &str); 3] = [("sjc", "San Jose"), ("sin", "Singapore"), ("ams", "Amsterdam")];

/// A host's health check.
#[derive(Debug, Clone)]
pub enum Check {
    /// Connect to this TCP port.
    Tcp(u16),
    /// GET this URL.
    Http(String),
}

/// Builds an estate's config table by table.
#[derive(Debug, Clone)]
pub struct EstateBuilder {
    doc: DocumentMut,
    /// The array the last table was pushed to, for [`EstateBuilder::and`].
    last: Option<&'static str>,
}

impl EstateBuilder {
    /// An instance named `name` watching from `region`, listening on a free loopback port.
    pub fn new(name: &str, region: &str) -> Self {
        let empty = EstateBuilder { doc: DocumentMut::new(), last: None };
        empty.set("instance", "name", name).set("instance", "region", region).set("instance", "listen", "127.0.0.1:0")
    }

    /// Starts from an existing config's text (the demo's), to change it key by key.
    pub fn from_text(text: &str) -> Result<Self, toml_edit::TomlError> {
        Ok(EstateBuilder { doc: text.parse()?, last: None })
    }

    /// Sets `key` in the table of the array `array` named `name` (`.named("resolvers",
    /// "lab-auth", "address", ...)`); panics when there is none, since a builder's caller
    /// names tables it put there or read from a shipped file.
    pub fn named(mut self, array: &str, name: &str, key: &str, v: impl Into<Value>) -> Self {
        let table = self
            .doc
            .get_mut(array)
            .and_then(Item::as_array_of_tables_mut)
            .and_then(|tables| tables.iter_mut().find(|t| t.get("name").and_then(Item::as_str) == Some(name)));
        match table {
            Some(table) => table[key] = value(v),
            None => panic!("the config has no [[{array}]] named {name:?}"),
        }
        self
    }

    /// Moves every address of the loopback blocks `127.0.N.` (N ≥ 1: the demo's regions) to
    /// `127.BLOCK.N.`, wherever a string value holds one (hosts, checks, records, DSNs, URLs),
    /// so several copies of one estate run side by side. `127.0.0.x` stays put.
    pub fn move_loopback_block(mut self, block: u8) -> Self {
        fn moved(text: &str, block: u8) -> String {
            let mut out = String::with_capacity(text.len());
            let mut rest = text;
            while let Some(at) = rest.find("127.0.") {
                out.push_str(&rest[..at]);
                let after = &rest[at + "127.0.".len()..];
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                let region = after[..digits].parse::<u8>().unwrap_or(0);
                let next_is_dot = after.as_bytes().get(digits) == Some(&b'.');
                out.push_str(if region >= 1 && next_is_dot { "127." } else { "127.0." });
                if region >= 1 && next_is_dot {
                    out.push_str(&format!("{block}."));
                }
                rest = after;
            }
            out.push_str(rest);
            out
        }
        fn walk_value(v: &mut Value, block: u8) {
            match v {
                Value::String(s) => {
                    let new = moved(s.value(), block);
                    if new != *s.value() {
                        let decor = s.decor().clone();
                        *s = toml_edit::Formatted::new(new);
                        *s.decor_mut() = decor;
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(|v| walk_value(v, block)),
                Value::InlineTable(t) => t.iter_mut().for_each(|(_, v)| walk_value(v, block)),
                _ => {}
            }
        }
        fn walk(item: &mut Item, block: u8) {
            match item {
                Item::Value(v) => walk_value(v, block),
                Item::Table(t) => t.iter_mut().for_each(|(_, i)| walk(i, block)),
                Item::ArrayOfTables(a) => a.iter_mut().for_each(|t| t.iter_mut().for_each(|(_, i)| walk(i, block))),
                Item::None => {}
            }
        }
        self.doc.iter_mut().for_each(|(_, item)| walk(item, block));
        self
    }

    /// Sets `key` in the table `section` (`instance`, `probes`, `auth`, `edge`, `lab`, ...).
    pub fn set(mut self, section: &str, key: &str, v: impl Into<Value>) -> Self {
        let table = self.doc.entry(section).or_insert(Item::Table(Table::new()));
        table[key] = value(v);
        self
    }

    /// Sets `key` in the nested table at `path` (`&["alerting", "rules", "host_down"]`).
    pub fn set_in(mut self, path: &[&str], key: &str, v: impl Into<Value>) -> Self {
        let mut table = self.doc.as_table_mut();
        for segment in path {
            let item = table.entry(segment).or_insert(Item::Table(Table::new()));
            match item.as_table_mut() {
                Some(t) => table = t,
                None => return self,
            }
        }
        table[key] = value(v);
        self
    }

    /// Appends a table with `fields` to the array `array` inside the table `section`
    /// (`[[alerting.webhooks]]`).
    pub fn push_in(mut self, section: &str, array: &str, fields: &[(&str, Value)]) -> Self {
        let mut table = Table::new();
        for (k, v) in fields {
            table[*k] = value(v.clone());
        }
        let parent = self.doc.entry(section).or_insert(Item::Table(Table::new()));
        if let Some(parent) = parent.as_table_mut() {
            let item = parent.entry(array).or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
            if let Some(tables) = item.as_array_of_tables_mut() {
                tables.push(table);
            }
        }
        self
    }

    /// Where the instance keeps its data.
    pub fn data_dir(self, dir: &Path) -> Self {
        self.set("instance", "data_dir", dir.display().to_string())
    }

    /// The address the console listens on.
    pub fn listen(self, addr: SocketAddr) -> Self {
        self.set("instance", "listen", addr.to_string())
    }

    /// The control store's URL.
    pub fn control_db(self, url: &str) -> Self {
        self.set("instance", "control_db", url)
    }

    /// Probe every `interval_seconds`, each check timing out after `timeout_ms`.
    pub fn probes(self, interval_seconds: u64, timeout_ms: u64) -> Self {
        self.set("probes", "interval_seconds", interval_seconds as i64).set("probes", "timeout_ms", timeout_ms as i64)
    }

    /// Appends a table to the array `array` (`[[array]]`) with `fields`.
    pub fn push(mut self, array: &'static str, fields: &[(&str, Value)]) -> Self {
        let mut table = Table::new();
        for (k, v) in fields {
            table[*k] = value(v.clone());
        }
        let item = self.doc.entry(array).or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
        if let Some(tables) = item.as_array_of_tables_mut() {
            tables.push(table);
        }
        self.last = Some(array);
        self
    }

    /// Adds `key` to the table pushed last (`.site("web", false).and("check_url", ...)`).
    pub fn and(mut self, key: &str, v: impl Into<Value>) -> Self {
        let last = self.last.and_then(|a| self.doc.get_mut(a)).and_then(Item::as_array_of_tables_mut).and_then(|t| t.iter_mut().last());
        if let Some(table) = last {
            table[key] = value(v);
        }
        self
    }

    /// Regions from [`REGIONS`] by key, San Jose the primary.
    pub fn regions(mut self, keys: &[&str]) -> Self {
        for key in keys {
            let display = REGIONS.iter().find(|(k, _)| k == key).map_or(*key, |(_, d)| d);
            self = self.region(key, display, *key == "sjc");
        }
        self
    }

    /// One region.
    pub fn region(self, name: &str, display: &str, primary: bool) -> Self {
        self.push("regions", &[("name", name.into()), ("display", display.into()), ("primary", primary.into())])
    }

    /// One host with its health check.
    pub fn host(self, name: &str, region: &str, tier: Tier, address: IpAddr, check: Check) -> Self {
        let mut inline = InlineTable::new();
        match check {
            Check::Tcp(port) => inline.insert("tcp", (port as i64).into()),
            Check::Http(url) => inline.insert("http", url.into()),
        };
        self.push(
            "hosts",
            &[
                ("name", name.into()),
                ("region", region.into()),
                ("tier", tier.as_str().into()),
                ("address", address.to_string().into()),
                ("check", Value::InlineTable(inline)),
            ],
        )
    }

    /// One site; `two_person` sites need a second person to approve maintenance.
    pub fn site(self, name: &str, two_person: bool) -> Self {
        let b = self.push("sites", &[("name", name.into())]);
        if two_person {
            b.and("two_person", true)
        } else {
            b
        }
    }

    /// One public hostname, served by `tier`, part of `site` if any.
    pub fn hostname(self, name: &str, tier: Tier, site: Option<&str>) -> Self {
        let b = self.push("hostnames", &[("name", name.into()), ("tier", tier.as_str().into())]);
        match site {
            Some(site) => b.and("site", site),
            None => b,
        }
    }

    /// One user from the config.
    pub fn user(self, name: &str, role: Role, password_hash: &str) -> Self {
        self.push("users", &[("name", name.into()), ("role", role.as_str().into()), ("password_hash", password_hash.into())])
    }

    /// One control node this instance watches.
    pub fn control_node(self, name: &str, url: &str) -> Self {
        self.push("control_nodes", &[("name", name.into()), ("url", url.into())])
    }

    /// One peer: its name, region and URL, the token sent to it and the hash of the one it sends.
    pub fn peer(self, name: &str, region: &str, url: &str, token: &str, accept_token_sha256: &str) -> Self {
        self.push(
            "peers",
            &[
                ("name", name.into()),
                ("region", region.into()),
                ("url", url.into()),
                ("token", token.into()),
                ("accept_token_sha256", accept_token_sha256.into()),
            ],
        )
    }

    /// The zone this estate declares (its serial, when it matters: `.set("zone", "serial", 7i64)`).
    pub fn zone(self, origin: &str) -> Self {
        self.set("zone", "origin", origin)
    }

    /// One declared record of the zone.
    pub fn record(mut self, name: &str, kind: RecordKind, ttl: u32, values: &[&str]) -> Self {
        let mut table = Table::new();
        table["name"] = value(name);
        table["type"] = value(kind.as_str());
        table["ttl"] = value(ttl as i64);
        table["values"] = value(values.iter().copied().collect::<toml_edit::Array>());
        let zone = self.doc.entry("zone").or_insert(Item::Table(Table::new()));
        if let Some(records) = zone.as_table_mut().map(|z| z.entry("records").or_insert(Item::ArrayOfTables(ArrayOfTables::new()))) {
            if let Some(records) = records.as_array_of_tables_mut() {
                records.push(table);
            }
        }
        self.last = None;
        self
    }

    /// One resolver to ask.
    pub fn resolver(self, name: &str, address: SocketAddr, kind: ResolverKind) -> Self {
        let kind = match kind {
            ResolverKind::Authoritative => "authoritative",
            ResolverKind::Recursive => "recursive",
        };
        self.push("resolvers", &[("name", name.into()), ("address", address.to_string().into()), ("kind", kind.into())])
    }

    /// One PostgreSQL cluster: its primary and replicas as (host, DSN).
    pub fn database(self, name: &str, primary: (&str, &str), replicas: &[(&str, &str)]) -> Self {
        let node = |(host, dsn): (&str, &str)| {
            let mut t = InlineTable::new();
            t.insert("host", host.into());
            t.insert("dsn", dsn.into());
            Value::InlineTable(t)
        };
        let replicas: toml_edit::Array = replicas.iter().map(|r| node(*r)).collect();
        self.push("databases", &[("name", name.into()), ("primary", node(primary)), ("replicas", Value::Array(replicas))])
    }

    /// One loader on `host`; say how its backlog is read with `.and("metrics_url", ...)` or
    /// `.and("push_token_sha256", ...)`.
    pub fn loader(self, name: &str, host: &str) -> Self {
        self.push("loaders", &[("name", name.into()), ("host", host.into())])
    }

    /// The TOML written so far.
    pub fn text(&self) -> String {
        self.doc.to_string()
    }

    /// Loads the config as a file named `file` would be loaded, validation included.
    pub fn build(&self, file: &str) -> Result<Estate, Vec<ConfigError>> {
        parse(Path::new(file), &self.text())
    }
}

/// The two-region lab of `scripts/regions.sh`: where each part listens and lives.
#[derive(Debug, Clone, clap::Args)]
pub struct TwoRegions {
    /// Directory holding both instances' data, edges and the shared audit key.
    #[arg(long)]
    pub dir: std::path::PathBuf,
    /// San Jose's console port (the primary).
    #[arg(long)]
    pub sjc_port: u16,
    /// Singapore's console port (the secondary).
    #[arg(long)]
    pub sin_port: u16,
    /// Singapore's nginx port, the balancer lb3 both regions check.
    #[arg(long)]
    pub nginx_port: u16,
    /// The control store primary's PostgreSQL port.
    #[arg(long)]
    pub primary_port: u16,
    /// Its streaming standby's port (Singapore's control store).
    #[arg(long)]
    pub standby_port: u16,
    /// alice's argon2id hash (`crowsnest hash-password`).
    #[arg(long)]
    pub password_hash: String,
}

/// The token `from` sends to `to` in the two-region lab (a lab secret, not a production one).
fn lab_token(from: &str, to: &str) -> String {
    format!("regions-peer-token-{from}-to-{to}")
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The configs of the two-region lab: San Jose's primary instance `sjc-1` on the control
/// store's primary and Singapore's `sin-1` on its standby, peers of each other, both watching
/// Singapore's nginx. Returned as (instance name, builder), San Jose first.
pub fn two_regions(r: &TwoRegions) -> [(&'static str, EstateBuilder); 2] {
    let pg = |port: u16| format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let dir = |name: &str| r.dir.join(name);
    let one = |name: &'static str, region: &str, port: u16, db: u16, peer: (&str, &str, u16)| {
        let b = EstateBuilder::new(name, region)
            .listen(SocketAddr::from(([127, 0, 0, 1], port)))
            .data_dir(&dir(name))
            .control_db(&pg(db))
            .probes(1, 800)
            .set("edge", "dir", dir(name).join("edge").display().to_string())
            .set("auth", "audit_key_file", r.dir.join("audit.key").display().to_string())
            .regions(&["sjc", "sin"])
            .host("lb3", "sin", Tier::WebLb, [127, 0, 0, 1].into(), Check::Tcp(r.nginx_port))
            .site("web", false);
        // Only Singapore looks through its own balancer at what users get.
        let b = if name == "sin-1" { b.and("check_url", format!("http://127.0.0.1:{}/", r.nginx_port)) } else { b };
        let (peer, peer_region, peer_port) = peer;
        let b = b
            .hostname("www.example.test", Tier::WebLb, Some("web"))
            .user("alice", Role::Oncall, &r.password_hash)
            .control_node("db-sjc", &pg(r.primary_port))
            .control_node("db-sin", &pg(r.standby_port))
            .peer(peer, peer_region, &format!("http://127.0.0.1:{peer_port}"), &lab_token(name, peer), &sha256_hex(&lab_token(peer, name)));
        (name, b)
    };
    [
        one("sjc-1", "sjc", r.sjc_port, r.primary_port, ("sin-1", "sin", r.sin_port)),
        one("sin-1", "sin", r.sin_port, r.standby_port, ("sjc-1", "sjc", r.sjc_port)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_moves_to_another_loopback_block_and_keeps_127_0_0() {
        let demo = include_str!("../../../deploy/demo.toml");
        let estate = EstateBuilder::from_text(demo).unwrap().move_loopback_block(42).build("demo.toml").unwrap();
        let lb1 = estate.hosts.iter().find(|h| h.name == "lb1").unwrap();
        assert_eq!(lb1.address.to_string(), "127.42.1.1");
        assert!(estate.hosts.iter().all(|h| h.address.to_string().starts_with("127.42.")), "every host moved");
        assert_eq!(estate.instance.listen.to_string(), "127.0.0.1:3000", "127.0.0.x stays");
        let text = EstateBuilder::from_text(demo).unwrap().move_loopback_block(42).text();
        assert!(!text.contains("127.0.1.") && !text.contains("127.0.2.") && !text.contains("127.0.3."), "nothing left behind");
        assert!(text.contains("dsn = \"postgres://postgres@127.42.1.5:5432/postgres\""), "DSNs move too");
    }

    #[test]
    fn named_sets_a_key_in_one_table_of_an_array() {
        let b = EstateBuilder::new("i", "sjc").regions(&["sjc", "sin"]).named("regions", "sin", "display", "Singapura");
        assert!(b.text().contains("display = \"Singapura\""), "{}", b.text());
        assert!(b.text().contains("display = \"San Jose\""));
    }

    #[test]
    fn the_two_region_lab_loads_and_its_peers_trust_each_other() {
        let r = TwoRegions {
            dir: "/tmp/regions".into(),
            sjc_port: 3400,
            sin_port: 3401,
            nginx_port: 8082,
            primary_port: 5500,
            standby_port: 5501,
            password_hash: crate::auth::password::hash("alice-oncall").unwrap(),
        };
        let [(sjc, sjc_b), (sin, sin_b)] = two_regions(&r);
        let (sjc_e, sin_e) = (sjc_b.build("sjc-1.toml").unwrap(), sin_b.build("sin-1.toml").unwrap());
        assert_eq!((sjc, sin), ("sjc-1", "sin-1"));
        assert_eq!(sjc_e.instance.control_db.as_deref(), Some("postgres://postgres@127.0.0.1:5500/postgres"));
        assert_eq!(sin_e.instance.control_db.as_deref(), Some("postgres://postgres@127.0.0.1:5501/postgres"));
        // Each accepts exactly what the other sends.
        assert_eq!(sjc_e.peers[0].accept_token_sha256, sha256_hex(&sin_e.peers[0].token));
        assert_eq!(sin_e.peers[0].accept_token_sha256, sha256_hex(&sjc_e.peers[0].token));
        assert_eq!(sin_e.sites[0].check_url.as_deref(), Some("http://127.0.0.1:8082/"));
        assert_eq!(sjc_e.sites[0].check_url, None);
    }

    #[test]
    fn what_it_builds_loads_like_a_file() {
        let estate = EstateBuilder::new("sin-1", "sin")
            .regions(&["sjc", "sin"])
            .probes(1, 800)
            .host("lb3", "sin", Tier::WebLb, "127.0.0.1".parse().unwrap(), Check::Tcp(8080))
            .site("web", false)
            .and("check_url", "http://127.0.0.1:8080/")
            .site("api", true)
            .hostname("www.example.test", Tier::WebLb, Some("web"))
            .zone("example.test")
            .set("zone", "serial", 7i64)
            .record("www", RecordKind::A, 60, &["127.0.0.1", "127.0.0.2"])
            .resolver("auth-1", "127.0.0.1:53".parse().unwrap(), ResolverKind::Authoritative)
            .build("example.toml")
            .unwrap();
        assert_eq!((estate.instance.name.as_str(), estate.instance.region.as_str()), ("sin-1", "sin"));
        assert_eq!(estate.regions.iter().filter(|r| r.primary).map(|r| r.name.as_str()).collect::<Vec<_>>(), ["sjc"]);
        assert_eq!(estate.hosts[0].check.tcp, Some(8080));
        assert_eq!(estate.sites[0].check_url.as_deref(), Some("http://127.0.0.1:8080/"));
        assert!(!estate.sites[0].two_person && estate.sites[1].two_person);
        assert_eq!(estate.hostnames[0].site.as_deref(), Some("web"));
        assert_eq!(estate.probes.interval_seconds, 1);
        let zone = estate.zone.unwrap();
        assert_eq!((zone.origin.as_str(), zone.serial, zone.records[0].values.len()), ("example.test", 7, 2));
        assert_eq!(estate.resolvers[0].kind, ResolverKind::Authoritative);
    }

    #[test]
    fn a_mistake_is_reported_like_a_files() {
        let errors = EstateBuilder::new("sjc-1", "nowhere").regions(&["sjc"]).build("example.toml").unwrap_err();
        let err = &errors[0];
        assert_eq!(err.key.to_string(), "instance.region", "{err}");
        assert!(err.line > 0, "{err}");
    }
}
