//! `flowbot extract`: a path of a `save` tried on a JSON payload, as a webhook step applies it.
//!
//! Exit codes: 0 with the value as compact JSON on stdout; 1 with the step's `KeyError` on
//! stderr when the path does not match; 2 for a usage problem (a path that does not parse,
//! input that is not JSON, a file that cannot be read).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use flow_core::flow::Save;
use flow_core::path::Path;
use serde_json::Value;

use crate::output;

/// Options of `flowbot extract`.
#[derive(clap::Args)]
pub struct Args {
    /// The path, as a `save` writes it: `products[1].category`,
    /// `products.flatMap(item => item.title)`, `$.products[*].title`, or '' for the whole payload.
    /// Optional with `--suggest`, which then starts from the whole payload.
    #[arg(required_unless_present = "suggest")]
    path: Option<String>,
    /// The JSON payload; standard input when absent or `-`.
    file: Option<PathBuf>,
    /// List the paths under PATH (the whole payload without one) with a preview of each,
    /// instead of extracting: `flowbot extract --suggest response.json` lists them all.
    #[arg(long)]
    suggest: bool,
}

/// Evaluates the path on the payload and prints the value, or the paths under it.
pub fn run(args: Args) -> Result<ExitCode> {
    let (path_text, file) = path_and_file(args.path, args.file, args.suggest);
    let path = Path::parse(&path_text).map_err(|error| {
        let caret = format!("{}^", " ".repeat(error.offset));
        anyhow::anyhow!(
            "invalid path `{path_text}`: {}\n  {path_text}\n  {caret}",
            error.message,
        )
    })?;
    if args.suggest && path_text.starts_with('$') {
        bail!("--suggest lists paths under a builder path such as `products` or '', not JSONPath");
    }
    let payload = read_payload(file.as_deref())?;
    // The same function as a webhook step, so the error reads exactly as the bot would store it.
    let save = Save {
        path,
        to: String::new(),
        default: None,
    };
    let value = match flow_http::extract(std::slice::from_ref(&save), &payload, &|_| None) {
        Ok(mut stored) => stored.remove(0).1,
        Err(error) => {
            eprintln!("{error}");
            return Ok(ExitCode::from(1));
        }
    };
    if args.suggest {
        output::print(&suggestions(&path_text, &value))?;
    } else {
        output::print(&format!("{value}\n"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The path and the payload file the arguments give.
///
/// `--suggest` starts from the whole payload, as the builder's path helper does, so its one
/// argument may be the payload instead of a path: `flowbot extract --suggest response.json`.
/// It is the payload when it is `-` or names an existing file, and the path otherwise.
fn path_and_file(
    path: Option<String>,
    file: Option<PathBuf>,
    suggest: bool,
) -> (String, Option<PathBuf>) {
    match (path, file) {
        (Some(only), None) if suggest && names_payload(&only) => {
            (String::new(), Some(PathBuf::from(only)))
        }
        (path, file) => (path.unwrap_or_default(), file),
    }
}

fn names_payload(argument: &str) -> bool {
    argument == "-" || std::path::Path::new(argument).is_file()
}

fn read_payload(file: Option<&std::path::Path>) -> Result<Value> {
    let (text, origin) = match file {
        Some(file) if file.as_os_str() != "-" => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            (text, file.display().to_string())
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading standard input")?;
            (text, "standard input".to_owned())
        }
    };
    serde_json::from_str(&text).with_context(|| format!("{origin} is not valid JSON"))
}

/// The paths under `value`, written from the root (`prefix` first), with their previews in an
/// aligned column.
fn suggestions(prefix: &str, value: &Value) -> String {
    let rows: Vec<(String, String)> = flow_http::suggest_paths(value)
        .into_iter()
        .map(|suggestion| (join(prefix, &suggestion.path), suggestion.preview))
        .collect();
    let width = rows
        .iter()
        .map(|(path, _)| path.chars().count())
        .max()
        .unwrap_or(0);
    rows.iter()
        .map(|(path, preview)| {
            let pad = width - path.chars().count();
            format!("{path}{}  {preview}\n", " ".repeat(pad))
        })
        .collect()
}

/// `prefix` followed by `path`, which is relative to what `prefix` selects.
fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() || path.starts_with('[') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}.{path}")
    }
}
