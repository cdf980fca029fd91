//! One scenario per kind of config mistake: each asserts the key, the line and the words.

use super::*;
use std::path::Path;

const DEMO: &str = include_str!("../../../deploy/demo.toml");

/// Line (1-based) of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].matches('\n').count() + 1
}

/// Column (1-based, in characters) of the first occurrence of `needle` in `text`.
fn column_of(text: &str, needle: &str) -> usize {
    let at = text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in the text"));
    text[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "scenario expects {from:?} in demo.toml");
    text.replacen(from, to, 1)
}

struct Scenario {
    name: &'static str,
    /// Turns the valid demo config into a broken one.
    edit: fn(&str) -> String,
    /// The key path the error must name.
    key: &'static str,
    /// Words the message must contain.
    says: &'static str,
    /// Text in the broken config whose line the error must point at.
    at: &'static str,
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "TOML syntax error",
            edit: |t| replace_once(t, "interval_seconds = 5", "interval_seconds = = 5"),
            key: "(file)",
            says: "invalid TOML",
            at: "= 5",
        },
        Scenario {
            name: "unknown key (typo)",
            edit: |t| replace_once(t, "timeout_ms = 2000", "timeout_msec = 2000"),
            key: "probes.timeout_msec",
            says: "unknown field `timeout_msec`",
            at: "timeout_msec",
        },
        Scenario {
            name: "wrong type",
            edit: |t| replace_once(t, "interval_seconds = 5", "interval_seconds = \"five\""),
            key: "probes.interval_seconds",
            says: "invalid type",
            at: "\"five\"",
        },
        Scenario {
            name: "missing required key",
            edit: |t| replace_once(t, "name = \"sin\"\ndisplay = \"Singapore\"", "display = \"Singapore\""),
            key: "regions[1]",
            says: "missing field `name`",
            at: "[[regions]]\ndisplay = \"Singapore\"",
        },
        Scenario {
            name: "unknown tier",
            edit: |t| replace_once(t, "tier = \"web_lb\"                    # all web traffic", "tier = \"weblb\""),
            key: "hosts[1].tier",
            says: "unknown variant `weblb`",
            at: "\"weblb\"",
        },
        Scenario {
            name: "no primary region",
            edit: |t| replace_once(t, "primary = true", "primary = false"),
            key: "regions",
            says: "no region is the primary",
            at: "regions]]",
        },
        Scenario {
            name: "two primary regions",
            edit: |t| replace_once(t, "display = \"Amsterdam\"", "display = \"Amsterdam\"\nprimary = true"),
            key: "regions[2].primary",
            says: "more than one primary region (sjc and ams)",
            at: "primary = true\n\n# ---- San Jose",
        },
        Scenario {
            name: "duplicate host name",
            edit: |t| replace_once(t, "name = \"web1\"", "name = \"lb1\""),
            key: "hosts[2].name",
            says: "duplicate name \"lb1\"",
            at: "name = \"lb1\"\nregion = \"sjc\"\ntier = \"web\"",
        },
        Scenario {
            name: "host in an unknown region",
            edit: |t| replace_once(t, "region = \"sin\"\ntier = \"api_lb\"", "region = \"sgp\"\ntier = \"api_lb\""),
            key: "hosts[7].region",
            says: "unknown region \"sgp\"; expected one of: sjc, sin, ams",
            at: "region = \"sgp\"",
        },
        Scenario {
            name: "instance in an unknown region",
            edit: |t| replace_once(t, "region = \"sjc\"                     #", "region = \"nyc\" #"),
            key: "instance.region",
            says: "unknown region \"nyc\"",
            at: "region = \"nyc\"",
        },
        Scenario {
            name: "check with neither http nor tcp",
            edit: |t| replace_once(t, "check = { tcp = 2222 }", "check = { }"),
            key: "hosts[6].check",
            says: "needs a check",
            at: "check = { }",
        },
        Scenario {
            name: "check that is not a URL",
            edit: |t| replace_once(t, "check = { http = \"http://127.0.1.3:8080/healthz\" }", "check = { http = \"127.0.1.3:8080\" }"),
            key: "hosts[2].check.http",
            says: "\"127.0.1.3:8080\" is not a URL",
            at: "http = \"127.0.1.3:8080\"",
        },
        Scenario {
            name: "timeout not below the interval",
            edit: |t| replace_once(t, "timeout_ms = 2000", "timeout_ms = 5000"),
            key: "probes.timeout_ms",
            says: "must be shorter than the probe interval",
            at: "timeout_ms = 5000",
        },
        Scenario {
            name: "A record with a non-IPv4 value",
            edit: |t| replace_once(t, "values = [\"127.0.1.2\"]", "values = [\"127.0.1.256\"]"),
            key: "zone.records[0].values[0]",
            says: "is not an IPv4 address",
            at: "\"127.0.1.256\"",
        },
        Scenario {
            name: "hostname in an unknown site",
            edit: |t| replace_once(t, "site = \"web\"", "site = \"shop\""),
            key: "hostnames[0].site",
            says: "unknown site \"shop\"; expected one of: web, api",
            at: "site = \"shop\"",
        },
        Scenario {
            name: "database on a host of the wrong tier",
            edit: |t| replace_once(t, "primary = { host = \"db1\"", "primary = { host = \"web1\""),
            key: "databases[0].primary.host",
            says: "must run on a db host, but \"web1\" is tier web",
            at: "host = \"web1\"",
        },
        Scenario {
            name: "plain password instead of a hash",
            edit: |t| {
                let start = t.find("password_hash = \"$argon2id").unwrap();
                let end = start + t[start..].find('\n').unwrap();
                format!("{}password_hash = \"hunter2\"{}", &t[..start], &t[end..])
            },
            key: "users[0].password_hash",
            says: "never a plain password",
            at: "password_hash = \"hunter2\"",
        },
        Scenario {
            name: "unknown role",
            edit: |t| replace_once(t, "role = \"viewer\"", "role = \"superuser\""),
            key: "users[1].role",
            says: "unknown variant `superuser`",
            at: "\"superuser\"",
        },
        Scenario {
            name: "address that is not an IP",
            edit: |t| replace_once(t, "address = \"127.0.1.4\"", "address = \"api1.local\""),
            key: "hosts[3].address",
            says: "\"api1.local\" is not an IP address; write one like \"127.0.1.1\"",
            at: "\"api1.local\"",
        },
        Scenario {
            name: "two hosts on one address",
            edit: |t| replace_once(t, "address = \"127.0.1.4\"", "address = \"127.0.1.3\""),
            key: "hosts[3].address",
            says: "is used by another host, \"web1\"",
            at: "address = \"127.0.1.3\"\ncheck = { http = \"http://127.0.1.4",
        },
        Scenario {
            name: "critical lag below warn",
            edit: |t| replace_once(t, "lag_critical_seconds = 30.0", "lag_critical_seconds = 1.0"),
            key: "replication.lag_critical_seconds",
            says: "greater than lag_warn_seconds",
            at: "lag_critical_seconds = 1.0",
        },
        Scenario {
            name: "replication timeout longer than its interval",
            edit: |t| replace_once(t, "timeout_ms = 1500\nlag_warn", "timeout_ms = 2500\nlag_warn"),
            key: "replication.timeout_ms",
            says: "shorter than the replication interval",
            at: "timeout_ms = 2500",
        },
        Scenario {
            name: "rate window too short for two scrapes",
            edit: |t| replace_once(t, "window_seconds = 10", "window_seconds = 3"),
            key: "backlog.window_seconds",
            says: "at least two scrapes",
            at: "window_seconds = 3",
        },
        Scenario {
            name: "loader with no way to report",
            edit: |t| replace_once(t, "metrics_url = \"http://127.0.2.5:9100/metrics\"\n", ""),
            key: "loaders[1]",
            says: "no way to report",
            at: "[[loaders]]\nname = \"loader-sin\"",
        },
        Scenario {
            name: "push token that is not a hash",
            edit: |t| {
                replace_once(
                    t,
                    "metrics_url = \"http://127.0.2.5:9100/metrics\"",
                    "metrics_url = \"http://127.0.2.5:9100/metrics\"\npush_token_sha256 = \"secret\"",
                )
            },
            key: "loaders[1].push_token_sha256",
            says: "64 hex digits",
            at: "push_token_sha256 = \"secret\"",
        },
        Scenario {
            name: "unusable database URL",
            edit: |t| replace_once(t, "postgres://postgres@127.0.2.4:5432/postgres", "postgres://postgres@127.0.2.4:notaport/postgres"),
            key: "databases[0].replicas[0].dsn",
            says: "not a usable PostgreSQL URL",
            at: "dsn = \"postgres://postgres@127.0.2.4:notaport",
        },
    ]
}

