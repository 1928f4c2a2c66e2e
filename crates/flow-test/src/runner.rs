//! Running cases: each one is a conversation with scripted webhook outcomes, played step by step
//! and then held against the case's transcript, status, variables and requests.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use flow_core::flow::BlockId;
use flow_core::BlockKind;
use flow_http::{Client, ClientConfig, Secrets, WebhookRequest};
use flow_runtime::{
    ConversationId, Executor, HttpRunner, Notice, RunOutcome, RunnerError, Scripted,
    ScriptedRunner, StartOptions, WebhookCall, WebhookResponse, WebhookRunner,
};

use crate::checks;
use crate::report::{CaseReport, Failure, SuiteReport};
use crate::spec::{Case, Outcome, Step, TransportError};
use crate::suite::{load_suite, Bot, Suite};
use crate::transcript::{self, Expected, Line};

/// How to run cases.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run only the cases whose name contains this text.
    pub filter: Option<String>,
    /// Sends the requests of outcomes marked `real: true`. When `None`, a client with the
    /// default settings is made for the suites that have such an outcome, and only for them.
    pub http: Option<HttpRunner>,
}

impl RunOptions {
    /// Whether the case named `name` is to run.
    pub fn selects(&self, name: &str) -> bool {
        self.filter
            .as_deref()
            .is_none_or(|filter| name.contains(filter))
    }
}

/// Reads the test file at `path` and runs its cases; a file that cannot be read or parsed is
/// reported as one failed case named after the file.
pub async fn run_file(path: &std::path::Path, options: &RunOptions) -> SuiteReport {
    match load_suite(path) {
        Ok(suite) => run_suite(&suite, options).await,
        Err(error) => SuiteReport {
            path: path.to_path_buf(),
            cases: vec![CaseReport::failed(
                path.display().to_string(),
                Failure::Load(error.message),
            )],
        },
    }
}

/// Runs the cases of `suite` that `options` selects, in parallel on the current tokio runtime
/// (each case is its own task), and reports them in the file's order.
pub async fn run_suite(suite: &Suite, options: &RunOptions) -> SuiteReport {
    let cases: Vec<&Case> = suite
        .file
        .cases
        .iter()
        .filter(|case| options.selects(&case.name))
        .collect();
    let http = match &options.http {
        Some(http) => Some(http.clone()),
        None if cases.iter().any(|case| has_real_outcome(case)) => default_http(),
        None => None,
    };
    let handles: Vec<_> = cases
        .iter()
        .map(|case| {
            let job = Job {
                bot: suite.bot.clone(),
                case: (*case).clone(),
                secrets: secrets(&suite.file.secrets, &case.secrets),
                http: http.clone(),
            };
            tokio::spawn(job.run())
        })
        .collect();
    let mut reports = Vec::with_capacity(handles.len());
    for (case, handle) in cases.iter().zip(handles) {
        reports.push(handle.await.unwrap_or_else(|error| {
            CaseReport::failed(case.name.clone(), Failure::Panicked(error.to_string()))
        }));
    }
    SuiteReport {
        path: suite.path.clone(),
        cases: reports,
    }
}

/// Runs one case of `suite` on the current task.
pub async fn run_case(suite: &Suite, case: &Case, options: &RunOptions) -> CaseReport {
    let http = match &options.http {
        Some(http) => Some(http.clone()),
        None if has_real_outcome(case) => default_http(),
        None => None,
    };
    Job {
        bot: suite.bot.clone(),
        case: case.clone(),
        secrets: secrets(&suite.file.secrets, &case.secrets),
        http,
    }
    .run()
    .await
}

fn has_real_outcome(case: &Case) -> bool {
    case.webhooks
        .values()
        .any(|outcomes| outcomes.0.contains(&Outcome::Real))
}

fn default_http() -> Option<HttpRunner> {
    Client::new(ClientConfig::default())
        .ok()
        .map(HttpRunner::new)
}

fn secrets(
    file: &indexmap::IndexMap<String, String>,
    case: &indexmap::IndexMap<String, String>,
) -> Arc<Secrets> {
    let mut secrets = Secrets::new();
    for (name, value) in file.iter().chain(case) {
        secrets.insert(name.clone(), value.clone());
    }
    Arc::new(secrets)
}

/// One case with everything it needs, so it can run as its own task.
struct Job {
    bot: Result<Bot, String>,
    case: Case,
    secrets: Arc<Secrets>,
    http: Option<HttpRunner>,
}

impl Job {
    async fn run(self) -> CaseReport {
        let started = Instant::now();
        let mut report = match &self.bot {
            Ok(bot) => self.play(bot).await,
            Err(diagnostics) => CaseReport::failed(
                self.case.name.clone(),
                Failure::Load(format!("the flow does not load:\n{diagnostics}")),
            ),
        };
        report.duration = started.elapsed();
        report
    }

