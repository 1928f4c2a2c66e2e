//! Tests of `client` against real servers on 127.0.0.1: an axum app, and raw TCP for broken ones.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use flow_core::flow::AcceptStatus;

use crate::request::RequestBody;

const SHORT: Duration = Duration::from_millis(200);
const MIB: usize = 1024 * 1024;

/// The stub API every test talks to; its routes are named for what they answer.
fn app() -> Router {
    Router::new()
        .route(
            "/json",
            get(|| async { axum::Json(json!({"products": [{"title": "iPhone 9"}]})) }),
        )
        .route(
            "/created",
            any(|| async { (StatusCode::CREATED, axum::Json(json!({"id": 7}))) }),
        )
        .route("/no-content", any(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/missing",
            get(|| async { (StatusCode::NOT_FOUND, "no such product") }),
        )
        .route(
            "/boom",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(json!({"error": "database down"})),
                )
            }),
        )
        .route(
            "/html",
            get(|| async { axum::response::Html("<html><body>Maintenance</body></html>") }),
        )
        .route(
            "/invalid-json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], r#"{"a": "#) }),
        )
        .route("/big", get(|| async { json_string_body(2 * MIB) }))
        .route("/just-under", get(|| async { json_string_body(MIB - 2) }))
        .route(
            "/gzip",
            get(|| async { gzip_response(br#"{"zipped":true}"#) }),
        )
        .route(
            "/gzip-bomb",
            get(|| async { gzip_response(&json_string_body(4 * MIB)) }),
        )
        .route(
            "/corrupt-gzip",
            get(|| async { ([(header::CONTENT_ENCODING, "gzip")], "not gzip at all") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route("/hop", get(|| async { Redirect::temporary("/json") }))
        .route("/echo", any(echo))
}

/// Answers with what the server received, so tests can check what was sent.
async fn echo(
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let headers: Vec<Value> = headers
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "host" | "accept-encoding"))
        .map(|(name, value)| json!([name.as_str(), value.to_str().unwrap()]))
        .collect();
    axum::Json(json!({
        "method": method.as_str(),
        "uri": uri.to_string(),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    }))
}

/// A JSON string of `len` bytes in all, quotes included.
fn json_string_body(len: usize) -> Vec<u8> {
    let mut body = vec![b'a'; len];
    body[0] = b'"';
    body[len - 1] = b'"';
    body
}

fn gzip(plain: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(plain).unwrap();
    encoder.finish().unwrap()
}

fn gzip_response(plain: &[u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_ENCODING, "gzip"),
            (header::CONTENT_TYPE, "application/json"),
        ],
        gzip(plain),
    )
}

/// Serves `app()` on a free port of 127.0.0.1 and returns its base URL.
async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app()).await.unwrap() });
    format!("http://{addr}")
}

/// A raw TCP server that reads the request head, writes `reply`, then either closes the
/// connection or keeps it open for `hold` doing nothing.
async fn serve_raw(reply: &'static [u8], hold: Option<Duration>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = vec![0; 4096];
                let _ = socket.read(&mut head).await;
                let _ = socket.write_all(reply).await;
                if let Some(hold) = hold {
                    tokio::time::sleep(hold).await;
                }
            });
        }
    });
    format!("http://{addr}")
}

fn client() -> Client {
    Client::new(ClientConfig::default()).unwrap()
}

fn get_request(url: String) -> WebhookRequest {
    WebhookRequest::new("fetch", Method::Get, url)
}

/// Sends `request` with the default client and shows the outcome as the failure variable
/// would hold it, or the success body.
async fn outcome(request: &WebhookRequest) -> Value {
    outcome_with(&client(), request).await
}

async fn outcome_with(client: &Client, request: &WebhookRequest) -> Value {
    match client.send(request).await {
        Ok(response) => json!({"status": response.status, "body": response.body}),
        Err(error) => {
            json!({"error": error.to_string(), "status": error.status, "body": error.body})
        }
    }
}

