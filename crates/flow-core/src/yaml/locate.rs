//! Finding a character of a scalar's value in the file it was read from.
//!
//! YAML changes a scalar's text on the way in: quotes and escapes go, line breaks fold into
//! spaces, indentation is dropped. So "character 12 of the value" is only rarely "12 columns
//! after the scalar's start". Every visible character of the value still appears in the source,
//! in the same order, written as itself or as an escape; walking the value and the source
//! together, skipping whitespace on the source side, finds it.

use std::sync::OnceLock;

use super::{Node, NodeValue, ScalarStyle, Span};

/// A flow file's text, indexed by line, to turn positions inside scalars into file positions.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    text: String,
    /// Byte offset where each line starts; line 1 is at index 0. Built on the first lookup:
    /// a flow without diagnostics never asks, and indexing a long file costs a pass over it.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceMap {
    /// Indexes `text`.
    pub fn new(text: &str) -> SourceMap {
        SourceMap {
            text: text.to_owned(),
            line_starts: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(byte, _)| byte + 1))
                .collect()
        })
    }

    /// Where the character at `offset` (in chars) of `node`'s value is written in the file.
    ///
    /// Falls back to counting from the start of the text when the source does not match the
    /// node, as for a tree built by hand.
    pub fn locate(&self, node: &Node, offset: usize) -> Span {
        let fallback = node.text_start().shifted(offset);
        let NodeValue::Scalar(value, style) = &node.value else {
            return node.span;
        };
        let Some(mut cursor) = self.cursor_at(node.span) else {
            return fallback;
        };
        let quote = match style {
            ScalarStyle::Quoted => cursor.next_char().filter(|c| matches!(c, '\'' | '"')),
            ScalarStyle::Block => {
                cursor.skip_indicator_line();
                None
            }
            ScalarStyle::Plain => None,
        };
        let double = quote == Some('"');
        for (index, c) in value.chars().enumerate() {
            if c.is_whitespace() {
                // Whitespace is skipped on the source side before the next visible character;
                // only an escape that writes it (`\t`, `\n`) must be consumed here.
                if double {
                    cursor.consume_whitespace_escape(c);
                }
                if index == offset {
                    return cursor.span();
                }
                continue;
            }
            cursor.skip_whitespace(double);
            if index == offset {
                return cursor.span();
            }
            let consumed = match (quote, cursor.peek()) {
                (Some('"'), Some('\\')) => cursor.skip_escape(),
                (Some('\''), Some('\'')) => cursor.skip(2),
                (_, Some(_)) => cursor.skip(1),
                (_, None) => false,
            };
            if !consumed {
                return fallback;
            }
        }
        cursor.skip_whitespace(double);
        cursor.span()
    }

    /// The text from `span` to the end of the file; empty when the span is not in it.
    pub fn text_from(&self, span: Span) -> &str {
        self.cursor_at(span).map_or("", |cursor| cursor.rest)
    }

    fn cursor_at(&self, span: Span) -> Option<Cursor<'_>> {
        let line_start = *self.line_starts().get(span.line.checked_sub(1)? as usize)?;
        let line = &self.text[line_start..];
        let byte = match line
            .char_indices()
            .nth(span.column.checked_sub(1)? as usize)
        {
            Some((byte, _)) => byte,
            None => line.len(),
        };
        Some(Cursor {
            rest: &line[byte..],
            line: span.line,
            column: span.column,
        })
    }
}

/// A position in the source that moves forward one character at a time.
struct Cursor<'s> {
    rest: &'s str,
    line: u32,
    column: u32,
}

impl Cursor<'_> {
    fn span(&self) -> Span {
        Span::new(self.line, self.column)
    }

    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest.chars().nth(1)
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.rest = &self.rest[c.len_utf8()..];
        match c {
            '\n' => {
                self.line += 1;
                self.column = 1;
            }
            _ => self.column += 1,
        }
        Some(c)
    }

    /// Moves `n` characters on; false when the source ends first.
    fn skip(&mut self, n: usize) -> bool {
        (0..n).all(|_| self.next_char().is_some())
    }

    /// Skips spaces, tabs and line breaks, and in a double-quoted scalar escaped line breaks.
    fn skip_whitespace(&mut self, double: bool) {
        loop {
            match (self.peek(), self.peek_second()) {
                (Some(' ' | '\t' | '\r' | '\n'), _) => {}
                (Some('\\'), Some('\r' | '\n')) if double => {}
                _ => return,
            }
            self.next_char();
        }
    }

    /// A block scalar's node may start at its `|` or `>` indicator; its text starts on the next line.
    fn skip_indicator_line(&mut self) {
        if matches!(self.peek(), Some('|' | '>')) {
            while self.peek().is_some_and(|c| c != '\n') {
                self.next_char();
            }
        }
    }

    /// Consumes the escape after the whitespace before it, when that escape writes `c`.
    fn consume_whitespace_escape(&mut self, c: char) {
        let mut ahead = Cursor {
            rest: self.rest,
            line: self.line,
            column: self.column,
        };
        while matches!(ahead.peek(), Some(' ' | '\t')) {
            ahead.next_char();
        }
        if ahead.peek() == Some('\\') && escaped_char(ahead.peek_second()) == Some(c) {
            ahead.skip(2);
            *self = ahead;
        }
    }

    /// Skips a `\` escape: `\n`, `\"`, `\x41`, `\u20ac`, `\U0001F355`.
    fn skip_escape(&mut self) -> bool {
        let hex_digits = match self.peek_second() {
            Some('x') => 2,
            Some('u') => 4,
            Some('U') => 8,
            _ => 0,
        };
        self.skip(2 + hex_digits)
    }
}

/// The character a one-letter escape writes: `t` for a tab, `n` for a line break...
fn escaped_char(letter: Option<char>) -> Option<char> {
    Some(match letter? {
        't' | '\t' => '\t',
        'n' => '\n',
        'r' => '\r',
        'v' => '\u{b}',
        'f' => '\u{c}',
        ' ' => ' ',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        _ => return None,
    })
}
