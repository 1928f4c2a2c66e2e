//! Matchers: exact text, `{matches: regex}`, `{contains: text}`, and JSON values by subset.

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use flow_core::template::value_to_text;

/// How an expected text is compared with the actual one.
#[derive(Debug, Clone)]
pub enum TextMatch {
    /// Exactly this text.
    Exact(String),
    /// Text the regex finds a match in.
    Matches(Regex),
    /// Text that contains this.
    Contains(String),
}

impl PartialEq for TextMatch {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl TextMatch {
    /// True when `actual` satisfies this matcher.
    pub fn matches(&self, actual: &str) -> bool {
        match self {
            TextMatch::Exact(text) => text == actual,
            TextMatch::Matches(regex) => regex.is_match(actual),
            TextMatch::Contains(text) => actual.contains(text.as_str()),
        }
    }

    /// Reads a matcher from a JSON value: a scalar is exact text, `{matches}` or `{contains}` loosen it.
    pub fn from_value(value: Value) -> Result<TextMatch, String> {
        match matcher_of(&value) {
            Some(result) => result,
            None => match value {
                Value::String(text) => Ok(TextMatch::Exact(text)),
                Value::Number(_) | Value::Bool(_) => Ok(TextMatch::Exact(value.to_string())),
                other => Err(format!(
                    "expected text, `{{matches: regex}}` or `{{contains: text}}`, found {other}"
                )),
            },
        }
    }
}

/// `Some` when `value` is a one-key `{matches: ...}` or `{contains: ...}` mapping.
fn matcher_of(value: &Value) -> Option<Result<TextMatch, String>> {
    let fields = value.as_object().filter(|fields| fields.len() == 1)?;
    let (key, argument) = fields.iter().next()?;
    let argument = argument.as_str()?;
    match key.as_str() {
        "matches" => Some(
            Regex::new(argument)
                .map(TextMatch::Matches)
                .map_err(|error| format!("invalid regex in `matches`: {error}")),
        ),
        "contains" => Some(Ok(TextMatch::Contains(argument.to_owned()))),
        _ => None,
    }
}

impl<'de> Deserialize<'de> for TextMatch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TextMatch::from_value(Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TextMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextMatch::Exact(text) => f.write_str(text),
            TextMatch::Matches(regex) => write!(f, "{{matches: {}}}", regex.as_str()),
            TextMatch::Contains(text) => write!(f, "{{contains: {text}}}"),
        }
    }
}

/// True when `actual` satisfies `expected`: objects by subset, lists element by element,
/// `{matches}`/`{contains}` on text, numbers by value, text against a scalar's text.
pub fn value_matches(expected: &Value, actual: Option<&Value>) -> bool {
    if let Some(Ok(matcher)) = matcher_of(expected) {
        return actual
            .is_some_and(|actual| !actual.is_object() && matcher.matches(&value_to_text(actual)));
    }
    let Some(actual) = actual else {
        return expected.is_null();
    };
    match (expected, actual) {
        (Value::Object(expected), Value::Object(actual)) => expected
            .iter()
            .all(|(key, expected)| value_matches(expected, actual.get(key))),
        (Value::Array(expected), Value::Array(actual)) => {
            expected.len() == actual.len()
                && expected
                    .iter()
                    .zip(actual)
                    .all(|(e, a)| value_matches(e, Some(a)))
        }
        (Value::Number(expected), Value::Number(actual)) => expected.as_f64() == actual.as_f64(),
        (Value::String(expected), actual) if !actual.is_object() && !actual.is_array() => {
            *expected == value_to_text(actual)
        }
        (expected, actual) => expected == actual,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn text_matchers() {
        let exact = TextMatch::from_value(json!("Hi")).unwrap();
        assert!(exact.matches("Hi") && !exact.matches("Hi!"));
        let regex = TextMatch::from_value(json!({"matches": "^Wh"})).unwrap();
        assert!(regex.matches("Which one?") && !regex.matches("No"));
        let contains = TextMatch::from_value(json!({"contains": "shop"})).unwrap();
        assert!(contains.matches("the shop is closed"));
        assert!(TextMatch::from_value(json!({"matches": "("})).is_err());
    }

    #[test]
    fn objects_match_by_subset() {
        let actual = json!({"type": "BadResponse", "message": "Invalid response status: 500", "status": 500, "body": {"error": "down"}});
        assert!(value_matches(
            &json!({"type": "BadResponse", "status": 500}),
            Some(&actual)
        ));
        assert!(!value_matches(&json!({"type": "Timeout"}), Some(&actual)));
        assert!(value_matches(
            &json!({"message": {"contains": "500"}}),
            Some(&actual)
        ));
    }

    #[test]
    fn lists_match_element_by_element() {
        assert!(value_matches(
            &json!(["iPhone 9", "iPhone X"]),
            Some(&json!(["iPhone 9", "iPhone X"]))
        ));
        assert!(!value_matches(
            &json!(["iPhone 9"]),
            Some(&json!(["iPhone 9", "iPhone X"]))
        ));
    }

    #[test]
    fn scalars_compare_as_text_or_number() {
        assert!(value_matches(&json!(3), Some(&json!(3.0))));
        assert!(value_matches(&json!("3"), Some(&json!(3))));
        assert!(!value_matches(&json!(3), Some(&json!("4"))));
    }

    #[test]
    fn null_matches_unset() {
        assert!(value_matches(&json!(null), None));
        assert!(!value_matches(&json!("x"), None));
    }
}
