//! The path language: picks a part of a JSON value (`products[1].category`, `products.flatMap(item => item.title)`, `$..x`).
//!
//! A path is parsed once, when the flow loads, so that a typo fails validation with a position
//! instead of failing a live conversation.
//! It is then evaluated against webhook responses and variables, purely and synchronously.
//!
//! Two languages share the [`Path`] type:
//!
//! - the builder's own paths: dotted keys, `[index]` (negative counts from the end),
//!   quoted keys (`["full name"]`, `['k']`) and `.flatMap(item => item.key)`;
//! - RFC 9535 JSONPath, for any path that starts with `$` (a key that starts with `$` is written
//!   quoted: `["$key"]`).

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

mod jsonpath;
mod parse;

#[cfg(test)]
mod cts;
#[cfg(test)]
mod tests;

use jsonpath::JsonPathQuery;

/// A parsed path: its source text plus the form it is evaluated with.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    source: String,
    kind: PathKind,
}

#[derive(Clone, Debug, PartialEq)]
enum PathKind {
    /// The builder's path language; no steps means the whole payload.
    Steps(Vec<Step>),
    /// An RFC 9535 JSONPath query (the source starts with `$`).
    JsonPath(JsonPathQuery),
}

/// One step of a builder path, with the byte offset where it starts in the source.
///
/// The offset is what error messages quote: the source before it is the location that failed.
#[derive(Clone, Debug, PartialEq)]
struct Step {
    start: usize,
    op: StepOp,
}

#[derive(Clone, Debug, PartialEq)]
enum StepOp {
    /// `.key`, `key` or `["key"]`.
    Key(String),
    /// `[3]` or `[-1]`.
    Index(i64),
    /// `.flatMap(item => item...)`: the body's steps, relative to each element.
    FlatMap(Vec<Step>),
}

impl Path {
    /// Parses a path; an empty string is the whole payload, a string starting with `$` is JSONPath.
    pub fn parse(source: &str) -> Result<Path, PathSyntaxError> {
        let kind = if source.starts_with('$') {
            PathKind::JsonPath(JsonPathQuery::parse(source)?)
        } else {
            PathKind::Steps(parse::steps(source)?)
        };
        Ok(Path {
            source: source.to_owned(),
            kind,
        })
    }

    /// The path as it was written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether this is the empty path, which selects the whole payload.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Whether the result is always a list: a path whose last step is a `flatMap`, or a
    /// non-singular JSONPath query (one with wildcards, slices, filters, descendants or
    /// several selectors).
    ///
    /// Saving such a path into a variable that is not a list deserves a warning.
    pub fn yields_list(&self) -> bool {
        match &self.kind {
            PathKind::Steps(steps) => matches!(
                steps.last(),
                Some(Step {
                    op: StepOp::FlatMap(_),
                    ..
                })
            ),
            PathKind::JsonPath(query) => !query.is_singular(),
        }
    }

    /// Picks the part of `root` this path names.
    ///
    /// Builder paths fail on the first step that does not match, except inside a `flatMap`
    /// body, where an element that does not match gives `null` so parallel lists stay aligned.
    ///
    /// JSONPath queries: a singular query (only name and index selectors) gives the one value
    /// it matched; any other query gives the list of the values it matched, which may be empty
    /// (`[]`), because "no element matched the filter" is an ordinary answer there.
    /// A singular query that matches nothing fails with [`KeyErrorKind::NoMatch`].
    pub fn evaluate(&self, root: &Value) -> Result<Value, KeyError> {
        match &self.kind {
            PathKind::Steps(steps) => walk(steps, root).map_err(|miss| KeyError {
                path: self.source.clone(),
                location: Some(self.source[..miss.at].to_owned()),
                kind: miss.kind,
            }),
            PathKind::JsonPath(query) => query.evaluate(root).ok_or_else(|| KeyError {
                path: self.source.clone(),
                location: None,
                kind: KeyErrorKind::NoMatch,
            }),
        }
    }

    /// The JSONPath query behind a `$` path, for tests that compare whole node lists.
    #[cfg(test)]
    fn json_path(&self) -> Option<&serde_json_path::JsonPath> {
        match &self.kind {
            PathKind::JsonPath(query) => Some(query.json_path()),
            PathKind::Steps(_) => None,
        }
    }
}

impl FromStr for Path {
    type Err = PathSyntaxError;

