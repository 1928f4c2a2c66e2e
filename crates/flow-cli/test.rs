//! `flowbot test`: runs conversation test files and reports every case, for people and for CI.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use flow_test::{RunOptions, Summary};

/// Options of `flowbot test`.
#[derive(clap::Args)]
pub struct Args {
    /// Test files, or folders searched for them (YAML files with a top-level `cases:` key).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Run only the cases whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Also write a JUnit XML report to this file, for CI systems.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// Runs every selected case; exits 1 when one failed or none ran.
pub fn run(args: Args) -> Result<ExitCode> {
    let files = flow_test::discover(&args.paths).map_err(anyhow::Error::msg)?;
    if files.is_empty() {
        bail!(
            "no test files (YAML files with a `cases:` key) in {}",
            args.paths
                .iter()
                .map(|path| path.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let options = RunOptions {
        filter: args.filter.clone(),
        http: None,
    };
    // Cases are independent tasks: a multi-thread runtime runs them on every core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let reports = runtime.block_on(async {
        let mut reports = Vec::with_capacity(files.len());
        for file in &files {
            let report = flow_test::run_file(file, &options).await;
            if !report.cases.is_empty() {
                reports.push(report);
            }
        }
        reports
    });
    crate::output::print(&flow_test::report::render(&reports))?;
    if let Some(path) = &args.junit {
        let xml = flow_test::junit::to_xml(&reports).context("writing the JUnit report")?;
        std::fs::write(path, xml)
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    let summary = Summary::of(&reports);
    if summary.passed + summary.failed == 0 {
        if let Some(filter) = &args.filter {
            eprintln!("no case name contains `{filter}`");
        }
        return Ok(ExitCode::from(1));
    }
    Ok(if summary.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
