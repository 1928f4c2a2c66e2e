//! Sending webhook requests: the only module of flowbot that does network I/O.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use serde_json::Value;
use tracing::field;

use crate::classify::classify;
use crate::error::{ErrorKind, WebhookError};
use crate::guard::{parse_address, AddressPolicy, Blocked};
use flow_core::flow::Method;

use crate::request::{format_duration, WebhookRequest, DEFAULT_TIMEOUT};
use crate::secrets::Secrets;

#[cfg(test)]
mod tests;

/// The `User-Agent` of a [`ClientConfig::default`]: `flowbot/` and this crate's version.
///
/// The binary knows the version users see; it passes it with [`ClientConfig::for_version`].
pub const DEFAULT_USER_AGENT: &str = concat!("flowbot/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` of flowbot at `version`: `flowbot/<version>`.
pub fn user_agent(version: &str) -> String {
    format!("flowbot/{version}")
}

/// Limits that the server's operator sets for every webhook step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The largest response body read, counted after decompression; a larger one fails.
    pub max_body_bytes: usize,
    /// How many redirects are followed; `0` follows none, and the 3xx is the response.
    pub max_redirects: usize,
    /// The longest time-out a step may have: a step may lower it, never raise it (S3).
    pub max_timeout: Duration,
    /// The `User-Agent` sent when a request sets none.
    pub user_agent: String,
    /// Which addresses a webhook may connect to; [`AddressPolicy::Open`] (any) by default.
    ///
    /// Under [`AddressPolicy::PublicOnly`] the address is checked where the connection is made:
    /// names by the client's resolver, which drops refused addresses, IP literals before
    /// sending and at each redirect hop. Proxies from the environment are not used then, since
    /// a proxy would connect on the request's behalf, to an address no check has seen.
    pub address_policy: AddressPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            max_body_bytes: 1024 * 1024,
            max_redirects: 5,
            max_timeout: DEFAULT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            address_policy: AddressPolicy::Open,
        }
    }
}

impl ClientConfig {
    /// The default limits, sending `User-Agent: flowbot/<version>`; the binary passes its own
    /// version (`env!("CARGO_PKG_VERSION")`), which is the one users know.
    pub fn for_version(version: &str) -> ClientConfig {
        ClientConfig {
            user_agent: user_agent(version),
            ..ClientConfig::default()
        }
    }
}

/// The HTTP client could not be set up (for instance, no TLS roots could be loaded).
#[derive(Debug, thiserror::Error)]
#[error("could not set up the http client")]
pub struct ClientBuildError(#[source] reqwest::Error);

/// A response as it came back, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, values decoded lossily, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, decompressed.
    pub body: Vec<u8>,
    /// The time from sending to the end of the body.
    pub elapsed: Duration,
}

/// A successful response: an accepted status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body's JSON; `null` for an empty body.
    pub body: Value,
    /// The time from sending to the end of the body.
    pub elapsed: Duration,
}

/// Sends webhook requests over one shared, pooled connection set.
///
/// Cloning is cheap and shares the pool. Every error it returns has its secrets masked.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<ClientConfig>,
    secrets: Arc<Secrets>,
}

