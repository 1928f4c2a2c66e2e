//! One whole conversation (at least) per behaviour of `shared/seed/BEHAVIOURS.md` that concerns
//! running a bot, named for it; every webhook is answered by a real HTTP server on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use insta::assert_snapshot;
use serde_json::{json, Value};

use super::server::{closed_port, http_runner, path_and_query, serve, Seen};
use super::support::{flow, Chat, SHOP};
use crate::{Executor, HttpRunner, WebhookOutcome};

/// The shop bot, with its webhook pointed at `base`.
fn shop_at(base: &str) -> Executor<HttpRunner> {
    let source = SHOP.replace("https://dummyjson.com", base);
    Executor::single(flow(&source), http_runner())
}

/// A shop API: two products whose titles carry the user's name; user `closed` gets a 503.
async fn shop_server(seen: Seen) -> String {
    let products = |State(seen): State<Seen>, uri: Uri, RawQuery(query): RawQuery| async move {
        let _request = seen.begin(path_and_query(&uri));
        let user = query.unwrap_or_default().replace("user=", "");
        if user == "closed" {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "down"})),
            )
                .into_response();
        }
        Json(json!({"products": [
            {"title": format!("{user} phone"), "category": "smartphones"},
            {"title": format!("{user} laptop"), "category": "laptops"},
        ]}))
        .into_response()
    };
    serve(
        Router::new()
            .route("/products", get(products))
            .with_state(seen),
    )
    .await
}

#[tokio::test]
async fn s2_webhooks_in_a_row_are_awaited_and_run_one_after_the_other() {
    let seen = Seen::default();
    let step = |State(seen): State<Seen>, uri: Uri| async move {
        let _request = seen.begin(path_and_query(&uri));
        // Long enough that a step not awaited, or run in parallel, would overlap the next one.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let n = uri.path().trim_start_matches("/step/").to_owned();
        Json(json!({"value": format!("v{n}")}))
    };
    let base = serve(
        Router::new()
            .route("/step/{n}", get(step))
            .with_state(seen.clone()),
    )
    .await;
    let source = r#"
bot: chain
blocks:
  first:
    webhook: {url: "BASE/step/1", save: [{path: value, to: a}]}
    next: second
  second:
    webhook: {url: "BASE/step/2?prev={{a}}", save: [{path: value, to: b}]}
    next: third
  third:
    webhook: {url: "BASE/step/3?prev={{b}}", save: [{path: value, to: c}]}
    next: done
  done:
    end: "{{a}} {{b}} {{c}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (chat, first) = Chat::start(&executor, "chain").await;
    assert_snapshot!(first, @r"
    bot: v1 v2 v3
    (ended)
    ");
    // Each request carries what the one before it returned: each step was awaited.
    assert_eq!(
        seen.requests(),
        ["/step/1", "/step/2?prev=v1", "/step/3?prev=v2"]
    );
    assert_eq!(seen.max_in_flight(), 1, "two webhook steps overlapped");
    assert_eq!(chat.var("c"), json!("v3"));
}

#[tokio::test]
async fn s4_the_bot_always_goes_on_after_a_failed_webhook() {
    let seen = Seen::default();
    let routes = Router::new()
        .route(
            "/error",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": "boom"})),
                )
            }),
        )
        .route(
            "/html",
            get(|| async { ([("content-type", "text/html")], "<html>hi</html>") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Json(json!({}))
            }),
        )
        .route("/ok", get(|| async { Json(json!({"other": 1})) }))
        .with_state(seen);
    let base = serve(routes).await;
    let closed = closed_port().await;
    let source = r#"
bot: failing
blocks:
  status:
    webhook: {url: "BASE/error", failure: f1}
    next: not_json
  not_json:
    webhook: {url: "BASE/html", failure: f2}
    next: refused
  refused:
    webhook: {url: "CLOSED/nothing", failure: f3}
    next: slow
  slow:
    webhook: {url: "BASE/slow", timeout: 200ms, failure: f4}
    next: hole
  hole:
    webhook: {url: "BASE/ok?q={{never set}}", failure: f5}
    next: missing_key
  missing_key:
    webhook: {url: "BASE/ok", save: [{path: wanted, to: w}], failure: f6}
    next: with_branch
  with_branch:
    webhook: {url: "BASE/error", failure: f7}
    next: not_here
    on_failure: report
  not_here:
    end: "on_failure was not followed"
  report:
    end: "{{f1.type}}, {{f2.type}}, {{f3.type}}, {{f4.type}}, {{f5.type}}, {{f6.type}}, {{f7.type}}"
