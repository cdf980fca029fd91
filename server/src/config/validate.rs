//! Cross-reference and value checks, one function per section. Each mistake names the key and
//! says what to write instead.

use super::model::*;
use super::{KeyPath, Mistake};
use std::net::IpAddr;

/// All mistakes in the estate, in file order as far as sections go.
pub(super) fn validate(estate: &Estate) -> Vec<Mistake> {
    let mut out = Vec::new();
    let root = KeyPath::root();
    regions(estate, &root, &mut out);
    instance(estate, &root.key("instance"), &mut out);
    probes(&estate.probes, &root.key("probes"), &mut out);
    tls(&estate.tls, &root.key("tls"), &mut out);
    replication(&estate.replication, &root.key("replication"), &mut out);
    backlog(&estate.backlog, &root.key("backlog"), &mut out);
    hosts(estate, &root, &mut out);
    hostnames_and_sites(estate, &root, &mut out);
    if let Some(zone) = &estate.zone {
        zone_records(zone, &root.key("zone"), &mut out);
        for (i, r) in zone.records.iter().enumerate() {
            let key = root.key("zone").key("records").index(i).key("failover");
            if !r.failover.is_empty() && !matches!(r.kind, RecordKind::A | RecordKind::Aaaa) {
                push(&mut out, key, format!("only A and AAAA records fail over; remove failover from this {} record", r.kind.as_str()));
            } else {
                failover_pool(estate, &r.failover, &key, &mut out);
            }
        }
    }
    resolvers(estate, &root, &mut out);
    databases(estate, &root, &mut out);
    loaders(estate, &root, &mut out);
    users(estate, &root, &mut out);
    auth(&estate.auth, &root.key("auth"), &mut out);
    site_checks(estate, &root, &mut out);
    control_nodes(estate, &root, &mut out);
    peers(estate, &root, &mut out);
    alerting(&estate.alerting, &root.key("alerting"), &mut out);
    // Subscribers are receivers of their own kind, checked the same way, named apart from
    // alerting's (the outbox keeps every notice under its receiver's name).
    let subscribers = &estate.status_page.subscribers;
    let subscribers_key = root.key("status_page").key("subscribers");
    alerting(&subscribers.as_receivers(), &subscribers_key, &mut out);
    let a = &estate.alerting;
    let alerting_names: Vec<&str> = a
        .webhooks
        .iter()
        .map(|r| r.name.as_str())
        .chain(a.slack.iter().map(|r| r.name.as_str()))
        .chain(a.pagerduty.iter().map(|r| r.name.as_str()))
        .chain(a.email.iter().map(|r| r.name.as_str()))
        .collect();
    for (kind, names) in [
        ("webhooks", subscribers.webhooks.iter().map(|w| w.name.as_str()).collect::<Vec<_>>()),
        ("slack", subscribers.slack.iter().map(|w| w.name.as_str()).collect()),
        ("email", subscribers.email.iter().map(|w| w.name.as_str()).collect()),
    ] {
        for (i, name) in names.into_iter().enumerate() {
            if alerting_names.contains(&name) {
                push(
                    &mut out,
                    subscribers_key.key(kind).index(i).key("name"),
                    format!("{name:?} names an alerting receiver too; give the subscriber its own name"),
                );
            }
        }
    }
    status_page(estate, &root.key("status_page"), &mut out);
    out
}

