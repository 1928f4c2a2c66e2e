//! What running cases gives: a report per case and per file, failures in words, and the
//! closing `N passed, M failed` line.

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use flow_core::flow::UnusedVariable;
use serde_json::Value;

use crate::transcript::{Line, TranscriptDiff};

/// The cases of one test file, in the file's order.
#[derive(Debug, Clone)]
pub struct SuiteReport {
    /// The test file.
    pub path: PathBuf,
    /// One report per case run.
    pub cases: Vec<CaseReport>,
}

impl SuiteReport {
    /// How many cases passed and failed.
    pub fn summary(&self) -> Summary {
        let failed = self.cases.iter().filter(|case| !case.passed()).count();
        Summary {
            passed: self.cases.len() - failed,
            failed,
        }
    }
}

/// How one case went.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The case's name.
    pub name: String,
    /// Everything that did not hold; empty when the case passed.
    pub failures: Vec<Failure>,
    /// What really happened, line by line: the bot's outputs and the test's messages.
    pub transcript: Vec<Line>,
    /// How long the case took to run (loading the files excluded).
    pub duration: Duration,
}

impl CaseReport {
    pub(crate) fn new(name: String) -> CaseReport {
        CaseReport {
            name,
            failures: Vec::new(),
            transcript: Vec::new(),
            duration: Duration::ZERO,
        }
    }

    pub(crate) fn failed(name: String, failure: Failure) -> CaseReport {
        let mut report = CaseReport::new(name);
        report.failures.push(failure);
        report
    }

    /// Whether everything held.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The failures, each as its text, separated by blank lines.
    pub fn explain(&self) -> String {
        let texts: Vec<String> = self.failures.iter().map(ToString::to_string).collect();
        texts.join("\n\n")
    }

    /// The actual transcript, one line per output or message.
    pub fn transcript_text(&self) -> String {
        self.transcript
            .iter()
            .map(|line| format!("{line}\n"))
            .collect()
    }
}

/// A variable whose value is not the expected one.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableDiff {
    /// The variable.
    pub name: String,
    /// What the case expects (matched by subset).
    pub expected: Value,
    /// Its value at the end (`None`: unset).
    pub actual: Option<Value>,
}

