//! Tests of the commands: telling them from messages, and reading variable values.

use super::*;

fn shop() -> Flow {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/flows/shop.yaml")).unwrap();
    flow_core::load(&source).flow.unwrap()
}

#[test]
fn commands_and_messages_are_told_apart() {
    assert_eq!(parse("hello"), None);
    assert_eq!(parse("//not a command"), None);
    assert_eq!(parse(" /vars "), Some(Ok(Command::Vars)));
    assert_eq!(
        parse("/goto pick"),
        Some(Ok(Command::Goto("pick".to_owned())))
    );
    assert!(matches!(parse("/goto"), Some(Err(_))));
    assert!(matches!(parse("/frobnicate"), Some(Err(_))));
    assert_eq!(unescape("//not a command"), "/not a command");
}

#[test]
fn set_finds_declared_names_with_spaces() {
    let flow = shop();
    let (name, value) = parse_assignment("second category shoes", &flow).unwrap();
    assert_eq!(
        (name.as_str(), value),
        ("second category", Value::from("shoes"))
    );
    let (name, value) = parse_assignment("visits = 3", &flow).unwrap();
    assert_eq!((name.as_str(), value), ("visits", Value::from(3)));
    let (name, value) = parse_assignment("\"last user answer\" [1]", &flow).unwrap();
    assert_eq!(
        (name.as_str(), value),
        ("last user answer", serde_json::json!([1]))
    );
    // A quoted name is read whole, and then it must be one the bot uses.
    let error = parse_assignment("\"odd one\" [1]", &flow).unwrap_err();
    assert_eq!(
        error.to_string(),
        "/set `odd one`: bot `shop` never declares or assigns `odd one`, so it cannot read it \
         (declare it under the flow's `variables:` if it should)"
    );
}

#[test]
fn values_must_fit_the_declared_type() {
    let flow = shop();
    assert_eq!(
        parse_assignment("name 42", &flow).unwrap().1,
        Value::from("42")
    );
    let error = parse_assignment("titles shoes", &flow).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`titles` is declared as a list: give a JSON list such as [\"a\", \"b\"], not `shoes`"
    );
    assert!(parse_vars(&["visits=many".to_owned()], &flow).is_err());
    assert!(parse_vars(&["visits".to_owned()], &flow).is_err());
}
