//! Reading `choice` blocks and their conditions.

use crate::diagnostic::Problem;
use crate::flow::{
    BlockId, BlockKind, Branch, Choice, Condition, Edge, IsCheck, Operator, Subject, ValueTemplate,
};
use crate::suggest;
use crate::template::{Part, Template};
use crate::yaml::{Node, NodeValue};

use super::reader::{self, fields, Fields, Reporter};
use super::TargetRef;

/// Reads the list of `{if, next}` branches and the `{else}` of a choice.
pub(crate) fn read_choice(
    reporter: &mut Reporter,
    id: &BlockId,
    kind_key: &Node,
    value: &Node,
    targets: &mut Vec<TargetRef>,
) -> Option<BlockKind> {
    let NodeValue::Seq(items) = &value.value else {
        reporter.report_with_help(
            Problem::WrongType(format!("`choice` must be a list of branches, found {}", value.describe())),
            value.span,
            Some("write each branch as a list item, `- if: <condition>` with `next: <block id>` below it, and end with `- else: <block id>`".to_owned()),
        );
        return None;
    };
    let mut branches = Vec::new();
    let mut otherwise = None;
    let mut ok = true;
    for item in items {
        let Some(keys) = fields(reporter, item, "a choice branch", &["if", "next", "else"]) else {
            ok = false;
            continue;
        };
        if let Some(node) = keys.get("else") {
            if keys.has("if") || keys.has("next") {
                reporter.report_with_help(
                    Problem::BadValue("`else` stands alone in its branch".to_owned()),
                    keys.key_node("else").map_or(item.span, |key| key.span),
                    Some(
                        "write `- else: <block id>` as a branch of its own, the last one"
                            .to_owned(),
                    ),
                );
                ok = false;
            }
            if otherwise.is_some() {
                reporter.report_with_help(
                    Problem::BadValue(format!("choice `{id}` has two `else` branches")),
                    node.span,
                    Some("keep one `else`, as the last branch: it is taken when no branch above matched".to_owned()),
                );
                ok = false;
            }
            otherwise = target(reporter, id, node, Edge::Else, targets);
            continue;
        }
        let (Some(condition), Some(next)) = (keys.get("if"), keys.get("next")) else {
            let missing = if keys.has("if") { "next" } else { "if" };
            // A misspelt key was reported already, with a did-you-mean.
            if !keys.mentions(missing) {
                reporter.report_with_help(
                    Problem::MissingKey(format!("a choice branch has no `{missing}`")),
                    item.span,
                    Some("write `- if: <condition>` with `next: <block id>` below it".to_owned()),
                );
            }
            ok = false;
            continue;
        };
        let label = describe(condition);
        let condition = read_condition(reporter, condition);
        let next = target(reporter, id, next, Edge::Branch(label), targets);
        match (condition, next) {
            (Some(condition), Some(next)) => branches.push(Branch { condition, next }),
            _ => ok = false,
        }
    }
    let Some(otherwise) = otherwise else {
        reporter.report_with_help(
            Problem::MissingElse(id.to_string()),
            kind_key.span,
            Some("add `- else: <block id>` as the last branch".to_owned()),
        );
        return None;
    };
    ok.then_some(BlockKind::Choice(Choice {
        branches,
        otherwise,
    }))
}

fn target(
    reporter: &mut Reporter,
    from: &BlockId,
    node: &Node,
    edge: Edge,
    targets: &mut Vec<TargetRef>,
) -> Option<BlockId> {
    let name = reader::text(reporter, node, "a target")?;
    let to = BlockId::new(name);
    targets.push(TargetRef {
        from: from.clone(),
        to: to.clone(),
        span: node.span,
        edge,
    });
    Some(to)
}

const CONDITION_KEYS: &[&str] = &[
    "var",
    "case_sensitive",
    "is",
    "all",
    "any",
    "not",
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "greater_than",
    "less_than",
    "at_least",
    "at_most",
    "matches",
    "one_of",
];
const IS_CHECKS: &[&str] = &["message", "number", "set", "empty"];

