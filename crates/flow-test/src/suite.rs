//! Finding test files on disk and loading each one with the bot it talks to.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use flow_core::{LoadedFile, Project};

use crate::spec::{self, TestFile};

/// A test file, read, with the project its bot belongs to.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The test file.
    pub path: PathBuf,
    /// What it holds.
    pub file: TestFile,
    /// The bot under test, or why its flow does not load.
    pub(crate) bot: Result<Bot, String>,
}

/// The bot a suite talks to, in its project: every flow of its folder, so `jump` works.
#[derive(Debug, Clone)]
pub(crate) struct Bot {
    pub(crate) project: Arc<Project>,
    pub(crate) id: String,
}

impl Suite {
    /// The flow file under test, as the test file names it, relative to the test file.
    pub fn flow_path(&self) -> PathBuf {
        normalize(
            &self
                .path
                .parent()
                .unwrap_or(Path::new(""))
                .join(&self.file.flow),
        )
    }

    /// Why the flow under test does not load (its diagnostics, one per line), if it does not.
    pub fn load_error(&self) -> Option<&str> {
        self.bot.as_ref().err().map(String::as_str)
    }
}

/// A test file that could not be read or parsed, or a path with no test file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SuiteError {
    /// The path concerned.
    pub path: PathBuf,
    /// What is wrong, starting with the path (and line and column when known).
    pub message: String,
}

impl SuiteError {
    fn new(path: &Path, message: String) -> SuiteError {
        SuiteError {
            path: path.to_path_buf(),
            message,
        }
    }
}

/// Reads the test file at `path` and loads its flow with the other flows of the flow's folder.
///
/// A flow with errors is not a [`SuiteError`]: each case of the suite then fails with the
/// diagnostics, so a report still lists every case.
pub fn load_suite(path: &Path) -> Result<Suite, SuiteError> {
    let source = std::fs::read_to_string(path).map_err(|error| {
        SuiteError::new(path, format!("{}: cannot read: {error}", path.display()))
    })?;
    let file = spec::parse(&source).map_err(|error| {
        let message = error.to_string();
        let message = match error.location() {
            Some(at) => {
                // serde_yaml ends its message with the position, which goes first here.
                let suffix = format!(" at line {} column {}", at.line(), at.column());
                let message = message.strip_suffix(&suffix).unwrap_or(&message);
                format!(
                    "{}:{}:{}: {message}",
                    path.display(),
                    at.line(),
                    at.column()
                )
            }
            None => format!("{}: {message}", path.display()),
        };
        SuiteError::new(path, message)
    })?;
    let mut suite = Suite {
        path: path.to_path_buf(),
        file,
        bot: Err(String::new()),
    };
    suite.bot = load_bot(&suite.flow_path());
    Ok(suite)
}

/// Loads the flow at `flow_path` with its folder's other flows; the error lists the flow's
/// own problems as `file:line:column: error: message`.
fn load_bot(flow_path: &Path) -> Result<Bot, String> {
    let source = std::fs::read_to_string(flow_path)
        .map_err(|error| format!("{}: cannot read the flow: {error}", flow_path.display()))?;
    let name = flow_path.display().to_string();
    let requested = LoadedFile {
        file: name.clone(),
        loaded: flow_core::load(&source),
    };
    let id = requested
        .loaded
        .flow
        .as_ref()
        .map(|flow| flow.id().to_owned());
    let mut files = vec![requested];
    let folder = flow_path.parent().unwrap_or(Path::new("."));
    for sibling in yaml_files(folder, false).unwrap_or_default() {
        if normalize(&sibling) != normalize(flow_path) {
            if let Ok(source) = std::fs::read_to_string(&sibling) {
                files.push(LoadedFile {
                    file: sibling.display().to_string(),
                    loaded: flow_core::load(&source),
                });
            }
        }
    }
    let (project, diagnostics) = flow_core::link(files);
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error() && d.file.as_deref() == Some(name.as_str()))
        .map(ToString::to_string)
        .collect();
    match id {
        Some(id) if errors.is_empty() => Ok(Bot {
            project: Arc::new(project),
            id,
        }),
        _ => Err(errors.join("\n")),
    }
}

/// The test files among `paths`: a file is taken as it is; a folder gives, recursively, its
/// YAML files that have a top-level `cases:` key (flow files beside them are left out).
/// Sorted, without repeats.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, SuiteError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            let files = yaml_files(path, true).map_err(|error| {
                SuiteError::new(path, format!("{}: cannot read: {error}", path.display()))
            })?;
            found.extend(files.into_iter().filter(|file| is_test_file(file)));
        } else if path.is_file() {
            found.push(path.clone());
        } else {
            return Err(SuiteError::new(
                path,
                format!("no such file or folder: {}", path.display()),
            ));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Whether `path` looks like a test file: a line starts with `cases:`. A flow never has that key,
/// and a test file with a YAML mistake further down is still found, so its error is reported.
fn is_test_file(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.lines().any(|line| {
            line.strip_prefix("cases")
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
    })
}

/// The `.yaml` and `.yml` files of `folder` (and of its subfolders when `recursive`), sorted.
fn yaml_files(folder: &Path, recursive: bool) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if recursive {
                    pending.push(path);
                }
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `path` with `.` and `folder/..` taken out, without asking the file system, so paths in
/// messages read `flows/shop.yaml`, not `tests/conversations/../../flows/shop.yaml`.
fn normalize(path: &Path) -> PathBuf {
    let mut parts: Vec<Component> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir if matches!(parts.last(), Some(Component::Normal(_))) => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_takes_out_dot_dot() {
        assert_eq!(
            normalize(Path::new("tests/conversations/../../flows/shop.yaml")),
            PathBuf::from("flows/shop.yaml")
        );
        assert_eq!(
            normalize(Path::new("../flows/./a.yaml")),
            PathBuf::from("../flows/a.yaml")
        );
    }
}
