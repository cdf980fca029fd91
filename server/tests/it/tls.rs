//! HTTPS checks against Debian's nginx on loopback, serving certificates from a CA this test
//! makes: a good one, one expiring in 3 days, an expired one, one for the wrong name and one
//! from an issuer nobody configured. Each handshake's certificate gets its status and words.

use crate::common;
use app::model::Status;
use crowsnest::tls::authority::Authority;
use crowsnest::tls::evaluate::{judge, Thresholds};
use crowsnest::tls::probe::Trust;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// nginx serving `certs` (address, chain, key), one server block each, answering 200.
pub(crate) fn serve_certificates(dir: &Path, certs: &[(SocketAddr, String, String)]) -> common::Nginx {
    serve_tls_in_front(dir, certs, None)
}

/// The same, passing every request to `upstream` over plain HTTP when given: TLS ends at nginx,
/// as deploy/README.md sets a console up.
pub(crate) fn serve_tls_in_front(dir: &Path, certs: &[(SocketAddr, String, String)], upstream: Option<SocketAddr>) -> common::Nginx {
    let answer = upstream.map_or_else(|| "return 200 \"ok\\n\";".to_string(), |u| format!("proxy_pass http://{u};"));
    let nginx = std::process::Command::new("sh").arg("-c").arg("command -v nginx || echo /usr/sbin/nginx").output().unwrap();
    let nginx = String::from_utf8_lossy(&nginx.stdout).trim().to_string();
    assert!(Path::new(&nginx).exists(), "nginx is needed for this test: scripts/setup.sh installs Debian's nginx");
    for sub in ["conf", "logs", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let mut servers = String::new();
    for (i, (addr, chain, key)) in certs.iter().enumerate() {
        let (crt, pem) = (dir.join(format!("conf/{i}.crt")), dir.join(format!("conf/{i}.key")));
        std::fs::write(&crt, chain).unwrap();
        std::fs::write(&pem, key).unwrap();
        servers.push_str(&format!(
            "server {{ listen {addr} ssl; server_name _; ssl_certificate {}; ssl_certificate_key {}; \
             location / {{ {answer} }} }}\n",
            crt.display(),
            pem.display()
        ));
    }
    let temp: String = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .iter()
        .map(|t| format!("{t}_temp_path {}/tmp/{t};\n", dir.display()))
        .collect();
    let conf = format!(
        "master_process off; worker_processes 1; pid {d}/nginx.pid; error_log {d}/logs/error.log;\n\
         events {{ worker_connections 256; }}\nhttp {{ access_log off;\n{temp}{servers}}}\n",
        d = dir.display()
    );
    std::fs::write(dir.join("conf/nginx.conf"), conf).unwrap();
    let child = std::process::Command::new(nginx)
        .arg("-p")
        .arg(format!("{}/", dir.display()))
        .args(["-c", "conf/nginx.conf", "-e", "stderr", "-g", "daemon off;"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("nginx starts");
    common::Nginx(child)
}

#[tokio::test]
async fn each_certificate_a_balancer_serves_gets_its_status_and_words() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, rogue) = (Authority::new("Crowsnest Test CA").unwrap(), Authority::new("Rogue CA").unwrap());
    let port = crowsnest::lab::free_port();
    let block = 60 + (std::process::id() % 100) as u8;
    let addr = |n: u8| SocketAddr::from(([127, block, 0, n], port));
    let www = ["www.example.test"];
    let issued = [
        (1, ca.issue_for_days(&www, 60).unwrap()),
        (2, ca.issue_for_days(&www, 3).unwrap()),
        (3, ca.issue_for_days(&www, -2).unwrap()),
        (4, ca.issue_for_days(&["api.example.test"], 60).unwrap()),
        (5, rogue.issue_for_days(&www, 60).unwrap()),
    ];
    let certs: Vec<_> = issued.iter().map(|(n, c)| (addr(*n), c.chain_pem.clone(), c.key_pem.clone())).collect();
    let _nginx = serve_certificates(&dir.path().join("nginx"), &certs);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.ca_pem()).unwrap();
    let trust = Trust::new(Some(&ca_file), false).unwrap();
    common::eventually(Duration::from_secs(10), "nginx to answer over TLS", || async {
        trust.get(addr(1), "www.example.test", "/healthz").await.ok()
    })
    .await;

    let thresholds = Thresholds { warn_days: 14, critical_days: 3 };
    #[rustfmt::skip]
    let table = [
        (1, Status::Ok, "certificate for www.example.test expires in 60 days"),
        (2, Status::Critical, "certificate for www.example.test expires in 3 days"),
        (3, Status::Critical, "lb3's certificate for www.example.test expired 2 days ago"),
        (4, Status::Critical, "lb4 serves a certificate for api.example.test, not www.example.test"),
        (5, Status::Critical, "lb5 serves a certificate for www.example.test issued by Rogue CA, which this instance does not trust"),
    ];
    for (n, status, words) in table {
        let (code, facts) = trust.get(addr(n), "www.example.test", "/healthz").await.unwrap_or_else(|e| panic!("lb{n}: {e}"));
        assert_eq!(code, 200, "lb{n}: the HTTP answer is read whatever the certificate");
        let (got, said) = judge(&format!("lb{n}"), "www.example.test", &facts, thresholds, crowsnest::clock::now_ms());
        assert_eq!(got, status, "lb{n}: {said}");
        assert!(said.contains(words), "lb{n}: {said:?} lacks {words:?}");
    }
    // The issuer is read from the certificate: the CA's name, not a guess.
    let (_, facts) = trust.get(addr(1), "www.example.test", "/").await.unwrap();
    assert_eq!(facts.issuer, "Crowsnest Test CA");
    // Without the lab CA configured, the good certificate is from an unknown issuer.
    let system_only = Trust::new(None, true).unwrap();
    let (_, facts) = system_only.get(addr(1), "www.example.test", "/").await.unwrap();
    assert_eq!(facts.verdict, crowsnest::tls::evaluate::Verdict::UnknownIssuer);
    // A closed port is a network error, not a certificate verdict.
    assert!(trust.get(SocketAddr::from(([127, block, 0, 9], port)), "www.example.test", "/").await.is_err());
}

