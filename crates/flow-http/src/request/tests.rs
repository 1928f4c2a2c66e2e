//! Unit tests of `request`: methods, accepted statuses, durations and the request's shown form.

use std::time::Duration;

use serde_json::json;

use super::*;

#[test]
fn methods_read_in_any_case() {
    assert_eq!("post".parse(), Ok(Method::Post));
    assert_eq!(" Delete ".parse(), Ok(Method::Delete));
    for method in Method::ALL {
        assert_eq!(method.as_str().parse(), Ok(method));
        assert_eq!(method.as_str().to_lowercase().parse(), Ok(method));
    }
    assert_eq!(Method::default(), Method::Get);
}

#[test]
fn bad_methods_say_what_is_expected() {
    assert_eq!(
        "FETCH".parse::<Method>().unwrap_err().to_string(),
        "unknown http method `FETCH` (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    );
    assert_eq!("  ".parse::<Method>(), Err(MethodError::Empty));
    assert_eq!(
        serde_json::from_value::<Method>(json!("trace")).unwrap_err().to_string(),
        "unknown http method `trace` (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    );
}

#[test]
fn accept_status_defaults_to_200_only() {
    let accept = AcceptStatus::default();
    assert!(accept.contains(200));
    assert!(!accept.contains(201));
    assert!(!accept.contains(204));
}

#[test]
fn accept_status_reads_codes_classes_and_lists() {
    let cases = [
        ("201", "201"),
        ("2xx", "2xx"),
        ("2XX", "2xx"),
        ("[200, 201]", "[200, 201]"),
        ("200,201", "[200, 201]"),
        ("[200, \"3xx\"]", "[200, 3xx]"),
    ];
    for (text, shown) in cases {
        assert_eq!(
            AcceptStatus::parse(text).unwrap().to_string(),
            shown,
            "{text}"
        );
    }
    let accept = AcceptStatus::parse("[204, 3xx]").unwrap();
    assert!(accept.contains(204) && accept.contains(301) && accept.contains(399));
    assert!(!accept.contains(200) && !accept.contains(400));
}

#[test]
fn bad_accept_status_says_what_is_expected() {
    for text in ["600", "0xx", "20", "2x", "abc", "200, six"] {
        let error = AcceptStatus::parse(text).unwrap_err();
        assert!(
            matches!(error, AcceptStatusError::Invalid(_)),
            "{text}: {error}"
        );
    }
    assert_eq!(
        AcceptStatus::parse("2x").unwrap_err().to_string(),
        "invalid accepted status `2x` (expected a status from 100 to 599 such as 200, \
         or a class such as 2xx)"
    );
    assert_eq!(AcceptStatus::parse("[]"), Err(AcceptStatusError::Empty));
}

#[test]
fn accept_status_reads_from_a_flow_file() {
    let read = |value: serde_json::Value| {
        serde_json::from_value::<AcceptStatus>(value).map(|accept| accept.to_string())
    };
    assert_eq!(read(json!(200)).unwrap(), "200");
    assert_eq!(read(json!("2xx")).unwrap(), "2xx");
    assert_eq!(read(json!([200, 201])).unwrap(), "[200, 201]");
    assert_eq!(read(json!([200, "3xx"])).unwrap(), "[200, 3xx]");
    assert_eq!(
        read(json!([200, 999])).unwrap_err().to_string(),
        "invalid accepted status `999` (expected a status from 100 to 599 such as 200, \
         or a class such as 2xx)"
    );
    assert_eq!(
        read(json!({"code": 200})).unwrap_err().to_string(),
        "expected a status such as 200, a class such as 2xx, or a list such as [200, 201]"
    );
    let accept = AcceptStatus::parse("[200, 2xx]").unwrap();
    assert_eq!(serde_json::to_value(&accept).unwrap(), json!([200, "2xx"]));
}

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
