//! A webhook step end to end: loaded from YAML, rendered with hostile values, sent to a stub
//! service on 127.0.0.1, and its saves applied to the answer.
//!
//! The stub decodes what it receives the way any web framework would and echoes it back, so
//! each test can check that hostile values arrived as data (one path segment, one query value,
//! one JSON string) and never as structure.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{Path, Query, RawQuery};
use axum::http::{HeaderMap, Method as HttpMethod, Uri};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use flow_core::flow::{BlockKind, Flow, Webhook};
use flow_http::{build_request, extract, Client, ClientConfig, Secrets, WebhookError};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// A value meant to break every place it can land in.
const HOSTILE: &str = "Jérôme & co/../admin?x=1#frag \"}, {\"admin\": true";

const SHOP: &str = r#"
bot: shop
variables:
  titles: list
  count: number
settings:
  webhook:
    timeout: 5s
blocks:
  lookup:
    webhook:
      url: "{{api base}}/shop/items/{{name}}/reviews?lang=fr"
      query:
        user: "{{name}}"
        page: "{{page}}"
      headers:
        X-Customer: "{{name}}"
        Authorization: "Bearer {{secret.SHOP_TOKEN}}"
      save:
        - path: received.id
          to: echoed id
        - path: received.query.flatMap(pair => pair[1])
          to: titles
        - path: received.query[2][1]
          to: count
    next: order
  order:
    webhook:
      method: POST
      url: "{{api base}}/orders"
      body:
        json:
          customer: "{{name}}"
          note: "for {{name}}"
          quantity: "{{page}}"
          tags: "{{tags}}"
          address: "{{address}}"
          gift: "{{gift}}"
          fixed: [1, two, null]
      save:
        - path: received
          to: order
    next: lead
  lead:
    webhook:
      method: POST
      url: "{{api base}}/leads"
      body:
        form:
          name: "{{name}}"
          size: "{{page}}"
      save:
        - path: received
          to: lead
    next: done
  done:
    end: Bye
"#;

/// The stub service: each route echoes what it decoded.
fn app() -> Router {
    Router::new()
        .route("/shop/items/{id}/reviews", get(reviews))
        .route("/orders", post(orders))
        .route("/leads", post(leads))
}

async fn reviews(
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
    RawQuery(raw_query): RawQuery,
) -> Json<Value> {
    let header = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect::<Vec<_>>()
    };
    Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "raw query": raw_query,
        "received": {"id": id, "query": query},
        "x-customer": header("x-customer"),
        "authorization": header("authorization"),
        "user-agent": header("user-agent"),
    }))
}

async fn orders(headers: HeaderMap, Json(body): Json<Value>) -> Json<Value> {
    Json(json!({"content type": headers["content-type"].to_str().unwrap(), "received": body}))
}

async fn leads(headers: HeaderMap, Form(pairs): Form<Vec<(String, String)>>) -> Json<Value> {
    Json(json!({"content type": headers["content-type"].to_str().unwrap(), "received": pairs}))
}

async fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app()).await.unwrap() });
    format!("http://{addr}")
}

fn flow() -> Flow {
    flow_core::load(SHOP)
        .into_flow()
        .unwrap_or_else(|errors| panic!("{errors}"))
}

fn webhook<'f>(flow: &'f Flow, id: &str) -> &'f Webhook {
    match &flow.block(id).unwrap().kind {
        BlockKind::Webhook(webhook) => webhook,
        other => panic!("{id} is a {}", other.name()),
    }
}

fn secrets() -> Arc<Secrets> {
    let mut secrets = Secrets::new();
    secrets.insert("SHOP_TOKEN", "tok-s3cr3t");
    Arc::new(secrets)
}

/// Runs step `id` of the shop bot as the runtime would: render, send, extract.
async fn run_step(
    base: &str,
    id: &str,
    variables: Value,
) -> Result<(Value, Vec<(String, Value)>), WebhookError> {
    let flow = flow();
    let webhook = webhook(&flow, id);
    let secrets = secrets();
    let mut variables = variables;
    variables["api base"] = json!(base);
    let lookup = |name: &str| variables.get(name).map(Cow::Borrowed);
    let request = build_request(id, webhook, &flow.settings().webhook, &lookup, &secrets)?;
    let client = Client::new(ClientConfig::for_version("9.9.9"))
        .unwrap()
        .with_secrets(secrets);
    let response = client.send(&request).await?;
    let declared = |name: &str| flow.variables().get(name).and_then(|decl| decl.var_type);
    let stored = extract(&webhook.save, &response.body, &declared)?;
    Ok((response.body, stored))
}

