//! A project: the bots of one folder, which may `jump` to each other.

use indexmap::IndexMap;
use petgraph::visit::Bfs;
use std::collections::{HashMap, HashSet};

use crate::compile::Loaded;
use crate::diagnostic::{Diagnostic, Problem};
use crate::flow::{BlockKind, Flow};
use crate::suggest;

/// The checked bots of a project, by bot id.
#[derive(Debug, Default, Clone)]
pub struct Project {
    flows: IndexMap<String, Flow>,
}

impl Project {
    /// A bot by id.
    pub fn flow(&self, bot: &str) -> Option<&Flow> {
        self.flows.get(bot)
    }

    /// All bots, in the order their files were given.
    pub fn flows(&self) -> impl Iterator<Item = &Flow> {
        self.flows.values()
    }
}

/// One loaded file of a project.
#[derive(Debug)]
pub struct LoadedFile {
    /// The file's name as shown in diagnostics.
    pub file: String,
    /// What loading it gave.
    pub loaded: Loaded,
}

/// Links the files of a folder into a project, checking bot ids and jumps across bots.
/// Every diagnostic, the files' own included, comes back with its file name set.
pub fn link(files: Vec<LoadedFile>) -> (Project, Vec<Diagnostic>) {
    let mut project = Project::default();
    let mut diagnostics = Vec::new();
    let mut owners: Vec<(String, String)> = Vec::new();
    // Each file's own diagnostics, with the bot it defines: its unreachable-block warnings
    // are settled once every bot's jumps are known.
    let mut own: Vec<(Option<String>, Vec<Diagnostic>)> = Vec::new();
    for file in files {
        let file_diagnostics = file
            .loaded
            .diagnostics
            .into_iter()
            .map(|d| in_file(d, &file.file))
            .collect();
        let Some(flow) = file.loaded.flow else {
            own.push((None, file_diagnostics));
            continue;
        };
        let defines = (!project.flows.contains_key(flow.id())).then(|| flow.id().to_owned());
        own.push((defines, file_diagnostics));
        if project.flows.contains_key(flow.id()) {
            let first = owners
                .iter()
                .find(|(bot, _)| bot == flow.id())
                .map(|(_, f)| f.clone())
                .unwrap_or_default();
            let diagnostic = Diagnostic::new(
                Problem::DuplicateBot(flow.id().to_owned()),
                crate::yaml::Span::new(1, 1),
            )
            .with_help(Some(format!(
                "`{first}` already defines it; give each bot its own `bot:` id"
            )));
            diagnostics.push(in_file(diagnostic, &file.file));
            continue;
        }
        owners.push((flow.id().to_owned(), file.file.clone()));
        project.flows.insert(flow.id().to_owned(), flow);
    }
    let reached = reachable_blocks(&project);
    for (bot, file_diagnostics) in own {
        let reached = bot.as_deref().and_then(|bot| reached.get(bot));
        diagnostics.extend(file_diagnostics.into_iter().filter(|diagnostic| {
            let entered_by_a_jump = diagnostic.code == UNREACHABLE
                && diagnostic
                    .block
                    .as_deref()
                    .zip(reached)
                    .is_some_and(|(block, reached)| reached.contains(block));
            !entered_by_a_jump
        }));
    }
    for (bot, file) in &owners {
        let flow = &project.flows[bot];
        diagnostics.extend(
            check_jumps(&project, flow)
                .into_iter()
                .map(|d| in_file(d, file)),
        );
    }
    crate::diagnostic::sort(&mut diagnostics);
    (project, diagnostics)
}

/// The code of the warning that [`reachable_blocks`] may take back.
const UNREACHABLE: &str = "unreachable";