fn status_page(estate: &Estate, key: &KeyPath, out: &mut Vec<Mistake>) {
    let page = &estate.status_page;
    if page.title.trim().is_empty() || page.title.chars().count() > 100 {
        push(out, key.key("title"), "write the page's title, 1 to 100 characters");
    }
    if !(1..=100).contains(&page.stale_after_intervals) {
        push(out, key.key("stale_after_intervals"), format!("{} is out of range; write 1 to 100", page.stale_after_intervals));
    }
    if let Some(url) = &page.public_url {
        if !matches!(reqwest::Url::parse(url), Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some()) {
            push(out, key.key("public_url"), format!("{url:?} is not a web address; write e.g. \"https://status.example.com/\""));
        }
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in page.components.iter().enumerate() {
        let key = key.key("components").index(i);
        if c.name.trim().is_empty() || c.name.chars().count() > 100 {
            push(out, key.key("name"), "a component needs a public name, 1 to 100 characters");
        } else if !names.insert(c.name.as_str()) {
            push(out, key.key("name"), format!("a second component named {:?}; give each its own name", c.name));
        }
        match (c.manual, c.is_fed()) {
            (false, false) => {
                push(out, key.clone(), "name what feeds it (hosts, hostnames, sites, databases or loaders), or say manual = true")
            }
            (true, true) => push(out, key.key("manual"), "a manual component has no feeds; drop manual or the feeds"),
            _ => {}
        }
        let known = |field: &str, items: &[String], exists: &dyn Fn(&str) -> bool, out: &mut Vec<Mistake>| {
            for (j, item) in items.iter().enumerate() {
                if !exists(item) {
                    push(out, key.key(field).index(j), format!("no {} named {item:?} in this config", field.trim_end_matches('s')));
                }
            }
        };
        known("hosts", &c.hosts, &|n| estate.hosts.iter().any(|h| h.name == n), out);
        known("hostnames", &c.hostnames, &|n| estate.hostnames.iter().any(|h| h.name == n), out);
        known("sites", &c.sites, &|n| estate.sites.iter().any(|s| s.name == n), out);
        known("databases", &c.databases, &|n| estate.databases.iter().any(|d| d.name == n), out);
        known("loaders", &c.loaders, &|n| estate.loaders.iter().any(|l| l.name == n), out);
    }
}

fn alerting(a: &super::AlertingConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    for (i, url) in a.alertmanagers.iter().enumerate() {
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.path() == "/" => {}
            _ => push(
                out,
                key.key("alertmanagers").index(i),
                format!("{url:?} is not an Alertmanager's base URL; write its scheme, host and port, e.g. \"http://127.0.0.1:9093\""),
            ),
        }
    }
    if !(10..=3600).contains(&a.resend_seconds) {
        push(out, key.key("resend_seconds"), format!("{} is out of range; write 10 to 3600 (Prometheus uses 60)", a.resend_seconds));
    }
    // Direct receivers share the outbox, where a notice is kept under its receiver's name.
    let mut names = std::collections::BTreeSet::new();
    let mut named = |name: &str, key: &KeyPath, out: &mut Vec<Mistake>| {
        if name.trim().is_empty() {
            push(out, key.key("name"), "a receiver needs a name (it is shown on the Alerts page with each delivery)");
        } else if !names.insert(name.to_string()) {
            push(out, key.key("name"), format!("a second receiver named {name:?}; give each its own name"));
        }
    };
    let web_url = |url: &str| matches!(reqwest::Url::parse(url), Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some());
    for (i, hook) in a.webhooks.iter().enumerate() {
        let key = key.key("webhooks").index(i);
        named(&hook.name, &key, out);
        if !web_url(&hook.url) {
            push(out, key.key("url"), format!("{:?} is not an http:// or https:// URL of the receiver", hook.url));
        }
        if hook.secret.len() < 16 {
            push(out, key.key("secret"), "a webhook secret needs at least 16 characters; make one with `openssl rand -hex 32`");
        }
    }
    for (i, slack) in a.slack.iter().enumerate() {
        let key = key.key("slack").index(i);
        named(&slack.name, &key, out);
        if !web_url(&slack.url) {
            push(out, key.key("url"), format!("{:?} is not an http:// or https:// incoming webhook URL", slack.url));
        }
    }
    for (i, pd) in a.pagerduty.iter().enumerate() {
        let key = key.key("pagerduty").index(i);
        named(&pd.name, &key, out);
        if pd.routing_key.trim().is_empty() || pd.routing_key.len() > 64 {
            push(out, key.key("routing_key"), "write the integration key of the service's Events API v2 integration (32 characters)");
        }
        if !web_url(&pd.url) {
            push(out, key.key("url"), format!("{:?} is not an http:// or https:// URL; leave it out for PagerDuty's own", pd.url));
        }
    }
    for (i, mail) in a.email.iter().enumerate() {
        let key = key.key("email").index(i);
        named(&mail.name, &key, out);
        if mail.relay().is_none() {
            push(out, key.key("smtp"), format!("{:?} is not host:port, e.g. \"smtp.example.com:587\"", mail.smtp));
        }
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            push(out, key.key("from"), format!("{:?} is not an address, e.g. \"Crowsnest <crowsnest@example.com>\"", mail.from));
        }
        if mail.to.is_empty() {
            push(out, key.key("to"), "name at least one recipient");
        }
        for (j, to) in mail.to.iter().enumerate() {
            if to.parse::<lettre::message::Mailbox>().is_err() {
                push(out, key.key("to").index(j), format!("{to:?} is not an address"));
            }
        }
        if mail.username.is_some() != mail.password.is_some() {
            push(out, key.key("password"), "set both username and password, or neither");
        }
    }
    if a.group_wait_seconds > 600 {
        push(out, key.key("group_wait_seconds"), format!("{} is too long a wait before paging; write 0 to 600", a.group_wait_seconds));
    }
    if !(10..=7 * 86_400).contains(&a.repeat_seconds) {
        push(out, key.key("repeat_seconds"), format!("{} is out of range; write 10 to 604800 (Alertmanager uses 14400)", a.repeat_seconds));
    }
    for (rule, o) in &a.rules {
        let name: &'static str = rule.into();
        if let Some(runbook) = &o.runbook {
            if !matches!(reqwest::Url::parse(runbook), Ok(u) if matches!(u.scheme(), "http" | "https")) {
                push(out, key.key("rules").key(name).key("runbook"), format!("{runbook:?} is not an http:// or https:// link"));
            }
        }
        if o.for_seconds.is_some_and(|s| s > 86_400) {
            push(out, key.key("rules").key(name).key("for_seconds"), "write at most 86400 (a day)");
        }
    }
}

