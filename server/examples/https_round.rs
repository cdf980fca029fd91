//! Benchmark (not CI): health rounds of COUNT HTTPS checks, each with its own handshake, against
//! Debian's nginx on COUNT loopback addresses serving a certificate from a CA made here.
//!
//! `https_round COUNT ROUNDS` starts nginx, checks every address ROUNDS times with the engine's
//! own probe (all at once, as a round does), and prints each round's duration, the median, how
//! many checks passed, and the process's resident memory before, during (after the last round)
//! and after the round's buffers are handed back (`memory::release`).

use crowsnest::health::engine::{HealthProbe, NetProbe, Target};
use crowsnest::health::evaluate::Expect;
use crowsnest::tls::authority::Authority;
use crowsnest::tls::probe::Trust;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, rounds] = args.as_slice() else { return Err("usage: https_round COUNT ROUNDS".into()) };
    let (count, rounds): (usize, usize) = (count.parse()?, rounds.parse()?);
    let dir = tempfile::tempdir()?;
    let ca = Authority::new("Crowsnest Bench CA")?;
    let cert = ca.issue_for_days(&["www.example.test"], 90)?;
    std::fs::write(dir.path().join("cert.pem"), &cert.chain_pem)?;
    std::fs::write(dir.path().join("key.pem"), &cert.key_pem)?;
    std::fs::write(dir.path().join("ca.pem"), ca.ca_pem())?;
    let port = crowsnest::lab::free_port();
    let addrs: Vec<SocketAddr> =
        (0..count).map(|i| SocketAddr::new(IpAddr::from([127, 70, (i / 250) as u8, (i % 250 + 1) as u8]), port)).collect();
    let listens: String = addrs.iter().map(|a| format!("listen {a} ssl;\n")).collect();
    let d = dir.path().display();
    for sub in ["logs", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub))?;
    }
    let conf = format!(
        "master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/logs/error.log;\n\
         events {{ worker_connections {}; }}\nhttp {{ access_log off; client_body_temp_path {d}/tmp/b; proxy_temp_path {d}/tmp/p;\n\
         fastcgi_temp_path {d}/tmp/f; uwsgi_temp_path {d}/tmp/u; scgi_temp_path {d}/tmp/s;\n\
         server {{ {listens} server_name _; ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;\n\
         location / {{ return 200 \"ok\\n\"; }} }} }}\n",
        count * 2 + 64
    );
    std::fs::write(dir.path().join("nginx.conf"), conf)?;
    let mut nginx = std::process::Command::new("/usr/sbin/nginx")
        .args(["-p", &format!("{d}/"), "-c", &format!("{d}/nginx.conf"), "-e", "stderr", "-g", "daemon off;"])
        .spawn()?;
    let trust = Trust::new(Some(&dir.path().join("ca.pem")), false)?;
    for _ in 0..50 {
        if trust.get(addrs[0], "www.example.test", "/").await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let probe = NetProbe::new(Duration::from_secs(5)).with_trust(trust);
    let targets: Vec<Target> = addrs
        .iter()
        .enumerate()
        .map(|(i, a)| Target::Https {
            host: format!("lb{i}"),
            url: format!("https://www.example.test:{port}/healthz"),
            connect: *a,
            name: "www.example.test".into(),
            path: "/healthz".into(),
            expect: Expect::Success,
        })
        .collect();
    let before = rss_kib();
    let mut times = Vec::new();
    let mut passed = 0;
    for round in 1..=rounds {
        let started = Instant::now();
        let observations = futures::future::join_all(targets.iter().map(|t| probe.check(t))).await;
        let took = started.elapsed();
        passed = observations.iter().filter(|o| o.outcome.is_ok() && o.certificate.is_some()).count();
        println!("round {round}: {count} HTTPS checks in {:.0} ms, {passed} answered with a certificate", took.as_secs_f64() * 1000.0);
        for (target, o) in targets.iter().zip(&observations).filter(|(_, o)| o.outcome.is_err()).take(3) {
            println!("  failed: {} ({:?})", target.describe(), o.outcome);
        }
        times.push(took);
        drop(observations);
    }
    let during = rss_kib();
    crowsnest::memory::release();
    let after = rss_kib();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "https_round_median_ms {:.0} (count {count}, rounds {rounds}, {passed}/{count} ok in the last)",
        median.as_secs_f64() * 1000.0
    );
    println!("https_round_rss_kib before={before} after_rounds={during} after_release={after}");
    let _ = nginx.kill();
    let _ = nginx.wait();
    Ok(())
}
