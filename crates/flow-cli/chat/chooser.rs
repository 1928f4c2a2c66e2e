//! The simulator's webhook runner: at each webhook step, ask the author what comes back (S18).
//!
//! - A fake success is a response with an accepted status (200 unless the step does not
//!   accept it) and the payload the author gives. It goes through classification and every
//!   `save` of the step before it is accepted: a list-typed variable whose path does not hold
//!   an array is refused and the author asked again, so the conversation does not move on.
//!   Another `KeyError` is shown, and the author may use the payload anyway, to see the step
//!   fail as it would.
//! - A fake failure is a response with status 500 (or another one the step does not accept)
//!   and the author's payload as body: classification makes it a `BadResponse` carrying the
//!   payload, which is what the failure variable holds. A recorded test replays it exactly.
//! - A real request is sent with the HTTP client, and its outcome used.
//!
//! `--webhooks real|success|failure` give every step the same answer without asking;
//! `success` answers `{}`, so a `save` with a `default` stores it and any other fails with the
//! `KeyError` a real empty object would give.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anstyle::{AnsiColor, Style};
use flow_core::flow::{Save, VarType};
use flow_http::{AcceptStatus, Secrets, WebhookError};
use flow_runtime::{
    HttpRunner, RunOutcome, RunnerError, WebhookCall, WebhookResponse, WebhookRunner,
};
use serde_json::{json, Value};

use super::commands::short_json;

const HEAD: Style = AnsiColor::Yellow.on_default().bold();
const KEY: Style = AnsiColor::Cyan.on_default().bold();
use super::{Console, ReadLine};
use flow_http::extract;

/// How webhook steps are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum WebhookMode {
    /// Ask at each step: fake success, fake failure, or real request.
    Ask,
    /// Send every request for real.
    Real,
    /// Answer every step with status 200 and `{}`.
    Success,
    /// Answer every step with status 500 and `{"error": "simulated failure"}`.
    Failure,
}

impl WebhookMode {
    /// A few words for the banner.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            WebhookMode::Ask => "ask at each step",
            WebhookMode::Real => "sent for real",
            WebhookMode::Success => "fake success with {}",
            WebhookMode::Failure => "fake failure",
        }
    }
}

/// An outcome given to a webhook step, for the recording.
#[derive(Debug, Clone)]
pub(crate) struct Used {
    /// The webhook block.
    pub(crate) block: String,
    /// What it got.
    pub(crate) outcome: RunOutcome,
}

/// Answers webhook steps for the simulator.
pub(crate) struct Chooser {
    mode: WebhookMode,
    http: HttpRunner,
    console: Arc<Console>,
    secrets: Arc<Secrets>,
    used: Mutex<Vec<Used>>,
    quit: AtomicBool,
}

/// What the author picked.
enum Choice {
    Respond(WebhookResponse),
    Real,
}

/// Why a fake success was not taken as it is.
pub(crate) enum Refusal {
    /// A list-typed variable would get something else: the payload is refused (S18).
    ListType(WebhookError),
    /// Another problem: the step would fail with it, if the author wants that.
    Fails(WebhookError),
}

impl Chooser {
    pub(crate) fn new(
        mode: WebhookMode,
        http: HttpRunner,
        console: Arc<Console>,
        secrets: Arc<Secrets>,
    ) -> Chooser {
        Chooser {
            mode,
            http,
            console,
            secrets,
            used: Mutex::new(Vec::new()),
            quit: AtomicBool::new(false),
        }
    }

    /// Whether the author ended input while a step waited for a choice.
    pub(crate) fn quit_requested(&self) -> bool {
        self.quit.load(Ordering::Relaxed)
    }

