//! Server functions: the pages' way to ask the server for data.
//!
//! On the server they call the [`Console`] that the `crowsnest` binary provides as context; in the
//! browser they are HTTP calls.

use crate::action::{ActionsBoard, AuditFilter, AuditPage};
use crate::error::ConsoleError;
use crate::model::{Alerts, Backlog, Dns, DnsRecordDetail, Instance, Overview, Replication, Timeline, Topology};
use leptos::prelude::*;

/// The seam between the app and the server's engines and stores.
#[cfg(feature = "ssr")]
pub trait Console: Send + Sync + 'static {
    /// Which instance this is.
    fn instance(&self) -> Instance;
    /// Regions, hosts and their latest health, evaluated now.
    fn topology(&self) -> Topology;
    /// Declared records and what every resolver answers, as of the DNS engine's latest round.
    fn dns(&self) -> Dns;
    /// One page of the DNS page's records, filtered and sorted on the server, with the rest of
    /// the snapshot (`records` holds only the page's rows).
    fn dns_page(&self, query: crate::paging::DnsQuery) -> (Dns, crate::paging::DnsPage);
    /// One record's current state and stored history; None for an undeclared key.
    fn dns_record(&self, key: String) -> futures::future::BoxFuture<'_, Result<Option<DnsRecordDetail>, ConsoleError>>;
    /// Every database cluster's replication, evaluated now.
    fn replication(&self) -> Replication;
    /// Every loader's backlog, evaluated now.
    fn backlog(&self) -> Backlog;
    /// The alerts of the latest evaluation round.
    fn alerts(&self) -> Alerts;
    /// One status per area, with the sites' maintenance state.
    fn overview(&self) -> futures::future::BoxFuture<'_, Result<Overview, ConsoleError>>;
    /// Sites, what users see of them, and action requests.
    fn actions(&self) -> futures::future::BoxFuture<'_, Result<ActionsBoard, ConsoleError>>;
    /// One page of the audit log.
    fn audit(&self, filter: AuditFilter) -> futures::future::BoxFuture<'_, Result<AuditPage, ConsoleError>>;
    /// Every event of a window from every vantage, in order.
    fn timeline(&self, from_ms: i64, to_ms: i64) -> futures::future::BoxFuture<'_, Timeline>;
    /// The public status page as published here, and the incidents told on it.
    fn incidents(&self) -> crate::model::IncidentsBoard;
    /// Every user, for the admin page.
    fn users(&self) -> futures::future::BoxFuture<'_, Result<Vec<crate::auth::UserView>, ConsoleError>>;
}

/// The console handle the server puts into each request's context.
#[cfg(feature = "ssr")]
pub type SharedConsole = std::sync::Arc<dyn Console>;

#[cfg(feature = "ssr")]
fn console() -> Result<SharedConsole, ConsoleError> {
    use_context::<SharedConsole>().ok_or(ConsoleError::NoConsole)
}

/// Which instance and region the user is looking at.
#[server(endpoint = "instance")]
pub async fn get_instance() -> Result<Instance, ConsoleError> {
    Ok(console()?.instance())
}

/// The estate's topology with live health.
#[server(endpoint = "topology")]
pub async fn get_topology() -> Result<Topology, ConsoleError> {
    Ok(console()?.topology())
}

/// One status per area.
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, ConsoleError> {
    console()?.overview().await
}

/// Declared records versus resolution.
#[server(endpoint = "dns")]
pub async fn get_dns() -> Result<Dns, ConsoleError> {
    Ok(console()?.dns())
}

/// One page of records, filtered on the server: what the DNS page and its live refresh fetch.
// The macro makes a struct of the arguments, whose fields a doc comment cannot reach.
#[allow(missing_docs)]
#[server(endpoint = "dns_page")]
pub async fn get_dns_page(
    status: Option<String>,
    name: Option<String>,
    page: usize,
) -> Result<(Dns, crate::paging::DnsPage), ConsoleError> {
    Ok(console()?.dns_page(crate::paging::DnsQuery { status, name, page }))
}

/// One declared record with its history of answers and status changes.
// The macro makes a struct of the arguments, whose fields a doc comment cannot reach.
#[allow(missing_docs)]
#[server(endpoint = "dns_record")]
pub async fn get_dns_record(key: String) -> Result<Option<DnsRecordDetail>, ConsoleError> {
    console()?.dns_record(key).await
}

/// Replication of every database cluster.
#[server(endpoint = "replication")]
pub async fn get_replication() -> Result<Replication, ConsoleError> {
    Ok(console()?.replication())
}

/// Every loader's backlog.
#[server(endpoint = "backlog")]
pub async fn get_backlog() -> Result<Backlog, ConsoleError> {
    Ok(console()?.backlog())
}

/// Firing, pending and resolved alerts, and the receivers they go to.
#[server(endpoint = "alerts")]
pub async fn get_alerts() -> Result<Alerts, ConsoleError> {
    Ok(console()?.alerts())
}

/// Sites and action requests.
#[server(endpoint = "actions")]
pub async fn get_actions() -> Result<ActionsBoard, ConsoleError> {
    console()?.actions().await
}

/// One page of the audit log.
// The macro makes a struct of the arguments, whose fields a doc comment cannot reach.
#[allow(missing_docs)]
#[server(endpoint = "audit")]
pub async fn get_audit(filter: AuditFilter) -> Result<AuditPage, ConsoleError> {
    console()?.audit(filter).await
}

/// The timeline of a window (UTC `YYYY-MM-DD HH:MM`; the last 3 hours when both are empty).
// The macro makes a struct of the arguments, whose fields a doc comment cannot reach.
#[allow(missing_docs)]
#[server(endpoint = "timeline")]
pub async fn get_timeline(from: String, to: String) -> Result<Timeline, ConsoleError> {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let (from_ms, to_ms) = crate::format::window(&from, &to, now_ms).map_err(ConsoleError::Invalid)?;
    Ok(console()?.timeline(from_ms, to_ms).await)
}

/// The status page's components as published here, and the incidents.
#[server(endpoint = "incidents")]
pub async fn get_incidents() -> Result<crate::model::IncidentsBoard, ConsoleError> {
    Ok(console()?.incidents())
}

/// Every user (names, roles, standing; never hashes).
#[server(endpoint = "users")]
pub async fn get_users() -> Result<Vec<crate::auth::UserView>, ConsoleError> {
    console()?.users().await
}
