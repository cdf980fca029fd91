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
        AlertingConfig { alertmanagers: Vec::new(), resend_seconds: 60, rules: BTreeMap::new(), webhooks: Vec::new() }
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
