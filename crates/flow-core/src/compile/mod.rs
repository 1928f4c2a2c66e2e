//! From YAML text to a checked [`Flow`]: reads every key, reports every problem.

mod blocks;
mod condition;
pub(crate) mod reader;

use std::time::Duration;

use indexmap::{IndexMap, IndexSet};
use petgraph::graph::{DiGraph, NodeIndex};
use serde_json::Value;

use crate::diagnostic::{self, Diagnostic, FlowErrors, Problem};
use crate::flow::{
    AcceptStatus, Block, BlockId, Edge, Flow, IdHasher, Settings, VarType, VariableDecl,
    WebhookSettings,
};
use crate::suggest;
use crate::yaml::{self, Node, NodeValue, Span};
use reader::{fields, Reporter};

/// The kind keys of a block.
pub const BLOCK_KINDS: &[&str] = &[
    "message", "question", "wait", "choice", "webhook", "set", "jump", "sleep", "event", "handoff",
    "end",
];

const TOP_LEVEL_KEYS: &[&str] = &[
    "bot",
    "description",
    "start",
    "variables",
    "settings",
    "blocks",
];

/// What loading a flow file gives: the flow when it has no errors, and every diagnostic.
#[derive(Debug)]
pub struct Loaded {
    /// The checked flow; `None` when any diagnostic is an error.
    pub flow: Option<Flow>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// The flow, or its errors (warnings left out) when it has any.
    pub fn into_flow(self) -> Result<Flow, FlowErrors> {
        match self.flow {
            Some(flow) => Ok(flow),
            None => Err(FlowErrors(
                self.diagnostics
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect(),
            )),
        }
    }
}

/// Every block id of a flow, in file order.
type Ids<'a> = IndexSet<&'a str, IdHasher>;

/// A target named by a block, checked once every block id is known.
pub(crate) struct TargetRef {
    pub(crate) from: BlockId,
    /// The id as the block names it, shared with the block's own copy of it.
    pub(crate) to: BlockId,
    pub(crate) span: Span,
    pub(crate) edge: Edge,
}

/// Loads and checks a flow from its YAML text.
pub fn load(source: &str) -> Loaded {
    let mut reporter = Reporter::new(source);
    let flow = match yaml::parse(source) {
        Ok(Some(root)) => compile(&mut reporter, &root, source),
        Ok(None) => {
            reporter.report_with_help(
                Problem::NotAMapping("an empty file"),
                Span::new(1, 1),
                Some(START_HELP.to_owned()),
            );
            None
        }
        Err(error) => {
            reporter.report_with_help(Problem::YamlSyntax(error.message), error.span, error.help);
            None
        }
    };
    let mut diagnostics = reporter.diagnostics;
    diagnostic::sort(&mut diagnostics);
    // An alias repeats its anchor's nodes, positions included: a problem inside an anchored
    // value would be reported once per use, at the same place, in the same words.
    let mut unique: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        if !unique.contains(&diagnostic) {
            unique.push(diagnostic);
        }
    }
    let diagnostics = unique;
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Loaded {
        flow: flow.filter(|_| !has_errors),
        diagnostics,
    }
}

/// How a flow file starts, for files that do not.
const START_HELP: &str =
    "a flow file starts with `bot: <id>` and `blocks:`; see docs/flow-format.md";

