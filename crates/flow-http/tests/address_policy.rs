//! The address policy over real connections: stub servers on loopback count the connections
//! they accept, so a blocked webhook is shown to have made none.
//!
//! Every server listens on 127.0.0.0/8 or ::1. Requests to other addresses (10.0.0.1, the
//! metadata service) appear only where the policy refuses them before connecting, and no test
//! allow-lists an address that is not loopback.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::response::Redirect;
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use flow_http::{
    AddressPolicy, AllowEntry, Client, ClientConfig, ErrorKind, Method, Secrets, WebhookError,
    WebhookRequest,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// A stub server: its base URL, and how many connections it has accepted.
struct Stub {
    base: String,
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Stub {
    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Serves `app` on a free port of `ip` (a loopback address), or `None` when this machine
/// cannot listen there (no IPv6 loopback).
async fn serve_on(ip: &str, app: Router) -> Option<Stub> {
    let listener = match TcpListener::bind((ip, 0)).await {
        Ok(listener) => listener,
        Err(error) => {
            println!("cannot listen on {ip} ({error}): skipping the case that needs it");
            return None;
        }
    };
    let addr: SocketAddr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let listener = listener.tap_io(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Some(Stub {
        base: format!("http://{addr}"),
        port: addr.port(),
        connections,
    })
}

/// Answers `{"ok": true}` at `/`, and redirects `/redirect` to `location`.
fn app(location: &str) -> Router {
    let location = location.to_owned();
    Router::new()
        .route("/", get(|| async { Json(json!({"ok": true})) }))
        .route(
            "/redirect",
            get(move || async move { Redirect::temporary(&location) }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
}

async fn serve_ok(ip: &str) -> Option<Stub> {
    serve_on(ip, app("/")).await
}

fn public_only(allow: &[&str]) -> AddressPolicy {
    AddressPolicy::public_only(allow.iter().map(|text| text.parse::<AllowEntry>().unwrap()))
}

fn client(policy: AddressPolicy) -> Client {
    Client::new(ClientConfig {
        address_policy: policy,
        max_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    })
    .unwrap()
}

/// Sends a GET to `url` with `client`: the body on success, else the error.
async fn get_with(client: &Client, url: &str) -> Result<Value, WebhookError> {
    let request = WebhookRequest::new("fetch", Method::Get, url);
    client.send(&request).await.map(|response| response.body)
}

async fn send(policy: AddressPolicy, url: &str) -> Result<Value, WebhookError> {
    get_with(&client(policy), url).await
}

/// The message of a failure that must be a blocked `ConnectionError`.
fn blocked_message(outcome: Result<Value, WebhookError>) -> String {
    let error = outcome.expect_err("the webhook must be blocked");
    assert_eq!(error.kind, ErrorKind::ConnectionError, "{error}");
    assert_eq!(error.status, None);
    assert!(
        error.message.contains("was blocked"),
        "not a refusal: {error}"
    );
    error.message
}

fn literal_message(host: &str, why: &str) -> String {
    format!(
        "webhook target {host} is {why} and was blocked; the server's operator can allow it \
         with --allow-webhook {host}"
    )
}

#[tokio::test]
async fn public_only_blocks_ipv4_loopback_literals_without_connecting() {
    let stub = serve_ok("127.0.0.1").await.unwrap();
    let outcome = send(public_only(&[]), &format!("{}/", stub.base)).await;
    assert_eq!(
        blocked_message(outcome),
        literal_message("127.0.0.1", "a loopback address")
    );
    let mapped = format!("http://[::ffff:127.0.0.1]:{}/", stub.port);
    assert_eq!(
        blocked_message(send(public_only(&[]), &mapped).await),
        literal_message(
            "::ffff:127.0.0.1",
            "a loopback address (it embeds 127.0.0.1)"
        )
    );
    // The URL parser reads other spellings of an IPv4 address as the address itself.
    for spelling in ["2130706433", "0x7f.1", "0177.0.0.1"] {
        let url = format!("http://{spelling}:{}/", stub.port);
        assert_eq!(
            blocked_message(send(public_only(&[]), &url).await),
            literal_message("127.0.0.1", "a loopback address"),
            "{url}"
        );
    }
    assert_eq!(stub.connections(), 0);
}

#[tokio::test]
async fn public_only_blocks_ipv6_loopback_without_connecting() {
    let Some(stub) = serve_ok("::1").await else {
        return;
    };
    let outcome = send(public_only(&[]), &format!("{}/", stub.base)).await;
    assert_eq!(
        blocked_message(outcome),
        literal_message("::1", "a loopback address")
    );
    assert_eq!(stub.connections(), 0);
}

#[tokio::test]
async fn public_only_blocks_a_name_that_resolves_to_loopback() {
    let stub = serve_ok("127.0.0.1").await.unwrap();
    let url = format!("http://localhost:{}/", stub.port);
    let message = blocked_message(send(public_only(&[]), &url).await);
    // This machine's localhost may resolve to ::1 as well as to 127.0.0.1.
    assert!(
        message.starts_with("webhook target localhost resolves ")
            && message.contains("127.0.0.1")
            && message.contains("a loopback address")
            && message.ends_with(
                "and was blocked; the server's operator can allow it with --allow-webhook \
                 localhost"
            ),
        "{message}"
    );
    assert_eq!(stub.connections(), 0);
}

#[tokio::test]
async fn public_only_blocks_private_and_metadata_addresses_before_connecting() {
    // Refused before any connection is tried: nothing listens there, and nothing is sent.
    for (url, host, why) in [
        ("http://10.0.0.1/", "10.0.0.1", "a private address"),
        (
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254",
            "a cloud metadata address",
        ),
        (
            "http://[fd00:ec2::254]/",
            "fd00:ec2::254",
            "a cloud metadata address",
        ),
        (
            "https://[::ffff:10.0.0.1]/",
            "::ffff:10.0.0.1",
            "a private address (it embeds 10.0.0.1)",
        ),
    ] {
        assert_eq!(
            blocked_message(send(public_only(&[]), url).await),
            literal_message(host, why),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_redirect_to_a_refused_loopback_address_is_blocked_before_connecting() {
    let Some(other) = serve_ok("127.0.0.2").await else {
        return;
    };
    let other_url = format!("http://127.0.0.2:{}/", other.port);
    let redirecting = serve_on("127.0.0.1", app(&other_url)).await.unwrap();
    let outcome = send(
        public_only(&["127.0.0.1/32"]),
        &format!("{}/redirect", redirecting.base),
    )
    .await;
    assert_eq!(
        blocked_message(outcome),
        format!(
            "webhook target 127.0.0.2 is a loopback address and was blocked (reached by a \
             redirect from 127.0.0.1:{}); the server's operator can allow it with \
             --allow-webhook 127.0.0.2",
            redirecting.port
        )
    );
    assert_eq!(redirecting.connections(), 1);
    assert_eq!(other.connections(), 0);
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_blocked_before_connecting() {
    let redirecting = serve_on("127.0.0.1", app("http://10.0.0.1/"))
        .await
        .unwrap();
    let outcome = send(
        public_only(&["127.0.0.1/32"]),
        &format!("{}/redirect", redirecting.base),
    )
    .await;
    assert_eq!(
        blocked_message(outcome),
        format!(
            "webhook target 10.0.0.1 is a private address and was blocked (reached by a \
             redirect from 127.0.0.1:{}); the server's operator can allow it with \
             --allow-webhook 10.0.0.1",
            redirecting.port
        )
    );
    assert_eq!(redirecting.connections(), 1);
}

#[tokio::test]
async fn a_redirect_to_a_name_is_checked_when_it_resolves() {
    let target = serve_ok("127.0.0.1").await.unwrap();
    let location = format!("http://localhost:{}/", target.port);
    let Some(redirecting) = serve_on("::1", app(&location)).await else {
        return;
    };
    let outcome = send(
        public_only(&["::1"]),
        &format!("{}/redirect", redirecting.base),
    )
    .await;
    let message = blocked_message(outcome);
    assert!(
        message.starts_with("webhook target localhost resolves ")
            && message.contains(&format!(
                "and was blocked (reached by a redirect from [::1]:{})",
                redirecting.port
            )),
        "{message}"
    );
    assert_eq!(redirecting.connections(), 1);
    assert_eq!(target.connections(), 0);
}

#[tokio::test]
async fn allowed_loopback_targets_go_through() {
    let stub = serve_ok("127.0.0.1").await.unwrap();
    let by_ip = format!("{}/", stub.base);
    let by_name = format!("http://localhost:{}/", stub.port);
    for (allow, url) in [
        ("127.0.0.1", &by_ip),
        ("127.0.0.1", &by_name),
        ("127.0.0.0/8", &by_ip),
        ("127.0.0.0/8", &by_name),
        ("localhost", &by_name),
    ] {
        assert_eq!(
            send(public_only(&[allow]), url).await,
            Ok(json!({"ok": true})),
            "{allow} {url}"
        );
    }
    assert_eq!(stub.connections(), 5);

    if let Some(v6) = serve_ok("::1").await {
        let url = format!("{}/", v6.base);
        assert_eq!(
            send(public_only(&["::1"]), &url).await,
            Ok(json!({"ok": true}))
        );
        assert_eq!(v6.connections(), 1);
    }
}

#[tokio::test]
async fn allowed_redirect_hops_are_followed_within_the_limit() {
    let Some(other) = serve_ok("127.0.0.2").await else {
        return;
    };
    let redirecting = serve_on("127.0.0.1", app(&format!("{}/", other.base)))
        .await
        .unwrap();
    let policy = public_only(&["127.0.0.0/8"]);
    assert_eq!(
        send(policy.clone(), &format!("{}/redirect", redirecting.base)).await,
        Ok(json!({"ok": true}))
    );
    assert_eq!(other.connections(), 1);

    let error = send(policy, &format!("{}/loop", redirecting.base))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "BadResponse: too many redirects (more than 5); the server may be redirecting in a loop"
    );
}

#[tokio::test]
async fn the_open_policy_reaches_loopback() {
    assert_eq!(ClientConfig::default().address_policy, AddressPolicy::Open);
    let stub = serve_ok("127.0.0.1").await.unwrap();
    for url in [
        format!("{}/", stub.base),
        format!("http://localhost:{}/", stub.port),
    ] {
        assert_eq!(
            send(AddressPolicy::Open, &url).await,
            Ok(json!({"ok": true}))
        );
    }
}

#[tokio::test]
async fn a_blocked_target_keeps_secrets_masked() {
    let stub = serve_ok("127.0.0.1").await.unwrap();
    let mut secrets = Secrets::new();
    secrets.insert("HOST", "localhost");
    let client = client(public_only(&[])).with_secrets(Arc::new(secrets));
    let url = format!("http://localhost:{}/", stub.port);
    let message = blocked_message(get_with(&client, &url).await);
    assert!(
        message.starts_with("webhook target *** resolves ")
            && message.ends_with("--allow-webhook ***")
            && !message.contains("localhost"),
        "{message}"
    );
    assert_eq!(stub.connections(), 0);
}
