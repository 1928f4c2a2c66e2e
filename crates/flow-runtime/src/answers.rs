//! Whether a user's message answers a `question`, and the value it stores.

use std::borrow::{Borrow, Cow};

use flow_core::flow::{Expect, Options, Question};
use flow_core::template::{value_to_text, Part};
use serde_json::Value;

use crate::values::{self, Lookup};

#[cfg(test)]
mod tests;

/// The options a question offers now: its written list rendered, or the list variable's items.
/// A text item of a stored list is borrowed, so judging an answer against a long list copies
/// nothing.
pub(crate) fn offered_options<'v>(
    question: &Question,
    lookup: Lookup<'_, 'v>,
) -> Vec<Cow<'v, str>> {
    match &question.options {
        None => Vec::new(),
        Some(Options::List(templates)) => templates
            .iter()
            .map(|template| Cow::Owned(template.render_text(lookup)))
            .collect(),
        Some(Options::Variable(template)) => {
            let value = match template.single_placeholder() {
                Some(Part::Variable(variable)) => variable.resolve(lookup),
                _ => None,
            };
            let listed = |item: &&Value| !item.is_null();
            match value {
                Some(Cow::Borrowed(Value::Array(items))) => {
                    // Sized for the whole list at once: a filter gives no length to size it by.
                    let mut options = Vec::with_capacity(items.len());
                    options.extend(items.iter().filter(listed).map(item_text));
                    options
                }
                Some(Cow::Owned(Value::Array(items))) => items
                    .iter()
                    .filter(listed)
                    .map(|item| Cow::Owned(value_to_text(item)))
                    .collect(),
                Some(Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null)) | None => Vec::new(),
                Some(other) => vec![Cow::Owned(value_to_text(&other))],
            }
        }
    }
}

/// An item's text as an option: a text borrowed as it is, anything else as templates write it.
fn item_text(item: &Value) -> Cow<'_, str> {
    match item {
        Value::String(text) => Cow::Borrowed(text),
        other => Cow::Owned(value_to_text(other)),
    }
}

/// Judges `answer` against `question` offering `options`: the value to store, or `None` when
/// the answer is not valid.
///
/// - An answer equal to an option (ignoring case and surrounding spaces) stores the option as
///   the flow wrote it, whatever `expect` says.
/// - With `expect: option`, the option's number as offered (`2` picks the second) does too; an
///   option question with nothing to offer accepts any non-blank answer, so it cannot trap the
///   user.
/// - Otherwise the answer, trimmed, must be what `expect` asks for; `expect: number` stores a
///   number.
pub(crate) fn judge(question: &Question, options: &[Cow<str>], answer: &str) -> Option<Value> {
    let answer = answer.trim();
    if answer.is_empty() {
        return None;
    }
    if let Some(option) = find_option(options, answer) {
        return Some(Value::String(option.to_owned()));
    }
    match &question.expect {
        Expect::Option if options.is_empty() => Some(Value::String(answer.to_owned())),
        Expect::Option => option_by_number(options, answer).map(|o| Value::String(o.to_owned())),
        Expect::Text => Some(Value::String(answer.to_owned())),
        Expect::Number => values::parse_number(answer).and_then(values::number_value),
        Expect::Email => is_email(answer).then(|| Value::String(answer.to_owned())),
        Expect::Phone => is_phone(answer).then(|| Value::String(answer.to_owned())),
        Expect::Regex(regex) => regex
            .is_match(answer)
            .then(|| Value::String(answer.to_owned())),
    }
}

/// The line sent after an invalid answer when the question has no `retry`.
pub(crate) fn default_retry<S: Borrow<str>>(question: &Question, options: &[S]) -> String {
    match &question.expect {
        Expect::Option => format!("Please pick one of: {}.", options.join(", ")),
        Expect::Text => "Please write an answer.".to_owned(),
        Expect::Number => "Please answer with a number.".to_owned(),
        Expect::Email => {
            "Please answer with an email address, such as name@example.com.".to_owned()
        }
        Expect::Phone => "Please answer with a phone number, such as +1 555 123 4567.".to_owned(),
        Expect::Regex(_) => {
            "That answer is not in the expected format; please try again.".to_owned()
        }
    }
}

/// The option equal to `answer` ignoring case and surrounding spaces, as
/// [`values::normalize`] compares them.
fn find_option<'o>(options: &'o [Cow<str>], answer: &str) -> Option<&'o str> {
    let answer = answer.trim();
    let mut wanted = None;
    options
        .iter()
        .find(|option| {
            let option = option.trim();
            // Lowercasing two ASCII texts is comparing them ignoring ASCII case: no copy needed.
            if option.is_ascii() && answer.is_ascii() {
                return option.eq_ignore_ascii_case(answer);
            }
            let wanted = wanted.get_or_insert_with(|| values::normalize(answer, false));
            values::normalize(option, false) == *wanted
        })
        .map(|option| &**option)
}

fn option_by_number<'o>(options: &'o [Cow<str>], answer: &str) -> Option<&'o str> {
    let number: usize = answer.parse().ok()?;
    options.get(number.checked_sub(1)?).map(|option| &**option)
}

/// A plausible email address: one `@`, something before it, a dotted domain after it, and no
/// spaces. Whether it exists is for the mail server to say.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let labels_ok = domain.split('.').all(|label| !label.is_empty());
    !local.is_empty()
        && domain.contains('.')
        && labels_ok
        && !domain.contains('@')
        && !text.chars().any(char::is_whitespace)
}

/// A plausible phone number: an optional leading `+`, then 6 to 15 digits, which may be grouped
/// with spaces, dots, dashes and parentheses.
fn is_phone(text: &str) -> bool {
    let rest = text.strip_prefix('+').unwrap_or(text);
    let allowed = rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '(' | ')'));
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    allowed && (6..=15).contains(&digits)
}
