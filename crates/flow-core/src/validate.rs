//! Checks on a compiled flow that need the whole of it: reachability, loops, variables, types.
//!
//! Each `check_*` function is one rule; all report warnings, since the flow still runs.

use std::borrow::Cow;
use std::collections::HashSet;

use petgraph::visit::{Bfs, EdgeRef};

use crate::compile::fits_type;
use crate::compile::reader::Reporter;
use crate::diagnostic::Problem;
use crate::flow::{BlockId, BlockKind, Flow, IdHasher, SetOperation, ValueTemplate, VarType};
use crate::template::{bare_variables, find_doubled, Template};
use crate::yaml::{Node, NodeValue};

/// A block's id, the node of its id, and the node of its body.
pub(crate) type BlockNode<'n> = (BlockId, &'n Node, &'n Node);

/// Variable names.
type Names<'n> = HashSet<&'n str, IdHasher>;

/// Runs every whole-flow check.
///
/// `graph_complete` is false when a block failed to compile or a target names no block: the
/// graph then lacks edges, and reachability and loop warnings would be guesses that vanish
/// once the errors are fixed, so those two checks wait for a complete graph.
pub(crate) fn check(
    reporter: &mut Reporter,
    flow: &Flow,
    block_nodes: &[BlockNode],
    graph_complete: bool,
) {
    if graph_complete {
        check_reachable(reporter, flow);
        check_endless_loops(reporter, flow);
    }
    check_variables_assigned(reporter, flow, block_nodes);
    check_list_saves(reporter, flow, block_nodes);
    check_set_types(reporter, flow, block_nodes);
    reporter.block = None;
}

fn check_reachable(reporter: &mut Reporter, flow: &Flow) {
    let Some(start) = flow.node_index(flow.start().as_str()) else {
        return;
    };
    // Node `i` of the graph is block `i`.
    let mut reached = vec![false; flow.graph.node_count()];
    let mut bfs = Bfs::new(&flow.graph, start);
    while let Some(index) = bfs.next(&flow.graph) {
        reached[index.index()] = true;
    }
    for (block, reached) in flow.blocks().zip(reached) {
        if !reached {
            reporter.block = Some(block.id.clone());
            reporter.report_with_help(
                Problem::Unreachable(block.id.to_string()),
                block.span,
                Some("point a `next` at it, or remove it".to_owned()),
            );
        }
    }
}

fn check_endless_loops(reporter: &mut Reporter, flow: &Flow) {
    // Components in the order `tarjan_scc` lists them, each seen as a slice where that function
    // copies every one, a block alone most often, into a vector of its own.
    petgraph::algo::TarjanScc::new().run(&flow.graph, |scc| {
        let is_cycle =
            scc.len() > 1 || flow.graph.edges(scc[0]).any(|edge| edge.target() == scc[0]);
        if !is_cycle {
            return;
        }
        let members: HashSet<_, IdHasher> = scc.iter().copied().collect();
        let waits = scc.iter().any(|&index| {
            flow.block(flow.graph[index].as_str())
                .is_some_and(|block| block.kind.waits())
        });
        let leaves = scc.iter().any(|&index| {
            flow.graph
                .edges(index)
                .any(|edge| !members.contains(&edge.target()))
        });
        if waits || leaves {
            return;
        }
        let mut ids: Vec<&BlockId> = scc.iter().map(|&index| &flow.graph[index]).collect();
        ids.sort_by_key(|id| flow.blocks.get_index_of(id.as_str()));
        let first = flow
            .block(ids[0].as_str())
            .map(|block| block.span)
            .unwrap_or_default();
        let names: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
        reporter.block = Some(ids[0].clone());
        reporter.report_with_help(
            Problem::EndlessLoop(names.join(", ")),
            first,
            Some("add a question or wait in the loop, or a choice that leaves it".to_owned()),
        );
    });
}

/// The variables a block that failed to compile would assign, read generously from its YAML:
/// its mistake is reported already, and must not make every later read look unassigned.
fn assigned_in_yaml<'n>(node: &'n Node, assigned: &mut Names<'n>) {
    match &node.value {
        NodeValue::Scalar(..) => {}
        NodeValue::Seq(items) => items
            .iter()
            .for_each(|item| assigned_in_yaml(item, assigned)),
        NodeValue::Map(entries) => {
            for (key, value) in entries {
                match (key.as_scalar(), &value.value) {
                    (Some("save_to" | "to" | "failure"), NodeValue::Scalar(name, _)) => {
                        assigned.insert(name.trim());
                    }
                    (Some("set"), NodeValue::Map(set)) => {
                        assigned.extend(
                            set.iter()
                                .filter_map(|(name, _)| name.as_scalar())
                                .map(str::trim),
                        );
                    }
                    (Some("save"), NodeValue::Map(save)) => {
                        assigned.extend(
                            save.iter()
                                .filter_map(|(_, name)| name.as_scalar())
                                .map(str::trim),
                        );
                    }
                    _ => {}
                }
                assigned_in_yaml(value, assigned);
            }
        }
    }
}

