//! DNS against the lab: runtime changes, the incident's failures, a lagging secondary, a stale cache, a big zone paged.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lab_dns_server_answers_and_changes_at_runtime() {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RData, RecordType};
    use std::str::FromStr;

    let (server, _dir) = start(2).await;
    let lab = server.lab.as_ref().unwrap();
    let dns = lab.dns_addr.unwrap();
    let control = format!("http://{}", lab.control_addr);
    let ask = |name: &'static str| async move {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut query = Message::query();
        query.add_query(Query::query(Name::from_str(name).unwrap(), RecordType::A));
        socket.send_to(&query.to_vec().unwrap(), dns).await.unwrap();
        let mut buf = [0u8; 1500];
        let n = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf)).await.unwrap().unwrap();
        let answer = Message::from_vec(&buf[..n]).unwrap();
        let addrs: Vec<String> = answer
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0.to_string()),
                _ => None,
            })
            .collect();
        (answer.metadata.response_code.to_string(), addrs)
    };
    let b = block(2);
    assert_eq!(ask("www.example.test.").await, ("No Error".to_string(), vec![format!("127.{b}.1.2")]));

    // Repoint www at lb1 (the API tier): the incident's first failure.
    let http = client();
    let r = http
        .put(format!("{control}/lab/records/www/A"))
        .json(&serde_json::json!({"ttl": 30, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(ask("www.example.test.").await.1, vec![format!("127.{b}.1.1")]);

    // Delete it: the incident's second failure.
    let r = http.delete(format!("{control}/lab/records/www/A")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (rcode, addrs) = ask("www.example.test.").await;
    assert!(addrs.is_empty(), "deleted record still answers {addrs:?} ({rcode})");

    // Bad values are refused with the reason.
    let r = http
        .put(format!("{control}/lab/records/www/A"))
        .json(&serde_json::json!({"ttl": 30, "values": ["not-an-ip"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not an IPv4 address"));
    server.stop().await;
}

async fn dns_record(base: &str, key: &str) -> Option<serde_json::Value> {
    let dns: serde_json::Value = client().get(format!("{base}/api/v1/dns")).send().await.ok()?.json().await.ok()?;
    dns["records"]
        .as_array()?
        .iter()
        .find(|r| format!("{} {}", r["name"].as_str().unwrap_or(""), r["kind"].as_str().unwrap_or("")) == key)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_incident_dns_failures_show_on_the_dns_page() {
    let (server, _dir) = start(3).await;
    let b = block(3);
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();

    // Two agreeing rounds settle www as ok.
    let www = eventually(Duration::from_secs(5), "www ok", || async {
        let r = dns_record(&base, "www.example.test. A").await?;
        (r["status"] == "ok").then_some(r)
    })
    .await;
    assert_eq!(www["required_tier"], "web_lb");
    assert!(www["declared"][0].as_str().unwrap().contains("lb2 · web_lb · San Jose"), "{www}");
    assert_eq!(www["cells"][0]["status"], "ok");

    // Repoint www at lb1, the API tier's balancer: the latest round says wrong_tier at once…
    let r = http
        .put(format!("{lab}/lab/records/www/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let latest = eventually(Duration::from_secs(8), "www latest wrong_tier", || async {
        let r = dns_record(&base, "www.example.test. A").await?;
        (r["latest"] == "wrong_tier").then_some(r)
    })
    .await;
    assert!(latest["detail"].as_str().unwrap().contains("lb1 · api_lb · San Jose"), "{latest}");
    // …and the alarm holds once two of three rounds agree.
    eventually(Duration::from_secs(8), "www settled wrong_tier", || async {
        (dns_record(&base, "www.example.test. A").await?["status"] == "wrong_tier").then_some(())
    })
    .await;

    // Topology says where www actually lands, and that it is the wrong tier.
    let topology: serde_json::Value = http.get(format!("{base}/api/v1/topology")).send().await.unwrap().json().await.unwrap();
    let host = topology["hostnames"].as_array().unwrap().iter().find(|h| h["name"] == "www.example.test").unwrap().clone();
    assert_eq!(host["dns_status"], "wrong_tier");
    assert_eq!(host["lands_on"][0], format!("127.{b}.1.1 = lb1 · api_lb · San Jose"));
    let html = http.get(format!("{base}/topology")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("WRONG TIER"), "the topology page must raise wrong tier loudly");

    // The overview names it.
    let overview: serde_json::Value = http.get(format!("{base}/api/v1/overview")).send().await.unwrap().json().await.unwrap();
    let dns_area = overview["areas"].as_array().unwrap().iter().find(|a| a["key"] == "dns").unwrap().clone();
    assert_eq!(dns_area["status"], "critical");
    assert!(dns_area["summary"].as_str().unwrap().contains("www.example.test. A wrong_tier"), "{dns_area}");

    // Delete the record: missing, once the secondary has the change and the cache let go.
    http.delete(format!("{lab}/lab/records/www/A")).send().await.unwrap();
    eventually(Duration::from_secs(12), "www missing", || async {
        (dns_record(&base, "www.example.test. A").await?["status"] == "missing").then_some(())
    })
    .await;

    // The DNS page renders the rows with their statuses, and filters without JavaScript.
    let html = http.get(format!("{base}/dns?status=missing")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-record=\"www.example.test. A\""), "filtered page lacks www");
    assert!(!html.contains("data-record=\"api.example.test. A\""), "filter let api through");
    let html = http.get(format!("{base}/dns?name=api")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-record=\"api.example.test. A\"") && !html.contains("data-record=\"www.example.test. A\""));

    // The record's page keeps its history: every status it went through, newest first.
    let html = http.get(format!("{base}/dns/record?key=www.example.test.%20A")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("<h1>www.example.test. A</h1>"), "no detail heading");
    let missing = html.find("data-change-status=\"missing\"").expect("missing in history");
    let wrong = html.find("data-change-status=\"wrong_tier\"").expect("wrong_tier in history");
    let ok = html.find("data-change-status=\"ok\"").expect("ok in history");
    assert!(missing < wrong && wrong < ok, "history must be newest first");
    assert!(html.contains(&format!("lab-auth: 127.{b}.1.1")), "answers are kept with the change");
    let html = http.get(format!("{base}/dns/record?key=nope.example.test.%20A")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("No such record"));
    server.stop().await;
}

/// The demo's two authoritative servers and its caching resolver (unbound), for real: a paused
/// secondary lags (its serial behind, named as the cause of the split), and after it catches up
/// the cache still serves the old answer for its TTL, shown as stale, never as wrong.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_secondary_and_a_stale_cache_show_as_themselves() {
    let (server, _dir) = start(6).await;
    let b = block(6);
    let base = format!("http://{}", server.addr);
    let lab_addr = server.lab.as_ref().unwrap();
    assert!(lab_addr.secondary_addr.is_some(), "the demo runs a secondary");
    assert!(lab_addr.cache_addr.is_some(), "unbound is installed by scripts/setup.sh and started by the lab");
    let lab = format!("http://{}", lab_addr.control_addr);
    let http = client();
    let status = |key: &'static str| {
        let base = base.clone();
        async move { dns_record(&base, key).await }
    };
    eventually(Duration::from_secs(15), "api ok at all three resolvers", || async {
        let r = status("api.example.test. A").await?;
        let cells = r["cells"].as_array()?;
        (r["status"] == "ok" && cells.len() == 3 && cells.iter().all(|c| c["status"] == "ok")).then_some(())
    })
    .await;

    // The secondary stops taking transfers; api moves to lb2 (the web tier) on the primary only.
    let r = http.post(format!("{lab}/lab/dns/transfers")).json(&serde_json::json!({"paused": true})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    http.put(format!("{lab}/lab/records/api/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.3.1")]}))
        .send()
        .await
        .unwrap();
    // lb4 is in api's failover pool: the primary says failed_over, the lagging secondary still
    // says ok. They disagree, both acceptable: failed over, with lab-auth-2's serial behind.
    let seen = eventually(Duration::from_secs(15), "lab-auth-2's serial named behind", || async {
        let dns: serde_json::Value = http.get(format!("{base}/api/v1/dns")).send().await.ok()?.json().await.ok()?;
        let overview: serde_json::Value = http.get(format!("{base}/api/v1/overview")).send().await.ok()?.json().await.ok()?;
        let area = overview["areas"].as_array()?.iter().find(|a| a["key"] == "dns")?.clone();
        let lagging = area["summary"].as_str()?.contains("lab-auth-2 publishes");
        (lagging && dns["soa"].as_array()?.len() == 2).then_some(area)
    })
    .await;
    assert_eq!(seen["status"], "warn", "{seen}");
    // Now an answer outside the pool on the primary: the secondary still has the old zone, so
    // the record is split, and the secondary's old serial is named as the likely cause.
    http.put(format!("{lab}/lab/records/api/A")).json(&serde_json::json!({"ttl": 60, "values": ["192.0.2.10"]})).send().await.unwrap();
    let split = eventually(Duration::from_secs(15), "api split", || async {
        let r = status("api.example.test. A").await?;
        (r["latest"] == "split").then_some(r)
    })
    .await;
    let detail = split["detail"].as_str().unwrap();
    assert!(detail.contains("lab-auth says wrong_target"), "{detail}");
    // The primary's own answer is the new one; the lagging secondary answers the declared value.
    assert!(detail.contains("lab-auth-2 says ok"), "{detail}");

    // Put it back and let the secondary catch up: the servers agree again, and whatever the
    // cache still holds is stale until it expires, then ok.
    http.put(format!("{lab}/lab/records/api/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    http.post(format!("{lab}/lab/dns/transfers")).json(&serde_json::json!({"paused": false})).send().await.unwrap();
    eventually(Duration::from_secs(15), "api ok everywhere again", || async {
        let r = status("api.example.test. A").await?;
        let cells = r["cells"].as_array()?;
        (r["status"] == "ok" && cells.iter().all(|c| c["status"] == "ok")).then_some(())
    })
    .await;
    let state: serde_json::Value = http.get(format!("{lab}/lab/state")).send().await.unwrap().json().await.unwrap();
    assert_eq!(state["secondary"]["serial"], state["serial"], "{state}");
    assert_eq!(state["secondary"]["transfers"], "running");
    server.stop().await;
}

/// unbound (the lab's cache) still holds an answer the servers no longer give: the record is
/// `stale`, a warning naming what the cache holds and for how long, never wrong or split.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cache_holding_an_old_answer_is_stale_not_wrong() {
    let (server, _dir) = start_edited(11, false, |e| e.lab.dns_cache_max_ttl_seconds = 30).await;
    let b = block(11);
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    let cell = |r: &serde_json::Value, resolver: &str| {
        r["cells"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["resolver"] == resolver))
            .map(|c| c["detail"].as_str().unwrap_or("").to_string())
    };
    // Put an outsider on both servers and wait until the cache has taken it (it may first have
    // to let go of the declared answer it holds).
    http.put(format!("{lab}/lab/records/api/A")).json(&serde_json::json!({"ttl": 60, "values": ["192.0.2.10"]})).send().await.unwrap();
    eventually(Duration::from_secs(45), "the cache holds the outsider", || async {
        let r = dns_record(&base, "api.example.test. A").await?;
        cell(&r, "lab-cache")?.contains("192.0.2.10").then_some(())
    })
    .await;
    // The servers are fixed; the cache keeps the outsider for up to 30 s more.
    http.put(format!("{lab}/lab/records/api/A"))
        .json(&serde_json::json!({"ttl": 60, "values": [format!("127.{b}.1.1")]}))
        .send()
        .await
        .unwrap();
    let r = eventually(Duration::from_secs(10), "servers right, cache stale", || async {
        let r = dns_record(&base, "api.example.test. A").await?;
        (r["latest"] == "stale" && cell(&r, "lab-auth")?.contains("lb1") && cell(&r, "lab-auth-2")?.contains("lb1")).then_some(r)
    })
    .await;
    let cached = cell(&r, "lab-cache").unwrap();
    assert!(cached.starts_with("its cache still holds 192.0.2.10 (outside the estate)"), "{cached}");
    assert!(cached.contains("the authoritative servers answer as declared"), "{cached}");
    assert_eq!(r["cells"].as_array().unwrap().iter().find(|c| c["resolver"] == "lab-cache").unwrap()["status"], "stale");
    server.stop().await;
}

/// A zone of 250 more records: the DNS page shows problems first, 100 rows a page, counts per
/// status, and page links that work without JavaScript.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_zone_is_paged_problems_first() {
    let b = block(10);
    let (server, _dir) = start_edited(10, false, |e| {
        let zone = e.zone.as_mut().expect("the demo declares a zone");
        for i in 0..250 {
            zone.records.push(config::RecordConfig {
                name: format!("host{i:03}"),
                kind: config::RecordKind::A,
                ttl: 60,
                values: vec![format!("127.{b}.2.1")],
                failover: vec![],
            });
        }
    })
    .await;
    let base = format!("http://{}", server.addr);
    let lab = format!("http://{}", server.lab.as_ref().unwrap().control_addr);
    let http = client();
    // One record goes missing at the servers.
    http.delete(format!("{lab}/lab/records/host123/A")).send().await.unwrap();
    let html = eventually(Duration::from_secs(20), "host123 missing, first on page 1", || async {
        let html = http.get(format!("{base}/dns")).send().await.ok()?.text().await.ok()?;
        // Settled as missing (two agreeing rounds), not merely first while still unchecked.
        let first = html.find("<tr data-record=")?;
        let tag = &html[first..first + html[first..].find('>')?];
        (tag.starts_with("<tr data-record=\"host123.example.test. A\"") && tag.contains("data-dns-status=\"missing\"")).then_some(html)
    })
    .await;
    assert_eq!(html.matches("<tr data-record=").count(), 100, "one page of rows");
    assert!(html.contains("Page 1 of 3"), "the pager says where we are");
    assert!(html.contains("matching (255 declared), problems first"), "counts in words");
    let count = html.split("<li data-count=\"missing\">").nth(1).and_then(|rest| rest.split("</li>").next()).expect("a count for missing");
    assert!(count.contains("href=\"/dns?status=missing\"") && count.contains("<strong>1</strong>"), "counts link to their filter: {count}");
    assert!(html.contains("href=\"/dns?page=2\""), "a next link");
    // The last page, by its link alone.
    let last = http.get(format!("{base}/dns?page=3")).send().await.unwrap().text().await.unwrap();
    assert_eq!(last.matches("<tr data-record=").count(), 55);
    assert!(last.contains("Page 3 of 3") && last.contains("href=\"/dns?page=2\""));
    // A filter keeps its pages small too.
    let missing = http.get(format!("{base}/dns?status=missing")).send().await.unwrap().text().await.unwrap();
    assert_eq!(missing.matches("<tr data-record=").count(), 1);
    assert!(!missing.contains("Page 1 of"), "one page needs no pager");
    // The JSON API is paged the same way: never every record in one body.
    let api: serde_json::Value = http.get(format!("{base}/api/v1/dns")).send().await.unwrap().json().await.unwrap();
    assert_eq!(api["records"].as_array().map(Vec::len), Some(100), "one page of records");
    assert_eq!(
        (api["paging"]["page"].as_u64(), api["paging"]["pages"].as_u64(), api["paging"]["per_page"].as_u64()),
        (Some(1), Some(3), Some(100))
    );
    let api: serde_json::Value = http.get(format!("{base}/api/v1/dns?page=3")).send().await.unwrap().json().await.unwrap();
    assert_eq!(api["records"].as_array().map(Vec::len), Some(55), "the last page");
    let bad = http.get(format!("{base}/api/v1/dns?page=x")).send().await.unwrap();
    assert_eq!(bad.status(), 400, "a bad page is a clear error");
    server.stop().await;
}
