//! What the public is told: each component's status from the statuses of what feeds it, and
//! the page's overall indicator. Pure, table-tested.
//!
//! The rule: a site it names is in maintenance, or a scheduled maintenance covering it is under
//! way: `under_maintenance`. Otherwise the worse of what is measured and what an open incident
//! declares for it (the manual override), where measured is, the first that holds:
//! 1. a manual component (nothing probed feeds it): `operational`;
//! 2. the console's data is older than `stale_after_intervals` probe intervals: `unknown`;
//! 3. every member is critical: `major_outage`;
//! 4. some member is critical: `partial_outage`;
//! 5. some member needs attention (warn): `degraded_performance`;
//! 6. some member is unknown (no fresh data): `unknown`, never a green light from old data;
//! 7. otherwise `operational`.

use app::model::{Impact, Status};
use serde::Serialize;

/// A component's status: Statuspage's five words and `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ComponentStatus {
    /// Everything that feeds it is ok.
    Operational,
    /// On-call is working on it on purpose.
    UnderMaintenance,
    /// Its data is stale or missing.
    Unknown,
    /// Up, with something that needs attention.
    DegradedPerformance,
    /// Part of it is down.
    PartialOutage,
    /// All of it is down.
    MajorOutage,
}

impl ComponentStatus {
    /// The word, as in JSON and CSS.
    pub fn word(self) -> &'static str {
        self.into()
    }

    /// In words for the public.
    pub fn words(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::UnderMaintenance => "Under maintenance",
            ComponentStatus::Unknown => "Status unknown",
            ComponentStatus::DegradedPerformance => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }

    /// Statuspage's word for it: Statuspage has no `unknown`, so a client that knows only its
    /// five words reads stale data as `degraded_performance` (never `operational`); the exact
    /// word is in `crowsnest_status`.
    pub fn statuspage_word(self) -> &'static str {
        match self {
            ComponentStatus::Unknown => "degraded_performance",
            other => other.word(),
        }
    }
}

/// What feeds one component now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// Each member's status (hosts, hostnames' DNS, replicas, loaders).
    pub statuses: Vec<Status>,
    /// Whether a site it names is in maintenance, or a scheduled maintenance covers it now.
    pub maintenance: bool,
    /// Nothing probed feeds it (`manual = true`).
    pub manual: bool,
    /// The worst impact an open incident declares for it.
    pub declared: Impact,
}

impl From<Impact> for ComponentStatus {
    fn from(impact: Impact) -> Self {
        match impact {
            Impact::None => ComponentStatus::Operational,
            Impact::DegradedPerformance => ComponentStatus::DegradedPerformance,
            Impact::PartialOutage => ComponentStatus::PartialOutage,
            Impact::MajorOutage => ComponentStatus::MajorOutage,
        }
    }
}

/// The component's status; `stale` when the console's own data is too old to speak for.
pub fn component(members: &Members, stale: bool) -> ComponentStatus {
    let s = &members.statuses;
    let any = |want: Status| s.contains(&want);
    let measured = if members.manual {
        ComponentStatus::Operational
    } else if stale || s.is_empty() {
        ComponentStatus::Unknown
    } else if s.iter().all(|m| *m == Status::Critical) {
        ComponentStatus::MajorOutage
    } else if any(Status::Critical) {
        ComponentStatus::PartialOutage
    } else if any(Status::Warn) {
        ComponentStatus::DegradedPerformance
    } else if any(Status::Unknown) {
        ComponentStatus::Unknown
    } else {
        ComponentStatus::Operational
    };
    if members.maintenance {
        ComponentStatus::UnderMaintenance
    } else {
        measured.max(members.declared.into())
    }
}

/// How many days the uptime bar shows.
pub const UPTIME_DAYS: i64 = 90;

/// Whether time in `status` counts as up for the uptime figure: operational, degraded
/// performance and announced maintenance do; partial and major outages do not; unknown time is
/// not counted at all (no data is neither up nor down).
pub fn counts_up(status: ComponentStatus) -> Option<bool> {
    match status {
        ComponentStatus::Unknown => None,
        ComponentStatus::Operational | ComponentStatus::DegradedPerformance | ComponentStatus::UnderMaintenance => Some(true),
        ComponentStatus::PartialOutage | ComponentStatus::MajorOutage => Some(false),
    }
}

