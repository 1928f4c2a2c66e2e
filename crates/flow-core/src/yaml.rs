//! A YAML document as a tree of nodes that remember where they stand in the file.
//!
//! serde_yaml forgets positions once a value is deserialized, and every diagnostic
//! of `flowbot validate` needs a line and column, so flow files are read as events into
//! this tree first: by a quick reader of the plain YAML that flow files are written in
//! (module `fast`), or by yaml-rust2's event parser for everything else (see ARCHITECTURE.md).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

mod errors;
mod fast;
mod locate;

pub use locate::SourceMap;

/// A position in a flow file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1, counted in characters.
    pub column: u32,
}

impl Span {
    /// A span at `line`, `column` (both 1-based).
    pub fn new(line: u32, column: u32) -> Span {
        Span { line, column }
    }

    /// The same line, `n` characters further right.
    pub fn shifted(self, n: usize) -> Span {
        Span {
            line: self.line,
            column: self.column + n as u32,
        }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// How a scalar was written; quoted scalars are always text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    /// Unquoted: may be a number, a boolean or null.
    Plain,
    /// `'single'` or `"double"` quoted.
    Quoted,
    /// A `|` or `>` block.
    Block,
}

/// One YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub span: Span,
    /// The value.
    pub value: NodeValue,
}

