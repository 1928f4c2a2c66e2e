//! Reading typed values out of YAML nodes, reporting every problem with its position.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Problem};
use crate::flow::{BlockId, IdHasher, ValueTemplate};
use crate::path::Path;
use crate::suggest;
use crate::template::{Part, Template};
use crate::yaml::{Node, NodeValue, ScalarStyle, SourceMap, Span};

/// Collects diagnostics while a flow is compiled, remembering the block being read.
#[derive(Default)]
pub(crate) struct Reporter {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) block: Option<BlockId>,
    /// The file's text, to point inside scalars.
    pub(crate) source: SourceMap,
}

impl Reporter {
    /// A reporter for the flow whose text is `source`.
    pub(crate) fn new(source: &str) -> Reporter {
        Reporter {
            source: SourceMap::new(source),
            ..Reporter::default()
        }
    }

    /// Where character `offset` of a scalar's value is written in the file.
    pub(crate) fn offset_span(&self, node: &Node, offset: usize) -> Span {
        self.source.locate(node, offset)
    }

    /// Reports `problem` at `span` in the current block.
    pub(crate) fn report(&mut self, problem: Problem, span: Span) {
        self.report_with_help(problem, span, None);
    }

    /// Reports `problem` with a hint of what to do.
    pub(crate) fn report_with_help(&mut self, problem: Problem, span: Span, help: Option<String>) {
        let diagnostic = Diagnostic::new(problem, span)
            .in_block(self.block.as_ref().map(BlockId::as_str))
            .with_help(help);
        self.diagnostics.push(diagnostic);
    }

    /// True once an error (not a warning) was reported.
    pub(crate) fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Reports a value of the wrong shape.
    pub(crate) fn wrong_type(&mut self, node: &Node, what: &str, expected: &str) {
        self.wrong_type_with_help(node, what, expected, None);
    }

    /// Reports a value of the wrong shape, with what to do.
    pub(crate) fn wrong_type_with_help(
        &mut self,
        node: &Node,
        what: &str,
        expected: &str,
        help: Option<String>,
    ) {
        // `message: {{name}}` is a YAML mapping, not a placeholder: the commonest surprise.
        let unquoted_placeholder =
            node.as_map().is_some() && self.source.text_from(node.span).starts_with("{{");
        let help = match unquoted_placeholder {
            true => Some(
                "a text that starts with `{{` must be put in quotes: `\"{{name}} ...\"`".to_owned(),
            ),
            false => help,
        };
        self.report_with_help(
            Problem::WrongType(format!(
                "{what} must be {expected}, found {}",
                node.describe()
            )),
            node.span,
            help,
        );
    }
}

/// The entries of a mapping whose keys were checked against the allowed ones.
pub(crate) struct Fields<'n> {
    /// The mapping's entries, all of them kept: the usual case, which needs no copy.
    all: &'n [(Node, Node)],
    /// The entries kept, once one was not (`all` is then ignored).
    kept: Option<Vec<(&'n str, &'n Node, &'n Node)>>,
    /// Allowed keys that an unknown key evidently stands for: a misspelling or a misplacement.
    meant: Vec<String>,
}

impl<'n> Fields<'n> {
    /// Leaves out entry `index` of the mapping: from the first one, the entries kept so far
    /// (all those before it) are copied into `kept`.
    fn leave_out(&mut self, index: usize) {
        if self.kept.is_none() {
            let mut kept = Vec::with_capacity(self.all.len());
            kept.extend(
                self.all[..index]
                    .iter()
                    .map(|(key, value)| (key.as_scalar().unwrap_or_default(), key, value)),
            );
            self.kept = Some(kept);
        }
    }

    /// True when an entry kept before entry `index` of the mapping has the key `name`.
    fn has_before(&self, index: usize, name: &str) -> bool {
        match &self.kept {
            Some(kept) => kept.iter().any(|(kept, ..)| *kept == name),
            None => self.all[..index]
                .iter()
                .any(|(key, _)| key.as_scalar() == Some(name)),
        }
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.find(key).map(|(_, value)| value)
    }

