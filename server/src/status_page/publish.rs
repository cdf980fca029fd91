//! The status page as static files, rendered from one [`Page`] (pure) and written into the
//! edge directory's `status/` (atomically, JSON before HTML) for this region's nginx to serve
//! with every Crowsnest process stopped:
//! - `index.html`: the page, readable without JavaScript; a few lines of inline script mark
//!   every component unknown once the page is older than its stale limit by the reader's clock;
//! - `api/v2/summary.json`, `api/v2/status.json`, `api/v2/components.json`: Statuspage's shape;
//! - `api/v2/incidents.json`, `incidents/unresolved.json`, `scheduled-maintenances.json`,
//!   `scheduled-maintenances/upcoming.json` and `/active.json`: incidents in Statuspage's shape;
//! - `history.atom`: incidents and maintenance as an Atom feed, one entry per incident with an
//!   id that never changes (from its key, the same in every region);
//! - `badge.svg`: the overall status as a badge.

use super::evaluate::{indicator, ComponentStatus, Uptime};
use crate::html::escape;
use app::model::{Impact, Incident, IncidentKind, IncidentState};
use serde_json::{json, Value};
use std::path::Path;

/// One component as published.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// Its public name.
    pub name: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// Its one line for the public.
    pub description: Option<String>,
    /// Its status now.
    pub status: ComponentStatus,
    /// Since when (unix milliseconds) it has had that status, as far as this instance knows.
    pub since_ms: i64,
    /// Its last 90 days, as this instance saw them (none before its history is read).
    pub uptime: Option<Uptime>,
    /// What each region sees of it, this one first (empty without peers, or for what peers do
    /// not report: databases, loaders, manual components).
    pub regions: Vec<(String, ComponentStatus)>,
}

impl Shown {
    /// As the console's Status page shows it.
    pub fn public(&self) -> app::model::PublicComponent {
        app::model::PublicComponent {
            name: self.name.clone(),
            group: self.group.clone(),
            status: self.status.word().to_string(),
            words: self.status.words().to_string(),
            since_ms: self.since_ms,
        }
    }
}

/// Everything one publication says.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The page's title.
    pub title: String,
    /// Where the console is, for the page's link (empty: none).
    pub url: String,
    /// The instance that wrote it, e.g. `sin-1`.
    pub instance: String,
    /// Its region's display name, e.g. `Singapore`.
    pub region: String,
    /// As of when (unix milliseconds).
    pub as_of_ms: i64,
    /// After how long (milliseconds) a reader should treat it as stale.
    pub stale_after_ms: i64,
    /// The components, in config order.
    pub components: Vec<Shown>,
    /// Incidents and maintenance of the last 90 days as of `as_of_ms`, newest first.
    pub incidents: Vec<Incident>,
    /// Where the public reads the page (empty: links are relative).
    pub public_url: String,
}

/// Statuspage's impact word for an incident.
fn impact_word(i: &Incident) -> &'static str {
    match (i.kind, i.impact) {
        (IncidentKind::Maintenance, _) => "maintenance",
        (_, Impact::None) => "none",
        (_, Impact::DegradedPerformance) => "minor",
        (_, Impact::PartialOutage) => "major",
        (_, Impact::MajorOutage) => "critical",
    }
}

/// `YYYY-MM-DD` of a day number (days since 1970-01-01).
fn date(day: i64) -> String {
    app::format::utc(day * 86_400_000).chars().take(10).collect()
}

/// The uptime in JSON: the figure and a bar a day, oldest first.
fn uptime_json(u: &Uptime) -> Value {
    let bars: Vec<Value> = u.bars.iter().map(|b| json!({"date": date(b.day), "status": b.worst.map(ComponentStatus::word)})).collect();
    json!({"days": u.bars.len(), "percent": u.percent.map(|p| (p * 1000.0).round() / 1000.0), "bars": bars})
}

/// The uptime as the page shows it: a bar a day (its colour the worst status, its title the
/// day and status) and the figure.
fn uptime_html(u: &Uptime) -> String {
    let figure = match u.percent {
        Some(p) => format!("{} % up over {} days", trim_percent(p), u.bars.len()),
        None => format!("No data yet for the last {} days", u.bars.len()),
    };
    let bars: String = u
        .bars
        .iter()
        .map(|b| {
            let (word, words) = b.worst.map_or(("none", "no data"), |w| (w.word(), w.words()));
            format!("<span data-day=\"{word}\" title=\"{}: {words}\"></span>", date(b.day))
        })
        .collect();
    format!("<div class=\"uptime\"><div class=\"bars\" role=\"img\" aria-label=\"{figure}\">{bars}</div><small>{figure}</small></div>")
}

