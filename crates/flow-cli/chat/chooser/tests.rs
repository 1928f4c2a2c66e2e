//! Tests of the chooser: the statuses of fake outcomes, and the S18 check of a fake success.

use flow_core::flow::{BlockKind, Flow};
use flow_http::{Method, WebhookRequest};
use serde_json::json;

use super::*;

const CATALOG: &str = "\
bot: catalog
variables:
  titles: list
blocks:
  search:
    webhook:
      url: http://127.0.0.1:9/search
      save:
        - path: results
          to: titles
        - path: total
          to: total
    next: done
  done:
    end: Done.
";

/// Checks `payload` as a fake success of the catalog's `search` step.
fn check_payload(payload: &Value) -> Result<Vec<(String, Value)>, Refusal> {
    let flow: Flow = flow_core::load(CATALOG).flow.expect("the catalog loads");
    let BlockKind::Webhook(webhook) = &flow.block("search").unwrap().kind else {
        panic!("search is a webhook");
    };
    let request = WebhookRequest::new("search", Method::Get, "http://127.0.0.1:9/search");
    let call = WebhookCall {
        block_id: "search",
        request: &request,
        webhook,
        flow: &flow,
    };
    check(
        &Shape::of(&call),
        &success_response(&request.accept, payload),
    )
}

#[test]
fn a_payload_that_fits_every_save_is_accepted_with_the_values_it_stores() {
    let saves = check_payload(&json!({"results": ["a", "b"], "total": 2})).ok();
    assert_eq!(
        saves,
        Some(vec![
            ("titles".to_owned(), json!(["a", "b"])),
            ("total".to_owned(), json!(2)),
        ])
    );
}

#[test]
fn a_non_list_for_a_list_variable_is_refused_even_when_another_path_fails_first() {
    let Err(Refusal::ListType(error)) = check_payload(&json!({"results": "none", "total": 1}))
    else {
        panic!("a text for a list variable is refused");
    };
    assert_eq!(
        error.to_string(),
        "KeyError: path results gives a string, but `titles` is a list"
    );
    assert!(matches!(
        check_payload(&json!({"results": {"a": 1}})),
        Err(Refusal::ListType(_))
    ));
}

#[test]
fn another_key_error_may_be_used_anyway() {
    let Err(Refusal::Fails(error)) = check_payload(&json!({"results": []})) else {
        panic!("a missing path is not a list-type error");
    };
    assert_eq!(
        error.to_string(),
        "KeyError: no key 'total' in object at the top level (path total)"
    );
}

#[test]
fn fake_outcomes_use_a_status_the_step_accepts_or_refuses() {
    let payload = json!({});
    let default = AcceptStatus::default();
    assert_eq!(success_response(&default, &payload).status, 200);
    assert_eq!(failure_response(&default, &payload).status, 500);
    let created: AcceptStatus = "201".parse().unwrap();
    assert_eq!(success_response(&created, &payload).status, 201);
    let anything_but_4xx: AcceptStatus = "[2xx, 5xx]".parse().unwrap();
    assert_eq!(failure_response(&anything_but_4xx, &payload).status, 499);
}
