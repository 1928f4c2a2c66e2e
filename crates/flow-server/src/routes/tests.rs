//! The API of the contract (`docs/api.md`) driven through the router, without a socket, over a
//! real SQLite store and bots loaded from a scratch folder: every error path with its status
//! and body, authentication, replays, notices, following outputs, and the documents it serves.

mod public;
mod random_requests;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use flow_http::{Client, ClientConfig, Secrets};
use flow_runtime::HttpRunner;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tempfile::TempDir;
use tower::ServiceExt;

use crate::store::sqlite::SqliteStore;
use crate::{bots, AppState, Engine, PublicAccess, RequestLimits};

/// A bot that greets, asks two questions and ends; `age` is declared a number so that a preset
/// can fail to fit it.
const HELLO: &str = r#"bot: hello
variables:
  name: text
  age: number
  note: text
blocks:
  welcome:
    message: Welcome!
    next: ask_name
  ask_name:
    question: "What's your name?"
    save_to: name
    next: ask_note
  ask_note:
    question: "Anything else, {{name}}?"
    save_to: note
    next: bye
  bye:
    end: "Bye {{name}}!"
"#;

/// The router over a store and a flows folder of its own, with the state it was built from.
struct TestServer {
    app: Router,
    _dir: TempDir,
    /// Kept, never sent: with its sender gone, the server would think it is shutting down.
    _stop: tokio::sync::watch::Sender<bool>,
}

/// What a request got back.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "the body is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    /// The error's message, after checking the status, the code and the body's shape.
    fn error(&self, status: StatusCode, code: &str) -> String {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        body["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {body}"))
            .to_owned()
    }
}

/// A server running [`HELLO`] without tokens or secrets.
fn server() -> TestServer {
    server_with(Vec::new(), Secrets::new())
}

/// A server running [`HELLO`], as `serve` builds one, accepting `tokens` and masking `secrets`.
fn server_with(tokens: Vec<String>, secrets: Secrets) -> TestServer {
    server_built(tokens, secrets, RequestLimits::default())
}

/// A server running [`HELLO`] with `limits`.
fn server_built(tokens: Vec<String>, secrets: Secrets, limits: RequestLimits) -> TestServer {
    server_open(tokens, secrets, limits, PublicAccess::default())
}

/// A server running [`HELLO`] with `public` bots open to the web chat.
fn server_open(
    tokens: Vec<String>,
    secrets: Secrets,
    limits: RequestLimits,
    public: PublicAccess,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let flows = dir.path().join("flows");
    std::fs::create_dir(&flows).unwrap();
    std::fs::write(flows.join("hello.yaml"), HELLO).unwrap();
    let bots = bots::load(&flows).unwrap();
    let store = SqliteStore::open(&dir.path().join("flowbot.db")).unwrap();
    let runner = HttpRunner::new(Client::new(ClientConfig::default()).unwrap());
    let engine = Arc::new(Engine::new(
        bots,
        runner,
        Arc::new(secrets),
        store,
        limits,
        false,
    ));
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let state = Arc::new(AppState::new(engine, tokens, flows, stop).with_public(public));
    TestServer {
        app: crate::app(state),
        _dir: dir,
        _stop: stop_sender,
    }
}

impl TestServer {
    /// Sends one request; the only place the tests call the router.
    async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Reply {
        self.send(request(Method::GET, uri, Body::empty())).await
    }

    async fn delete(&self, uri: &str) -> Reply {
        self.send(request(Method::DELETE, uri, Body::empty())).await
    }

    async fn post(&self, uri: &str, body: impl Into<Body>) -> Reply {
        self.send(request(Method::POST, uri, body.into())).await
    }

    /// A message to conversation `id` of `hello`, with `body` as the whole JSON body.
    async fn message(&self, id: &str, body: Value) -> Reply {
        let uri = format!("/v1/bots/hello/conversations/{id}/messages");
        self.post(&uri, body.to_string()).await
    }

