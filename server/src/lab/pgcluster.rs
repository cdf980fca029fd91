//! Throwaway PostgreSQL clusters: a primary and streaming standbys built with `initdb` and
//! `pg_basebackup` under a directory of their own, each on its own loopback port.
//!
//! The replication tests use them as the real thing to watch; the lab uses them so the demo's
//! databases replicate for real. `initdb` refuses to run as root, so as root every command runs
//! as the `postgres` user (`runuser`), in a directory that user owns.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Why a cluster could not be built or changed.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No PostgreSQL server binaries were found.
    #[error("no PostgreSQL binaries: looked in $PG_BIN and /usr/lib/postgresql/*/bin for initdb")]
    NoBinaries,
    /// A command could not be run at all.
    #[error("cannot run {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("{command} failed ({status}): {output}")]
    Failed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed.
        output: String,
    },
    /// A file of the cluster could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Where the server binaries are: `$PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`.
pub fn find_bin() -> Result<PathBuf, ClusterError> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| ClusterError::NoBinaries)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or(ClusterError::NoBinaries)
}

fn is_root() -> bool {
    // The effective uid, without a libc dependency: /proc/self/status has "Uid: real effective …".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0")))
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as `postgres` when we are root.
fn run(bin: &Path, tool: &str, args: &[&str]) -> Result<String, ClusterError> {
    run_in(None, bin, tool, args)
}

/// The same, inside network namespace `netns` when given.
fn run_in(netns: Option<&str>, bin: &Path, tool: &str, args: &[&str]) -> Result<String, ClusterError> {
    let program = bin.join(tool);
    // [ip netns exec NS] [runuser -u postgres --] program args…
    let mut argv: Vec<std::ffi::OsString> = Vec::new();
    if let Some(ns) = netns {
        argv.extend(["ip", "netns", "exec", ns].map(Into::into));
    }
    if is_root() {
        argv.extend(["runuser", "-u", "postgres", "--"].map(Into::into));
    }
    argv.push(program.clone().into());
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    command.args(args).env("LC_ALL", "C").env_remove("PGDATA");
    let line = format!("{} {}", program.display(), args.join(" "));
    let out = command.output().map_err(|source| ClusterError::Spawn { command: line.clone(), source })?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(ClusterError::Failed { command: line, status: out.status.to_string(), output: text.trim().to_string() })
    }
}

fn append(path: &Path, text: &str) -> Result<(), ClusterError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|source| ClusterError::Io { path: path.to_path_buf(), source })
}

/// One PostgreSQL server: its data directory and port.
#[derive(Debug, Clone)]
pub struct Node {
    /// Name; a standby's `application_name` and replication slot.
    pub name: String,
    /// Data directory.
    pub dir: PathBuf,
    /// Port it listens on.
    pub port: u16,
    /// Address it listens on (127.0.0.1 unless moved into a network namespace).
    pub host: String,
    /// The network namespace it runs in, when moved into one.
    pub netns: Option<String>,
    bin: PathBuf,
}

impl Node {
    /// A superuser URL to database `postgres` on this node.
    pub fn dsn(&self) -> String {
        format!("postgres://postgres@{}:{}/postgres", self.host, self.port)
    }

    /// Restarts this node inside network namespace `netns`, listening on `address` there and
    /// trusting `network` (CIDR) for clients and replication: cutting the namespace's link then
    /// isolates it with its state, as a datacenter's network failure would.
    pub fn move_into_namespace(&mut self, netns: &str, address: &str, network: &str) -> Result<(), ClusterError> {
        self.stop()?;
        append(&self.dir.join("postgresql.conf"), &format!("listen_addresses = '{address}'\n"))?;
        append(&self.dir.join("pg_hba.conf"), &format!("host all all {network} trust\nhost replication all {network} trust\n"))?;
        self.netns = Some(netns.to_string());
        self.host = address.to_string();
        self.start()
    }

