//! What a webhook step sends: method, encoded URL, headers, body, time-out and accepted statuses.

use std::time::Duration;

use flow_core::flow::{AcceptStatus, Method, DEFAULT_WEBHOOK_TIMEOUT};
use serde::{Serialize, Serializer};

#[cfg(test)]
mod tests;

/// The time-out of a step that sets none (S3), the same as the flow model's.
pub const DEFAULT_TIMEOUT: Duration = DEFAULT_WEBHOOK_TIMEOUT;

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
    if duration.subsec_nanos().is_multiple_of(1_000_000) {
        return format!("{}ms", duration.as_millis());
    }
    format!("{duration:?}")
}
