//! `flowbot serve`: from settings to a listening server, and a graceful stop.

use std::sync::Arc;
use std::time::Duration;

use flow_http::{AddressPolicy, AllowEntry, AllowEntryError, Client, ClientConfig, Secrets};
use flow_runtime::HttpRunner;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::background;
use crate::bots::{self, LoadError};
use crate::config::ServerConfig;
use crate::engine::Engine;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError, StoreUrl};
use crate::{app, AppState, PublicAccess};

/// The server could not start, or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// No tokens and a non-loopback address.
    #[error(
        "refusing to listen on {0} without authentication: set FLOWBOT_API_TOKENS (or \
         --tokens-file), listen on a loopback address, or pass --insecure-no-auth"
    )]
    NoAuthOnPublicAddress(std::net::SocketAddr),
    /// An `--allow-webhook` entry is not a host, an address or a CIDR range.
    #[error("--allow-webhook {0}: {1}")]
    AllowWebhook(String, #[source] AllowEntryError),
    /// A `--public-bot` names no bot of the flows folder.
    #[error("--public-bot {bot}: there is no bot `{bot}` in the flows folder{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownPublicBot {
        /// The bot named.
        bot: String,
        /// The closest bot there is.
        suggestion: Option<String>,
    },
    /// The flows could not be loaded.
    #[error(transparent)]
    Flows(#[from] LoadError),
    /// The store could not be opened.
    #[error("opening the store: {0}")]
    Store(#[from] StoreError),
    /// The secrets could not be read.
    #[error("reading the secrets: {0}")]
    Secrets(#[from] flow_http::SecretsError),
    /// The webhook client could not be built.
    #[error(transparent)]
    Client(#[from] flow_http::ClientBuildError),
    /// The address could not be bound, or serving failed.
    #[error("listening on {address}: {source}")]
    Listen {
        /// The address.
        address: std::net::SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// How long turns in flight get to finish after a stop signal, beyond the webhook time-out.
const GRACE_MARGIN: Duration = Duration::from_secs(5);

/// Runs the server until SIGTERM or SIGINT, then lets the turns in flight finish.
pub async fn serve(config: ServerConfig) -> Result<(), ServeError> {
    if config.tokens.is_empty() && !config.listen.ip().is_loopback() && !config.insecure_no_auth {
        return Err(ServeError::NoAuthOnPublicAddress(config.listen));
    }
    let bots = bots::load(&config.flows)?;
    for warning in &bots.warnings {
        tracing::warn!("{warning}");
    }
    for bot in &config.public_bots {
        if bots.project.flow(bot).is_none() {
            return Err(ServeError::UnknownPublicBot {
                bot: bot.clone(),
                suggestion: bots.closest(bot),
            });
        }
    }
    match StoreUrl::parse(&config.store)? {
        StoreUrl::Sqlite(path) => serve_on(config, bots, SqliteStore::open(&path)?).await,
        StoreUrl::Postgres(url) => {
            let store = PostgresStore::connect(&url, claim_time(config.lease_ttl)).await?;
            serve_on(config, bots, store).await
        }
    }
}

/// How long a timer or an outbound delivery claimed by one instance is left to it: twice the
/// lease's time-to-live, and at least the outbound POST's time-out with a margin.
pub fn claim_time(lease_ttl: Duration) -> Duration {
    (lease_ttl * 2).max(Duration::from_secs(20))
}

/// Runs the server on `store` until SIGTERM or SIGINT.
async fn serve_on<S: Store>(
    config: ServerConfig,
    bots: bots::Bots,
    store: S,
) -> Result<(), ServeError> {
    let secrets = Arc::new(Secrets::load(config.secrets_file.as_deref())?);
    let allow = config
        .allow_webhook
        .iter()
        .map(|entry| {
            entry
                .parse::<AllowEntry>()
                .map_err(|error| ServeError::AllowWebhook(entry.clone(), error))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let client_config = ClientConfig {
        address_policy: AddressPolicy::public_only(allow),
        ..ClientConfig::for_version(&config.version)
    };
    let grace = client_config.max_timeout + GRACE_MARGIN;
    let client = Client::new(client_config.clone())?.with_secrets(Arc::clone(&secrets));
    let engine = Arc::new(
        Engine::new(
            bots,
            HttpRunner::new(client),
            Arc::clone(&secrets),
            store,
            config.limits,
            config.outbound_url.is_some(),
        )
        .with_lease_ttl(config.lease_ttl),
    );
    let (stop_sender, stop) = watch::channel(false);
    let public = PublicAccess::new(config.public_bots.iter().cloned(), config.public_rate_limit);
    let state = Arc::new(
        AppState::new(
            Arc::clone(&engine),
            config.tokens.clone(),
            config.flows.clone(),
            stop.clone(),
        )
        .with_public(public),
    );
    crate::metrics::handle();
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(|source| ServeError::Listen {
        address: config.listen,
        source,
    })?;
    let mut tasks = vec![
        tokio::spawn(background::fire_timers(Arc::clone(&engine), stop.clone())),
        tokio::spawn(background::prune(
            Arc::clone(&engine),
            config.retention,
            stop.clone(),
        )),
    ];
    if let Some(url) = &config.outbound_url {
        // The operator's own receiver: the webhook address policy does not apply to it.
        let outbound = Client::new(ClientConfig::for_version(&config.version))?;
        tasks.push(tokio::spawn(background::deliver_outputs(
            Arc::clone(&engine),
            outbound,
            url.clone(),
            stop.clone(),
        )));
    }
    tokio::spawn(reload_on_hangup(Arc::clone(&state)));
    let store = crate::store::redacted_url(&config.store);
    tracing::info!(%address, %store, public_bots = ?config.public_bots, "flowbot serve is listening");
    // One write, so that a supervisor or a test reading the line never sees half of it
    // (`eprintln!` writes an unbuffered stderr in pieces).
    let line = format!("flowbot serve: listening on http://{address}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    let shutdown = {
        let mut stop = stop.clone();
        async move {
            let _ = stop.wait_for(|stopped| *stopped).await;
        }
    };
    tokio::spawn(async move {
        stop_signal().await;
        tracing::info!("stop signal: finishing the turns in flight");
        let _ = stop_sender.send(true);
    });
    // The peer address is the public endpoints' rate-limit key.
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, service).with_graceful_shutdown(shutdown);
    let mut stopped = stop.clone();
    let serving = tokio::spawn(async move { server.await });
    // Serve until the stop signal, then give the turns in flight their grace.
    let _ = stopped.wait_for(|stopped| *stopped).await;
    match tokio::time::timeout(grace, serving).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(source))) => return Err(ServeError::Listen { address, source }),
        Ok(Err(error)) => tracing::error!(%error, "the server task failed"),
        Err(_) => tracing::warn!("turns still in flight after the grace period were cut"),
    }
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("flowbot serve stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT (Ctrl-C).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reloads the flows at each SIGHUP.
async fn reload_on_hangup<S: crate::store::Store>(state: Arc<AppState<S>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the flows");
            if let Err(crate::ApiError::InvalidFlow(diagnostics)) = state.reload() {
                for diagnostic in &diagnostics {
                    tracing::warn!("{diagnostic}");
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = state;
}
