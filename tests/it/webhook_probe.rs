//! `flowbot webhook`, the "Test the URL" of S10, against stub servers on 127.0.0.1.

use std::path::Path;
use std::process::Command;

use crate::support::{flowbot, scratch, shop_copy, text, ShopServer};

/// `flowbot webhook FLOW fetch_products ARGS...`, ready to run.
fn probe(flow: &Path, args: &[&str]) -> Command {
    let mut command = flowbot();
    command
        .args(["webhook", flow.to_str().unwrap(), "fetch_products"])
        .args(args);
    command
}

/// Runs `command`, checks that it exits with `code`, and gives its standard output.
fn stdout_of(command: &mut Command, code: i32) -> String {
    let output = command.output().unwrap();
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{stdout}{}",
        text(&output.stderr)
    );
    stdout
}

#[test]
fn a_success_shows_the_request_the_response_each_save_and_the_paths() {
    let server = ShopServer::start();
    let dir = scratch("probe-success");
    let flow = shop_copy(&dir, &server.url("/products"), true);
    let saved = dir.join("fetch_products.yaml");
    let stdout = stdout_of(
        probe(
            &flow,
            &["--var", "name=Ada", "--save", saved.to_str().unwrap()],
        )
        .env("FLOWBOT_SECRET_SHOP_TOKEN", "s3cr3t-token"),
        0,
    );
    // The request went out once, with the secret, and is shown with the secret hidden.
    let hits = server.hits();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].uri, "/products?user=Ada");
    assert_eq!(
        hits[0].authorization.as_deref(),
        Some("Bearer s3cr3t-token")
    );
    assert!(!stdout.contains("s3cr3t-token"), "{stdout}");
    assert!(stdout.contains("  Authorization: Bearer ***\n"), "{stdout}");
    let request = format!("request\n  GET {}/products?user=Ada\n", server.base);
    assert!(stdout.starts_with(&request), "{stdout}");
    assert!(stdout.contains("response\n  status 200 in "), "{stdout}");
    assert!(
        stdout.contains("  content-type: application/json\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("body\n  {\n    \"products\": [\n"),
        "{stdout}"
    );
    let saves = "saves\n  \
        titles (list) ← products.flatMap(item => item.title)\n    = [\"iPhone 9\",\"iPhone X\"]\n  \
        second category (text) ← products[1].category\n    = \"smartphones\"\n";
    assert!(stdout.contains(saves), "{stdout}");
    assert!(
        stdout.contains("outcome\n  success: the step stores titles, second category\n"),
        "{stdout}"
    );
    assert!(stdout.contains("\npaths\n"), "{stdout}");
    let suggestion = stdout.lines().any(|line| {
        line.trim_start()
            .strip_prefix("products.flatMap(item => item.title) ")
            .is_some_and(|preview| preview.trim() == "[\"iPhone 9\",\"iPhone X\"]")
    });
    assert!(suggestion, "{stdout}");
    // The saved outcome is one a conversation test reads.
    let saved = std::fs::read_to_string(saved).unwrap();
    let outcome: flow_test::spec::Outcome = serde_yaml::from_str(&saved).unwrap();
    let flow_test::spec::Outcome::Response { status, body, .. } = outcome else {
        panic!("not a response: {saved}");
    };
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["products"][1]["title"], "iPhone X");
}

#[test]
fn a_path_that_does_not_match_is_a_key_error_and_nothing_is_saved() {
    let server = ShopServer::start();
    let dir = scratch("probe-key-error");
    let flow = shop_copy(&dir, &server.url("/one-product"), false);
    let stdout = stdout_of(&mut probe(&flow, &["--var", "name=Ada"]), 1);
    // Each save is shown on its own: the first works, the second does not.
    assert!(stdout.contains("    = [\"iPhone 9\"]\n"), "{stdout}");
    assert!(
        stdout.contains(
            "  second category (text) ← products[1].category\n    \
             KeyError: index 1 out of range (1 item) at products (path products[1].category)\n"
        ),
        "{stdout}"
    );
    // The step as a whole fails: all or nothing (S15).
    assert!(
        stdout.contains(
            "outcome\n  KeyError: index 1 out of range (1 item) at products (path products[1].category)\n  \
             nothing is saved; the error goes into `shop failure`\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("  products[0].title"), "{stdout}");
}

#[test]
fn a_status_other_than_success_is_a_bad_response_with_its_body() {
    let server = ShopServer::start();
    let dir = scratch("probe-bad-response");
    let flow = shop_copy(&dir, &server.url("/down"), false);
    let saved = dir.join("down.yaml");
    let stdout = stdout_of(
        &mut probe(
            &flow,
            &["--var", "name=Ada", "--save", saved.to_str().unwrap()],
        ),
        1,
    );
    assert!(stdout.contains("response\n  status 500 in "), "{stdout}");
    assert!(
        stdout.contains("body\n  {\n    \"error\": \"down\"\n  }\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("saves\n  BadResponse: Invalid response status: 500\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("outcome\n  BadResponse: Invalid response status: 500\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("\npaths\n"), "{stdout}");
    let saved = std::fs::read_to_string(saved).unwrap();
    assert!(
        saved.contains("status: 500\njson:\n  error: down\n"),
        "{saved}"
    );
    serde_yaml::from_str::<flow_test::spec::Outcome>(&saved).unwrap();
}

#[test]
fn a_request_missing_a_variable_is_not_sent() {
    let server = ShopServer::start();
    let dir = scratch("probe-missing-variable");
    let flow = shop_copy(&dir, &server.url("/products"), false);
    let stdout = stdout_of(&mut probe(&flow, &[]), 1);
    assert!(
        stdout.contains("BadRequest: variable `name` is not set"),
        "{stdout}"
    );
    assert!(server.hits().is_empty());
}

#[test]
fn a_block_that_is_not_a_webhook_step_is_a_usage_error() {
    let output = flowbot()
        .args(["webhook", "flows/shop.yaml", "fetch_product"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: bot `shop` has no block `fetch_product` (did you mean `fetch_products`? \
         its webhook steps: fetch_products)\n"
    );
    let output = flowbot()
        .args(["webhook", "flows/shop.yaml", "welcome"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("is a message block, not a webhook"));
}

#[test]
fn long_bodies_and_path_lists_are_shortened_unless_full() {
    let server = ShopServer::start();
    let dir = scratch("probe-long");
    let flow = shop_copy(&dir, &server.url("/many"), false);
    let short = text(
        &probe(&flow, &["--var", "name=Ada"])
            .output()
            .unwrap()
            .stdout,
    );
    // 100 products of 4 lines each, plus four lines around them: 404 lines, 60 shown.
    assert!(
        short.contains("  … 344 more lines (--full shows them)\n"),
        "{short}"
    );
    assert!(!short.contains("product 99"), "{short}");
    let full = text(
        &probe(&flow, &["--var", "name=Ada", "--full"])
            .output()
            .unwrap()
            .stdout,
    );
    assert!(!full.contains("more lines"), "{full}");
    assert!(full.contains("\"title\": \"product 99\""), "{full}");
    // The path list is short anyway: arrays are suggested by their first element.
    assert!(
        full.contains("products.flatMap(item => item.title)"),
        "{full}"
    );
}
