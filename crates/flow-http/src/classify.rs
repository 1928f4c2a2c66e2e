//! Turning a response into the step's outcome: a JSON payload, or a `BadResponse` (S11).
//!
//! This is pure so that the simulator's scripted outcomes (S18) go through the same rules as
//! real responses.

use serde_json::Value;

use crate::error::{ErrorKind, WebhookError};
use flow_core::flow::AcceptStatus;

#[cfg(test)]
mod tests;

/// The outcome of a response with `status`, `headers` (any case) and `body` bytes.
///
/// - A status outside `accept` is `BadResponse: Invalid response status: <status>`, carrying the
///   status and the body.
/// - An accepted status with an empty (or blank) body is a success with `null`: a `204 No
///   Content`, a `HEAD`, or a `201` with no body has nothing to store, and that is not the
///   server's fault. A step that saves a path from it then fails with a `KeyError`.
/// - An accepted status with a JSON body is a success with that JSON, whatever the content type
///   says, because many servers send JSON as `text/plain`. A leading UTF-8 byte order mark is
///   skipped.
/// - An accepted status with any other body is a `BadResponse` naming the content type, or the
///   JSON syntax error when the content type claims JSON.
pub fn classify(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    accept: &AcceptStatus,
) -> Result<Value, WebhookError> {
    if !accept.contains(status) {
        return Err(bad_response(
            format!("Invalid response status: {status}"),
            status,
            body,
        ));
    }
    let payload = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    // Checking the whole body as UTF-8 at once is cheaper than checking each string as it is
    // read; a body that is not UTF-8 is read as bytes, so that its error says where it fails.
    let parsed = match std::str::from_utf8(payload) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(payload),
    };
    parsed.map_err(|syntax| {
        let message = match content_type(headers) {
            Some(kind) if is_json_type(kind) => {
                format!("response says it is {kind} but is not valid JSON ({syntax})")
            }
            Some(kind) => format!("response is {kind}, not JSON"),
            None => format!("response is not JSON (no content type; {syntax})"),
        };
        bad_response(message, status, body)
    })
}

fn bad_response(message: String, status: u16, body: &[u8]) -> WebhookError {
    WebhookError::new(ErrorKind::BadResponse, message)
        .with_status(status)
        .with_body(body)
}

/// The media type of the `Content-Type` header, without parameters: `text/html`.
fn content_type(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.split(';').next().unwrap_or_default().trim())
        .filter(|kind| !kind.is_empty())
}

fn is_json_type(media_type: &str) -> bool {
    let media_type = media_type.to_ascii_lowercase();
    media_type == "application/json" || media_type.ends_with("+json")
}
