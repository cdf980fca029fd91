//! The Alerts page's data: every alert this instance evaluates (pending, firing, resolved),
//! and each receiver it posts to with how the last post went.

use super::*;
use serde::{Deserialize, Serialize};

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AlertState {
    /// Seen, waiting out its rule's `for` before it fires.
    Pending,
    /// Firing: sent to every receiver.
    Firing,
    /// Over; still re-posted for a while so every receiver hears it.
    Resolved,
}

impl Worded for AlertState {
    fn word(self) -> &'static str {
        self.into()
    }
    fn meaning(self) -> Status {
        match self {
            AlertState::Pending => Status::Warn,
            AlertState::Firing => Status::Critical,
            AlertState::Resolved => Status::Ok,
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Its name, as Alertmanager groups it: `HostDown`, `DnsWrongAnswer`, …
    pub name: String,
    /// `critical`, `warning` or `info`.
    pub severity: String,
    /// Pending, firing or resolved.
    pub state: AlertState,
    /// Its identity: the labels every region sends alike (`host=lb2`, …), in order.
    pub labels: Vec<(String, String)>,
    /// What is wrong, in the console's words.
    pub summary: String,
    /// The console page that shows it (an absolute link when `auth.public_url` is set).
    pub link: String,
    /// Its rule's runbook, when the config names one.
    pub runbook: Option<String>,
    /// When it was first seen (unix milliseconds).
    pub since_ms: i64,
    /// When it fired, once it has.
    pub fired_ms: Option<i64>,
    /// When it resolved, once it has.
    pub resolved_ms: Option<i64>,
    /// The instances that find it now (this one first when it does); empty once resolved.
    #[serde(default)]
    pub seen_from: Vec<String>,
    /// Its identity as a short hash, the same from every region (forms name an alert by it).
    #[serde(default)]
    pub fingerprint: String,
    /// Why nobody is told of it, while it is silenced: `silence 3 by alice until …: deploy`,
    /// `maintenance on web since …`.
    #[serde(default)]
    pub silenced: Option<String>,
    /// Who acknowledged this episode, when and why: repeats stop until it resolves.
    #[serde(default)]
    pub acknowledged: Option<String>,
}

/// A silence: alerts whose labels match every matcher are shown but not notified until it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    /// Its number.
    pub id: i64,
    /// `name=value` pairs an alert's labels (and `alertname`) must all have.
    pub matchers: Vec<(String, String)>,
    /// When it began (unix milliseconds).
    pub starts_ms: i64,
    /// When it ends (unix milliseconds), or ended if expired early.
    pub ends_ms: i64,
    /// Who made it.
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// Who ended it early, if anyone.
    pub expired_by: Option<String>,
    /// Alerts it silences now.
    pub silencing: usize,
}

/// A direct receiver (no Alertmanager), as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectReceiver {
    /// Its name in the config.
    pub name: String,
    /// `webhook`, `slack`, `pagerduty` or `email`.
    pub kind: String,
    /// Where it goes, without secrets.
    pub target: String,
}

/// An alert's identity, as one instance tells its peers it finds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertSeen {
    /// The alert's name, e.g. `HostDown`.
    pub name: String,
    /// Its identity labels, in order.
    pub labels: Vec<(String, String)>,
}

/// One Alertmanager this instance posts to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receiver {
    /// Its base URL.
    pub url: String,
    /// When a post last succeeded (unix milliseconds).
    pub last_ok_ms: Option<i64>,
    /// The last post's error, while posts fail.
    pub error: Option<String>,
}

/// Where a notice to a direct receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryStatus {
    /// Kept, not tried yet.
    Queued,
    /// Refused or unreachable so far; tried again later.
    Retrying,
    /// Taken by the receiver (2xx).
    Sent,
    /// Given up (its receiver left the config).
    Failed,
}

impl Worded for DeliveryStatus {
    fn word(self) -> &'static str {
        self.into()
    }
    fn meaning(self) -> Status {
        match self {
            DeliveryStatus::Sent => Status::Ok,
            DeliveryStatus::Queued => Status::Unknown,
            DeliveryStatus::Retrying => Status::Warn,
            DeliveryStatus::Failed => Status::Critical,
        }
    }
}

/// One notice to a direct receiver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The receiver's name.
    pub receiver: String,
    /// The notice's key (the same on every attempt).
    pub key: String,
    /// What the notice says, in short: `firing: HostDown host=lb2`.
    pub about: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// When it was kept (unix milliseconds).
    pub created_ms: i64,
    /// When it was taken, once it was.
    pub delivered_ms: Option<i64>,
}

/// Everything the Alerts page shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    /// Firing first, then pending, then resolved; newest first within each.
    pub alerts: Vec<Alert>,
    /// The Alertmanagers posted to (empty: alerts are only shown here).
    pub receivers: Vec<Receiver>,
    /// When the rules were last evaluated (unix milliseconds); 0 before the first round.
    pub evaluated_at_ms: i64,
    /// The newest notices to direct receivers, newest first.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
    /// Silences in force, then those ended in the last day.
    #[serde(default)]
    pub silences: Vec<Silence>,
    /// The direct receivers.
    #[serde(default)]
    pub direct: Vec<DirectReceiver>,
}