    /// The key node of `key` (for pointing at the key rather than its value).
    pub(crate) fn key_node(&self, key: &str) -> Option<&'n Node> {
        self.find(key).map(|(key, _)| key)
    }

    /// The key node and value of `key`.
    fn find(&self, key: &str) -> Option<(&'n Node, &'n Node)> {
        match &self.kept {
            Some(kept) => kept
                .iter()
                .find(|(name, ..)| *name == key)
                .map(|&(_, key, value)| (key, value)),
            None => self
                .all
                .iter()
                .find(|(name, _)| name.as_scalar() == Some(key))
                .map(|(key, value)| (key, value)),
        }
    }

    /// True when `key` is present.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// True when `key` is present, or an unknown key was reported as standing for it.
    ///
    /// A check for a missing key asks this, so a misspelt `nxet` gives one error, not two.
    pub(crate) fn mentions(&self, key: &str) -> bool {
        self.has(key) || self.meant.iter().any(|meant| meant == key)
    }

    /// Records keys that unknown keys, reported elsewhere, stand for.
    pub(crate) fn add_meant(&mut self, meant: Vec<String>) {
        self.meant.extend(meant);
    }

    /// All entries, in file order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'n str, &'n Node, &'n Node)> + '_ {
        let all = match self.kept {
            Some(_) => &[],
            None => self.all,
        };
        // Every key of `all` is a scalar.
        let all = all
            .iter()
            .map(|(key, value)| (key.as_scalar().unwrap_or_default(), key, value));
        self.kept.iter().flatten().copied().chain(all)
    }
}

/// Reads a mapping, reporting keys that are not allowed (with a did-you-mean) and duplicates.
/// `what` names the place for messages, e.g. "webhook" or "a save entry".
pub(crate) fn fields<'n>(
    reporter: &mut Reporter,
    node: &'n Node,
    what: &str,
    allowed: &[&str],
) -> Option<Fields<'n>> {
    fields_or_elsewhere(reporter, node, what, allowed, &|_| None)
}

/// Says where a key that is not allowed here belongs instead, as help text.
pub(crate) type Elsewhere<'a> = &'a dyn Fn(&str) -> Option<String>;

/// [`fields`], with `elsewhere` telling where keys of a neighbouring place belong, a better
/// hint than a did-you-mean for a key written at the wrong level.
pub(crate) fn fields_or_elsewhere<'n>(
    reporter: &mut Reporter,
    node: &'n Node,
    what: &str,
    allowed: &[&str],
    elsewhere: Elsewhere,
) -> Option<Fields<'n>> {
    let Some(entries) = node.as_map() else {
        reporter.wrong_type(node, what, "a mapping");
        return None;
    };
    let mut fields = Fields {
        all: entries,
        kept: None,
        meant: Vec::new(),
    };
    // `blocks` may hold thousands of keys: past a few, a set beats scanning for duplicates.
    let large = entries.len() > 16;
    let capacity = if large { entries.len() } else { 0 };
    let mut seen =
        std::collections::HashSet::with_capacity_and_hasher(capacity, IdHasher::default());
    for (index, (key, value)) in entries.iter().enumerate() {
        let name = match key.as_scalar() {
            Some(name) => name,
            None => {
                reporter.wrong_type(key, "a key", "text");
                fields.leave_out(index);
                continue;
            }
        };
        let duplicate = match large {
            true => !seen.insert(name),
            false => fields.has_before(index, name),
        };
        if duplicate {
            let help = match what {
                "`blocks`" => {
                    format!("a block above is already called `{name}`: give each block its own id")
                }
                _ => format!("`{name}` is already set above: keep one of them"),
            };
            reporter.report_with_help(Problem::DuplicateKey(name.to_owned()), key.span, Some(help));
            fields.leave_out(index);
            continue;
        }
        if !allowed.is_empty() && !allowed.contains(&name) {
            let meant = report_unknown_key(reporter, key, name, what, allowed, elsewhere(name));
            fields.meant.extend(meant);
            fields.leave_out(index);
            continue;
        }
        if let Some(kept) = &mut fields.kept {
            kept.push((name, key, value));
        }
    }
    Some(fields)
}

/// Reports `name` as unknown in `what`, with `elsewhere` as help when the key belongs in another
/// place, else suggesting the closest allowed key. Returns the key the author evidently meant.
pub(crate) fn report_unknown_key(
    reporter: &mut Reporter,
    key: &Node,
    name: &str,
    what: &str,
    allowed: &[&str],
    elsewhere: Option<String>,
) -> Option<String> {
    let message = format!(
        "unknown key `{name}` in {what}{}",
        suggest::expected_keys(allowed)
    );
    let (help, meant) = match (elsewhere, suggest::closest(name, allowed.iter().copied())) {
        (Some(help), _) => (Some(help), Some(name.to_owned())),
        (None, Some(closest)) => (
            Some(format!("did you mean `{closest}`?")),
            Some(closest.to_owned()),
        ),
        (None, None) if name == "<<" => (Some(MERGE_KEY_HELP.to_owned()), None),
        (None, None) => (None, None),
    };
    reporter.report_with_help(Problem::UnknownKey(message), key.span, help);
    meant
}

