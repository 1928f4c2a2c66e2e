//! `flowbot graph`: a flow as a Mermaid or Graphviz diagram.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::files;

/// Options of `flowbot graph`.
#[derive(clap::Args)]
pub struct Args {
    /// The flow file.
    file: PathBuf,
    /// Diagram language.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    /// Mermaid flowchart, for Markdown pages.
    Mermaid,
    /// Graphviz dot.
    Dot,
}

/// Prints the diagram of one flow.
pub fn run(args: Args) -> Result<ExitCode> {
    let flow = files::load_flow(&args.file)?;
    let diagram = match args.format {
        Format::Mermaid => flow_core::graph::to_mermaid(&flow),
        Format::Dot => flow_core::graph::to_dot(&flow),
    };
    crate::output::print(&diagram)?;
    Ok(ExitCode::SUCCESS)
}