    async fn play(&self, bot: &Bot) -> CaseReport {
        let case = &self.case;
        let mut report = CaseReport::new(case.name.clone());
        report
            .failures
            .extend(checks::unknown_webhooks(&bot.project, case));
        report
            .failures
            .extend(checks::unknown_presets(&bot.project, &bot.id, case));
        let runner = CaseRunner::new(case, self.http.clone());
        let executor =
            Executor::new(bot.project.clone(), runner).with_secrets(self.secrets.clone());
        let options = StartOptions {
            block: case.start_at.as_deref().map(BlockId::new),
            variables: case.variables.clone().into_iter().collect(),
        };
        let started = executor
            .start(ConversationId::new("test"), &bot.id, options)
            .await;
        let (mut conversation, turn) = match started {
            Ok(started) => started,
            Err(error) => {
                report.failures.push(Failure::Start(error.to_string()));
                return report;
            }
        };
        let mut actual: Vec<Line> = Line::of_turn(&turn).collect();
        for step in &case.conversation {
            // Each turn is saved as a store saves it, at the next revision: what a webhook
            // step's `Idempotency-Key` is made from, so that each message gets its own.
            if matches!(step, Step::User(_) | Step::Fire) {
                conversation.set_revision(conversation.revision() + 1);
            }
            // A `RunError` here means the bot's file left the project mid-case, which cannot
            // happen in a test: the project is fixed for the whole run.
            let turn = match step {
                Step::User(text) => {
                    actual.push(Line::User(text.clone()));
                    executor.deliver(&mut conversation, text).await
                }
                Step::Fire => {
                    let turn = executor.fire_timer(&mut conversation).await;
                    let fired = turn
                        .as_ref()
                        .is_ok_and(|turn| !turn.notices.contains(&Notice::NoTimer));
                    actual.push(Line::Fire { fired });
                    turn
                }
                _ => continue,
            };
            match turn {
                Ok(turn) => actual.extend(Line::of_turn(&turn)),
                Err(error) => actual.push(Line::Error(error.to_string())),
            }
        }
        let runner = executor.runner();
        for (block, request) in runner.missing() {
            report.failures.push(Failure::NoOutcome {
                block,
                request: checks::describe_request(&request, &self.secrets),
            });
        }
        let expected = Expected::of_steps(&case.conversation);
        if let Some(diff) = transcript::compare(&expected, &actual) {
            report.failures.push(Failure::Transcript(diff));
        }
        report.failures.extend(checks::status(case, &conversation));
        report
            .failures
            .extend(checks::variables(case, &conversation));
        report.failures.extend(checks::requests(
            case,
            &|block| runner.scripted.requests_for(block),
            &self.secrets,
        ));
        report.transcript = actual;
        report
    }
}

/// The runtime's [`ScriptedRunner`] with the case's outcomes, noting each webhook that was
/// reached without one. It is given an HTTP runner only when an outcome says `real: true`, so
/// no other case can reach the network.
pub(crate) struct CaseRunner {
    scripted: ScriptedRunner,
    missing: Mutex<Vec<(String, WebhookRequest)>>,
}

impl CaseRunner {
    fn new(case: &Case, http: Option<HttpRunner>) -> CaseRunner {
        let mut scripted = ScriptedRunner::new();
        for (block, outcomes) in &case.webhooks {
            let outcomes = outcomes.0.iter().map(scripted_outcome).collect();
            scripted = scripted.with_sequence(block, outcomes);
        }
        if let Some(http) = http.filter(|_| has_real_outcome(case)) {
            scripted = scripted.with_http(http);
        }
        CaseRunner {
            scripted,
            missing: Mutex::new(Vec::new()),
        }
    }

    /// The webhooks reached without an outcome, with the request each would have sent.
    fn missing(&self) -> Vec<(String, WebhookRequest)> {
        self.missing
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn scripted_outcome(outcome: &Outcome) -> Scripted {
    match outcome {
        Outcome::Response {
            status,
            headers,
            body,
        } => Scripted::Response(WebhookResponse {
            status: *status,
            headers: headers.clone(),
            body: body.clone(),
        }),
        Outcome::Error(TransportError::Timeout) => Scripted::Timeout,
        Outcome::Error(TransportError::ConnectionError) => Scripted::ConnectionError,
        Outcome::Real => Scripted::Real,
    }
}

impl WebhookRunner for CaseRunner {
    async fn run(&self, call: WebhookCall<'_>) -> Result<RunOutcome, RunnerError> {
        let result = self.scripted.run(call).await;
        if let Err(RunnerError::NoOutcome { block }) = &result {
            self.missing
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((block.clone(), call.request.clone()));
        }
        result
    }
}

/// The ids of the webhook blocks of every bot of `project`.
pub(crate) fn webhook_blocks(project: &flow_core::Project) -> Vec<&str> {
    project
        .flows()
        .flat_map(|flow| flow.blocks())
        .filter(|block| matches!(block.kind, BlockKind::Webhook(_)))
        .map(|block| block.id.as_str())
        .collect()
}

#[cfg(test)]
mod tests;