#[tokio::test]
async fn ok_json_is_a_success_with_the_payload() {
    let base = serve().await;
    let response = client()
        .send(&get_request(format!("{base}/json")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, json!({"products": [{"title": "iPhone 9"}]}));
    assert!(response
        .headers
        .contains(&("content-type".to_owned(), "application/json".to_owned())));
}

#[tokio::test]
async fn created_fails_by_default_and_succeeds_with_2xx() {
    let base = serve().await;
    let request = get_request(format!("{base}/created"));
    assert_eq!(
        outcome(&request).await,
        json!({"error": "BadResponse: Invalid response status: 201", "status": 201, "body": {"id": 7}})
    );
    let widened = request.with_accept("2xx".parse().unwrap());
    assert_eq!(
        outcome(&widened).await,
        json!({"status": 201, "body": {"id": 7}})
    );
    let listed = widened.with_accept(AcceptStatus::parse("[200, 201]").unwrap());
    assert_eq!(
        outcome(&listed).await,
        json!({"status": 201, "body": {"id": 7}})
    );
}

#[tokio::test]
async fn no_content_is_a_success_with_null_when_accepted() {
    let base = serve().await;
    let request = get_request(format!("{base}/no-content"));
    assert_eq!(
        outcome(&request).await,
        json!({"error": "BadResponse: Invalid response status: 204", "status": 204, "body": null})
    );
    let accepted = request.with_accept("2xx".parse().unwrap());
    assert_eq!(
        outcome(&accepted).await,
        json!({"status": 204, "body": null})
    );
}

#[tokio::test]
async fn not_found_is_a_bad_response_with_status_and_text_body() {
    let base = serve().await;
    let error = client()
        .send(&get_request(format!("{base}/missing")))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "BadResponse: Invalid response status: 404"
    );
    assert_eq!(error.kind, ErrorKind::BadResponse);
    assert_eq!(error.status, Some(404));
    assert_eq!(error.body, Some(json!("no such product")));
}

#[tokio::test]
async fn server_error_keeps_its_json_body() {
    let base = serve().await;
    assert_eq!(
        outcome(&get_request(format!("{base}/boom"))).await,
        json!({
            "error": "BadResponse: Invalid response status: 500",
            "status": 500,
            "body": {"error": "database down"},
        })
    );
}

#[tokio::test]
async fn html_body_is_a_bad_response_naming_the_content_type() {
    let base = serve().await;
    assert_eq!(
        outcome(&get_request(format!("{base}/html"))).await,
        json!({
            "error": "BadResponse: response is text/html, not JSON",
            "status": 200,
            "body": "<html><body>Maintenance</body></html>",
        })
    );
}

#[tokio::test]
async fn invalid_json_is_a_bad_response_with_the_syntax_error() {
    let base = serve().await;
    assert_eq!(
        outcome(&get_request(format!("{base}/invalid-json"))).await,
        json!({
            "error": "BadResponse: response says it is application/json but is not valid JSON \
                      (EOF while parsing a value at line 1 column 6)",
            "status": 200,
            "body": "{\"a\":",
        })
    );
}

#[tokio::test]
async fn body_over_the_cap_fails_instead_of_being_cut() {
    let base = serve().await;
    assert_eq!(
        outcome(&get_request(format!("{base}/big"))).await,
        json!({
            "error": "BadResponse: response body is larger than the limit of 1 MiB",
            "status": 200,
            "body": null,
        })
    );
    let response = client()
        .send(&get_request(format!("{base}/just-under")))
        .await
        .unwrap();
    assert_eq!(response.body.as_str().map(str::len), Some(MIB - 4));
}

#[tokio::test]
async fn gzip_body_is_decoded() {
    let base = serve().await;
    let response = client()
        .send(&get_request(format!("{base}/gzip")))
        .await
        .unwrap();
    assert_eq!(response.body, json!({"zipped": true}));
}

