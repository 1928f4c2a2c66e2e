//! Transcript comparison and the side-by-side diff.

use serde_json::json;

use super::*;
use crate::matcher::TextMatch;

fn bot(text: &str) -> Line {
    Line::Bot {
        text: text.to_owned(),
        options: Vec::new(),
    }
}

fn expect_bot(text: &str) -> Expected {
    Expected::Bot {
        text: TextMatch::Exact(text.to_owned()),
        options: None,
    }
}

#[test]
fn the_same_transcript_has_no_diff() {
    let expected = [expect_bot("Hi"), Expected::User("Ada".to_owned())];
    let actual = [bot("Hi"), Line::User("Ada".to_owned())];
    assert_eq!(compare(&expected, &actual), None);
}

#[test]
fn a_diff_starts_one_line_before_the_first_difference() {
    let expected = [
        expect_bot("Welcome to the shop!"),
        expect_bot("What's your name?"),
        Expected::User("Ada".to_owned()),
        expect_bot("Ada, we have: iPhone 9, iPhone X"),
    ];
    let actual = [
        bot("Welcome to the shop!"),
        bot("What's your name?"),
        Line::User("Ada".to_owned()),
        bot("Sorry Ada, the shop is closed."),
    ];
    let diff = compare(&expected, &actual).unwrap();
    assert_eq!(diff.first, 3);
    insta::assert_snapshot!(diff.to_string(), @r"
         expected                              | actual
      3  user: Ada                             | user: Ada
    > 4  bot: Ada, we have: iPhone 9, iPhone X | bot: Sorry Ada, the shop is closed.
    ");
}

#[test]
fn a_missing_or_extra_line_shows_nothing_on_its_side() {
    let expected = [expect_bot("Hi")];
    let actual = [bot("Hi"), Line::Error("the bot ran 1000 blocks".to_owned())];
    let diff = compare(&expected, &actual).unwrap();
    insta::assert_snapshot!(diff.to_string(), @r"
         expected  | actual
      1  bot: Hi   | bot: Hi
    > 2  (nothing) | error: the bot ran 1000 blocks
    ");
}

#[test]
fn long_expected_lines_wrap() {
    let long = "x".repeat(70);
    let expected = [expect_bot(&long)];
    let actual = [bot("short")];
    let text = compare(&expected, &actual).unwrap().to_string();
    assert!(text.lines().count() >= 3, "{text}");
    assert!(
        text.lines().all(|line| line.chars().count() < 100),
        "{text}"
    );
}

#[test]
fn matchers_options_events_and_handoffs() {
    let expected = Expected::of_steps(&[
        serde_yaml::from_str("{bot: {matches: '^Which'}, options: [A, {contains: B}]}").unwrap(),
        serde_yaml::from_str("{event: {name: lead, data: {id: 7}}}").unwrap(),
        serde_yaml::from_str("{handoff: {team: sales, message: Bye}}").unwrap(),
    ]);
    let actual = [
        Line::Bot {
            text: "Which one?".to_owned(),
            options: vec!["A".to_owned(), "Big B".to_owned()],
        },
        Line::Event {
            name: "lead".to_owned(),
            data: json!({"id": 7, "email": "a@b.c"}),
        },
        bot("Bye"),
        Line::Handoff {
            team: Some("sales".to_owned()),
        },
    ];
    assert_eq!(compare(&expected, &actual), None);
}