/// What each region sees: "Up from Singapore and Amsterdam; major outage from San Jose".
fn regions_html(regions: &[(String, ComponentStatus)]) -> String {
    let mut by_status: Vec<(ComponentStatus, Vec<&str>)> = Vec::new();
    for (region, status) in regions {
        match by_status.iter_mut().find(|(s, _)| s == status) {
            Some((_, names)) => names.push(region),
            None => by_status.push((*status, vec![region])),
        }
    }
    let said: Vec<String> = by_status
        .iter()
        .map(|(status, names)| {
            let names = match names.as_slice() {
                [one] => one.to_string(),
                [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
                [] => String::new(),
            };
            format!("<span data-region-status=\"{}\">{} from {}</span>", status.word(), status.words(), escape(&names))
        })
        .collect();
    format!("<small class=\"regions\">{}</small>", said.join("; "))
}

/// A percentage with as many decimals as it needs (100, 99.95, 99.999).
fn trim_percent(p: f64) -> String {
    let s = format!("{p:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An id in UUID form from a key: Atom wants an IRI that never changes, and a key is the same
/// in every region.
pub fn uuid_of(key: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("crowsnest incident\u{1f}{key}").as_bytes());
    let hex: String = d[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("urn:uuid:{}-{}-5{}-8{}-{}", &hex[..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
}

/// RFC 3339 in UTC, as Statuspage writes times.
fn time(ms: i64) -> String {
    crate::alerts::alertmanager::rfc3339(ms)
}

/// A stable id for a name (Statuspage's ids are opaque strings; ours survive a restart).
fn id(kind: &str, name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{kind}\u{1f}{name}").as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

impl Page {
    fn indicator(&self) -> (&'static str, &'static str) {
        indicator(&self.components.iter().map(|c| c.status).collect::<Vec<_>>())
    }

    fn page_json(&self) -> Value {
        json!({
            "id": id("page", &self.title),
            "name": self.title,
            "url": self.url,
            "time_zone": "Etc/UTC",
            "updated_at": time(self.as_of_ms),
            "crowsnest_region": self.region,
            "crowsnest_instance": self.instance,
        })
    }

    /// `components.json`'s list: each group first as a component holding its members' ids,
    /// as Statuspage lists groups.
    fn components_json(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut groups: Vec<&str> = Vec::new();
        for c in &self.components {
            if let Some(g) = c.group.as_deref() {
                if !groups.contains(&g) {
                    groups.push(g);
                }
            }
        }
        let page_id = id("page", &self.title);
        for (position, g) in groups.iter().enumerate() {
            let members: Vec<&Shown> = self.components.iter().filter(|c| c.group.as_deref() == Some(*g)).collect();
            let worst = members.iter().map(|c| c.status).max().unwrap_or(ComponentStatus::Unknown);
            out.push(json!({
                "id": id("group", g), "name": g, "status": worst.statuspage_word(), "crowsnest_status": worst.word(),
                "created_at": time(0), "updated_at": time(self.as_of_ms), "position": position + 1, "description": null,
                "showcase": false, "start_date": null, "group_id": null, "page_id": page_id, "group": true,
                "only_show_if_degraded": false, "components": members.iter().map(|c| id("component", &c.name)).collect::<Vec<_>>(),
            }));
        }
        for (position, c) in self.components.iter().enumerate() {
            out.push(json!({
                "id": id("component", &c.name), "name": c.name, "status": c.status.statuspage_word(), "crowsnest_status": c.status.word(),
                "created_at": time(0), "updated_at": time(c.since_ms), "position": position + 1, "description": c.description,
                "showcase": true, "start_date": null, "group_id": c.group.as_deref().map(|g| id("group", g)), "page_id": page_id,
                "group": false, "only_show_if_degraded": false, "crowsnest_uptime": c.uptime.as_ref().map(uptime_json),
                "crowsnest_regions": c.regions.iter().map(|(r, s)| json!({"region": r, "status": s.word()})).collect::<Vec<_>>(),
            }));
        }
        out
    }

    fn status_json(&self) -> Value {
        let (indicator, description) = self.indicator();
        json!({ "indicator": indicator, "description": description })
    }

    /// One incident in Statuspage's shape (a maintenance has its window too).
    fn incident_json(&self, i: &Incident) -> Value {
        let page_id = id("page", &self.title);
        let at = |state: IncidentState| i.updates.iter().filter(|u| u.state == state).map(|u| u.at_ms).min().map(time);
        let components: Vec<Value> = self
            .components
            .iter()
            .filter(|c| i.components.contains(&c.name))
            .map(|c| json!({"id": id("component", &c.name), "name": c.name, "status": c.status.statuspage_word(), "crowsnest_status": c.status.word()}))
            .collect();
        let updates: Vec<Value> = i
            .updates
            .iter()
            .map(|u| {
                let affected: Vec<Value> = i
                    .components
                    .iter()
                    .map(|name| {
                        let status = self.components.iter().find(|c| &c.name == name).map_or("operational", |c| c.status.statuspage_word());
                        json!({"code": id("component", name), "name": name, "old_status": status, "new_status": status})
                    })
                    .collect();
                json!({
                    "id": id("update", &u.key), "status": u.state.word(), "body": u.body, "incident_id": id("incident", &i.key),
                    "created_at": time(u.at_ms), "updated_at": time(u.at_ms), "display_at": time(u.at_ms),
                    "affected_components": affected, "deliver_notifications": true, "custom_tweet": null, "tweet_id": null,
                    "crowsnest_written_on": u.written_on,
                })
            })
            .collect();
        let mut v = json!({
            "id": id("incident", &i.key), "name": i.title, "status": i.state.word(),
            "created_at": time(i.created_ms), "updated_at": time(i.updated_ms),
            "monitoring_at": at(IncidentState::Monitoring), "resolved_at": i.resolved_ms.map(time),
            "impact": impact_word(i), "shortlink": format!("{}#incident-{}", self.public_url, i.key),
            "started_at": time(i.starts_ms.unwrap_or(i.created_ms)), "page_id": page_id,
            "incident_updates": updates, "components": components, "crowsnest_key": i.key,
        });
        if i.kind == IncidentKind::Maintenance {
            v["scheduled_for"] = json!(i.starts_ms.map(time));
            v["scheduled_until"] = json!(i.ends_ms.map(time));
        }
        v
    }

    /// The incidents (not maintenance), newest first; only the open ones when `open`.
    fn incidents_json(&self, open: bool) -> Vec<Value> {
        self.incidents
            .iter()
            .filter(|i| i.kind == IncidentKind::Incident && !(open && i.state.is_over()))
            .map(|i| self.incident_json(i))
            .collect()
    }

    /// The maintenance in `states` (every one when empty), newest first.
    fn maintenance_json(&self, states: &[IncidentState]) -> Vec<Value> {
        self.incidents
            .iter()
            .filter(|i| i.kind == IncidentKind::Maintenance && (states.is_empty() || states.contains(&i.state)))
            .map(|i| self.incident_json(i))
            .collect()
    }

    /// `api/v2/summary.json`: open incidents and maintenance not over, as Statuspage lists them.
    pub fn summary(&self) -> Value {
        use IncidentState::*;
        json!({
            "page": self.page_json(),
            "components": self.components_json(),
            "incidents": self.incidents_json(true),
            "scheduled_maintenances": self.maintenance_json(&[Scheduled, InProgress, Verifying]),
            "status": self.status_json(),
        })
    }

    /// The incident and maintenance lists: (path under `api/v2/`, body).
    pub fn lists(&self) -> Vec<(&'static str, Value)> {
        use IncidentState::*;
        let page = self.page_json();
        vec![
            ("incidents.json", json!({"page": page, "incidents": self.incidents_json(false)})),
            ("incidents/unresolved.json", json!({"page": page, "incidents": self.incidents_json(true)})),
            ("scheduled-maintenances.json", json!({"page": page, "scheduled_maintenances": self.maintenance_json(&[])})),
            ("scheduled-maintenances/upcoming.json", json!({"page": page, "scheduled_maintenances": self.maintenance_json(&[Scheduled])})),
            (
                "scheduled-maintenances/active.json",
                json!({"page": page, "scheduled_maintenances": self.maintenance_json(&[InProgress, Verifying])}),
            ),
        ]
    }

    /// `history.atom`: one entry per incident and maintenance, newest first, at most 50.
    pub fn feed(&self) -> String {
        let base = &self.public_url;
        let updated = self.incidents.iter().map(|i| i.updated_ms).max().unwrap_or(self.as_of_ms);
        let mut entries = String::new();
        for i in self.incidents.iter().take(50) {
            let mut content = String::new();
            for u in &i.updates {
                content.push_str(&format!(
                    "<p><small>{}</small><br><strong>{}</strong> - {}</p>",
                    app::format::utc(u.at_ms),
                    u.state.words(),
                    escape(&u.body)
                ));
            }
            if !i.components.is_empty() {
                content.push_str(&format!("<p>This affects: {}.</p>", escape(&i.components.join(", "))));
            }
            let title = if i.kind == IncidentKind::Maintenance {
                format!("[{}] Maintenance: {}", i.state.words(), i.title)
            } else {
                format!("[{}] {}", i.state.words(), i.title)
            };
            entries.push_str(&format!(
                "<entry><id>{id}</id><title>{title}</title><published>{published}</published><updated>{updated}</updated>\
                 <link rel=\"alternate\" type=\"text/html\" href=\"{base}#incident-{key}\"/><content type=\"html\">{content}</content></entry>\n",
                id = uuid_of(&i.key),
                title = escape(&title),
                published = time(i.created_ms),
                updated = time(i.updated_ms),
                base = escape(base),
                key = escape(&i.key),
                content = escape(&content),
            ));
        }
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en\">\
             <id>{id}</id><title>{title} - incident history</title><updated>{updated}</updated>\
             <link rel=\"self\" type=\"application/atom+xml\" href=\"{base}history.atom\"/><link rel=\"alternate\" type=\"text/html\" href=\"{base}\"/>\
             <author><name>{title}</name></author>\n{entries}</feed>\n",
            id = uuid_of(&format!("page\u{1f}{}", self.title)),
            title = escape(&self.title),
            updated = time(updated),
            base = escape(base),
        )
    }

    /// `api/v2/status.json`.
    pub fn status(&self) -> Value {
        json!({ "page": self.page_json(), "status": self.status_json() })
    }

    /// `api/v2/components.json`.
    pub fn components(&self) -> Value {
        json!({ "page": self.page_json(), "components": self.components_json() })
    }

    /// `badge.svg`: "status | <description>" in the indicator's colour.
    pub fn badge(&self) -> String {
        let (indicator, description) = self.indicator();
        let colour = match indicator {
            "none" => "#2e7d32",
            "maintenance" => "#1565c0",
            "minor" => "#b26a00",
            _ => "#c62828",
        };
        // About 7 px a character in 11 px Verdana, as badges usually reckon.
        let right = 10 + 7 * description.chars().count();
        let width = 50 + right;
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"20\" role=\"img\" aria-label=\"status: {d}\">\
             <title>status: {d}</title><rect width=\"50\" height=\"20\" fill=\"#555\"/>\
             <rect x=\"50\" width=\"{right}\" height=\"20\" fill=\"{colour}\"/>\
             <g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">\
             <text x=\"6\" y=\"14\">status</text><text x=\"56\" y=\"14\">{d}</text></g></svg>\n",
            d = escape(description)
        )
    }

    /// `index.html`.
    pub fn html(&self) -> String {
        let (indicator, description) = self.indicator();
        let mut rows = String::new();
        let mut group: Option<&str> = None;
        for c in &self.components {
            if c.group.as_deref() != group {
                if group.is_some() {
                    rows.push_str("</ul></section>");
                }
                group = c.group.as_deref();
                rows.push_str(&format!("<section><h2>{}</h2><ul>", escape(group.unwrap_or("Other"))));
            } else if rows.is_empty() {
                rows.push_str("<section><ul>");
            }
            // After its words: each region's view, then the uptime.
            let regions = if c.regions.is_empty() { String::new() } else { regions_html(&c.regions) };
            let uptime = c.uptime.as_ref().map(uptime_html).unwrap_or_default();
            rows.push_str(&format!(
                "<li data-status=\"{s}\"><span class=\"name\">{n}</span><span class=\"word\">{w}</span>{d}{regions}{uptime}</li>",
                s = c.status.word(),
                n = escape(&c.name),
                w = c.status.words(),
                d = c.description.as_deref().map(|d| format!("<small>{}</small>", escape(d))).unwrap_or_default(),
            ));
        }
        if !rows.is_empty() {
            rows.push_str("</ul></section>");
        }
        let over = |i: &&Incident| i.state.is_over();
        let active: Vec<&Incident> = self.incidents.iter().filter(|i| i.kind == IncidentKind::Incident && !over(i)).collect();
        let planned: Vec<&Incident> = self.incidents.iter().filter(|i| i.kind == IncidentKind::Maintenance && !over(i)).collect();
        let past: Vec<&Incident> = self
            .incidents
            .iter()
            .filter(|i| over(i) && i.resolved_ms.is_some_and(|at| self.as_of_ms - at <= crate::incidents::evaluate::SHOWN_AFTER_MS))
            .collect();
        let section = |heading: &str, id: &str, list: &[&Incident]| {
            if list.is_empty() {
                return String::new();
            }
            let articles: String = list.iter().map(|i| incident_html(i)).collect();
            format!("<section id=\"{id}\"><h2>{heading}</h2>{articles}</section>")
        };
        let now_sections =
            format!("{}{}", section("Active incidents", "active", &active), section("Scheduled maintenance", "maintenance", &planned));
        let past_section = if past.is_empty() {
            "<section id=\"past\"><h2>Past incidents</h2><p>No incidents in the last 7 days.</p></section>".to_string()
        } else {
            section("Past incidents (7 days)", "past", &past)
        };
        let link = if self.url.is_empty() { String::new() } else { format!(" · <a href=\"{}\">on-call console</a>", escape(&self.url)) };
        let script = STALE_SCRIPT;
        let hash = {
            use base64::Engine;
            use sha2::{Digest, Sha256};
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; script-src 'sha256-{hash}'\">\
             <title>{title}</title><link rel=\"alternate\" type=\"application/json\" href=\"api/v2/summary.json\">\
             <link rel=\"alternate\" type=\"application/atom+xml\" title=\"Incident history\" href=\"history.atom\">\
             <style>{STYLE}</style></head>\
             <body data-as-of=\"{as_of}\" data-stale-after-ms=\"{stale}\"><main>\
             <h1>{title}</h1>\
             <p class=\"overall\" data-indicator=\"{indicator}\" role=\"status\">{description}</p>\
             <p id=\"stale\" class=\"stale\" hidden>This page has not been updated for a while: the statuses below are unknown.</p>\
             {now_sections}{rows}{past_section}\
             <footer><p>As of <time datetime=\"{as_of}\">{as_of_words}</time>, from {region} ({instance}){link}.</p>\
             <p>Machine-readable: <a href=\"api/v2/summary.json\">summary.json</a> · <a href=\"api/v2/status.json\">status.json</a> · <a href=\"history.atom\">Atom feed</a> · <a href=\"badge.svg\">badge</a></p></footer>\
             </main><script>{script}</script></body></html>\n",
            title = escape(&self.title),
            as_of = time(self.as_of_ms),
            stale = self.stale_after_ms,
            as_of_words = app::format::utc(self.as_of_ms),
            region = escape(&self.region),
            instance = escape(&self.instance),
        )
    }

    /// Writes every file into `dir` (the edge directory's `status/`): the JSON first, the page
    /// last, each atomically, so nginx never serves a page newer than its data.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let api = dir.join("api").join("v2");
        std::fs::create_dir_all(&api)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for d in [dir.to_path_buf(), dir.join("api"), api.clone()] {
                std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755))?;
            }
        }
        let pretty = |v: Value| serde_json::to_vec_pretty(&v).unwrap_or_default();
        crate::actions::edge::write_atomically(&api.join("summary.json"), &pretty(self.summary()))?;
        crate::actions::edge::write_atomically(&api.join("status.json"), &pretty(self.status()))?;
        crate::actions::edge::write_atomically(&api.join("components.json"), &pretty(self.components()))?;
        for sub in ["incidents", "scheduled-maintenances"] {
            std::fs::create_dir_all(api.join(sub))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(api.join(sub), std::fs::Permissions::from_mode(0o755))?;
            }
        }
        for (path, body) in self.lists() {
            crate::actions::edge::write_atomically(&api.join(path), &pretty(body))?;
        }
        crate::actions::edge::write_atomically(&dir.join("history.atom"), self.feed().as_bytes())?;
        crate::actions::edge::write_atomically(&dir.join("badge.svg"), self.badge().as_bytes())?;
        crate::actions::edge::write_atomically(&dir.join("index.html"), self.html().as_bytes())
    }
}

