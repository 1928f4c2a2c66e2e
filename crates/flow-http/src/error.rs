//! The outcome of a failed webhook step: the error types a bot author sees (S11).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[cfg(test)]
mod tests;

/// How many characters of a non-JSON response body an error keeps.
pub const ERROR_BODY_MAX_CHARS: usize = 2_000;

/// The type of a webhook failure, as stored in the failure variable and shown to the bot author.
///
/// The names are part of the flow format (S11): `Display`, `FromStr` and serde all use them as
/// written here, e.g. `BadResponse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The URL or the method is missing.
    MissingParameter,
    /// The URL, body, a query parameter or a header is invalid, so nothing was sent.
    BadRequest,
    /// The server answered, but not with an accepted status and a JSON body.
    BadResponse,
    /// A response path does not match the response payload.
    KeyError,
    /// No complete answer came back within the step's time-out (S3).
    Timeout,
    /// No answer came back at all: the connection was refused, the host did not resolve, or the
    /// connection broke before the response was complete.
    ConnectionError,
}

impl ErrorKind {
    /// Every kind, in the order of the flow format's table.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::MissingParameter,
        ErrorKind::BadRequest,
        ErrorKind::BadResponse,
        ErrorKind::KeyError,
        ErrorKind::Timeout,
        ErrorKind::ConnectionError,
    ];

    /// The kind's name, e.g. `"BadResponse"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::MissingParameter => "MissingParameter",
            ErrorKind::BadRequest => "BadRequest",
            ErrorKind::BadResponse => "BadResponse",
            ErrorKind::KeyError => "KeyError",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::ConnectionError => "ConnectionError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the [`ErrorKind`]s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown webhook error type `{0}` (expected one of MissingParameter, BadRequest, \
     BadResponse, KeyError, Timeout, ConnectionError)"
)]
pub struct UnknownErrorKind(pub String);

impl FromStr for ErrorKind {
    type Err = UnknownErrorKind;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownErrorKind(name.to_owned()))
    }
}

/// Why a webhook step failed, in a form that can be stored in a conversation variable.
///
/// As text it reads `<type>: <message>`, e.g. `BadResponse: Invalid response status: 404`.
/// Serialized it is `{"type", "message", "status", "body"}`; `status` and `body` are `null`
/// unless a response came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct WebhookError {
    /// The error type.
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    /// A message a bot author can read; it never carries a secret's value.
    pub message: String,
    /// The response status, where a response came back.
    #[serde(default)]
    pub status: Option<u16>,
    /// The response body, where one came back: its JSON when it parses, else its text cut to
    /// [`ERROR_BODY_MAX_CHARS`] characters.
    #[serde(default)]
    pub body: Option<Value>,
}

impl WebhookError {
    /// An error of `kind` with `message`, and no response.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WebhookError {
            kind,
            message: message.into(),
            status: None,
            body: None,
        }
    }

    /// The same error, carrying the status of the response that came back.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The same error, carrying the response body (see [`error_body`]).
    pub fn with_body(mut self, body: &[u8]) -> Self {
        self.body = error_body(body);
        self
    }
}

/// The form of a response body kept in an error: `None` when empty, its JSON when it parses,
/// else its text (invalid UTF-8 replaced) cut to [`ERROR_BODY_MAX_CHARS`] characters with `…`.
pub fn error_body(body: &[u8]) -> Option<Value> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    if let Ok(json) = serde_json::from_slice(body) {
        return Some(json);
    }
    let text = String::from_utf8_lossy(body);
    Some(Value::String(truncate_chars(
        text.trim(),
        ERROR_BODY_MAX_CHARS,
    )))
}

/// `text` cut to at most `max` characters (plus `…` when cut), never inside a character.
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
