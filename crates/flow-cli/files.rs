//! Finding flow files on disk and loading them.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

/// True for the file names flowbot reads as flows.
fn is_yaml(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// The YAML files under `folder`, recursively, sorted for stable output.
pub fn yaml_files_in(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("reading folder {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading folder {}", dir.display()))?
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if is_yaml(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Reads a flow file and loads it.
pub fn load(path: &Path) -> Result<flow_core::LoadedFile> {
    let source = std::fs::read_to_string(path)
        .with_context(|| format!("reading flow {}", path.display()))?;
    Ok(flow_core::LoadedFile {
        file: path.display().to_string(),
        loaded: flow_core::load(&source),
    })
}

/// Loads one flow that must be free of errors, as `graph` and the runner need.
pub fn load_flow(path: &Path) -> Result<flow_core::Flow> {
    let file = load(path)?;
    file.loaded.into_flow().map_err(|errors| {
        let lines: Vec<String> = errors
            .0
            .iter()
            .map(|d| format!("{}:{d}", file.file))
            .collect();
        anyhow!(
            "{} has errors (run `flowbot validate {}`):\n{}",
            file.file,
            file.file,
            lines.join("\n")
        )
    })
}

/// The YAML files directly in `folder`, sorted.
pub fn yaml_files_in_folder_only(folder: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(folder)
        .with_context(|| format!("reading folder {}", folder.display()))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading folder {}", folder.display()))?
            .path();
        if path.is_file() && is_yaml(&path) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}
