//! Components used on every page: banner, navigation, status badges and the error boundary.

pub mod banner;
pub mod chart;
pub mod status;

pub use banner::{Banner, Nav};
pub use chart::Sparkline;
pub use status::{Badge, Failure};
