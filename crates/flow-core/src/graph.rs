//! Draws a flow as a diagram: Mermaid for Markdown pages, Graphviz dot for everything else.

use std::fmt::Write;

use crate::flow::{BlockKind, Flow};
use crate::template::Template;

/// A short label for a block: its kind and the start of its text or target.
pub fn block_label(kind: &BlockKind) -> String {
    let detail = match kind {
        BlockKind::Message(message) => shorten(message.text.source()),
        BlockKind::Question(question) => shorten(question.text.source()),
        BlockKind::Wait(_) => "for the user".to_owned(),
        BlockKind::Choice(choice) => format!("{} branches", choice.branches.len() + 1),
        BlockKind::Webhook(webhook) => {
            format!("{} {}", webhook.method, shorten(webhook.url.source()))
        }
        BlockKind::Set(set) => {
            let names: Vec<&str> = set
                .assignments
                .iter()
                .map(|(name, _)| name.as_str())
                .collect();
            shorten(&names.join(", "))
        }
        BlockKind::Jump(jump) => format!("to {}", jump.bot),
        BlockKind::Sleep(sleep) => crate::duration::format(sleep.duration),
        BlockKind::Event(event) => shorten(event.name.source()),
        BlockKind::Handoff(handoff) => handoff.team.clone().unwrap_or_default(),
        BlockKind::End(end) => end
            .message
            .as_ref()
            .map(Template::source)
            .map(shorten)
            .unwrap_or_default(),
    };
    match detail.is_empty() {
        true => kind.name().to_owned(),
        false => format!("{}: {detail}", kind.name()),
    }
}

fn shorten(text: &str) -> String {
    const MAX: usize = 32;
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The flow as a Mermaid flowchart.
pub fn to_mermaid(flow: &Flow) -> String {
    let mut out = String::from("flowchart TD\n");
    let ids: Vec<&str> = flow.blocks().map(|block| block.id.as_str()).collect();
    let node_name = |id: &str| format!("b{}", ids.iter().position(|i| *i == id).unwrap_or(0));
    for block in flow.blocks() {
        let label = mermaid_escape(&format!("{}\n{}", block.id, block_label(&block.kind)));
        let (open, close) = match block.kind {
            BlockKind::Choice(_) => ("{", "}"),
            BlockKind::Webhook(_) => ("[[", "]]"),
            BlockKind::End(_) | BlockKind::Handoff(_) => ("([", "])"),
            _ => ("[", "]"),
        };
        let _ = writeln!(
            out,
            "    {}{open}\"{label}\"{close}",
            node_name(block.id.as_str())
        );
    }
    for block in flow.blocks() {
        for (target, edge) in flow.successors(block.id.as_str()) {
            let from = node_name(block.id.as_str());
            let to = node_name(target.as_str());
            match edge.label() {
                "" => writeln!(out, "    {from} --> {to}"),
                label => writeln!(out, "    {from} -->|\"{}\"| {to}", mermaid_escape(label)),
            }
            .expect("writing to a String cannot fail");
        }
    }
    out
}

fn mermaid_escape(text: &str) -> String {
    text.replace('"', "#quot;").replace('\n', "<br/>")
}

/// The flow as a Graphviz dot digraph.
pub fn to_dot(flow: &Flow) -> String {
    let mut out = format!(
        "digraph {} {{\n    node [shape=box, fontname=\"sans-serif\"];\n",
        dot_quote(flow.id())
    );
    for block in flow.blocks() {
        let shape = match block.kind {
            BlockKind::Choice(_) => "diamond",
            BlockKind::End(_) | BlockKind::Handoff(_) => "oval",
            BlockKind::Webhook(_) => "box3d",
            _ => "box",
        };
        let label = format!("{}\n{}", block.id, block_label(&block.kind));
        let _ = writeln!(
            out,
            "    {} [shape={shape}, label={}];",
            dot_quote(block.id.as_str()),
            dot_quote(&label)
        );
    }
    for block in flow.blocks() {
        for (target, edge) in flow.successors(block.id.as_str()) {
            let from = dot_quote(block.id.as_str());
            let to = dot_quote(target.as_str());
            let _ = match edge.label() {
                "" => writeln!(out, "    {from} -> {to};"),
                label => writeln!(out, "    {from} -> {to} [label={}];", dot_quote(label)),
            };
        }
    }
    out.push_str("}\n");
    out
}

fn dot_quote(text: &str) -> String {
    format!(
        "\"{}\"",
        text.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}
