//! Pages of a long list, problems first: what a 10,000-record zone needs to stay readable (and
//! a page small) with links that work without JavaScript. Pure, so it is table-tested.

use crate::model::{DnsRecord, Host, Status};

/// Rows per page.
pub const PER_PAGE: usize = 100;

/// The DNS filters from the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsQuery {
    /// Only records with this shown status word.
    pub status: Option<String>,
    /// Only records whose name contains this (lower case).
    pub name: Option<String>,
    /// 1-based page.
    pub page: usize,
}

/// One page of matching records and what the page's links need.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DnsPage {
    /// The records on this page, problems first.
    pub records: Vec<DnsRecord>,
    /// Records declared in all.
    pub total: usize,
    /// Records matching the filters.
    pub matching: usize,
    /// This page (clamped to the last).
    pub page: usize,
    /// Pages of matching records (at least 1).
    pub pages: usize,
    /// Declared records per shown status, most serious first: the page's counts.
    pub counts: Vec<(String, usize)>,
}

/// Filters, sorts problems first (most serious shown status, then name and type) and cuts one
/// page; only that page's records are copied, so a 10,000-record zone costs 100 clones.
pub fn dns_page(records: &[DnsRecord], query: &DnsQuery) -> DnsPage {
    let total = records.len();
    let mut counts: Vec<(crate::model::DnsStatus, usize)> = Vec::new();
    for r in records {
        match counts.iter_mut().find(|(s, _)| *s == r.status) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.status, 1)),
        }
    }
    counts.sort_by_key(|(s, _)| std::cmp::Reverse(s.rank()));
    let mut matching: Vec<&DnsRecord> = records
        .iter()
        .filter(|r| {
            query.status.as_deref().is_none_or(|s| r.status.as_str() == s) && query.name.as_deref().is_none_or(|n| r.name.contains(n))
        })
        .collect();
    matching.sort_by(|a, b| b.status.rank().cmp(&a.status.rank()).then_with(|| a.name.cmp(&b.name)).then_with(|| a.kind.cmp(&b.kind)));
    let matching_count = matching.len();
    let (rows, page, pages) = cut(matching, query.page);
    DnsPage {
        records: rows.into_iter().cloned().collect(),
        total,
        matching: matching_count,
        page,
        pages,
        counts: counts.into_iter().map(|(s, n)| (s.as_str().to_string(), n)).collect(),
    }
}

/// `/dns?status=…&name=…&page=N`: a link to another page or filter, keeping the others.
pub fn dns_href(status: Option<&str>, name: Option<&str>, page: usize) -> String {
    href("/dns", &[("status", status), ("name", name)], page)
}

/// The page of `items` numbered `requested` (clamped to 1..=pages), its number and the number of
/// pages (at least 1).
fn cut<T>(items: Vec<T>, requested: usize) -> (Vec<T>, usize, usize) {
    let pages = items.len().div_ceil(PER_PAGE).max(1);
    let page = requested.clamp(1, pages);
    (items.into_iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect(), page, pages)
}

/// `path?key=value&…&page=N` with the filters that are set, percent-encoded; page 1 is left out.
fn href(path: &str, filters: &[(&str, Option<&str>)], page: usize) -> String {
    let mut parts: Vec<String> = filters.iter().filter_map(|(key, value)| value.map(|v| format!("{key}={}", encode(v)))).collect();
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

/// The topology's host filters from the query string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostQuery {
    /// Only hosts with this status word (`ok`, `warn`, `critical`, `unknown`).
    pub status: Option<String>,
    /// Only hosts of this region key.
    pub region: Option<String>,
    /// Only hosts whose name, tier or address contains this (lower case).
    pub name: Option<String>,
    /// 1-based page.
    pub page: usize,
}

/// One page of matching hosts (each with its region's display name).
#[derive(Debug, Clone, PartialEq)]
pub struct HostPage {
    /// The hosts on this page, problems first, as (region display, host).
    pub hosts: Vec<(String, Host)>,
    /// Hosts in the estate.
    pub total: usize,
    /// Hosts matching the filters.
    pub matching: usize,
    /// This page (clamped to the last).
    pub page: usize,
    /// Pages of matching hosts (at least 1).
    pub pages: usize,
}

