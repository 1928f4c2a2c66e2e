//! Tests of conditions: every operator, `is`, combinations, paths, templates and case.

use std::borrow::Cow;
use std::collections::HashMap;

use flow_core::flow::{BlockKind, Condition};
use serde_json::{json, Value};

use super::holds;
use crate::tests::support::flow;

/// Whether the condition written as YAML `condition` holds with `variables`.
fn check(condition: &str, variables: &Value) -> bool {
    let source = format!(
        "bot: c\nblocks:\n  test:\n    choice:\n      - if: {condition}\n        next: yes\n      - else: no\n  yes:\n    end: {{}}\n  no:\n    end: {{}}\n"
    );
    let flow = flow(&source);
    let BlockKind::Choice(choice) = &flow.block("test").unwrap().kind else {
        panic!("a choice");
    };
    let condition: &Condition = &choice.branches[0].condition;
    let variables: HashMap<String, Value> = serde_json::from_value(variables.clone()).unwrap();
    holds(condition, &|name| variables.get(name).map(Cow::Borrowed))
}

#[test]
fn equals_ignores_case_and_spaces_unless_case_sensitive() {
    let vars = json!({"answer": "  Yes "});
    assert!(check("{var: answer, equals: yes}", &vars));
    assert!(!check(
        "{var: answer, equals: yes, case_sensitive: true}",
        &vars
    ));
    assert!(check(
        "{var: answer, equals: \"  Yes \", case_sensitive: true}",
        &vars
    ));
    assert!(check("{var: answer, not_equals: no}", &vars));
    // Without `var`, the condition tests the last user answer.
    assert!(check(
        "{equals: hello}",
        &json!({"last user answer": "HELLO"})
    ));
}

#[test]
fn numbers_compare_as_numbers_even_written_as_text() {
    let vars = json!({"count": "10", "price": 9.5, "word": "ten"});
    assert!(check("{var: count, greater_than: 9}", &vars));
    assert!(check("{var: count, equals: 10.0}", &vars));
    assert!(check("{var: price, less_than: \"10\"}", &vars));
    assert!(check("{var: price, at_least: 9.5}", &vars));
    assert!(check("{var: price, at_most: 9.5}", &vars));
    assert!(!check("{var: word, greater_than: 1}", &vars));
    assert!(!check("{var: nothing, less_than: 1}", &vars));
}

#[test]
fn contains_looks_in_text_and_in_lists() {
    let vars = json!({"sentence": "I want a Refund", "tags": ["vip", "new"]});
    assert!(check("{var: sentence, contains: refund}", &vars));
    assert!(check("{var: sentence, not_contains: cancel}", &vars));
    assert!(check("{var: tags, contains: VIP}", &vars));
    assert!(!check("{var: tags, contains: vi}", &vars));
    assert!(!check("{var: nothing, contains: x}", &vars));
    assert!(check("{var: sentence, starts_with: i want}", &vars));
    assert!(check("{var: sentence, ends_with: REFUND}", &vars));
}

#[test]
fn matches_uses_the_regex_compiled_at_load_or_rendered_now() {
    let vars = json!({"order": "a-1234", "pattern": "^B-"});
    assert!(check("{var: order, matches: '^A-\\d{4}$'}", &vars));
    assert!(!check(
        "{var: order, matches: '^A-\\d{4}$', case_sensitive: true}",
        &vars
    ));
    assert!(!check("{var: order, matches: \"{{pattern}}\"}", &vars));
    assert!(check(
        "{var: order, matches: \"{{pattern}}\"}",
        &json!({"order": "b-1", "pattern": "^B-"})
    ));
    // A rendered pattern that does not compile matches nothing.
    assert!(!check(
        "{var: order, matches: \"{{pattern}}\"}",
        &json!({"order": "x", "pattern": "("})
    ));
}

#[test]
fn one_of_takes_a_list_or_a_list_variable() {
    let vars = json!({"state": "In Transit", "allowed": ["shipped", "in transit"], "single": "in transit"});
    assert!(check("{var: state, one_of: [shipped, in transit]}", &vars));
    assert!(check("{var: state, one_of: \"{{allowed}}\"}", &vars));
    assert!(check("{var: state, one_of: \"{{single}}\"}", &vars));
    assert!(!check("{var: state, one_of: \"{{unset}}\"}", &vars));
}

#[test]
fn is_checks_message_number_set_and_empty() {
    let failure =
        json!({"type": "Timeout", "message": "request timed out", "status": null, "body": null});
    let vars = json!({"failure": failure, "text": "hi", "blank": "  ", "zero": 0, "numeric": "12", "list": [], "object": {}});
    assert!(check("{var: failure, is: message}", &vars));
    assert!(check("{var: text, is: message}", &vars));
    assert!(!check("{var: blank, is: message}", &vars));
    assert!(!check("{var: zero, is: message}", &vars));
    assert!(!check("{var: unset, is: message}", &vars));
    assert!(check("{var: zero, is: number}", &vars));
    assert!(check("{var: numeric, is: number}", &vars));
    assert!(!check("{var: text, is: number}", &vars));
    assert!(check("{var: zero, is: set}", &vars));
    assert!(!check("{var: unset, is: set}", &vars));
    for empty in ["unset", "blank", "list", "object"] {
        assert!(
            check(&format!("{{var: {empty}, is: empty}}"), &vars),
            "{empty}"
        );
    }
    assert!(!check("{var: zero, is: empty}", &vars));
}

#[test]
fn a_path_that_does_not_match_counts_as_unset() {
    let vars = json!({"failure": {"type": "BadResponse", "message": "m", "status": 404}});
    assert!(check("{var: failure.status, equals: 404}", &vars));
    assert!(check("{var: failure.status, at_least: 400}", &vars));
    assert!(check("{var: failure.nope, is: empty}", &vars));
    assert!(!check("{var: failure.nope, is: set}", &vars));
    assert!(!check("{var: \"failure[3]\", equals: x}", &vars));
}

#[test]
fn all_any_and_not_combine_conditions() {
    let vars = json!({"state": "processing", "eta": "Monday"});
    assert!(check(
        "{all: [{var: state, equals: processing}, {not: {var: eta, is: empty}}]}",
        &vars
    ));
    assert!(!check(
        "{all: [{var: state, equals: processing}, {var: eta, is: empty}]}",
        &vars
    ));
    assert!(check(
        "{any: [{var: state, equals: shipped}, {var: state, equals: processing}]}",
        &vars
    ));
    assert!(!check(
        "{any: [{var: state, equals: shipped}, {var: eta, is: empty}]}",
        &vars
    ));
    assert!(check("{not: {var: state, equals: shipped}}", &vars));
}

#[test]
fn operands_may_be_templates() {
    let vars = json!({"guess": "7", "secret number": 7, "name": "Ada"});
    assert!(check("{var: guess, equals: \"{{secret number}}\"}", &vars));
    assert!(check("{var: name, equals: \"{{name}}\"}", &vars));
    assert!(check(
        "{var: guess, equals: \"{{secret number}}\", case_sensitive: true}",
        &vars
    ));
}