/// Help for `<<: *anchor`, which YAML 1.1 tools merge but YAML 1.2, and flowbot, do not.
const MERGE_KEY_HELP: &str =
    "merge keys (`<<: *name`) are not supported: write the keys out, or alias a whole value with `*name`";

/// The text of a scalar (numbers and booleans as written); `None` with a report otherwise.
pub(crate) fn text<'n>(reporter: &mut Reporter, node: &'n Node, what: &str) -> Option<&'n str> {
    match &node.value {
        NodeValue::Scalar(_, ScalarStyle::Plain) if node.is_null() => {
            reporter.wrong_type(node, what, "text");
            None
        }
        NodeValue::Scalar(text, _) => Some(text),
        _ => {
            reporter.wrong_type(node, what, "text");
            None
        }
    }
}

/// A boolean scalar.
pub(crate) fn boolean(reporter: &mut Reporter, node: &Node, what: &str) -> Option<bool> {
    match node.to_json() {
        Value::Bool(b) if !matches!(node.value, NodeValue::Scalar(_, ScalarStyle::Quoted)) => {
            Some(b)
        }
        _ => {
            let quoted = matches!(&node.value, NodeValue::Scalar(text, ScalarStyle::Quoted) if matches!(text.as_ref(), "true" | "false"));
            let help = match quoted {
                true => "write it without quotes: quoted, it is text".to_owned(),
                false => format!("write {what} as `true` or `false`, without quotes"),
            };
            reporter.wrong_type_with_help(node, what, "`true` or `false`", Some(help));
            None
        }
    }
}

