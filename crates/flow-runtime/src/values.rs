//! How the runtime reads values: templates to values, text and number rules, declared types.
//!
//! These rules are shared by conditions, answers and `set`, so that "10" is a number and
//! " Yes " equals "yes" the same way everywhere.

use std::borrow::Cow;

use flow_core::flow::{ValueTemplate, VarType};
use flow_core::template::{value_to_text, Part, Template};
use flow_http::ErrorKind;
use serde_json::{Map, Number, Value};

#[cfg(test)]
mod tests;

/// A variable lookup, as templates take it.
pub(crate) use flow_core::template::Lookup;

/// Renders a value template: a string that is exactly one placeholder keeps the value's type
/// (`null` when unset), any other string renders as text.
pub(crate) fn render_value(template: &ValueTemplate, lookup: Lookup) -> Value {
    match template {
        ValueTemplate::Literal(value) => value.clone(),
        ValueTemplate::Text(text) => render_typed(text, lookup),
        ValueTemplate::List(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, lookup))
                .collect(),
        ),
        ValueTemplate::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(key, value)| (key.clone(), render_value(value, lookup)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// A template as a value: one placeholder keeps its type, anything else is text.
pub(crate) fn render_typed(template: &Template, lookup: Lookup) -> Value {
    match template.single_placeholder() {
        Some(Part::Variable(variable)) => variable
            .resolve(lookup)
            .map_or(Value::Null, Cow::into_owned),
        // Secrets only render inside webhook requests; flow validation keeps them out of here.
        Some(Part::Secret(_)) => Value::Null,
        _ => Value::String(template.render_text(lookup)),
    }
}

/// The number a value reads as: a JSON number, or a text that is one (surrounding spaces
/// ignored). Infinite and NaN readings do not count.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => parse_number(text),
        _ => None,
    }
}

/// Reads a text as a number: `42`, `-3.5`, `+1e3`; `None` for anything else.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    // Rust also reads `inf` and `NaN`; a bot user typing them did not mean a number.
    let plausible = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if text.is_empty() || !plausible {
        return None;
    }
    text.parse::<f64>().ok().filter(|number| number.is_finite())
}

/// A JSON number for `number`: an integer when it is whole and fits, else a float; `None` when
/// it is not finite.
pub(crate) fn number_value(number: f64) -> Option<Value> {
    if !number.is_finite() {
        return None;
    }
    // Below 2^53 every whole float is exact, so the integer form loses nothing.
    if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        return Some(Value::Number(Number::from(number as i64)));
    }
    Number::from_f64(number).map(Value::Number)
}

/// Whether `value` is a webhook failure as a failure variable holds it: an object with a string
/// `type` that is one of the six error types and a string `message`.
pub(crate) fn is_failure(value: &Value) -> bool {
    let kind = value.get("type").and_then(Value::as_str);
    let has_message = value.get("message").is_some_and(Value::is_string);
    has_message && kind.is_some_and(|kind| kind.parse::<ErrorKind>().is_ok())
}

/// The text of a value for text comparisons: as templates write it, then trimmed and lowercased
/// unless `case_sensitive`.
pub(crate) fn comparable_text(value: &Value, case_sensitive: bool) -> String {
    let text = value_to_text(value);
    normalize(&text, case_sensitive)
}

/// `text` trimmed and lowercased, or as is when `case_sensitive`.
pub(crate) fn normalize(text: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        text.to_owned()
    } else {
        text.trim().to_lowercase()
    }
}

/// Whether two values are equal by the condition rules: as numbers when both read as numbers,
/// item by item for two lists, else as text (ignoring case and surrounding spaces unless
/// `case_sensitive`).
pub(crate) fn loosely_equal(left: &Value, right: &Value, case_sensitive: bool) -> bool {
    if let (Some(left), Some(right)) = (as_number(left), as_number(right)) {
        return left == right;
    }
    if let (Value::Array(left), Value::Array(right)) = (left, right) {
        return left.len() == right.len()
            && left
                .iter()
                .zip(right)
                .all(|(l, r)| loosely_equal(l, r, case_sensitive));
    }
    comparable_text(left, case_sensitive) == comparable_text(right, case_sensitive)
}

/// Why a value cannot go into a typed variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeMismatch {
    /// The declared type.
    pub(crate) expected: VarType,
    /// What the value is, as messages name it ("a list").
    pub(crate) found: &'static str,
}

impl TypeMismatch {
    /// "a list does not fit a number variable".
    pub(crate) fn describe(&self) -> String {
        format!(
            "{} does not fit a {} variable",
            self.found,
            self.expected.name()
        )
    }
}

/// The kind of a value as messages name it.
pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// `value` converted to the declared type, or why it does not fit (used by `set`).
///
/// - `text`: numbers, booleans and lists become their text; objects stay (a failure value keeps
///   its fields for paths and reads as its message);
/// - `number`: a number, or a text that reads as one;
/// - `boolean`: `true`/`false`, or the texts `true`/`false` in any case;
/// - `list`: a list only; `object` and undeclared: anything.
///
/// `null` always fits: it unsets the variable.
pub(crate) fn coerce(value: Value, var_type: Option<VarType>) -> Result<Value, TypeMismatch> {
    convert(value, var_type).map_err(|value| TypeMismatch {
        expected: var_type.unwrap_or(VarType::Object),
        found: kind_name(&value),
    })
}

/// `value` converted to the declared type where it converts, else kept as it is (used for
/// answers, webhook saves and jump values, which have their own checks).
pub(crate) fn coerce_lenient(value: Value, var_type: Option<VarType>) -> Value {
    convert(value, var_type).unwrap_or_else(|value| value)
}

/// The conversion of [`coerce`]; a value that does not fit comes back as the error, unchanged,
/// so that nothing is copied to keep it.
pub(crate) fn convert(value: Value, var_type: Option<VarType>) -> Result<Value, Value> {
    let Some(var_type) = var_type else {
        return Ok(value);
    };
    if value.is_null() {
        return Ok(value);
    }
    match var_type {
        VarType::Text => Ok(match value {
            Value::Object(_) | Value::String(_) => value,
            other => Value::String(value_to_text(&other)),
        }),
        VarType::Number => match &value {
            Value::Number(_) => Ok(value),
            _ => as_number(&value).and_then(number_value).ok_or(value),
        },
        VarType::Boolean => match &value {
            Value::Bool(_) => Ok(value),
            Value::String(text) if text.trim().eq_ignore_ascii_case("true") => {
                Ok(Value::Bool(true))
            }
            Value::String(text) if text.trim().eq_ignore_ascii_case("false") => {
                Ok(Value::Bool(false))
            }
            _ => Err(value),
        },
        VarType::List => match value {
            Value::Array(_) => Ok(value),
            _ => Err(value),
        },
        VarType::Object => Ok(value),
    }
}