#[tokio::test]
async fn gzip_body_is_capped_after_decoding() {
    let base = serve().await;
    let on_the_wire = gzip(&json_string_body(4 * MIB)).len();
    assert!(
        on_the_wire < 64 * 1024,
        "the bomb is small on the wire: {on_the_wire}"
    );
    let error = client()
        .send(&get_request(format!("{base}/gzip-bomb")))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "BadResponse: response body is larger than the limit of 1 MiB"
    );
}

#[tokio::test]
async fn corrupt_gzip_is_a_bad_response() {
    let base = serve().await;
    let error = client()
        .send(&get_request(format!("{base}/corrupt-gzip")))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::BadResponse);
    assert!(
        error
            .message
            .starts_with("could not decompress the response body: "),
        "{error}"
    );
    assert_eq!(error.status, Some(200));
}

#[tokio::test]
async fn stalled_server_times_out() {
    let base = serve().await;
    let request = get_request(format!("{base}/slow")).with_timeout(SHORT);
    let error = client().send(&request).await.unwrap_err();
    assert_eq!(
        error,
        WebhookError::new(ErrorKind::Timeout, "request timed out after 200ms")
    );
}

#[tokio::test]
async fn the_time_out_covers_reading_the_body() {
    let base = serve_raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":",
        Some(Duration::from_secs(30)),
    )
    .await;
    let request = get_request(base).with_timeout(SHORT);
    let error = client().send(&request).await.unwrap_err();
    assert_eq!(error.to_string(), "Timeout: request timed out after 200ms");
}

#[tokio::test]
async fn a_step_cannot_raise_the_time_out_above_the_cap() {
    let base = serve().await;
    let config = ClientConfig {
        max_timeout: SHORT,
        ..ClientConfig::default()
    };
    let client = Client::new(config).unwrap();
    let request = get_request(format!("{base}/slow")).with_timeout(Duration::from_secs(60));
    assert_eq!(client.timeout_for(&request), SHORT);
    let error = client.send(&request).await.unwrap_err();
    assert_eq!(error.to_string(), "Timeout: request timed out after 200ms");
}

#[test]
fn the_default_time_out_is_15s() {
    let request = get_request("http://127.0.0.1/".to_owned());
    assert_eq!(client().timeout_for(&request), Duration::from_secs(15));
    let lowered = request.with_timeout(Duration::from_secs(2));
    assert_eq!(client().timeout_for(&lowered), Duration::from_secs(2));
}

#[tokio::test]
async fn refused_connection_is_a_connection_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let error = client()
        .send(&get_request(format!(
            "http://127.0.0.1:{port}/orders?token=abc"
        )))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        WebhookError::new(
            ErrorKind::ConnectionError,
            format!("could not connect to 127.0.0.1:{port}: connection refused")
        )
    );
}

#[tokio::test]
async fn connection_closed_without_an_answer_is_a_connection_error() {
    let base = serve_raw(b"", None).await;
    let error = client().send(&get_request(base)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConnectionError, "{error}");
    assert_eq!(error.status, None);
}

#[tokio::test]
async fn an_https_target_that_does_not_speak_tls_is_a_connection_error() {
    // The client must really start TLS (its cryptography comes from ring, installed by
    // `Client::new`): the server sees a TLS handshake record, answers in plain HTTP, and the
    // handshake fails as a connection error rather than a panic or a response.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let first_bytes = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut hello = vec![0; 5];
        socket.read_exact(&mut hello).await.unwrap();
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            .await;
        hello
    });
    let error = client()
        .send(&get_request(format!("https://{addr}/")))
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConnectionError, "{error}");
    let hello = first_bytes.await.unwrap();
    assert_eq!(hello[0], 0x16, "a TLS handshake record, not {hello:?}");
}