fn push(out: &mut Vec<Mistake>, key: KeyPath, message: impl Into<String>) {
    out.push(Mistake { key, message: message.into(), also: None });
}

/// A mistake involving two places (a duplicate): the message names the other one's line.
fn push_both(out: &mut Vec<Mistake>, key: KeyPath, also: KeyPath, message: impl Into<String>) {
    out.push(Mistake { key, message: message.into(), also: Some(also) });
}

fn one_of<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none are defined".to_string()
    } else {
        format!("expected one of: {}", names.join(", "))
    }
}

/// Names must be non-empty, unique within their section, and made of `[a-z0-9_.-]`.
fn unique_names<'a>(section: &str, names: impl Iterator<Item = &'a str>, root: &KeyPath, out: &mut Vec<Mistake>) {
    let mut seen = std::collections::HashMap::new();
    for (i, name) in names.enumerate() {
        let key = root.key(section).index(i).key("name");
        if name.is_empty() {
            push(out, key, format!("each entry of [[{section}]] needs a non-empty name"));
        } else if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)) {
            push(out, key, format!("name {name:?} may only contain a-z, 0-9, '_', '.' and '-'"));
        } else if let Some(first) = seen.insert(name, i) {
            let other = root.key(section).index(first).key("name");
            push_both(out, key, other, format!("duplicate name {name:?} in [[{section}]]; names must be unique"));
            seen.insert(name, first);
        }
    }
}

fn regions(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    if estate.regions.is_empty() {
        push(out, root.key("regions"), "define at least one [[regions]] entry");
        return;
    }
    unique_names("regions", estate.regions.iter().map(|r| r.name.as_str()), root, out);
    let primaries: Vec<usize> = (0..estate.regions.len()).filter(|&i| estate.regions[i].primary).collect();
    match primaries.as_slice() {
        [] => push(out, root.key("regions"), "no region is the primary; set `primary = true` on exactly one [[regions]] entry"),
        [_] => {}
        [_, rest @ ..] => {
            for &i in rest {
                push(
                    out,
                    root.key("regions").index(i).key("primary"),
                    format!(
                        "more than one primary region ({} and {}); exactly one may have `primary = true`",
                        estate.regions[primaries[0]].name, estate.regions[i].name
                    ),
                );
            }
        }
    }
}