/// How serious a host status is, for ordering: critical, unknown, warn, ok.
fn host_rank(status: Status) -> u8 {
    match status {
        Status::Critical => 3,
        Status::Unknown => 2,
        Status::Warn => 1,
        Status::Ok => 0,
    }
}

/// Filters the estate's hosts, sorts problems first (then region order, then name) and cuts
/// one page.
pub fn host_page(hosts: Vec<(String, Host)>, query: &HostQuery) -> HostPage {
    let total = hosts.len();
    let mut hosts: Vec<(usize, (String, Host))> = hosts
        .into_iter()
        .enumerate()
        .filter(|(_, (_, h))| {
            query.status.as_deref().is_none_or(|s| h.health.status.as_str() == s)
                && query.region.as_deref().is_none_or(|r| h.region == r)
                && query.name.as_deref().is_none_or(|n| h.name.contains(n) || h.tier.contains(n) || h.address.contains(n))
        })
        .collect();
    // The estate's order (regions as configured) breaks ties, so a page is stable round to round.
    hosts.sort_by_key(|(i, (_, h))| (std::cmp::Reverse(host_rank(h.health.status)), *i));
    let matching = hosts.len();
    let (hosts, page, pages) = cut(hosts, query.page);
    HostPage { hosts: hosts.into_iter().map(|(_, h)| h).collect(), total, matching, page, pages }
}