/// One day's bar: the worst status seen that day, none without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// Days since 1970-01-01, UTC.
    pub day: i64,
    /// The worst status that day.
    pub worst: Option<ComponentStatus>,
}

/// A component's last [`UPTIME_DAYS`] days and the share of the measured time it was up.
#[derive(Debug, Clone, PartialEq)]
pub struct Uptime {
    /// Oldest first, ending today.
    pub bars: Vec<Bar>,
    /// Up time over measured time, in percent; none without data.
    pub percent: Option<f64>,
}

/// The uptime of one component from its stored days (`(day, measured ms, up ms, worst word)`),
/// as of `today` (days since 1970-01-01, UTC).
pub fn uptime(days: &[(i64, i64, i64, &str)], today: i64) -> Uptime {
    let first = today - UPTIME_DAYS + 1;
    let shown: Vec<&(i64, i64, i64, &str)> = days.iter().filter(|d| (first..=today).contains(&d.0)).collect();
    let bars = (first..=today)
        .map(|day| Bar { day, worst: shown.iter().find(|d| d.0 == day && d.1 > 0).and_then(|d| std::str::FromStr::from_str(d.3).ok()) })
        .collect();
    let (measured, up) = shown.iter().fold((0i64, 0i64), |(m, u), d| (m + d.1, u + d.2));
    Uptime { bars, percent: (measured > 0).then(|| up as f64 * 100.0 / measured as f64) }
}