fn instance(estate: &Estate, key: &KeyPath, out: &mut Vec<Mistake>) {
    if estate.instance.name.trim().is_empty() {
        push(out, key.key("name"), "instance.name must not be empty; it is shown in the banner");
    }
    if estate.instance.max_event_streams == 0 {
        push(out, key.key("max_event_streams"), "max_event_streams must be at least 1, or no page could go live");
    }
    if estate.instance.stalled_client_seconds == 0 {
        push(out, key.key("stalled_client_seconds"), "stalled_client_seconds must be at least 1: 0 would close every connection at once");
    }
    for (name, value) in [
        ("max_connections", estate.instance.max_connections as u64),
        ("header_read_timeout_seconds", estate.instance.header_read_timeout_seconds),
        ("request_timeout_seconds", estate.instance.request_timeout_seconds),
        ("max_streams_per_session", estate.instance.max_streams_per_session as u64),
    ] {
        if value == 0 {
            push(out, key.key(name), format!("instance.{name} must be at least 1"));
        }
    }
    if !estate.regions.iter().any(|r| r.name == estate.instance.region) {
        push(
            out,
            key.key("region"),
            format!("unknown region {:?}; {}", estate.instance.region, one_of(estate.regions.iter().map(|r| r.name.as_str()))),
        );
    }
    if let Some(url) = &estate.instance.control_db {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://") || url.starts_with("sqlite:")) {
            push(out, key.key("control_db"), "control_db must be a postgres://… or sqlite:… URL");
        }
    }
}

fn tls(t: &TlsConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    if t.critical_days >= t.warn_days {
        push(out, key.key("critical_days"), format!("critical_days ({}) must be below warn_days ({})", t.critical_days, t.warn_days));
    }
    if let Some(path) = &t.ca_file {
        // Read here without parsing (config imports no area); a file that holds no usable
        // certificate is reported when the probes load it.
        match std::fs::read_to_string(path) {
            Err(e) => push(out, key.key("ca_file"), format!("tls.ca_file {}: cannot read it: {e}", path.display())),
            Ok(text) if !text.contains("-----BEGIN CERTIFICATE-----") => {
                push(out, key.key("ca_file"), format!("tls.ca_file {}: holds no PEM certificate", path.display()))
            }
            Ok(_) => {}
        }
    } else if !t.system_roots {
        push(out, key.key("system_roots"), "with system_roots = false, set ca_file: otherwise no certificate can be trusted");
    }
}

fn probes(p: &ProbeConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    interval_and_timeout("probe", p.interval_seconds, p.timeout_ms, key, out);
    if p.stale_after_intervals == 0 {
        push(out, key.key("stale_after_intervals"), "stale_after_intervals must be at least 1");
    }
    if p.dns_concurrency == 0 {
        push(out, key.key("dns_concurrency"), "dns_concurrency must be at least 1");
    }
    if p.retention_hours == 0 {
        push(out, key.key("retention_hours"), "retention_hours must be at least 1");
    }
    if p.settle_rounds == 0 || p.settle_rounds > p.settle_window {
        push(
            out,
            key.key("settle_rounds"),
            format!("settle_rounds ({}) must be at least 1 and at most settle_window ({})", p.settle_rounds, p.settle_window),
        );
    }
    if p.flap_changes == 0 || p.flap_changes >= p.flap_window.max(1) {
        push(
            out,
            key.key("flap_changes"),
            format!(
                "flap_changes ({}) must be at least 1 and below flap_window ({}): a window of n rounds holds n-1 changes",
                p.flap_changes, p.flap_window
            ),
        );
    }
}

/// An interval of at least one second and a timeout that fits inside it.
fn interval_and_timeout(what: &str, interval_seconds: u64, timeout_ms: u64, key: &KeyPath, out: &mut Vec<Mistake>) {
    if interval_seconds == 0 {
        push(out, key.key("interval_seconds"), "interval_seconds must be at least 1");
    }
    if timeout_ms == 0 {
        push(out, key.key("timeout_ms"), "timeout_ms must be at least 1");
    } else if interval_seconds > 0 && timeout_ms >= interval_seconds * 1000 {
        push(
            out,
            key.key("timeout_ms"),
            format!(
                "timeout_ms ({timeout_ms}) must be shorter than the {what} interval ({} ms) so rounds never overlap",
                interval_seconds * 1000
            ),
        );
    }
}

