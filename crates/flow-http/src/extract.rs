//! Storing parts of a successful response: every `save` of a step, all or nothing (S12 to S15).
//!
//! Each save's path (parsed when the flow loaded) is evaluated on the response body, and the
//! value is fitted to the variable's declared type. Nothing is stored unless every save
//! succeeds, so a failed step never leaves half of its variables updated.
//!
//! A failure is a `KeyError` whose message reads, for a path that does not match,
//! `<what went wrong> (path <path>)`:
//!
//! ```text
//! KeyError: no key 'category' in object at products[1] (path products[1].category)
//! KeyError: index 5 out of range (2 items) at products (path products[5].title)
//! KeyError: no match for $.products[9]
//! ```
//!
//! and, for a value that does not fit its variable's type, "path, what it gives, and what the
//! variable is":
//!
//! ```text
//! KeyError: path products[0].title gives a string, but `titles` is a list
//! ```

use serde_json::{Number, Value};

use flow_core::flow::{Save, VarType};
use flow_core::path::{KeyErrorKind, ValueKind};
use flow_core::template::value_to_text;

use crate::error::{ErrorKind, WebhookError};

#[cfg(test)]
mod tests;

/// Applies every save of a step to a successful body; all or nothing (S15).
///
/// Returns each variable with the value to store, in the order of `saves`. A path that does not
/// match stores the save's `default` when it has one (fitted to the type like any value), and
/// otherwise fails the step. Types, by `declared_type` (`None` for an undeclared variable, which
/// takes anything):
///
/// - `list`: an array;
/// - `number`: a number, or a string that reads as a finite number (stored as a number);
/// - `text`: a string, number or boolean, stored as text (`3`, `true`); `null` stays `null`;
/// - `boolean`: a boolean, or the string `"true"` or `"false"` (any case);
/// - `object`: anything.
///
/// A `default` is only for a path that does not match: a value that is there but of the wrong
/// type is an error, since storing the default would hide that the service changed its answer.
///
/// The error is a `KeyError` carrying `body`; the caller adds the response status.
pub fn extract(
    saves: &[Save],
    body: &Value,
    declared_type: &dyn Fn(&str) -> Option<VarType>,
) -> Result<Vec<(String, Value)>, WebhookError> {
    saves
        .iter()
        .map(|save| {
            extract_one(save, body, declared_type(&save.to))
                .map(|value| (save.to.clone(), value))
                .map_err(|message| {
                    let mut error = WebhookError::new(ErrorKind::KeyError, message);
                    error.body = Some(body.clone());
                    error
                })
        })
        .collect()
}

/// The value one save stores, or the message of its `KeyError`.
fn extract_one(save: &Save, body: &Value, var_type: Option<VarType>) -> Result<Value, String> {
    let path = save.path.as_str();
    let found = match (save.path.evaluate(body), &save.default) {
        (Ok(value), _) => value,
        (Err(_), Some(default)) => {
            return fit(default.clone(), var_type).map_err(|found| {
                mismatch(
                    &format!("the default of path {path}"),
                    found,
                    &save.to,
                    var_type,
                )
            });
        }
        (Err(key_error), None) => {
            return Err(match key_error.kind() {
                // That message already names the path.
                KeyErrorKind::NoMatch => key_error.to_string(),
                _ => format!("{key_error} (path {path})"),
            });
        }
    };
    fit(found, var_type)
        .map_err(|found| mismatch(&format!("path {path}"), found, &save.to, var_type))
}

fn mismatch(what: &str, found: ValueKind, variable: &str, var_type: Option<VarType>) -> String {
    let wanted = match var_type {
        Some(VarType::List) => "a list",
        Some(VarType::Number) => "a number",
        Some(VarType::Boolean) => "a boolean",
        Some(VarType::Text) => "text",
        Some(VarType::Object) | None => "anything",
    };
    let found = match (found, var_type) {
        // "gives a string" alone would puzzle: strings are taken when they read as numbers.
        (ValueKind::String, Some(VarType::Number)) => "a string that is not a number".to_owned(),
        (ValueKind::String, Some(VarType::Boolean)) => {
            "a string other than \"true\" or \"false\"".to_owned()
        }
        (found, _) => found.to_string(),
    };
    format!("{what} gives {found}, but `{variable}` is {wanted}")
}

/// `value` converted for a variable of `var_type`, or the kind of value that does not fit.
fn fit(value: Value, var_type: Option<VarType>) -> Result<Value, ValueKind> {
    let kind = ValueKind::of(&value);
    let fitted = match (var_type, value) {
        (None | Some(VarType::Object), value) => Some(value),
        (Some(VarType::List), value @ Value::Array(_)) => Some(value),
        (Some(VarType::Number), value @ Value::Number(_)) => Some(value),
        (Some(VarType::Number), Value::String(text)) => number_from_text(&text).map(Value::Number),
        (Some(VarType::Text), value @ (Value::Null | Value::String(_))) => Some(value),
        (Some(VarType::Text), value @ (Value::Number(_) | Value::Bool(_))) => {
            Some(Value::String(value_to_text(&value)))
        }
        (Some(VarType::Boolean), value @ Value::Bool(_)) => Some(value),
        (Some(VarType::Boolean), Value::String(text)) => {
            let text = text.trim();
            if text.eq_ignore_ascii_case("true") {
                Some(Value::Bool(true))
            } else if text.eq_ignore_ascii_case("false") {
                Some(Value::Bool(false))
            } else {
                None
            }
        }
        _ => None,
    };
    fitted.ok_or(kind)
}

/// A number written as text (`"42"`, `" -3.5 "`, `"1e3"`): whole numbers stay whole; `NaN`,
/// infinities and anything else are not numbers.
fn number_from_text(text: &str) -> Option<Number> {
    let text = text.trim();
    if let Ok(whole) = text.parse::<i64>() {
        return Some(whole.into());
    }
    if let Ok(whole) = text.parse::<u64>() {
        return Some(whole.into());
    }
    // Rust reads "inf" and "NaN" as floats; a payload's "NaN" is not a number to store.
    let looks_numeric = text
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !looks_numeric {
        return None;
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}
