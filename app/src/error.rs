//! The one error type server functions return, rendered by one error boundary.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// Why a page's data could not be loaded, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum ConsoleError {
    /// The request to the server failed (network, decoding, server function plumbing).
    #[error("could not reach this Crowsnest instance: {0}")]
    Transport(String),
    /// The server is up but the console state is not wired in (a bug, never expected).
    #[error("the console state is not available on this server")]
    NoConsole,
    /// A store (control or local) failed to answer.
    #[error("the {store} store failed: {message}")]
    Store {
        /// Which store: `control` or `local`.
        store: String,
        /// The store's own error, in words.
        message: String,
    },
    /// The request asked for something that makes no sense (e.g. a window that ends before it
    /// starts), in words.
    #[error("{0}")]
    Invalid(String),
}

impl FromServerFnError for ConsoleError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        ConsoleError::Transport(value.to_string())
    }
}