fn check_variables_assigned(reporter: &mut Reporter, flow: &Flow, block_nodes: &[BlockNode]) {
    let mut assigned: Names = flow.assigned_variables().into_iter().collect();
    for (id, _, body) in block_nodes {
        if flow.block(id.as_str()).is_none() {
            assigned_in_yaml(body, &mut assigned);
        }
    }
    let mut reads = Vec::new();
    for (id, _, body) in block_nodes {
        reads.clear();
        collect_reads(body, Place::Keys, &mut reads);
        for (name, node, offset) in reads.drain(..) {
            if !assigned.contains(name.as_ref()) {
                reporter.block = Some(id.clone());
                let span = reporter.offset_span(node, offset);
                let help = crate::suggest::did_you_mean(&name, assigned.iter().copied()).unwrap_or_else(|| {
                    format!("declare `{name}` under `variables:`, or give it a value first with a question's `save_to`, a `set` or a webhook's `save`")
                });
                let problem = Problem::UnassignedVariable(name.into_owned());
                reporter.report_with_help(problem, span, Some(help));
            }
        }
    }
}

/// A variable read: its name, the scalar that reads it, and where in that scalar.
type Read<'n> = (Cow<'n, str>, &'n Node, usize);

/// True for keys whose values are names, paths, patterns or literal values, never templates: a
/// `{{` there is another problem (reported when the block compiles), not a read.
///
/// A `match`, not a list searched key by key: every key of every block goes through it.
fn is_not_template(key: &str) -> bool {
    matches!(
        key,
        "save_to"
            | "to"
            | "failure"
            | "path"
            | "default"
            | "save"
            | "pattern"
            | "expect"
            | "method"
            | "content_type"
            | "timeout"
            | "accept_status"
            | "attempts"
            | "restart"
            | "return"
            | "case_sensitive"
            | "bot"
            | "block"
            | "team"
            | "next"
            | "on_failure"
            | "on_invalid"
            | "on_timeout"
            | "else"
    )
}

/// True for keys under which every string is a template, whatever its key: request parts and
/// values.
fn is_data(key: &str) -> bool {
    matches!(key, "query" | "headers" | "body" | "set" | "with" | "data")
}

/// Where in a block `collect_reads` is.
#[derive(Clone, Copy, PartialEq)]
enum Place {
    /// Among the block's own keys, where some values are not templates.
    Keys,
    /// Under `choice`, where `var:` reads a variable.
    Choice,
    /// Under a key of [`is_data`], where every string is a template.
    Data,
}

/// Every variable read in a block's text: placeholders in strings that are templates, and
/// `var:` of the conditions under `choice`.
fn collect_reads<'n>(node: &'n Node, place: Place, reads: &mut Vec<Read<'n>>) {
    match &node.value {
        NodeValue::Scalar(text, _) if find_doubled(text, b'{').is_some() => {
            // Placeholders that are bare names, the most common, are found without parsing the
            // template a second time (it was parsed when its block compiled).
            let before = reads.len();
            if bare_variables(text, |name, offset| {
                reads.push((Cow::Borrowed(name), node, offset));
            }) {
                return;
            }
            reads.truncate(before);
            if let Ok(template) = Template::parse(text) {
                for variable in template.variables() {
                    reads.push((Cow::Owned(variable.name.clone()), node, variable.offset));
                }
            }
        }
        NodeValue::Scalar(..) => {}
        NodeValue::Seq(items) => items
            .iter()
            .for_each(|item| collect_reads(item, place, reads)),
        NodeValue::Map(entries) => {
            for (key, value) in entries {
                let key = key.as_scalar().unwrap_or_default();
                match (place, key) {
                    (Place::Data, _) => collect_reads(value, place, reads),
                    (Place::Choice, "var") => {
                        // A `var` that is not a name (`{{size}}`) is an error of its own.
                        let name = value
                            .as_scalar()
                            .and_then(|text| text.split(['.', '[']).next())
                            .map(str::trim);
                        if let Some(name) =
                            name.filter(|name| crate::compile::reader::is_variable_name(name))
                        {
                            reads.push((Cow::Borrowed(name), value, 0));
                        }
                    }
                    (_, key) if is_not_template(key) => {}
                    (_, key) if is_data(key) => collect_reads(value, Place::Data, reads),
                    (_, "choice") => collect_reads(value, Place::Choice, reads),
                    _ => collect_reads(value, place, reads),
                }
            }
        }
    }
}

/// The node under a chain of mapping keys.
fn find<'n>(node: &'n Node, keys: &[&str]) -> Option<&'n Node> {
    keys.iter().try_fold(node, |node, key| {
        node.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar() == Some(key))
            .map(|(_, value)| value)
    })
}

fn declared_type(flow: &Flow, name: &str) -> Option<VarType> {
    flow.variables().get(name).and_then(|decl| decl.var_type)
}

