//! The production server of flowbot: runs the bots of a folder behind the HTTP API of
//! `docs/api.md`, storing every conversation durably.
//!
//! [`serve`] is `flowbot serve`: it loads and checks the flows, opens the store, and answers
//! until SIGTERM or SIGINT. [`app`] builds the same router over a given state, for tests that
//! drive it without a socket. A turn is answered only once its new state, its outputs, the
//! record of its message id and its timer are committed to disk in one transaction
//! ([`store::Store::commit`]); a repeated message id gets the stored answer, byte for byte, and
//! runs nothing again.
//!
//! ```no_run
//! # async fn run() -> Result<(), flow_server::ServeError> {
//! let config = flow_server::ServerConfig::default(); // flows/, 127.0.0.1:8080, sqlite:flowbot.db
//! flow_server::serve(config).await
//! # }
//! ```

mod background;
pub mod bots;
mod config;
mod engine;
mod error;
mod metrics;
mod routes;
mod server;
pub mod store;
mod wire;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

pub use config::{RequestLimits, ServerConfig};
pub use engine::{Answer, Engine, Running, DEFAULT_LEASE_TTL, MIN_LEASE_TTL};
pub use error::ApiError;
pub use routes::public::{PublicAccess, DEFAULT_RATE_PER_MINUTE};
pub use routes::ApiDoc;
pub use server::{serve, ServeError};
pub use wire::BotInfo;

use store::Store;

/// What every request handler shares: the engine, the accepted tokens, the public bots and
/// their rate limit, the flows folder (for reloads) and the shutdown signal.
pub struct AppState<S> {
    /// Runs the turns.
    pub engine: Arc<Engine<S>>,
    /// Bearer tokens accepted on `/v1`; empty means none is asked for.
    pub tokens: Vec<String>,
    /// The bots open to the web chat without a token, and their rate limit.
    pub public: PublicAccess,
    /// Where the flows are read from on a reload.
    pub flows: PathBuf,
    /// True once the server is shutting down.
    pub stop: tokio::sync::watch::Receiver<bool>,
    reloading: Mutex<()>,
}

impl<S: Store> AppState<S> {
    /// The state of a server running `engine`.
    pub fn new(
        engine: Arc<Engine<S>>,
        tokens: Vec<String>,
        flows: PathBuf,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> AppState<S> {
        AppState {
            engine,
            tokens,
            public: PublicAccess::default(),
            flows,
            stop,
            reloading: Mutex::new(()),
        }
    }

    /// The same state with `public` bots open to the web chat.
    pub fn with_public(mut self, public: PublicAccess) -> AppState<S> {
        self.public = public;
        self
    }

    /// Loads the flows again and runs them, or refuses them all with their errors while the
    /// bots already loaded keep serving.
    pub fn reload(&self) -> Result<Vec<BotInfo>, ApiError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match bots::load(&self.flows) {
            Ok(bots) => {
                let list = bots.list.clone();
                for bot in self.public.bots() {
                    if bots.project.flow(bot).is_none() {
                        tracing::warn!(bot, "a public bot is gone from the flows folder; its web chat answers unknown_bot");
                    }
                }
                self.engine.replace_bots(bots);
                tracing::info!(bots = list.len(), "flows reloaded");
                Ok(list)
            }
            Err(bots::LoadError::Invalid(diagnostics)) => {
                tracing::warn!(
                    errors = diagnostics.len(),
                    "reload refused: the flows have errors"
                );
                Err(ApiError::InvalidFlow(diagnostics))
            }
            Err(other) => {
                tracing::warn!(error = %other, "reload refused");
                Err(ApiError::InvalidFlow(vec![other.to_string()]))
            }
        }
    }
}

/// The API's router over `state`.
pub fn app<S: Store>(state: Arc<AppState<S>>) -> axum::Router {
    routes::router(state)
}