fn replication(r: &ReplicationConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    interval_and_timeout("replication", r.interval_seconds, r.timeout_ms, key, out);
    if !(r.lag_warn_seconds.is_finite() && r.lag_warn_seconds > 0.0) {
        push(out, key.key("lag_warn_seconds"), "lag_warn_seconds must be a positive number of seconds");
    } else if !(r.lag_critical_seconds.is_finite() && r.lag_critical_seconds > r.lag_warn_seconds) {
        push(
            out,
            key.key("lag_critical_seconds"),
            format!("lag_critical_seconds must be greater than lag_warn_seconds ({})", r.lag_warn_seconds),
        );
    }
    if r.lag_warn_bytes <= 0 {
        push(out, key.key("lag_warn_bytes"), "lag_warn_bytes must be a positive number of bytes");
    } else if r.lag_critical_bytes <= r.lag_warn_bytes {
        push(out, key.key("lag_critical_bytes"), format!("lag_critical_bytes must be greater than lag_warn_bytes ({})", r.lag_warn_bytes));
    }
    if r.history_points == 0 || r.history_points > 10_000 {
        push(out, key.key("history_points"), "history_points must be between 1 and 10000");
    }
}

fn backlog(b: &BacklogConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    interval_and_timeout("scrape", b.interval_seconds, b.timeout_ms, key, out);
    if b.window_seconds < 2 * b.interval_seconds.max(1) {
        push(
            out,
            key.key("window_seconds"),
            format!(
                "window_seconds ({}) must cover at least two scrapes ({} s) so rates can be computed",
                b.window_seconds,
                2 * b.interval_seconds
            ),
        );
    }
    if b.stopped_after_seconds <= b.interval_seconds {
        push(
            out,
            key.key("stopped_after_seconds"),
            format!(
                "stopped_after_seconds ({}) must be longer than the scrape interval ({} s), or every loader looks stopped",
                b.stopped_after_seconds, b.interval_seconds
            ),
        );
    }
    if b.history_points == 0 || b.history_points > 10_000 {
        push(out, key.key("history_points"), "history_points must be between 1 and 10000");
    }
}

fn hosts(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("hosts", estate.hosts.iter().map(|h| h.name.as_str()), root, out);
    let mut addresses: std::collections::HashMap<IpAddr, usize> = std::collections::HashMap::new();
    for (i, host) in estate.hosts.iter().enumerate() {
        let key = root.key("hosts").index(i);
        if !estate.regions.iter().any(|r| r.name == host.region) {
            push(
                out,
                key.key("region"),
                format!(
                    "host {:?} is in unknown region {:?}; {}",
                    host.name,
                    host.region,
                    one_of(estate.regions.iter().map(|r| r.name.as_str()))
                ),
            );
        }
        if let Some(first) = addresses.get(&host.address).copied() {
            push_both(
                out,
                key.key("address"),
                root.key("hosts").index(first).key("address"),
                format!(
                    "address {} is used by another host, {:?}; each host needs its own so DNS answers can be labelled",
                    host.address, estate.hosts[first].name
                ),
            );
        } else {
            addresses.insert(host.address, i);
        }
        check(host, &key.key("check"), out);
    }
}

fn check(host: &HostConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    match (&host.check.http, host.check.tcp) {
        (None, None) => push(out, key.clone(), format!("host {:?} needs a check: set `http = \"http://…\"` or `tcp = PORT`", host.name)),
        (Some(_), Some(_)) => push(out, key.key("tcp"), format!("host {:?} has both an http and a tcp check; keep one", host.name)),
        (Some(url), None) => match reqwest::Url::parse(url) {
            Err(e) => push(out, key.key("http"), format!("{url:?} is not a URL: {e}")),
            Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
                push(out, key.key("http"), format!("scheme {:?} is not supported; use http:// or https://", u.scheme()))
            }
            Ok(_) => {}
        },
        (None, Some(0)) => push(out, key.key("tcp"), "tcp port must be between 1 and 65535"),
        (None, Some(_)) => {
            if host.check.expect_status.is_some() {
                push(out, key.key("expect_status"), "expect_status only applies to http checks");
            }
        }
    }
    if let Some(code) = host.check.expect_status {
        if !(100..=599).contains(&code) {
            push(out, key.key("expect_status"), format!("{code} is not an HTTP status (100–599)"));
        }
    }
}