#[test]
fn the_demo_config_is_valid() {
    let estate = parse(Path::new("demo.toml"), DEMO).expect("demo.toml must be valid");
    assert_eq!(estate.primary_region().name, "sjc");
    assert_eq!(estate.hosts.len(), 17);
    assert_eq!(estate.host("lb1").map(|h| h.tier), Some(Tier::ApiLb));
}

#[test]
fn the_region_examples_are_valid_and_differ_only_where_a_region_does() {
    let sjc = parse(Path::new("sjc-1.toml"), include_str!("../../../deploy/regions/sjc-1.toml")).expect("sjc-1.toml is valid");
    let sin = parse(Path::new("sin-1.toml"), include_str!("../../../deploy/regions/sin-1.toml")).expect("sin-1.toml is valid");
    assert_eq!((sjc.instance.region.as_str(), sin.instance.region.as_str()), ("sjc", "sin"));
    assert_eq!(sjc.control_nodes.len(), 2);
    assert_eq!(sjc.peers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["sin-1", "ams-1"]);
    assert_eq!(sin.peers.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["sjc-1", "ams-1"]);
    // The same estate: a promoted secondary adopts the same users, sites and records.
    assert_eq!(sjc.hosts.len(), sin.hosts.len());
    assert_eq!(
        crate::mode::drift::differences(&sin, &[], &["web".into(), "api".into()], &crate::control_state::desired_records(&sjc)).len(),
        1,
        "only the user, absent from an empty store, differs"
    );
}