/// One incident on the page: title, state, window, components, updates newest first.
fn incident_html(i: &Incident) -> String {
    let window = match (i.starts_ms, i.ends_ms) {
        (Some(s), Some(e)) => format!("<p class=\"window\">Scheduled for {} to {}</p>", app::format::utc(s), app::format::utc(e)),
        _ => String::new(),
    };
    let updates: String = i
        .updates
        .iter()
        .map(|u| {
            format!(
                "<li><strong>{}</strong> - {} <small><time datetime=\"{}\">{}</time></small></li>",
                u.state.words(),
                escape(&u.body),
                time(u.at_ms),
                app::format::utc(u.at_ms)
            )
        })
        .collect();
    format!(
        "<article class=\"incident\" id=\"incident-{key}\" data-state=\"{state}\"><h3>{title}</h3>\
         <p class=\"affects\"><span class=\"state\">{words}</span> · {components}</p>{window}<ol class=\"updates\">{updates}</ol></article>",
        key = escape(&i.key),
        state = i.state.word(),
        title = escape(&i.title),
        words = i.state.words(),
        components = escape(&i.components.join(", ")),
    )
}

/// Marks every component unknown when the page is older than its limit by the reader's clock:
/// nginx serves the last page written, however old, once every console is gone.
const STALE_SCRIPT: &str = "(function(){var b=document.body,t=Date.parse(b.dataset.asOf),l=+b.dataset.staleAfterMs;\
if(!(Date.now()-t>l))return;document.getElementById('stale').hidden=false;\
document.querySelectorAll('li[data-status]').forEach(function(e){e.dataset.status='unknown';e.querySelector('.word').textContent='Status unknown';});})();";

