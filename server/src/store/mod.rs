//! Storage: control state (shared, replicated in production) and local state (per instance).

mod component_days;
mod control;
mod incident_journal;
mod local;
mod outbox;

pub use crate::audit::{AuditEntry, NewAuditEntry};
pub use component_days::{DayRow, DAYS_KEPT};
pub use control::{
    AckRecord, ControlStore, DesiredRecord, NewActionRequest, Replay, ReplicaLag, SiteChange, SiteRecord, Transition, UpdateReplay,
    UserChange, UserRecord,
};
pub use local::{BacklogRow, BreakGlass, DnsRow, HealthRow, LocalStore, Observed};
pub use outbox::{OutboxRow, PENDING_PER_RECEIVER};

/// A store failure, naming which store and what it was doing.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Could not open or connect.
    #[error("cannot open the {store} store at {url}: {source}")]
    Open {
        /// `control` or `local`.
        store: &'static str,
        /// Where, without credentials.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Migrations failed.
    #[error("cannot migrate the {store} store: {source}")]
    Migrate {
        /// `control` or `local`.
        store: &'static str,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// This instance may not write now (a secondary, or a primary in split brain).
    #[error("the {store} store is read-only from this instance; refused while {doing}")]
    ReadOnly {
        /// `control`.
        store: &'static str,
        /// What was being done, in words.
        doing: &'static str,
    },
    /// A query failed.
    #[error("{store} store query failed while {doing}: {source}")]
    Query {
        /// `control` or `local`.
        store: &'static str,
        /// What was being done, in words.
        doing: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The audit log no longer holds the head recorded outside it: it will not be extended
    /// (appending would bless a cut or rewritten tail). `crowsnest audit verify` says more.
    #[error("the audit log was tampered with, so nothing more is appended: {0}")]
    Tampered(crate::audit::ChainBreak),
    /// This store was opened without the audit key, so it cannot append audit entries.
    #[error("the control store was opened without the audit key; it cannot append audit entries")]
    NoAuditKey,
}

impl StoreError {
    /// True when PostgreSQL refused a write because the node is in recovery (SQLSTATE 25006):
    /// the mode must be looked at again at once, not at the next interval.
    pub fn is_read_only(&self) -> bool {
        match self {
            StoreError::Query { source, .. } | StoreError::Open { source, .. } => {
                source.as_database_error().and_then(|d| d.code()).is_some_and(|code| code == "25006")
            }
            StoreError::Migrate { .. } | StoreError::ReadOnly { .. } | StoreError::Tampered(_) | StoreError::NoAuditKey => false,
        }
    }
}

/// Hides a password in a database URL before it is shown or logged.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