/// Reads one condition: a comparison, an `is`, or `all`/`any`/`not`.
pub(crate) fn read_condition(reporter: &mut Reporter, node: &Node) -> Option<Condition> {
    let keys = fields(reporter, node, "a condition", CONDITION_KEYS)?;
    let tests: Vec<&str> = keys
        .iter()
        .map(|(key, ..)| key)
        .filter(|key| !matches!(*key, "var" | "case_sensitive"))
        .collect();
    let [test] = tests.as_slice() else {
        report_test_count(reporter, node, &keys, &tests);
        return None;
    };
    let value = keys.get(test)?;
    match *test {
        "all" | "any" | "not" => {
            if let Some(extra) = keys
                .key_node("var")
                .or_else(|| keys.key_node("case_sensitive"))
            {
                let name = extra.as_scalar().unwrap_or("var");
                reporter.report_with_help(
                    Problem::BadValue(format!("`{test}` takes conditions, not `{name}` beside it")),
                    extra.span,
                    Some(format!("write `{name}` in each condition under `{test}:`, such as `- {{var: order state, equals: shipped}}`")),
                );
                return None;
            }
            read_combination(reporter, test, value)
        }
        "is" => {
            if let Some(extra) = keys.key_node("case_sensitive") {
                reporter.report_with_help(
                    Problem::BadValue("`case_sensitive` has no effect on `is`".to_owned()),
                    extra.span,
                    Some(
                        "remove `case_sensitive`, or compare with an operator such as `equals`"
                            .to_owned(),
                    ),
                );
                return None;
            }
            let subject = read_subject(reporter, keys.get("var"))?;
            let name = reader::text(reporter, value, "`is`")?;
            let check = match name {
                "message" => IsCheck::Message,
                "number" => IsCheck::Number,
                "set" => IsCheck::Set,
                "empty" => IsCheck::Empty,
                _ => {
                    reporter.report_with_help(
                        Problem::BadValue(format!(
                            "unknown `is` check `{name}` (expected one of {})",
                            suggest::backticked(IS_CHECKS)
                        )),
                        value.span,
                        suggest::did_you_mean(name, IS_CHECKS.iter().copied()),
                    );
                    return None;
                }
            };
            Some(Condition::Is { subject, check })
        }
        operator_name => {
            let operator = Operator::ALL
                .iter()
                .find(|(name, _)| *name == operator_name)
                .map(|(_, op)| *op)?;
            let subject = read_subject(reporter, keys.get("var"));
            let case_sensitive = match keys.get("case_sensitive") {
                Some(node) => reader::boolean(reporter, node, "`case_sensitive`")?,
                None => false,
            };
            let value_template = read_operand(reporter, operator, value)?;
            let regex = match (operator, &value_template) {
                (Operator::Matches, ValueTemplate::Literal(pattern)) => {
                    Some(compile_regex(reporter, value, pattern, case_sensitive)?)
                }
                _ => None,
            };
            Some(Condition::Compare {
                subject: subject?,
                operator,
                value: value_template,
                case_sensitive,
                regex,
            })
        }
    }
}

/// Reports a condition with no test, or with several (at the second one).
fn report_test_count(reporter: &mut Reporter, node: &Node, keys: &Fields, tests: &[&str]) {
    match tests {
        // A misspelt operator (`equal:`) was reported already, with a did-you-mean.
        [_] => {}
        [] if CONDITION_KEYS.iter().any(|key| keys.mentions(key) && !keys.has(key)) => {}
        [] => reporter.report_with_help(
            Problem::BadValue("a condition has no test".to_owned()),
            node.span,
            Some("add an operator such as `equals: <value>`, or `is`, `all`, `any` or `not`".to_owned()),
        ),
        [first, second, ..] => reporter.report_with_help(
            Problem::BadValue(format!("a condition has several tests: `{first}` and `{second}`")),
            keys.key_node(second).map_or(node.span, |key| key.span),
            Some(format!(
                "a condition has one test; to require both, write `all: [{{var: ..., {first}: ...}}, {{var: ..., {second}: ...}}]`"
            )),
        ),
    }
}

fn read_combination(reporter: &mut Reporter, test: &str, value: &Node) -> Option<Condition> {
    if test == "not" {
        return Some(Condition::Not(Box::new(read_condition(reporter, value)?)));
    }
    let NodeValue::Seq(items) = &value.value else {
        let help = format!("write one condition per item, `{test}: [{{var: ..., equals: ...}}, {{...}}]`; for a single condition, drop `{test}:`");
        reporter.wrong_type_with_help(
            value,
            &format!("`{test}`"),
            "a list of conditions",
            Some(help),
        );
        return None;
    };
    let conditions: Vec<_> = items
        .iter()
        .filter_map(|item| read_condition(reporter, item))
        .collect();
    if conditions.len() != items.len() {
        return None;
    }
    Some(match test {
        "all" => Condition::All(conditions),
        _ => Condition::Any(conditions),
    })
}

