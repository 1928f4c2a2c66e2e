//! `flowbot serve`: the production server, with its settings from flags, `FLOWBOT_*` variables
//! and a config file, in that order of precedence, over the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use flow_server::{RequestLimits, ServeError, ServerConfig};
use serde::Deserialize;

/// Options of `flowbot serve`. Each flag can also be set by its `FLOWBOT_*` environment
/// variable or by the config file's key of the same name (`allow_webhook`, `outbound_url`...).
#[derive(clap::Args, Default)]
pub struct Args {
    /// The folder of flow files to run; all are loaded and checked at start [default: flows].
    #[arg(long, value_name = "DIR", env = "FLOWBOT_FLOWS")]
    flows: Option<PathBuf>,
    /// The address to listen on. Without tokens, only a loopback address is accepted
    /// [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", env = "FLOWBOT_LISTEN")]
    listen: Option<SocketAddr>,
    /// Where conversations are stored [default: sqlite:flowbot.db].
    #[arg(long, value_name = "URL", env = "FLOWBOT_STORE")]
    store: Option<String>,
    /// A webhook target allowed although it is private or local (a host name, an address or a
    /// CIDR range such as 10.0.0.0/8); repeat it for more. Without it, webhooks to loopback,
    /// private, link-local and cloud-metadata addresses are blocked.
    #[arg(
        long,
        value_name = "HOST|CIDR",
        env = "FLOWBOT_ALLOW_WEBHOOK",
        value_delimiter = ','
    )]
    allow_webhook: Vec<String>,
    /// Where the outputs of timer turns are POSTed (with retries), besides the outputs endpoint.
    #[arg(long, value_name = "URL", env = "FLOWBOT_OUTBOUND_URL")]
    outbound_url: Option<String>,
    /// A file of API tokens, one per line; FLOWBOT_API_TOKENS gives them comma-separated.
    #[arg(long, value_name = "FILE", env = "FLOWBOT_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// A bot open to the web chat (`/chat/BOT`) and the widget without a token, through the
    /// rate-limited public endpoints; repeat it for more.
    #[arg(
        long,
        value_name = "BOT",
        env = "FLOWBOT_PUBLIC_BOTS",
        value_delimiter = ','
    )]
    public_bot: Vec<String>,
    /// Requests a minute one client address may make to the public endpoints [default: 60].
    #[arg(long, value_name = "N", env = "FLOWBOT_PUBLIC_RATE_LIMIT")]
    public_rate_limit: Option<u32>,
    /// Listen on a non-loopback address without tokens: anyone who reaches it can use the API.
    #[arg(long, env = "FLOWBOT_INSECURE_NO_AUTH")]
    insecure_no_auth: bool,
    /// A file of `NAME=value` lines for `{{secret.NAME}}` (FLOWBOT_SECRET_NAME variables win).
    #[arg(long, value_name = "FILE", env = "FLOWBOT_SECRETS_FILE")]
    secrets: Option<PathBuf>,
    /// How long outputs and message records are kept, e.g. `7d`, `12h` [default: 7d].
    #[arg(long, value_name = "DURATION", env = "FLOWBOT_RETENTION", value_parser = humantime::parse_duration)]
    retention: Option<Duration>,
    /// The largest request body, in bytes [default: 65536].
    #[arg(long, value_name = "BYTES", env = "FLOWBOT_MAX_BODY_BYTES")]
    max_body_bytes: Option<usize>,
    /// The longest message text, in characters [default: 4096].
    #[arg(long, value_name = "CHARS", env = "FLOWBOT_MAX_TEXT_CHARS")]
    max_text_chars: Option<usize>,
    /// The largest `variables` object of a request, in bytes of JSON [default: 16384].
    #[arg(long, value_name = "BYTES", env = "FLOWBOT_MAX_PRESET_BYTES")]
    max_preset_bytes: Option<usize>,
    /// The largest stored state of one conversation, in bytes of JSON; over it, the biggest
    /// values (`last webhook success` first) are cleared [default: 262144].
    #[arg(long, value_name = "BYTES", env = "FLOWBOT_MAX_STATE_BYTES")]
    max_state_bytes: Option<usize>,
    /// Log format: `text` or `json` lines [default: text]. The level comes from RUST_LOG
    /// (default `info`).
    #[arg(long, value_name = "FORMAT", env = "FLOWBOT_LOG_FORMAT")]
    log_format: Option<LogFormat>,
    /// With several instances on one PostgreSQL store: how long a conversation's lease lasts
    /// unless its turn renews it (every third of it), e.g. `30s`. The conversations of an
    /// instance that died wait this long before another takes them [default: 30s, at least
    /// 300ms].
    #[arg(long, value_name = "DURATION", env = "FLOWBOT_LEASE_TTL", value_parser = humantime::parse_duration)]
    lease_ttl: Option<Duration>,
    /// A YAML file with any of the settings above, by their long names in snake_case.
    #[arg(long, value_name = "FILE", env = "FLOWBOT_CONFIG")]
    config: Option<PathBuf>,
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The config file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    flows: Option<PathBuf>,
    listen: Option<SocketAddr>,
    store: Option<String>,
    #[serde(default)]
    allow_webhook: Vec<String>,
    outbound_url: Option<String>,
    tokens_file: Option<PathBuf>,
    #[serde(default)]
    public_bot: Vec<String>,
    public_rate_limit: Option<u32>,
    #[serde(default)]
    insecure_no_auth: bool,
    secrets: Option<PathBuf>,
    retention: Option<String>,
    max_body_bytes: Option<usize>,
    max_text_chars: Option<usize>,
    max_preset_bytes: Option<usize>,
    max_state_bytes: Option<usize>,
    log_format: Option<LogFormat>,
    lease_ttl: Option<String>,
}