fn compile(reporter: &mut Reporter, root: &Node, source: &str) -> Option<Flow> {
    if root.as_map().is_none() {
        let help = match &root.value {
            NodeValue::Seq(_) => "a flow file holds one bot, as a mapping: remove the `- ` before `bot:` and indent the rest back",
            _ => START_HELP,
        };
        reporter.report_with_help(
            Problem::NotAMapping(root.describe()),
            root.span,
            Some(help.to_owned()),
        );
        return None;
    }
    let elsewhere = |key: &str| {
        let close = suggest::closest(key, TOP_LEVEL_KEYS.iter().copied()).is_some();
        (!close && key != "<<")
            .then(|| "for notes about the bot, use `description` or a `#` comment".to_owned())
    };
    let top = reader::fields_or_elsewhere(reporter, root, "the flow", TOP_LEVEL_KEYS, &elsewhere)?;
    let id = read_bot_id(reporter, root, &top);
    let description = top
        .get("description")
        .and_then(|node| reader::text(reporter, node, "`description`"));
    let variables = top
        .get("variables")
        .map(|node| read_variables(reporter, node))
        .unwrap_or_default();
    let settings = top
        .get("settings")
        .map(|node| read_settings(reporter, node))
        .unwrap_or_default();

    // Sized once: growing these, thousands of entries long, copied and freed large buffers.
    let count = top
        .get("blocks")
        .and_then(Node::as_map)
        .map_or(0, <[_]>::len);
    let mut targets = Vec::with_capacity(count);
    let mut blocks = IndexMap::with_capacity_and_hasher(count, IdHasher::default());
    let mut block_nodes = Vec::with_capacity(count);
    match top.get("blocks") {
        Some(node) => read_blocks(reporter, node, &mut blocks, &mut block_nodes, &mut targets),
        // A misspelt `blokcs:` was reported already, with a did-you-mean.
        None if top.mentions("blocks") => {}
        None => reporter.report_with_help(
            Problem::MissingKey("the flow has no `blocks`".to_owned()),
            root.span,
            Some("add `blocks:` with at least one block".to_owned()),
        ),
    }
    reporter.block = None;
    if top.has("blocks") && blocks.is_empty() && !reporter.has_errors() {
        reporter.report_with_help(
            Problem::NoBlocks,
            top.key_node("blocks").map_or(root.span, |key| key.span),
            Some(
                "add at least one block under `blocks:`, such as `hello: {end: Hello!}`".to_owned(),
            ),
        );
    }
    // Targets may name blocks that failed to compile: those exist, with their own errors.
    let all_ids: Ids = block_nodes.iter().map(|(id, ..)| id.as_str()).collect();
    // Without readable blocks every `start` would look unknown.
    if block_nodes.is_empty() {
        return None;
    }
    let start = read_start(reporter, top.get("start"), &all_ids);
    check_targets(reporter, &targets, &all_ids);

    // Reachability and loops can only be judged when every block and every edge is known.
    let graph_complete = blocks.len() == block_nodes.len()
        && targets.iter().all(|t| all_ids.contains(&t.to.as_str()));
    let graph = build_graph(&blocks, targets);
    let flow = Flow {
        id: id.unwrap_or_default(),
        description: description.map(str::to_owned),
        start: start?,
        variables,
        settings,
        blocks,
        graph,
        content_hash: fnv1a(source.as_bytes()),
    };
    crate::validate::check(reporter, &flow, &block_nodes, graph_complete);
    Some(flow)
}

fn read_bot_id(reporter: &mut Reporter, root: &Node, top: &reader::Fields) -> Option<String> {
    let Some(node) = top.get("bot") else {
        if top.mentions("bot") {
            return None;
        }
        reporter.report_with_help(
            Problem::MissingKey("the flow has no `bot` id".to_owned()),
            root.span,
            Some("add `bot: <id>` at the top, with letters, digits, `-` and `_`".to_owned()),
        );
        return None;
    };
    let id = reader::text(reporter, node, "`bot`")?;
    if !is_bot_id(id) {
        let underscored = id.trim().replace(char::is_whitespace, "_");
        let help = match is_bot_id(&underscored) {
            true => format!("use ASCII letters, digits, `-` and `_`, such as `{underscored}`"),
            false => "use ASCII letters, digits, `-` and `_`".to_owned(),
        };
        reporter.report_with_help(
            Problem::BadValue(format!("`{id}` is not a valid bot id")),
            node.span,
            Some(help),
        );
        return None;
    }
    Some(id.to_owned())
}

fn is_bot_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn read_variables(reporter: &mut Reporter, node: &Node) -> IndexMap<String, VariableDecl> {
    let mut variables = IndexMap::new();
    let Some(entries) = fields(reporter, node, "`variables`", &[]) else {
        return variables;
    };
    for (_, key, value) in entries.iter() {
        let Some(name) = reader::variable_name(reporter, key, "a declared variable") else {
            continue;
        };
        // A declaration with a mistake still declares the name: reads of it are not the problem.
        let decl = read_declaration(reporter, name, value).unwrap_or(VariableDecl {
            var_type: None,
            default: None,
        });
        variables.insert(name.to_owned(), decl);
    }
    variables
}

const TYPE_NAMES: &[&str] = &["text", "number", "list", "boolean", "object"];

fn read_declaration(reporter: &mut Reporter, name: &str, node: &Node) -> Option<VariableDecl> {
    if node.is_null() {
        return Some(VariableDecl {
            var_type: None,
            default: None,
        });
    }
    let (type_node, default) = match &node.value {
        NodeValue::Scalar(..) => (Some(node), None),
        NodeValue::Map(_) => {
            let decl = fields(
                reporter,
                node,
                &format!("variable `{name}`"),
                &["type", "default"],
            )?;
            (decl.get("type"), decl.get("default"))
        }
        NodeValue::Seq(_) => {
            reporter.wrong_type(
                node,
                &format!("variable `{name}`"),
                "a type name or `{type, default}`",
            );
            return None;
        }
    };
    let var_type = match type_node {
        Some(type_node) => Some(read_type(reporter, type_node)?),
        None => None,
    };
    if let (Some(var_type), Some(default)) = (var_type, default) {
        if !fits_type(var_type, &default.to_json()) {
            reporter.report_with_help(
                Problem::BadValue(format!(
                    "the default of `{name}` is {}, but `{name}` is declared as {}",
                    default.describe(),
                    var_type.name()
                )),
                default.span,
                Some(format!(
                    "give a default that is {}, or change the type",
                    type_described(var_type)
                )),
            );
        }
    }
    Some(VariableDecl {
        var_type,
        default: default.map(Node::to_json),
    })
}

