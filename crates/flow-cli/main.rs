//! The `flowbot` command line: validate, draw and describe flow files.

mod files;
mod graph;
mod output;
mod test;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// flowbot runs chatbots written as YAML files of blocks.
#[derive(Parser)]
#[command(name = "flowbot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check flow files (or folders of them) and report every problem with its position.
    Validate(validate::Args),
    /// Draw a flow as a Mermaid or Graphviz diagram.
    Graph(graph::Args),
    /// Print the JSON Schema of flow files, for editors.
    Schema,
    /// Run conversation test files and report every case.
    Test(test::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Schema => output::print(&format!("{}\n", flow_core::schema::json_schema()))
            .map(|()| ExitCode::SUCCESS),
        Command::Test(args) => test::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