#[test]
fn peers_and_control_nodes_are_checked() {
    let base = include_str!("../../../deploy/regions/sin-1.toml");
    // (edit from, to, message expected)
    let table = [
        ("url = \"http://10.0.0.20:3000\"", "url = \"ftp://10.0.0.20:3000\"", "is not an http:// or https:// base URL"),
        ("url = \"http://10.0.0.20:3000\"", "url = \"10.0.0.20\"", "is not an http:// or https:// base URL"),
        ("token = \"replace-with-openssl-rand-hex-32-sin-to-sjc\"", "token = \"short\"", "at least 16 characters"),
        ("0000000000000000000000000000000000000000000000000000000000000003", "abc", "64 hex digits"),
        ("name = \"sjc-1\"\nregion = \"sjc\"\nurl", "name = \"sin-1\"\nregion = \"sjc\"\nurl", "is this instance"),
        ("url = \"postgres://crowsnest@10.0.0.30:5432/crowsnest\"", "url = \"mysql://x\"", "write a postgres://… URL"),
    ];
    for (from, to, says) in table {
        assert!(base.contains(from), "sin-1.toml has {from:?}");
        let text = base.replacen(from, to, 1);
        let errors = parse(Path::new("sin-1.toml"), &text).expect_err(says);
        let report = report(&errors);
        assert!(report.contains(says), "{says:?} not in:\n{report}");
    }
}

#[test]
fn each_mistake_names_file_line_key_and_expectation() {
    let all = scenarios();
    assert!(all.len() >= 10);
    for s in all {
        let broken = (s.edit)(DEMO);
        let errors = match parse(Path::new("deploy/demo.toml"), &broken) {
            Ok(_) => panic!("{}: the broken config was accepted", s.name),
            Err(e) => e,
        };
        let found = errors
            .iter()
            .find(|e| e.key.to_string() == s.key)
            .unwrap_or_else(|| panic!("{}: no error at key {}; got:\n{}", s.name, s.key, report(&errors)));
        assert!(found.message.contains(s.says), "{}: message {:?} lacks {:?}", s.name, found.message, s.says);
        assert_eq!(found.line, line_of(&broken, s.at), "{}: wrong line for {found}", s.name);
        assert_eq!(found.column, column_of(&broken, s.at), "{}: wrong column for {found}", s.name);
        assert_eq!(found.file, Path::new("deploy/demo.toml"));
        let shown = found.to_string();
        assert!(shown.starts_with(&format!("deploy/demo.toml:{}:", found.line)), "{}: {shown}", s.name);
    }
}

#[test]
fn every_mistake_is_reported_not_just_the_first() {
    let broken = replace_once(DEMO, "region = \"sin\"\ntier = \"api_lb\"", "region = \"sgp\"\ntier = \"api_lb\"");
    let broken = replace_once(&broken, "site = \"web\"", "site = \"shop\"");
    let errors = parse(Path::new("x.toml"), &broken).unwrap_err();
    assert_eq!(errors.len(), 2, "{}", report(&errors));
}

#[test]
fn type_and_unknown_key_mistakes_are_all_reported_in_one_run() {
    // Three mistakes serde alone would stop at the first of.
    let broken = replace_once(DEMO, "interval_seconds = 5", "interval_seconds = \"five\"");
    let broken = replace_once(&broken, "tier = \"web_lb\"                    # all web traffic", "tier = [\"web_lb\"]");
    let broken = replace_once(&broken, "name = \"alice\"", "name = \"alice\"\nshoe_size = 9");
    let errors = parse(Path::new("x.toml"), &broken).unwrap_err();
    let shown = report(&errors);
    assert!(shown.starts_with("the configuration has 3 mistakes:"), "{shown}");
    let keys: Vec<String> = errors.iter().map(|e| e.key.to_string()).collect();
    assert_eq!(keys, ["probes.interval_seconds", "hosts[1].tier", "users[0].shoe_size"], "{shown}");
    assert!(errors[0].message.contains("expected a number"), "{shown}");
    assert_eq!(errors[1].message, "tier must be one tier name such as \"api_lb\", not a list ([\"web_lb\"])");
    assert!(errors[2].message.contains("unknown field `shoe_size`"), "{shown}");
    assert_eq!(errors[1].line, line_of(&broken, "tier = [\"web_lb\"]"));
}

