//! YAML syntax errors as a bot author can act on them: at the right character, with help.
//!
//! The parser's messages are written for YAML implementers ("mapping values are not allowed
//! in this context"); each common one gets a line in the words of someone writing a flow.

use super::{Span, YamlError};

/// A syntax error at `span` with the parser's `message`, moved to the character at fault
/// when the parser reports the start of the token instead, and with help when we have some.
pub(super) fn explain(source: &str, span: Span, message: &str) -> YamlError {
    let span = match message {
        // The scanner reports a tab, or an unknown escape, at the start of the token it was
        // reading, which may be lines above the character itself.
        m if m.contains("tab") => find_from(source, span, |c, _| c == '\t').unwrap_or(span),
        m if m.contains("unknown escape") => {
            find_from(source, span, is_unknown_escape).unwrap_or(span)
        }
        _ => span,
    };
    // A line with no `:` (`next done`) is read as the start of a key that goes on below,
    // and the parser fails on the line after it, which is usually right.
    if message.starts_with("simple key expect") {
        if let Some(line) = line_without_colon_before(source, span) {
            return YamlError {
                span: line,
                message: "this line is neither `key: value` nor a list item".to_owned(),
                help: Some(
                    "add `:` after the key; if the line goes on a text, indent it under that text"
                        .to_owned(),
                ),
            };
        }
    }
    // A `[` or `{` left open makes the parser fail lines below it, where a `:` shows up.
    if is_about_brackets(message) {
        if let Some((open, bracket)) =
            unclosed_bracket(source, span).filter(|(open, _)| open.line < span.line)
        {
            let (close, what) = if bracket == '[' {
                (']', "list")
            } else {
                ('}', "mapping")
            };
            return YamlError {
                span: open,
                message: format!(
                    "this `{bracket}` is never closed (the parser stopped at line {}: {message})",
                    span.line
                ),
                help: Some(format!("add `{close}` where the {what} ends")),
            };
        }
    }
    YamlError {
        span,
        message: message.to_owned(),
        help: help(message).map(str::to_owned),
    }
}

/// What to do about the parser's `message`.
fn help(message: &str) -> Option<&'static str> {
    let help = match message {
        m if m.contains("tab") => "indent with spaces: YAML does not allow tabs there",
        m if m.contains("unknown escape") => {
            "inside double quotes `\\` starts an escape; write a text with backslashes, such as a pattern, in single quotes: '^A-\\d{4}$'"
        }
        m if m.contains("mapping values are not allowed") => {
            "if this line is a text that contains `: `, put the text in quotes; if it is a key, line it up with the keys of its mapping"
        }
        m if m.contains("block sequence entries are not allowed") => {
            "a list item (`- `) starts its own line; to write a text that starts with `- `, put it in quotes"
        }
        m if m.contains("did not find expected key") || (m.contains("invalid indentation") && !m.contains("quoted")) => {
            "check the indentation: the keys of one mapping start in the same column"
        }
        m if m.contains("quoted scalar") => "a quoted text may be missing its closing quote",
        m if m.contains("expected ',' or ']'") => {
            "a `[` may be missing its `]`, or an item holds `,`, `:` or `#` and needs quotes"
        }
        m if m.contains("expected ',' or '}'") => {
            "a `{` may be missing its `}`, or a value holds `,`, `:` or `#` and needs quotes"
        }
        m if m.contains("illegal placement of ':'") => "a `[` or `{` above may be missing its closing bracket",
        m if m.contains("unexpected character") => "a text that starts with `@` or `` ` `` must be put in quotes",
        m if m.contains("unknown anchor") => "define the anchor with `&name` on a value above before using `*name`",
        m if m.contains("second YAML document") => "remove the `---` line and what follows, or put the second bot in its own file",
        m if m.contains("expected '-' indicator") => "check the indentation: the items of a list start with `- ` in the same column",
        m if m.contains("anchor or alias") => "`&` and `*` start anchors and aliases: put a text that starts with them in quotes",
        m if m.contains("block scalar") => "after `|` or `>` the text starts on the next line, indented",
        m if m.contains("comments must be separated") => "put a space before `#`, or the whole text in quotes",
        m if m.contains("is only valid inside a block") => "a `- ` list item cannot stand inside `[...]` or `{...}`",
        m if m.contains("simple key expect") || m.contains("document start") || m.contains("node content") => {
            "check this line and the one above it: each line of a mapping is `key: value`, indented like its neighbours"
        }
        _ => return None,
    };
    Some(help)
}