fn read_type(reporter: &mut Reporter, node: &Node) -> Option<VarType> {
    let name = reader::text(reporter, node, "a variable type")?;
    let var_type = match name {
        "text" => VarType::Text,
        "number" => VarType::Number,
        "list" => VarType::List,
        "boolean" => VarType::Boolean,
        "object" => VarType::Object,
        _ => {
            let help = match type_synonym(name) {
                Some(type_name) => Some(format!("did you mean `{type_name}`?")),
                None => suggest::did_you_mean(name, TYPE_NAMES.iter().copied()),
            };
            reporter.report_with_help(
                Problem::BadValue(format!(
                    "unknown variable type `{name}` (expected one of {})",
                    suggest::backticked(TYPE_NAMES)
                )),
                node.span,
                help,
            );
            return None;
        }
    };
    Some(var_type)
}

/// The flow's name for a type that other languages call `name`: `string` is `text`.
fn type_synonym(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "string" | "str" => "text",
        "int" | "integer" | "float" | "double" | "decimal" => "number",
        "array" | "vec" => "list",
        "bool" => "boolean",
        "dict" | "map" | "mapping" | "json" | "any" => "object",
        _ => return None,
    })
}

/// What a value of `var_type` is, for help texts: "a number".
pub(crate) fn type_described(var_type: VarType) -> &'static str {
    match var_type {
        VarType::Text => "text",
        VarType::Number => "a number",
        VarType::List => "a list",
        VarType::Boolean => "`true` or `false`",
        VarType::Object => "any value",
    }
}

/// True when `value` may be stored in a variable declared as `var_type`.
pub(crate) fn fits_type(var_type: VarType, value: &Value) -> bool {
    match var_type {
        VarType::Text => !value.is_array() && !value.is_object(),
        VarType::Number => {
            value.is_number()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<f64>().is_ok())
        }
        VarType::List => value.is_array(),
        VarType::Boolean => value.is_boolean(),
        VarType::Object => true,
    }
}

fn read_settings(reporter: &mut Reporter, node: &Node) -> Settings {
    let mut settings = Settings::default();
    let Some(top) = fields(reporter, node, "`settings`", &["webhook"]) else {
        return settings;
    };
    let Some(webhook) = top.get("webhook").and_then(|node| {
        fields(
            reporter,
            node,
            "`settings.webhook`",
            &["timeout", "accept_status"],
        )
    }) else {
        return settings;
    };
    if let Some(node) = webhook.get("timeout") {
        if let Some(timeout) = reader::duration(
            reporter,
            node,
            "the webhook timeout",
            MIN_TIMEOUT..=MAX_TIMEOUT,
        ) {
            settings.webhook.timeout = timeout;
        }
    }
    if let Some(node) = webhook.get("accept_status") {
        if let Some(accept) = read_accept_status(reporter, node) {
            settings.webhook = WebhookSettings {
                accept_status: accept,
                ..settings.webhook
            };
        }
    }
    settings
}

/// The shortest webhook time-out a flow may set.
pub(crate) const MIN_TIMEOUT: Duration = Duration::from_millis(1);
/// The longest webhook time-out a flow may ask for; the server caps it further.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(3600);

