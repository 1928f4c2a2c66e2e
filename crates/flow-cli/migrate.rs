//! `flowbot migrate`: brings a store up to this version's schema without serving, and says
//! which migrations it applied. `flowbot serve` applies them at start too; running them first
//! keeps a deployment's instances from starting on a schema change.

use std::process::ExitCode;

use anyhow::{Context, Result};

/// Options of `flowbot migrate`.
#[derive(clap::Args)]
pub struct Args {
    /// The store to migrate: `sqlite:PATH` or a PostgreSQL URL (`postgres://USER@HOST/DB`)
    /// [default: sqlite:flowbot.db].
    #[arg(
        long,
        value_name = "URL",
        env = "FLOWBOT_STORE",
        default_value = "sqlite:flowbot.db"
    )]
    store: String,
}

/// Applies the migrations and prints one line per version applied, or that none was needed.
pub fn run(args: Args) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let applied = runtime
        .block_on(flow_server::store::migrate(&args.store))
        .with_context(|| {
            format!(
                "migrating the store {}",
                flow_server::store::redacted_url(&args.store)
            )
        })?;
    let mut text = String::new();
    if applied.is_empty() {
        text.push_str("the store is up to date: no migration to apply\n");
    }
    for version in &applied {
        text.push_str(&format!("applied migration {version}\n"));
    }
    crate::output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
