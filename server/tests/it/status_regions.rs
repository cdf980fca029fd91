//! Two regions' consoles, each a vantage of the same balancer over its own way there: the status
//! page each writes says what every region sees of a component (from the peer's latest report),
//! and a region that stops answering turns unknown on the other's page.

use crate::common::{self, eventually, Check, Tier};
use crowsnest::run::{Server, Site};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What `data`'s status page says each region sees of the Website.
fn regions_seen(data: &Path) -> Option<Vec<(String, String)>> {
    let v: Value = serde_json::from_slice(&std::fs::read(data.join("edge/status/api/v2/summary.json")).ok()?).ok()?;
    let website = v["components"].as_array()?.iter().find(|c| c["name"] == "Website")?.clone();
    website["crowsnest_regions"]
        .as_array()?
        .iter()
        .map(|r| Some((r["region"].as_str()?.to_string(), r["status"].as_str()?.to_string())))
        .collect()
}

fn seen(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(r, s)| (r.to_string(), s.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_says_what_each_region_sees() {
    use toml_edit::Value as Toml;
    let dir = tempfile::tempdir().unwrap();
    // lb2 answers on the way San Jose takes; Singapore's way there is cut (a closed port).
    let up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let cut = crowsnest::lab::free_port();
    let (sjc_port, sin_port) = (crowsnest::lab::free_port(), crowsnest::lab::free_port());
    let (sjc_asks, sin_asks) = ("sjc-1-asks-sin-1-for-its-report", "sin-1-asks-sjc-1-for-its-report");
    let instance = |name: &str, region: &str, port: u16, lb2: u16, peer: (&str, &str, u16, &str, &str)| {
        let (peer_name, peer_region, peer_port, token, accepts) = peer;
        common::load(
            &common::estate(name, region, &dir.path().join(name))
                .probes(1, 500)
                .listen(SocketAddr::from(([127, 0, 0, 1], port)))
                .regions(&["sjc", "sin"])
                .host("lb2", "sjc", Tier::WebLb, "127.0.0.1".parse().unwrap(), Check::Tcp(lb2))
                .push_in("status_page", "components", &[("name", "Website".into()), ("hosts", Toml::from_iter(["lb2"]))])
                .peer(peer_name, peer_region, &format!("http://127.0.0.1:{peer_port}"), token, &crowsnest::auth::token_sha256(accepts)),
        )
    };
    let sjc = instance("sjc-1", "sjc", sjc_port, up.local_addr().unwrap().port(), ("sin-1", "sin", sin_port, sjc_asks, sin_asks));
    let sin = instance("sin-1", "sin", sin_port, cut, ("sjc-1", "sjc", sjc_port, sin_asks, sjc_asks));
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let sjc = Server::start(Arc::new(sjc), Site { root: site.clone() }, false).await.unwrap();
    let sin = Server::start(Arc::new(sin), Site { root: site }, false).await.unwrap();

    // Each page: its own view first, then the other region's, from that region's report.
    let (at_sjc, at_sin) = (dir.path().join("sjc-1"), dir.path().join("sin-1"));
    eventually(Duration::from_secs(30), "each region's view on both pages", || async {
        (regions_seen(&at_sjc)? == seen(&[("San Jose", "operational"), ("Singapore", "major_outage")])
            && regions_seen(&at_sin)? == seen(&[("Singapore", "major_outage"), ("San Jose", "operational")]))
        .then_some(())
    })
    .await;
    let html = std::fs::read_to_string(at_sjc.join("edge/status/index.html")).unwrap();
    assert!(
        html.contains("<span data-region-status=\"operational\">Operational from San Jose</span>; <span data-region-status=\"major_outage\">Major outage from Singapore</span>"),
        "{html}"
    );

    // Singapore's console stops: San Jose's page no longer speaks for it.
    sin.stop().await;
    eventually(Duration::from_secs(30), "a silent region shown unknown", || async {
        (regions_seen(&at_sjc)? == seen(&[("San Jose", "operational"), ("Singapore", "unknown")])).then_some(())
    })
    .await;
    sjc.stop().await;
}