    /// A message that must be answered, and its answer.
    async fn say(&self, id: &str, text: &str) -> Value {
        let reply = self.message(id, json!({"text": text})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
        reply.json()
    }
}

fn request(method: Method, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap()
}

fn texts(answer: &Value) -> Vec<&str> {
    answer["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|output| output["text"].as_str())
        .collect()
}

fn seqs(answer: &Value) -> Vec<u64> {
    answer["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|output| output["seq"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_first_message_starts_the_bot_and_the_next_answers_its_question() {
    let server = server();
    let first = server.say("c-1", "hi").await;
    assert_eq!(first["bot"], "hello");
    assert_eq!(first["conversation"], "c-1");
    assert_eq!(first["status"], "waiting");
    assert_eq!(texts(&first), ["Welcome!", "What's your name?"]);
    assert_eq!(seqs(&first), [1, 2]);
    let second = server.say("c-1", "Ada").await;
    assert_eq!(texts(&second), ["Anything else, Ada?"]);
    assert_eq!(seqs(&second), [3]);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_invalid_json() {
    let server = server();
    for body in ["{\"text\": ", "text=hi", "{\"text\": \"hi\"} trailing"] {
        let reply = server
            .post("/v1/bots/hello/conversations/c-1/messages", body)
            .await;
        reply.error(StatusCode::BAD_REQUEST, "invalid_json");
    }
}

#[tokio::test]
async fn a_missing_text_is_invalid_request_naming_it() {
    let server = server();
    let message = server
        .message("c-1", json!({"id": "m-1"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("`text`"), "{message}");
}

#[tokio::test]
async fn a_field_of_the_wrong_type_is_invalid_request_naming_it() {
    let server = server();
    for (body, field) in [
        (json!({"text": 5}), "text"),
        (json!({"text": "hi", "id": ["m-1"]}), "id"),
        (json!({"text": "hi", "variables": "name=Ada"}), "variables"),
        (json!({"text": "hi", "variables": [1]}), "variables"),
    ] {
        let message = server
            .message("c-1", body.clone())
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains(field), "{body}: {message}");
    }
}

#[tokio::test]
async fn an_unknown_field_is_invalid_request_naming_it() {
    let server = server();
    let message = server
        .message("c-1", json!({"text": "hi", "colour": "blue"}))
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("`colour`"), "{message}");
    let message = server
        .post("/v1/bots/hello/conversations", r#"{"idd": "c-1"}"#)
        .await
        .error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("`idd`"), "{message}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_too_large() {
    let server = server();
    let text = "a".repeat(10 * 1024 * 1024);
    let body = json!({ "text": text }).to_string();
    let reply = server
        .post("/v1/bots/hello/conversations/c-1/messages", body)
        .await;
    reply.error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
}

#[tokio::test]
async fn a_text_over_the_limit_is_too_large_and_runs_nothing() {
    let server = server();
    let limit = RequestLimits::default().max_text_chars;
    let message = server
        .message("c-1", json!({"text": "é".repeat(limit + 1)}))
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    assert!(message.contains("`text`"), "{message}");
    server
        .get("/v1/bots/hello/conversations/c-1")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_conversation");
    // Exactly at the limit (in characters, not bytes) is taken.
    server.say("c-1", &"é".repeat(limit)).await;
}

#[tokio::test]
async fn a_conversation_id_over_200_bytes_or_with_a_control_character_is_invalid_request() {
    let server = server();
    let long = "a".repeat(201);
    for id in [long.as_str(), "a%01b", "tab%09", "%7F"] {
        let message = server
            .message(id, json!({"text": "hi"}))
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains("conversation id"), "{id}: {message}");
    }
    server.say(&"a".repeat(200), "hi").await;
}

#[tokio::test]
async fn an_empty_conversation_id_is_invalid_request() {
    let server = server();
    let reply = server
        .post("/v1/bots/hello/conversations", r#"{"id": ""}"#)
        .await;
    let message = reply.error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("conversation id"), "{message}");
    let reply = server
        .post(
            "/v1/bots/hello/conversations//messages",
            r#"{"text": "hi"}"#,
        )
        .await;
    reply.error(StatusCode::BAD_REQUEST, "invalid_request");
}

#[tokio::test]
async fn a_message_id_over_200_bytes_or_empty_is_invalid_request() {
    let server = server();
    for message_id in ["m".repeat(201), String::new()] {
        let message = server
            .message("c-1", json!({"text": "hi", "id": message_id}))
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
        assert!(message.contains("`id`"), "{message}");
    }
    let reply = server
        .message("c-1", json!({"text": "hi", "id": "m".repeat(200)}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_bot_is_unknown_bot_with_the_closest_one() {
    let server = server();
    let message = server
        .post(
            "/v1/bots/helo/conversations/c-1/messages",
            r#"{"text": "hi"}"#,
        )
        .await
        .error(StatusCode::NOT_FOUND, "unknown_bot");
    assert_eq!(message, "there is no bot `helo` (did you mean `hello`?)");
    for reply in [
        server.post("/v1/bots/helo/conversations", "").await,
        server.get("/v1/bots/helo/conversations/c-1").await,
        server.get("/v1/bots/helo/conversations/c-1/outputs").await,
        server.delete("/v1/bots/helo/conversations/c-1").await,
    ] {
        reply.error(StatusCode::NOT_FOUND, "unknown_bot");
    }
}

#[tokio::test]
async fn an_unknown_conversation_is_unknown_conversation_on_get_delete_and_outputs() {
    let server = server();
    for reply in [
        server.get("/v1/bots/hello/conversations/nobody").await,
        server.delete("/v1/bots/hello/conversations/nobody").await,
        server
            .get("/v1/bots/hello/conversations/nobody/outputs")
            .await,
    ] {
        let message = reply.error(StatusCode::NOT_FOUND, "unknown_conversation");
        assert!(message.contains("`nobody`"), "{message}");
    }
}

#[tokio::test]
async fn delete_answers_204_then_the_conversation_is_unknown() {
    let server = server();
    server.say("c-1", "hi").await;
    let reply = server.delete("/v1/bots/hello/conversations/c-1").await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    server
        .delete("/v1/bots/hello/conversations/c-1")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_conversation");
}

#[tokio::test]
async fn an_explicit_start_of_a_running_conversation_is_conversation_exists() {
    let server = server();
    let reply = server
        .post("/v1/bots/hello/conversations", r#"{"id": "c-1"}"#)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json());
    assert_eq!(
        reply.header("location"),
        Some("/v1/bots/hello/conversations/c-1")
    );
    let message = server
        .post("/v1/bots/hello/conversations", r#"{"id": "c-1"}"#)
        .await
        .error(StatusCode::CONFLICT, "conversation_exists");
    assert!(message.contains("`c-1`"), "{message}");
}

#[tokio::test]
async fn an_explicit_start_without_an_id_makes_one_and_gives_its_location() {
    let server = server();
    let reply = server.post("/v1/bots/hello/conversations", "").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json());
    let answer = reply.json();
    let id = answer["conversation"].as_str().unwrap();
    assert!(!id.is_empty());
    assert_eq!(texts(&answer), ["Welcome!", "What's your name?"]);
    let location = reply.header("location").unwrap();
    assert_eq!(location, format!("/v1/bots/hello/conversations/{id}"));
    let shown = server.get(location).await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.json()["block"], "ask_name");

    for body in ["{}", "null", "{\"id\": null, \"variables\": null}"] {
        let other = server.post("/v1/bots/hello/conversations", body).await;
        assert_eq!(other.status, StatusCode::CREATED, "{body}");
        assert_ne!(other.json()["conversation"], answer["conversation"]);
    }
}

#[tokio::test]
async fn a_preset_that_does_not_fit_its_type_is_invalid_variables() {
    let server = server();
    let body = r#"{"id": "c-1", "variables": {"age": {"years": 36}}}"#;
    let message = server
        .post("/v1/bots/hello/conversations", body)
        .await
        .error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_variables");
    assert!(message.contains("age"), "{message}");
    let reply = server
        .message(
            "c-2",
            json!({"text": "hi", "variables": {"age": "thirty-six"}}),
        )
        .await;
    reply.error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_variables");
    server
        .get("/v1/bots/hello/conversations/c-2")
        .await
        .error(StatusCode::NOT_FOUND, "unknown_conversation");
}

#[tokio::test]
async fn presets_that_fit_are_the_conversations_variables() {
    let server = server();
    let body = json!({"text": "hi", "variables": {"age": "36", "customer": "C-42"}});
    assert_eq!(server.message("c-1", body).await.status, StatusCode::OK);
    let shown = server.get("/v1/bots/hello/conversations/c-1").await.json();
    assert_eq!(shown["variables"]["age"], 36.0);
    assert_eq!(shown["variables"]["customer"], "C-42");
}

#[tokio::test]
async fn without_a_token_or_with_a_wrong_one_v1_is_unauthorized() {
    let server = server_with(vec!["t0ken".to_owned()], Secrets::new());
    let with_token = |token: Option<&str>| {
        let mut request = Request::get("/v1/bots");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, token);
        }
        request.body(Body::empty()).unwrap()
    };
    for token in [
        None,
        Some("Bearer wrong"),
        Some("t0ken"),
        Some("Basic t0ken"),
    ] {
        let reply = server.send(with_token(token)).await;
        reply.error(StatusCode::UNAUTHORIZED, "unauthorized");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer"),
            "{token:?}"
        );
    }
    let reply = server
        .post(
            "/v1/bots/hello/conversations/c-1/messages",
            r#"{"text": "hi"}"#,
        )
        .await;
    reply.error(StatusCode::UNAUTHORIZED, "unauthorized");

    let reply = server.send(with_token(Some("Bearer t0ken"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["bots"][0]["bot"], "hello");
}

#[tokio::test]
async fn healthz_readyz_metrics_and_openapi_need_no_token() {
    let server = server_with(vec!["t0ken".to_owned()], Secrets::new());
    for uri in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        assert_eq!(server.get(uri).await.status, StatusCode::OK, "{uri}");
    }
    assert_eq!(server.get("/healthz").await.json(), json!({"status": "ok"}));
}

#[tokio::test]
async fn an_unknown_route_is_a_json_404() {
    let server = server();
    for uri in [
        "/nowhere",
        "/v1/robots",
        "/v1/bots/hello/conversations/c-1/replies",
    ] {
        server
            .get(uri)
            .await
            .error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_json_405() {
    let server = server();
    for (method, uri) in [
        (Method::GET, "/v1/bots/hello/conversations/c-1/messages"),
        (Method::PUT, "/v1/bots/hello/conversations/c-1"),
        (Method::POST, "/healthz"),
        (Method::DELETE, "/v1/bots"),
    ] {
        let reply = server
            .send(request(method.clone(), uri, Body::empty()))
            .await;
        reply.error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    }
}

#[tokio::test]
async fn openapi_json_is_an_openapi_3_document_listing_every_path_of_the_contract() {
    let server = server();
    let reply = server.get("/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.json();
    let version = document["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/bots", "get"),
        ("/v1/bots/{bot}/conversations", "post"),
        ("/v1/bots/{bot}/conversations/{conversation}", "get"),
        ("/v1/bots/{bot}/conversations/{conversation}", "delete"),
        (
            "/v1/bots/{bot}/conversations/{conversation}/messages",
            "post",
        ),
        ("/v1/bots/{bot}/conversations/{conversation}/outputs", "get"),
        ("/v1/admin/reload", "post"),
        ("/public/v1/bots/{bot}/conversations", "post"),
        (
            "/public/v1/bots/{bot}/conversations/{conversation}/messages",
            "post",
        ),
        (
            "/public/v1/bots/{bot}/conversations/{conversation}/outputs",
            "get",
        ),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path} is not in the document"
        );
    }
}

#[tokio::test]
async fn metrics_count_the_turns() {
    let server = server();
    // The first scrape installs the process's recorder, so that the turn below is counted.
    server.get("/metrics").await;
    server.say("c-1", "hi").await;
    let reply = server.get("/metrics").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(reply.body.to_vec()).unwrap();
    assert!(
        text.lines()
            .any(|line| line.starts_with("flowbot_turns_total{") && line.contains("bot=\"hello\"")),
        "{text}"
    );
}

#[tokio::test]
async fn a_repeated_message_id_gets_the_same_bytes_and_runs_nothing() {
    let server = server();
    server.say("c-1", "hi").await;
    let body = json!({"text": "Ada", "id": "wamid.1"});
    let first = server.message("c-1", body.clone()).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("idempotent-replay"), None);
    let again = server.message("c-1", body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.header("idempotent-replay"), Some("true"));
    assert_eq!(again.body, first.body);
    let shown = server.get("/v1/bots/hello/conversations/c-1").await.json();
    assert_eq!(shown["block"], "ask_note");
    assert_eq!(shown["revision"], 2);
}

#[tokio::test]
async fn variables_sent_to_a_running_conversation_are_reported_in_notices() {
    let server = server();
    let first = server.say("c-1", "hi").await;
    assert_eq!(first["notices"], json!([]));
    let reply = server
        .message(
            "c-1",
            json!({"text": "Ada", "variables": {"customer": "C-42"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let notices = reply.json()["notices"].clone();
    assert!(
        notices
            .as_array()
            .unwrap()
            .iter()
            .any(|notice| notice["type"] == "variables_ignored"),
        "{notices}"
    );
    let shown = server.get("/v1/bots/hello/conversations/c-1").await.json();
    assert!(shown["variables"].get("customer").is_none(), "{shown}");
}

#[tokio::test]
async fn outputs_after_a_seq_are_the_later_ones_oldest_first() {
    let server = server();
    server.say("c-1", "hi").await;
    server.say("c-1", "Ada").await;
    let uri = "/v1/bots/hello/conversations/c-1/outputs";
    let all = server.get(uri).await.json();
    assert_eq!(all["status"], "waiting");
    assert_eq!(seqs(&all), [1, 2, 3]);
    let later = server.get(&format!("{uri}?after=1")).await.json();
    assert_eq!(seqs(&later), [2, 3]);
    assert_eq!(texts(&later), ["What's your name?", "Anything else, Ada?"]);
    for after in ["3", "9223372036854775808", "18446744073709551615"] {
        let none = server.get(&format!("{uri}?after={after}")).await.json();
        assert_eq!(none, json!({"status": "waiting", "outputs": []}), "{after}");
    }
}

#[tokio::test]
async fn outputs_with_a_bad_query_are_invalid_request() {
    let server = server();
    server.say("c-1", "hi").await;
    for query in ["after=-1", "after=x", "wait=-1", "wait=nan", "wait=inf"] {
        let uri = format!("/v1/bots/hello/conversations/c-1/outputs?{query}");
        server
            .get(&uri)
            .await
            .error(StatusCode::BAD_REQUEST, "invalid_request");
    }
}

#[tokio::test]
async fn a_waiting_outputs_request_is_answered_by_the_next_turn() {
    let server = Arc::new(server());
    server.say("c-1", "hi").await;
    let follower = {
        let server = Arc::clone(&server);
        tokio::spawn(async move {
            server
                .get("/v1/bots/hello/conversations/c-1/outputs?after=2&wait=30")
                .await
        })
    };
    // Give the follower time to start waiting; had the turn come first, it still finds it.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    server.say("c-1", "Ada").await;
    let page = follower.await.unwrap().json();
    assert_eq!(seqs(&page), [3]);
    assert_eq!(texts(&page), ["Anything else, Ada?"]);
}

#[tokio::test]
async fn a_waiting_outputs_request_with_nothing_new_ends_empty() {
    let server = server();
    server.say("c-1", "hi").await;
    let reply = server
        .get("/v1/bots/hello/conversations/c-1/outputs?after=2&wait=0.2")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({"status": "waiting", "outputs": []}));
}

#[tokio::test]
async fn a_conversation_shows_its_variables_with_secrets_masked() {
    let mut secrets = Secrets::new();
    secrets.insert("API_KEY", "s3cr3t-value");
    let server = server_with(Vec::new(), secrets);
    server.say("c-1", "hi").await;
    server.say("c-1", "Ada s3cr3t-value").await;
    let reply = server.get("/v1/bots/hello/conversations/c-1").await;
    assert_eq!(reply.status, StatusCode::OK);
    let shown = reply.json();
    assert_eq!(shown["bot"], "hello");
    assert_eq!(shown["conversation"], "c-1");
    assert_eq!(shown["status"], "waiting");
    assert_eq!(shown["block"], "ask_note");
    assert_eq!(shown["revision"], 2);
    assert_eq!(shown["variables"]["name"], "Ada ***");
    assert_eq!(shown["variables"]["last user answer"], "Ada ***");
    assert!(shown["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(!String::from_utf8_lossy(&reply.body).contains("s3cr3t"));
}

#[tokio::test]
async fn a_message_after_the_end_starts_the_bot_again() {
    let server = server();
    server.say("c-1", "hi").await;
    server.say("c-1", "Ada").await;
    let last = server.say("c-1", "no").await;
    assert_eq!(last["status"], "ended");
    assert_eq!(texts(&last), ["Bye Ada!"]);
    let again = server.say("c-1", "hello again").await;
    assert_eq!(again["status"], "waiting");
    assert_eq!(texts(&again), ["Welcome!", "What's your name?"]);
    assert_eq!(seqs(&again), [5, 6]);
    let reply = server
        .post("/v1/bots/hello/conversations", r#"{"id": "c-1"}"#)
        .await;
    reply.error(StatusCode::CONFLICT, "conversation_exists");
}

#[tokio::test]
async fn bots_lists_the_running_bots_with_their_file() {
    let server = server();
    let bots = server.get("/v1/bots").await.json();
    assert_eq!(bots["bots"][0]["bot"], "hello");
    assert_eq!(bots["bots"][0]["file"], "hello.yaml");
    assert!(bots["bots"][0]["hash"].is_string());
}

#[tokio::test]
async fn a_state_over_its_limit_clears_its_largest_values_and_says_so() {
    let limits = RequestLimits {
        max_state_bytes: 1500,
        ..RequestLimits::default()
    };
    let server = server_built(Vec::new(), Secrets::new(), limits);
    server.say("big", "hi").await;
    let long = "x".repeat(1400);
    let answer = server.say("big", &long).await;
    let errors: Vec<&Value> = answer["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|output| output["code"] == "state_too_large")
        .collect();
    let cleared: Vec<&str> = errors
        .iter()
        .map(|error| error["message"].as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 2, "{answer}");
    assert!(
        cleared.iter().any(|message| message.contains("`name`")),
        "{cleared:?}"
    );
    assert!(
        cleared
            .iter()
            .any(|message| message.contains("`last user answer`")),
        "{cleared:?}"
    );
    let shown = server.get("/v1/bots/hello/conversations/big").await.json();
    assert!(shown["variables"].get("name").is_none(), "{shown}");
    assert!(
        shown["variables"].get("last user answer").is_none(),
        "{shown}"
    );
    assert_eq!(shown["block"], "ask_note", "the turn itself went on");
}