/// The same five certificates, checked by a running console's health engine (`https://`
/// checks at each balancer's own address), reach the Topology page and the JSON in words.
#[tokio::test]
async fn certificate_statuses_reach_the_topology_page() {
    use common::{Check, Tier};
    let dir = tempfile::tempdir().unwrap();
    let (ca, rogue) = (Authority::new("Crowsnest Test CA").unwrap(), Authority::new("Rogue CA").unwrap());
    let port = crowsnest::lab::free_port();
    let block = 160 + (std::process::id() % 60) as u8;
    let ip = |n: u8| std::net::IpAddr::from([127, block, 0, n]);
    let www = ["www.example.test"];
    let issued = [
        (1, ca.issue_for_days(&www, 60).unwrap()),
        (2, ca.issue_for_days(&www, 10).unwrap()),
        (3, ca.issue_for_days(&www, -2).unwrap()),
        (4, ca.issue_for_days(&["api.example.test"], 60).unwrap()),
        (5, rogue.issue_for_days(&www, 60).unwrap()),
    ];
    let certs: Vec<_> = issued.iter().map(|(n, c)| (SocketAddr::new(ip(*n), port), c.chain_pem.clone(), c.key_pem.clone())).collect();
    let _nginx = serve_certificates(&dir.path().join("nginx"), &certs);
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.ca_pem()).unwrap();
    let mut builder = common::estate("sjc-1", "sjc", &dir.path().join("data"))
        .probes(1, 800)
        .set("tls", "ca_file", ca_file.display().to_string())
        .set("tls", "system_roots", false)
        .regions(&["sjc"]);
    for n in 1..=5 {
        let url = format!("https://www.example.test:{port}/healthz");
        builder = builder.host(&format!("lb{n}"), "sjc", Tier::WebLb, ip(n), Check::Http(url));
    }
    let mut estate = common::load(&builder);
    estate.auth.anonymous_role = Some(common::Role::Viewer);
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let server = crowsnest::run::Server::start(std::sync::Arc::new(estate), crowsnest::run::Site { root: site }, false).await.unwrap();
    let base = format!("http://{}", server.addr);
    let http = common::client();
    // (host, status, words), once damping has seen two rounds agree.
    #[rustfmt::skip]
    let want = [
        ("lb1", "ok", "certificate for www.example.test expires in 60 days"),
        ("lb2", "warn", "certificate for www.example.test expires in 10 days"),
        ("lb3", "critical", "lb3's certificate for www.example.test expired 2 days ago"),
        ("lb4", "critical", "lb4 serves a certificate for api.example.test, not www.example.test"),
        ("lb5", "critical", "issued by Rogue CA, which this instance does not trust"),
    ];
    let judged = common::poll(Duration::from_secs(20), Duration::from_millis(300), || {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let page = http.get(format!("{base}/topology")).send().await.map_err(|e| e.to_string())?;
            let page = page.text().await.map_err(|e| e.to_string())?;
            let shown = |host: &str, status: &str| page.contains(&format!("data-host=\"{host}\" data-status=\"{status}\""));
            if want.iter().all(|(host, status, words)| page.contains(words) && shown(host, status)) {
                Ok(page)
            } else {
                Err(page)
            }
        }
    })
    .await;
    let page = judged.unwrap_or_else(|page| {
        let missing: Vec<_> = want.iter().filter(|(_, _, w)| !page.contains(w)).collect();
        panic!("missing {missing:?} in the hosts table: {}", page.split("<h2>Hosts").nth(1).unwrap_or(&page))
    });
    let json: serde_json::Value = http.get(format!("{base}/api/v1/topology")).send().await.unwrap().json().await.unwrap();
    let hosts: Vec<&serde_json::Value> = json["regions"][0]["hosts"].as_array().map(|h| h.iter().collect()).unwrap_or_default();
    for (host, status, _) in want {
        let got = hosts.iter().find(|h| h["name"] == host).unwrap_or_else(|| panic!("{host} in {json}"));
        assert_eq!(got["health"]["status"], status, "{host}: {}", got["health"]["detail"]);
    }
    assert!(page.contains("GET https://www.example.test:"), "the check is described with its URL and address");
    assert!(page.contains("data-certificate=\"warn\""), "lb2's certificate is marked warn beside its check");
    // /metrics carries each certificate's days left and whether it verified.
    let metrics = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    for (host, days, trusted) in [("lb1", "59", "1"), ("lb2", "10", "1"), ("lb3", "-3", "0"), ("lb4", "59", "0"), ("lb5", "59", "0")] {
        let labels = format!("host=\"{host}\",region=\"sjc\",hostname=\"www.example.test\"");
        assert!(metrics.contains(&format!("crowsnest_certificate_trusted{{{labels}}} {trusted}\n")), "{host} trusted {trusted}: {metrics}");
        let line = metrics.lines().find(|l| l.starts_with(&format!("crowsnest_certificate_expiry_days{{{labels}}}"))).unwrap();
        let got: i64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!((got - days.parse::<i64>().unwrap()).abs() <= 1, "{host}: {line}");
    }
    server.stop().await;
}