    /// The outcomes given since the last call, in order.
    pub(crate) fn take_used(&self) -> Vec<Used> {
        std::mem::take(
            &mut *self
                .used
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    fn cancelled(&self, call: &WebhookCall<'_>) -> RunnerError {
        RunnerError::Cancelled {
            block: call.block_id.to_owned(),
        }
    }

    /// Reads a line; `Err` when the author quits (Ctrl-D or end of input).
    fn read(&self, prompt: &str, call: &WebhookCall<'_>) -> Result<Option<String>, RunnerError> {
        match self.console.read(prompt) {
            ReadLine::Line(line) => Ok(Some(line)),
            ReadLine::Interrupted => Ok(None),
            ReadLine::Eof => {
                self.quit.store(true, Ordering::Relaxed);
                Err(self.cancelled(call))
            }
        }
    }

    /// Shows the request and the menu, and returns what the author picked.
    fn ask(&self, call: &WebhookCall<'_>) -> Result<Choice, RunnerError> {
        let screen = &self.console.screen;
        screen.lines(&self.menu(call));
        loop {
            let Some(line) = self.read("choice> ", call)? else {
                // Ctrl-C at the menu: the step does not run, and stays next.
                return Err(self.cancelled(call));
            };
            match line.trim().to_lowercase().as_str() {
                "1" | "s" | "success" => {
                    if let Some(response) = self.fake_success(call)? {
                        return Ok(Choice::Respond(response));
                    }
                }
                "2" | "f" | "failure" => {
                    if let Some(response) = self.fake_failure(call)? {
                        return Ok(Choice::Respond(response));
                    }
                }
                "3" | "r" | "real" => {
                    screen.note(&format!(
                        "sending {} {} for real: whatever it does on the server happens",
                        call.request.method,
                        self.secrets.redact(&call.request.url)
                    ));
                    return Ok(Choice::Real);
                }
                "" => continue,
                "/quit" | "/exit" | "/q" => {
                    self.quit.store(true, Ordering::Relaxed);
                    return Err(self.cancelled(call));
                }
                command if command.starts_with('/') => {
                    screen.error(
                        "answer the webhook step first: 1, 2 or 3 (Ctrl-C leaves it unanswered)",
                    );
                    continue;
                }
                _ => {
                    screen.error("pick 1 (fake success), 2 (fake failure) or 3 (real request)");
                    continue;
                }
            }
            screen.lines("back at the menu: 1 fake success, 2 fake failure, 3 real request");
        }
    }

    /// The request about to be sent (secrets masked) and the three choices; styled, which
    /// anstream keeps only on a terminal.
    fn menu(&self, call: &WebhookCall<'_>) -> String {
        let request = call.request;
        let mut text = format!(
            "{HEAD}webhook `{}` is about to send:{HEAD:#}\n  {} {}\n",
            call.block_id,
            request.method,
            self.secrets.redact(&request.url)
        );
        for (name, value) in &request.headers {
            text.push_str(&format!("  {name}: {}\n", self.secrets.redact(value)));
        }
        if let Some(body) = &request.body {
            let bytes = self.secrets.redact(&String::from_utf8_lossy(&body.bytes));
            text.push_str(&format!("  body ({}): {bytes}\n", body.content_type));
        }
        let failure = call.webhook.failure_variable();
        text.push_str(&format!(
            "{HEAD}what comes back?{HEAD:#}\n  \
             {KEY}1{KEY:#}  fake success: type or paste a JSON payload, or @FILE; every save is applied\n  \
             {KEY}2{KEY:#}  fake failure: type the payload that goes into `{failure}`\n  \
             {KEY}3{KEY:#}  real request: send it for real, with whatever side effects it has"
        ));
        text
    }

    /// Asks for a success payload until one passes the step's saves; `None` goes back to the
    /// menu.
    fn fake_success(&self, call: &WebhookCall<'_>) -> Result<Option<WebhookResponse>, RunnerError> {
        let screen = &self.console.screen;
        loop {
            let Some(payload) = self.payload("payload> ", false, call)? else {
                return Ok(None);
            };
            let response = success_response(&call.request.accept, &payload);
            match check(&Shape::of(call), &response) {
                Ok(saves) => {
                    for (name, value) in saves {
                        let value = self.secrets.redact_json(&value);
                        screen.note(&format!("{name} = {}", short_json(&value, 120)));
                    }
                    return Ok(Some(response));
                }
                Err(Refusal::ListType(error)) => {
                    screen.error(&format!(
                        "{error}; give a payload where that path holds a list (a blank line goes back)"
                    ));
                }
                Err(Refusal::Fails(error)) => {
                    screen.error(&format!("{error}"));
                    let answer = self.read("use it anyway, so the step fails? [y/N] ", call)?;
                    if answer.is_some_and(|answer| answer.trim().eq_ignore_ascii_case("y")) {
                        return Ok(Some(response));
                    }
                }
            }
        }
    }

    /// Asks for the payload of a fake failure; `None` goes back to the menu.
    fn fake_failure(&self, call: &WebhookCall<'_>) -> Result<Option<WebhookResponse>, RunnerError> {
        let payload = self.payload("failure payload> ", true, call)?;
        Ok(payload.map(|payload| failure_response(&call.request.accept, &payload)))
    }

    /// Reads a JSON payload: typed or pasted (several lines until the JSON is complete), or
    /// read from a file named `@FILE` (or by an existing path). When `text_ok`, a line that is
    /// not JSON is taken as a text. A blank line or Ctrl-C goes back (`None`).
    fn payload(
        &self,
        prompt: &str,
        text_ok: bool,
        call: &WebhookCall<'_>,
    ) -> Result<Option<Value>, RunnerError> {
        let screen = &self.console.screen;
        let mut text = String::new();
        loop {
            let prompt = if text.is_empty() { prompt } else { "   ...> " };
            let Some(line) = self.read(prompt, call)? else {
                return Ok(None);
            };
            let trimmed = line.trim();
            if text.is_empty() {
                if trimmed.is_empty() {
                    return Ok(None);
                }
                if let Some(file) = file_named(trimmed) {
                    match read_json_file(&file) {
                        Ok(value) => return Ok(Some(value)),
                        Err(error) => {
                            screen.error(&error);
                            continue;
                        }
                    }
                }
            }
            text.push_str(&line);
            text.push('\n');
            match serde_json::from_str::<Value>(&text) {
                Ok(value) => return Ok(Some(value)),
                Err(error) if error.is_eof() && !trimmed.is_empty() => continue,
                Err(_) if text_ok && text.lines().count() == 1 => {
                    return Ok(Some(Value::String(trimmed.to_owned())));
                }
                Err(error) => {
                    screen.error(&format!(
                        "not JSON: {error} (type it again; a blank line goes back)"
                    ));
                    text.clear();
                }
            }
        }
    }

    fn record(&self, block: &str, outcome: &RunOutcome) {
        self.used
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Used {
                block: block.to_owned(),
                outcome: outcome.clone(),
            });
    }
}

impl super::SimRunner for Chooser {
    fn take_used(&self) -> Vec<Used> {
        Chooser::take_used(self)
    }
}

impl WebhookRunner for Chooser {
    async fn run(&self, call: WebhookCall<'_>) -> Result<RunOutcome, RunnerError> {
        let choice = match self.mode {
            WebhookMode::Ask => self.ask(&call)?,
            WebhookMode::Real => Choice::Real,
            WebhookMode::Success => {
                Choice::Respond(success_response(&call.request.accept, &json!({})))
            }
            WebhookMode::Failure => Choice::Respond(failure_response(
                &call.request.accept,
                &json!({"error": "simulated failure"}),
            )),
        };
        let outcome = match choice {
            Choice::Respond(response) => RunOutcome::Response(response),
            Choice::Real => self.http.run(call).await?,
        };
        self.record(call.block_id, &outcome);
        Ok(outcome)
    }
}

/// A success response: 200 with `payload`, or the first status the step accepts.
pub(crate) fn success_response(accept: &AcceptStatus, payload: &Value) -> WebhookResponse {
    let status = if accept.contains(200) {
        200
    } else {
        (100..600)
            .find(|&status| accept.contains(status))
            .unwrap_or(200)
    };
    WebhookResponse::json(status, payload)
}

/// A failure response: 500 with `payload`, or a status the step does not accept.
pub(crate) fn failure_response(accept: &AcceptStatus, payload: &Value) -> WebhookResponse {
    let status = if accept.contains(500) {
        (400..600)
            .rev()
            .find(|&status| !accept.contains(status))
            .unwrap_or(500)
    } else {
        500
    };
    WebhookResponse::json(status, payload)
}

/// What a fake payload is checked against: a step's saves, the statuses it accepts, and the
/// declared types of its bot's variables. Owned, so that the web simulator can keep it while
/// the step waits.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub(crate) saves: Vec<Save>,
    pub(crate) accept: AcceptStatus,
    declared: HashMap<String, VarType>,
}

