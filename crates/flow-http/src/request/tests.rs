//! Unit tests of `request`: durations and the request's shown form.
//!
//! Methods and accepted statuses belong to the flow model; their tests are in flow-core.

use std::time::Duration;

use serde_json::json;

use super::*;

#[test]
fn durations_print_in_flow_units() {
    assert_eq!(format_duration(Duration::from_secs(15)), "15s");
    assert_eq!(format_duration(Duration::from_millis(200)), "200ms");
    assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
    assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    assert_eq!(format_duration(Duration::from_secs(3600)), "1h");
    assert_eq!(format_duration(Duration::ZERO), "0ms");
    assert_eq!(format_duration(Duration::from_micros(1500)), "1.5ms");
}

#[test]
fn request_shows_exactly_what_is_sent() {
    let request = WebhookRequest::new(
        "order",
        Method::Post,
        "https://shop.example/orders?user=J%C3%A9r%C3%B4me",
    )
    .with_header("Authorization", "Bearer ***")
    .with_body(RequestBody::json(&json!({"qty": 2})))
    .with_timeout(Duration::from_secs(5))
    .with_accept("2xx".parse().unwrap());
    insta::assert_snapshot!(serde_json::to_string_pretty(&request).unwrap(), @r###"
    {
      "block_id": "order",
      "method": "POST",
      "url": "https://shop.example/orders?user=J%C3%A9r%C3%B4me",
      "headers": [
        [
          "Authorization",
          "Bearer ***"
        ]
      ],
      "body": {
        "content_type": "application/json",
        "bytes": "{\"qty\":2}"
      },
      "timeout": "5s",
      "accept": [
        "2xx"
      ]
    }
    "###);
}

#[test]
fn a_new_request_has_the_defaults() {
    let request = WebhookRequest::new("ping", Method::Get, "http://127.0.0.1/");
    assert_eq!(request.timeout, DEFAULT_TIMEOUT);
    assert_eq!(request.timeout, Duration::from_secs(15));
    assert_eq!(request.accept, AcceptStatus::default());
    assert!(request.headers.is_empty() && request.body.is_none());
    assert!(request
        .clone()
        .with_header("user-agent", "x")
        .has_header("User-Agent"));
}

#[test]
fn a_binary_body_shows_as_bytes() {
    let body = RequestBody {
        content_type: "application/octet-stream".to_owned(),
        bytes: vec![0xFF, 0x00],
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"content_type": "application/octet-stream", "bytes": [255, 0]})
    );
}
