//! What a webhook step sends: method, encoded URL, headers, body, time-out and accepted statuses.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(test)]
mod tests;

/// The time-out of a step that sets none (S3).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// An HTTP method a webhook step may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// `GET`, the default (S6).
    #[default]
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `HEAD`: the response has no body, so an accepted status is a success with `null`.
    Head,
    /// `OPTIONS`.
    Options,
}

impl Method {
    /// Every method, in the order error messages list them.
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    /// The method's name in upper case, as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method name that could not be read.
///
/// `Empty` is kept apart so that the step can report it as a `MissingParameter` (S6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodError {
    /// The method is empty or blank.
    #[error("http method is empty (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)")]
    Empty,
    /// The method is not one a webhook step may use.
    #[error(
        "unknown http method `{0}` (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    )]
    Unknown(String),
}

impl FromStr for Method {
    type Err = MethodError;

    /// Reads a method ignoring case and surrounding spaces: `post` is `POST`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim();
        if name.is_empty() {
            return Err(MethodError::Empty);
        }
        Method::ALL
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| MethodError::Unknown(name.to_owned()))
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One entry of an [`AcceptStatus`]: a status code or a class such as `2xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusPattern {
    Code(u16),
    /// The hundreds digit: `2` for `2xx`.
    Class(u16),
}

impl StatusPattern {
    fn matches(self, status: u16) -> bool {
        match self {
            StatusPattern::Code(code) => code == status,
            StatusPattern::Class(class) => status / 100 == class,
        }
    }

    fn parse(item: &str) -> Result<Self, AcceptStatusError> {
        let invalid = || AcceptStatusError::Invalid(item.to_owned());
        let bytes = item.as_bytes();
        if bytes.len() != 3 {
            return Err(invalid());
        }
        let first = u16::from(bytes[0].wrapping_sub(b'0'));
        if !(1..=5).contains(&first) {
            return Err(invalid());
        }
        if bytes[1..].eq_ignore_ascii_case(b"xx") {
            return Ok(StatusPattern::Class(first));
        }
        item.parse::<u16>()
            .map(StatusPattern::Code)
            .map_err(|_| invalid())
    }
}

impl fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusPattern::Code(code) => write!(f, "{code}"),
            StatusPattern::Class(class) => write!(f, "{class}xx"),
        }
    }
}

/// The response statuses a step counts as success (S11).
///
/// The default is `[200]`. It reads a code (`201`), a class (`2xx`), or a list of them
/// (`[200, 201]`, `200, 201`, `[200, "3xx"]` in YAML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptStatus(Vec<StatusPattern>);

/// Accepted statuses that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptStatusError {
    /// No status at all, e.g. `[]`.
    #[error(
        "accepted statuses are empty (expected a status such as 200, a class such as 2xx, \
         or a list such as [200, 201])"
    )]
    Empty,
    /// An entry that is neither a status from 100 to 599 nor a class from 1xx to 5xx.
    #[error(
        "invalid accepted status `{0}` (expected a status from 100 to 599 such as 200, \
         or a class such as 2xx)"
    )]
    Invalid(String),
}

impl AcceptStatus {
    /// Reads accepted statuses: `200`, `2xx`, `[200, 201]` or `200, 201`.
    pub fn parse(text: &str) -> Result<Self, AcceptStatusError> {
        let trimmed = text.trim();
        let inner = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(trimmed);
        let patterns = inner
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| StatusPattern::parse(item.trim_matches(|c| c == '"' || c == '\'')))
            .collect::<Result<Vec<_>, _>>()?;
        AcceptStatus::from_patterns(patterns)
    }

    fn from_patterns(patterns: Vec<StatusPattern>) -> Result<Self, AcceptStatusError> {
        if patterns.is_empty() {
            return Err(AcceptStatusError::Empty);
        }
        Ok(AcceptStatus(patterns))
    }

    /// Whether `status` counts as success.
    pub fn contains(&self, status: u16) -> bool {
        self.0.iter().any(|pattern| pattern.matches(status))
    }
}

impl Default for AcceptStatus {
    fn default() -> Self {
        AcceptStatus(vec![StatusPattern::Code(200)])
    }
}

impl FromStr for AcceptStatus {
    type Err = AcceptStatusError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AcceptStatus::parse(text)
    }
}

impl fmt::Display for AcceptStatus {
    /// One entry as itself (`2xx`), several as a list (`[200, 201]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [single] = self.0.as_slice() {
            return write!(f, "{single}");
        }
        let items: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "[{}]", items.join(", "))
    }
}

