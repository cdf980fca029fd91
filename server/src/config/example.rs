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

    /// Sets `key` in the table `section` (`instance`, `probes`, `auth`, `edge`, `lab`, ...).
    pub fn set(mut self, section: &str, key: &str, v: impl Into<Value>) -> Self {
        let table = self.doc.entry(section).or_insert(Item::Table(Table::new()));
        table[key] = value(v);
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

#[cfg(test)]
mod tests {
    use super::*;

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