fn hostnames_and_sites(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("sites", estate.sites.iter().map(|s| s.name.as_str()), root, out);
    let mut seen = std::collections::HashMap::new();
    for (i, h) in estate.hostnames.iter().enumerate() {
        let key = root.key("hostnames").index(i);
        if let Err(why) = dns_name(&h.name) {
            push(out, key.key("name"), format!("{:?} is not a DNS name: {why}", h.name));
        } else if let Some(first) = seen.get(&h.name.to_ascii_lowercase()).copied() {
            push_both(
                out,
                key.key("name"),
                root.key("hostnames").index(first).key("name"),
                format!("hostname {:?} is listed twice", h.name),
            );
        } else {
            seen.insert(h.name.to_ascii_lowercase(), i);
        }
        failover_pool(estate, &h.failover, &key.key("failover"), out);
        if let Some(site) = &h.site {
            if !estate.sites.iter().any(|s| &s.name == site) {
                push(out, key.key("site"), format!("unknown site {site:?}; {}", one_of(estate.sites.iter().map(|s| s.name.as_str()))));
            }
        }
    }
}

/// Each failover entry names an address, a host of the estate or `tier:<tier>` with hosts.
fn failover_pool(estate: &Estate, entries: &[String], key: &KeyPath, out: &mut Vec<Mistake>) {
    for (i, entry) in entries.iter().enumerate() {
        let known = if entry.parse::<IpAddr>().is_ok() {
            continue;
        } else if let Some(tier) = entry.strip_prefix("tier:") {
            estate.hosts.iter().any(|h| h.tier.as_str() == tier)
        } else {
            estate.host(entry).is_some()
        };
        if !known {
            push(
                out,
                key.index(i),
                format!(
                    "{entry:?} names no host of the estate; write a host name ({}), an address, or \"tier:api_lb\" for any host of a tier",
                    one_of(estate.hosts.iter().take(6).map(|h| h.name.as_str()))
                ),
            );
        }
    }
}

/// A DNS name: labels of 1–63 letters, digits or hyphens, 253 characters at most.
pub(super) fn dns_name(name: &str) -> Result<(), String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() {
        return Err("it is empty".into());
    }
    if trimmed.len() > 253 {
        return Err("it is longer than 253 characters".into());
    }
    for label in trimmed.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("label {label:?} must be 1 to 63 characters"));
        }
        if !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '*') {
            return Err(format!("label {label:?} may only contain letters, digits and '-'"));
        }
    }
    Ok(())
}

fn zone_records(zone: &ZoneConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    if let Err(why) = dns_name(&zone.origin) {
        push(out, key.key("origin"), format!("{:?} is not a DNS name: {why}", zone.origin));
    }
    for (i, r) in zone.records.iter().enumerate() {
        let rk = key.key("records").index(i);
        if r.name != "@" {
            if let Err(why) = dns_name(&r.name) {
                push(out, rk.key("name"), format!("{:?} is not a DNS name: {why}", r.name));
            }
        }
        if r.values.is_empty() {
            push(out, rk.key("values"), "a record needs at least one value");
        }
        if r.kind == RecordKind::Cname && r.values.len() > 1 {
            push(out, rk.key("values"), "a CNAME record has exactly one value");
        }
        for (j, v) in r.values.iter().enumerate() {
            if let Err(why) = record_value(r.kind, v) {
                push(out, rk.key("values").index(j), why);
            }
        }
    }
}

/// Checks one value in the presentation format of its type.
pub fn record_value(kind: RecordKind, value: &str) -> Result<(), String> {
    match kind {
        RecordKind::A => {
            value.parse::<std::net::Ipv4Addr>().map(|_| ()).map_err(|_| format!("{value:?} is not an IPv4 address, as an A record needs"))
        }
        RecordKind::Aaaa => value
            .parse::<std::net::Ipv6Addr>()
            .map(|_| ())
            .map_err(|_| format!("{value:?} is not an IPv6 address, as an AAAA record needs")),
        RecordKind::Cname | RecordKind::Ns => dns_name(value).map_err(|why| format!("{value:?} is not a DNS name: {why}")),
        RecordKind::Mx => {
            let mut parts = value.split_whitespace();
            match (parts.next().map(str::parse::<u16>), parts.next(), parts.next()) {
                (Some(Ok(_)), Some(host), None) => dns_name(host).map_err(|why| format!("MX exchange {host:?} is not a DNS name: {why}")),
                _ => Err(format!("{value:?} is not `PREFERENCE HOST`, as an MX record needs")),
            }
        }
        RecordKind::Txt => {
            if value.len() > 255 {
                Err("TXT strings are 255 bytes at most; split longer text into several values".into())
            } else {
                Ok(())
            }
        }
    }
}

