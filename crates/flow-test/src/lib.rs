//! Whole-conversation tests of flowbot bots: the test file format, its runner and its reports.
//!
//! A test file names a flow and holds cases: what the user types, what the bot must answer,
//! what each webhook step returns, and what must hold at the end (see `docs/testing.md`). Each
//! case is a real conversation run by [`flow_runtime::Executor`]; its webhook steps build their
//! requests for real and get the case's outcomes from the runtime's
//! [`flow_runtime::ScriptedRunner`], so classification and extraction are the real ones. Nothing
//! reaches the network unless an outcome says `real: true`.
//!
//! [`load_suite`] reads a test file and loads its flow with the other flows of its folder (so
//! `jump` works); [`run_suite`] runs its cases in parallel and gives a [`SuiteReport`];
//! [`report::render`] and [`junit::to_xml`] turn reports into the text `flowbot test` prints
//! and a JUnit file.
//!
//! ```
//! use std::path::Path;
//! use flow_test::{load_suite, run_suite, RunOptions};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conversations/shop.yaml");
//! let suite = load_suite(&path).unwrap();
//! let report = run_suite(&suite, &RunOptions::default()).await;
//!
//! let first = &report.cases[0];
//! assert_eq!(first.name, "lists the products");
//! assert!(first.passed(), "{}", first.explain());
//! assert_eq!(first.transcript[0].to_string(), "bot: Welcome to the shop!");
//! assert_eq!(report.summary().failed, 0);
//! # });
//! ```

mod checks;
pub mod junit;
pub mod matcher;
pub mod report;
mod runner;
pub mod spec;
mod suite;
pub mod transcript;

pub use report::{CaseReport, Failure, SuiteReport, Summary};
pub use runner::{run_case, run_file, run_suite, RunOptions};
pub use suite::{discover, load_suite, Suite, SuiteError};
