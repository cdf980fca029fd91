//! The lab's caching recursive resolver: Debian's unbound, started by the lab when installed,
//! with a stub zone pointing at the lab's authoritative servers. It caches like a real ISP
//! resolver (answers live until their TTL runs out), capped at a few seconds so a demo moves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// Where Debian installs unbound.
pub(super) const UNBOUND: &str = "/usr/sbin/unbound";

/// Why the cache could not start.
#[derive(Debug, thiserror::Error)]
pub(super) enum CacheError {
    /// unbound is not installed.
    #[error("unbound is not installed ({UNBOUND}); scripts/setup.sh installs it")]
    NotInstalled,
    /// Writing its config or starting it failed.
    #[error("cannot start unbound: {0}")]
    Start(#[from] std::io::Error),
    /// It started but did not answer; its log says why.
    #[error("unbound on {0} did not answer within 10 s; its log: {1}")]
    Silent(SocketAddr, String),
}

/// A running unbound; dropping it stops the process and removes its directory.
pub(super) struct Cache {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    child: tokio::process::Child,
    dir: PathBuf,
}

impl Drop for Cache {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// unbound's config: one listener, no privileges dropped or chroot (it runs as whoever runs the
/// lab), no DNSSEC validation (the lab's zone is unsigned), and `test.` not answered locally.
pub(super) fn config(listen: SocketAddr, zone: &str, servers: &[SocketAddr], max_ttl: u32, dir: &Path) -> String {
    let stubs: String = servers.iter().map(|s| format!("    stub-addr: {}@{}\n", s.ip(), s.port())).collect();
    let zone = zone.trim_end_matches('.');
    let tld = zone.rsplit('.').next().unwrap_or(zone);
    format!(
        "server:\n    interface: {ip}@{port}\n    port: {port}\n    do-daemonize: no\n    username: \"\"\n    chroot: \"\"\n    \
         directory: \"{dir}\"\n    pidfile: \"\"\n    use-syslog: no\n    logfile: \"{dir}/unbound.log\"\n    verbosity: 0\n    \
         do-ip6: no\n    access-control: 127.0.0.0/8 allow\n    do-not-query-localhost: no\n    module-config: \"iterator\"\n    \
         domain-insecure: \"{zone}\"\n    local-zone: \"{tld}.\" nodefault\n    cache-max-ttl: {max_ttl}\n    \
         cache-max-negative-ttl: {max_ttl}\n    prefetch: no\n\nremote-control:\n    control-enable: no\n\n\
         stub-zone:\n    name: \"{zone}\"\n{stubs}",
        ip = listen.ip(),
        port = listen.port(),
        dir = dir.display(),
    )
}

/// Starts unbound on `listen` in front of `servers` and waits until it answers.
pub(super) async fn start(listen: SocketAddr, zone: &str, servers: &[SocketAddr], max_ttl: u32) -> Result<Cache, CacheError> {
    if !Path::new(UNBOUND).exists() {
        return Err(CacheError::NotInstalled);
    }
    let dir = std::env::temp_dir().join(format!("crowsnest-lab-unbound-{}-{}", std::process::id(), listen.port()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("unbound.conf");
    std::fs::write(&file, config(listen, zone, servers, max_ttl, &dir))?;
    let child = tokio::process::Command::new(UNBOUND)
        .arg("-d")
        .arg("-c")
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let cache = Cache { addr: listen, child, dir };
    // Up when it answers the zone's SOA (over the stub, from the authoritative servers).
    let client = crate::dns::WireResolver::new(Duration::from_millis(300));
    let apex = format!("{zone}.");
    for _ in 0..50 {
        if let Ok(Some(_)) = client.soa_serial(listen, &apex).await {
            return Ok(cache);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = std::fs::read_to_string(cache.dir.join("unbound.log")).unwrap_or_default();
    Err(CacheError::Silent(listen, log.lines().rev().take(5).collect::<Vec<_>>().join(" | ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_points_the_zone_at_every_server_and_caps_the_cache() {
        let servers: Vec<SocketAddr> = vec!["127.0.0.1:5354".parse().unwrap(), "127.0.0.1:5355".parse().unwrap()];
        let text = config("127.0.0.1:5356".parse().unwrap(), "example.test.", &servers, 10, Path::new("/tmp/x"));
        for line in [
            "interface: 127.0.0.1@5356",
            "port: 5356",
            "stub-addr: 127.0.0.1@5354",
            "stub-addr: 127.0.0.1@5355",
            "name: \"example.test\"",
            "local-zone: \"test.\" nodefault",
            "cache-max-ttl: 10",
            "do-not-query-localhost: no",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