/// One thing that did not hold in a case.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The test file, or the flow under test, could not be loaded: why, with file, line and
    /// column.
    Load(String),
    /// The conversation could not start (e.g. `start_at` names no block of the bot).
    Start(String),
    /// `webhooks` or `expect.requests` names a block that is no webhook of the project.
    UnknownWebhook {
        /// `webhooks` or `expect.requests`.
        place: &'static str,
        /// The name given.
        block: String,
        /// A close webhook block id, if there is one.
        help: Option<String>,
    },
    /// `variables` presets a variable that the bot never declares, assigns or has built in.
    UnknownPreset(UnusedVariable),
    /// A webhook step was reached without an outcome in the case: nothing was sent.
    NoOutcome {
        /// The webhook block.
        block: String,
        /// The request it would have sent, secrets masked.
        request: String,
    },
    /// The transcript differs from the case's `conversation`.
    Transcript(TranscriptDiff),
    /// The final status differs.
    Status {
        /// As the test file writes it.
        expected: &'static str,
        /// As the conversation ended.
        actual: &'static str,
    },
    /// Some variables differ.
    Variables(Vec<VariableDiff>),
    /// A webhook block sent a different number of requests than expected.
    RequestCount {
        /// The webhook block.
        block: String,
        /// How many the case expects.
        expected: usize,
        /// What was sent, one `METHOD URL` per request.
        sent: Vec<String>,
    },
    /// A field of a request differs.
    Request {
        /// The webhook block.
        block: String,
        /// Which of its requests, from 0.
        index: usize,
        /// `method`, `url`, `header ...`, `json` or `body`.
        field: String,
        /// What the case expects.
        expected: String,
        /// What was built.
        actual: String,
    },
    /// The case's task panicked: a bug in flowbot, not in the bot.
    Panicked(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Load(message) => f.write_str(message),
            Failure::Start(message) => write!(f, "the conversation could not start: {message}"),
            Failure::UnknownWebhook { place, block, help } => {
                write!(
                    f,
                    "`{place}` names `{block}`, which is not a webhook block of this bot or of \
                     the bots beside it"
                )?;
                match help {
                    Some(help) => write!(f, " ({help})"),
                    None => Ok(()),
                }
            }
            Failure::UnknownPreset(unused) => {
                write!(f, "`variables` presets `{}`: {unused}", unused.name)
            }
            Failure::NoOutcome { block, request } => {
                writeln!(
                    f,
                    "webhook `{block}` was reached without an outcome, so nothing was sent; it \
                     would have sent:"
                )?;
                for line in request.lines() {
                    writeln!(f, "    {line}")?;
                }
                write!(
                    f,
                    "add an outcome under `webhooks: {block}:` in the case (e.g. `{{status: \
                     200, json: {{...}}}}`), or `{{real: true}}` to send it for real"
                )
            }
            Failure::Transcript(diff) => {
                writeln!(f, "the conversation differs from line {}:", diff.first + 1)?;
                write!(f, "{}", diff.to_string().trim_end())
            }
            Failure::Status { expected, actual } => {
                write!(f, "status: expected `{expected}`, got `{actual}`")
            }
            Failure::Variables(differ) => {
                write!(f, "variables that differ:")?;
                for diff in differ {
                    let actual = diff
                        .actual
                        .as_ref()
                        .map_or_else(|| "unset".to_owned(), ToString::to_string);
                    write!(
                        f,
                        "\n  {}: expected {}, got {actual}",
                        diff.name, diff.expected
                    )?;
                }
                Ok(())
            }
            Failure::RequestCount {
                block,
                expected,
                sent,
            } => {
                write!(
                    f,
                    "webhook `{block}` sent {} {}, the case expects {expected}",
                    sent.len(),
                    if sent.len() == 1 {
                        "request"
                    } else {
                        "requests"
                    }
                )?;
                for request in sent {
                    write!(f, "\n  {request}")?;
                }
                Ok(())
            }
            Failure::Request {
                block,
                index,
                field,
                expected,
                actual,
            } => write!(
                f,
                "request {} of webhook `{block}`: {field} differs\n  expected: {expected}\n  \
                 actual:   {actual}",
                index + 1
            ),
            Failure::Panicked(message) => write!(f, "the case panicked (a flowbot bug): {message}"),
        }
    }
}

/// How many cases passed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Cases where everything held.
    pub passed: usize,
    /// Cases with at least one failure.
    pub failed: usize,
}

impl Summary {
    /// The sum over `reports`.
    pub fn of(reports: &[SuiteReport]) -> Summary {
        reports
            .iter()
            .map(SuiteReport::summary)
            .fold(Summary::default(), |total, one| Summary {
                passed: total.passed + one.passed,
                failed: total.failed + one.failed,
            })
    }
}

impl fmt::Display for Summary {
    /// `N passed, M failed`, the line CI systems read.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)
    }
}

/// The whole run as text: a line per case, then each failure in full, then the count line.
pub fn render(reports: &[SuiteReport]) -> String {
    let mut out = String::new();
    for suite in reports {
        for case in &suite.cases {
            let verdict = if case.passed() { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "{verdict} {}: {}", suite.path.display(), case.name);
        }
    }
    for suite in reports {
        for case in suite.cases.iter().filter(|case| !case.passed()) {
            let _ = writeln!(out, "\n--- {}: {}", suite.path.display(), case.name);
            for line in case.explain().lines() {
                let _ = writeln!(out, "{}", format!("  {line}").trim_end());
            }
        }
    }
    let _ = writeln!(out, "\n{}", Summary::of(reports));
    out
}