/// `accept_status`: `200`, `"2xx"`, or a list of those.
pub(crate) fn read_accept_status(reporter: &mut Reporter, node: &Node) -> Option<AcceptStatus> {
    let items: Vec<&Node> = match &node.value {
        NodeValue::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut entries = Vec::new();
    let mut ok = true;
    for item in items {
        match item.as_scalar().filter(|_| !item.is_null()) {
            Some(text) => match AcceptStatus::parse_entry(text) {
                Some(entry) => entries.push(entry),
                None => {
                    report_bad_status(reporter, item, text);
                    ok = false;
                }
            },
            None => {
                reporter.wrong_type(
                    item,
                    "an `accept_status` entry",
                    "a status such as `200` or a class such as `2xx`",
                );
                ok = false;
            }
        }
    }
    if ok && entries.is_empty() {
        reporter.wrong_type(
            node,
            "`accept_status`",
            "a status, a class like `2xx`, or a list of them",
        );
        return None;
    }
    ok.then(|| AcceptStatus::from_entries(entries))
}

/// Reports an `accept_status` entry that is no HTTP status or class, saying which ones exist.
fn report_bad_status(reporter: &mut Reporter, item: &Node, text: &str) {
    let message = match text.trim().to_ascii_lowercase().ends_with("xx") {
        true => {
            format!("`{text}` is not a class of HTTP statuses: classes run from `1xx` to `5xx`")
        }
        false => format!("`{text}` is not an HTTP status: statuses run from 100 to 599"),
    };
    reporter.report_with_help(
        Problem::BadValue(message),
        item.span,
        Some(
            "write a status such as `200`, a class such as `2xx`, or a list of them: `[200, 201]`"
                .to_owned(),
        ),
    );
}

fn read_blocks<'n>(
    reporter: &mut Reporter,
    node: &'n Node,
    blocks: &mut IndexMap<BlockId, Block, IdHasher>,
    block_nodes: &mut Vec<(BlockId, &'n Node, &'n Node)>,
    targets: &mut Vec<TargetRef>,
) {
    if node.as_map().is_none() {
        let help = "write each block as `<block id>:`, without `- `, with what it does below it"
            .to_owned();
        reporter.wrong_type_with_help(
            node,
            "`blocks`",
            "a mapping of block ids to blocks",
            Some(help),
        );
        return;
    }
    let Some(entries) = fields(reporter, node, "`blocks`", &[]) else {
        return;
    };
    for (name, key, value) in entries.iter() {
        reporter.block = None;
        if name.trim().is_empty() {
            // No target could name it, and every message about it would read "block ``".
            let help = Some("write the block's id before the `:`, such as `greet:`".to_owned());
            reporter.report_with_help(
                Problem::BadValue("a block has an empty id".to_owned()),
                key.span,
                help,
            );
            continue;
        }
        let id = BlockId::new(name);
        reporter.block = Some(id.clone());
        block_nodes.push((id.clone(), key, value));
        if let Some(kind) = blocks::read_block(reporter, &id, key, value, targets) {
            blocks.insert(
                id.clone(),
                Block {
                    id,
                    kind,
                    span: key.span,
                },
            );
        }
    }
}

fn read_start(reporter: &mut Reporter, node: Option<&Node>, all_ids: &Ids) -> Option<BlockId> {
    let Some(node) = node else {
        return all_ids.first().map(|id| BlockId::new(id));
    };
    let name = reader::text(reporter, node, "`start`")?;
    match all_ids.contains(&name) {
        true => Some(BlockId::new(name)),
        false => {
            let help = unknown_block_help(name, all_ids);
            reporter.report_with_help(
                Problem::UnknownStart(name.to_owned()),
                node.span,
                Some(help),
            );
            None
        }
    }
}

fn check_targets(reporter: &mut Reporter, targets: &[TargetRef], all_ids: &Ids) {
    for target in targets {
        if all_ids.contains(&target.to.as_str()) {
            continue;
        }
        let help = Some(unknown_block_help(target.to.as_str(), all_ids));
        reporter.block = Some(target.from.clone());
        reporter.report_with_help(
            Problem::UnknownTarget {
                block: target.from.to_string(),
                target: target.to.to_string(),
            },
            target.span,
            help,
        );
    }
    reporter.block = None;
}

/// A did-you-mean for a block id that names no block, or else how to make it name one.
fn unknown_block_help(name: &str, all_ids: &Ids) -> String {
    suggest::did_you_mean(name, all_ids.iter().copied()).unwrap_or_else(|| {
        format!("add a block `{name}` under `blocks:`, or name one of the blocks there")
    })
}

/// The graph of `blocks` and the edges of `targets`, which it takes (their edge labels move
/// into it): node `i` is block `i`.
fn build_graph(
    blocks: &IndexMap<BlockId, Block, IdHasher>,
    targets: Vec<TargetRef>,
) -> DiGraph<BlockId, Edge> {
    let mut graph = DiGraph::with_capacity(blocks.len(), targets.len());
    for id in blocks.keys() {
        graph.add_node(id.clone());
    }
    let node = |id: &str| blocks.get_index_of(id).map(NodeIndex::new);
    for target in targets {
        if let (Some(from), Some(to)) = (node(target.from.as_str()), node(target.to.as_str())) {
            graph.add_edge(from, to, target.edge);
        }
    }
    graph
}

/// FNV-1a: a hash of the flow's text that stays the same across builds and platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
