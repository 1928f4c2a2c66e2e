//! RFC 9535 JSONPath support for paths that start with `$`, on top of `serde_json_path`.

use serde_json::Value;
use serde_json_path::JsonPath;

use super::PathSyntaxError;

/// A parsed JSONPath query and whether it is singular.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct JsonPathQuery {
    query: JsonPath,
    singular: bool,
}

impl JsonPathQuery {
    /// Parses `source`, which starts with `$`, as an RFC 9535 query.
    pub(super) fn parse(source: &str) -> Result<JsonPathQuery, PathSyntaxError> {
        let query = JsonPath::parse(source).map_err(|error| PathSyntaxError {
            offset: char_offset(source, error.position()),
            message: format!("invalid JSONPath: {}", error.message()),
        })?;
        Ok(JsonPathQuery {
            query,
            singular: is_singular(source),
        })
    }

    /// Whether the query names at most one node (RFC 9535, section 2.3.5.1).
    pub(super) fn is_singular(&self) -> bool {
        self.singular
    }

    /// The value of a singular query, or the list of values of any other query; `None` when a
    /// singular query matched nothing.
    pub(super) fn evaluate(&self, root: &Value) -> Option<Value> {
        let nodes = self.query.query(root);
        if self.singular {
            return nodes.first().cloned();
        }
        Some(Value::Array(nodes.into_iter().cloned().collect()))
    }

    #[cfg(test)]
    pub(super) fn json_path(&self) -> &JsonPath {
        &self.query
    }
}

/// Converts the byte offset `serde_json_path` reports into a char offset.
fn char_offset(source: &str, byte_offset: usize) -> usize {
    source
        .char_indices()
        .take_while(|&(byte, _)| byte < byte_offset)
        .count()
}

/// RFC 9535 blank space, allowed between segments and inside brackets.
const BLANK: [char; 4] = [' ', '\t', '\n', '\r'];

/// Whether a query that `serde_json_path` accepted is a singular query: `$` followed only by
/// `.name`, `['name']` and `[index]` segments.
///
/// `serde_json_path` knows this (it checks comparisons in filters) but does not expose it, so
/// this scans the source; it may assume the query is valid.
fn is_singular(source: &str) -> bool {
    let mut rest = &source[1..];
    loop {
        rest = rest.trim_start_matches(BLANK);
        if rest.is_empty() {
            return true;
        }
        if rest.starts_with("..") || rest.starts_with(".*") {
            return false;
        }
        if let Some(after_dot) = rest.strip_prefix('.') {
            // A member-name shorthand: ASCII letters, digits, `_` and any non-ASCII char.
            let name_len = after_dot
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii()))
                .unwrap_or(after_dot.len());
            rest = &after_dot[name_len..];
            continue;
        }
        let Some(inside) = rest.strip_prefix('[') else {
            return false;
        };
        let inside = inside.trim_start_matches(BLANK);
        let after_selector = match inside.chars().next() {
            Some(quote @ ('\'' | '"')) => skip_string(inside, quote),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                Some(inside.trim_start_matches(|c: char| c == '-' || c.is_ascii_digit()))
            }
            _ => None,
        };
        // Anything but one name or index before `]` (a comma, a colon) makes it non-singular.
        match after_selector.and_then(|after| after.trim_start_matches(BLANK).strip_prefix(']')) {
            Some(after_bracket) => rest = after_bracket,
            None => return false,
        }
    }
}

/// Skips a string literal that starts at the beginning of `text`; returns what follows it.
fn skip_string(text: &str, quote: char) -> Option<&str> {
    let mut chars = text.char_indices().skip(1);
    while let Some((_, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == quote {
            return chars
                .next()
                .map_or(Some(""), |(byte, _)| Some(&text[byte..]));
        }
    }
    None
}