/// The page's look: system fonts, light and dark, one column down to 320 px.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#fafafa;color:#1b1b1b}\
main{max-width:46rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\
ul{list-style:none;padding:0;margin:0;border:1px solid #ccc;border-radius:6px}\
li{display:flex;flex-wrap:wrap;gap:.25rem 1rem;justify-content:space-between;padding:.75rem 1rem;border-top:1px solid #ddd}\
li:first-child{border-top:0}li small{flex-basis:100%;color:#555}\
.overall{padding:1rem;border-radius:6px;font-weight:600;color:#fff;background:#2e7d32}\
.overall[data-indicator=minor]{background:#8a5300}.overall[data-indicator=major],.overall[data-indicator=critical]{background:#b71c1c}\
.overall[data-indicator=maintenance]{background:#0d47a1}.stale{padding:1rem;border:2px solid #8a5300;border-radius:6px}\
li[data-status=operational] .word{color:#1b5e20}li[data-status=degraded_performance] .word,li[data-status=unknown] .word{color:#7a4a00}\
li[data-status=partial_outage] .word,li[data-status=major_outage] .word{color:#b71c1c}li[data-status=under_maintenance] .word{color:#0d47a1}\
.word{font-weight:600}.incident{border:1px solid #ccc;border-left:6px solid #b71c1c;border-radius:6px;padding:0 1rem;margin:.75rem 0}\
.incident[data-state=resolved],.incident[data-state=completed]{border-left-color:#2e7d32}\
.incident[data-state=scheduled],.incident[data-state=in_progress],.incident[data-state=verifying]{border-left-color:#0d47a1}\
.incident h3{font-size:1rem;margin:.75rem 0 .25rem}.incident ol{padding-left:1.25rem}.incident li{display:list-item;border:0;padding:.25rem 0}\
.state{font-weight:600}.uptime{flex-basis:100%}.bars{display:flex;gap:1px;height:1.5rem;margin:.25rem 0}\
.bars span{flex:1;min-width:1px;border-radius:1px;background:#8a8a8a}.bars span[data-day=operational]{background:#2e7d32}\
.bars span[data-day=degraded_performance]{background:#b26a00}.bars span[data-day=partial_outage]{background:#e65100}\
.bars span[data-day=major_outage]{background:#b71c1c}.bars span[data-day=under_maintenance]{background:#1565c0}footer{margin-top:2rem;color:#555;font-size:.9rem}a{color:#0b57d0}\
@media (prefers-color-scheme:dark){body{background:#121212;color:#e8e8e8}ul{border-color:#444}li{border-color:#333}\
li small,footer{color:#bbb}a{color:#8ab4f8}li[data-status=operational] .word{color:#81c784}\
li[data-status=degraded_performance] .word,li[data-status=unknown] .word{color:#ffb74d}\
li[data-status=partial_outage] .word,li[data-status=major_outage] .word{color:#ef9a9a}li[data-status=under_maintenance] .word{color:#90caf9}}";

#[cfg(test)]
mod tests {
    use super::*;

    fn page(statuses: &[(&str, Option<&str>, ComponentStatus)]) -> Page {
        Page {
            title: "Example <status>".into(),
            url: "https://crowsnest.example".into(),
            instance: "sin-1".into(),
            region: "Singapore".into(),
            as_of_ms: 1_800_000_000_000,
            stale_after_ms: 15_000,
            components: statuses
                .iter()
                .map(|(name, group, status)| Shown {
                    name: name.to_string(),
                    group: group.map(str::to_string),
                    description: Some(format!("{name} & co")),
                    status: *status,
                    since_ms: 1_799_999_000_000,
                    uptime: None,
                    regions: Vec::new(),
                })
                .collect(),
            incidents: Vec::new(),
            public_url: "https://status.example.test/".into(),
        }
    }

    #[test]
    fn summary_json_has_statuspages_shape_with_groups_and_never_an_unknown_word() {
        use ComponentStatus::*;
        let p = page(&[("Website", Some("Public"), Operational), ("API", Some("Public"), Unknown), ("Loader", None, PartialOutage)]);
        let s = p.summary();
        assert_eq!(s["status"], json!({"indicator": "major", "description": "Partial System Outage"}));
        assert_eq!(s["page"]["updated_at"], "2027-01-15T08:00:00Z");
        assert_eq!(s["page"]["crowsnest_region"], "Singapore");
        let components = s["components"].as_array().unwrap();
        let names: Vec<&str> = components.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["Public", "Website", "API", "Loader"]);
        let group = &components[0];
        assert_eq!(group["group"], true);
        assert_eq!(group["components"], json!([components[1]["id"], components[2]["id"]]));
        assert_eq!(
            (components[2]["status"].as_str(), components[2]["crowsnest_status"].as_str()),
            (Some("degraded_performance"), Some("unknown"))
        );
        assert_eq!(components[1]["group_id"], group["id"]);
        for c in components {
            for key in [
                "id",
                "name",
                "status",
                "created_at",
                "updated_at",
                "position",
                "description",
                "showcase",
                "group_id",
                "page_id",
                "group",
                "only_show_if_degraded",
            ] {
                assert!(c.get(key).is_some(), "{key} missing from {c}");
            }
            let word = c["status"].as_str().unwrap();
            assert!(
                ["operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"].contains(&word),
                "{word}"
            );
        }
        assert_eq!(p.summary(), s, "the same page, the same ids");
    }

    #[test]
    fn the_page_escapes_what_it_shows_and_its_script_is_allowed_by_hash() {
        let p = page(&[("Web <site>", None, ComponentStatus::MajorOutage)]);
        let html = p.html();
        assert!(html.contains("<title>Example &lt;status&gt;</title>"), "{html}");
        assert!(html.contains("<li data-status=\"major_outage\"><span class=\"name\">Web &lt;site&gt;</span><span class=\"word\">Major outage</span><small>Web &lt;site&gt; &amp; co</small></li>"), "{html}");
        assert!(html.contains("from Singapore (sin-1)"));
        assert!(html.contains("data-stale-after-ms=\"15000\""));
        use base64::Engine;
        use sha2::{Digest, Sha256};
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STALE_SCRIPT.as_bytes()));
        assert!(html.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(html.contains(&format!("<script>{STALE_SCRIPT}</script>")));
    }

    /// Where `ours` lacks a key `example` has, or has another JSON type (null stands in for
    /// any type on either side: Statuspage's example has nulls where ours has values).
    fn shape_mismatches(example: &Value, ours: &Value, at: &str, out: &mut Vec<String>) {
        match (example, ours) {
            (Value::Null, _) | (_, Value::Null) => {}
            (Value::Object(e), Value::Object(o)) => {
                for (k, v) in e {
                    match o.get(k) {
                        Some(mine) => shape_mismatches(v, mine, &format!("{at}.{k}"), out),
                        None => out.push(format!("{at}.{k} missing")),
                    }
                }
            }
            (Value::Array(e), Value::Array(o)) => {
                if let (Some(e), Some(o)) = (e.first(), o.first()) {
                    shape_mismatches(e, o, &format!("{at}[0]"), out);
                } else if !e.is_empty() {
                    out.push(format!("{at} is empty; the example has items"));
                }
            }
            (Value::String(_), Value::String(_)) | (Value::Number(_), Value::Number(_)) | (Value::Bool(_), Value::Bool(_)) => {}
            (e, o) => out.push(format!("{at}: the example has {e}, ours {o}")),
        }
    }

    fn incident(key: &str, kind: IncidentKind, state: IncidentState) -> Incident {
        let update = app::model::IncidentUpdate {
            key: key.into(),
            incident: key.into(),
            kind,
            state,
            title: "DB <upgrade>".into(),
            body: "Read-only for an hour & then back.".into(),
            components: vec!["Website".into()],
            impact: Impact::PartialOutage,
            starts_ms: Some(1_800_000_000_000),
            ends_ms: Some(1_800_003_600_000),
            by: "alice".into(),
            at_ms: 1_799_999_000_000,
            written_on: "sjc-1".into(),
            pending_replay: false,
        };
        crate::incidents::evaluate::fold(&[update]).remove(0)
    }

    #[test]
    fn summary_json_has_every_key_of_statuspages_own_example() {
        let example: Value = serde_json::from_str(include_str!("statuspage-summary.example.json")).unwrap();
        let mut p = page(&[("Website", None, ComponentStatus::PartialOutage)]);
        p.incidents = vec![
            incident("inc-1", IncidentKind::Incident, IncidentState::Identified),
            incident("mnt-1", IncidentKind::Maintenance, IncidentState::Scheduled),
        ];
        let mut wrong = Vec::new();
        shape_mismatches(&example, &p.summary(), "summary", &mut wrong);
        assert!(wrong.is_empty(), "{wrong:#?}");
        // The comparison itself finds a missing key.
        let mut bare = p.summary();
        bare["incidents"][0].as_object_mut().unwrap().remove("shortlink");
        let mut found = Vec::new();
        shape_mismatches(&example, &bare, "summary", &mut found);
        assert_eq!(found, vec!["summary.incidents[0].shortlink missing".to_string()]);
    }

    #[test]
    fn the_feed_has_one_entry_per_incident_with_a_stable_id_and_escaped_text() {
        let mut p = page(&[("Website", None, ComponentStatus::PartialOutage)]);
        p.incidents = vec![incident("inc-1", IncidentKind::Incident, IncidentState::Identified)];
        let feed = p.feed();
        assert!(feed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""), "{feed}");
        assert_eq!(feed.matches("<entry>").count(), 1);
        assert!(feed.contains(&format!("<id>{}</id>", uuid_of("inc-1"))), "{feed}");
        assert!(feed.contains("<title>[Identified] DB &lt;upgrade&gt;</title>"), "{feed}");
        assert!(feed.contains("href=\"https://status.example.test/#incident-inc-1\""), "{feed}");
        assert!(feed.contains("Read-only for an hour &amp;amp; then back."), "escaped in HTML, then in XML: {feed}");
        assert_eq!(uuid_of("inc-1"), uuid_of("inc-1"));
        assert_ne!(uuid_of("inc-1"), uuid_of("inc-2"));
        let html = p.html();
        assert!(html.contains("<h2>Active incidents</h2>") && html.contains("id=\"incident-inc-1\""), "{html}");
        assert!(html.contains("Read-only for an hour &amp; then back."), "{html}");
    }

    #[test]
    fn each_component_has_its_ninety_day_bar_and_figure() {
        let mut p = page(&[("Website", None, ComponentStatus::Operational)]);
        let today = 1_800_000_000_000 / 86_400_000;
        p.components[0].uptime =
            Some(super::super::evaluate::uptime(&[(today - 1, 1000, 750, "partial_outage"), (today, 1000, 1000, "operational")], today));
        let html = p.html();
        assert!(html.contains("aria-label=\"87.5 % up over 90 days\""), "{html}");
        assert!(html.contains("<span data-day=\"partial_outage\" title=\"2027-01-14: Partial outage\"></span><span data-day=\"operational\" title=\"2027-01-15: Operational\"></span></div>"), "{html}");
        assert_eq!(html.matches("<span data-day=").count(), 90);
        let summary = p.summary();
        let u = &summary["components"][0]["crowsnest_uptime"];
        assert_eq!((u["days"].as_u64(), u["percent"].as_f64()), (Some(90), Some(87.5)));
        assert_eq!(u["bars"][89], json!({"date": "2027-01-15", "status": "operational"}));
        assert_eq!(u["bars"][0], json!({"date": "2026-10-18", "status": null}));
        assert_eq!(trim_percent(100.0), "100");
        assert_eq!(trim_percent(99.95), "99.95");
    }

    #[test]
    fn the_page_says_what_each_region_sees() {
        use ComponentStatus::*;
        let mut p = page(&[("Website", None, MajorOutage)]);
        p.components[0].regions =
            vec![("San Jose".into(), MajorOutage), ("Singapore".into(), Operational), ("Amsterdam".into(), Operational)];
        let html = p.html();
        assert!(
            html.contains("<small class=\"regions\"><span data-region-status=\"major_outage\">Major outage from San Jose</span>; <span data-region-status=\"operational\">Operational from Singapore and Amsterdam</span></small>"),
            "{html}"
        );
        let regions = &p.summary()["components"][0]["crowsnest_regions"];
        assert_eq!(regions[1], json!({"region": "Singapore", "status": "operational"}));
    }

    #[test]
    fn the_badge_says_the_overall_status() {
        let svg = page(&[("Website", None, ComponentStatus::Operational)]).badge();
        assert!(svg.contains("aria-label=\"status: All Systems Operational\""), "{svg}");
        assert!(svg.contains("#2e7d32"));
    }

    #[test]
    fn writing_puts_every_file_where_nginx_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        page(&[("Website", None, ComponentStatus::Operational)]).write(&dir.path().join("status")).unwrap();
        for file in crate::cli::STATUS_FILES {
            assert!(dir.path().join("status").join(file).is_file(), "{file}");
        }
        let status: Value = serde_json::from_slice(&std::fs::read(dir.path().join("status/api/v2/status.json")).unwrap()).unwrap();
        assert_eq!(status["status"]["indicator"], "none");
    }
}
