//! The public endpoints of the web chat and its page: only public bots, ids the server makes,
//! no presets, a rate limit per peer address, CORS for any origin, and `/v1` still behind its
//! tokens.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;

use super::*;

/// A server with [`super::HELLO`] public, `per_minute` requests a minute per address, and
/// `tokens` on `/v1`.
fn public_server(tokens: Vec<String>, per_minute: u32) -> TestServer {
    server_open(
        tokens,
        Secrets::new(),
        RequestLimits::default(),
        PublicAccess::new(["hello"], per_minute),
    )
}

/// `request` as if it came from `peer`, as `serve` gives it to the handlers.
fn from_peer(mut request: Request<Body>, peer: &str) -> Request<Body> {
    let address: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(address));
    request
}

const PEER: &str = "198.51.100.7:40000";

impl TestServer {
    async fn from(&self, peer: &str, method: Method, uri: &str, body: impl Into<Body>) -> Reply {
        self.send(from_peer(request(method, uri, body.into()), peer))
            .await
    }

    /// A public start that must succeed, and its answer.
    async fn public_start(&self) -> Value {
        let reply = self
            .from(
                PEER,
                Method::POST,
                "/public/v1/bots/hello/conversations",
                "",
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json());
        reply.json()
    }
}

fn messages_uri(id: &str) -> String {
    format!("/public/v1/bots/hello/conversations/{id}/messages")
}

#[tokio::test]
async fn a_public_start_runs_the_bot_under_a_random_uuid_the_server_made() {
    let server = public_server(Vec::new(), 60);
    let first = server.public_start().await;
    assert_eq!(texts(&first), ["Welcome!", "What's your name?"]);
    assert_eq!(first["status"], "waiting");
    let id = first["conversation"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 4, "{id}");
    let second = server.public_start().await;
    assert_ne!(second["conversation"], first["conversation"]);
}

#[tokio::test]
async fn a_public_conversation_takes_messages_follows_outputs_and_replays_a_repeated_message_id() {
    let server = public_server(Vec::new(), 60);
    let id = server.public_start().await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"text": "Ada", "id": "m-1"}).to_string();
    let answer = server
        .from(PEER, Method::POST, &messages_uri(&id), body.clone())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    assert_eq!(texts(&answer.json()), ["Anything else, Ada?"]);
    assert_eq!(answer.header("idempotent-replay"), None);
    let replay = server
        .from(PEER, Method::POST, &messages_uri(&id), body)
        .await;
    assert_eq!(replay.header("idempotent-replay"), Some("true"));
    assert_eq!(
        replay.body, answer.body,
        "a retried send gets the same bytes"
    );
    let outputs = server
        .from(
            PEER,
            Method::GET,
            &format!("/public/v1/bots/hello/conversations/{id}/outputs?after=1"),
            "",
        )
        .await;
    assert_eq!(outputs.status, StatusCode::OK);
    assert_eq!(seqs(&outputs.json()), [2, 3]);
}

#[tokio::test]
async fn a_bot_that_is_not_public_is_unknown_bot_everywhere_public_without_a_did_you_mean() {
    let server = server();
    let id = uuid::Uuid::new_v4().to_string();
    let hello_uris = [
        (
            Method::POST,
            "/public/v1/bots/hello/conversations".to_owned(),
        ),
        (Method::POST, messages_uri(&id)),
        (
            Method::GET,
            format!("/public/v1/bots/hello/conversations/{id}/outputs"),
        ),
        (Method::GET, "/chat/hello".to_owned()),
    ];
    for (method, uri) in hello_uris {
        let body = json!({"text": "hi"}).to_string();
        let reply = server.from(PEER, method.clone(), &uri, body).await;
        let message = reply.error(StatusCode::NOT_FOUND, "unknown_bot");
        assert_eq!(message, "there is no bot `hello`", "{method} {uri}");
    }
    let public = public_server(Vec::new(), 60);
    let reply = public
        .from(PEER, Method::POST, "/public/v1/bots/helo/conversations", "")
        .await;
    let message = reply.error(StatusCode::NOT_FOUND, "unknown_bot");
    assert_eq!(message, "there is no bot `helo`");
    let page = public.get("/chat/helo").await;
    page.error(StatusCode::NOT_FOUND, "unknown_bot");
}

#[tokio::test]
async fn a_conversation_id_the_client_chose_is_refused_and_nothing_is_created() {
    let server = public_server(Vec::new(), 60);
    let start = server
        .from(
            PEER,
            Method::POST,
            "/public/v1/bots/hello/conversations",
            json!({"id": "mine"}).to_string(),
        )
        .await;
    let message = start.error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("made by the server"), "{message}");
    let never_made = uuid::Uuid::new_v4().to_string();
    for id in ["mine", never_made.as_str(), &never_made.to_uppercase()] {
        let reply = server
            .from(
                PEER,
                Method::POST,
                &messages_uri(id),
                json!({"text": "hi"}).to_string(),
            )
            .await;
        reply.error(StatusCode::NOT_FOUND, "unknown_conversation");
        let shown = server
            .get(&format!("/v1/bots/hello/conversations/{id}"))
            .await;
        shown.error(StatusCode::NOT_FOUND, "unknown_conversation");
    }
}