    /// Makes this node (after its next start) listen on `address` as well as loopback, trusting
    /// `network` (CIDR): a region isolated in a network namespace reaches it there once its link
    /// is back, as a healed datacenter network would.
    pub fn listen_also(&mut self, address: &str, network: &str) -> Result<(), ClusterError> {
        append(&self.dir.join("postgresql.conf"), &format!("listen_addresses = '127.0.0.1,{address}'\n"))?;
        append(&self.dir.join("pg_hba.conf"), &format!("host all all {network} trust\nhost replication all {network} trust\n"))?;
        self.host = address.to_string();
        Ok(())
    }

    /// Serves TLS with `chain_pem` and `key_pem` (PostgreSQL's `ssl = on`), restarting the
    /// server: clients may then ask for `sslmode=verify-full`.
    pub fn serve_tls(&self, chain_pem: &str, key_pem: &str) -> Result<(), ClusterError> {
        use std::os::unix::fs::PermissionsExt;
        for (file, text) in [("server.crt", chain_pem), ("server.key", key_pem)] {
            let path = self.dir.join(file);
            std::fs::write(&path, text).map_err(|source| ClusterError::Io { path: path.clone(), source })?;
            // PostgreSQL refuses a key others can read.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|source| ClusterError::Io { path: path.clone(), source })?;
            if is_root() {
                let status = std::process::Command::new("chown").arg("postgres:postgres").arg(&path).status();
                if !matches!(status, Ok(s) if s.success()) {
                    return Err(ClusterError::Failed {
                        command: format!("chown postgres:postgres {}", path.display()),
                        status: format!("{status:?}"),
                        output: String::new(),
                    });
                }
            }
        }
        append(&self.dir.join("postgresql.conf"), "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")?;
        self.stop()?;
        self.start()
    }

    /// Starts the server and waits until it accepts connections.
    pub fn start(&self) -> Result<(), ClusterError> {
        let log = self.dir.join("server.log");
        run_in(self.netns.as_deref(), &self.bin, "pg_ctl", &["-D", &path(&self.dir), "-l", &path(&log), "-w", "-t", "60", "start"])
            .map(|_| ())
    }

    /// Stops the server (fast shutdown: clients are disconnected, nothing is lost).
    pub fn stop(&self) -> Result<(), ClusterError> {
        run_in(self.netns.as_deref(), &self.bin, "pg_ctl", &["-D", &path(&self.dir), "-m", "fast", "-w", "-t", "60", "stop"]).map(|_| ())
    }

    /// Stops the server as a crash would (immediate shutdown: no checkpoint, clients cut off).
    pub fn kill(&self) -> Result<(), ClusterError> {
        run_in(self.netns.as_deref(), &self.bin, "pg_ctl", &["-D", &path(&self.dir), "-m", "immediate", "-w", "-t", "60", "stop"])
            .map(|_| ())
    }

    /// True when the server process is running.
    pub fn is_running(&self) -> bool {
        run_in(self.netns.as_deref(), &self.bin, "pg_ctl", &["-D", &path(&self.dir), "status"]).is_ok()
    }

    /// Promotes a standby to a writable primary and waits for it.
    pub fn promote(&self) -> Result<(), ClusterError> {
        run_in(self.netns.as_deref(), &self.bin, "pg_ctl", &["-D", &path(&self.dir), "-w", "-t", "60", "promote"]).map(|_| ())
    }

    /// Points a standby at another upstream (`host:port`), e.g. the lab's switchable proxy.
    /// Takes effect at the next start.
    pub fn set_upstream(&self, host: &str, port: u16) -> Result<(), ClusterError> {
        let conninfo = format!("host={host} port={port} user=postgres application_name={}", self.name);
        append(&self.dir.join("postgresql.auto.conf"), &format!("primary_conninfo = '{conninfo}'\n"))
    }
}

fn path(p: &Path) -> String {
    p.display().to_string()
}

/// A primary and its streaming standbys; [`Cluster::stop`] (or dropping it) stops every node.
pub struct Cluster {
    /// The writable node it was built with.
    pub primary: Node,
    /// Streaming standbys, each with a physical replication slot named like it.
    pub standbys: Vec<Node>,
    root: PathBuf,
    remove_on_drop: bool,
}

