//! `flowbot validate`: every problem of every flow, with file, line and column.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};
use flow_core::{Diagnostic, Severity};

use crate::files;

/// Options of `flowbot validate`.
#[derive(clap::Args)]
pub struct Args {
    /// Flow files, or folders of them (a folder is one project: its bots may jump to each other).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit with 1 when there are warnings, not only errors.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// `file:line:column: severity: message`, one per line.
    Human,
    /// One JSON array of diagnostics.
    Json,
}

/// Validates every path and prints the diagnostics.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut diagnostics = Vec::new();
    let mut n_files = 0;
    for path in &args.paths {
        let (files_checked, found) = validate_path(path)?;
        n_files += files_checked;
        diagnostics.extend(found);
    }
    let n_errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let n_warnings = diagnostics.len() - n_errors;
    match args.format {
        Format::Json => crate::output::print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&diagnostics)?
        ))?,
        Format::Human => {
            let lines: String = diagnostics.iter().map(|d| format!("{d}\n")).collect();
            crate::output::print(&lines)?;
            eprintln!(
                "{n_files} {} checked: {n_errors} {}, {n_warnings} {}",
                plural(n_files, "file"),
                plural(n_errors, "error"),
                plural(n_warnings, "warning")
            );
        }
    }
    let failed = n_errors > 0 || (args.deny_warnings && n_warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// Validates a folder as one project, or a file within its folder's project.
fn validate_path(path: &Path) -> Result<(usize, Vec<Diagnostic>)> {
    if path.is_dir() {
        let paths = files::yaml_files_in(path)?;
        if paths.is_empty() {
            bail!("no .yaml or .yml files in {}", path.display());
        }
        let loaded = paths
            .iter()
            .map(|p| files::load(p))
            .collect::<Result<Vec<_>>>()?;
        return Ok((paths.len(), flow_core::link(loaded).1));
    }
    if !path.is_file() {
        bail!("no such file or folder: {}", path.display());
    }
    // The file's siblings give the bots it may jump to; only the file's own problems are shown.
    let requested = files::load(path)?;
    let name = requested.file.clone();
    let mut project = vec![requested];
    if let Some(folder) = path
        .parent()
        .filter(|f| !f.as_os_str().is_empty())
        .or(Some(Path::new(".")))
    {
        for sibling in files::yaml_files_in_folder_only(folder)? {
            if sibling.canonicalize().ok() != path.canonicalize().ok() {
                project.push(files::load(&sibling)?);
            }
        }
    }
    let shown: BTreeSet<String> = [name].into();
    let diagnostics = flow_core::link(project)
        .1
        .into_iter()
        .filter(|d| d.file.as_ref().is_some_and(|f| shown.contains(f)))
        .collect();
    Ok((1, diagnostics))
}