#[tokio::test]
async fn presets_are_refused_on_the_public_start_and_messages() {
    let server = public_server(Vec::new(), 60);
    let start = server
        .from(
            PEER,
            Method::POST,
            "/public/v1/bots/hello/conversations",
            json!({"variables": {"name": "Eve"}}).to_string(),
        )
        .await;
    let message = start.error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("`variables`"), "{message}");
    let id = server.public_start().await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = server
        .from(
            PEER,
            Method::POST,
            &messages_uri(&id),
            json!({"text": "hi", "variables": {"name": "Eve"}}).to_string(),
        )
        .await;
    let message = reply.error(StatusCode::BAD_REQUEST, "invalid_request");
    assert!(message.contains("`variables`"), "{message}");
    let not_json = server
        .from(PEER, Method::POST, &messages_uri(&id), "{")
        .await;
    not_json.error(StatusCode::BAD_REQUEST, "invalid_json");
}

#[tokio::test]
async fn over_the_rate_limit_an_address_gets_429_with_retry_after_and_another_does_not() {
    let server = public_server(Vec::new(), 2);
    // The first scrape installs the process's recorder, so that the refusal below is counted.
    server.get("/metrics").await;
    server.public_start().await;
    server.public_start().await;
    let refused = server
        .from(
            PEER,
            Method::POST,
            "/public/v1/bots/hello/conversations",
            "",
        )
        .await;
    let message = refused.error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(message.starts_with("too many requests"), "{message}");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let other = server
        .from(
            "203.0.113.9:5000",
            Method::POST,
            "/public/v1/bots/hello/conversations",
            "",
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED);
    let metrics = server.get("/metrics").await;
    let text = String::from_utf8(metrics.body.to_vec()).unwrap();
    assert!(
        text.lines()
            .any(|line| line.starts_with("flowbot_public_rate_limited_total ")),
        "{text}"
    );
    // The limit is the public endpoints' alone.
    let v1 = server.message("c-1", json!({"text": "hi"})).await;
    assert_eq!(v1.status, StatusCode::OK);
}

#[tokio::test]
async fn v1_still_needs_its_token_while_public_bots_need_none() {
    let server = public_server(vec!["t-1".to_owned()], 60);
    let v1 = server.message("c-1", json!({"text": "hi"})).await;
    v1.error(StatusCode::UNAUTHORIZED, "unauthorized");
    let listed = server.get("/v1/bots").await;
    listed.error(StatusCode::UNAUTHORIZED, "unauthorized");
    let id = server.public_start().await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = server
        .get(&format!("/v1/bots/hello/conversations/{id}"))
        .await;
    shown.error(StatusCode::UNAUTHORIZED, "unauthorized");
    let delete = server
        .from(
            PEER,
            Method::DELETE,
            &format!("/public/v1/bots/hello/conversations/{id}"),
            "",
        )
        .await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND, "no delete in public");
}

#[tokio::test]
async fn a_cors_preflight_from_any_origin_is_answered_and_not_counted() {
    let server = public_server(Vec::new(), 1);
    for _ in 0..3 {
        let preflight = Request::builder()
            .method(Method::OPTIONS)
            .uri("/public/v1/bots/hello/conversations")
            .header(header::ORIGIN, "https://shop.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap();
        let reply = server.send(from_peer(preflight, PEER)).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        let methods = reply.header("access-control-allow-methods").unwrap();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{methods}"
        );
        let headers = reply.header("access-control-allow-headers").unwrap();
        assert!(headers.contains("content-type"), "{headers}");
    }
    let request = Request::builder()
        .method(Method::POST)
        .uri("/public/v1/bots/hello/conversations")
        .header(header::ORIGIN, "https://shop.example")
        .body(Body::empty())
        .unwrap();
    let reply = server.send(from_peer(request, PEER)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json());
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let exposed = reply.header("access-control-expose-headers").unwrap();
    assert!(exposed.contains("retry-after"), "{exposed}");
    // /v1 answers no CORS: a browser on another site cannot call it.
    let v1 = Request::builder()
        .method(Method::GET)
        .uri("/v1/bots")
        .header(header::ORIGIN, "https://shop.example")
        .body(Body::empty())
        .unwrap();
    let reply = server.send(v1).await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn the_chat_page_has_its_bot_a_strict_csp_and_no_cache() {
    let server = public_server(Vec::new(), 60);
    let page = server.get("/chat/hello").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.contains(r#"data-bot="hello""#), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "inline code breaks the CSP"
    );
}

#[tokio::test]
async fn assets_have_their_content_types_an_etag_and_answer_304_when_unchanged() {
    let server = public_server(Vec::new(), 60);
    for (uri, content_type) in [
        ("/widget.js", "text/javascript; charset=utf-8"),
        ("/assets/chat.js", "text/javascript; charset=utf-8"),
        ("/assets/chat-page.js", "text/javascript; charset=utf-8"),
        ("/assets/chat.css", "text/css; charset=utf-8"),
    ] {
        let reply = server.get(uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}");
        assert_eq!(reply.header("content-type"), Some(content_type), "{uri}");
        assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
        let text = String::from_utf8(reply.body.to_vec()).unwrap();
        assert!(!text.contains("https://") || uri == "/widget.js", "{uri}");
        let etag = reply.header("etag").unwrap().to_owned();
        let again = Request::builder()
            .uri(uri)
            .header(header::IF_NONE_MATCH, &etag)
            .body(Body::empty())
            .unwrap();
        let cached = server.send(again).await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(cached.body.is_empty());
    }
    let missing = server.get("/assets/nope.js").await;
    missing.error(StatusCode::NOT_FOUND, "not_found");
}