/// Runs the server until it is stopped.
pub fn run(args: Args) -> Result<ExitCode> {
    let config = settings(args, std::env::var("FLOWBOT_API_TOKENS").ok())?;
    init_logs(config.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match runtime.block_on(flow_server::serve(config)) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(ServeError::Flows(flow_server::bots::LoadError::Invalid(errors))) => {
            for error in &errors {
                eprintln!("{error}");
            }
            bail!(
                "the flows have {} error(s); the server did not start (check them with `flowbot \
                 validate`)",
                errors.len()
            )
        }
        Err(error) => Err(error.into()),
    }
}

/// The settings: each flag (or its variable) over the config file's value over the default.
fn settings(args: Args, api_tokens: Option<String>) -> Result<ServerConfig> {
    let file = match &args.config {
        Some(path) => read_config(path)?,
        None => ConfigFile::default(),
    };
    let defaults = ServerConfig::default();
    let limits = RequestLimits::default();
    let retention = match (args.retention, &file.retention) {
        (Some(retention), _) => retention,
        (None, Some(text)) => humantime::parse_duration(text)
            .with_context(|| format!("`retention: {text}` in the config file"))?,
        (None, None) => defaults.retention,
    };
    let lease_ttl = match (args.lease_ttl, &file.lease_ttl) {
        (Some(ttl), _) => ttl,
        (None, Some(text)) => humantime::parse_duration(text)
            .with_context(|| format!("`lease_ttl: {text}` in the config file"))?,
        (None, None) => defaults.lease_ttl,
    };
    if lease_ttl < flow_server::MIN_LEASE_TTL {
        bail!(
            "--lease-ttl {}: a lease must last at least {} (it is renewed every third of it)",
            humantime::format_duration(lease_ttl),
            humantime::format_duration(flow_server::MIN_LEASE_TTL)
        );
    }
    let mut tokens: Vec<String> = api_tokens
        .iter()
        .flat_map(|tokens| tokens.split(','))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(path) = args.tokens_file.as_ref().or(file.tokens_file.as_ref()) {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the tokens file {}", path.display()))?;
        tokens.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(str::to_owned),
        );
    }
    let allow_webhook = match args.allow_webhook.is_empty() {
        true => file.allow_webhook,
        false => args.allow_webhook,
    };
    let public_rate_limit = pick(
        args.public_rate_limit,
        file.public_rate_limit,
        defaults.public_rate_limit,
    );
    if public_rate_limit == 0 {
        bail!("--public-rate-limit is requests a minute and must be at least 1");
    }
    let public_bots = match args.public_bot.is_empty() {
        true => file.public_bot,
        false => args.public_bot,
    };
    Ok(ServerConfig {
        flows: args.flows.or(file.flows).unwrap_or(defaults.flows),
        listen: args.listen.or(file.listen).unwrap_or(defaults.listen),
        store: args.store.or(file.store).unwrap_or(defaults.store),
        allow_webhook,
        outbound_url: args.outbound_url.or(file.outbound_url),
        tokens,
        public_bots,
        public_rate_limit,
        insecure_no_auth: args.insecure_no_auth || file.insecure_no_auth,
        secrets_file: args.secrets.or(file.secrets),
        limits: RequestLimits {
            max_body_bytes: pick(
                args.max_body_bytes,
                file.max_body_bytes,
                limits.max_body_bytes,
            ),
            max_text_chars: pick(
                args.max_text_chars,
                file.max_text_chars,
                limits.max_text_chars,
            ),
            max_preset_bytes: pick(
                args.max_preset_bytes,
                file.max_preset_bytes,
                limits.max_preset_bytes,
            ),
            max_state_bytes: pick(
                args.max_state_bytes,
                file.max_state_bytes,
                limits.max_state_bytes,
            ),
            ..limits
        },
        retention,
        log_json: args.log_format.or(file.log_format) == Some(LogFormat::Json),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        lease_ttl,
    })
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

