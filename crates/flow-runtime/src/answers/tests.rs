//! Tests of answer checking: every `expect`, options by text and number, default retry lines.

use std::borrow::Cow;

use flow_core::flow::{BlockKind, Question};
use serde_json::{json, Value};

use super::{default_retry, judge, offered_options};
use crate::tests::support::flow;

/// The question of a one-block bot whose question block has `keys` beside `question: Q?`.
fn question(keys: &str) -> Question {
    let source = format!("bot: q\nblocks:\n  ask:\n    question: Q?\n{keys}\n    next: done\n  done:\n    end: {{}}\n");
    let flow = flow(&source);
    let BlockKind::Question(question) = &flow.block("ask").unwrap().kind else {
        panic!("a question");
    };
    question.clone()
}

fn answer(question: &Question, options: &[&str], text: &str) -> Option<Value> {
    let options: Vec<Cow<str>> = options
        .iter()
        .map(|option| Cow::Borrowed(*option))
        .collect();
    judge(question, &options, text)
}

#[test]
fn options_match_by_text_or_by_number_and_store_the_option_as_written() {
    let q = question("    options: [Delivery times, Returns]");
    let options = ["Delivery times", "Returns"];
    assert_eq!(
        answer(&q, &options, "  delivery TIMES "),
        Some(json!("Delivery times"))
    );
    assert_eq!(answer(&q, &options, "2"), Some(json!("Returns")));
    assert_eq!(answer(&q, &options, "3"), None);
    assert_eq!(answer(&q, &options, "0"), None);
    assert_eq!(answer(&q, &options, "refunds"), None);
    assert_eq!(
        default_retry(&q, &offered_options(&q, &|_| None)),
        "Please pick one of: Delivery times, Returns."
    );
}

#[test]
fn options_may_come_from_a_list_variable() {
    let q = question("    options: \"{{titles}}\"");
    let lookup =
        |name: &str| (name == "titles").then(|| Cow::Owned(json!(["iPhone 9", "iPhone X"])));
    assert_eq!(offered_options(&q, &lookup), ["iPhone 9", "iPhone X"]);
    // With nothing to offer, any answer goes rather than trapping the user.
    assert_eq!(offered_options(&q, &|_| None), Vec::<String>::new());
    assert_eq!(answer(&q, &[], "anything"), Some(json!("anything")));
}

#[test]
fn a_free_text_question_with_options_takes_the_option_or_any_text() {
    let q = question("    options: [Pricing]\n    expect: text");
    assert_eq!(answer(&q, &["Pricing"], "pricing"), Some(json!("Pricing")));
    assert_eq!(answer(&q, &["Pricing"], "1"), Some(json!("1")));
    assert_eq!(
        answer(&q, &["Pricing"], "something else"),
        Some(json!("something else"))
    );
}

#[test]
fn text_numbers_emails_phones_and_patterns_are_checked() {
    let text = question("    expect: text");
    assert_eq!(answer(&text, &[], " Ada "), Some(json!("Ada")));
    assert_eq!(answer(&text, &[], "   "), None);

    let number = question("    expect: number");
    assert_eq!(answer(&number, &[], "42"), Some(json!(42)));
    assert_eq!(answer(&number, &[], "-2.5"), Some(json!(-2.5)));
    assert_eq!(answer(&number, &[], "many"), None);

    let email = question("    expect: email");
    assert_eq!(
        answer(&email, &[], "ada@example.com"),
        Some(json!("ada@example.com"))
    );
    for bad in [
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a da@example.com",
        "a@b@c.com",
        "ada@example..com",
    ] {
        assert_eq!(answer(&email, &[], bad), None, "{bad}");
    }

    let phone = question("    expect: phone");
    assert_eq!(
        answer(&phone, &[], "+33 (0)6 12-34.56.78"),
        Some(json!("+33 (0)6 12-34.56.78"))
    );
    assert_eq!(answer(&phone, &[], "12345"), None);
    assert_eq!(answer(&phone, &[], "call me"), None);

    let regex = question("    expect: regex\n    pattern: '^A-\\d{4}$'");
    assert_eq!(answer(&regex, &[], " A-1234 "), Some(json!("A-1234")));
    assert_eq!(answer(&regex, &[], "A-12"), None);
}