/// PostgreSQL with `ssl = on` and a certificate from a test CA: the control store and the
/// replication engine connect with `sslmode=verify-full`; a wrong CA is refused, clearly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_verify_full_and_a_wrong_ca_refused() {
    use crowsnest::lab::pgcluster::Cluster;
    let dir = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let (ca, rogue) = (Authority::new("Crowsnest Test CA").unwrap(), Authority::new("Rogue CA").unwrap());
    let cluster = tokio::task::spawn_blocking({
        let root = dir.path().join("pg");
        move || Cluster::build(&root, &[], "", None)
    })
    .await
    .unwrap()
    .expect("initdb and a server start");
    let now = time::OffsetDateTime::now_utc();
    let cert = ca.issue(&["127.0.0.1"], now - time::Duration::days(1), now + time::Duration::days(90)).unwrap();
    let primary = cluster.primary.clone();
    tokio::task::spawn_blocking(move || primary.serve_tls(&cert.chain_pem, &cert.key_pem)).await.unwrap().expect("restarts with ssl = on");
    let (good, bad) = (keys.path().join("ca.pem"), keys.path().join("rogue.pem"));
    std::fs::write(&good, ca.ca_pem()).unwrap();
    std::fs::write(&bad, rogue.ca_pem()).unwrap();
    let dsn = |root: &Path| format!("{}?sslmode=verify-full&sslrootcert={}", cluster.primary.dsn(), root.display());

    // The control store: opened, migrated and written over TLS, and the server says so.
    let store = crowsnest::store::ControlStore::open(&dsn(&good)).await.expect("verify-full with the right CA connects");
    store.ensure_sites(&["web".into()]).await.unwrap();
    assert_eq!(store.sites().await.unwrap().len(), 1);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&dsn(&good)).await.unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetch_one(&mut conn).await.unwrap();
    assert!(ssl, "the connection is encrypted");

    // The replication engine's client reads the node over TLS too.
    let client = crowsnest::replication::observe::NodeClient::new(&dsn(&good), Duration::from_secs(5)).unwrap();
    let (observation, _) = client.observe(None).await;
    assert!(observation.facts.is_ok(), "{:?}", observation.facts);

    // A CA that did not sign the server's certificate is refused, in words that say why.
    let refused = crowsnest::store::ControlStore::open(&dsn(&bad)).await.err().expect("a wrong CA is refused").to_string();
    assert!(refused.contains("certificate") || refused.contains("TLS"), "{refused}");
    let client = crowsnest::replication::observe::NodeClient::new(&dsn(&bad), Duration::from_secs(5)).unwrap();
    let (observation, _) = client.observe(None).await;
    let why = observation.facts.expect_err("a wrong CA is refused").to_string();
    assert!(why.contains("cannot connect") && (why.contains("certificate") || why.contains("UnknownIssuer")), "{why}");
}

