//! Whether a `choice` condition holds.
//!
//! The rules, shared with the docs:
//! - a subject whose path does not match counts as unset;
//! - text is compared ignoring case and surrounding spaces, unless `case_sensitive: true`;
//! - when both sides read as numbers they compare as numbers (`"10"` is greater than `9`);
//! - `contains` looks for a substring in a text and for an item in a list.

use std::borrow::Cow;

use flow_core::flow::{Condition, IsCheck, Operator, Subject, ValueTemplate};
use flow_core::template::value_to_text;
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::values::{self, as_number, comparable_text, loosely_equal, Lookup};

#[cfg(test)]
mod tests;

/// The most a pattern written with placeholders may compile to, so a variable cannot make a
/// regex that eats the server's memory.
const RUNTIME_REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Whether `condition` holds for the variables behind `lookup`.
pub(crate) fn holds(condition: &Condition, lookup: Lookup) -> bool {
    match condition {
        Condition::All(conditions) => conditions.iter().all(|c| holds(c, lookup)),
        Condition::Any(conditions) => conditions.iter().any(|c| holds(c, lookup)),
        Condition::Not(condition) => !holds(condition, lookup),
        Condition::Is { subject, check } => is(*check, subject_value(subject, lookup).as_deref()),
        Condition::Compare {
            subject,
            operator,
            value,
            case_sensitive,
            regex,
        } => {
            let subject = subject_value(subject, lookup).unwrap_or(Cow::Owned(Value::Null));
            let comparison = Comparison {
                operand: values::render_value(value, lookup),
                case_sensitive: *case_sensitive,
            };
            comparison.apply(*operator, &subject, regex.as_ref(), value)
        }
    }
}

/// The subject's value; a path that does not match counts as unset.
fn subject_value<'v>(subject: &Subject, lookup: Lookup<'_, 'v>) -> Option<Cow<'v, Value>> {
    let value = lookup(&subject.variable)?;
    let value = match &subject.path {
        None => value,
        Some(path) => Cow::Owned(path.evaluate(&value).ok()?),
    };
    (!value.is_null()).then_some(value)
}

fn is(check: IsCheck, value: Option<&Value>) -> bool {
    match check {
        IsCheck::Set => value.is_some(),
        IsCheck::Empty => value.is_none_or(is_empty),
        IsCheck::Number => value.and_then(as_number).is_some(),
        IsCheck::Message => value.is_some_and(|value| match value {
            Value::String(text) => !text.trim().is_empty(),
            other => values::is_failure(other),
        }),
    }
}

/// Unset, `null`, a blank text, `[]` or `{}`.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(text) => text.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::Bool(_) | Value::Number(_) => false,
    }
}

/// The right-hand side of a comparison, rendered, with how to compare text.
struct Comparison {
    operand: Value,
    case_sensitive: bool,
}

impl Comparison {
    fn apply(
        &self,
        operator: Operator,
        subject: &Value,
        regex: Option<&Regex>,
        template: &ValueTemplate,
    ) -> bool {
        let operand = &self.operand;
        match operator {
            Operator::Equals => self.equal(subject, operand),
            Operator::NotEquals => !self.equal(subject, operand),
            Operator::Contains => self.contains(subject),
            Operator::NotContains => !self.contains(subject),
            Operator::StartsWith => self.text(subject).starts_with(&self.text(operand)),
            Operator::EndsWith => self.text(subject).ends_with(&self.text(operand)),
            Operator::GreaterThan => self.numbers(subject, |s, o| s > o),
            Operator::LessThan => self.numbers(subject, |s, o| s < o),
            Operator::AtLeast => self.numbers(subject, |s, o| s >= o),
            Operator::AtMost => self.numbers(subject, |s, o| s <= o),
            Operator::Matches => self.matches(subject, regex, template),
            Operator::OneOf => match operand {
                Value::Array(items) => items.iter().any(|item| self.equal(subject, item)),
                // A variable holding one value instead of a list: that value is the list.
                other => !other.is_null() && self.equal(subject, other),
            },
        }
    }

    fn equal(&self, left: &Value, right: &Value) -> bool {
        loosely_equal(left, right, self.case_sensitive)
    }

    fn text(&self, value: &Value) -> String {
        comparable_text(value, self.case_sensitive)
    }

    fn contains(&self, subject: &Value) -> bool {
        match subject {
            Value::Array(items) => items.iter().any(|item| self.equal(item, &self.operand)),
            Value::Null => false,
            other => self.text(other).contains(&self.text(&self.operand)),
        }
    }

    fn numbers(&self, subject: &Value, compare: impl Fn(f64, f64) -> bool) -> bool {
        match (as_number(subject), as_number(&self.operand)) {
            (Some(subject), Some(operand)) => compare(subject, operand),
            _ => false,
        }
    }

    /// A pattern without placeholders was compiled when the flow loaded; one with placeholders
    /// is compiled now, and a pattern that does not compile matches nothing.
    fn matches(&self, subject: &Value, regex: Option<&Regex>, template: &ValueTemplate) -> bool {
        let text = value_to_text(subject);
        if let (Some(regex), ValueTemplate::Literal(_)) = (regex, template) {
            return regex.is_match(&text);
        }
        RegexBuilder::new(&value_to_text(&self.operand))
            .case_insensitive(!self.case_sensitive)
            .size_limit(RUNTIME_REGEX_SIZE_LIMIT)
            .build()
            .is_ok_and(|regex| regex.is_match(&text))
    }
}
