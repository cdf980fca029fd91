//! A real Prometheus scrapes `/metrics` and queries a DNS and an engine series back.

use super::*;

/// Debian's Prometheus, started on a loopback port for one test; killed when dropped.
struct Prometheus {
    child: std::process::Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus scraping `target` (`host:port`) every second.
async fn prometheus(target: &str) -> Prometheus {
    assert!(Path::new("/usr/bin/prometheus").exists(), "Prometheus is needed: scripts/setup.sh installs Debian's prometheus");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: crowsnest\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .unwrap();
    let port = crowsnest::lab::free_port();
    let child = std::process::Command::new("/usr/bin/prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("prometheus starts");
    let running = Prometheus { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
    let ready = format!("{}/-/ready", running.base);
    eventually(Duration::from_secs(30), "Prometheus ready", || async {
        (client().get(&ready).send().await.ok()?.status() == 200).then_some(())
    })
    .await;
    running
}

/// The first sample of an instant query's result, as a number.
async fn query(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let reply: serde_json::Value =
        client().get(format!("{}/api/v1/query", prometheus.base)).query(&[("query", promql)]).send().await.ok()?.json().await.ok()?;
    reply["data"]["result"].as_array()?.first()?["value"][1].as_str()?.parse().ok()
}

/// A real Prometheus scrapes `/metrics` and a DNS series and an engine series come back from
/// its query API: the exposition is valid for the real parser, not only for ours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_console_and_queries_dns_back() {
    let (server, _dir) = start(7).await;
    let prometheus = prometheus(&server.addr.to_string()).await;
    eventually(Duration::from_secs(30), "the scrape is up", || async {
        (query(&prometheus, "up{job=\"crowsnest\"}").await? == 1.0).then_some(())
    })
    .await;
    eventually(Duration::from_secs(30), "www answers as declared, by Prometheus", || async {
        (query(&prometheus, "crowsnest_dns_record_ok{name=\"www.example.test.\",type=\"A\"}").await? == 1.0).then_some(())
    })
    .await;
    let rounds = eventually(Duration::from_secs(30), "the DNS engine's rounds", || async {
        query(&prometheus, "crowsnest_engine_rounds_total{engine=\"dns\"}").await.filter(|n| *n >= 1.0)
    })
    .await;
    assert!(rounds >= 1.0);
    let ok = query(&prometheus, "sum(crowsnest_dns_records{status=\"ok\"})").await.expect("records per status");
    assert!(ok >= 1.0, "{ok}");
    drop(prometheus);
    server.stop().await;
}
