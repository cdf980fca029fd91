//! Requested versus observed: each site with a `check_url` is fetched through its balancer
//! with the site's hostname as `Host`, as its users would, to see whether they really get the
//! maintenance page.

use crate::clock::now_ms;
use crate::config::Estate;
use app::action::SiteObservation;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Marker every rendered maintenance page carries (`deploy/maintenance.html`).
pub const MAINTENANCE_MARKER: &str = "data-crowsnest-maintenance";

/// Latest observation per site.
#[derive(Clone, Default)]
pub struct Observations(Arc<RwLock<HashMap<String, SiteObservation>>>);

impl Observations {
    /// The latest look at `site`.
    pub fn get(&self, site: &str) -> Option<SiteObservation> {
        self.0.read().ok()?.get(site).cloned()
    }

    /// The latest look at every site looked at.
    pub fn all(&self) -> std::collections::BTreeMap<String, SiteObservation> {
        self.0.read().map(|map| map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
    }

    fn put(&self, site: &str, seen: SiteObservation) {
        if let Ok(mut map) = self.0.write() {
            map.insert(site.to_string(), seen);
        }
    }
}

/// Looks at one site through its balancer.
pub async fn look(client: &reqwest::Client, url: &str, host: &str) -> SiteObservation {
    let at_ms = now_ms();
    match client.get(url).header(reqwest::header::HOST, host).send().await {
        Err(e) => SiteObservation { at_ms, status_code: None, maintenance_seen: false, detail: format!("no answer: {e}") },
        Ok(response) => {
            let code = response.status().as_u16();
            // Only the first 64 KiB: a maintenance page is small, a real page need not be read.
            let mut body = Vec::new();
            let mut response = response;
            while let Ok(Some(chunk)) = response.chunk().await {
                body.extend_from_slice(&chunk);
                if body.len() > 64 * 1024 {
                    break;
                }
            }
            let seen = code == 503 && String::from_utf8_lossy(&body).contains(MAINTENANCE_MARKER);
            SiteObservation { at_ms, status_code: Some(code), maintenance_seen: seen, detail: format!("answers {code}") }
        }
    }
}

/// Looks at every site with a check once per probe interval, until aborted.
pub async fn run(estate: Arc<Estate>, observations: Observations) {
    let checks: Vec<(String, String, String)> = estate
        .sites
        .iter()
        .filter_map(|s| {
            let url = s.check_url.clone()?;
            let host = estate.hostnames.iter().find(|h| h.site.as_deref() == Some(&s.name))?.name.clone();
            Some((s.name.clone(), url, host))
        })
        .collect();
    if checks.is_empty() {
        return;
    }
    let Ok(client) = crate::tls::outbound(estate.tls.ca_file.as_deref(), estate.tls.system_roots)
        .timeout(Duration::from_millis(estate.probes.timeout_ms))
        .build()
    else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(estate.probes.interval_seconds));
    loop {
        tick.tick().await;
        for (site, url, host) in &checks {
            observations.put(site, look(&client, url, host).await);
        }
    }
}