/// A peer behind nginx over https, asked with the test CA: its report comes back; asked with
/// the system's roots only, the link is refused for the certificate.
#[tokio::test]
async fn a_peer_over_https_with_a_ca_file() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let ca = Authority::new("Crowsnest Test CA").unwrap();
    let token = "sin-1-asks-sjc-1-over-https";
    let hash: String = sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let estate = common::load(&common::estate("sjc-1", "sjc", &dir.path().join("data")).probes(1, 800).regions(&["sjc", "sin"]).peer(
        "sin-1",
        "sin",
        "http://127.0.0.1:9",
        "unused-token-sjc-1-to-sin-1",
        &hash,
    ));
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    let sjc = crowsnest::run::Server::start(std::sync::Arc::new(estate), crowsnest::run::Site { root: site }, false).await.unwrap();
    let now = time::OffsetDateTime::now_utc();
    let cert = ca.issue(&["127.0.0.1"], now - time::Duration::days(1), now + time::Duration::days(90)).unwrap();
    let front = SocketAddr::from(([127, 0, 0, 1], crowsnest::lab::free_port()));
    let _nginx = serve_tls_in_front(&dir.path().join("nginx"), &[(front, cert.chain_pem, cert.key_pem)], Some(sjc.addr));
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.ca_pem()).unwrap();

    let asked = common::load(
        &common::estate("sin-1", "sin", &dir.path().join("sin"))
            .regions(&["sjc", "sin"])
            .set("tls", "ca_file", ca_file.display().to_string())
            .peer("sjc-1", "sjc", &format!("https://{front}"), token, &"0".repeat(64)),
    );
    let tls = asked.tls.clone();
    let peer = asked.peers[0].clone();
    let client = crowsnest::peers::client(Duration::from_secs(2), &tls);
    let report = common::eventually(Duration::from_secs(10), "sjc-1's report over https", || {
        let (client, peer) = (client.clone(), peer.clone());
        async move { crowsnest::peers::fetch(&client, &peer, Duration::from_secs(2)).await.ok() }
    })
    .await;
    assert_eq!(report.instance.name, "sjc-1");
    // What sjc-1 saw, for a peer's timeline: the same link and token; another token is refused.
    let now_ms = crowsnest::clock::now_ms();
    let path = format!("{}?from_ms={}&to_ms={}", crowsnest::timeline::PEER_PATH, now_ms - 600_000, now_ms + 60_000);
    let events: Vec<app::model::TimelineEvent> = crowsnest::peers::fetch_json(&client, &peer, &path, Duration::from_secs(2)).await.unwrap();
    assert!(events.iter().all(|e| e.vantage == "sjc-1" && e.region == "sjc"), "{events:?}");
    let stranger = crowsnest::config::PeerConfig { token: "not-any-peers-token-0123".into(), ..peer.clone() };
    let refused = crowsnest::peers::fetch_json::<Vec<app::model::TimelineEvent>>(&client, &stranger, &path, Duration::from_secs(2))
        .await
        .expect_err("a token no peer has is refused");
    assert!(refused.to_string().contains("401"), "{refused}");
    // Without the CA, the same link is refused: a peer is trusted only through its certificate.
    let untrusting = crowsnest::peers::client(Duration::from_secs(2), &crowsnest::config::TlsConfig::default());
    let refused = crowsnest::peers::fetch(&untrusting, &peer, Duration::from_secs(2)).await.expect_err("an unknown issuer is refused");
    assert!(refused.to_string().to_lowercase().contains("certificate"), "{refused}");
    sjc.stop().await;
}