/// Makes ring rustls' process-wide cryptography, unless the host installed one already
/// (reqwest then uses the host's). flowbot builds rustls without aws-lc-rs, reqwest's default,
/// whose C library took most of a cold release build.
fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        // An error means another provider is installed: that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl Client {
    /// A client with `config` and no secrets.
    pub fn new(config: ClientConfig) -> Result<Client, ClientBuildError> {
        let config = Arc::new(config);
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(redirect_policy(&config));
        if config.address_policy.is_restricted() {
            builder = builder
                .no_proxy()
                .dns_resolver(Arc::new(GuardedResolver(Arc::clone(&config))));
        }
        let http = builder.build().map_err(ClientBuildError)?;
        Ok(Client {
            http,
            config,
            secrets: Arc::new(Secrets::new()),
        })
    }

    /// The same client, masking the values of `secrets` in every error it returns or logs.
    pub fn with_secrets(mut self, secrets: Arc<Secrets>) -> Self {
        self.secrets = secrets;
        self
    }

    /// The limits this client applies.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The time-out `request` gets: its own, capped by [`ClientConfig::max_timeout`].
    pub fn timeout_for(&self, request: &WebhookRequest) -> Duration {
        request.timeout.min(self.config.max_timeout)
    }

    /// Sends `request` and classifies the response (see [`classify`]).
    #[tracing::instrument(
        skip_all,
        fields(block_id = %request.block_id, http.method = %request.method, status = field::Empty)
    )]
    pub async fn send(&self, request: &WebhookRequest) -> Result<Response, WebhookError> {
        let outcome = match self.fetch(request).await {
            Ok(raw) => self.judge(raw, request),
            Err(error) => Err(error),
        };
        let status = match &outcome {
            Ok(response) => Some(response.status),
            Err(error) => error.status,
        };
        if let Some(status) = status {
            tracing::Span::current().record("status", status);
        }
        match &outcome {
            Ok(response) => {
                tracing::debug!(
                    elapsed_ms = response.elapsed.as_millis(),
                    "webhook succeeded"
                );
            }
            Err(error) => tracing::debug!(error.kind = %error.kind, "webhook failed"),
        }
        outcome
    }

    fn judge(&self, raw: RawResponse, request: &WebhookRequest) -> Result<Response, WebhookError> {
        let body = classify(raw.status, &raw.headers, &raw.body, &request.accept)
            .map_err(|error| self.secrets.redact_error(error))?;
        Ok(Response {
            status: raw.status,
            headers: raw.headers,
            body,
            elapsed: raw.elapsed,
        })
    }

    /// Sends `request` and reads the whole response, without judging its status or body.
    ///
    /// It must run on a Tokio runtime with its time driver enabled, as the time-out needs it.
    ///
    /// The time-out ([`Client::timeout_for`]) covers the whole exchange, from connecting to the
    /// end of the body. Errors:
    /// - `MissingParameter`: the URL is empty;
    /// - `BadRequest`: the URL, a header or the time-out is invalid; nothing was sent;
    /// - `ConnectionError`: the host did not resolve, the connection was refused, or it broke
    ///   before the response was complete; or [`ClientConfig::address_policy`] refused the
    ///   target or a redirect hop, before connecting to it (the message says why, and which
    ///   `--allow-webhook` entry would allow it);
    /// - `Timeout`: the exchange took longer than the time-out;
    /// - `BadResponse`: the body is larger than [`ClientConfig::max_body_bytes`] once
    ///   decompressed (it is refused, not cut, since a cut JSON body would be wrong data), or it
    ///   could not be decompressed, or the server redirected more than
    ///   [`ClientConfig::max_redirects`] times. A redirect chain is a `BadResponse`, not a
    ///   `ConnectionError`, because the server did answer, only never with a final response:
    ///   what the author must fix is the URL or the server, not the network.
    pub async fn fetch(&self, request: &WebhookRequest) -> Result<RawResponse, WebhookError> {
        self.fetch_unredacted(request)
            .await
            .map_err(|error| self.secrets.redact_error(error))
    }

    async fn fetch_unredacted(
        &self,
        request: &WebhookRequest,
    ) -> Result<RawResponse, WebhookError> {
        let timeout = self.timeout_for(request);
        let http_request = Client::build(request, timeout)?;
        // reqwest resolves names only: an address written in the URL is checked here.
        if let Some(blocked) = blocked_literal(&self.config.address_policy, http_request.url()) {
            return Err(WebhookError::new(
                ErrorKind::ConnectionError,
                blocked.message(None),
            ));
        }
        tracing::debug!(url = %self.secrets.redact(&request.url), "sending webhook request");
        let started = Instant::now();
        let exchange = self.exchange(http_request);
        let (status, headers, body) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| timeout_error(timeout))??;
        Ok(RawResponse {
            status,
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }

    /// Checks `request` and turns it into reqwest's form.
    fn build(
        request: &WebhookRequest,
        timeout: Duration,
    ) -> Result<reqwest::Request, WebhookError> {
        let bad_request = |message: String| WebhookError::new(ErrorKind::BadRequest, message);
        if request.url.trim().is_empty() {
            return Err(WebhookError::new(
                ErrorKind::MissingParameter,
                "the URL is missing",
            ));
        }
        if timeout.is_zero() {
            return Err(bad_request(
                "the time-out must be longer than zero".to_owned(),
            ));
        }
        let url = reqwest::Url::parse(&request.url)
            .map_err(|reason| bad_request(format!("invalid URL `{}`: {reason}", request.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad_request(format!(
                "unsupported URL scheme `{}` (expected http or https)",
                url.scheme()
            )));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad_request(format!(
                "invalid URL `{}`: it has no host",
                request.url
            )));
        }
        let mut http_request = reqwest::Request::new(reqwest_method(request.method), url);
        *http_request.headers_mut() = headers(request)?;
        if let Some(body) = &request.body {
            *http_request.body_mut() = Some(body.bytes.clone().into());
        }
        Ok(http_request)
    }

    /// Sends the request and reads the status, headers and body.
    async fn exchange(
        &self,
        http_request: reqwest::Request,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), WebhookError> {
        let url = http_request.url().clone();
        let mut response = self
            .http
            .execute(http_request)
            .await
            .map_err(|error| send_error(&error, &url, self.config.max_redirects))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let max = self.config.max_body_bytes;
        let too_large = || {
            WebhookError::new(
                ErrorKind::BadResponse,
                format!(
                    "response body is larger than the limit of {}",
                    format_bytes(max)
                ),
            )
            .with_status(status)
        };
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| body_error(&error).with_status(status))?
        {
            if body.len() + chunk.len() > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, headers, body))
    }
}

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
        Method::Head => reqwest::Method::HEAD,
        Method::Options => reqwest::Method::OPTIONS,
    }
}

