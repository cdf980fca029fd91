//! The demo's balancers over HTTPS: the lab's CA, each certificate its control API can swap in,
//! and a hostname landing on a balancer whose certificate is for another name, each seen in the
//! topology's JSON and on its page within a round.

use super::{json, start};
use crate::common::{client, eventually};
use serde_json::{json, Value};
use std::time::Duration;

/// A host's certificate as the topology JSON shows it: (status, detail).
async fn certificate(base: &str, host: &str) -> Option<(String, String)> {
    let topology = json(&format!("{base}/api/v1/topology")).await?;
    let hosts = topology["regions"].as_array()?.iter().flat_map(|r| r["hosts"].as_array().cloned().unwrap_or_default());
    let c = hosts.into_iter().find(|h| h["name"] == host)?["certificate"].clone();
    Some((c["status"].as_str()?.to_string(), c["detail"].as_str()?.to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_certificate_the_lab_serves_shows_its_status_and_words() {
    let (server, _dir) = start(13).await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let ca = server.lab.as_ref().unwrap().ca_file.clone().expect("the demo's balancers are checked over https://");
    assert!(std::fs::read_to_string(&ca).unwrap().contains("BEGIN CERTIFICATE"), "{}", ca.display());
    let http = client();

    // At start every balancer serves a certificate from the lab's CA, which the console trusts.
    for host in ["lb1", "lb2", "lb3", "lb4"] {
        eventually(Duration::from_secs(5), &format!("{host}'s certificate ok"), || async {
            let (status, detail) = certificate(&base, host).await?;
            (status == "ok" && detail.contains("issued by Crowsnest lab CA")).then_some(())
        })
        .await;
    }

    #[rustfmt::skip]
    let table: Vec<(&str, Value, &str, &str)> = vec![
        ("lb2", json!({"certificate": "expiring"}), "warn", "certificate for www.example.test expires in 10 days"),
        ("lb2", json!({"certificate": "expiring", "days": 2}), "critical", "expires in 2 days"),
        ("lb2", json!({"certificate": "expired"}), "critical", "lb2's certificate for www.example.test expired 2 days ago"),
        ("lb1", json!({"certificate": "wrong_name", "name": "www.example.test"}), "critical", "lb1 serves a certificate for www.example.test, not api.example.test"),
        ("lb3", json!({"certificate": "unknown_issuer"}), "critical", "issued by Nobody's CA, which this instance does not trust"),
        ("lb2", json!({"certificate": "valid"}), "ok", "certificate for www.example.test expires in 365 days"),
    ];
    for (host, body, status, words) in table {
        let r = http.put(format!("{lab}/lab/hosts/{host}/certificate")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200, "{host} {body}: {}", r.text().await.unwrap_or_default());
        // One probe interval is 1 s: the round in flight plus one.
        eventually(Duration::from_secs(4), &format!("{host} after {body}: {status}, {words:?}"), || async {
            let (got, detail) = certificate(&base, host).await?;
            (got == status && detail.contains(words)).then_some(())
        })
        .await;
        let html = http.get(format!("{base}/topology")).send().await.unwrap().text().await.unwrap();
        let row = html.find(&format!("<tr data-host=\"{host}\"")).expect("the host's row");
        let row = &html[row..row + html[row..].find("</tr>").unwrap()];
        assert!(row.contains(&format!("data-certificate=\"{status}\"")), "{host} after {body}: {row}");
    }

    // The incident's wrong tier: www lands on lb1, which serves the API's certificate.
    http.put(format!("{lab}/lab/hosts/lb1/certificate")).json(&json!({"certificate": "valid"})).send().await.unwrap();
    let lb1 = server.estate().host("lb1").unwrap().address.to_string();
    let r = http.put(format!("{lab}/lab/records/www/A")).json(&json!({"ttl": 60, "values": [lb1]})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let words = "lb1 serves a certificate for api.example.test, not www.example.test";
    let www = eventually(Duration::from_secs(6), "www's certificates name lb1's", || async {
        let topology = json(&format!("{base}/api/v1/topology")).await?;
        let www = topology["hostnames"].as_array()?.iter().find(|h| h["name"] == "www.example.test")?.clone();
        let lb1 = www["certificates"].as_array()?.iter().find(|c| c["host"] == "lb1")?.clone();
        (lb1["status"] == "critical" && lb1["detail"] == words).then_some(www)
    })
    .await;
    // lb2, whose check asks for www, still serves a good one for it.
    let lb2 = www["certificates"].as_array().unwrap().iter().find(|c| c["host"] == "lb2").cloned();
    assert_eq!(lb2.map(|c| c["status"].clone()), Some(json!("ok")), "{www}");
    let html = http.get(format!("{base}/topology")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(words), "the hostnames table says why");

    // Bad requests say what is wrong; nothing changes.
    let r = http.put(format!("{lab}/lab/hosts/lb2/certificate")).json(&json!({"certificate": "stolen"})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("valid|expiring|expired|wrong_name|unknown_issuer"));
    let r = http.put(format!("{lab}/lab/hosts/db1/certificate")).json(&json!({"certificate": "valid"})).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("checked over https://"));
    let state = json(&format!("{lab}/lab/state")).await.unwrap();
    assert_eq!(state["certificates"]["lb2"]["certificate"], "valid", "{state}");

    server.stop().await;
}
