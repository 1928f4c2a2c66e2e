//! Parser for the builder's path language: dotted keys, brackets, quoted keys and `flatMap`.
//!
//! ```text
//! path     = "" | first step*
//! first    = key | call | bracket
//! step     = "." key | "." call | bracket
//! key      = any run of chars other than . [ ] ( ) ' " and whitespace
//! call     = "flatMap(" ws* ident ws* "=>" ws* ident step* ws* ")"   (the body starts with ident)
//! bracket  = "[" ws* (index | quoted) ws* "]"
//! index    = "-"? digit+
//! quoted   = '"' ... '"' | "'" ... "'"                  (escapes: \" \' \\)
//! ```

use std::borrow::Cow;

use super::{PathSyntaxError, Step, StepOp};

/// How deep `flatMap`s may nest; a bound keeps the recursive parser and evaluator off the
/// edge of the stack whatever a flow file contains.
const MAX_FLAT_MAP_DEPTH: usize = 32;

/// Parses a builder path (one that does not start with `$`) into its steps.
pub(super) fn steps(source: &str) -> Result<Vec<Step>, PathSyntaxError> {
    // Sized once: collected, the chars (whose number `Chars` guesses at a quarter of the bytes)
    // would grow the vector two or three times.
    let mut chars = Vec::with_capacity(source.len());
    chars.extend(source.char_indices());
    let mut parser = Parser {
        source,
        chars,
        pos: 0,
        depth: 0,
    };
    parser.path()
}

struct Parser<'s> {
    source: &'s str,
    /// The source's chars with their byte offsets; `pos` indexes this, so it is a char offset.
    chars: Vec<(usize, char)>,
    pos: usize,
    depth: usize,
}

type ParseResult<T> = Result<T, PathSyntaxError>;

fn is_key_char(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '(' | ')' | '"' | '\'') && !c.is_whitespace()
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

