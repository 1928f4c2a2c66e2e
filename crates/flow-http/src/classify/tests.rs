//! Unit tests of `classify`: which responses are a success, and what a failure says.

use serde_json::json;

use super::*;

/// The outcome as a line: the JSON on success, the error as the author reads it otherwise.
fn outcome(status: u16, content_type: Option<&str>, body: &str, accept: &str) -> String {
    let headers: Vec<(String, String)> = content_type
        .map(|kind| ("Content-Type".to_owned(), kind.to_owned()))
        .into_iter()
        .collect();
    let accept = AcceptStatus::parse(accept).unwrap();
    match classify(status, &headers, body.as_bytes(), &accept) {
        Ok(json) => format!("ok {json}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn accepted_status_with_json_is_a_success() {
    assert_eq!(
        outcome(200, Some("application/json"), r#"{"a":1}"#, "200"),
        r#"ok {"a":1}"#
    );
    assert_eq!(
        outcome(201, Some("application/json"), "[1]", "2xx"),
        "ok [1]"
    );
    assert_eq!(
        outcome(200, Some("text/plain"), "\"hi\"", "200"),
        r#"ok "hi""#
    );
    assert_eq!(outcome(200, None, "42", "200"), "ok 42");
    assert_eq!(
        outcome(200, None, "\u{FEFF}{\"bom\":true}", "200"),
        r#"ok {"bom":true}"#
    );
}

#[test]
fn accepted_status_with_empty_body_is_a_success_with_null() {
    assert_eq!(outcome(204, None, "", "2xx"), "ok null");
    assert_eq!(
        outcome(200, Some("application/json"), " \r\n", "200"),
        "ok null"
    );
}

#[test]
fn other_status_is_invalid_response_status() {
    assert_eq!(
        outcome(404, Some("text/plain"), "nope", "200"),
        "BadResponse: Invalid response status: 404"
    );
    assert_eq!(
        outcome(201, Some("application/json"), "{}", "200"),
        "BadResponse: Invalid response status: 201"
    );
    assert_eq!(
        outcome(302, None, "", "2xx"),
        "BadResponse: Invalid response status: 302"
    );
}

#[test]
fn rejected_status_carries_status_and_body() {
    let headers = [("content-type".to_owned(), "application/json".to_owned())];
    let error = classify(
        500,
        &headers,
        br#"{"error":"down"}"#,
        &AcceptStatus::default(),
    )
    .unwrap_err();
    assert_eq!(
        serde_json::to_value(&error).unwrap(),
        json!({
            "type": "BadResponse",
            "message": "Invalid response status: 500",
            "status": 500,
            "body": {"error": "down"},
        })
    );
}

#[test]
fn non_json_body_names_its_content_type() {
    assert_eq!(
        outcome(200, Some("text/html; charset=utf-8"), "<h1>Hi</h1>", "200"),
        "BadResponse: response is text/html, not JSON"
    );
    assert_eq!(
        outcome(200, Some("application/json"), "{\"a\":", "200"),
        "BadResponse: response says it is application/json but is not valid JSON \
         (EOF while parsing a value at line 1 column 5)"
    );
    assert_eq!(
        outcome(200, Some("application/problem+json"), "oops", "200"),
        "BadResponse: response says it is application/problem+json but is not valid JSON \
         (expected value at line 1 column 1)"
    );
    assert_eq!(
        outcome(200, None, "ok", "200"),
        "BadResponse: response is not JSON (no content type; expected value at line 1 column 1)"
    );
}

#[test]
fn non_json_body_is_kept_in_the_error() {
    let error = classify(200, &[], b"<h1>Hi</h1>", &AcceptStatus::default()).unwrap_err();
    assert_eq!(
        (error.status, error.body),
        (Some(200), Some(json!("<h1>Hi</h1>")))
    );
}