/// The first character at or after `from` that `wanted` accepts, given the character after it.
fn find_from(
    source: &str,
    from: Span,
    wanted: impl Fn(char, Option<char>) -> bool,
) -> Option<Span> {
    let lines = source
        .lines()
        .enumerate()
        .skip(from.line.saturating_sub(1) as usize);
    lines.into_iter().find_map(|(index, line)| {
        let skip = match index + 1 == from.line as usize {
            true => from.column.saturating_sub(1) as usize,
            false => 0,
        };
        let chars: Vec<char> = line.chars().collect();
        let column =
            (skip..chars.len()).find(|&at| wanted(chars[at], chars.get(at + 1).copied()))?;
        Some(Span::new(index as u32 + 1, column as u32 + 1))
    })
}

/// A `\` that does not start one of YAML's escapes.
fn is_unknown_escape(c: char, next: Option<char>) -> bool {
    c == '\\' && next.is_some_and(|next| !"0abtnvfre \"/\\N_LPxuU\t".contains(next))
}

/// Messages the parser gives when a flow collection runs on past where it should end.
fn is_about_brackets(message: &str) -> bool {
    [
        "illegal placement of ':'",
        "expected ',' or",
        "flow sequence",
        "flow mapping",
        "flow construct",
    ]
    .iter()
    .any(|words| message.contains(words))
}

/// The last `[` or `{` before `until` that no bracket closes, outside quotes and comments.
fn unclosed_bracket(source: &str, until: Span) -> Option<(Span, char)> {
    let mut open: Vec<(Span, char)> = Vec::new();
    for (index, line) in source.lines().enumerate().take(until.line as usize) {
        let chars: Vec<char> = line.chars().collect();
        let mut quote = None;
        let mut column = 0;
        while column < chars.len() {
            let here = Span::new(index as u32 + 1, column as u32 + 1);
            if here >= until {
                break;
            }
            let previous = column.checked_sub(1).map_or(' ', |at| chars[at]);
            match (quote, chars[column]) {
                (Some('"'), '\\') => column += 1,
                (Some('\''), '\'') if chars.get(column + 1) == Some(&'\'') => column += 1,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                // A quote opens a scalar only where a scalar starts; in `Let's` it is text.
                (None, c @ ('\'' | '"')) if matches!(previous, ' ' | '[' | '{' | ',') => {
                    quote = Some(c)
                }
                (None, '#') if previous == ' ' => break,
                (None, c @ ('[' | '{')) => open.push((here, c)),
                (None, ']' | '}') => {
                    open.pop();
                }
                _ => {}
            }
            column += 1;
        }
    }
    open.pop()
}

/// The last line with text before the one of `span`, when it holds no `:` and is no list item
/// or comment: a key that lost its colon.
fn line_without_colon_before(source: &str, span: Span) -> Option<Span> {
    let lines: Vec<&str> = source
        .lines()
        .take(span.line.saturating_sub(1) as usize)
        .collect();
    let (index, line) = lines
        .iter()
        .enumerate()
        .rev()
        .find(|(_, line)| !line.trim().is_empty())?;
    let text = line.trim_start();
    let is_key_or_item =
        text.contains(':') || text.starts_with(['-', '#', '[', '{', '|', '>', '"', '\'']);
    let indent = line.chars().count() - text.chars().count();
    (!is_key_or_item).then(|| Span::new(index as u32 + 1, indent as u32 + 1))
}