fn check_list_saves(reporter: &mut Reporter, flow: &Flow, block_nodes: &[BlockNode]) {
    for (id, _, body) in block_nodes {
        let Some(BlockKind::Webhook(webhook)) = flow.block(id.as_str()).map(|block| &block.kind)
        else {
            continue;
        };
        let save_nodes = match find(body, &["webhook", "save"]).map(|node| &node.value) {
            Some(NodeValue::Seq(items)) => items.as_slice(),
            _ => &[],
        };
        reporter.block = Some(id.clone());
        for (save, node) in webhook.save.iter().zip(save_nodes) {
            let declared = declared_type(flow, &save.to);
            let Some(declared) = declared.filter(|t| !matches!(t, VarType::List | VarType::Object))
            else {
                continue;
            };
            if save.path.yields_list() {
                let span = find(node, &["path"]).map_or(node.span, |path| path.span);
                reporter.report_with_help(
                    Problem::ListIntoNonList {
                        path: save.path.as_str().to_owned(),
                        variable: save.to.clone(),
                        declared: declared.name(),
                    },
                    span,
                    Some(format!("declare `{}` as list", save.to)),
                );
            }
        }
    }
}

fn check_set_types(reporter: &mut Reporter, flow: &Flow, block_nodes: &[BlockNode]) {
    for (id, _, body) in block_nodes {
        let Some(BlockKind::Set(set)) = flow.block(id.as_str()).map(|block| &block.kind) else {
            continue;
        };
        let entries = find(body, &["set"])
            .and_then(Node::as_map)
            .unwrap_or_default();
        reporter.block = Some(id.clone());
        for (name, operation) in &set.assignments {
            let Some(declared) = declared_type(flow, name) else {
                continue;
            };
            if fits_operation(declared, operation) {
                continue;
            }
            // The value, or the operation's key inside it; found by name, since the
            // assignments skip what failed or repeated.
            let value = entries
                .iter()
                .find(|(key, _)| key.as_scalar().map(str::trim) == Some(name))
                .map(|(_, value)| value);
            let span = value.map(|value| {
                value
                    .as_map()
                    .and_then(|op| op.first())
                    .map_or(value.span, |(key, _)| key.span)
            });
            let (what, help) = match operation {
                SetOperation::Assign(value) => (
                    assigned_kind(value).to_owned(),
                    format!(
                        "assign {}, or declare `{name}` with another type",
                        crate::compile::type_described(declared)
                    ),
                ),
                _ => (
                    format!("`{}`", operation.name()),
                    operations_for(declared).to_owned(),
                ),
            };
            reporter.report_with_help(
                Problem::SetTypeMismatch {
                    operation: what,
                    variable: name.clone(),
                    declared: declared.name(),
                },
                span.unwrap_or_default(),
                Some(help),
            );
        }
    }
}

/// True when `operation` may be applied to a variable declared as `declared`.
fn fits_operation(declared: VarType, operation: &SetOperation) -> bool {
    match operation {
        SetOperation::Add(_)
        | SetOperation::Subtract(_)
        | SetOperation::Multiply(_)
        | SetOperation::Divide(_) => declared == VarType::Number,
        SetOperation::Append(_) => declared == VarType::Text,
        SetOperation::Push(_) | SetOperation::Remove(_) | SetOperation::Clear => {
            declared == VarType::List
        }
        SetOperation::Assign(ValueTemplate::Literal(value)) => fits_type(declared, value),
        SetOperation::Assign(ValueTemplate::List(_)) => {
            matches!(declared, VarType::List | VarType::Object)
        }
        SetOperation::Assign(ValueTemplate::Object(_)) => declared == VarType::Object,
        SetOperation::Assign(ValueTemplate::Text(_)) => true,
    }
}

/// What an assigned value is: "text", "a number", "a list"...
fn assigned_kind(value: &ValueTemplate) -> &'static str {
    match value {
        ValueTemplate::Literal(serde_json::Value::Array(_)) | ValueTemplate::List(_) => "a list",
        ValueTemplate::Literal(serde_json::Value::Object(_)) | ValueTemplate::Object(_) => {
            "an object"
        }
        ValueTemplate::Literal(serde_json::Value::Number(_)) => "a number",
        ValueTemplate::Literal(serde_json::Value::Bool(_)) => "a boolean",
        ValueTemplate::Literal(serde_json::Value::Null) => "nothing (null)",
        ValueTemplate::Literal(serde_json::Value::String(_)) | ValueTemplate::Text(_) => "text",
    }
}

/// The operations a variable of `declared` type takes, as help.
fn operations_for(declared: VarType) -> &'static str {
    match declared {
        VarType::Number => "a number takes `add`, `subtract`, `multiply` and `divide`",
        VarType::Text => "text takes `append`, or a new value",
        VarType::List => "a list takes `push`, `remove` and `clear`",
        VarType::Boolean => "a boolean takes a new value, `true` or `false`",
        VarType::Object => "an object takes a new value",
    }
}