/// The request's headers, plus the body's `Content-Type` unless a header sets one.
///
/// A bad header is named in the error, but its value never is: it may hold a secret.
fn headers(request: &WebhookRequest) -> Result<HeaderMap, WebhookError> {
    let mut map = HeaderMap::new();
    for (name, value) in &request.headers {
        let header = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            WebhookError::new(
                ErrorKind::BadRequest,
                format!("invalid header name `{name}`"),
            )
        })?;
        // From bytes rather than `from_str`, which refuses anything but visible ASCII: a value
        // such as a customer's name goes out as its UTF-8 bytes, as servers expect.
        let value = HeaderValue::from_bytes(value.as_bytes()).map_err(|_| {
            WebhookError::new(
                ErrorKind::BadRequest,
                format!(
                    "invalid value for header `{name}` (a header value cannot contain line \
                     breaks or other control characters)"
                ),
            )
        })?;
        map.append(header, value);
    }
    if let Some(body) = &request.body {
        if !map.contains_key(CONTENT_TYPE) {
            let value = HeaderValue::from_str(&body.content_type).map_err(|_| {
                WebhookError::new(
                    ErrorKind::BadRequest,
                    format!("invalid body content type `{}`", body.content_type),
                )
            })?;
            map.insert(CONTENT_TYPE, value);
        }
    }
    Ok(map)
}

/// The redirect policy: none for `max_redirects: 0`, else at most that many hops; under a
/// restricting policy, a hop to an IP literal the policy refuses fails before it is followed
/// (a hop to a name is checked by [`GuardedResolver`] when it connects).
fn redirect_policy(config: &Arc<ClientConfig>) -> reqwest::redirect::Policy {
    let max = config.max_redirects;
    if max == 0 {
        return reqwest::redirect::Policy::none();
    }
    let limited = reqwest::redirect::Policy::limited(max);
    if !config.address_policy.is_restricted() {
        return limited;
    }
    let config = Arc::clone(config);
    reqwest::redirect::Policy::custom(move |attempt| {
        match blocked_literal(&config.address_policy, attempt.url()) {
            Some(blocked) => attempt.error(blocked),
            None => limited.redirect(attempt),
        }
    })
}

/// The refusal of `url`'s host when it is an IP literal that `policy` refuses.
fn blocked_literal(policy: &AddressPolicy, url: &reqwest::Url) -> Option<Blocked> {
    let address = parse_address(url.host_str()?)?;
    Blocked::check_literal(policy, &address.to_string(), address)
}

/// `url`'s host as the policy and its messages name it: a name, or an address without the
/// brackets of IPv6.
fn bare_host(url: &reqwest::Url) -> Option<String> {
    let host = url.host_str()?;
    Some(parse_address(host).map_or_else(|| host.to_owned(), |address| address.to_string()))
}