    fn from_str(source: &str) -> Result<Path, PathSyntaxError> {
        Path::parse(source)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A step that did not match: where it starts (byte offset in the source) and what was wrong.
struct Miss {
    at: usize,
    kind: KeyErrorKind,
}

fn walk(steps: &[Step], root: &Value) -> Result<Value, Miss> {
    let mut current = root;
    for (idx, step) in steps.iter().enumerate() {
        let miss = |kind| Miss {
            at: step.start,
            kind,
        };
        match &step.op {
            StepOp::Key(key) => current = child_by_key(current, key).map_err(miss)?,
            StepOp::Index(index) => current = child_by_index(current, *index).map_err(miss)?,
            StepOp::FlatMap(body) => {
                // The mapped list is a new value, so the rest of the path walks that instead.
                let mapped = flat_map(body, current).map_err(miss)?;
                let rest = &steps[idx + 1..];
                // A path that ends in the flatMap returns the new list as it is: no second copy.
                return match rest.is_empty() {
                    true => Ok(mapped),
                    false => walk(rest, &mapped),
                };
            }
        }
    }
    Ok(current.clone())
}

fn child_by_key<'v>(value: &'v Value, key: &str) -> Result<&'v Value, KeyErrorKind> {
    let object = value.as_object().ok_or_else(|| KeyErrorKind::WrongType {
        expected: ValueKind::Object,
        found: ValueKind::of(value),
    })?;
    object.get(key).ok_or_else(|| KeyErrorKind::MissingKey {
        key: key.to_owned(),
    })
}

fn child_by_index(value: &Value, index: i64) -> Result<&Value, KeyErrorKind> {
    let items = value.as_array().ok_or_else(|| KeyErrorKind::WrongType {
        expected: ValueKind::Array,
        found: ValueKind::of(value),
    })?;
    let position = if index < 0 {
        usize::try_from(index.unsigned_abs())
            .ok()
            .and_then(|back| items.len().checked_sub(back))
    } else {
        usize::try_from(index).ok()
    };
    position
        .and_then(|position| items.get(position))
        .ok_or(KeyErrorKind::IndexOutOfRange {
            index,
            len: items.len(),
        })
}

/// Maps `body` over the array `value` and flattens one level, as JavaScript's `flatMap` does.
fn flat_map(body: &[Step], value: &Value) -> Result<Value, KeyErrorKind> {
    let items = value.as_array().ok_or_else(|| KeyErrorKind::WrongType {
        expected: ValueKind::Array,
        found: ValueKind::of(value),
    })?;
    let mut mapped = Vec::with_capacity(items.len());
    for item in items {
        match walk(body, item) {
            Ok(Value::Array(inner)) => mapped.extend(inner),
            Ok(other) => mapped.push(other),
            Err(_) => mapped.push(Value::Null),
        }
    }
    Ok(Value::Array(mapped))
}

/// A path that could not be parsed, with the character where the problem is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} at offset {offset}")]
pub struct PathSyntaxError {
    /// Index of the offending character in the path, counted in chars (not bytes) from 0.
    pub offset: usize,
    /// What is wrong, in lowercase, e.g. "expected `]` after index".
    pub message: String,
}

/// A path that does not match the value it was evaluated on (the `KeyError` of a webhook step).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct KeyError {
    path: String,
    location: Option<String>,
    kind: KeyErrorKind,
}

/// What went wrong at the failing step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyErrorKind {
    /// The object at the location has no such key.
    MissingKey {
        /// The key that was looked up.
        key: String,
    },
    /// The array at the location is too short for the index.
    IndexOutOfRange {
        /// The index as written (negative counts from the end).
        index: i64,
        /// How many items the array has.
        len: usize,
    },
    /// The step needs an object or an array and found something else.
    WrongType {
        /// What the step needs: [`ValueKind::Object`] or [`ValueKind::Array`].
        expected: ValueKind,
        /// What was there.
        found: ValueKind,
    },
    /// A JSONPath query that names one node matched none.
    NoMatch,
}

impl KeyError {
    /// The whole path that failed, as written.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The part of the path before the failing step: `products[1]` when `.category` failed,
    /// `""` when the first step failed (the message says "the top level").
    ///
    /// `None` for JSONPath queries, which only say that nothing matched.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    /// What went wrong at the failing step.
    pub fn kind(&self) -> &KeyErrorKind {
        &self.kind
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = match self.location.as_deref() {
            None | Some("") => "the top level",
            Some(location) => location,
        };
        match &self.kind {
            KeyErrorKind::MissingKey { key } => write!(f, "no key '{key}' in object at {at}"),
            KeyErrorKind::IndexOutOfRange { index, len } => {
                let items = if *len == 1 { "item" } else { "items" };
                write!(f, "index {index} out of range ({len} {items}) at {at}")
            }
            KeyErrorKind::WrongType { expected, found } => {
                write!(f, "expected {expected} at {at} but found {found}")
            }
            KeyErrorKind::NoMatch => write!(f, "no match for {}", self.path),
        }
    }
}

/// The kind of a JSON value, as error messages name it ("a string", "an object").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// Any number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl ValueKind {
    /// The kind of `value`.
    pub fn of(value: &Value) -> ValueKind {
        match value {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Boolean,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::Array(_) => ValueKind::Array,
            Value::Object(_) => ValueKind::Object,
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Null => "null",
            ValueKind::Boolean => "a boolean",
            ValueKind::Number => "a number",
            ValueKind::String => "a string",
            ValueKind::Array => "an array",
            ValueKind::Object => "an object",
        })
    }
}
