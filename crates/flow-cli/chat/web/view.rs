//! What the web simulator's page shows, kept between requests: the transcript, the panels, and
//! the webhook step waiting for an answer.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use flow_http::Secrets;
use flow_runtime::{RunOutcome, RunnerError, WebhookCall, WebhookTrace};
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{oneshot, watch};

use super::super::chooser::Shape;
use super::super::pipe::webhook_line;
use super::super::{Screen, WebhookMode};

/// How much of a real response's body the page is given.
const BODY_MAX_CHARS: usize = 20_000;

/// The view, and a signal that it changed, shared by the server's handlers, the turn that runs,
/// and the webhook runner.
pub(crate) struct Shared {
    view: Mutex<View>,
    changed: watch::Sender<u64>,
}

impl Shared {
    /// An empty view.
    pub(crate) fn new() -> Shared {
        Shared {
            view: Mutex::new(View::default()),
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, View> {
        // Every change is a few assignments that cannot panic halfway, so a poisoned lock still
        // holds a whole view.
        self.view.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the view and wakes whoever waits for a change.
    pub(crate) fn update<T>(&self, change: impl FnOnce(&mut View) -> T) -> T {
        let result = change(&mut self.lock());
        self.changed.send_modify(|version| *version += 1);
        result
    }

    /// Reads the view.
    pub(crate) fn read<T>(&self, look: impl FnOnce(&View) -> T) -> T {
        look(&self.lock())
    }

    /// Waits until `until` holds of the view.
    pub(crate) async fn wait(&self, until: impl Fn(&View) -> bool) {
        let mut changes = self.changed.subscribe();
        loop {
            if self.read(&until) {
                return;
            }
            if changes.changed().await.is_err() {
                return;
            }
        }
    }
}

/// What the page shows.
#[derive(Default)]
pub(crate) struct View {
    /// The transcript, as the terminal would print it.
    pub(crate) entries: Vec<Entry>,
    /// The options of the last bot message: buttons.
    pub(crate) options: Vec<String>,
    /// The conversation's status (`waiting`, `ended`, ...).
    pub(crate) status: String,
    /// What `/vars` shows.
    pub(crate) vars: String,
    /// What `/trace` shows.
    pub(crate) trace: String,
    /// A turn is running (or waiting at a webhook step).
    pub(crate) busy: bool,
    /// The webhook step waiting for the author's answer.
    pub(crate) pending: Option<Pending>,
    /// The last real request's response.
    pub(crate) real: Option<RealResponse>,
}

impl View {
    /// Whether a request may answer now: no turn runs, or one waits for the author.
    pub(crate) fn settled(&self) -> bool {
        !self.busy || self.pending.is_some()
    }

    /// The view as the page reads it.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "status": self.status,
            "busy": self.busy,
            "entries": self.entries,
            "options": self.options,
            "vars": self.vars,
            "trace": self.trace,
            "step": self.pending.as_ref().map(|pending| &pending.step),
            "real": self.real,
        })
    }
}

/// One line of the transcript.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Entry {
    /// A bot message and its options.
    Bot { text: String, options: Vec<String> },
    /// A message the user sent.
    User { text: String },
    /// An event handed to the host.
    Event { name: String, data: Value },
    /// A hand-off to a human.
    Handoff { team: Option<String> },
    /// A webhook step that ran.
    Webhook { text: String },
    /// Something that went wrong.
    Error { text: String },
    /// A remark of the simulator.
    Note { text: String },
    /// Command output, shown as it is.
    Lines { text: String },
}

/// A webhook step waiting for the author, and where the answer goes.
pub(crate) struct Pending {
    /// What the page shows of it.
    pub(crate) step: Step,
    /// What a fake payload is checked against.
    pub(crate) shape: Shape,
    /// The waiting runner.
    pub(crate) answer: oneshot::Sender<Answer>,
}

impl Pending {
    /// The id of the waiting webhook block.
    pub(crate) fn step_block(&self) -> &str {
        &self.step.block
    }
}

/// What the author picked for a webhook step.
pub(crate) enum Answer {
    /// A fake response.
    Respond(flow_runtime::WebhookResponse),
    /// The real request.
    Real,
}