/// A whole number within `range`.
pub(crate) fn whole_number(
    reporter: &mut Reporter,
    node: &Node,
    what: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Option<u64> {
    match node.to_json().as_i64() {
        Some(n) if n >= 0 && range.contains(&(n as u64)) => Some(n as u64),
        // A whole number out of range is a bad value, not a wrong type: "found a number" would
        // contradict "must be a whole number".
        Some(n) => {
            reporter.report(
                Problem::BadValue(format!(
                    "{what} must be from {} to {}, found {n}",
                    range.start(),
                    range.end()
                )),
                node.span,
            );
            None
        }
        None => {
            let expected = format!("a whole number from {} to {}", range.start(), range.end());
            reporter.wrong_type(node, what, &expected);
            None
        }
    }
}

/// A template; `allow_secrets` only in webhook requests.
///
/// `what` names the value in diagnostics; it is written out only for one, so a name put
/// together from parts (`format_args!`) costs nothing while the flow is fine.
pub(crate) fn template(
    reporter: &mut Reporter,
    node: &Node,
    what: impl fmt::Display + Copy,
    allow_secrets: bool,
) -> Option<Template> {
    // As `text`, which takes the name written out.
    let source = match &node.value {
        NodeValue::Scalar(text, _) if !node.is_null() => text,
        _ => {
            reporter.wrong_type(node, &what.to_string(), "text");
            return None;
        }
    };
    let template = match Template::parse(source) {
        Ok(template) => template,
        Err(error) => {
            let (message, hint) = split_hint(&error.message);
            reporter.report_with_help(
                Problem::TemplateSyntax(format!("{message} in {what}")),
                reporter.offset_span(node, error.offset),
                hint,
            );
            return None;
        }
    };
    if !allow_secrets {
        if let Some(secret) = template.secrets().next() {
            reporter.report_with_help(
                Problem::SecretOutsideRequest(secret.to_owned()),
                reporter.offset_span(node, secret_offset(source)),
                Some("use secrets only in a webhook's url, query, headers or body".to_owned()),
            );
            return None;
        }
    }
    Some(template)
}

/// The char offset of the first `{{secret...}}` placeholder in a template's source.
fn secret_offset(source: &str) -> usize {
    let chars: Vec<char> = source.chars().collect();
    (0..chars.len().saturating_sub(1))
        .filter(|&at| chars[at] == '{' && chars[at + 1] == '{')
        .find(|&at| {
            chars[at + 2..]
                .iter()
                .collect::<String>()
                .trim_start()
                .starts_with("secret")
        })
        .unwrap_or(0)
}

/// A regular expression; a syntax error is reported at the character it concerns.
pub(crate) fn regex(
    reporter: &mut Reporter,
    node: &Node,
    pattern: &str,
    case_insensitive: bool,
) -> Option<regex::Regex> {
    let error = match regex::RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .build()
    {
        Ok(regex) => return Some(regex),
        Err(error) => error,
    };
    // `regex` only gives its message; its parser, run again, gives the position.
    let parsed = regex_syntax::ParserBuilder::new()
        .case_insensitive(case_insensitive)
        .build()
        .parse(pattern);
    let byte = match parsed {
        Err(regex_syntax::Error::Parse(error)) => error.span().start.offset,
        Err(regex_syntax::Error::Translate(error)) => error.span().start.offset,
        _ => 0,
    };
    let offset = pattern
        .get(..byte)
        .map_or(0, |before| before.chars().count());
    reporter.report_with_help(
        Problem::RegexSyntax(regex_message(&error.to_string())),
        reporter.offset_span(node, offset),
        Some("in a regular expression every `(`, `[` and `{` must be closed; write `\\(`, `\\[` or `\\{` to match the character itself".to_owned()),
    );
    None
}

/// The most telling line of a regex error (the crate's message spans several lines).
fn regex_message(message: &str) -> String {
    message
        .lines()
        .rev()
        .find(|line| line.starts_with("error:"))
        .or_else(|| message.lines().next())
        .unwrap_or(message)
        .trim_start_matches("error:")
        .trim()
        .to_owned()
}

/// A template that must be exactly one placeholder of a variable (`"{{titles}}"`).
pub(crate) fn single_variable(template: &Template) -> bool {
    matches!(template.single_placeholder(), Some(Part::Variable(_)))
}

/// A path, with its syntax errors pointed at inside the string.
pub(crate) fn path(reporter: &mut Reporter, node: &Node, what: &str) -> Option<Path> {
    let source = if node.is_null() {
        ""
    } else {
        text(reporter, node, what)?
    };
    match Path::parse(source) {
        Ok(path) => Some(path),
        Err(error) => {
            let (message, hint) = split_hint(&error.message);
            reporter.report_with_help(
                Problem::PathSyntax(format!("{message} in {what} `{source}`")),
                reporter.offset_span(node, error.offset),
                hint,
            );
            None
        }
    }
}

/// Splits "unclosed `{{` (add `}}`)", as the template and path parsers write their errors,
/// into what is wrong and what to do, so the hint lands in the help like every other one.
pub(crate) fn split_hint(message: &str) -> (String, Option<String>) {
    match message
        .strip_suffix(')')
        .and_then(|rest| rest.rsplit_once(" ("))
    {
        Some((problem, hint)) => (problem.to_owned(), Some(hint.to_owned())),
        None => (message.to_owned(), None),
    }
}

/// A JSON value whose strings are templates.
///
/// `what` names the value in diagnostics, as for [`template`].
pub(crate) fn value_template(
    reporter: &mut Reporter,
    node: &Node,
    what: impl fmt::Display + Copy,
    allow_secrets: bool,
) -> Option<ValueTemplate> {
    match &node.value {
        NodeValue::Scalar(_, ScalarStyle::Plain) if !node.to_json().is_string() => {
            Some(ValueTemplate::Literal(node.to_json()))
        }
        NodeValue::Scalar(..) => {
            let template = template(reporter, node, what, allow_secrets)?;
            Some(match template.is_literal() {
                true => ValueTemplate::Literal(Value::String(template.source().to_owned())),
                false => ValueTemplate::Text(template),
            })
        }
        NodeValue::Seq(items) => {
            let mut out = Vec::new();
            let mut ok = true;
            for item in items {
                match value_template(reporter, item, what, allow_secrets) {
                    Some(value) => out.push(value),
                    None => ok = false,
                }
            }
            let all_literal = out.iter().all(|v| matches!(v, ValueTemplate::Literal(_)));
            ok.then(|| match all_literal {
                true => ValueTemplate::Literal(node.to_json()),
                false => ValueTemplate::List(out),
            })
        }
        NodeValue::Map(entries) => {
            let mut out = Vec::new();
            let mut seen = Vec::new();
            let mut ok = true;
            for (key, value) in entries {
                let Some(name) = text(reporter, key, "a key") else {
                    ok = false;
                    continue;
                };
                // JSON would keep only the last of two equal keys; the author meant something else.
                if seen.contains(&name) {
                    let help = format!("`{name}` is already set above: keep one of them");
                    reporter.report_with_help(
                        Problem::DuplicateKey(name.to_owned()),
                        key.span,
                        Some(help),
                    );
                    ok = false;
                    continue;
                }
                seen.push(name);
                match value_template(reporter, value, what, allow_secrets) {
                    Some(value) => out.push((name.to_owned(), value)),
                    None => ok = false,
                }
            }
            let all_literal = out
                .iter()
                .all(|(_, v)| matches!(v, ValueTemplate::Literal(_)));
            ok.then(|| match all_literal {
                true => ValueTemplate::Literal(node.to_json()),
                false => ValueTemplate::Object(out),
            })
        }
    }
}

/// A duration such as `500ms`, `15s`, `2m` or `1h`, within `range`.
pub(crate) fn duration(
    reporter: &mut Reporter,
    node: &Node,
    what: &str,
    range: std::ops::RangeInclusive<Duration>,
) -> Option<Duration> {
    let Some(source) = node.as_scalar().filter(|_| !node.is_null()) else {
        reporter.wrong_type(node, what, "a duration such as `15s`");
        return None;
    };
    let Some(duration) = crate::duration::parse(source) else {
        let help = match duration_meant(source) {
            Some(meant) => {
                format!("write `{meant}`: a whole number and a unit, `ms`, `s`, `m` or `h`")
            }
            None => "write a whole number and a unit: `500ms`, `15s`, `2m` or `1h`".to_owned(),
        };
        reporter.report_with_help(
            Problem::BadDuration(format!(
                "{what} must be a duration such as `15s`, found `{source}`"
            )),
            node.span,
            Some(help),
        );
        return None;
    };
    if !range.contains(&duration) {
        let (min, max) = (
            crate::duration::format(*range.start()),
            crate::duration::format(*range.end()),
        );
        reporter.report_with_help(
            Problem::BadDuration(format!(
                "{what} must be from {min} to {max}, found `{source}`"
            )),
            node.span,
            Some(format!("use a duration from `{min}` to `{max}`")),
        );
        return None;
    }
    Some(duration)
}

/// The duration a number with a spelt-out or missing unit stands for: `2 days` is `48h`, and
/// a bare `15` is taken as seconds.
fn duration_meant(source: &str) -> Option<String> {
    let source = source.trim();
    let digits_end = source
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(source.len());
    let number: u64 = source[..digits_end].parse().ok()?;
    let (number, unit) = match source[digits_end..].trim().to_ascii_lowercase().as_str() {
        "" | "sec" | "secs" | "second" | "seconds" => (number, "s"),
        "millisecond" | "milliseconds" | "msec" => (number, "ms"),
        "min" | "mins" | "minute" | "minutes" => (number, "m"),
        "hr" | "hrs" | "hour" | "hours" => (number, "h"),
        "d" | "day" | "days" => (number.checked_mul(24)?, "h"),
        _ => return None,
    };
    Some(format!("{number}{unit}"))
}

/// A variable name: not empty, and none of `.`, `[`, `]`, `{`, `}`.
pub(crate) fn variable_name<'n>(
    reporter: &mut Reporter,
    node: &'n Node,
    what: &str,
) -> Option<&'n str> {
    let name = text(reporter, node, what)?;
    if is_variable_name(name) {
        return Some(name.trim());
    }
    let (reason, help) = match name.trim() {
        "" => (
            "a name cannot be empty".to_owned(),
            "write the variable's name".to_owned(),
        ),
        braced if braced.starts_with("{{") && braced.ends_with("}}") => (
            "braces are for inserting a variable into a text".to_owned(),
            format!(
                "write the name without braces: `{}`",
                braced.trim_matches(['{', '}']).trim()
            ),
        ),
        _ => {
            let bad = name.chars().find(|c| ".[]{}".contains(*c)).unwrap_or('.');
            let reason = match bad {
                '.' | '[' | ']' => format!("`{bad}` starts a path into a variable"),
                _ => format!("`{bad}` marks a placeholder"),
            };
            let spaced = name
                .split(['.', '[', ']', '{', '}'])
                .filter(|part| !part.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            (reason, format!("variable names may hold letters, digits and spaces, such as `{spaced}`, but not `.`, `[`, `]`, `{{` or `}}`"))
        }
    };
    reporter.report_with_help(
        Problem::BadValue(format!("`{name}` is not a valid variable name: {reason}")),
        node.span,
        Some(help),
    );
    None
}

/// True for a valid variable name.
pub(crate) fn is_variable_name(name: &str) -> bool {
    !name.trim().is_empty() && !name.contains(['.', '[', ']', '{', '}'])
}