/// `/topology?status=…&region=…&name=…&page=N`, keeping the other filters.
pub fn topology_href(query: &HostQuery) -> String {
    let filters = [("status", query.status.as_deref()), ("region", query.region.as_deref()), ("name", query.name.as_deref())];
    href("/topology", &filters, query.page)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DnsStatus::{self, *};

    fn record(name: &str, status: DnsStatus) -> DnsRecord {
        DnsRecord {
            name: name.into(),
            kind: "A".into(),
            declared: vec![],
            ttl: 60,
            required_tier: None,
            status,
            latest: status,
            flapping: None,
            detail: "".into(),
            since_ms: None,
            checked_at_ms: None,
            cells: vec![],
        }
    }

    /// 250 records: 245 ok, 3 missing, 2 wrong tier, spread through the names.
    fn zone() -> Vec<DnsRecord> {
        (0..250)
            .map(|i| {
                let status = match i {
                    7 | 120 | 249 => Missing,
                    50 | 200 => WrongTier,
                    _ => Ok,
                };
                record(&format!("host{i:03}.example.test."), status)
            })
            .collect()
    }

    fn q(status: Option<&str>, name: Option<&str>, page: usize) -> DnsQuery {
        DnsQuery { status: status.map(str::to_string), name: name.map(str::to_string), page }
    }

    #[test]
    fn problems_first_filtered_and_paged() {
        #[rustfmt::skip]
        let cases: Vec<(&str, DnsQuery, usize, usize, usize, usize, &str)> = vec![
            // (case, query, rows, matching, page, pages, first row)
            ("first page leads with the worst", q(None, None, 1), 100, 250, 1, 3, "host050.example.test."),
            ("last page is the rest", q(None, None, 3), 50, 250, 3, 3, "host198.example.test."),
            ("a page past the end is the last", q(None, None, 99), 50, 250, 3, 3, "host198.example.test."),
            ("page 0 is the first", q(None, None, 0), 100, 250, 1, 3, "host050.example.test."),
            ("status filter", q(Some("missing"), None, 1), 3, 3, 1, 1, "host007.example.test."),
            ("name filter", q(None, Some("host12"), 1), 10, 10, 1, 1, "host120.example.test."),
            ("nothing matches: one empty page", q(Some("split"), None, 1), 0, 0, 1, 1, ""),
        ];
        for (case, query, rows, matching, page, pages, first) in cases {
            let got = dns_page(&zone(), &query);
            assert_eq!((got.records.len(), got.matching, got.page, got.pages, got.total), (rows, matching, page, pages, 250), "{case}");
            assert_eq!(got.records.first().map_or("", |r| &*r.name), first, "{case}");
        }
        let counts = dns_page(&zone(), &q(None, None, 1)).counts;
        let counts: Vec<(&str, usize)> = counts.iter().map(|(s, n)| (s.as_str(), *n)).collect();
        assert_eq!(counts, [("wrong_tier", 2), ("missing", 3), ("ok", 245)]);
    }

    #[test]
    fn links_keep_the_filters_and_encode_them() {
        assert_eq!(dns_href(None, None, 1), "/dns");
        assert_eq!(dns_href(Some("missing"), None, 2), "/dns?status=missing&page=2");
        assert_eq!(dns_href(None, Some("www a&b"), 3), "/dns?name=www%20a%26b&page=3");
    }

    fn host(name: &str, region: &str, status: Status) -> (String, Host) {
        let health = crate::model::Health { status, latency_ms: None, checked_at_ms: None, detail: String::new(), flapping: None };
        let host = Host {
            name: name.into(),
            region: region.into(),
            tier: "web".into(),
            address: "127.0.0.1".into(),
            check: String::new(),
            health,
            certificate: None,
        };
        (region.to_uppercase(), host)
    }

    /// 300 hosts over three regions: 3 critical, 2 unknown, 1 warn, the rest ok.
    fn estate() -> Vec<(String, Host)> {
        (0..300)
            .map(|i| {
                let status = match i {
                    5 | 150 | 299 => Status::Critical,
                    40 | 260 => Status::Unknown,
                    77 => Status::Warn,
                    _ => Status::Ok,
                };
                host(&format!("h{i:03}"), ["sjc", "sin", "ams"][i / 100], status)
            })
            .collect()
    }

    fn hq(status: Option<&str>, region: Option<&str>, name: Option<&str>, page: usize) -> HostQuery {
        HostQuery { status: status.map(str::to_string), region: region.map(str::to_string), name: name.map(str::to_string), page }
    }

    #[test]
    fn hosts_problems_first_filtered_and_paged() {
        #[rustfmt::skip]
        let cases: Vec<(&str, HostQuery, usize, usize, usize, usize, &str)> = vec![
            // (case, query, rows, matching, page, pages, first row)
            ("critical first, in estate order", hq(None, None, None, 1), 100, 300, 1, 3, "h005"),
            ("last page", hq(None, None, None, 3), 100, 300, 3, 3, "h198"),
            ("past the end is the last", hq(None, None, None, 9), 100, 300, 3, 3, "h198"),
            ("status", hq(Some("unknown"), None, None, 1), 2, 2, 1, 1, "h040"),
            ("region", hq(None, Some("sin"), None, 1), 100, 100, 1, 1, "h150"),
            ("region and status", hq(Some("critical"), Some("ams"), None, 1), 1, 1, 1, 1, "h299"),
            ("name", hq(None, None, Some("h07"), 1), 10, 10, 1, 1, "h077"),
            ("nothing matches: one empty page", hq(Some("warn"), Some("sjc"), Some("h1"), 1), 0, 0, 1, 1, ""),
        ];
        for (case, query, rows, matching, page, pages, first) in cases {
            let got = host_page(estate(), &query);
            assert_eq!((got.hosts.len(), got.matching, got.page, got.pages, got.total), (rows, matching, page, pages, 300), "{case}");
            assert_eq!(got.hosts.first().map_or("", |(_, h)| h.name.as_str()), first, "{case}");
        }
        let first = host_page(estate(), &hq(None, None, None, 1));
        let order: Vec<&str> = first.hosts[..7].iter().map(|(_, h)| h.name.as_str()).collect();
        assert_eq!(order, ["h005", "h150", "h299", "h040", "h260", "h077", "h000"]);
    }

    #[test]
    fn topology_links_keep_the_filters() {
        assert_eq!(topology_href(&hq(None, None, None, 1)), "/topology");
        assert_eq!(
            topology_href(&hq(Some("critical"), Some("sin"), Some("lb 1"), 2)),
            "/topology?status=critical&region=sin&name=lb%201&page=2"
        );
    }
}