#[tokio::test]
async fn connection_closed_mid_body_is_a_connection_error() {
    let base = serve_raw(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":",
        None,
    )
    .await;
    let error = client().send(&get_request(base)).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConnectionError, "{error}");
    assert!(
        error
            .message
            .starts_with("the connection broke while reading the response body"),
        "{error}"
    );
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let base = serve().await;
    let response = client()
        .send(&get_request(format!("{base}/hop")))
        .await
        .unwrap();
    assert_eq!(response.body, json!({"products": [{"title": "iPhone 9"}]}));
    assert_eq!(
        outcome(&get_request(format!("{base}/loop"))).await,
        json!({
            "error": "BadResponse: too many redirects (more than 5); the server may be \
                      redirecting in a loop",
            "status": null,
            "body": null,
        })
    );
}

#[tokio::test]
async fn with_redirects_off_the_3xx_is_the_response() {
    let base = serve().await;
    let config = ClientConfig {
        max_redirects: 0,
        ..ClientConfig::default()
    };
    let client = Client::new(config).unwrap();
    assert_eq!(
        outcome_with(&client, &get_request(format!("{base}/hop"))).await,
        json!({"error": "BadResponse: Invalid response status: 307", "status": 307, "body": null})
    );
}

#[tokio::test]
async fn the_server_receives_the_default_user_agent() {
    let base = serve().await;
    let response = client()
        .send(&get_request(format!("{base}/echo")))
        .await
        .unwrap();
    assert_eq!(
        DEFAULT_USER_AGENT,
        concat!("flowbot/", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        response.body,
        json!({
            "method": "GET",
            "uri": "/echo",
            "headers": [["accept", "*/*"], ["user-agent", DEFAULT_USER_AGENT]],
            "body": "",
        })
    );
}

#[tokio::test]
async fn the_server_receives_headers_body_and_query_as_given() {
    let base = serve().await;
    let request = WebhookRequest::new(
        "order",
        Method::Post,
        format!("{base}/echo?user=J%C3%A9r%C3%B4me&x=1"),
    )
    .with_header("User-Agent", "shop-bot/2")
    .with_header("X-Tag", "a")
    .with_header("x-tag", "b")
    .with_body(RequestBody::json(&json!({"qty": 2, "name": "Jérôme"})));
    let response = client().send(&request).await.unwrap();
    assert_eq!(
        response.body,
        json!({
            "method": "POST",
            "uri": "/echo?user=J%C3%A9r%C3%B4me&x=1",
            "headers": [
                ["user-agent", "shop-bot/2"],
                ["x-tag", "a"],
                ["x-tag", "b"],
                ["content-type", "application/json"],
                ["accept", "*/*"],
                ["content-length", "27"],
            ],
            "body": r#"{"qty":2,"name":"Jérôme"}"#,
        })
    );
}

#[tokio::test]
async fn an_explicit_content_type_wins_over_the_body_s() {
    let base = serve().await;
    let request = WebhookRequest::new("order", Method::Put, format!("{base}/echo"))
        .with_header("Content-Type", "application/vnd.shop+json")
        .with_body(RequestBody::text("text/plain", "hello"));
    let response = client().send(&request).await.unwrap();
    assert_eq!(
        response.body["headers"][0],
        json!(["content-type", "application/vnd.shop+json"])
    );
    assert_eq!(response.body["body"], json!("hello"));
}

#[tokio::test]
async fn every_method_reaches_the_server() {
    let base = serve().await;
    for method in [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
    ] {
        let request = WebhookRequest::new("m", method, format!("{base}/echo"));
        let response = client().send(&request).await.unwrap();
        assert_eq!(response.body["method"], json!(method.as_str()));
    }
}

#[tokio::test]
async fn head_is_a_success_with_null() {
    let base = serve().await;
    let request = WebhookRequest::new("ping", Method::Head, format!("{base}/echo"));
    let response = client().send(&request).await.unwrap();
    assert_eq!((response.status, response.body), (200, Value::Null));
}

#[tokio::test]
async fn fetch_returns_the_raw_response_whatever_its_status() {
    let base = serve().await;
    let raw = client()
        .fetch(&get_request(format!("{base}/missing")))
        .await
        .unwrap();
    assert_eq!(
        (raw.status, raw.body.as_slice()),
        (404, b"no such product".as_slice())
    );
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending() {
    let cases = [
        (
            get_request(String::new()),
            "MissingParameter: the URL is missing",
        ),
        (
            get_request("shop.example/products".to_owned()),
            "BadRequest: invalid URL `shop.example/products`: relative URL without a base",
        ),
        (
            get_request("ftp://shop.example/".to_owned()),
            "BadRequest: unsupported URL scheme `ftp` (expected http or https)",
        ),
        (
            get_request("http://127.0.0.1:9/".to_owned()).with_header("Bad Name", "x"),
            "BadRequest: invalid header name `Bad Name`",
        ),
        (
            get_request("http://127.0.0.1:9/".to_owned()).with_header("X-Token", "a\r\nHost: evil"),
            "BadRequest: invalid value for header `X-Token` (a header value cannot contain line \
             breaks or other control characters)",
        ),
        (
            get_request("http://127.0.0.1:9/".to_owned()).with_timeout(Duration::ZERO),
            "BadRequest: the time-out must be longer than zero",
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(
            client().send(&request).await.unwrap_err().to_string(),
            expected
        );
    }
}

fn secrets() -> Arc<Secrets> {
    let mut secrets = Secrets::new();
    secrets.insert("SHOP_TOKEN", "tok-s3cr3t");
    Arc::new(secrets)
}

#[tokio::test]
async fn errors_never_carry_a_secret() {
    let base = serve().await;
    let client = client().with_secrets(secrets());
    let bad_url = get_request("nota url tok-s3cr3t".to_owned());
    let error = client.send(&bad_url).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "BadRequest: invalid URL `nota url ***`: relative URL without a base"
    );
    // The echo route returns the secret in its body; the error body must not.
    let echoed = WebhookRequest::new("leak", Method::Post, format!("{base}/echo"))
        .with_header("Authorization", "Bearer tok-s3cr3t")
        .with_accept("201".parse().unwrap());
    let error = client.send(&echoed).await.unwrap_err();
    assert_eq!(error.status, Some(200));
    let stored = serde_json::to_string(&error).unwrap();
    assert!(!stored.contains("s3cr3t"), "{stored}");
    assert!(
        stored.contains(r#"["authorization","Bearer ***"]"#),
        "{stored}"
    );
}

/// A `MakeWriter` that keeps every log line in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The logs of the whole test binary, captured by a global subscriber at TRACE.
///
/// A global subscriber rather than `set_default`: tracing caches which call sites are enabled
/// across threads, so a thread-local subscriber can miss spans that another test hit first.
fn captured_logs() -> &'static Captured {
    static CAPTURED: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(captured.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        captured
    })
}

#[tokio::test]
async fn traces_carry_block_method_and_status_but_no_secret() {
    let captured = captured_logs();
    let base = serve().await;
    let mut secrets = Secrets::new();
    secrets.insert("TRACE_KEY", "trace-s3cr3t");
    let request = WebhookRequest::new(
        "trace_probe",
        Method::Get,
        format!("{base}/missing?key=trace-s3cr3t"),
    )
    .with_header("X-Api-Key", "trace-s3cr3t");
    let _ = client()
        .with_secrets(Arc::new(secrets))
        .send(&request)
        .await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let ours: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("trace_probe"))
        .collect();
    assert!(
        ours.iter().any(|line| line
            .contains("send{block_id=trace_probe http.method=GET status=404}")
            && line.contains("webhook failed")),
        "{logs}"
    );
    assert!(ours.iter().any(|line| line.contains("key=***")), "{logs}");
    assert!(!logs.contains("trace-s3cr3t"), "{logs}");
}

#[test]
fn client_and_its_values_are_send_and_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<Client>();
    is_send_sync::<WebhookRequest>();
    is_send_sync::<Response>();
    is_send_sync::<WebhookError>();
}

#[test]
fn sizes_read_in_the_largest_whole_unit() {
    assert_eq!(format_bytes(MIB), "1 MiB");
    assert_eq!(format_bytes(64 * 1024), "64 KiB");
    assert_eq!(format_bytes(1000), "1000 bytes");
}