fn resolvers(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("resolvers", estate.resolvers.iter().map(|r| r.name.as_str()), root, out);
    for (i, r) in estate.resolvers.iter().enumerate() {
        if r.address.port() == 0 {
            push(out, root.key("resolvers").index(i).key("address"), "resolver port must not be 0");
        }
    }
}

fn host_of_tier(estate: &Estate, name: &str, tier: Tier, what: &str, key: KeyPath, out: &mut Vec<Mistake>) {
    match estate.host(name) {
        None => push(
            out,
            key,
            format!("unknown host {name:?}; {}", one_of(estate.hosts.iter().filter(|h| h.tier == tier).map(|h| h.name.as_str()))),
        ),
        Some(h) if h.tier != tier => push(out, key, format!("{what} must run on a {tier} host, but {name:?} is tier {}", h.tier)),
        Some(_) => {}
    }
}

fn databases(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("databases", estate.databases.iter().map(|d| d.name.as_str()), root, out);
    for (i, db) in estate.databases.iter().enumerate() {
        let key = root.key("databases").index(i);
        let nodes = std::iter::once((key.key("primary"), &db.primary))
            .chain(db.replicas.iter().enumerate().map(|(j, n)| (key.key("replicas").index(j), n)));
        for (nk, node) in nodes {
            host_of_tier(estate, &node.host, Tier::Db, "a database node", nk.key("host"), out);
            if !(node.dsn.starts_with("postgres://") || node.dsn.starts_with("postgresql://")) {
                push(out, nk.key("dsn"), "dsn must be a postgres://… URL");
            } else if let Err(e) = node.dsn.parse::<sqlx::postgres::PgConnectOptions>() {
                push(out, nk.key("dsn"), format!("dsn is not a usable PostgreSQL URL: {e}"));
            }
        }
    }
}

fn loaders(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("loaders", estate.loaders.iter().map(|l| l.name.as_str()), root, out);
    for (i, l) in estate.loaders.iter().enumerate() {
        let key = root.key("loaders").index(i);
        host_of_tier(estate, &l.host, Tier::Loader, "a loader", key.key("host"), out);
        match &l.metrics_url {
            Some(url) => match reqwest::Url::parse(url) {
                Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                _ => push(out, key.key("metrics_url"), format!("{url:?} is not an http:// or https:// URL")),
            },
            None if l.push_token_sha256.is_none() => push(
                out,
                key.clone(),
                format!("loader {:?} has no way to report: set `metrics_url` to scrape it or `push_token_sha256` to let it push", l.name),
            ),
            None => {}
        }
        if let Some(hash) = &l.push_token_sha256 {
            if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                push(out, key.key("push_token_sha256"), "push_token_sha256 must be 64 hex digits: `printf %s TOKEN | sha256sum`");
            }
        }
        let names = &l.metric_names;
        for (field, name) in [
            ("queue_depth", &names.queue_depth),
            ("oldest_item_age_seconds", &names.oldest_item_age_seconds),
            ("enqueued_total", &names.enqueued_total),
            ("loaded_total", &names.loaded_total),
        ] {
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
            if !valid {
                push(
                    out,
                    key.key("metric_names").key(field),
                    format!("{name:?} is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)"),
                );
            }
        }
    }
}

fn users(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("users", estate.users.iter().map(|u| u.name.as_str()), root, out);
    for (i, u) in estate.users.iter().enumerate() {
        if !u.password_hash.starts_with("$argon2") {
            push(
                out,
                root.key("users").index(i).key("password_hash"),
                "password_hash must be an argon2 PHC string ($argon2id$…), never a plain password; \
                 make one with `crowsnest hash-password`",
            );
        }
    }
}

