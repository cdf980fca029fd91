//! The DNS engine against a real Debian authoritative server: Knot DNS started by the test on a
//! loopback port in a temp dir, changed at runtime with its own tool (`knotc` transactions).

use crate::common::{self, eventually_ok, RecordKind, ResolverKind};
use app::model::DnsStatus;
use crowsnest::config;
use crowsnest::dns::engine::{self, RecordCheck};
use crowsnest::dns::evaluate::AddressBook;
use crowsnest::dns::WireResolver;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running knotd; killed on drop, whatever the test did.
struct Knot {
    child: Child,
    conf: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ZONE: &str = "$ORIGIN example.test.
$TTL 3600
@    IN SOA ns1 hostmaster 7 3600 600 86400 60
@    IN NS  ns1
ns1  IN A   127.0.0.1
www  60 IN A 127.0.1.2
api  60 IN A 127.0.1.1
";

impl Knot {
    fn start() -> Knot {
        let knotd = Path::new("/usr/sbin/knotd");
        assert!(knotd.exists(), "Knot DNS is needed for this test: scripts/setup.sh installs it (Debian package knot)");
        let dir = tempfile::tempdir().unwrap();
        let port = crowsnest::lab::free_port();
        std::fs::write(dir.path().join("example.test.zone"), ZONE).unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let conf = dir.path().join("knot.conf");
        let d = dir.path().display();
        std::fs::write(
            &conf,
            format!(
                "server:\n    rundir: \"{d}\"\n    listen: 127.0.0.1@{port}\n\
                 database:\n    storage: \"{d}/db\"\n\
                 control:\n    listen: \"{d}/knot.sock\"\n\
                 log:\n  - target: stderr\n    any: warning\n\
                 zone:\n  - domain: example.test\n    storage: \"{d}\"\n    file: example.test.zone\n    zonefile-sync: -1\n    journal-content: changes\n"
            ),
        )
        .unwrap();
        let child = Command::new(knotd).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("knotd starts");
        Knot { child, conf, port, _dir: dir }
    }

    /// Runs `knotc` with this instance's config.
    fn knotc(&self, args: &[&str]) {
        let out = Command::new("/usr/sbin/knotc").arg("-c").arg(&self.conf).args(args).output().unwrap();
        assert!(out.status.success(), "knotc {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// One knotc transaction on the zone.
    fn change(&self, edits: &[&[&str]]) {
        self.knotc(&["zone-begin", "example.test"]);
        for edit in edits {
            let mut args = vec![edit[0], "example.test"];
            args.extend_from_slice(&edit[1..]);
            self.knotc(&args);
        }
        self.knotc(&["zone-commit", "example.test"]);
    }
}

fn estate(port: u16) -> config::Estate {
    let b = common::dns_estate().set("zone", "serial", 7i64).record("api", RecordKind::A, 60, &["127.0.1.1"]).resolver(
        "knot",
        format!("127.0.0.1:{port}").parse().unwrap(),
        ResolverKind::Authoritative,
    );
    common::load(&b)
}

async fn www_status(estate: &config::Estate, checks: &[RecordCheck]) -> (DnsStatus, String) {
    let client = WireResolver::new(Duration::from_millis(500));
    let book = AddressBook::from_estate(estate);
    let round = engine::round(estate, checks, &client, &book, &Default::default(), 8, || 0).await;
    let (_, verdict, _) = round.into_iter().find(|(k, _, _)| k == "www.example.test. A").unwrap();
    (verdict.status, verdict.detail.to_string())
}

#[tokio::test]
async fn knot_changes_at_runtime_are_judged() {
    let knot = Knot::start();
    let estate = estate(knot.port);
    let checks = engine::checks(&estate, &[], 0);

    // Wait for knotd to load the zone and answer.
    eventually_ok(Duration::from_secs(10), || async {
        match www_status(&estate, &checks).await {
            (DnsStatus::Ok, _) => Ok(()),
            (status, detail) => Err(format!("knotd never answered: {status:?} {detail}")),
        }
    })
    .await;

    // Repoint www at lb1 (the API tier): wrong tier.
    knot.change(&[&["zone-unset", "www", "A"], &["zone-set", "www", "60", "A", "127.0.1.1"]]);
    let (status, detail) = www_status(&estate, &checks).await;
    assert_eq!(status, DnsStatus::WrongTier, "{detail}");
    assert!(detail.contains("lb1 · api_lb · San Jose"), "{detail}");

    // Back to lb2 with a shorter TTL than declared: ttl_mismatch from an authoritative server.
    knot.change(&[&["zone-unset", "www", "A"], &["zone-set", "www", "30", "A", "127.0.1.2"]]);
    let (status, detail) = www_status(&estate, &checks).await;
    assert_eq!(status, DnsStatus::TtlMismatch, "{detail}");

    // An extra address outside the estate next to the declared one.
    knot.change(&[&["zone-unset", "www", "A"], &["zone-set", "www", "60", "A", "127.0.1.2"], &["zone-set", "www", "60", "A", "192.0.2.7"]]);
    let (status, detail) = www_status(&estate, &checks).await;
    assert_eq!(status, DnsStatus::UnexpectedExtra, "{detail}");
    assert!(detail.contains("outside the estate"), "{detail}");

    // Deleted: missing.
    knot.change(&[&["zone-unset", "www", "A"]]);
    let (status, detail) = www_status(&estate, &checks).await;
    assert_eq!(status, DnsStatus::Missing, "{detail}");

    // Re-added as declared: ok again.
    knot.change(&[&["zone-set", "www", "60", "A", "127.0.1.2"]]);
    assert_eq!(www_status(&estate, &checks).await.0, DnsStatus::Ok);
}