/// The blocks of each bot that a conversation can reach, by bot id: from every bot's start
/// (a conversation can begin with any bot), and from wherever a reachable `jump` of any bot
/// enters another (at its `block`, or at its start), until no jump adds a block.
fn reachable_blocks(project: &Project) -> HashMap<&str, HashSet<&str>> {
    let mut reached: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut entries: Vec<(&Flow, &str)> = project
        .flows()
        .map(|flow| (flow, flow.start().as_str()))
        .collect();
    while let Some((flow, entry)) = entries.pop() {
        let seen = reached.entry(flow.id()).or_default();
        let Some(entry) = flow.node_index(entry) else {
            continue;
        };
        if seen.contains(flow.graph[entry].as_str()) {
            continue;
        }
        let mut bfs = Bfs::new(&flow.graph, entry);
        while let Some(index) = bfs.next(&flow.graph) {
            let id = flow.graph[index].as_str();
            if !seen.insert(id) {
                continue;
            }
            let Some(BlockKind::Jump(jump)) = flow.block(id).map(|block| &block.kind) else {
                continue;
            };
            if let Some(target) = project.flow(&jump.bot) {
                let block = jump.block.as_ref().unwrap_or(target.start());
                entries.push((target, block.as_str()));
            }
        }
    }
    reached
}

fn in_file(mut diagnostic: Diagnostic, file: &str) -> Diagnostic {
    diagnostic.file = Some(file.to_owned());
    diagnostic
}

/// Checks that every `jump` of `flow` names a bot of the project and a block of that bot.
pub fn check_jumps(project: &Project, flow: &Flow) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for block in flow.blocks() {
        let BlockKind::Jump(jump) = &block.kind else {
            continue;
        };
        let Some(target) = project.flow(&jump.bot) else {
            let help = suggest::did_you_mean(&jump.bot, project.flows.keys().map(String::as_str));
            let diagnostic = Diagnostic::new(Problem::UnknownBot(jump.bot.clone()), jump.bot_span)
                .in_block(Some(block.id.as_str()))
                .with_help(
                    help.or_else(|| Some("put that bot's file in the same folder".to_owned())),
                );
            diagnostics.push(diagnostic);
            continue;
        };
        if let Some(target_block) = &jump.block {
            if target.block(target_block.as_str()).is_none() {
                let problem = Problem::UnknownJumpBlock {
                    bot: jump.bot.clone(),
                    block: target_block.to_string(),
                };
                let help = suggest::did_you_mean(
                    target_block.as_str(),
                    target.blocks().map(|b| b.id.as_str()),
                );
                let span = jump.block_span.unwrap_or(jump.bot_span);
                diagnostics.push(
                    Diagnostic::new(problem, span)
                        .in_block(Some(block.id.as_str()))
                        .with_help(help),
                );
            }
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(sources: &[&str]) -> Vec<Diagnostic> {
        let files = sources
            .iter()
            .enumerate()
            .map(|(i, source)| LoadedFile {
                file: format!("{i}.yaml"),
                loaded: crate::load(source),
            })
            .collect();
        link(files).1
    }

    fn unreachable(diagnostics: &[Diagnostic]) -> Vec<&str> {
        diagnostics
            .iter()
            .filter(|d| d.code == UNREACHABLE)
            .filter_map(|d| d.block.as_deref())
            .collect()
    }

    const CHILD: &str =
        "bot: child\nblocks:\n  hello:\n    end: Hi\n  direct:\n    message: In\n    next: hello\n";

    #[test]
    fn a_jump_into_a_block_makes_it_reachable() {
        let parent = "bot: parent\nblocks:\n  go:\n    jump: {bot: child, block: direct}\n";
        assert_eq!(unreachable(&project(&[CHILD])), ["direct"]);
        assert!(unreachable(&project(&[parent, CHILD])).is_empty());
    }

    #[test]
    fn a_jump_from_an_unreachable_block_reaches_nothing() {
        let parent = "bot: parent\nblocks:\n  hi:\n    end: Hi\n  stray:\n    jump: {bot: child, block: direct}\n";
        assert_eq!(unreachable(&project(&[parent, CHILD])), ["stray", "direct"]);
    }

    #[test]
    fn jumps_are_followed_through_several_bots_and_into_the_same_bot() {
        let a = "bot: a\nblocks:\n  go:\n    jump: {bot: b, block: middle}\n";
        let b = "bot: b\nblocks:\n  hi:\n    end: Hi\n  middle:\n    jump: {bot: b, block: inner}\n  inner:\n    end: Inner\n";
        assert_eq!(unreachable(&project(&[b])), ["middle", "inner"]);
        assert!(unreachable(&project(&[a, b])).is_empty());
    }
}