#[test]
fn two_mistakes_in_one_table_and_a_cross_reference_are_all_reported() {
    let broken = replace_once(DEMO, "region = \"sin\"\ntier = \"api_lb\"", "region = \"sgp\"\ntier = \"api_lb\"");
    let broken = replace_once(&broken, "address = \"127.0.1.4\"", "address = \"api1.local\"\ncolour = \"blue\"");
    let errors = parse(Path::new("x.toml"), &broken).unwrap_err();
    let shown = report(&errors);
    let keys: Vec<String> = errors.iter().map(|e| e.key.to_string()).collect();
    // lb3 is hosts[7] in the file, though hosts[3] could not be built and is not in the estate.
    assert_eq!(keys, ["hosts[3].address", "hosts[3].colour", "hosts[7].region"], "{shown}");
}

#[test]
fn a_missing_key_is_one_mistake_and_drops_only_cross_checks() {
    // The table without its name cannot be built: one mistake for it, none made up elsewhere.
    // (web1: a host nothing else names; a name elsewhere would be a cross check of its own.)
    let broken = replace_once(DEMO, "name = \"web1\"\n", "");
    let broken = replace_once(&broken, "timeout_ms = 2000", "timeout_msec = 2000");
    let errors = parse(Path::new("x.toml"), &broken).unwrap_err();
    let shown = report(&errors);
    let keys: Vec<String> = errors.iter().map(|e| e.key.to_string()).collect();
    assert_eq!(keys, ["probes.timeout_msec", "hosts[2]"], "{shown}");
    assert!(errors[1].message.contains("missing field `name`"), "{shown}");
}

#[test]
fn a_duplicate_names_both_places() {
    let broken = replace_once(DEMO, "address = \"127.0.1.4\"", "address = \"127.0.1.3\"");
    let errors = parse(Path::new("x.toml"), &broken).unwrap_err();
    let first = line_of(&broken, "address = \"127.0.1.3\"");
    assert_eq!(errors.len(), 1, "{}", report(&errors));
    assert!(errors[0].message.ends_with(&format!("(the other is hosts[2].address, line {first})")), "{}", errors[0].message);
    let twice = replace_once(DEMO, "name = \"api.example.test\"", "name = \"www.example.test\"");
    let errors = parse(Path::new("x.toml"), &twice).unwrap_err();
    let first = line_of(&twice, "name = \"www.example.test\"");
    assert!(errors[0].message.contains(&format!("listed twice (the other is hostnames[0].name, line {first})")), "{}", report(&errors));
}

#[test]
fn failover_pools_name_hosts_of_the_estate() {
    let base = "failover = [\"lb3\", \"lb4\"]";
    let table = [
        ("failover = [\"lb3\", \"tier:api_lb\", \"192.0.2.1\"]", None),
        ("failover = [\"lb9\"]", Some("\"lb9\" names no host of the estate")),
        ("failover = [\"tier:nothing\"]", Some("\"tier:nothing\" names no host of the estate")),
    ];
    for (line, says) in table {
        let text = replace_once(DEMO, base, line);
        match (parse(Path::new("x.toml"), &text), says) {
            (Ok(estate), None) => {
                let pool = estate.failover_addresses(&estate.hostnames[1].failover, true);
                let want: std::collections::BTreeSet<String> =
                    ["127.0.2.1", "127.0.3.1", "127.0.1.1", "192.0.2.1"].iter().map(|s| s.to_string()).collect();
                assert_eq!(pool, want);
            }
            (Err(errors), Some(says)) => assert!(report(&errors).contains(says), "{}", report(&errors)),
            (got, _) => panic!("{line}: {:?}", got.map(|_| ())),
        }
    }
    let on_mx = replace_once(DEMO, "type = \"MX\"", "type = \"MX\"\nfailover = [\"lb3\"]");
    let errors = parse(Path::new("x.toml"), &on_mx).unwrap_err();
    assert!(report(&errors).contains("only A and AAAA records fail over"), "{}", report(&errors));
}

/// Found by fuzzing (fuzz/, target `config`): toml_edit panicked on this text.
#[test]
fn malformed_toml_found_by_fuzzing_is_a_mistake_not_a_panic() {
    let crashes: [&[u8]; 1] = [b"==\x07=[\n .f\x00\"\"=[\x0e["];
    for bytes in crashes {
        let text = std::str::from_utf8(bytes).unwrap();
        let errors = parse(Path::new("x.toml"), text).unwrap_err();
        assert!(errors[0].message.starts_with("invalid TOML"), "{}", report(&errors));
    }
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let errors = load(Path::new("/nonexistent/crowsnest.toml")).unwrap_err();
    assert!(errors[0].to_string().contains("/nonexistent/crowsnest.toml"));
    assert!(errors[0].message.contains("cannot read"));
}

