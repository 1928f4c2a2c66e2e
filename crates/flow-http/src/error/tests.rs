//! Unit tests of `error`: names, text form and stored form of webhook errors.

use serde_json::json;

use super::*;

#[test]
fn kinds_read_and_print_as_their_names() {
    for kind in ErrorKind::ALL {
        assert_eq!(kind.to_string().parse::<ErrorKind>(), Ok(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
    }
    let names: Vec<String> = ErrorKind::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "MissingParameter",
            "BadRequest",
            "BadResponse",
            "KeyError",
            "Timeout",
            "ConnectionError"
        ]
    );
}

#[test]
fn unknown_kind_lists_the_known_ones() {
    assert_eq!(
        "badresponse".parse::<ErrorKind>().unwrap_err().to_string(),
        "unknown webhook error type `badresponse` (expected one of MissingParameter, BadRequest, \
         BadResponse, KeyError, Timeout, ConnectionError)"
    );
}

#[test]
fn error_reads_as_type_then_message() {
    let error =
        WebhookError::new(ErrorKind::BadResponse, "Invalid response status: 404").with_status(404);
    assert_eq!(
        error.to_string(),
        "BadResponse: Invalid response status: 404"
    );
}

#[test]
fn error_is_stored_as_type_message_status_body() {
    let error = WebhookError::new(ErrorKind::BadResponse, "Invalid response status: 500")
        .with_status(500)
        .with_body(br#"{"error": "database down"}"#);
    let stored = serde_json::to_value(&error).unwrap();
    assert_eq!(
        stored,
        json!({
            "type": "BadResponse",
            "message": "Invalid response status: 500",
            "status": 500,
            "body": {"error": "database down"},
        })
    );
    assert_eq!(
        serde_json::from_value::<WebhookError>(stored).unwrap(),
        error
    );
}

#[test]
fn error_without_response_has_null_status_and_body() {
    let error = WebhookError::new(ErrorKind::KeyError, "no key `title` at `products[0]`");
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        json!({"type": "KeyError", "message": "no key `title` at `products[0]`", "status": null, "body": null})
    );
    let read: WebhookError = serde_json::from_value(
        json!({"type": "Timeout", "message": "request timed out after 15s"}),
    )
    .unwrap();
    assert_eq!(
        read,
        WebhookError::new(ErrorKind::Timeout, "request timed out after 15s")
    );
}

#[test]
fn error_body_is_json_text_or_nothing() {
    assert_eq!(error_body(b""), None);
    assert_eq!(error_body(b" \n"), None);
    assert_eq!(error_body(b"[1, 2]"), Some(json!([1, 2])));
    assert_eq!(
        error_body(b"  <h1>Oops</h1>\n"),
        Some(json!("<h1>Oops</h1>"))
    );
    assert_eq!(
        error_body(b"caf\xC3\xA9 \xFF"),
        Some(json!("café \u{FFFD}"))
    );
}

#[test]
fn long_text_body_is_cut_at_a_character() {
    let text = "é".repeat(ERROR_BODY_MAX_CHARS + 10);
    let body = error_body(text.as_bytes()).unwrap();
    let kept = body.as_str().unwrap();
    assert_eq!(kept.chars().count(), ERROR_BODY_MAX_CHARS + 1);
    assert!(kept.ends_with("é…"));
}