fn auth(auth: &AuthConfig, key: &KeyPath, out: &mut Vec<Mistake>) {
    if let Some(url) = &auth.public_url {
        match reqwest::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() && u.path() == "/" => {}
            _ => push(
                out,
                key.key("public_url"),
                format!("{url:?} is not an origin; write the scheme and host only, e.g. \"https://crowsnest.example.com\""),
            ),
        }
    }
    if let Some(hash) = &auth.metrics_token_sha256 {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            push(out, key.key("metrics_token_sha256"), "metrics_token_sha256 must be 64 hex digits: `printf %s TOKEN | sha256sum`");
        }
    }
    for (i, host) in auth.allowed_hosts.iter().enumerate() {
        let name = host.trim();
        if name.is_empty() || name.contains([':', '/', ' ']) || name.parse::<std::net::IpAddr>().is_ok() {
            push(
                out,
                key.key("allowed_hosts").index(i),
                format!("{host:?} is not a host name; write a name such as \"crowsnest.example.com\" (no scheme, port or address: addresses are always served)"),
            );
        }
    }
    for (name, value) in [
        ("idle_timeout_seconds", auth.idle_timeout_seconds),
        ("absolute_timeout_seconds", auth.absolute_timeout_seconds),
        ("failure_window_seconds", auth.failure_window_seconds),
        ("approval_ttl_seconds", auth.approval_ttl_seconds),
        ("max_failures_per_account", auth.max_failures_per_account as u64),
        ("max_failures_per_address", auth.max_failures_per_address as u64),
        ("account_backoff_after", auth.account_backoff_after as u64),
        ("concurrent_password_checks", auth.concurrent_password_checks as u64),
    ] {
        if value == 0 {
            push(out, key.key(name), format!("{name} must be at least 1"));
        }
    }
}

fn site_checks(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    for (i, site) in estate.sites.iter().enumerate() {
        let Some(url) = &site.check_url else { continue };
        let key = root.key("sites").index(i).key("check_url");
        match reqwest::Url::parse(url) {
            Ok(u) if u.scheme() == "http" && u.host().is_some() => {}
            _ => push(out, key, format!("{url:?} is not an http:// URL of the site's balancer, e.g. \"http://10.0.1.2/\"")),
        }
    }
}

fn control_nodes(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("control_nodes", estate.control_nodes.iter().map(|n| n.name.as_str()), root, out);
    for (i, node) in estate.control_nodes.iter().enumerate() {
        if !(node.url.starts_with("postgres://") || node.url.starts_with("postgresql://")) {
            push(out, root.key("control_nodes").index(i).key("url"), "a control node is a PostgreSQL server: write a postgres://… URL");
        }
    }
}

fn peers(estate: &Estate, root: &KeyPath, out: &mut Vec<Mistake>) {
    unique_names("peers", estate.peers.iter().map(|p| p.name.as_str()), root, out);
    for (i, peer) in estate.peers.iter().enumerate() {
        let key = root.key("peers").index(i);
        if peer.name == estate.instance.name {
            push(out, key.key("name"), format!("{:?} is this instance; list only the others", peer.name));
        }
        if !estate.regions.iter().any(|r| r.name == peer.region) {
            push(
                out,
                key.key("region"),
                format!("unknown region {:?}; {}", peer.region, one_of(estate.regions.iter().map(|r| r.name.as_str()))),
            );
        }
        match reqwest::Url::parse(&peer.url) {
            // https:// is verified against the system's roots plus tls.ca_file (tls::outbound).
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => push(
                out,
                key.key("url"),
                format!("{:?} is not an http:// or https:// base URL, e.g. \"https://crowsnest-sin.example.com\"", peer.url),
            ),
        }
        if peer.token.len() < 16 {
            push(out, key.key("token"), "a peer token needs at least 16 characters; make one with `openssl rand -hex 32`");
        }
        let hash = &peer.accept_token_sha256;
        if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
            push(
                out,
                key.key("accept_token_sha256"),
                "write the SHA-256 of the peer's token as 64 hex digits (`printf %s TOKEN | sha256sum`)",
            );
        }
    }
}