fn read_config(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the config file {}", path.display()))?;
    if text.trim().is_empty() {
        return Ok(ConfigFile::default());
    }
    serde_yaml::from_str(&text).with_context(|| format!("in the config file {}", path.display()))
}

/// Logs to stderr, as text or JSON lines, at the level of RUST_LOG (default `info`).
fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_setting_at_all_gives_the_documented_defaults() {
        let config = settings(Args::default(), None).unwrap();
        assert_eq!(config.flows, PathBuf::from("flows"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.store, "sqlite:flowbot.db");
        assert!(config.tokens.is_empty());
        assert_eq!(config.retention, Duration::from_secs(7 * 24 * 3600));
        assert!(config.public_bots.is_empty());
        assert_eq!(config.public_rate_limit, 60);
    }

    #[test]
    fn public_bots_come_from_the_flags_or_else_from_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowbot.yaml");
        std::fs::write(&path, "public_bot: [faq]\npublic_rate_limit: 5\n").unwrap();
        let from_file = Args {
            config: Some(path.clone()),
            ..Args::default()
        };
        let config = settings(from_file, None).unwrap();
        assert_eq!(config.public_bots, ["faq"]);
        assert_eq!(config.public_rate_limit, 5);
        let from_flags = Args {
            config: Some(path),
            public_bot: vec!["shop".to_owned(), "support".to_owned()],
            public_rate_limit: Some(100),
            ..Args::default()
        };
        let config = settings(from_flags, None).unwrap();
        assert_eq!(config.public_bots, ["shop", "support"]);
        assert_eq!(config.public_rate_limit, 100);
    }

    #[test]
    fn a_flag_wins_over_the_config_file_which_wins_over_the_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowbot.yaml");
        std::fs::write(
            &path,
            "listen: 127.0.0.1:9000\nstore: sqlite:/tmp/x.db\nretention: 2d\nmax_text_chars: 10\n",
        )
        .unwrap();
        let args = Args {
            config: Some(path),
            store: Some("sqlite:/tmp/y.db".to_owned()),
            ..Args::default()
        };
        let config = settings(args, Some("one, two,,".to_owned())).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.store, "sqlite:/tmp/y.db");
        assert_eq!(config.retention, Duration::from_secs(2 * 24 * 3600));
        assert_eq!(config.limits.max_text_chars, 10);
        assert_eq!(config.tokens, ["one", "two"]);
    }

    #[test]
    fn tokens_come_from_the_variable_and_from_the_tokens_file_comments_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, "# one token per line\nthree\n\n  four  \n").unwrap();
        let args = Args {
            tokens_file: Some(path),
            ..Args::default()
        };
        let config = settings(args, Some("one,two".to_owned())).unwrap();
        assert_eq!(config.tokens, ["one", "two", "three", "four"]);
    }

    #[test]
    fn a_public_rate_limit_of_zero_is_refused() {
        let args = Args {
            public_rate_limit: Some(0),
            ..Args::default()
        };
        let error = format!("{:#}", settings(args, None).err().unwrap());
        assert_eq!(
            error,
            "--public-rate-limit is requests a minute and must be at least 1"
        );
    }

    #[test]
    fn a_missing_tokens_file_is_an_error_naming_it() {
        let args = Args {
            tokens_file: Some(PathBuf::from("/nonexistent/tokens")),
            ..Args::default()
        };
        let error = format!("{:#}", settings(args, None).err().unwrap());
        assert!(
            error.contains("reading the tokens file /nonexistent/tokens"),
            "{error}"
        );
    }

    #[test]
    fn the_lease_time_comes_from_the_flag_or_the_file_and_is_at_least_300_ms() {
        assert_eq!(
            settings(Args::default(), None).unwrap().lease_ttl,
            Duration::from_secs(30)
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowbot.yaml");
        std::fs::write(&path, "lease_ttl: 10s\n").unwrap();
        let from_file = Args {
            config: Some(path.clone()),
            ..Args::default()
        };
        assert_eq!(
            settings(from_file, None).unwrap().lease_ttl,
            Duration::from_secs(10)
        );
        let flag = Args {
            config: Some(path),
            lease_ttl: Some(Duration::from_millis(500)),
            ..Args::default()
        };
        assert_eq!(
            settings(flag, None).unwrap().lease_ttl,
            Duration::from_millis(500)
        );
        let short = Args {
            lease_ttl: Some(Duration::from_millis(100)),
            ..Args::default()
        };
        let error = format!("{:#}", settings(short, None).err().unwrap());
        assert!(
            error.contains("--lease-ttl 100ms: a lease must last at least 300ms"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flowbot.yaml");
        std::fs::write(&path, "listne: 127.0.0.1:9000\n").unwrap();
        let args = Args {
            config: Some(path),
            ..Args::default()
        };
        let error = format!("{:#}", settings(args, None).err().unwrap());
        assert!(error.contains("unknown field `listne`"), "{error}");
    }
}
