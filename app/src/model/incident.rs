//! Incidents and scheduled maintenance as the public is told of them: on-call posts updates
//! (each a guarded action), and an incident is what its updates add up to. The status page and
//! its Atom feed show them; the console's Status page posts them.

use serde::{Deserialize, Serialize};

/// An incident (something broke) or a scheduled maintenance (a window announced ahead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IncidentKind {
    /// Something broke.
    Incident,
    /// Planned work in a window.
    Maintenance,
}

/// Where an incident or maintenance stands: Statuspage's words for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IncidentState {
    /// An incident: looking into it.
    Investigating,
    /// An incident: the cause is known.
    Identified,
    /// An incident: a fix is in, watching it.
    Monitoring,
    /// An incident: over.
    Resolved,
    /// A maintenance: announced, its window not begun.
    Scheduled,
    /// A maintenance: its window has begun.
    InProgress,
    /// A maintenance: the work is done, being checked.
    Verifying,
    /// A maintenance: over.
    Completed,
}

impl IncidentState {
    /// The word, as in forms, JSON and CSS.
    pub fn word(self) -> &'static str {
        self.into()
    }

    /// In words for the public.
    pub fn words(self) -> &'static str {
        match self {
            IncidentState::Investigating => "Investigating",
            IncidentState::Identified => "Identified",
            IncidentState::Monitoring => "Monitoring",
            IncidentState::Resolved => "Resolved",
            IncidentState::Scheduled => "Scheduled",
            IncidentState::InProgress => "In progress",
            IncidentState::Verifying => "Verifying",
            IncidentState::Completed => "Completed",
        }
    }

    /// The states an incident or a maintenance moves through, in order.
    pub fn of(kind: IncidentKind) -> &'static [IncidentState] {
        use IncidentState::*;
        match kind {
            IncidentKind::Incident => &[Investigating, Identified, Monitoring, Resolved],
            IncidentKind::Maintenance => &[Scheduled, InProgress, Verifying, Completed],
        }
    }

    /// Whether it is over (resolved, completed).
    pub fn is_over(self) -> bool {
        matches!(self, IncidentState::Resolved | IncidentState::Completed)
    }
}

/// What an incident says about its components (Statuspage's component statuses): the page
/// shows the worse of this and what the console measures. The manual override for what cannot
/// be probed.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Impact {
    /// Nothing declared: the measured status stands.
    #[default]
    None,
    /// Slow or partly wrong.
    DegradedPerformance,
    /// Part of it is down.
    PartialOutage,
    /// All of it is down.
    MajorOutage,
}

impl Impact {
    /// The word, as in forms and JSON.
    pub fn word(self) -> &'static str {
        self.into()
    }

    /// In words, for the form.
    pub fn words(self) -> &'static str {
        match self {
            Impact::None => "No change (what the console measures)",
            Impact::DegradedPerformance => "Degraded performance",
            Impact::PartialOutage => "Partial outage",
            Impact::MajorOutage => "Major outage",
        }
    }

    /// Every impact, least first.
    pub const ALL: [Impact; 4] = [Impact::None, Impact::DegradedPerformance, Impact::PartialOutage, Impact::MajorOutage];
}

/// One update as posted: the first one opens the incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentUpdate {
    /// Its own key (an idempotency key: the same update posted twice, or replayed, is kept once).
    pub key: String,
    /// The incident's key (its first update's key).
    pub incident: String,
    /// Incident or maintenance.
    pub kind: IncidentKind,
    /// The state it moves the incident to.
    pub state: IncidentState,
    /// The incident's title from now on (empty: unchanged).
    pub title: String,
    /// What the public is told.
    pub body: String,
    /// The affected components from now on (empty: unchanged).
    pub components: Vec<String>,
    /// What it declares for them.
    pub impact: Impact,
    /// A maintenance window's start (unix milliseconds).
    pub starts_ms: Option<i64>,
    /// A maintenance window's end (unix milliseconds).
    pub ends_ms: Option<i64>,
    /// Who posted it.
    pub by: String,
    /// When (unix milliseconds).
    pub at_ms: i64,
    /// The instance it was posted on (a secondary's, for break-glass).
    pub written_on: String,
    /// Journaled on this instance under break-glass and not yet replayed into the control store.
    pub pending_replay: bool,
}

/// An incident as its updates add up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// Its key (stable: the feed's entry id and the page's anchor).
    pub key: String,
    /// Incident or maintenance.
    pub kind: IncidentKind,
    /// The latest title.
    pub title: String,
    /// The latest state (a maintenance's moves with its window, see the server's evaluate).
    pub state: IncidentState,
    /// The latest impact.
    pub impact: Impact,
    /// The affected components.
    pub components: Vec<String>,
    /// When it was opened.
    pub created_ms: i64,
    /// Its latest update.
    pub updated_ms: i64,
    /// When it was resolved or completed, if it is over.
    pub resolved_ms: Option<i64>,
    /// A maintenance window's start.
    pub starts_ms: Option<i64>,
    /// A maintenance window's end.
    pub ends_ms: Option<i64>,
    /// Its updates, newest first.
    pub updates: Vec<IncidentUpdate>,
}

/// One component as this instance's status page shows it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicComponent {
    /// Its public name.
    pub name: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// Its status word (`operational`, `unknown`, …).
    pub status: String,
    /// The same in words.
    pub words: String,
    /// Since when it has had that status.
    pub since_ms: i64,
}

/// The console's Status page: what the public page says, the incidents, and the forms' state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct IncidentsBoard {
    /// The components as last published by this instance (empty before the first publication or
    /// without a `[status_page]`).
    pub components: Vec<PublicComponent>,
    /// When this instance last published the page.
    pub published_ms: Option<i64>,
    /// Where the public page is (`auth.public_url`-like; empty: not configured).
    pub public_url: String,
    /// Every component's name, for the forms.
    pub component_names: Vec<String>,
    /// Open incidents and maintenance, and those over in the last 7 days; newest first.
    pub incidents: Vec<Incident>,
    /// A fresh key for this render's forms.
    pub form_key: String,
    /// On a secondary: how a post is taken (break-glass, pending replay) or why it is refused.
    pub secondary: Option<String>,
}