impl Serialize for AcceptStatus {
    /// A list of codes (numbers) and classes (strings): `[200, "3xx"]`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for pattern in &self.0 {
            match pattern {
                StatusPattern::Code(code) => seq.serialize_element(code)?,
                StatusPattern::Class(_) => seq.serialize_element(&pattern.to_string())?,
            }
        }
        seq.end()
    }
}

/// The shapes `accept_status` may take in a flow file.
#[derive(Deserialize)]
#[serde(untagged)]
enum AcceptStatusDoc {
    One(AcceptStatusItem),
    Many(Vec<AcceptStatusItem>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AcceptStatusItem {
    Code(u64),
    Text(String),
}

impl AcceptStatusItem {
    fn patterns(self) -> Result<Vec<StatusPattern>, AcceptStatusError> {
        match self {
            AcceptStatusItem::Code(code) => Ok(vec![StatusPattern::parse(&code.to_string())?]),
            AcceptStatusItem::Text(text) => AcceptStatus::parse(&text).map(|accept| accept.0),
        }
    }
}

impl<'de> Deserialize<'de> for AcceptStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items = match AcceptStatusDoc::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "expected a status such as 200, a class such as 2xx, or a list such as [200, 201]",
            )
        })? {
            AcceptStatusDoc::One(item) => vec![item],
            AcceptStatusDoc::Many(items) => items,
        };
        let mut patterns = Vec::new();
        for item in items {
            patterns.extend(item.patterns().map_err(serde::de::Error::custom)?);
        }
        AcceptStatus::from_patterns(patterns).map_err(serde::de::Error::custom)
    }
}

/// A request body and the content type it is sent with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestBody {
    /// The `Content-Type` header sent with the body, unless the request's headers set one.
    pub content_type: String,
    /// The bytes sent; serialized as text when they are UTF-8, else as a list of bytes.
    #[serde(serialize_with = "serialize_bytes")]
    pub bytes: Vec<u8>,
}

impl RequestBody {
    /// A body of compact JSON with `Content-Type: application/json`.
    pub fn json(value: &serde_json::Value) -> Self {
        RequestBody {
            content_type: "application/json".to_owned(),
            bytes: value.to_string().into_bytes(),
        }
    }

    /// A body of `text` sent with `content_type`.
    pub fn text(content_type: impl Into<String>, text: impl Into<String>) -> Self {
        RequestBody {
            content_type: content_type.into(),
            bytes: text.into().into_bytes(),
        }
    }
}

fn serialize_bytes<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => serializer.serialize_str(text),
        Err(_) => bytes.serialize(serializer),
    }
}

/// A fully rendered webhook request, ready for [`crate::Client::send`].
///
/// Every template has already been replaced and encoded: the URL is sent as it is written here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookRequest {
    /// The id of the webhook block, for traces and error reports.
    pub block_id: String,
    /// The method.
    pub method: Method,
    /// The URL, already percent-encoded, query included.
    pub url: String,
    /// Headers in the order they are sent; a name may repeat.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<RequestBody>,
    /// How long the whole exchange may take; the client caps it (S3).
    #[serde(serialize_with = "serialize_duration")]
    pub timeout: Duration,
    /// The statuses that count as success.
    pub accept: AcceptStatus,
}

impl WebhookRequest {
    /// A request with no headers and no body, the default time-out and accepted statuses.
    pub fn new(block_id: impl Into<String>, method: Method, url: impl Into<String>) -> Self {
        WebhookRequest {
            block_id: block_id.into(),
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            timeout: DEFAULT_TIMEOUT,
            accept: AcceptStatus::default(),
        }
    }

    /// The same request with one more header.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same request with `body`.
    pub fn with_body(mut self, body: RequestBody) -> Self {
        self.body = Some(body);
        self
    }

    /// The same request with `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The same request with `accept`.
    pub fn with_accept(mut self, accept: AcceptStatus) -> Self {
        self.accept = accept;
        self
    }

    /// Whether the request sets header `name`, ignoring case.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(header, _)| header.eq_ignore_ascii_case(name))
    }
}

fn serialize_duration<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_duration(*duration))
}

/// A duration in the flow format's units: `500ms`, `15s`, `2m`, `1h`.
///
/// Durations that fit none of them exactly fall back to Rust's `Debug` form.
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if duration.subsec_nanos() == 0 && secs > 0 {
        return match secs {
            s if s % 3600 == 0 => format!("{}h", s / 3600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        };
    }
    if duration.subsec_nanos() % 1_000_000 == 0 {
        return format!("{}ms", duration.as_millis());
    }
    format!("{duration:?}")
}
