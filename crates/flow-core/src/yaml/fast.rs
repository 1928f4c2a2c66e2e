//! A quick reader for the plain YAML that flow files are written in.
//!
//! yaml-rust2 reads any YAML, one `char` at a time through a general scanner, and that was
//! most of the cost of loading a large flow. Flow files use a small part of YAML: block
//! mappings and sequences, one-line scalars (plain or quoted), one-line flow collections such
//! as `{var: x, is: y}`, and comments. This module reads that part, line by line, and hands
//! the tree builder the same events, with the same positions, that yaml-rust2 would.
//!
//! Anything else gives up (`None`) and yaml-rust2 reads the whole file instead: anchors,
//! aliases, tags, block scalars (`|`, `>`), scalars or flow collections over several lines,
//! quoted keys, unusual escapes, tabs, `\r`, document markers, and every syntax error, whose
//! messages and positions thus still come from yaml-rust2. A test compares the trees of both
//! readers on every file of the corpus and on generated text.

use std::borrow::Cow;

use yaml_rust2::parser::Event;

use super::{ScalarStyle, Span, TreeBuilder};

/// How deep collections may nest before the quick reader leaves the file to yaml-rust2.
const MAX_DEPTH: usize = 64;

/// Keys longer than this are left to yaml-rust2, which limits implicit keys.
const MAX_KEY_LEN: usize = 1000;

/// Sends the events of `source` to `builder`; `None`, having sent nothing yet or not,
/// when the file is not in the part of YAML this reader knows (start over with yaml-rust2).
pub(super) fn read(source: &str, builder: &mut TreeBuilder) -> Option<()> {
    if !is_plain_text(source) {
        return None;
    }
    let mut reader = Reader {
        source,
        ascii: source.is_ascii(),
        bytes: source.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        counted: (0, 0),
        depth: 0,
        builder,
    };
    reader.emit(Event::StreamStart);
    reader.emit(Event::DocumentStart);
    // An empty file is left to yaml-rust2, like every other unusual one.
    let indent = reader.next_content()??;
    if reader.block_collection(indent)?.is_some() {
        return None;
    }
    reader.emit(Event::DocumentEnd);
    reader.emit(Event::StreamEnd);
    Some(())
}

/// True when `source` holds only characters this reader takes as they are.
fn is_plain_text(source: &str) -> bool {
    // A branch-free pass over the bytes first: most files are printable ASCII.
    let ascii_ok = source.bytes().fold(true, |ok, b| {
        ok & ((b' '..=b'~').contains(&b) || b == b'\n' || b >= 0x80)
    });
    ascii_ok && (source.is_ascii() || source.chars().all(is_plain_char))
}

/// Characters this reader takes as they are: no tab, `\r`, control or Unicode line break.
fn is_plain_char(c: char) -> bool {
    c == '\n'
        || (c >= ' '
            && !('\u{7f}'..='\u{9f}').contains(&c)
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ))
}

/// Characters a plain scalar may not start with (YAML's indicators).
const INDICATORS: &[u8] = b"-?:,[]{}#&*!|>'\"%@`";

/// Characters of the keys this reader takes without quotes.
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b' ' | b'-' | b'.' | b'/' | b'$')
}

/// A plain scalar's text: one shared static text for the words flow files repeat in every
/// block, such as the keys `next` and `message`, so that they need no allocation of their own.
fn text(plain: &str) -> Cow<'static, str> {
    macro_rules! shared {
        ($($word:literal)*) => {
            match plain {
                $($word => Cow::Borrowed($word),)*
                _ => Cow::Owned(plain.to_owned()),
            }
        };
    }
    shared! {
        "bot" "description" "start" "variables" "settings" "blocks" "type" "default"
        "message" "question" "wait" "choice" "webhook" "set" "jump" "sleep" "event" "handoff"
        "end" "next" "save_to" "options" "expect" "pattern" "on_invalid" "on_timeout" "timeout"
        "attempts" "url" "method" "query" "headers" "body" "json" "form" "text" "save" "path"
        "to" "failure" "on_failure" "if" "else" "var" "is" "all" "any" "not" "equals"
        "not_equals" "contains" "starts_with" "ends_with" "at_least" "at_most" "greater_than"
        "less_than" "one_of" "matches" "case_sensitive" "add" "subtract" "multiply" "divide"
        "append" "push" "remove" "clear" "with" "return" "team" "name" "data" "true" "false"
    }
}

