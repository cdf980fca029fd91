//! Components used on every page: banner, navigation, status badges and the error boundary.

mod banner;
mod chart;
mod status;

pub use banner::{Banner, Nav};
pub use chart::Sparkline;
pub use status::{Badge, Failure};