/// One row per validation message not reached by the scenarios above: (edit from, edit to,
/// the key the mistake must name, words the message must hold). `every_message_is_tested`
/// keeps this list complete.
#[test]
fn every_validation_message_names_its_key() {
    #[rustfmt::skip]
    let table: Vec<(&str, &str, &str, &str)> = vec![
        ("name = \"lb1\"", "name = \"\"", "hosts[0].name", "each entry of [[hosts]] needs a non-empty name"),
        ("name = \"lb1\"", "name = \"LB1\"", "hosts[0].name", "may only contain a-z, 0-9, '_', '.' and '-'"),
        ("name = \"sjc-1\"", "name = \" \"", "instance.name", "instance.name must not be empty"),
        ("data_dir = \"data\"", "data_dir = \"data\"\nmax_event_streams = 0", "instance.max_event_streams", "max_event_streams must be at least 1"),
        ("data_dir = \"data\"", "data_dir = \"data\"\nstalled_client_seconds = 0", "instance.stalled_client_seconds", "stalled_client_seconds must be at least 1"),
        ("data_dir = \"data\"", "data_dir = \"data\"\nmax_connections = 0", "instance.max_connections", "instance.max_connections must be at least 1"),
        ("data_dir = \"data\"", "data_dir = \"data\"\ncontrol_db = \"mysql://x\"", "instance.control_db", "control_db must be a postgres://… or sqlite:… URL"),
        ("stale_after_intervals = 3", "stale_after_intervals = 0", "probes.stale_after_intervals", "stale_after_intervals must be at least 1"),
        ("[probes]", "[tls]\nwarn_days = 3\ncritical_days = 3\n\n[probes]", "tls.critical_days", "critical_days (3) must be below warn_days (3)"),
        ("[probes]", "[tls]\nsystem_roots = false\n\n[probes]", "tls.system_roots", "with system_roots = false, set ca_file: otherwise no certificate can be trusted"),
        ("[probes]", "[tls]\nca_file = \"/nonexistent/ca.pem\"\n\n[probes]", "tls.ca_file", "tls.ca_file /nonexistent/ca.pem: cannot read it"),
        ("[probes]", "[tls]\nca_file = \"/etc/passwd\"\n\n[probes]", "tls.ca_file", "tls.ca_file /etc/passwd: holds no PEM certificate"),
        ("[probes]", "[alerting]\nalertmanagers = [\"http://127.0.0.1:9093/api\"]\n\n[probes]", "alerting.alertmanagers[0]", "is not an Alertmanager's base URL"),
        ("[probes]", "[alerting]\nresend_seconds = 5\n\n[probes]", "alerting.resend_seconds", "5 is out of range; write 10 to 3600 (Prometheus uses 60)"),
        ("[probes]", "[alerting.rules.host_down]\nrunbook = \"wiki/host-down\"\n\n[probes]", "alerting.rules.host_down.runbook", "is not an http:// or https:// link"),
        ("[probes]", "[alerting.rules.host_down]\nfor_seconds = 90000\n\n[probes]", "alerting.rules.host_down.for_seconds", "write at most 86400 (a day)"),
        ("[probes]", "[[alerting.webhooks]]\nname = \"ops\"\nurl = \"hooks.example\"\nsecret = \"0123456789abcdef\"\n\n[probes]", "alerting.webhooks[0].url", "is not an http:// or https:// URL of the receiver"),
        ("[probes]", "[[alerting.webhooks]]\nname = \"ops\"\nurl = \"https://hooks.example/x\"\nsecret = \"short\"\n\n[probes]", "alerting.webhooks[0].secret", "a webhook secret needs at least 16 characters"),
        ("[probes]", "[[alerting.webhooks]]\nname = \"ops\"\nurl = \"https://hooks.example/x\"\nsecret = \"0123456789abcdef\"\n\n[[alerting.webhooks]]\nname = \"ops\"\nurl = \"https://hooks.example/y\"\nsecret = \"0123456789abcdef\"\n\n[probes]", "alerting.webhooks[1].name", "a second receiver named \"ops\"; give each its own name"),
        ("[probes]", "[[alerting.slack]]\nname = \" \"\nurl = \"https://hooks.slack.example/services/x\"\n\n[probes]", "alerting.slack[0].name", "a receiver needs a name"),
        ("[probes]", "[[alerting.slack]]\nname = \"chat\"\nurl = \"hooks.slack.example\"\n\n[probes]", "alerting.slack[0].url", "is not an http:// or https:// incoming webhook URL"),
        ("[probes]", "[[alerting.pagerduty]]\nname = \"pager\"\nrouting_key = \"\"\n\n[probes]", "alerting.pagerduty[0].routing_key", "write the integration key of the service's Events API v2 integration"),
        ("[probes]", "[[alerting.pagerduty]]\nname = \"pager\"\nrouting_key = \"0123456789abcdef0123456789abcdef\"\nurl = \"events\"\n\n[probes]", "alerting.pagerduty[0].url", "leave it out for PagerDuty's own"),
        ("[probes]", "[[alerting.email]]\nname = \"mail\"\nsmtp = \"smtp.example.com\"\nfrom = \"crowsnest@example.com\"\nto = [\"oncall@example.com\"]\n\n[probes]", "alerting.email[0].smtp", "is not host:port, e.g. \"smtp.example.com:587\""),
        ("[probes]", "[[alerting.email]]\nname = \"mail\"\nsmtp = \"smtp.example.com:587\"\nfrom = \"crowsnest\"\nto = [\"oncall@example.com\"]\n\n[probes]", "alerting.email[0].from", "is not an address, e.g. \"Crowsnest <crowsnest@example.com>\""),
        ("[probes]", "[[alerting.email]]\nname = \"mail\"\nsmtp = \"smtp.example.com:587\"\nfrom = \"crowsnest@example.com\"\nto = []\n\n[probes]", "alerting.email[0].to", "name at least one recipient"),
        ("[probes]", "[[alerting.email]]\nname = \"mail\"\nsmtp = \"smtp.example.com:587\"\nfrom = \"crowsnest@example.com\"\nto = [\"oncall\"]\n\n[probes]", "alerting.email[0].to[0]", "\"oncall\" is not an address"),
        ("[probes]", "[[alerting.email]]\nname = \"mail\"\nsmtp = \"smtp.example.com:587\"\nfrom = \"crowsnest@example.com\"\nto = [\"oncall@example.com\"]\nusername = \"crowsnest\"\n\n[probes]", "alerting.email[0].password", "set both username and password, or neither"),
        ("[probes]", "[alerting]\ngroup_wait_seconds = 3600\n\n[probes]", "alerting.group_wait_seconds", "is too long a wait before paging; write 0 to 600"),
        ("[probes]", "[alerting]\nrepeat_seconds = 5\n\n[probes]", "alerting.repeat_seconds", "5 is out of range; write 10 to 604800 (Alertmanager uses 14400)"),
        ("[probes]", "[[status_page.subscribers.slack]]\nname = \"customers\"\nurl = \"hooks.example\"\n\n[probes]", "status_page.subscribers.slack[0].url", "is not an http:// or https:// incoming webhook URL"),
        ("[probes]", "[[alerting.slack]]\nname = \"chat\"\nurl = \"https://hooks.slack.example/a\"\n\n[[status_page.subscribers.slack]]\nname = \"chat\"\nurl = \"https://hooks.slack.example/b\"\n\n[probes]", "status_page.subscribers.slack[0].name", "names an alerting receiver too; give the subscriber its own name"),
        ("title = \"Example status\"", "title = \"\"", "status_page.title", "write the page's title, 1 to 100 characters"),
        ("stale_after_intervals = 3          # older", "stale_after_intervals = 0          # older", "status_page.stale_after_intervals", "0 is out of range; write 1 to 100"),
        ("name = \"Website\"", "name = \" \"", "status_page.components[0].name", "a component needs a public name, 1 to 100 characters"),
        ("name = \"API\"\ngroup", "name = \"Website\"\ngroup", "status_page.components[1].name", "a second component named \"Website\"; give each its own name"),
        ("databases = [\"main\"]\nloaders = [\"loader-sjc\", \"loader-sin\", \"loader-ams\"]", "", "status_page.components[2]", "name what feeds it (hosts, hostnames, sites, databases or loaders), or say manual = true"),
        ("manual = true", "manual = true\nhosts = [\"lb1\"]", "status_page.components[3].manual", "a manual component has no feeds; drop manual or the feeds"),
        ("stale_after_intervals = 3          # older", "public_url = \"status.example.test\"\nstale_after_intervals = 3          # older", "status_page.public_url", "is not a web address"),
        ("hosts = [\"lb1\"]\nhostnames = [\"api.example.test\"]", "hosts = [\"lb9\"]\nhostnames = [\"api.example.test\"]", "status_page.components[1].hosts[0]", "no host named \"lb9\" in this config"),
        ("dns_concurrency = 64", "dns_concurrency = 0", "probes.dns_concurrency", "dns_concurrency must be at least 1"),
        ("retention_hours = 24", "retention_hours = 0", "probes.retention_hours", "retention_hours must be at least 1"),
        ("settle_rounds = 2", "settle_rounds = 4", "probes.settle_rounds", "must be at least 1 and at most settle_window (3)"),
        ("flap_changes = 4", "flap_changes = 8", "probes.flap_changes", "must be at least 1 and below flap_window (8)"),
        ("interval_seconds = 5", "interval_seconds = 0", "probes.interval_seconds", "interval_seconds must be at least 1"),
        ("timeout_ms = 2000", "timeout_ms = 0", "probes.timeout_ms", "timeout_ms must be at least 1"),
        ("lag_warn_seconds = 5.0", "lag_warn_seconds = -1.0", "replication.lag_warn_seconds", "lag_warn_seconds must be a positive number of seconds"),
        ("lag_warn_bytes = 16777216", "lag_warn_bytes = 0", "replication.lag_warn_bytes", "lag_warn_bytes must be a positive number of bytes"),
        ("lag_critical_bytes = 268435456", "lag_critical_bytes = 1", "replication.lag_critical_bytes", "lag_critical_bytes must be greater than lag_warn_bytes (16777216)"),
        ("history_points = 120\n\n[backlog]", "history_points = 0\n\n[backlog]", "replication.history_points", "history_points must be between 1 and 10000"),
        ("stopped_after_seconds = 10", "stopped_after_seconds = 2", "backlog.stopped_after_seconds", "must be longer than the scrape interval (2 s)"),
        ("history_points = 120\n\n[lab]", "history_points = 20000\n\n[lab]", "backlog.history_points", "history_points must be between 1 and 10000"),
        ("check = { tcp = 2222 }", "check = { tcp = 2222, http = \"http://127.0.1.7/\" }", "hosts[6].check.tcp", "has both an http and a tcp check; keep one"),
        ("check = { tcp = 2222 }", "check = { http = \"ftp://127.0.1.7/\" }", "hosts[6].check.http", "is not supported; use http:// or https://"),
        ("check = { tcp = 2222 }", "check = { http = \"file:///x\" }", "hosts[6].check.http", "scheme \"file\" is not supported"),
        ("region = \"sin\"\ntier = \"api_lb\"", "region = \"sgp\"\ntier = \"api_lb\"", "hosts[7].region", "host \"lb3\" is in unknown region \"sgp\""),
        ("failover = [\"lb3\", \"lb4\"]", "failover = [\"lb9\"]", "hostnames[1].failover[0]", "names no host of the estate; write a host name"),
        ("check = { tcp = 2222 }", "check = { tcp = 0 }", "hosts[6].check.tcp", "tcp port must be between 1 and 65535"),
        ("check = { tcp = 2222 }", "check = { tcp = 2222, expect_status = 200 }", "hosts[6].check.expect_status", "expect_status only applies to http checks"),
        ("check = { http = \"http://127.0.1.3:8080/healthz\" }", "check = { http = \"http://127.0.1.3:8080/healthz\", expect_status = 700 }", "hosts[2].check.expect_status", "700 is not an HTTP status (100–599)"),
        ("name = \"www.example.test\"", "name = \"www..example.test\"", "hostnames[0].name", "is not a DNS name: label \"\" must be 1 to 63 characters"),
        ("origin = \"example.test\"", "origin = \"\"", "zone.origin", "\"\" is not a DNS name: it is empty"),
        ("name = \"www\"\ntype = \"A\"", "name = \"w w\"\ntype = \"A\"", "zone.records[0].name", "may only contain letters, digits and '-'"),
        ("values = [\"127.0.1.2\"]", "values = []", "zone.records[0].values", "a record needs at least one value"),
        ("type = \"A\"\nttl = 60\nvalues = [\"127.0.1.2\"]", "type = \"CNAME\"\nttl = 60\nvalues = [\"a.example.test.\", \"b.example.test.\"]", "zone.records[0].values", "a CNAME record has exactly one value"),
        ("values = [\"10 mail.example.test.\"]", "values = [\"mail.example.test.\"]", "zone.records[3].values[0]", "is not `PREFERENCE HOST`, as an MX record needs"),
        ("values = [\"10 mail.example.test.\"]", "values = [\"10 mail..test.\"]", "zone.records[3].values[0]", "MX exchange \"mail..test.\" is not a DNS name"),
        ("address = \"127.0.0.1:5354\"", "address = \"127.0.0.1:0\"", "resolvers[0].address", "resolver port must not be 0"),
        ("primary = { host = \"db1\"", "primary = { host = \"db9\"", "databases[0].primary.host", "unknown host \"db9\"; expected one of: db1, db-sin, db-ams"),
        ("dsn = \"postgres://postgres@127.0.1.5:5432/postgres\"", "dsn = \"mysql://127.0.1.5\"", "databases[0].primary.dsn", "dsn must be a postgres://… URL"),
        ("metrics_url = \"http://127.0.1.6:9100/metrics\"", "metrics_url = \"ftp://127.0.1.6/metrics\"", "loaders[0].metrics_url", "is not an http:// or https:// URL"),
        ("metrics_url = \"http://127.0.1.6:9100/metrics\"", "metrics_url = \"http://127.0.1.6:9100/metrics\"\nmetric_names = { queue_depth = \"queue-depth\" }", "loaders[0].metric_names.queue_depth", "is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"),
        ("# public_url = \"https://crowsnest.example.com\"", "public_url = \"https://crowsnest.example.com/console\"", "auth.public_url", "is not an origin; write the scheme and host only"),
        ("idle_timeout_seconds = 3600", "idle_timeout_seconds = 0", "auth.idle_timeout_seconds", "idle_timeout_seconds must be at least 1"),
        ("idle_timeout_seconds = 3600", "idle_timeout_seconds = 3600\nmetrics_token_sha256 = \"abc\"", "auth.metrics_token_sha256", "metrics_token_sha256 must be 64 hex digits"),
        ("idle_timeout_seconds = 3600", "idle_timeout_seconds = 3600\nallowed_hosts = [\"https://x.example\"]", "auth.allowed_hosts[0]", "is not a host name; write a name such as"),
        ("check_url = \"http://127.0.0.1:8081/\"", "check_url = \"https://127.0.0.1:8081/\"", "sites[0].check_url", "is not an http:// URL of the site's balancer"),
        ("name = \"carol\"", "name = \"carol\"\n\n[[control_nodes]]\nname = \"n1\"\nurl = \"mysql://x\"", "control_nodes[0].url", "a control node is a PostgreSQL server"),
        ("name = \"carol\"", "name = \"carol\"\n\n[[peers]]\nname = \"sin-1\"\nregion = \"nyc\"\nurl = \"http://127.0.0.9:3000\"\ntoken = \"0123456789abcdef0123\"\naccept_token_sha256 = \"xyz\"", "peers[0].region", "unknown region \"nyc\""),
        ("name = \"carol\"", "name = \"carol\"\n\n[[peers]]\nname = \"sin-1\"\nregion = \"sin\"\nurl = \"http://127.0.0.9:3000\"\ntoken = \"0123456789abcdef0123\"\naccept_token_sha256 = \"xyz\"", "peers[0].accept_token_sha256", "write the SHA-256 of the peer's token as 64 hex digits"),
    ];
    for (from, to, key, says) in table {
        let broken = replace_once(DEMO, from, to);
        let errors = parse(Path::new("x.toml"), &broken).expect_err(says);
        let found = errors.iter().find(|e| e.key.to_string() == key && e.message.contains(says));
        assert!(found.is_some(), "no {key}: {says:?} in:\n{}", report(&errors));
    }
    // An empty list of regions is written at the top, before any table.
    let block = "[[regions]]\nname = \"sjc\"\ndisplay = \"San Jose\"\nprimary = true\n\n[[regions]]\nname = \"sin\"\ndisplay = \"Singapore\"\n\n[[regions]]\nname = \"ams\"\ndisplay = \"Amsterdam\"\n";
    let none = format!("regions = []\n{}", replace_once(DEMO, block, ""));
    let errors = parse(Path::new("x.toml"), &none).unwrap_err();
    assert!(
        errors.iter().any(|e| e.key.to_string() == "regions" && e.message == "define at least one [[regions]] entry"),
        "{}",
        report(&errors)
    );
}

