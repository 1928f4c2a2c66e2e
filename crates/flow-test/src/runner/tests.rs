//! The runner against scratch test folders: the network guard, missing outcomes, load and
//! parse failures, every check, `--filter` and discovery.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::*;
use crate::report::Failure;

/// A folder with `files` in it, gone when the value drops.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

async fn run(dir: &Path, file: &str) -> SuiteReport {
    run_file(&dir.join(file), &RunOptions::default()).await
}

/// A server on 127.0.0.1 that answers every request with a product list and counts them.
async fn counting_server() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let router = Router::new().route(
        "/products",
        get(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            async { Json(json!({"products": [{"title": "Lamp"}]})) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{address}"), count)
}

fn lookup_flow(base: &str) -> String {
    format!(
        "bot: lookup\nblocks:\n  fetch:\n    webhook:\n      url: {base}/products\n      save:\n        - path: products[0].title\n          to: first\n    next: say\n  say:\n    end: \"First: {{{{first}}}}\"\n"
    )
}

const SCRIPTED_CASE: &str = "
  - name: scripted
    webhooks:
      fetch: {json: {products: [{title: Scripted}]}}
    conversation:
      - bot: 'First: Scripted'
";

const MISSING_CASE: &str = "
  - name: no outcome
    conversation:
      - bot: 'First: Lamp'
";

const REAL_CASE: &str = "
  - name: real
    webhooks:
      fetch: {real: true}
    conversation:
      - bot: 'First: Lamp'
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_reaches_the_network_only_with_real_true() {
    let (base, count) = counting_server().await;
    let flow = lookup_flow(&base);
    let without = format!("flow: lookup.yaml\ncases:{SCRIPTED_CASE}{MISSING_CASE}");
    let with = format!("flow: lookup.yaml\ncases:{REAL_CASE}");
    let dir = folder(&[
        ("lookup.yaml", &flow),
        ("without.test.yaml", &without),
        ("with.test.yaml", &with),
    ]);

    let report = run(dir.path(), "without.test.yaml").await;
    assert!(report.cases[0].passed(), "{}", report.cases[0].explain());
    assert!(!report.cases[1].passed());
    assert_eq!(
        count.load(Ordering::SeqCst),
        0,
        "no request without `real: true`"
    );

    let report = run(dir.path(), "with.test.yaml").await;
    assert!(report.cases[0].passed(), "{}", report.cases[0].explain());
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "one request with `real: true`"
    );
}

#[tokio::test]
async fn a_webhook_without_outcome_fails_naming_the_block_and_the_request() {
    let dir = folder(&[
        ("lookup.yaml", &lookup_flow("https://api.example.com")),
        (
            "t.yaml",
            &format!("flow: lookup.yaml\ncases:{MISSING_CASE}"),
        ),
    ]);
    let report = run(dir.path(), "t.yaml").await;
    let case = &report.cases[0];
    let Some(Failure::NoOutcome { block, request }) = case.failures.first() else {
        panic!("expected a missing outcome first: {:?}", case.failures);
    };
    assert_eq!(block, "fetch");
    assert_eq!(request, "GET https://api.example.com/products");
    let text = case.explain();
    assert!(
        text.contains("webhook `fetch` was reached without an outcome"),
        "{text}"
    );
    assert!(
        text.contains("    GET https://api.example.com/products"),
        "{text}"
    );
    assert!(
        text.contains("error: webhook `fetch` did not run"),
        "{text}"
    );
}

#[tokio::test]
async fn a_flow_that_does_not_load_fails_every_case_with_its_diagnostics() {
    let broken = "bot: broken\nblocks:\n  hi:\n    message: Hi\n    next: nowhere\n";
    let cases = "flow: broken.yaml\ncases:\n  - name: one\n  - name: two\n";
    let dir = folder(&[("broken.yaml", broken), ("t.yaml", cases)]);
    let report = run(dir.path(), "t.yaml").await;
    assert_eq!(report.summary().failed, 2);
    let text = report.cases[0].explain();
    let flow = dir.path().join("broken.yaml");
    assert!(text.starts_with("the flow does not load:"), "{text}");
    assert!(
        text.contains(&format!(
            "{}:5:11: error: block `hi` goes to unknown block `nowhere`",
            flow.display()
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_test_file_that_does_not_parse_is_one_failed_case_with_line_and_column() {
    let dir = folder(&[(
        "t.yaml",
        "flow: x.yaml\ncases:\n  - name: a\n    conversaton: []\n",
    )]);
    let report = run(dir.path(), "t.yaml").await;
    assert_eq!(report.cases.len(), 1);
    let text = report.cases[0].explain();
    let file = dir.path().join("t.yaml");
    assert!(
        text.starts_with(&format!("{}:4:", file.display())),
        "{text}"
    );
    assert!(text.contains("conversaton"), "{text}");
}

#[tokio::test]
async fn start_at_variables_status_and_requests_are_checked() {
    let flow = "bot: order\nvariables:\n  order: text\nblocks:\n  ask:\n    question: Which order?\n    save_to: order\n    next: fetch\n  fetch:\n    webhook:\n      method: POST\n      url: https://api.example.com/orders\n      headers: {X-Token: abc}\n      body:\n        json: {order: \"{{order}}\", source: bot}\n      save:\n        - path: state\n          to: state\n    next: say\n  say:\n    end: \"Order {{order}} is {{state}}.\"\n";
    let cases = r#"flow: order.yaml
cases:
  - name: all hold
    variables: {order: A-1}
    start_at: fetch
    webhooks:
      fetch: {json: {state: shipped}}
    conversation:
      - bot: Order A-1 is shipped.
    expect:
      status: ended
      variables: {state: shipped, order: {matches: '^A-'}}
      requests:
        fetch:
          - method: post
            url: {contains: /orders}
            headers: {x-token: abc, content-type: application/json}
            json: {order: A-1}
  - name: none hold
    variables: {order: A-1}
    start_at: fetch
    webhooks:
      fetch: {json: {state: shipped}}
    conversation:
      - bot: Order A-1 is lost.
    expect:
      status: waiting
      variables: {state: lost, missing: 1}
      requests:
        fetch:
          - method: GET
            url: https://api.example.com/order
            headers: {X-Other: x}
            body: '{"order":"A-2"}'
          - {}
"#;
    let dir = folder(&[("order.yaml", flow), ("t.yaml", cases)]);
    let report = run(dir.path(), "t.yaml").await;
    assert!(report.cases[0].passed(), "{}", report.cases[0].explain());
    let failing = &report.cases[1];
    insta::assert_snapshot!(failing.explain(), @r#"
    the conversation differs from line 1:
         expected                | actual
    > 1  bot: Order A-1 is lost. | bot: Order A-1 is shipped.

    status: expected `waiting`, got `ended`

    variables that differ:
      state: expected "lost", got "shipped"
      missing: expected 1, got unset

    webhook `fetch` sent 1 request, the case expects 2
      POST https://api.example.com/orders

    request 1 of webhook `fetch`: method differs
      expected: GET
      actual:   POST

    request 1 of webhook `fetch`: url differs
      expected: https://api.example.com/order
      actual:   https://api.example.com/orders

    request 1 of webhook `fetch`: header `X-Other` differs
      expected: x
      actual:   (not sent)

    request 1 of webhook `fetch`: body differs
      expected: {"order":"A-2"}
      actual:   {"order":"A-1","source":"bot"}
    "#);
}

#[tokio::test]
async fn unknown_webhook_names_and_start_blocks_are_reported() {
    let cases = "flow: lookup.yaml\ncases:\n  - name: typo\n    webhooks:\n      fetcj: {json: {}}\n  - name: bad start\n    start_at: nowhere\n";
    let dir = folder(&[
        ("lookup.yaml", &lookup_flow("https://api.example.com")),
        ("t.yaml", cases),
    ]);
    let report = run(dir.path(), "t.yaml").await;
    let text = report.cases[0].explain();
    assert!(
        text.contains("`webhooks` names `fetcj`, which is not a webhook block of this bot or of the bots beside it (did you mean `fetch`?)"),
        "{text}"
    );
    let text = report.cases[1].explain();
    assert_eq!(
        text,
        "the conversation could not start: bot `lookup` has no block `nowhere` to start at"
    );
}

#[tokio::test]
async fn presets_must_name_a_variable_of_the_bot_and_fit_its_type() {
    let flow = "bot: age\nvariables:\n  age: number\nblocks:\n  say:\n    end: \"{{age}}\"\n";
    let cases = "flow: age.yaml\ncases:
  - name: a number written as text
    variables: {age: '42'}
    conversation:
      - bot: '42'
    expect:
      variables: {age: 42}
  - name: typo
    variables: {agee: 42}
  - name: not a number
    variables: {age: forty}
  - name: read only
    variables: {bot: other}
";
    let dir = folder(&[("age.yaml", flow), ("t.yaml", cases)]);
    let report = run(dir.path(), "t.yaml").await;
    assert!(report.cases[0].passed(), "{}", report.cases[0].explain());
    let typo = report.cases[1].explain();
    assert!(
        typo.starts_with(
            "`variables` presets `agee`: bot `age` never declares or assigns `agee`, so it \
             cannot read it (did you mean `age`?)\n"
        ),
        "{typo}"
    );
    assert_eq!(
        report.cases[2].explain(),
        "the conversation could not start: cannot preset `age` of bot `age`: \"forty\" is a \
         text, and `age` is a number variable"
    );
    assert_eq!(
        report.cases[3].explain(),
        "the conversation could not start: cannot preset `bot` of bot `age`: flowbot sets it \
         for every conversation"
    );
}

#[tokio::test]
async fn the_filter_runs_the_cases_whose_name_contains_it() {
    let dir = folder(&[
        ("lookup.yaml", &lookup_flow("https://api.example.com")),
        (
            "t.yaml",
            &format!("flow: lookup.yaml\ncases:{SCRIPTED_CASE}{MISSING_CASE}"),
        ),
    ]);
    let options = RunOptions {
        filter: Some("script".to_owned()),
        ..RunOptions::default()
    };
    let report = run_file(&dir.path().join("t.yaml"), &options).await;
    let names: Vec<&str> = report.cases.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(names, ["scripted"]);
}

#[test]
fn discover_finds_test_files_in_folders_and_leaves_flows_out() {
    let dir = folder(&[
        ("lookup.yaml", &lookup_flow("https://api.example.com")),
        ("t.yaml", "flow: lookup.yaml\ncases: []\n"),
    ]);
    let found = crate::discover(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(found, [dir.path().join("t.yaml")]);
    let error = crate::discover(&[PathBuf::from("no/such/folder")]).unwrap_err();
    assert_eq!(error.message, "no such file or folder: no/such/folder");
}

#[test]
fn runs_are_send_and_reports_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<SuiteReport>();
    send_sync::<crate::Suite>();
    send_sync::<RunOptions>();
}