/// The page's overall indicator (Statuspage's `none`, `minor`, `major`, `critical`, and
/// `maintenance`) and its description, from every component's status.
pub fn indicator(components: &[ComponentStatus]) -> (&'static str, &'static str) {
    match components.iter().max() {
        None | Some(ComponentStatus::Operational) => ("none", "All Systems Operational"),
        Some(ComponentStatus::UnderMaintenance) => ("maintenance", "Service Under Maintenance"),
        Some(ComponentStatus::Unknown) => ("minor", "Status Unknown for Some Systems"),
        Some(ComponentStatus::DegradedPerformance) => ("minor", "Minor Service Outage"),
        Some(ComponentStatus::PartialOutage) => ("major", "Partial System Outage"),
        Some(ComponentStatus::MajorOutage) => ("critical", "Major System Outage"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ComponentStatus::*;
    use Status::{Critical, Ok as Up, Unknown as NoData, Warn};

    /// (member statuses, maintenance, stale) → status
    #[test]
    fn a_component_is_as_bad_as_its_members_and_never_green_from_old_data() {
        #[rustfmt::skip]
        let table: Vec<(Vec<Status>, bool, bool, ComponentStatus)> = vec![
            (vec![Up, Up], false, false, Operational),
            (vec![Up, Warn], false, false, DegradedPerformance),
            (vec![Up, Critical], false, false, PartialOutage),
            (vec![Critical, Critical], false, false, MajorOutage),
            (vec![Critical, Warn], false, false, PartialOutage),
            // No fresh data for one member, the rest fine: not green.
            (vec![Up, NoData], false, false, Unknown),
            (vec![NoData, Critical], false, false, PartialOutage),
            (vec![], false, false, Unknown),
            // The console's own data is stale: unknown, whatever it last said.
            (vec![Up, Up], false, true, Unknown),
            (vec![Critical], false, true, Unknown),
            // Maintenance explains the rest.
            (vec![Critical], true, false, UnderMaintenance),
            (vec![Up], true, true, UnderMaintenance),
        ];
        for (statuses, maintenance, stale, want) in table {
            let members = Members { statuses: statuses.clone(), maintenance, ..Default::default() };
            assert_eq!(component(&members, stale), want, "{statuses:?} maintenance={maintenance} stale={stale}");
        }
    }

    /// (member statuses, manual, declared, stale) → status
    #[test]
    fn an_incident_declares_at_least_its_impact_and_a_manual_component_is_what_incidents_say() {
        #[rustfmt::skip]
        let table: Vec<(Vec<Status>, bool, Impact, bool, ComponentStatus)> = vec![
            (vec![Up], false, Impact::MajorOutage, false, MajorOutage),
            (vec![Critical], false, Impact::DegradedPerformance, false, MajorOutage),
            (vec![Up, Critical], false, Impact::DegradedPerformance, false, PartialOutage),
            (vec![Up], false, Impact::None, true, Unknown),
            // What on-call says beats old data; it never turns it green.
            (vec![Up], false, Impact::PartialOutage, true, PartialOutage),
            (vec![], true, Impact::None, false, Operational),
            (vec![], true, Impact::None, true, Operational),
            (vec![], true, Impact::PartialOutage, false, PartialOutage),
        ];
        for (statuses, manual, declared, stale, want) in table {
            let members = Members { statuses: statuses.clone(), maintenance: false, manual, declared };
            assert_eq!(component(&members, stale), want, "{statuses:?} manual={manual} declared={declared:?} stale={stale}");
        }
        let under_way = Members { statuses: vec![Critical], maintenance: true, manual: false, declared: Impact::MajorOutage };
        assert_eq!(component(&under_way, false), UnderMaintenance);
    }

    /// (components) → (indicator, description)
    #[test]
    fn the_page_says_the_worst_of_its_components() {
        #[rustfmt::skip]
        let table: Vec<(Vec<ComponentStatus>, (&str, &str))> = vec![
            (vec![], ("none", "All Systems Operational")),
            (vec![Operational, Operational], ("none", "All Systems Operational")),
            (vec![Operational, UnderMaintenance], ("maintenance", "Service Under Maintenance")),
            (vec![UnderMaintenance, Unknown], ("minor", "Status Unknown for Some Systems")),
            (vec![Operational, DegradedPerformance, Unknown], ("minor", "Minor Service Outage")),
            (vec![PartialOutage, DegradedPerformance], ("major", "Partial System Outage")),
            (vec![MajorOutage, PartialOutage], ("critical", "Major System Outage")),
        ];
        for (components, want) in table {
            assert_eq!(indicator(&components), want, "{components:?}");
        }
    }

    #[test]
    fn uptime_counts_measured_time_only_over_ninety_days() {
        let today = 20_000;
        #[rustfmt::skip]
        let days = [
            (today - 90, 1_000, 0, "major_outage"),          // 91 days ago: not shown
            (today - 89, 1_000, 1_000, "operational"),        // the first bar
            (today - 10, 1_000, 500, "partial_outage"),
            (today - 5, 0, 0, "unknown"),                     // no measured time: no data
            (today, 2_000, 2_000, "degraded_performance"),
        ];
        let u = uptime(&days, today);
        assert_eq!(u.bars.len(), 90);
        assert_eq!(u.bars[0], Bar { day: today - 89, worst: Some(Operational) });
        assert_eq!(u.bars[79].worst, Some(PartialOutage));
        assert_eq!(u.bars[84].worst, None);
        assert_eq!(u.bars[89], Bar { day: today, worst: Some(DegradedPerformance) });
        assert_eq!(u.bars.iter().filter(|b| b.worst.is_none()).count(), 87);
        assert_eq!(u.percent, Some(3_500.0 * 100.0 / 4_000.0));
        assert_eq!(uptime(&[], today).percent, None);
        // (status) → counts as up, down or not at all
        for (status, want) in [
            (Operational, Some(true)),
            (UnderMaintenance, Some(true)),
            (DegradedPerformance, Some(true)),
            (PartialOutage, Some(false)),
            (MajorOutage, Some(false)),
            (Unknown, None),
        ] {
            assert_eq!(counts_up(status), want, "{status:?}");
        }
    }

    #[test]
    fn statuspage_clients_never_read_unknown_as_operational() {
        assert_eq!(Unknown.statuspage_word(), "degraded_performance");
        assert_eq!(MajorOutage.statuspage_word(), "major_outage");
        assert_eq!(UnderMaintenance.statuspage_word(), "under_maintenance");
    }
}
