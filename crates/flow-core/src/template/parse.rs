//! Parser for templates: splits the text into literals and `{{...}}` placeholders.

use super::{Part, TemplateSyntaxError, VariableRef};
use crate::path::Path;

/// Splits `source` into parts; adjacent text is merged, and no literal is empty.
pub(super) fn parts(source: &str) -> Result<Vec<Part>, TemplateSyntaxError> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut pos = 0;
    while let Some(found) = find_doubled(&source[pos..], b'{') {
        let mut open = pos + found;
        // In `{{{name}}}` the placeholder is the innermost `{{`; the outer braces are text,
        // as in a JSON text body written around a placeholder.
        while source[open + 2..].starts_with('{') {
            open += 1;
        }
        literal.push_str(&source[pos..open]);
        let inner_start = open + 2;
        let Some(inner_len) = find_doubled(&source[inner_start..], b'}') else {
            return Err(error(source, open, "unclosed `{{` (add `}}`)"));
        };
        let inner_end = inner_start + inner_len;
        let part = placeholder(source, open, inner_start..inner_end)?;
        if !literal.is_empty() {
            parts.push(Part::Literal(std::mem::take(&mut literal)));
        }
        parts.push(part);
        pos = inner_end + 2;
    }
    literal.push_str(&source[pos..]);
    if !literal.is_empty() {
        parts.push(Part::Literal(literal));
    }
    Ok(parts)
}

/// Calls `found` with each variable `source` reads, its name and the char offset of its `{{`,
/// when every placeholder is a bare name (`{{name}}`): what [`parts`] would find, without
/// building the template. False, with some calls made already, when a placeholder holds more
/// than a name or is broken: [`parts`] must judge that template.
pub(crate) fn bare_variables<'s>(source: &'s str, mut found: impl FnMut(&'s str, usize)) -> bool {
    let mut pos = 0;
    while let Some(at) = find_doubled(&source[pos..], b'{') {
        // As in `parts`: the placeholder is the innermost `{{`.
        let mut open = pos + at;
        while source[open + 2..].starts_with('{') {
            open += 1;
        }
        let inner_start = open + 2;
        let Some(inner_len) = find_doubled(&source[inner_start..], b'}') else {
            return false;
        };
        // As `placeholder` reads a name with no path; `secret` and odd characters go there too.
        let name = source[inner_start..inner_start + inner_len].trim();
        let bare = !name.is_empty()
            && name != "secret"
            && !name.contains(|c: char| matches!(c, '.' | '[' | ']' | '{' | '}') || c.is_control());
        if !bare {
            return false;
        }
        found(name, char_offset(source, open));
        pos = inner_start + inner_len + 2;
    }
    true
}

/// The byte offset of the first `{{` (or `}}`) in `text`: the same as `text.find("{{")`, without
/// setting up a substring search for each of the many short texts a flow holds.
pub(crate) fn find_doubled(text: &str, brace: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = bytes[from..].iter().position(|&b| b == brace) {
        let at = from + at;
        if bytes.get(at + 1) == Some(&brace) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Parses what is between `{{` (at byte `open`) and `}}`; `inner` is that byte range.
fn placeholder(
    source: &str,
    open: usize,
    inner: std::ops::Range<usize>,
) -> Result<Part, TemplateSyntaxError> {
    let raw = &source[inner.clone()];
    let content = raw.trim();
    if content.is_empty() {
        return Err(error(
            source,
            open,
            "empty placeholder (write `{{variable name}}`)",
        ));
    }
    let content_start = inner.start + (raw.len() - raw.trim_start().len());
    // The name runs up to the first `.` or `[`; the path, if any, starts there.
    let name_len = content.find(['.', '[']).unwrap_or(content.len());
    let name = content[..name_len].trim_end();
    let rest = &content[name_len..];
    let rest_start = content_start + name_len;
    if name.is_empty() {
        let separator = &rest[..1];
        return Err(error(
            source,
            content_start,
            format!("expected a variable name before `{separator}`"),
        ));
    }
    if let Some((byte, bad)) = name
        .char_indices()
        .find(|&(_, c)| matches!(c, ']' | '{' | '}') || c.is_control())
    {
        return Err(error(
            source,
            content_start + byte,
            format!("`{}` cannot be part of a variable name", bad.escape_debug()),
        ));
    }
    if name == "secret" {
        return secret(source, content_start, rest, rest_start);
    }
    let path = match rest.strip_prefix('.') {
        Some("") => return Err(error(source, rest_start + 1, "expected a path after `.`")),
        Some(path) if path.starts_with('.') => {
            return Err(error(source, rest_start + 1, "expected a key after `.`"));
        }
        Some(path) => Some(path_at(source, path, rest_start + 1)?),
        None if rest.is_empty() => None,
        None => Some(path_at(source, rest, rest_start)?),
    };
    Ok(Part::Variable(VariableRef {
        name: name.to_owned(),
        path,
        offset: char_offset(source, open),
    }))
}

/// Parses the path `text`, which starts at byte `start` of `source`, moving error offsets
/// from the path to the template.
fn path_at(source: &str, text: &str, start: usize) -> Result<Path, TemplateSyntaxError> {
    Path::parse(text).map_err(|path_error| TemplateSyntaxError {
        offset: char_offset(source, start) + path_error.offset,
        message: path_error.message,
    })
}

/// Parses `{{secret.NAME}}`: `rest` is what follows `secret`, starting at byte `rest_start`.
///
/// The name `secret` is reserved, so `{{secret}}` and `{{secret[0]}}` are errors rather than
/// reads of a variable called `secret`: a typo must not silently print nothing.
fn secret(
    source: &str,
    name_start: usize,
    rest: &str,
    rest_start: usize,
) -> Result<Part, TemplateSyntaxError> {
    let Some(secret_name) = rest.strip_prefix('.') else {
        return Err(error(
            source,
            name_start,
            "`secret` is reserved for secrets (write `{{secret.NAME}}`)",
        ));
    };
    if secret_name.is_empty() {
        return Err(error(
            source,
            rest_start + 1,
            "expected a secret name after `secret.`",
        ));
    }
    if let Some((byte, _)) = secret_name
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
    {
        return Err(error(
            source,
            rest_start + 1 + byte,
            // The name must also be an environment variable name: FLOWBOT_SECRET_<NAME>.
            "a secret name may only contain ASCII letters, digits and `_`",
        ));
    }
    Ok(Part::Secret(secret_name.to_owned()))
}

fn error(source: &str, byte: usize, message: impl Into<String>) -> TemplateSyntaxError {
    TemplateSyntaxError {
        offset: char_offset(source, byte),
        message: message.into(),
    }
}

fn char_offset(source: &str, byte: usize) -> usize {
    source[..byte].chars().count()
}
