//! The public status page: components fed by what the console judges (`evaluate`, pure),
//! rendered as static files (`publish`) that this region's nginx serves from the edge
//! directory, written every probe interval by `engine`.

pub mod engine;
pub mod evaluate;
pub mod publish;