/// Settings for every node: loopback only, no unix socket, fast and small.
fn base_settings(port: u16, extra: &str) -> String {
    format!(
        "\n# crowsnest test cluster\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
         unix_socket_directories = ''\nfsync = off\nfull_page_writes = off\n\
         synchronous_commit = off\nshared_buffers = 16MB\nmax_wal_senders = 10\n\
         max_replication_slots = 10\nwal_keep_size = '64MB'\nlogging_collector = off\n\
         wal_retrieve_retry_interval = '1s'\nwal_receiver_timeout = '10s'\n{extra}\n"
    )
}

impl Cluster {
    /// Stops any server left running under `root` by an earlier run, then removes `root`.
    pub fn clear(root: &Path) {
        if let (Ok(bin), Ok(entries)) = (find_bin(), std::fs::read_dir(root)) {
            for dir in entries.filter_map(|e| e.ok()).map(|e| e.path()) {
                if dir.join("postmaster.pid").exists() {
                    let _ = run(&bin, "pg_ctl", &["-D", &path(&dir), "-m", "immediate", "-w", "stop"]);
                }
            }
        }
        let _ = std::fs::remove_dir_all(root);
    }

    /// Builds and starts a primary plus one streaming standby per name in `standbys`, under
    /// `root` (created, and handed to `postgres` when we are root). `extra` is appended to
    /// every node's postgresql.conf (e.g. `shared_preload_libraries`). Standbys stream from
    /// `upstream` (`host`, `port`) when given, else straight from the primary.
    pub fn build(root: &Path, standbys: &[&str], extra: &str, upstream: Option<(&str, u16)>) -> Result<Cluster, ClusterError> {
        let bin = find_bin()?;
        std::fs::create_dir_all(root).map_err(|source| ClusterError::Io { path: root.to_path_buf(), source })?;
        if is_root() {
            let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(root).status();
            if !matches!(status, Ok(s) if s.success()) {
                return Err(ClusterError::Failed {
                    command: format!("chown -R postgres:postgres {}", root.display()),
                    status: format!("{status:?}"),
                    output: String::new(),
                });
            }
        }
        let primary = Node {
            name: "primary".into(),
            dir: root.join("primary"),
            port: super::free_port(),
            host: "127.0.0.1".into(),
            netns: None,
            bin: bin.clone(),
        };
        run(&bin, "initdb", &["-D", &path(&primary.dir), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])?;
        append(&primary.dir.join("postgresql.conf"), &base_settings(primary.port, extra))?;
        let mut cluster = Cluster { primary, standbys: Vec::new(), root: root.to_path_buf(), remove_on_drop: false };
        cluster.primary.start()?;
        for name in standbys {
            let node = Node {
                name: name.to_string(),
                dir: root.join(name),
                port: super::free_port(),
                host: "127.0.0.1".into(),
                netns: None,
                bin: bin.clone(),
            };
            let slot = name.replace('-', "_");
            run(
                &bin,
                "pg_basebackup",
                &[
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &cluster.primary.port.to_string(),
                    "-U",
                    "postgres",
                    "-D",
                    &path(&node.dir),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "-C",
                    "-S",
                    &slot,
                    "--no-sync",
                ],
            )?;
            append(&node.dir.join("postgresql.conf"), &base_settings(node.port, ""))?;
            let (host, port) = upstream.unwrap_or(("127.0.0.1", cluster.primary.port));
            node.set_upstream(host, port)?;
            node.start()?;
            cluster.standbys.push(node);
        }
        Ok(cluster)
    }

    /// Removes the cluster's directory when it is dropped (after stopping it).
    pub fn remove_on_drop(mut self) -> Self {
        self.remove_on_drop = true;
        self
    }

    /// Every node, primary first.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        std::iter::once(&self.primary).chain(self.standbys.iter())
    }

    /// Stops every running node.
    pub fn stop(&self) {
        for node in self.nodes() {
            if node.is_running() {
                if let Err(e) = node.stop() {
                    tracing::warn!(node = %node.name, error = %e, "could not stop a PostgreSQL node");
                }
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        if self.remove_on_drop {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}
