//! The bots a server runs: every flow file of its flows folder, loaded and linked as one
//! project, refused whole when any of them has an error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use flow_core::{Diagnostic, LoadedFile, Project, Severity};

use crate::wire::BotInfo;

/// The flows could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The folder or a file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// What could not be read.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The folder holds no flow file.
    #[error("no .yaml or .yml flow files in {0}")]
    Empty(PathBuf),
    /// Some flows have errors; each is a line as `flowbot validate` prints it.
    #[error("the flows have {} error(s):\n{}", .0.len(), .0.join("\n"))]
    Invalid(Vec<String>),
}

/// A loaded, error-free set of bots.
#[derive(Debug)]
pub struct Bots {
    /// The linked bots.
    pub project: Arc<Project>,
    /// Each bot's id, hash and file.
    pub list: Vec<BotInfo>,
    /// The warnings found while loading, as `flowbot validate` prints them.
    pub warnings: Vec<String>,
}

impl Bots {
    /// The bot closest to a misspelled `bot`, for a did-you-mean.
    pub fn closest(&self, bot: &str) -> Option<String> {
        flow_core::suggest::closest(bot, self.project.flows().map(|flow| flow.id()))
            .map(str::to_owned)
    }
}

/// Loads every flow file under `folder` as one project; fails with every error if any.
pub fn load(folder: &Path) -> Result<Bots, LoadError> {
    let paths = yaml_files(folder)?;
    if paths.is_empty() {
        return Err(LoadError::Empty(folder.to_owned()));
    }
    let mut files = Vec::with_capacity(paths.len());
    let mut owners = Vec::new();
    for path in &paths {
        let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        let loaded = flow_core::load(&source);
        if let Some(flow) = &loaded.flow {
            let relative = path.strip_prefix(folder).unwrap_or(path);
            owners.push((flow.id().to_owned(), relative.display().to_string()));
        }
        files.push(LoadedFile {
            file: path.display().to_string(),
            loaded,
        });
    }
    let (project, diagnostics) = flow_core::link(files);
    let (errors, warnings): (Vec<&Diagnostic>, Vec<&Diagnostic>) = diagnostics
        .iter()
        .partition(|diagnostic| diagnostic.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(LoadError::Invalid(
            errors
                .iter()
                .map(|diagnostic| diagnostic.to_string())
                .collect(),
        ));
    }
    let list = project
        .flows()
        .map(|flow| BotInfo {
            bot: flow.id().to_owned(),
            hash: format!("{:016x}", flow.content_hash()),
            file: owners
                .iter()
                .find(|(bot, _)| bot == flow.id())
                .map(|(_, file)| file.clone())
                .unwrap_or_default(),
        })
        .collect();
    Ok(Bots {
        project: Arc::new(project),
        list,
        warnings: warnings
            .iter()
            .map(|diagnostic| diagnostic.to_string())
            .collect(),
    })
}

/// The YAML files under `folder`, recursively, sorted.
fn yaml_files(folder: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let read_error = |path: &Path| {
        let path = path.to_owned();
        move |source| LoadError::Read { path, source }
    };
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(read_error(&dir))? {
            let path = entry.map_err(read_error(&dir))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|extension| extension.to_str()),
                Some("yaml" | "yml")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
