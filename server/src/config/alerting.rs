//! `[alerting]`: where alerts go and how each rule behaves. Every key is optional: with none,
//! the default rules run and their alerts show on the Alerts page, and nothing is sent.

use serde::Deserialize;
use std::collections::BTreeMap;

/// Where alerts go and each rule's overrides.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    /// Alertmanagers to post to, every one directly (never through a balancer), e.g.
    /// `["http://am-1:9093", "http://am-2:9093"]`.
    pub alertmanagers: Vec<String>,
    /// Firing alerts are posted again this often; each post says `endsAt = now + 4 × this`, so
    /// a dead sender never looks like a recovery.
    pub resend_seconds: u64,
    /// Per rule, by its key (`host_down`, `dns_wrong_answer`, …): `for_seconds`, `severity`,
    /// `muted`, `runbook`.
    pub rules: BTreeMap<RuleKey, RuleOverride>,
    /// Direct receivers (no Alertmanager): signed JSON webhooks, sent through the local outbox.
    pub webhooks: Vec<WebhookConfig>,
    /// Slack-compatible incoming webhooks (Slack, Mattermost, Rocket.Chat): a message per notice.
    pub slack: Vec<SlackConfig>,
    /// PagerDuty Events API v2 integrations: an event per alert, deduplicated by its labels.
    pub pagerduty: Vec<PagerDutyConfig>,
    /// Email over SMTP: a message per notice.
    pub email: Vec<EmailConfig>,
    /// Seconds a newly firing alert waits for others to join its notice (Alertmanager's
    /// `group_wait`); 0 sends each round's changes at once.
    pub group_wait_seconds: u64,
    /// A firing alert nobody acknowledged is notified again this often (`repeat_interval`).
    pub repeat_seconds: u64,
}

/// A Slack-compatible incoming webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Its name, shown on the Alerts page and kept with each delivery.
    pub name: String,
    /// The incoming webhook's URL (it is the secret: keep the config private).
    pub url: String,
}

/// A PagerDuty service's Events API v2 integration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// Its name, shown on the Alerts page and kept with each delivery.
    pub name: String,
    /// The integration key of the service's "Events API v2" integration.
    pub routing_key: String,
    /// Where events go; PagerDuty's own endpoint unless set (a proxy, a test receiver).
    #[serde(default = "pagerduty_events_url")]
    pub url: String,
}

/// PagerDuty's Events API v2 endpoint.
fn pagerduty_events_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".into()
}

/// An SMTP relay and who gets the notices.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Its name, shown on the Alerts page and kept with each delivery.
    pub name: String,
    /// The relay as `host:port` (587 for STARTTLS, 465 for TLS, 25 inside a network).
    pub smtp: String,
    /// How the connection is protected: `starttls` (the default), `tls`, or `none`.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The sender, `Crowsnest <crowsnest@example.com>` or a bare address.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// SMTP login name, if the relay wants one (with `password`).
    pub username: Option<String>,
    /// SMTP password.
    pub password: Option<String>,
}

impl EmailConfig {
    /// The relay's host and port, if `smtp` is `host:port`.
    pub fn relay(&self) -> Option<(&str, u16)> {
        let (host, port) = self.smtp.trim().rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        (!host.is_empty()).then_some(())?;
        Some((host, port.parse().ok().filter(|p| *p > 0)?))
    }
}

/// How an SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain, then upgraded with STARTTLS (refused if the relay cannot).
    #[default]
    Starttls,
    /// TLS from the first byte.
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

/// A generic webhook: JSON, signed with HMAC-SHA256 over `timestamp.body`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Its name, shown on the Alerts page and kept with each delivery.
    pub name: String,
    /// Where notices are POSTed (http:// or https://).
    pub url: String,
    /// The shared secret the signature is made with (at least 16 characters).
    pub secret: String,
}

/// The rules Crowsnest evaluates, by the key the config names them with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, strum::IntoStaticStr, strum::EnumIter)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RuleKey {
    /// A host's check fails (after damping).
    HostDown,
    /// A balancer serves an expired, untrusted or misnamed certificate.
    CertificateInvalid,
    /// A trusted certificate is inside the warning window.
    CertificateExpiring,
    /// A record answers the wrong tier or target, is missing, split or partial.
    DnsWrongAnswer,
    /// A record answers an allowed failover target.
    DnsFailedOver,
    /// A replica is critical, disconnected, flipped role or a second primary appeared.
    ReplicationBroken,
    /// A loader's backlog is stalled or stopped.
    BacklogStuck,
    /// A peer (another region's Crowsnest) cannot be reached.
    PeerUnreachable,
    /// An engine of this instance stopped finishing rounds.
    EngineStale,
    /// No control store is writable: actions wait for break-glass.
    ControlStoreUnwritable,
    /// This vantage sees (nearly) every host down while the other regions see them up: its own
    /// network, not the hosts; one alert instead of a storm.
    VantageIsolated,
    /// A site's maintenance is on (or off) but users, looked at through the balancer, do not
    /// get what was asked.
    MaintenanceNotObserved,
    /// Break-glass was used on this secondary and waits to be replayed into the primary.
    BreakGlassUsed,
}

/// How loud an alert is; the words are Alertmanager's and PagerDuty's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Severity {
    /// Pages someone now.
    Critical,
    /// Needs a look today.
    Warning,
    /// For the record.
    Info,
}

impl Default for AlertingConfig {
    fn default() -> Self {
        // Prometheus' resend delay is one minute; Alertmanager's resolve_timeout five.
        AlertingConfig {
            alertmanagers: Vec::new(),
            resend_seconds: 60,
            rules: BTreeMap::new(),
            webhooks: Vec::new(),
            slack: Vec::new(),
            pagerduty: Vec::new(),
            email: Vec::new(),
            group_wait_seconds: 0,
            // Alertmanager's repeat_interval.
            repeat_seconds: 4 * 3600,
        }
    }
}

/// What the config changes about one rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    /// Seconds a finding must hold before the alert fires (pending until then).
    pub for_seconds: Option<u64>,
    /// `critical`, `warning` or `info`.
    pub severity: Option<Severity>,
    /// True: the rule is evaluated but never fires.
    #[serde(default)]
    pub muted: bool,
    /// A link on-call follows from the page (the runbook for this rule).
    pub runbook: Option<String>,
}
