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
    path: String,
    /// The JSON payload; standard input when absent or `-`.
    file: Option<PathBuf>,
    /// List the paths under PATH with a preview of each, instead of extracting
    /// (`flowbot extract --suggest '' response.json` lists them all).
    #[arg(long)]
    suggest: bool,
}

/// Evaluates the path on the payload and prints the value, or the paths under it.
pub fn run(args: Args) -> Result<ExitCode> {
    let path = Path::parse(&args.path).map_err(|error| {
        let caret = format!("{}^", " ".repeat(error.offset));
        anyhow::anyhow!(
            "invalid path `{}`: {}\n  {}\n  {caret}",
            args.path,
            error.message,
            args.path
        )
    })?;
    if args.suggest && args.path.starts_with('$') {
        bail!("--suggest lists paths under a builder path such as `products` or '', not JSONPath");
    }
    let payload = read_payload(args.file.as_deref())?;
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
        output::print(&suggestions(&args.path, &value))?;
    } else {
        output::print(&format!("{value}\n"))?;
    }
    Ok(ExitCode::SUCCESS)
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
