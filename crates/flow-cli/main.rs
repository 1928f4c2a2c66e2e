//! The `flowbot` command line: validate, draw and describe flow files, chat with a bot, probe a
//! webhook step, run the production server.

mod chat;
mod extract;
mod files;
mod graph;
mod migrate;
mod output;
mod serve;
mod test;
mod validate;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator. A turn makes some hundred small allocations, and
/// glibc's allocator is slower at that even on one thread; on a multi-threaded runtime a
/// conversation's turns also allocate on one worker thread and free on another, where glibc
/// takes and contends on arena locks, while mimalloc keeps per-thread heaps and frees remotely
/// without a lock. Measured by flow-bench, which uses it too (`docs/performance.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Try a `save` path on a JSON payload, as a webhook step would (or list the paths in it).
    Extract(extract::Args),
    /// Talk to a bot in the terminal or the browser (--web), or script a conversation through a pipe.
    Chat(chat::Args),
    /// Run one webhook step for real and show the response, its saves and its paths.
    Webhook(webhook::Args),
    /// Run conversation test files and report every case.
    Test(test::Args),
    /// Run the bots of a folder behind the HTTP API, storing conversations durably.
    Serve(Box<serve::Args>),
    /// Apply the store's migrations without serving, and print which were applied.
    Migrate(migrate::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Graph(args) => graph::run(args),
        Command::Extract(args) => extract::run(args),
        Command::Schema => output::print(&format!("{}\n", flow_core::schema::json_schema()))
            .map(|()| ExitCode::SUCCESS),
        Command::Chat(args) => block_on(chat::run(args)),
        Command::Webhook(args) => block_on(webhook::run(args)),
        Command::Test(args) => test::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Migrate(args) => migrate::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs `future` on a runtime of its own: only `main` builds one. One thread is enough for
/// one conversation, and keeps the simulator's reads of stdin and its requests in order.
fn block_on<F: std::future::Future<Output = anyhow::Result<ExitCode>>>(
    future: F,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}
