//! `[status_page]`: the public status page every region's edge publisher writes for its nginx
//! to serve. Without components nothing is published.

use serde::Deserialize;

/// The public status page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StatusPageConfig {
    /// The page's title, e.g. "Example status".
    pub title: String,
    /// A component whose data is older than this many probe intervals shows `unknown` (on the
    /// published page too: its script compares the page's time with the reader's clock).
    pub stale_after_intervals: u64,
    /// Where the public reads the page, e.g. "https://status.example.com/" (the feed's links
    /// and the console's Status page name it; none: relative links).
    pub public_url: Option<String>,
    /// What the public sees, listed in this order under their groups.
    pub components: Vec<ComponentConfig>,
    /// Who is told every incident update (subscribers, not on-call: they get no alerts).
    pub subscribers: SubscribersConfig,
}

/// Receivers of incident updates: the same kinds as alerting's direct receivers, sent through
/// the same outbox by the region that sends, each update once per subscriber (by its key).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubscribersConfig {
    /// Signed JSON webhooks (the notice's JSON with its `incident`).
    pub webhooks: Vec<super::alerting::WebhookConfig>,
    /// Slack-compatible incoming webhooks.
    pub slack: Vec<super::alerting::SlackConfig>,
    /// Email over SMTP.
    pub email: Vec<super::alerting::EmailConfig>,
}

impl SubscribersConfig {
    /// As an alerting section holding only these receivers, to build them the same way.
    pub fn as_receivers(&self) -> super::alerting::AlertingConfig {
        super::alerting::AlertingConfig {
            webhooks: self.webhooks.clone(),
            slack: self.slack.clone(),
            email: self.email.clone(),
            ..Default::default()
        }
    }

    /// Whether there is anyone to tell.
    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty() && self.slack.is_empty() && self.email.is_empty()
    }
}

impl Default for StatusPageConfig {
    fn default() -> Self {
        StatusPageConfig {
            title: "Status".into(),
            stale_after_intervals: 3,
            public_url: None,
            components: Vec::new(),
            subscribers: SubscribersConfig::default(),
        }
    }
}

/// One thing the public cares about ("Website", "API"), fed by what the console judges.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentConfig {
    /// Its public name, unique.
    pub name: String,
    /// The group it is listed under, e.g. "Europe" (none: on its own).
    #[serde(default)]
    pub group: Option<String>,
    /// One line for the public.
    #[serde(default)]
    pub description: Option<String>,
    /// Hosts (by name) whose health feeds it.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Public hostnames whose DNS answers feed it.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Sites whose maintenance turns it "under maintenance".
    #[serde(default)]
    pub sites: Vec<String>,
    /// Databases whose replication feeds it.
    #[serde(default)]
    pub databases: Vec<String>,
    /// Loaders whose backlog feeds it.
    #[serde(default)]
    pub loaders: Vec<String>,
    /// Nothing the console probes feeds it: it is operational unless an open incident
    /// declares otherwise (the manual override for what cannot be probed).
    #[serde(default)]
    pub manual: bool,
}

impl ComponentConfig {
    /// Whether anything feeds it.
    pub fn is_fed(&self) -> bool {
        !(self.hosts.is_empty()
            && self.hostnames.is_empty()
            && self.sites.is_empty()
            && self.databases.is_empty()
            && self.loaders.is_empty())
    }
}