/// The system's resolver (`getaddrinfo`, through Tokio), keeping only the addresses that the
/// client's [`AddressPolicy`] allows; a name left with none fails with [`Blocked`].
///
/// Checking here, rather than the URL before sending, checks the address that is connected to:
/// a name cannot resolve to a public address when checked and to a private one when used.
struct GuardedResolver(Arc<ClientConfig>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let config = Arc::clone(&self.0);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let policy = &config.address_policy;
            let mut allowed = Vec::new();
            let mut refused = Vec::new();
            for address in resolved {
                match policy.check(&host, address.ip()) {
                    Ok(()) => allowed.push(address),
                    Err(why) => refused.push((address.ip(), why)),
                }
            }
            if allowed.is_empty() && !refused.is_empty() {
                return Err(Box::new(Blocked { host, refused }) as _);
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// `host:port` of `url`, for messages: never its path or query, which may carry data.
fn host_of(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The `Timeout` of an exchange cut off after `timeout`, worded as [`Client::fetch`] words it.
///
/// Scripted outcomes use it too, so that a test's transcript reads as production's.
pub fn timeout_error(timeout: Duration) -> WebhookError {
    WebhookError::new(
        ErrorKind::Timeout,
        format!("request timed out after {}", format_duration(timeout)),
    )
}

/// The `ConnectionError` of a request to `url` whose host refused the connection, worded as
/// [`Client::fetch`] words it (the host and port, never the path or query).
///
/// Scripted outcomes use it too, so that a test's transcript reads as production's.
pub fn refused_error(url: &str) -> WebhookError {
    let host =
        reqwest::Url::parse(url).map_or_else(|_| "the server".to_owned(), |url| host_of(&url));
    connect_error(&host, "connection refused")
}

fn connect_error(host: &str, reason: &str) -> WebhookError {
    WebhookError::new(
        ErrorKind::ConnectionError,
        format!("could not connect to {host}: {reason}"),
    )
}

/// The error of a request to `url` that got no response.
fn send_error(error: &reqwest::Error, url: &reqwest::Url, max_redirects: usize) -> WebhookError {
    let host = host_of(url);
    // Found before the redirect case below: the redirect policy's refusal is a redirect error.
    if let Some(blocked) = causes(error).find_map(|cause| cause.downcast_ref::<Blocked>()) {
        // The resolver and the redirect policy see every hop: a target other than the step's
        // own host was reached by a redirect, which the author should be told of.
        let redirected = bare_host(url).as_deref() != Some(blocked.host.as_str());
        return WebhookError::new(
            ErrorKind::ConnectionError,
            blocked.message(redirected.then_some(host.as_str())),
        );
    }
    if error.is_redirect() {
        return WebhookError::new(
            ErrorKind::BadResponse,
            format!(
                "too many redirects (more than {max_redirects}); the server may be redirecting \
                 in a loop"
            ),
        );
    }
    if error.is_builder() {
        return WebhookError::new(
            ErrorKind::BadRequest,
            format!("invalid request: {}", root_cause(error)),
        );
    }
    if error.is_timeout() {
        return WebhookError::new(ErrorKind::Timeout, "request timed out");
    }
    if error.is_connect() {
        return connect_error(&host, &connect_reason(error));
    }
    WebhookError::new(
        ErrorKind::ConnectionError,
        format!(
            "the connection to {host} broke before a response came back: {}",
            root_cause(error)
        ),
    )
}

/// The error of a response whose body could not be read to the end.
fn body_error(error: &reqwest::Error) -> WebhookError {
    if is_decompression_error(error) {
        return WebhookError::new(
            ErrorKind::BadResponse,
            format!(
                "could not decompress the response body: {}",
                root_cause(error)
            ),
        );
    }
    WebhookError::new(
        ErrorKind::ConnectionError,
        format!(
            "the connection broke while reading the response body: {}",
            root_cause(error)
        ),
    )
}

/// Whether the body failed in its decompression rather than in its transport.
///
/// Decoders report corrupt data as an I/O error of kind `InvalidData`; a broken connection
/// surfaces as hyper's own error type instead.
fn is_decompression_error(error: &reqwest::Error) -> bool {
    causes(error).any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
    })
}

/// A short reason a connection could not be made, in the words a bot author knows.
fn connect_reason(error: &reqwest::Error) -> String {
    use std::io::ErrorKind as Io;
    let io_kind = causes(error).find_map(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
    });
    match io_kind {
        Some(Io::ConnectionRefused) => "connection refused".to_owned(),
        Some(Io::ConnectionReset) => "connection reset".to_owned(),
        Some(Io::TimedOut) => "connection timed out".to_owned(),
        _ if error.is_dns() => "host not found".to_owned(),
        _ => root_cause(error),
    }
}

fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |cause| cause.source())
}

/// The innermost cause's message: reqwest's outer messages name the URL, which may carry data.
fn root_cause(error: &reqwest::Error) -> String {
    causes(error)
        .skip(1)
        .last()
        .map_or_else(|| "no further detail".to_owned(), ToString::to_string)
}

/// `1 MiB`, `64 KiB` or `1000 bytes`.
fn format_bytes(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    match bytes {
        0 => "0 bytes".to_owned(),
        b if b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}