/// The raw text of every string literal in Rust `source` (escapes left as written).
fn literals(source: &str) -> Vec<&str> {
    let (mut out, mut start, mut escaped) = (Vec::new(), None, false);
    for (i, c) in source.char_indices() {
        match (start, c) {
            (Some(_), '\\') if !escaped => escaped = true,
            (Some(s), '"') if !escaped => {
                out.push(&source[s..i]);
                start = None;
            }
            (Some(_), _) => escaped = false,
            (None, '"') => start = Some(i + 1),
            (None, _) => {}
        }
    }
    out
}

/// Every message `validate.rs` can give is asserted by some test in this file: a literal part
/// of the message (between its `{…}` placeholders) appears in a test's string, or a test's
/// string appears in it.
#[test]
fn every_message_is_tested() {
    let source = include_str!("validate.rs");
    let tests = &include_str!("tests.rs")[..include_str!("tests.rs").find("fn literals(").unwrap()];
    let asserted: Vec<&str> = literals(tests).into_iter().filter(|l| l.len() >= 12).collect();
    let mut untested = Vec::new();
    for (at, _) in source.match_indices("push(") {
        let call = &source[at..];
        let call = &call[..call.find(");\n").unwrap_or(call.len())];
        // The message: the longest literal with a space in the call.
        let Some(message) = literals(call).into_iter().filter(|l| l.contains(' ')).max_by_key(|l| l.len()) else { continue };
        let parts: Vec<&str> = message
            .split(['{', '}'])
            .step_by(2)
            .map(|p| p.trim_matches(|c: char| c.is_whitespace() || "():;,.\\".contains(c)))
            .filter(|p| p.len() >= 8)
            .collect();
        let tested = parts.iter().any(|p| asserted.iter().any(|t| t.contains(p) || p.contains(t)));
        if !parts.is_empty() && !tested {
            untested.push(message.to_string());
        }
    }
    assert!(untested.is_empty(), "validation messages no test asserts: {untested:#?}");
}
