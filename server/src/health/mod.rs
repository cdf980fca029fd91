//! Host health: the probe engine checks every host from this instance (`engine`), a pure
//! evaluation turns the latest observation into a status (`evaluate`), and `view` builds the
//! topology page's data from the board.

pub mod engine;
pub mod evaluate;
pub mod view;