"#
    .replace("BASE", &base)
    .replace("CLOSED", &closed);
    let executor = Executor::single(flow(&source), http_runner());
    let (chat, first) = Chat::start(&executor, "failing").await;
    assert_snapshot!(first, @r"
    bot: BadResponse, BadResponse, ConnectionError, Timeout, BadRequest, KeyError, BadResponse
    (ended)
    ");
    assert_snapshot!(chat.var("f5"), @r#"{"type":"BadRequest","message":"variable `never set` is not set","status":null,"body":null}"#);
}

#[tokio::test]
async fn s5_a_later_choice_acts_on_the_webhook_outcome() {
    let base = shop_server(Seen::default()).await;
    let executor = shop_at(&base);

    let (mut open, first) = Chat::start(&executor, "shop").await;
    assert_snapshot!(first, @r"
    bot: Welcome to the shop!
    bot: What's your name?
    (waiting)
    ");
    assert_snapshot!(open.say("Ada").await, @r"
    bot: Ada, we have: Ada phone, Ada laptop
    bot: Which one? [Ada phone | Ada laptop]
    (waiting)
    ");
    assert_snapshot!(open.say("2").await, @r"
    bot: You picked Ada laptop.
    (ended)
    ");

    let (mut closed, _) = Chat::start(&executor, "shop").await;
    assert_snapshot!(closed.say("closed").await, @r"
    bot: Sorry closed, the shop is closed.
    (ended)
    ");
}

#[tokio::test]
async fn s12_a_success_stores_the_part_of_the_response_each_path_selects() {
    let order =
        || async { Json(json!({"order": {"id": "A-1", "state": "shipped", "lines": [1, 2]}})) };
    let base = serve(Router::new().route("/orders/A-1", get(order))).await;
    let source = r#"
bot: order
variables: {lines: list, whole: object}
blocks:
  lookup:
    webhook:
      url: "BASE/orders/A-1"
      save:
        - {path: order.state, to: state}
        - {path: order.lines, to: lines}
        - {path: "", to: whole}
    next: done
  done:
    end: "Order is {{state}}, {{lines}} lines"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (chat, first) = Chat::start(&executor, "order").await;
    assert_snapshot!(first, @r"
    bot: Order is shipped, 1, 2 lines
    (ended)
    ");
    assert_eq!(chat.var("lines"), json!([1, 2]));
    assert_eq!(chat.var("whole")["order"]["id"], json!("A-1"));
}

#[tokio::test]
async fn s13_flat_map_stores_one_value_per_element_in_a_list() {
    let products = || async {
        Json(
            json!({"products": [{"title": "iPhone 9"}, {"title": "iPhone X"}, {"sku": "no title"}]}),
        )
    };
    let base = serve(Router::new().route("/products", get(products))).await;
    let source = r#"
bot: titles
variables: {titles: list}
blocks:
  fetch:
    webhook:
      url: "BASE/products"
      save: [{path: "products.flatMap(item => item.title)", to: titles}]
    next: done
  done:
    end: "{{titles[0]}} and {{titles[1]}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (chat, first) = Chat::start(&executor, "titles").await;
    assert_snapshot!(first, @r"
    bot: iPhone 9 and iPhone X
    (ended)
    ");
    // An element without the key keeps its slot, so parallel lists stay aligned.
    assert_eq!(chat.var("titles"), json!(["iPhone 9", "iPhone X", null]));
}

#[tokio::test]
async fn s14_paths_index_from_zero_and_read_non_ascii_and_quoted_keys() {
    let produits = || async {
        Json(json!({"produits": [
            {"catégorie": "téléphones", "nom complet": "Téléphone 9", "prix": 10},
            {"catégorie": "ordinateurs", "nom complet": "Portable X", "prix": 20},
        ]}))
    };
    let base = serve(Router::new().route("/produits", get(produits))).await;
    let source = r#"
bot: paths
blocks:
  fetch:
    webhook:
      url: "BASE/produits"
      save:
        - {path: "produits[1].catégorie", to: deuxième}
        - {path: "produits[0][\"nom complet\"]", to: premier}
        - {path: "produits[-1].prix", to: dernier prix}
    next: done
  done:
    end: "{{premier}} / {{deuxième}} / {{dernier prix}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (_, first) = Chat::start(&executor, "paths").await;
    assert_snapshot!(first, @r"
    bot: Téléphone 9 / ordinateurs / 20
    (ended)
    ");
}

#[tokio::test]
async fn s15_one_request_fills_several_variables_all_or_nothing() {
    let calls = Arc::new(AtomicUsize::new(0));
    let item = |State(calls): State<Arc<AtomicUsize>>, RawQuery(query): RawQuery| async move {
        calls.fetch_add(1, Ordering::SeqCst);
        match query.as_deref() {
            Some("variant=full") => Json(json!({"a": 1, "b": "two", "c": [3], "opt": "given"})),
            Some("variant=scalar") => Json(json!({"a": 10, "b": "twenty", "c": "not a list"})),
            _ => Json(json!({"a": 10, "b": "twenty"})),
        }
    };
    let base = serve(
        Router::new()
            .route("/item", get(item))
            .with_state(calls.clone()),
    )
    .await;
    let source = r#"
bot: several
variables: {a: number, b: text, c: list, opt: text}
blocks:
  full:
    webhook:
      url: "BASE/item?variant=full"
      save:
        - {path: a, to: a}
        - {path: b, to: b}
        - {path: c, to: c}
        - {path: missing, to: opt, default: fallback}
    next: report_full
  report_full:
    message: "{{a}} {{b}} {{c}} {{opt}}"
    next: partial
  partial:
    webhook:
      url: "BASE/item?variant=partial"
      save:
        - {path: a, to: a}
        - {path: b, to: b}
        - {path: c, to: c}
      failure: partial failure
    next: report_partial
  report_partial:
    message: "{{a}} {{b}} {{c}} / {{partial failure}} ({{partial failure.status}})"
    next: scalar
  scalar:
    webhook:
      url: "BASE/item?variant=scalar"
      save:
        - {path: a, to: a}
        - {path: c, to: c}
      failure: scalar failure
    next: done
  done:
    end: "{{a}} {{c}} / {{scalar failure}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (_, first) = Chat::start(&executor, "several").await;
    // The first step stores all four at once; the second and third each fail on one path and
    // store nothing, so `a` and `b` keep the first step's values.
    assert_snapshot!(first, @r"
    bot: 1 two 3 fallback
    bot: 1 two 3 / KeyError: no key 'c' in object at the top level (path c) (200)
    bot: 1 3 / KeyError: path c gives a string, but `c` is a list
    (ended)
    ");
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one request per step");
}

#[tokio::test]
async fn s16_failures_go_to_the_named_variable_or_to_last_webhook_failure() {
    let missing = || async {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such order"})),
        )
    };
    let base = serve(Router::new().route("/missing", get(missing))).await;
    let source = r#"
bot: failures
blocks:
  unnamed:
    webhook: {url: "BASE/missing"}
    next: named
  named:
    webhook: {url: "BASE/missing", failure: order failure}
    next: done
  done:
    end: "{{last webhook failure}} | {{order failure}} | {{order failure.status}} | {{order failure.body.error}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (chat, first) = Chat::start(&executor, "failures").await;
    assert_snapshot!(first, @r"
    bot: BadResponse: Invalid response status: 404 | BadResponse: Invalid response status: 404 | 404 | no such order
    (ended)
    ");
    assert_eq!(
        chat.var("order failure"),
        json!({"type": "BadResponse", "message": "Invalid response status: 404", "status": 404, "body": {"error": "no such order"}})
    );
}

#[tokio::test]
async fn s16_a_success_stores_the_body_in_last_webhook_success_and_clears_its_failure_variable() {
    let calls = Arc::new(AtomicUsize::new(0));
    let flaky = |State(calls): State<Arc<AtomicUsize>>| async move {
        if calls.fetch_add(1, Ordering::SeqCst) == 0 {
            (StatusCode::BAD_GATEWAY, Json(json!({"error": "try again"})))
        } else {
            (StatusCode::OK, Json(json!({"id": 42})))
        }
    };
    let base = serve(Router::new().route("/flaky", get(flaky)).with_state(calls)).await;
    let source = r#"
bot: retry
blocks:
  call:
    webhook: {url: "BASE/flaky", save: [{path: id, to: id}], failure: call failure}
    next: check
  check:
    choice:
      - if: {var: call failure, is: message}
        next: ask_retry
      - else: done
  ask_retry:
    question: "It failed ({{call failure}}). Try again?"
    options: ["Yes"]
    next: call
  done:
    end: "Saved {{id}}; failure now '{{call failure}}'; body {{last webhook success}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (mut chat, first) = Chat::start(&executor, "retry").await;
    assert_snapshot!(first, @r"
    bot: It failed (BadResponse: Invalid response status: 502). Try again? [Yes]
    (waiting)
    ");
    assert_snapshot!(chat.say("yes").await, @r#"
    bot: Saved 42; failure now ''; body {"id":42}
    (ended)
    "#);
    assert_eq!(chat.var("call failure"), Value::Null);
}

#[tokio::test]
async fn s17_one_failure_variable_per_webhook_checked_by_a_choice() {
    let base = serve(
        Router::new()
            .route("/up", get(|| async { Json(json!({"stock": 3})) }))
            .route(
                "/down",
                get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "maintenance") }),
            ),
    )
    .await;
    let source = r#"
bot: pattern
blocks:
  stock:
    webhook: {url: "BASE/up", save: [{path: stock, to: stock}], failure: stock failure}
    next: check_stock
  check_stock:
    choice:
      - if: {var: stock failure, is: message}
        next: no_stock
      - else: say_stock
  no_stock:
    message: "Stock unknown"
    next: prices
  say_stock:
    message: "{{stock}} in stock"
    next: prices
  prices:
    webhook: {url: "BASE/down", save: [{path: price, to: price}], failure: price failure}
    next: check_prices
  check_prices:
    choice:
      - if: {var: price failure, is: message}
        next: no_price
      - else: say_price
  no_price:
    end: "Price unknown: {{price failure}} ({{price failure.body}})"
  say_price:
    end: "Costs {{price}}"
"#
    .replace("BASE", &base);
    let executor = Executor::single(flow(&source), http_runner());
    let (chat, first) = Chat::start(&executor, "pattern").await;
    assert_snapshot!(first, @r"
    bot: 3 in stock
    bot: Price unknown: BadResponse: Invalid response status: 503 (maintenance)
    (ended)
    ");
    assert_eq!(chat.var("stock failure"), Value::Null);
    let outcomes: Vec<bool> = chat_outcomes(&executor).await;
    assert_eq!(outcomes, [true, false]);
}

/// Whether each webhook step of a fresh `pattern` conversation succeeded, from its trace.
async fn chat_outcomes(executor: &Executor<HttpRunner>) -> Vec<bool> {
    let (_, turn) = executor
        .start("trace".into(), "pattern", Default::default())
        .await
        .unwrap();
    turn.trace
        .webhooks()
        .map(|webhook| matches!(webhook.outcome, WebhookOutcome::Success { .. }))
        .collect()
}

#[tokio::test]
async fn a_secret_echoed_by_the_server_never_reaches_a_message() {
    let echo = |headers: axum::http::HeaderMap| async move {
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Json(json!({"seen": authorization}))
    };
    let base = serve(Router::new().route("/echo", get(echo))).await;
    let source = format!(
        "bot: echo\nblocks:\n  call:\n    webhook:\n      url: {base}/echo\n      headers: {{Authorization: \"Bearer {{{{secret.TOKEN}}}}\"}}\n      save:\n        - {{path: seen, to: seen}}\n    next: tell\n  tell:\n    end: \"The server saw {{{{seen}}}} in {{{{last webhook success}}}}\"\n"
    );
    let mut secrets = flow_http::Secrets::new();
    secrets.insert("TOKEN", "hunter2-secret");
    let executor = Executor::single(flow(&source), http_runner()).with_secrets(Arc::new(secrets));
    let (chat, opening) = Chat::start(&executor, "echo").await;
    assert!(!opening.contains("hunter2"), "{opening}");
    assert!(opening.contains("Bearer ***"), "{opening}");
    assert!(!chat.var("seen").to_string().contains("hunter2"));
}