/// The three shapes of YAML values.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// A scalar, as written (resolution to number, boolean or null happens on demand).
    ///
    /// The keys a flow repeats in every block (`next`, `message`...) share one static text.
    Scalar(Cow<'static, str>, ScalarStyle),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in file order; duplicate keys are kept for the checker to report.
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid YAML: {message}")]
pub struct YamlError {
    /// Where the parser gave up.
    pub span: Span,
    /// The parser's explanation.
    pub message: String,
    /// What to do, for the mistakes bot authors make most.
    pub help: Option<String>,
}

impl Node {
    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            NodeValue::Scalar(text, _) => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            NodeValue::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// True for a plain `null`, `~` or empty scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.value, NodeValue::Scalar(text, ScalarStyle::Plain) if is_null_text(text))
    }

    /// Where the text of a scalar starts: after the opening quote of a quoted scalar.
    pub fn text_start(&self) -> Span {
        match &self.value {
            NodeValue::Scalar(_, ScalarStyle::Quoted) => self.span.shifted(1),
            _ => self.span,
        }
    }

    /// "a mapping", "a list", "a number"...: what a bot author would call this value.
    pub fn describe(&self) -> &'static str {
        match &self.value {
            NodeValue::Map(_) => "a mapping",
            NodeValue::Seq(_) => "a list",
            NodeValue::Scalar(text, ScalarStyle::Plain) => match resolve_plain(text) {
                Plain::Null => "nothing (null)",
                Plain::Bool(_) => "a boolean",
                Plain::Int(_) | Plain::Float(_) => "a number",
                Plain::Str => "text",
            },
            NodeValue::Scalar(..) => "text",
        }
    }

    /// The value as JSON, resolving plain scalars by the YAML 1.2 core schema.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Scalar(text, ScalarStyle::Plain) => match resolve_plain(text) {
                Plain::Null => Value::Null,
                Plain::Bool(b) => Value::Bool(b),
                Plain::Int(i) => Value::from(i),
                Plain::Float(f) => serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .unwrap_or_else(|| Value::String(text.to_string())),
                Plain::Str => Value::String(text.to_string()),
            },
            NodeValue::Scalar(text, _) => Value::String(text.to_string()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_scalar().unwrap_or_default().to_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// What a plain scalar means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

fn is_empty_plain(node: &Node) -> bool {
    matches!(&node.value, NodeValue::Scalar(text, ScalarStyle::Plain) if text.is_empty())
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
pub(crate) fn resolve_plain(text: &str) -> Plain {
    if is_null_text(text) {
        return Plain::Null;
    }
    match text {
        "true" | "True" | "TRUE" => return Plain::Bool(true),
        "false" | "False" | "FALSE" => return Plain::Bool(false),
        _ => {}
    }
    let looks_numeric = text
        .trim_start_matches(['-', '+'])
        .starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_numeric {
        if let Ok(i) = text.parse::<i64>() {
            return Plain::Int(i);
        }
        if let Ok(f) = text.parse::<f64>() {
            if f.is_finite() {
                return Plain::Float(f);
            }
        }
    }
    Plain::Str
}

/// Parses one YAML document; `Ok(None)` for an empty file.
pub fn parse(source: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = TreeBuilder::default();
    if fast::read(source, &mut builder).is_some() {
        return Ok(builder.root);
    }
    parse_in_full(source)
}

/// Parses one document with yaml-rust2, which reads any YAML and explains every error.
fn parse_in_full(source: &str) -> Result<Option<Node>, YamlError> {
    let mut builder = TreeBuilder::default();
    let mut parser = Parser::new_from_str(source);
    // Every document is read, so that a second one is reported instead of ignored.
    parser
        .load(&mut builder, true)
        .map_err(|error| errors::explain(source, span_of(error.marker()), error.info()))?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    Ok(builder.root)
}

fn span_of(marker: &Marker) -> Span {
    // yaml-rust2 reports 1-based lines and 0-based columns.
    Span::new(marker.line() as u32, marker.col() as u32 + 1)
}

/// A collection being filled while its events arrive.
enum Open {
    Seq(Span, Vec<Node>),
    Map(Span, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<(Open, usize)>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    error: Option<YamlError>,
}

impl TreeBuilder {
    fn push_node(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some((Open::Seq(_, items), _)) => items.push(node),
            Some((Open::Map(span, entries, pending_key), _)) => match pending_key.take() {
                None => {
                    // Block mappings report their start after the first key; the key is the better anchor.
                    if entries.is_empty() && node.span < *span {
                        *span = node.span;
                    }
                    *pending_key = Some(node);
                }
                Some(key) => {
                    // An empty value (`next:` and nothing after it) has no position of its own:
                    // the scanner marks where the next token starts, often lines below.
                    let node = match is_empty_plain(&node) {
                        true => Node {
                            span: key.span,
                            ..node
                        },
                        false => node,
                    };
                    entries.push((key, node));
                }
            },
        }
    }
}

impl MarkedEventReceiver for TreeBuilder {
    fn on_event(&mut self, event: Event, marker: Marker) {
        self.event(event, span_of(&marker));
    }
}

impl TreeBuilder {
    /// Takes a scalar, which starts at `span`.
    fn scalar(&mut self, text: Cow<'static, str>, style: ScalarStyle, span: Span, anchor: usize) {
        let node = Node {
            span,
            value: NodeValue::Scalar(text, style),
        };
        self.push_node(node, anchor);
    }

    /// Takes one event, which starts at `span`.
    fn event(&mut self, event: Event, span: Span) {
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                let style = match style {
                    TScalarStyle::Plain => ScalarStyle::Plain,
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => ScalarStyle::Quoted,
                    TScalarStyle::Literal | TScalarStyle::Folded => ScalarStyle::Block,
                };
                self.scalar(Cow::Owned(text), style, span, anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push((Open::Seq(span, Vec::new()), anchor))
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push((Open::Map(span, Vec::new(), None), anchor))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some((open, anchor)) = self.stack.pop() else {
                    return;
                };
                let node = match open {
                    Open::Seq(span, items) => Node {
                        span,
                        value: NodeValue::Seq(items),
                    },
                    Open::Map(span, entries, _) => Node {
                        span,
                        value: NodeValue::Map(entries),
                    },
                };
                self.push_node(node, anchor);
            }
            Event::Alias(anchor) => match self.anchors.get(&anchor).cloned() {
                Some(node) => self.push_node(Node { span, ..node }, 0),
                None => {
                    self.error.get_or_insert(errors::explain(
                        "",
                        span,
                        "alias to an unknown anchor",
                    ));
                }
            },
            Event::DocumentStart if self.root.is_some() => {
                let message = "a flow file holds one bot, but a second YAML document starts here";
                self.error.get_or_insert(errors::explain("", span, message));
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests;
