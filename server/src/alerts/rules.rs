//! The rule catalogue: what each rule watches, its name, severity and `for` by default, and the
//! config's overrides on top. Defaults need no config at all.

use crate::config::{AlertingConfig, RuleKey, Severity};
use strum::IntoEnumIterator;

/// One rule as it runs: the default with the config's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Its config key.
    pub key: RuleKey,
    /// The alert's name (`alertname`).
    pub name: &'static str,
    /// How loud it is.
    pub severity: Severity,
    /// Milliseconds a finding must hold before it fires.
    pub for_ms: i64,
    /// Evaluated but never fires.
    pub muted: bool,
    /// Where on-call reads what to do.
    pub runbook: Option<String>,
}

/// Name, severity and `for` (seconds) of a rule before any override. The `for`s are short:
/// hosts and records are already damped over rounds, so a rule's own wait only has to cover
/// what damping does not (a loader's rates, a certificate that will not change by the minute).
fn default(key: RuleKey) -> (&'static str, Severity, u64) {
    match key {
        RuleKey::HostDown => ("HostDown", Severity::Critical, 0),
        RuleKey::CertificateInvalid => ("CertificateInvalid", Severity::Critical, 0),
        RuleKey::CertificateExpiring => ("CertificateExpiring", Severity::Warning, 0),
        RuleKey::DnsWrongAnswer => ("DnsWrongAnswer", Severity::Critical, 0),
        RuleKey::DnsFailedOver => ("DnsFailedOver", Severity::Warning, 60),
        RuleKey::ReplicationBroken => ("ReplicationBroken", Severity::Critical, 30),
        RuleKey::BacklogStuck => ("BacklogStuck", Severity::Critical, 60),
        RuleKey::PeerUnreachable => ("PeerUnreachable", Severity::Critical, 30),
        RuleKey::EngineStale => ("EngineStale", Severity::Critical, 0),
        RuleKey::ControlStoreUnwritable => ("ControlStoreUnwritable", Severity::Critical, 30),
        RuleKey::VantageIsolated => ("VantageIsolated", Severity::Warning, 30),
        RuleKey::MaintenanceNotObserved => ("MaintenanceNotObserved", Severity::Critical, 30),
        RuleKey::BreakGlassUsed => ("BreakGlassUsed", Severity::Warning, 0),
    }
}

/// Every rule, in catalogue order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules(Vec<Rule>);

impl Rules {
    /// The defaults with `[alerting.rules]` applied.
    pub fn of_config(config: &AlertingConfig) -> Rules {
        Rules(
            RuleKey::iter()
                .map(|key| {
                    let (name, severity, for_seconds) = default(key);
                    let o = config.rules.get(&key).cloned().unwrap_or_default();
                    Rule {
                        key,
                        name,
                        severity: o.severity.unwrap_or(severity),
                        for_ms: o.for_seconds.unwrap_or(for_seconds) as i64 * 1000,
                        muted: o.muted,
                        runbook: o.runbook,
                    }
                })
                .collect(),
        )
    }

    /// The rule for `key`.
    pub fn get(&self, key: RuleKey) -> &Rule {
        // Every key is in the catalogue: `of_config` iterates them all.
        self.0.iter().find(|r| r.key == key).unwrap_or(&self.0[0])
    }

    /// Every rule.
    pub fn all(&self) -> &[Rule] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RuleOverride;

    #[test]
    fn the_config_overrides_only_what_it_names() {
        let mut config = AlertingConfig::default();
        config.rules.insert(
            RuleKey::DnsFailedOver,
            RuleOverride {
                for_seconds: Some(5),
                severity: Some(Severity::Info),
                muted: true,
                runbook: Some("https://runbooks.example/dns".into()),
            },
        );
        let rules = Rules::of_config(&config);
        assert_eq!(rules.all().len(), RuleKey::iter().count());
        let failed_over = rules.get(RuleKey::DnsFailedOver);
        assert_eq!((failed_over.for_ms, failed_over.severity, failed_over.muted), (5000, Severity::Info, true));
        assert_eq!(failed_over.runbook.as_deref(), Some("https://runbooks.example/dns"));
        let host = rules.get(RuleKey::HostDown);
        assert_eq!((host.name, host.for_ms, host.severity, host.muted), ("HostDown", 0, Severity::Critical, false));
        // Each key finds its own rule.
        for key in RuleKey::iter() {
            assert_eq!(rules.get(key).key, key);
        }
    }
}