#[tokio::test]
async fn hostile_values_reach_the_service_as_data_in_path_query_and_headers() {
    let base = serve().await;
    let (echo, stored) = run_step(&base, "lookup", json!({"name": HOSTILE, "page": 2}))
        .await
        .unwrap();
    assert_eq!(echo["method"], "GET");
    // One segment, still between `items/` and `/reviews`, and no `..` left for a parser to fold.
    assert_eq!(
        echo["path"],
        "/shop/items/J%C3%A9r%C3%B4me%20%26%20co%2F..%2Fadmin%3Fx%3D1%23frag%20%22%7D%2C%20%7B%22admin%22%3A%20true/reviews"
    );
    assert_eq!(echo["received"]["id"], HOSTILE);
    // The inline query is kept and the listed pairs follow it (S7), each value whole.
    assert_eq!(
        echo["received"]["query"],
        json!([["lang", "fr"], ["user", HOSTILE], ["page", "2"]])
    );
    assert!(echo["raw query"]
        .as_str()
        .unwrap()
        .starts_with("lang=fr&user=J%C3%A9r%C3%B4me+%26+co%2F"));
    assert_eq!(echo["x-customer"], json!([HOSTILE]));
    assert_eq!(echo["authorization"], json!(["Bearer tok-s3cr3t"]));
    assert_eq!(echo["user-agent"], json!(["flowbot/9.9.9"]));
    assert_eq!(
        stored,
        [
            ("echoed id".to_owned(), json!(HOSTILE)),
            ("titles".to_owned(), json!(["fr", HOSTILE, "2"])),
            ("count".to_owned(), json!(2)),
        ]
    );
}

#[tokio::test]
async fn json_body_keeps_types_and_hostile_text_stays_one_string() {
    let base = serve().await;
    let variables = json!({
        "name": HOSTILE,
        "page": 3,
        "tags": ["a", "b"],
        "address": {"city": "Lyon", "zip": "69001"},
        "gift": true,
    });
    let (echo, stored) = run_step(&base, "order", variables).await.unwrap();
    assert_eq!(echo["content type"], "application/json");
    let expected = json!({
        "customer": HOSTILE,
        "note": format!("for {HOSTILE}"),
        "quantity": 3,
        "tags": ["a", "b"],
        "address": {"city": "Lyon", "zip": "69001"},
        "gift": true,
        "fixed": [1, "two", null],
    });
    assert_eq!(echo["received"], expected);
    assert_eq!(stored, [("order".to_owned(), expected)]);
}

#[tokio::test]
async fn form_body_arrives_url_encoded_with_its_content_type() {
    let base = serve().await;
    let (echo, _) = run_step(&base, "lead", json!({"name": HOSTILE, "page": "x=1&y=2"}))
        .await
        .unwrap();
    assert_eq!(echo["content type"], "application/x-www-form-urlencoded");
    assert_eq!(
        echo["received"],
        json!([["name", HOSTILE], ["size", "x=1&y=2"]])
    );
}

#[tokio::test]
async fn a_line_break_in_a_header_value_is_refused_before_sending() {
    let base = serve().await;
    let error = run_step(
        &base,
        "lookup",
        json!({"name": "Jérôme\r\nX-Admin: yes", "page": 1}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "BadRequest: the value of header `X-Customer` contains a line break, NUL or other \
         control character (from variable `name`), which a header cannot carry"
    );
}

#[tokio::test]
async fn an_unset_variable_is_refused_before_sending() {
    let base = serve().await;
    let error = run_step(&base, "lookup", json!({"page": 1}))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "BadRequest: variable `name` is not set");
}

#[tokio::test]
async fn a_save_of_the_wrong_type_stores_nothing() {
    let base = serve().await;
    // `count` is a number; a page that is not one makes the third save fail, and with it all.
    let error = run_step(&base, "lookup", json!({"name": "Ann", "page": "two"}))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "KeyError: path received.query[2][1] gives a string that is not a number, but `count` \
         is a number"
    );
    assert_eq!(error.body.unwrap()["received"]["id"], "Ann");
}
