//! Tests of the value rules: numbers, text comparison, declared types, value templates.

use flow_core::flow::VarType;
use serde_json::{json, Value};

use super::{as_number, coerce, is_failure, loosely_equal, number_value, parse_number};

#[test]
fn numbers_are_read_from_numbers_and_numeric_text_only() {
    assert_eq!(parse_number(" 42 "), Some(42.0));
    assert_eq!(parse_number("-3.5"), Some(-3.5));
    assert_eq!(parse_number("+1e3"), Some(1000.0));
    for not_a_number in [
        "",
        "abc",
        "inf",
        "NaN",
        "infinity",
        "1,5",
        "12 apples",
        "1e999",
    ] {
        assert_eq!(parse_number(not_a_number), None, "{not_a_number}");
    }
    assert_eq!(as_number(&json!("10")), Some(10.0));
    assert_eq!(as_number(&json!(true)), None);
    assert_eq!(as_number(&json!([1])), None);
}

#[test]
fn whole_numbers_are_stored_as_integers() {
    assert_eq!(number_value(3.0), Some(json!(3)));
    assert_eq!(number_value(-0.0), Some(json!(0)));
    assert_eq!(number_value(2.5), Some(json!(2.5)));
    assert_eq!(number_value(f64::INFINITY), None);
}

#[test]
fn equality_compares_numbers_as_numbers_and_text_loosely() {
    assert!(loosely_equal(&json!("10"), &json!(10.0), false));
    assert!(loosely_equal(&json!(" Yes "), &json!("yes"), false));
    assert!(!loosely_equal(&json!(" Yes "), &json!("yes"), true));
    assert!(loosely_equal(&json!(["A", 1]), &json!(["a", "1"]), false));
    assert!(!loosely_equal(&json!(["a"]), &json!(["a", "b"]), false));
    assert!(loosely_equal(&json!(true), &json!("TRUE"), false));
    assert!(loosely_equal(&Value::Null, &json!(""), false));
}

#[test]
fn a_failure_value_is_recognised_by_its_type_and_message() {
    assert!(is_failure(
        &json!({"type": "Timeout", "message": "late", "status": null, "body": null})
    ));
    assert!(!is_failure(&json!({"type": "Late", "message": "late"})));
    assert!(!is_failure(&json!({"type": "Timeout"})));
    assert!(!is_failure(&json!("Timeout")));
}

#[test]
fn declared_types_convert_what_they_can_and_refuse_the_rest() {
    let text = Some(VarType::Text);
    assert_eq!(coerce(json!(3), text), Ok(json!("3")));
    assert_eq!(coerce(json!(["a", "b"]), text), Ok(json!("a, b")));
    let failure = json!({"type": "Timeout", "message": "late"});
    assert_eq!(coerce(failure.clone(), text), Ok(failure));

    let number = Some(VarType::Number);
    assert_eq!(coerce(json!(" 12 "), number), Ok(json!(12)));
    assert_eq!(
        coerce(json!("twelve"), number).unwrap_err().describe(),
        "a text does not fit a number variable"
    );

    let boolean = Some(VarType::Boolean);
    assert_eq!(coerce(json!("True"), boolean), Ok(json!(true)));
    assert!(coerce(json!(1), boolean).is_err());

    let list = Some(VarType::List);
    assert_eq!(coerce(json!([1]), list), Ok(json!([1])));
    assert_eq!(
        coerce(json!("a"), list).unwrap_err().describe(),
        "a text does not fit a list variable"
    );

    assert_eq!(coerce(Value::Null, list), Ok(Value::Null));
    assert_eq!(
        coerce(json!({"any": 1}), Some(VarType::Object)),
        Ok(json!({"any": 1}))
    );
    assert_eq!(coerce(json!({"any": 1}), None), Ok(json!({"any": 1})));
}
