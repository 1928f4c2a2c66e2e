//! The server's settings: what `flowbot serve` reads from its flags, its `FLOWBOT_*`
//! environment and its config file, with the defaults that let it start with none of them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The folder of flow files (default `flows`).
    pub flows: PathBuf,
    /// The address to listen on (default `127.0.0.1:8080`).
    pub listen: SocketAddr,
    /// The store's URL (default `sqlite:flowbot.db`).
    pub store: String,
    /// Webhook targets allowed although private or local: host names, addresses, CIDR ranges.
    pub allow_webhook: Vec<String>,
    /// Where outputs of timer turns are POSTed.
    pub outbound_url: Option<String>,
    /// Bearer tokens accepted on `/v1`; none means no authentication (loopback only).
    pub tokens: Vec<String>,
    /// Bots open to the web chat and the widget without a token (`--public-bot`).
    pub public_bots: Vec<String>,
    /// Requests a minute one address may make to the public endpoints (default 60).
    pub public_rate_limit: u32,
    /// Listen on a non-loopback address without tokens.
    pub insecure_no_auth: bool,
    /// A file of secrets for `{{secret.NAME}}`, besides `FLOWBOT_SECRET_*`.
    pub secrets_file: Option<PathBuf>,
    /// Size limits of requests and stored state.
    pub limits: RequestLimits,
    /// How long outputs and message records are kept (default 7 days).
    pub retention: Duration,
    /// Logs as JSON lines instead of text.
    pub log_json: bool,
    /// The version shown in `User-Agent` of webhook requests.
    pub version: String,
    /// How long a conversation's lease lasts unless renewed (default 30 s): how long the
    /// conversations of an instance that died wait before another instance takes them.
    pub lease_ttl: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            flows: PathBuf::from("flows"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            store: "sqlite:flowbot.db".to_owned(),
            allow_webhook: Vec::new(),
            outbound_url: None,
            tokens: Vec::new(),
            public_bots: Vec::new(),
            public_rate_limit: crate::DEFAULT_RATE_PER_MINUTE,
            insecure_no_auth: false,
            secrets_file: None,
            limits: RequestLimits::default(),
            retention: Duration::from_secs(7 * 24 * 3600),
            log_json: false,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            lease_ttl: crate::engine::DEFAULT_LEASE_TTL,
        }
    }
}

/// The limits on what a client may send and on what a conversation may store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// The largest request body, in bytes (default 64 KiB).
    pub max_body_bytes: usize,
    /// The longest message text, in characters (default 4,096).
    pub max_text_chars: usize,
    /// The longest conversation id, in bytes (the contract's 200).
    pub max_conversation_id_bytes: usize,
    /// The longest message id, in bytes (default 200).
    pub max_message_id_bytes: usize,
    /// The largest `variables` object, in bytes of JSON (default 16 KiB).
    pub max_preset_bytes: usize,
    /// The largest stored state of one conversation, in bytes of JSON (default 256 KiB).
    pub max_state_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_body_bytes: 64 * 1024,
            max_text_chars: 4096,
            max_conversation_id_bytes: 200,
            max_message_id_bytes: 200,
            max_preset_bytes: 16 * 1024,
            max_state_bytes: 256 * 1024,
        }
    }
}