/// The indentation of the next line with content, or `None` at the end of the file.
type Next = Option<usize>;

struct Reader<'s> {
    source: &'s str,
    /// True when every character is one byte, so that columns are byte offsets.
    ascii: bool,
    bytes: &'s [u8],
    /// The byte being read.
    pos: usize,
    /// The current line, from 1.
    line: usize,
    /// The byte where the current line starts.
    line_start: usize,
    /// A byte of the current line and its column in characters, for files not all ASCII.
    counted: (usize, usize),
    /// How many collections are open.
    depth: usize,
    builder: &'s mut TreeBuilder,
}

impl Reader<'_> {
    fn peek(&self) -> u8 {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> u8 {
        self.bytes.get(self.pos + ahead).copied().unwrap_or(0)
    }

    /// Where the byte `pos` of the current line is, columns counted in characters.
    fn span_at(&mut self, pos: usize) -> Span {
        let column = match self.ascii {
            true => pos - self.line_start,
            false => {
                // Counted on from the last position asked for on this line, so that a long
                // line of many scalars is not counted again from its start for each one.
                let (from, column) = match self.counted {
                    (byte, column) if byte <= pos => (byte, column),
                    _ => (self.line_start, 0),
                };
                let column = column + self.source[from..pos].chars().count();
                self.counted = (pos, column);
                column
            }
        };
        Span::new(self.line as u32, column as u32 + 1)
    }

    fn emit(&mut self, event: Event) {
        let span = self.span_at(self.pos);
        self.builder.event(event, span);
    }

    /// A scalar starting at byte `at` of the current line.
    fn emit_scalar(&mut self, text: Cow<'static, str>, style: ScalarStyle, at: usize) {
        let span = self.span_at(at);
        self.emit_scalar_at(text, style, span);
    }

    fn emit_scalar_at(&mut self, text: Cow<'static, str>, style: ScalarStyle, span: Span) {
        self.builder.scalar(text, style, span, 0);
    }

    fn open(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn skip_spaces(&mut self) {
        while self.peek() == b' ' {
            self.pos += 1;
        }
    }

    fn new_line(&mut self) {
        self.pos += 1;
        self.line += 1;
        self.line_start = self.pos;
        self.counted = (self.pos, 0);
    }

    fn at_end_of_line(&self) -> bool {
        matches!(self.peek(), b'\n' | 0) || self.at_comment()
    }

    fn at_comment(&self) -> bool {
        self.peek() == b'#' && (self.pos == self.line_start || self.bytes[self.pos - 1] == b' ')
    }

    /// Skips spaces and a comment to the start of the next line; `None` if anything else is left.
    fn end_line(&mut self) -> Option<()> {
        self.skip_spaces();
        if self.at_comment() {
            while !matches!(self.peek(), b'\n' | 0) {
                self.pos += 1;
            }
        }
        match self.peek() {
            b'\n' => self.new_line(),
            0 if self.pos == self.bytes.len() => {}
            _ => return None,
        }
        Some(())
    }

    /// Skips blank and comment lines, from the start of a line, to the first character of the
    /// next line with content; its indentation, `Some(None)` at the end of the file.
    fn next_content(&mut self) -> Option<Next> {
        loop {
            if self.pos >= self.bytes.len() {
                return Some(None);
            }
            self.skip_spaces();
            let indent = self.pos - self.line_start;
            match self.peek() {
                0 => return Some(None),
                b'\n' => self.new_line(),
                b'#' => self.end_line()?,
                _ => {
                    let rest = &self.bytes[self.pos..];
                    let marker = rest.starts_with(b"---") || rest.starts_with(b"...");
                    if indent == 0 && (marker || rest[0] == b'%') {
                        return None;
                    }
                    return Some(Some(indent));
                }
            }
        }
    }

    fn at_sequence_entry(&self) -> bool {
        self.peek() == b'-' && matches!(self.peek_at(1), b' ' | b'\n' | 0)
    }

    /// A block mapping or sequence whose first line has content at `pos`, at column `indent`.
    fn block_collection(&mut self, indent: usize) -> Option<Next> {
        match self.at_sequence_entry() {
            true => self.block_sequence(indent),
            false => self.block_mapping(indent),
        }
    }

    fn block_sequence(&mut self, indent: usize) -> Option<Next> {
        self.open()?;
        self.emit(Event::SequenceStart(0, None));
        let next = loop {
            // At the `-` of an entry.
            self.pos += 1;
            self.skip_spaces();
            if self.at_end_of_line() {
                // The entry starts on a later line.
                return None;
            }
            let column = self.pos - self.line_start;
            let next = self.entry(column)?;
            match next {
                Some(at) if at == indent && self.at_sequence_entry() => continue,
                Some(at) if at > indent => return None,
                _ => break next,
            }
        };
        self.emit(Event::SequenceEnd);
        self.depth -= 1;
        Some(next)
    }

    /// A sequence entry that starts on the line of its `-`: a value, or a mapping whose keys
    /// stand at `column`.
    fn entry(&mut self, column: usize) -> Option<Next> {
        if self.at_key() {
            return self.block_mapping(column);
        }
        self.inline_value()
    }

    /// True at a plain key followed by `:` and a space or the end of the line.
    fn at_key(&self) -> bool {
        let rest = &self.bytes[self.pos..];
        let len = rest.iter().take_while(|&&b| is_key_byte(b)).count();
        len > 0
            && rest[len..].first() == Some(&b':')
            && matches!(rest.get(len + 1), None | Some(b' ' | b'\n'))
    }

    fn block_mapping(&mut self, indent: usize) -> Option<Next> {
        self.open()?;
        // yaml-rust2 marks a block mapping after its first key; the tree builder moves it to the
        // key, where this marks it.
        self.emit(Event::MappingStart(0, None));
        let next = loop {
            let key_span = self.span_at(self.pos);
            let key = self.key()?;
            self.emit_scalar_at(key, ScalarStyle::Plain, key_span);
            self.skip_spaces();
            let next = match self.at_end_of_line() {
                true => {
                    self.end_line()?;
                    match self.next_content()? {
                        Some(at) if at > indent => self.block_collection(at)?,
                        // A sequence at the key's own indentation.
                        Some(at) if at == indent && self.at_sequence_entry() => return None,
                        next => {
                            // The tree builder places an empty value at its key.
                            self.emit_scalar_at(Cow::Borrowed(""), ScalarStyle::Plain, key_span);
                            next
                        }
                    }
                }
                false => self.inline_value()?,
            };
            match next {
                Some(at) if at == indent && !self.at_sequence_entry() => continue,
                Some(at) if at >= indent => return None,
                _ => break next,
            }
        };
        self.emit(Event::MappingEnd);
        self.depth -= 1;
        Some(next)
    }

    /// A plain block key and its `:`.
    fn key(&mut self) -> Option<Cow<'static, str>> {
        if !self.at_key() || self.peek() == b'-' {
            return None;
        }
        let start = self.pos;
        while self.peek() != b':' {
            self.pos += 1;
        }
        let key = self.source[start..self.pos].trim_end_matches(' ');
        self.pos += 1;
        (key.len() <= MAX_KEY_LEN).then(|| text(key))
    }

    /// A value on the rest of the line (after `key: ` or `- `), and the lines that follow.
    fn inline_value(&mut self) -> Option<Next> {
        match self.peek() {
            b'{' | b'[' => self.flow_collection()?,
            b'"' | b'\'' => self.quoted()?,
            _ => self.plain_block_scalar()?,
        }
        self.end_line()?;
        self.next_content()
    }

    fn starts_plain(&self) -> bool {
        let first = self.peek();
        first != b' '
            && !matches!(first, b'\n' | 0)
            && (!INDICATORS.contains(&first)
                || (first == b'-'
                    && (self.peek_at(1).is_ascii_alphanumeric() || self.peek_at(1) == b'.')))
    }

    /// A plain scalar to the end of its line or to a comment.
    fn plain_block_scalar(&mut self) -> Option<()> {
        if !self.starts_plain() {
            return None;
        }
        let start = self.pos;
        // The scalar ends at the line's end or at ` #`; `a: b: c` is an error.
        let mut end = start;
        let mut after_space = false;
        loop {
            match self.bytes.get(end) {
                None | Some(b'\n') => break,
                Some(b'#') if after_space => break,
                Some(b':')
                    if matches!(self.bytes.get(end + 1), Some(b' ') | None | Some(b'\n')) =>
                {
                    return None
                }
                Some(&b) => after_space = b == b' ',
            }
            end += 1;
        }
        let plain = self.source[start..end].trim_end_matches(' ');
        self.pos = start + plain.len();
        self.emit_scalar(text(plain), ScalarStyle::Plain, start);
        Some(())
    }

    /// A single- or double-quoted scalar on one line; nothing but a comment may follow.
    fn quoted(&mut self) -> Option<()> {
        let start = self.pos;
        let text = match self.peek() {
            b'"' => self.double_quoted()?,
            _ => self.single_quoted()?,
        };
        self.emit_scalar(Cow::Owned(text), ScalarStyle::Quoted, start);
        Some(())
    }

    fn double_quoted(&mut self) -> Option<String> {
        let mut text = String::new();
        self.pos += 1;
        loop {
            let rest = &self.source[self.pos..];
            let stop = rest.find(['"', '\\', '\n'])?;
            text.push_str(&rest[..stop]);
            self.pos += stop;
            match self.peek() {
                b'"' => break,
                b'\\' => {
                    text.push(match self.peek_at(1) {
                        b'\\' => '\\',
                        b'"' => '"',
                        b'/' => '/',
                        b'n' => '\n',
                        b't' => '\t',
                        _ => return None,
                    });
                    self.pos += 2;
                }
                _ => return None,
            }
        }
        self.pos += 1;
        Some(text)
    }

    fn single_quoted(&mut self) -> Option<String> {
        let mut text = String::new();
        self.pos += 1;
        loop {
            let rest = &self.source[self.pos..];
            let stop = rest.find(['\'', '\n'])?;
            text.push_str(&rest[..stop]);
            self.pos += stop;
            if self.peek() == b'\n' {
                return None;
            }
            if self.peek_at(1) != b'\'' {
                break;
            }
            text.push('\'');
            self.pos += 2;
        }
        self.pos += 1;
        Some(text)
    }

    /// `{...}` or `[...]`, closed on the same line.
    fn flow_collection(&mut self) -> Option<()> {
        self.open()?;
        let mapping = self.peek() == b'{';
        let close = if mapping { b'}' } else { b']' };
        self.emit(match mapping {
            true => Event::MappingStart(0, None),
            false => Event::SequenceStart(0, None),
        });
        self.pos += 1;
        self.skip_spaces();
        if self.peek() == close {
            self.pos += 1;
        } else {
            loop {
                if mapping {
                    let key_at = self.pos;
                    let key = self.plain_flow_scalar(true)?;
                    self.emit_scalar(key, ScalarStyle::Plain, key_at);
                    if self.peek() != b':' || self.peek_at(1) != b' ' {
                        return None;
                    }
                    self.pos += 1;
                    self.skip_spaces();
                }
                self.flow_value()?;
                self.skip_spaces();
                match self.peek() {
                    b',' => {
                        self.pos += 1;
                        self.skip_spaces();
                        if self.peek() == close {
                            return None;
                        }
                    }
                    b if b == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.emit(match mapping {
            true => Event::MappingEnd,
            false => Event::SequenceEnd,
        });
        self.depth -= 1;
        Some(())
    }

    /// A value inside a flow collection.
    fn flow_value(&mut self) -> Option<()> {
        match self.peek() {
            b'{' | b'[' => self.flow_collection(),
            b'"' | b'\'' => self.quoted(),
            _ => {
                let at = self.pos;
                let text = self.plain_flow_scalar(false)?;
                self.emit_scalar(text, ScalarStyle::Plain, at);
                Some(())
            }
        }
    }

    /// A plain scalar inside a flow collection, up to `,`, a closing bracket, or (for a key)
    /// its `:`.
    fn plain_flow_scalar(&mut self, key: bool) -> Option<Cow<'static, str>> {
        if !self.starts_plain() {
            return None;
        }
        let start = self.pos;
        while !matches!(
            self.peek(),
            b',' | b'[' | b']' | b'{' | b'}' | b':' | b'#' | b'\n' | 0
        ) {
            self.pos += 1;
        }
        match self.peek() {
            b',' | b']' | b'}' => {}
            b':' if key => {}
            _ => return None,
        }
        let plain = self.source[start..self.pos].trim_end_matches(' ');
        (!plain.is_empty() && plain.len() <= MAX_KEY_LEN).then(|| text(plain))
    }
}

#[cfg(test)]
mod tests;
