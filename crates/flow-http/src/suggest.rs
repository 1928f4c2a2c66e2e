//! Paths a bot author can pick in a response payload, like a hosted builder's path helper (S12–S14).

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use crate::error::truncate_chars;

#[cfg(test)]
mod tests;

/// One path the author can pick, with a glimpse of what it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathSuggestion {
    /// The path, in the flow format's path language: `products[0].title`,
    /// `products.flatMap(item => item.title)`, `item["full name"]`.
    pub path: String,
    /// The selected value as compact JSON, cut to [`PREVIEW_MAX_CHARS`] characters with `…`.
    pub preview: String,
}

/// How long a preview may be, in characters, before it is cut.
pub const PREVIEW_MAX_CHARS: usize = 40;

/// How deep [`suggest_paths`] descends: a path has at most this many keys and indexes.
pub const MAX_DEPTH: usize = 6;

/// How many suggestions [`suggest_paths`] returns at most.
pub const MAX_SUGGESTIONS: usize = 200;

/// The paths of `payload`, each container before what it holds.
///
/// - For an object: each key, in the payload's order (flowbot builds `serde_json` with its
///   `preserve_order` feature).
/// - For an array: the array itself, then `[0]` for its first element and what lies in it, then,
///   when its elements are objects, `flatMap(item => item.<key>)` for each key found in them,
///   in the order they first appear.
///   Its preview is what the path stores: one value per element, `null` where an element lacks
///   the key, arrays flattened one level.
///
/// Keys that are not plain identifiers are quoted: `["key with spaces"]`. The whole payload (the
/// empty path) is not listed. The listing stops at [`MAX_DEPTH`] and [`MAX_SUGGESTIONS`].
pub fn suggest_paths(payload: &Value) -> Vec<PathSuggestion> {
    let mut walker = Walker {
        suggestions: Vec::new(),
    };
    walker.children("", payload, 0);
    walker.suggestions
}

struct Walker {
    suggestions: Vec<PathSuggestion>,
}

impl Walker {
    fn is_full(&self) -> bool {
        self.suggestions.len() >= MAX_SUGGESTIONS
    }

    fn push(&mut self, path: String, value: &impl Serialize) {
        if !self.is_full() {
            self.suggestions.push(PathSuggestion {
                path,
                preview: preview(value),
            });
        }
    }

    /// Suggests `path` itself, then what lies under it.
    fn visit(&mut self, path: &str, value: &Value, depth: usize) {
        self.push(path.to_owned(), value);
        self.children(path, value, depth);
    }

    fn children(&mut self, path: &str, value: &Value, depth: usize) {
        if depth >= MAX_DEPTH || self.is_full() {
            return;
        }
        match value {
            Value::Object(map) => {
                for (key, item) in map {
                    self.visit(&join_key(path, key), item, depth + 1);
                }
            }
            Value::Array(items) => {
                let Some(first) = items.first() else { return };
                self.visit(&format!("{path}[0]"), first, depth + 1);
                self.flat_maps(path, items);
            }
            _ => {}
        }
    }

    /// `path.flatMap(item => item.key)` for each key of the array's object elements.
    ///
    /// The preview is what the path stores: one value per element (`null` where an element
    /// lacks the key), with arrays flattened one level, as `flatMap` does.
    fn flat_maps(&mut self, path: &str, items: &[Value]) {
        let room = MAX_SUGGESTIONS.saturating_sub(self.suggestions.len());
        let mut seen = HashSet::new();
        let mut keys: Vec<&String> = Vec::new();
        for key in items
            .iter()
            .filter_map(Value::as_object)
            .flat_map(|map| map.keys())
        {
            if keys.len() >= room {
                break;
            }
            if seen.insert(key) {
                keys.push(key);
            }
        }
        let receiver = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        for key in keys {
            let mut mapped: Vec<&Value> = Vec::new();
            for item in items {
                match item.get(key) {
                    Some(Value::Array(inner)) => mapped.extend(inner),
                    Some(value) => mapped.push(value),
                    None => mapped.push(&Value::Null),
                }
            }
            let flat_map = format!("{receiver}flatMap(item => {})", join_key("item", key));
            self.push(flat_map, &mapped);
        }
    }
}

/// `path.key`, or `path["key"]` when the key is not a plain identifier.
fn join_key(path: &str, key: &str) -> String {
    if is_identifier(key) {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    } else {
        format!("{path}[{}]", quote_key(key))
    }
}

/// `key` in double quotes as the path language reads it: only `"` and `\` are escaped, and
/// everything else, line breaks included, stands as itself (JSON's `\n` or `\u0007` would be
/// unknown escapes there).
fn quote_key(key: &str) -> String {
    let mut quoted = String::with_capacity(key.len() + 2);
    quoted.push('"');
    for c in key.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// A key the path language reads unquoted: a letter (any script) or `_`, then letters, digits
/// and `_`. A leading `$` would start a `JSONPath`, so it is quoted too.
fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|first| first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// `value` as compact JSON, cut; only the start of a large value is ever written out.
fn preview(value: &impl Serialize) -> String {
    // One more character than kept, at up to 4 bytes each, tells whether to cut.
    let mut writer = BoundedWriter {
        bytes: Vec::new(),
        limit: (PREVIEW_MAX_CHARS + 1) * 4,
    };
    // Running out of room is the expected way for a large value to stop, so the error is moot.
    let _ = serde_json::to_writer(&mut writer, value);
    truncate_chars(&String::from_utf8_lossy(&writer.bytes), PREVIEW_MAX_CHARS)
}

/// A writer that takes at most `limit` bytes, then refuses.
struct BoundedWriter {
    bytes: Vec<u8>,
    limit: usize,
}

impl std::io::Write for BoundedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit - self.bytes.len();
        if room == 0 {
            return Err(std::io::Error::other("preview is long enough"));
        }
        let taken = buf.len().min(room);
        self.bytes.extend_from_slice(&buf[..taken]);
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