impl Shape {
    /// The shape of the step `call` runs.
    pub(crate) fn of(call: &WebhookCall<'_>) -> Shape {
        let declared = call
            .webhook
            .save
            .iter()
            .filter_map(|save| {
                let decl = call.flow.variables().get(&save.to)?;
                Some((save.to.clone(), decl.var_type?))
            })
            .collect();
        Shape {
            saves: call.webhook.save.clone(),
            accept: call.request.accept.clone(),
            declared,
        }
    }

    /// The declared type of variable `name`, if it has one.
    pub(crate) fn declared(&self, name: &str) -> Option<VarType> {
        self.declared.get(name).copied()
    }
}

/// Runs a response through classification and every save of the step, as the executor will.
pub(crate) fn check(
    shape: &Shape,
    response: &WebhookResponse,
) -> Result<Vec<(String, Value)>, Refusal> {
    let body = flow_http::classify(
        response.status,
        &response.headers,
        &response.body,
        &shape.accept,
    )
    .map_err(Refusal::Fails)?;
    let declared = |name: &str| shape.declared(name);
    let error = match extract(&shape.saves, &body, &declared) {
        Ok(saves) => return Ok(saves),
        Err(error) => error,
    };
    // A list-typed variable's path is checked on its own, so that it blocks even when another
    // path failed first.
    for save in &shape.saves {
        if declared(&save.to) != Some(VarType::List) {
            continue;
        }
        let value = save
            .path
            .evaluate(&body)
            .ok()
            .or_else(|| save.default.clone());
        if value.is_some_and(|value| !value.is_array()) {
            if let Err(list_error) = extract(std::slice::from_ref(save), &body, &declared) {
                return Err(Refusal::ListType(list_error));
            }
        }
    }
    Err(Refusal::Fails(error))
}

/// The file a payload line names: `@FILE`, or the path of an existing file.
fn file_named(line: &str) -> Option<std::path::PathBuf> {
    if let Some(file) = line.strip_prefix('@') {
        return Some(file.trim().into());
    }
    let looks_like_json =
        line.starts_with(['{', '[', '"']) || serde_json::from_str::<Value>(line).is_ok();
    let path = std::path::Path::new(line);
    (!looks_like_json && path.is_file()).then(|| path.to_owned())
}

fn read_json_file(path: &std::path::Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    serde_json::from_str(&text).map_err(|error| format!("{} is not JSON: {error}", path.display()))
}

#[cfg(test)]
mod tests;
