//! Property test: random bodies (bytes, JSON values, objects shaped like a message) and random
//! path segments and queries sent to the message, start and outputs endpoints never get a 5xx,
//! and every answer that is not a success is a JSON error with a `code`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use super::*;

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |number| number.is_finite())
            .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// An object with some of the fields of a request (and perhaps one it does not have), each of
/// a random type.
fn request_like() -> impl Strategy<Value = Value> {
    let field = prop_oneof![Just("text"), Just("id"), Just("variables"), Just("colour")];
    let value = prop_oneof![".{0,300}".prop_map(Value::from), json_value()];
    prop::collection::btree_map(field, value, 0..4).prop_map(|fields| {
        Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        )
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        json_value().prop_map(|value| value.to_string().into_bytes()),
        request_like().prop_map(|value| value.to_string().into_bytes()),
    ]
}

/// A path segment or query value: random bytes (perhaps not UTF-8, perhaps over 200 bytes),
/// percent-encoded so that the URI is valid, or a plain word.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..240).prop_map(|bytes| encode(&bytes)),
        "[a-z0-9-]{1,12}",
    ]
}

/// The bot, most often the one that runs.
fn bot() -> impl Strategy<Value = String> {
    prop_oneof![3 => Just("hello".to_owned()), 1 => segment()]
}

/// A conversation id, often the one the test started, so that requests reach the store.
fn conversation() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just("c-1".to_owned()), 2 => segment()]
}

fn encode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// An `after`: any number a `u64` holds (often one past what SQLite's signed integers hold), or
/// anything else.
fn after() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|seq| seq.to_string()),
        (i64::MAX as u64..=u64::MAX).prop_map(|seq| seq.to_string()),
        segment(),
    ]
}

/// A `wait` that never holds a request for long: the property is about answers, not waiting.
fn wait() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["0", "0.01", "-1", "NaN", "inf", "1e999", "x", "", "0x10"][..])
}

fn random_request() -> impl Strategy<Value = (Method, String, Vec<u8>)> {
    prop_oneof![
        (bot(), conversation(), body()).prop_map(|(bot, id, body)| {
            let uri = format!("/v1/bots/{bot}/conversations/{id}/messages");
            (Method::POST, uri, body)
        }),
        (bot(), body()).prop_map(|(bot, body)| {
            (Method::POST, format!("/v1/bots/{bot}/conversations"), body)
        }),
        (bot(), conversation(), after(), wait()).prop_map(|(bot, id, after, wait)| {
            let uri =
                format!("/v1/bots/{bot}/conversations/{id}/outputs?after={after}&wait={wait}");
            (Method::GET, uri, Vec::new())
        }),
    ]
}

#[test]
fn random_requests_never_get_a_5xx_and_every_refusal_is_a_json_error_with_a_code() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = server();
    runtime.block_on(server.say("c-1", "hi"));
    let config = Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&random_request(), |(method, uri, body)| {
        let reply = runtime.block_on(server.send(request(method.clone(), &uri, body.into())));
        let text = String::from_utf8_lossy(&reply.body);
        prop_assert!(
            !reply.status.is_server_error(),
            "{method} {uri}: {} {text}",
            reply.status
        );
        if !reply.status.is_success() {
            let body: Value = serde_json::from_slice(&reply.body).map_err(|error| {
                TestCaseError::fail(format!("{uri}: not JSON ({error}): {text}"))
            })?;
            prop_assert!(body["error"]["code"].is_string(), "{method} {uri}: {text}");
            prop_assert!(
                body["error"]["message"].is_string(),
                "{method} {uri}: {text}"
            );
        }
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}
