//! How a JSON value reads as text when a template inserts it.

use serde_json::{Number, Value};

/// The text a template inserts for `value`.
///
/// - numbers in their shortest form: `3` (not `3.0`), `0.5`, `1e+21` (as JavaScript prints them);
/// - strings as they are, booleans as `true` / `false`;
/// - lists joined with `, `, each item by these rules;
/// - a webhook failure (an object with a string `type` that is one of the six error types and a
///   string `message`, as a failure variable holds it) as `<type>: <message>`, as S11 and S16
///   word it: `BadResponse: Invalid response status: 404`;
/// - other objects as compact JSON;
/// - `null` as nothing (like an unset variable).
pub fn value_to_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        _ => {
            let mut text = String::new();
            push_value_text(&mut text, value);
            text
        }
    }
}

/// Appends the text a template inserts for `value` (see [`value_to_text`]) to `text`, without
/// making a string of it first.
pub fn push_value_text(text: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(flag) => text.push_str(if *flag { "true" } else { "false" }),
        Value::Number(number) => text.push_str(&number_to_text(number)),
        Value::String(string) => text.push_str(string),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    text.push_str(", ");
                }
                push_value_text(text, item);
            }
        }
        Value::Object(_) => match failure_parts(value) {
            Some((kind, message)) => {
                text.push_str(kind);
                text.push_str(": ");
                text.push_str(message);
            }
            None => text.push_str(&value.to_string()),
        },
    }
}

/// The error types a webhook failure may have, as the flow format names them (S11).
const FAILURE_TYPES: [&str; 6] = [
    "MissingParameter",
    "BadRequest",
    "BadResponse",
    "KeyError",
    "Timeout",
    "ConnectionError",
];

/// The type and the message of a webhook failure value, `None` for any other value.
fn failure_parts(value: &Value) -> Option<(&str, &str)> {
    let kind = value.get("type")?.as_str()?;
    let message = value.get("message")?.as_str()?;
    FAILURE_TYPES.contains(&kind).then_some((kind, message))
}

fn number_to_text(number: &Number) -> String {
    if number.is_i64() || number.is_u64() {
        return number.to_string();
    }
    number
        .as_f64()
        .map_or_else(|| number.to_string(), float_to_text)
}

/// Formats a float like JavaScript's `Number.prototype.toString`: the shortest digits that
/// read back as the same float, in plain notation from 1e-6 up to 1e21, else with an exponent.
fn float_to_text(float: f64) -> String {
    if float == 0.0 {
        // Also catches -0.0, which would otherwise print as `-0`.
        return "0".to_owned();
    }
    let magnitude = float.abs();
    if (1e-6..1e21).contains(&magnitude) {
        // Rust's `Display` for floats prints the shortest round-trip digits, never an exponent.
        return float.to_string();
    }
    let exponent_form = format!("{float:e}");
    match exponent_form.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') => {
            format!("{mantissa}e+{exponent}")
        }
        _ => exponent_form,
    }
}