impl<'s> Parser<'s> {
    fn peek(&self) -> Option<char> {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).map(|&(_, c)| c)
    }

    /// Byte offset of the current char (the source length at the end).
    fn byte_pos(&self) -> usize {
        self.chars
            .get(self.pos)
            .map_or(self.source.len(), |&(byte, _)| byte)
    }

    fn error<T>(&self, offset: usize, message: impl Into<String>) -> ParseResult<T> {
        Err(PathSyntaxError {
            offset,
            message: message.into(),
        })
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// The chars from here on that `keep` accepts, as a slice of the source: a key is copied
    /// only when a step keeps it, not `flatMap` or its parameter's name.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'s str {
        let source = self.source;
        let start = self.byte_pos();
        while self.peek().is_some_and(&keep) {
            self.pos += 1;
        }
        &source[start..self.byte_pos()]
    }

    fn path(&mut self) -> ParseResult<Vec<Step>> {
        let mut steps = Vec::new();
        match self.peek() {
            None => return Ok(steps),
            Some('[') => steps.push(self.bracket()?),
            Some('.') => {
                return self.error(0, "a path cannot start with `.` (write `key`, not `.key`)")
            }
            Some(_) => steps.push(self.key_or_call(0)?),
        }
        self.steps(&mut steps, None)?;
        Ok(steps)
    }

    /// Parses steps until the end of the path or, inside a `flatMap` body (`open_paren` is the
    /// char offset of its `(`), until the `)` that closes it, which is left for the caller.
    fn steps(&mut self, steps: &mut Vec<Step>, open_paren: Option<usize>) -> ParseResult<()> {
        loop {
            let start = self.byte_pos();
            match (self.peek(), open_paren) {
                (None, None) => return Ok(()),
                (None, Some(open)) => return self.error(open, "unclosed `flatMap(` (add `)`)"),
                (Some('.'), _) => {
                    self.pos += 1;
                    steps.push(self.key_or_call(start)?);
                }
                (Some('['), _) => steps.push(self.bracket()?),
                (Some(')'), Some(_)) => return Ok(()),
                (Some(c), Some(_)) if c.is_whitespace() => {
                    let space = self.pos;
                    self.skip_whitespace();
                    if self.peek() != Some(')') {
                        return self.error(
                            space,
                            "unexpected space (quote keys that contain spaces: `[\"full name\"]`)",
                        );
                    }
                }
                (Some(c), _) if c.is_whitespace() => {
                    return self.error(
                        self.pos,
                        "unexpected space (quote keys that contain spaces: `[\"full name\"]`)",
                    );
                }
                (Some(c), _) => {
                    return self.error(
                        self.pos,
                        format!("expected `.`, `[` or the end of the path, found `{c}`"),
                    );
                }
            }
        }
    }

    /// Parses a bare key, or `flatMap(...)` when the key is followed by `(`.
    /// `start` is the byte offset of the step (its `.` if it has one).
    fn key_or_call(&mut self, start: usize) -> ParseResult<Step> {
        let key_pos = self.pos;
        let key = self.take_while(is_key_char);
        if key.is_empty() {
            let message = match self.peek() {
                Some('"' | '\'') => {
                    "expected a key (quoted keys go in brackets: `[\"full name\"]`)"
                }
                _ if key_pos > 0 => "expected a key after `.`",
                _ => "expected a key",
            };
            return self.error(self.pos, message);
        }
        if self.peek() != Some('(') {
            return Ok(Step {
                start,
                op: StepOp::Key(key.to_owned()),
            });
        }
        if key != "flatMap" {
            return self.error(
                key_pos,
                format!("unknown function `{key}` (the only one is `flatMap(item => item.key)`)"),
            );
        }
        self.flat_map(start)
    }

    /// Parses `(item => item...)` after `flatMap`; the current char is the `(`.
    fn flat_map(&mut self, start: usize) -> ParseResult<Step> {
        let open_paren = self.pos;
        if self.depth == MAX_FLAT_MAP_DEPTH {
            return self.error(
                open_paren,
                format!("flatMap nested too deeply (at most {MAX_FLAT_MAP_DEPTH} levels)"),
            );
        }
        self.pos += 1;
        self.skip_whitespace();
        let name_pos = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return self.error(
                name_pos,
                "expected a parameter name after `flatMap(`, as in `flatMap(item => item.key)`",
            );
        }
        let name = self.take_while(is_ident_char);
        self.skip_whitespace();
        if !(self.peek() == Some('=') && self.peek_at(1) == Some('>')) {
            return self.error(self.pos, format!("expected `=>` after `{name}`"));
        }
        self.pos += 2;
        self.skip_whitespace();
        let body_pos = self.pos;
        let body_name = self.take_while(is_key_char);
        if body_name != name {
            return self.error(
                body_pos,
                format!("expected the flatMap body to start with `{name}`"),
            );
        }
        self.depth += 1;
        let mut body = Vec::new();
        self.steps(&mut body, Some(open_paren))?;
        self.depth -= 1;
        // `steps` only returns inside a body when it stands on the closing `)`.
        self.pos += 1;
        Ok(Step {
            start,
            op: StepOp::FlatMap(body),
        })
    }

    /// Parses `[3]`, `[-1]`, `["key"]` or `['key']`; the current char is the `[`.
    fn bracket(&mut self) -> ParseResult<Step> {
        let start = self.byte_pos();
        self.pos += 1;
        self.skip_whitespace();
        let (op, what) = match self.peek() {
            Some(quote @ ('"' | '\'')) => (StepOp::Key(self.quoted(quote)?), "quoted key"),
            Some(c) if c == '-' || c.is_ascii_digit() => (StepOp::Index(self.index()?), "index"),
            _ => return self.error(self.pos, "expected an index or a quoted key after `[`"),
        };
        self.skip_whitespace();
        if self.peek() != Some(']') {
            return self.error(self.pos, format!("expected `]` after {what}"));
        }
        self.pos += 1;
        Ok(Step { start, op })
    }

    fn index(&mut self) -> ParseResult<i64> {
        let sign_pos = self.pos;
        let negative = self.peek() == Some('-');
        if negative {
            self.pos += 1;
        }
        let digits_pos = self.pos;
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return self.error(digits_pos, "expected digits after `-`");
        }
        let signed = match negative {
            true => Cow::Owned(format!("-{digits}")),
            false => Cow::Borrowed(digits),
        };
        signed
            .parse()
            .or_else(|_| self.error(sign_pos, "index is too large"))
    }

    /// Parses a quoted key; the current char is the opening quote.
    fn quoted(&mut self, quote: char) -> ParseResult<String> {
        let open = self.pos;
        let unclosed = format!("unclosed quoted key (add a closing {quote})");
        self.pos += 1;
        let mut key = String::new();
        loop {
            match self.peek() {
                None => return self.error(open, unclosed),
                Some('\\') => {
                    match self.peek_at(1) {
                        Some(c @ ('"' | '\'' | '\\')) => key.push(c),
                        None => return self.error(open, unclosed),
                        Some(c) => {
                            return self.error(
                                self.pos,
                                format!(
                                    "unknown escape `\\{c}` (only \\\", \\' and \\\\ are allowed)"
                                ),
                            )
                        }
                    }
                    self.pos += 2;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(key);
                }
                Some(c) => {
                    key.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}