/// The request about to be sent, secrets masked, and what the step does with a response.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Step {
    block: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
    content_type: Option<String>,
    failure_variable: String,
    saves: Vec<SaveView>,
}

/// One `save` of the step.
#[derive(Debug, Clone, Serialize)]
struct SaveView {
    path: String,
    to: String,
    #[serde(rename = "type")]
    var_type: &'static str,
}

impl Step {
    /// The step `call` runs, secrets masked as the terminal masks them.
    pub(crate) fn of(call: &WebhookCall<'_>, shape: &Shape, secrets: &Secrets) -> Step {
        let request = call.request;
        Step {
            block: call.block_id.to_owned(),
            method: request.method.to_string(),
            url: secrets.redact(&request.url),
            headers: request
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), secrets.redact(value)))
                .collect(),
            body: request
                .body
                .as_ref()
                .map(|body| secrets.redact(&String::from_utf8_lossy(&body.bytes))),
            content_type: request
                .body
                .as_ref()
                .map(|body| body.content_type.to_string()),
            failure_variable: call.webhook.failure_variable().to_string(),
            saves: shape
                .saves
                .iter()
                .map(|save| SaveView {
                    path: save.path.to_string(),
                    to: save.to.clone(),
                    var_type: shape.declared(&save.to).map_or("any", |t| t.name()),
                })
                .collect(),
        }
    }
}

/// What a real request got: its status, time and body, or why it failed.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RealResponse {
    block: String,
    status: Option<u16>,
    ms: u128,
    body: Option<String>,
    error: Option<String>,
}

impl RealResponse {
    /// The outcome of block `block`'s real request, which took `took`; secrets masked.
    pub(crate) fn of(
        block: &str,
        outcome: &Result<RunOutcome, RunnerError>,
        took: Duration,
        secrets: &Secrets,
    ) -> RealResponse {
        let mut real = RealResponse {
            block: block.to_owned(),
            status: None,
            ms: took.as_millis(),
            body: None,
            error: None,
        };
        match outcome {
            Ok(RunOutcome::Response(response)) => {
                let text = String::from_utf8_lossy(&response.body);
                let cut: String = text.chars().take(BODY_MAX_CHARS).collect();
                real.status = Some(response.status);
                real.body = Some(secrets.redact(&cut));
            }
            Ok(RunOutcome::Failure(error)) => real.error = Some(secrets.redact(&error.to_string())),
            Err(error) => real.error = Some(secrets.redact(&error.to_string())),
        }
        real
    }
}

/// The session's screen: each thing shown becomes an entry of the transcript.
pub(crate) struct WebScreen(pub(crate) std::sync::Arc<Shared>);

impl WebScreen {
    fn push(&self, entry: Entry) {
        self.0.update(|view| view.entries.push(entry));
    }
}

impl Screen for WebScreen {
    fn banner(
        &self,
        _bot: &str,
        _file: &std::path::Path,
        _mode: WebhookMode,
        _record: Option<&std::path::Path>,
    ) {
    }

    fn prompt(&self) -> &'static str {
        ""
    }

    fn bot(&self, text: &str, options: &[String]) {
        self.push(Entry::Bot {
            text: text.to_owned(),
            options: options.to_vec(),
        });
    }

    fn user(&self, _typed: &str, sent: &str) {
        self.push(Entry::User {
            text: sent.to_owned(),
        });
    }

    fn event(&self, name: &str, data: &Value) {
        self.push(Entry::Event {
            name: name.to_owned(),
            data: data.clone(),
        });
    }

    fn handoff(&self, team: Option<&str>) {
        self.push(Entry::Handoff {
            team: team.map(str::to_owned),
        });
    }

    fn webhook(&self, trace: &WebhookTrace) {
        self.push(Entry::Webhook {
            text: webhook_line(trace),
        });
    }

    fn error(&self, text: &str) {
        self.push(Entry::Error {
            text: text.to_owned(),
        });
    }

    fn note(&self, text: &str) {
        self.push(Entry::Note {
            text: text.to_owned(),
        });
    }

    fn lines(&self, text: &str) {
        self.push(Entry::Lines {
            text: text.to_owned(),
        });
    }
}
