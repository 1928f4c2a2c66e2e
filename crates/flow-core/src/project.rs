//! A project: the bots of one folder, which may `jump` to each other.

use indexmap::IndexMap;

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
    for file in files {
        diagnostics.extend(
            file.loaded
                .diagnostics
                .into_iter()
                .map(|d| in_file(d, &file.file)),
        );
        let Some(flow) = file.loaded.flow else {
            continue;
        };
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