/// `var: shop failure.status` → variable `shop failure`, path `status`; no `var` tests the last answer.
fn read_subject(reporter: &mut Reporter, node: Option<&Node>) -> Option<Subject> {
    let Some(node) = node else {
        return Some(Subject {
            variable: crate::flow::LAST_USER_ANSWER.to_owned(),
            path: None,
        });
    };
    let source = reader::text(reporter, node, "`var`")?;
    // A bare name, the common case, is read as the template parser would read `{{name}}`:
    // trimmed, with no path, without wrapping and parsing it.
    let name = source.trim();
    let plain_name = !name.is_empty()
        && name != "secret"
        && !name.contains(|c: char| matches!(c, '.' | '[' | ']' | '{' | '}') || c.is_control());
    if plain_name {
        return Some(Subject {
            variable: name.to_owned(),
            path: None,
        });
    }
    let help = Some(
        "write a variable name, optionally with a path: `shop failure.status`, `titles[0]`"
            .to_owned(),
    );
    // `var` is what a placeholder holds, so the template parser reads it, names and paths alike.
    let wrapped = format!("{{{{{source}}}}}");
    let problem = match Template::parse(&wrapped) {
        Ok(template) => match template.single_placeholder() {
            Some(Part::Variable(variable)) => {
                return Some(Subject {
                    variable: variable.name.clone(),
                    path: variable.path.clone(),
                })
            }
            _ if source.trim().starts_with("{{") => {
                let bare = source.trim().trim_matches(['{', '}']).trim();
                let help = Some(format!(
                    "write the variable's name without braces: `var: {bare}`"
                ));
                let problem = Problem::BadValue(format!(
                    "`var` names a variable, without braces: found `{source}`"
                ));
                reporter.report_with_help(problem, reporter.offset_span(node, 0), help);
                return None;
            }
            _ => (
                Problem::BadValue(format!(
                    "`{source}` is not a variable or a variable with a path"
                )),
                0,
            ),
        },
        Err(_) if source.trim().is_empty() => (Problem::BadValue("`var` is empty".to_owned()), 0),
        Err(error) => {
            let (message, hint) = reader::split_hint(&error.message);
            let problem = Problem::PathSyntax(format!("{message} in `var: {source}`"));
            reporter.report_with_help(
                problem,
                reporter.offset_span(node, error.offset.saturating_sub(2)),
                hint.or(help),
            );
            return None;
        }
    };
    let (problem, offset) = problem;
    reporter.report_with_help(problem, reporter.offset_span(node, offset), help);
    None
}

fn read_operand(reporter: &mut Reporter, operator: Operator, node: &Node) -> Option<ValueTemplate> {
    let what = || format!("the `{}` value", operator.name());
    let value = reader::value_template(
        reporter,
        node,
        format_args!("the `{}` value", operator.name()),
        false,
    )?;
    let fits = match (operator, &value) {
        (Operator::OneOf, ValueTemplate::Literal(v)) => v.is_array(),
        (Operator::OneOf, ValueTemplate::List(_)) => true,
        (Operator::OneOf, ValueTemplate::Text(t)) => reader::single_variable(t),
        (_, ValueTemplate::List(_) | ValueTemplate::Object(_)) => false,
        (_, ValueTemplate::Literal(v)) => !v.is_array() && !v.is_object(),
        (_, ValueTemplate::Text(_)) => true,
    };
    if !fits {
        let (expected, help) = match operator {
            Operator::OneOf => (
                "a list, or one list variable such as \"{{titles}}\"",
                format!(
                    "write a list, `one_of: [{}]`, or use `equals` for a single value",
                    node.as_scalar().unwrap_or("...")
                ),
            ),
            _ => (
                "a single value",
                "to compare with several values, use `one_of: [...]`".to_owned(),
            ),
        };
        reporter.wrong_type_with_help(node, &what(), expected, Some(help));
        return None;
    }
    Some(value)
}

fn compile_regex(
    reporter: &mut Reporter,
    node: &Node,
    pattern: &serde_json::Value,
    case_sensitive: bool,
) -> Option<regex::Regex> {
    let pattern = crate::template::value_to_text(pattern);
    reader::regex(reporter, node, &pattern, !case_sensitive)
}

/// A short text of a condition for graph edges: `shop failure is message`.
fn describe(node: &Node) -> String {
    let mut label = String::with_capacity(48);
    describe_into(node, &mut label);
    label
}

/// Writes [`describe`]'s text into `out`, nested conditions included, with no string of its own.
fn describe_into(node: &Node, out: &mut String) {
    let Some(entries) = node.as_map() else {
        out.push('?');
        return;
    };
    // The last `var` counts, as when the entries are read in order.
    let var = entries
        .iter()
        .rev()
        .find(|(key, _)| key.as_scalar() == Some("var"))
        .and_then(|(_, value)| value.as_scalar());
    match var {
        Some(var) => {
            out.push_str(var);
            out.push(' ');
        }
        None if entries
            .iter()
            .any(|(k, _)| matches!(k.as_scalar(), Some("all" | "any" | "not"))) => {}
        None => out.push_str("answer "),
    }
    // The tests, separated by spaces.
    let mut first = true;
    for (key, value) in entries {
        let key = key.as_scalar().unwrap_or("?");
        if matches!(key, "var" | "case_sensitive") {
            continue;
        }
        if !first {
            out.push(' ');
        }
        first = false;
        match key {
            "all" | "any" => match &value.value {
                NodeValue::Seq(items) => {
                    let joint = if key == "all" { " and " } else { " or " };
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push_str(joint);
                        }
                        describe_into(item, out);
                    }
                }
                _ => out.push('?'),
            },
            "not" => {
                out.push_str("not (");
                describe_into(value, out);
                out.push(')');
            }
            operator => {
                for (i, word) in operator.split('_').enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(word);
                }
                out.push(' ');
                match value.as_scalar() {
                    Some(text) => out.push_str(text),
                    None => out.push_str(&value.to_json().to_string()),
                }
            }
        }
    }
}
