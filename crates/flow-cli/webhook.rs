//! `flowbot webhook`: run one webhook step for real and show what came back (S10).
//!
//! The request is built by the executor itself, starting a conversation at the step with the
//! `--var` values, so it is exactly what the bot would send. The probe's runner sends it once,
//! keeps the raw response, and refuses any later webhook step, so nothing else is sent. Then the
//! response is shown with each `save` of the step applied on its own, the step's outcome, and
//! the paths an author can pick in the body (S13).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anstyle::{AnsiColor, Style};
use anyhow::{bail, Context, Result};
use flow_core::flow::{BlockKind, Flow, Webhook};
use flow_http::{Client, ClientConfig, RawResponse, Secrets, WebhookError, WebhookRequest};
use flow_runtime::{
    ConversationId, Executor, RunOutcome, RunnerError, StartOptions, TraceEvent, WebhookCall,
    WebhookOutcome, WebhookResponse, WebhookRunner,
};
use serde_json::Value;

use crate::chat::load_project;
use flow_http::extract;

const HEAD: Style = AnsiColor::Cyan.on_default().bold();
const DIM: Style = Style::new().dimmed();
const GOOD: Style = AnsiColor::Green.on_default().bold();
const BAD: Style = AnsiColor::Red.on_default().bold();

/// How many lines of the body, and how many paths, are shown without `--full`.
const BODY_LINES: usize = 60;
const PATHS: usize = 40;

/// Options of `flowbot webhook`.
#[derive(clap::Args)]
pub struct Args {
    /// The flow file.
    file: PathBuf,
    /// The id of the webhook block to run.
    block: String,
    /// A value for a variable the request uses; VALUE is read as JSON when it parses, else as
    /// text. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Show the whole body and every path suggestion.
    #[arg(long)]
    full: bool,
    /// Write the response as a webhook outcome for a conversation test.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// A file of `NAME=value` lines for `{{secret.NAME}}` (FLOWBOT_SECRET_NAME variables win).
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
}

/// What the probe's runner saw.
struct Probe {
    request: WebhookRequest,
    result: Result<RawResponse, WebhookError>,
}

/// Sends the first webhook request it is given, and refuses any other.
struct ProbeRunner {
    client: Client,
    probe: Mutex<Option<Probe>>,
}

impl WebhookRunner for ProbeRunner {
    async fn run(&self, call: WebhookCall<'_>) -> Result<RunOutcome, RunnerError> {
        let cancelled = || RunnerError::Cancelled {
            block: call.block_id.to_owned(),
        };
        if self.lock().is_some() {
            return Err(cancelled());
        }
        let result = self.client.fetch(call.request).await;
        let outcome = match &result {
            Ok(raw) => RunOutcome::Response(WebhookResponse {
                status: raw.status,
                headers: raw.headers.clone(),
                body: raw.body.clone(),
            }),
            Err(error) => RunOutcome::Failure(error.clone()),
        };
        *self.lock() = Some(Probe {
            request: call.request.clone(),
            result,
        });
        Ok(outcome)
    }
}

impl ProbeRunner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Probe>> {
        self.probe
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs the step and shows the report; exits 0 when the step would succeed, 1 when it would
/// fail.
pub async fn run(args: Args) -> Result<ExitCode> {
    let (project, bot) = load_project(&args.file)?;
    let flow = project
        .flow(&bot)
        .context("the flow is not in its project")?;
    let webhook = webhook_block(flow, &args.block)?.clone();
    let variables = crate::chat::parse_vars(&args.vars, flow)?;
    let secrets = Arc::new(Secrets::load(args.secrets.as_deref()).context("loading the secrets")?);
    let client = Client::new(ClientConfig::default())?.with_secrets(secrets.clone());
    let runner = ProbeRunner {
        client,
        probe: Mutex::new(None),
    };
    let executor = Executor::new(project.clone(), runner).with_secrets(secrets.clone());
    let options = StartOptions {
        block: Some(flow_core::flow::BlockId::new(&args.block)),
        variables,
    };
    let (_, turn) = executor
        .start(ConversationId::new("probe"), &bot, options)
        .await?;
    let outcome = turn.trace.events.iter().find_map(|event| match event {
        TraceEvent::Webhook(trace) if trace.block.as_str() == args.block => {
            Some(trace.outcome.clone())
        }
        _ => None,
    });
    let probe = executor.runner().lock().take();
    let mut report = Report::new(&secrets, args.full);
    let Some(probe) = probe else {
        // The runner was never called: the request could not be built.
        if let Some(WebhookOutcome::Failure { kind, message, .. }) = &outcome {
            report.section("request");
            report.bad(&format!("{kind}: {message}"));
            report.line("nothing was sent (give the variables it needs with --var NAME=VALUE)");
        }
        report.print();
        return Ok(ExitCode::from(1));
    };
    report.request(&probe.request);
    let body = match &probe.result {
        Ok(raw) => report.response(raw, &probe.request, flow, &webhook),
        Err(error) => {
            report.section("response");
            report.bad(&error.to_string());
            None
        }
    };
    report.outcome(outcome.as_ref());
    if let Some(body) = &body {
        report.paths(body);
    }
    report.print();
    if let Some(path) = &args.save {
        save(path, &probe.result, &secrets)?;
        eprintln!("saved the outcome to {}", path.display());
    }
    let succeeded = matches!(outcome, Some(WebhookOutcome::Success { .. }));
    Ok(if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The webhook step `block` of `flow`, or an error naming the webhook blocks there are.
fn webhook_block<'f>(flow: &'f Flow, block: &str) -> Result<&'f Webhook> {
    let webhooks: Vec<&str> = flow
        .blocks()
        .filter(|block| matches!(block.kind, BlockKind::Webhook(_)))
        .map(|block| block.id.as_str())
        .collect();
    let list = if webhooks.is_empty() {
        "it has no webhook step".to_owned()
    } else {
        format!("its webhook steps: {}", webhooks.join(", "))
    };
    match flow.block(block).map(|found| &found.kind) {
        Some(BlockKind::Webhook(webhook)) => Ok(webhook),
        Some(other) => bail!(
            "block `{block}` of bot `{}` is a {} block, not a webhook ({list})",
            flow.id(),
            other.name()
        ),
        None => {
            let hint = flow_core::suggest::closest(block, webhooks.iter().copied())
                .map(|close| format!("did you mean `{close}`? "))
                .unwrap_or_default();
            bail!("bot `{}` has no block `{block}` ({hint}{list})", flow.id())
        }
    }
}

/// The report, built as text and printed at once; styled when stdout is a terminal.
struct Report<'s> {
    text: String,
    secrets: &'s Secrets,
    full: bool,
}

impl Report<'_> {
    fn new(secrets: &Secrets, full: bool) -> Report<'_> {
        Report {
            text: String::new(),
            secrets,
            full,
        }
    }

    fn section(&mut self, title: &str) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(&format!("{HEAD}{title}{HEAD:#}\n"));
    }

    fn line(&mut self, line: &str) {
        self.text.push_str(&format!("  {line}\n"));
    }

    fn bad(&mut self, line: &str) {
        self.text.push_str(&format!("  {BAD}{line}{BAD:#}\n"));
    }

    fn request(&mut self, request: &WebhookRequest) {
        self.section("request");
        let url = self.secrets.redact(&request.url);
        self.line(&format!("{} {url}", request.method));
        for (name, value) in &request.headers {
            let value = self.secrets.redact(value);
            self.line(&format!("{name}: {value}"));
        }
        if let Some(body) = &request.body {
            let text = self.secrets.redact(&String::from_utf8_lossy(&body.bytes));
            self.line(&format!("content-type: {}", body.content_type));
            self.line("");
            for line in text.lines() {
                self.line(line);
            }
        }
    }

    /// Shows the response and the saves; returns the body's JSON when it classified as success.
    fn response(
        &mut self,
        raw: &RawResponse,
        request: &WebhookRequest,
        flow: &Flow,
        webhook: &Webhook,
    ) -> Option<Value> {
        self.section("response");
        self.line(&format!(
            "status {} in {} ms",
            raw.status,
            raw.elapsed.as_millis()
        ));
        for (name, value) in &raw.headers {
            let value = self.secrets.redact(value);
            self.text
                .push_str(&format!("  {DIM}{name}: {value}{DIM:#}\n"));
        }
        self.section("body");
        self.body(&raw.body);
        let body = match flow_http::classify(raw.status, &raw.headers, &raw.body, &request.accept) {
            Ok(body) => body,
            Err(error) => {
                self.section("saves");
                self.bad(&self.secrets.redact_error(error).to_string());
                return None;
            }
        };
        self.saves(&body, flow, webhook);
        Some(body)
    }

    fn body(&mut self, bytes: &[u8]) {
        let text = match serde_json::from_slice::<Value>(bytes) {
            Ok(json) => {
                serde_json::to_string_pretty(&self.secrets.redact_json(&json)).unwrap_or_default()
            }
            Err(_) if bytes.iter().all(u8::is_ascii_whitespace) => "(empty)".to_owned(),
            Err(_) => self.secrets.redact(&String::from_utf8_lossy(bytes)),
        };
        let lines: Vec<&str> = text.lines().collect();
        let shown = if self.full {
            lines.len()
        } else {
            lines.len().min(BODY_LINES)
        };
        for line in &lines[..shown] {
            self.line(line);
        }
        if shown < lines.len() {
            let more = lines.len() - shown;
            self.text.push_str(&format!(
                "  {DIM}… {more} more lines (--full shows them){DIM:#}\n"
            ));
        }
    }

    /// Each save of the step, applied on its own to `body`.
    fn saves(&mut self, body: &Value, flow: &Flow, webhook: &Webhook) {
        self.section("saves");
        if webhook.save.is_empty() {
            self.line("(the step saves nothing; the whole body goes to `last webhook success`)");
            return;
        }
        let declared = |name: &str| flow.variables().get(name).and_then(|decl| decl.var_type);
        for save in &webhook.save {
            let kind = declared(&save.to).map_or("any", |kind| kind.name());
            self.line(&format!("{} ({kind}) ← {}", save.to, save.path));
            match extract(std::slice::from_ref(save), body, &declared) {
                Ok(values) => {
                    let value = values.into_iter().next().map(|(_, value)| value);
                    let value = self.secrets.redact_json(&value.unwrap_or(Value::Null));
                    let default = save.path.evaluate(body).is_err();
                    let note = if default { " (its default)" } else { "" };
                    let shown = crate::chat::short_json(&value, 200);
                    self.text
                        .push_str(&format!("    {GOOD}= {shown}{GOOD:#}{note}\n"));
                }
                Err(error) => {
                    let error = self.secrets.redact_error(error);
                    self.text.push_str(&format!("    {BAD}{error}{BAD:#}\n"));
                }
            }
        }
    }

    fn outcome(&mut self, outcome: Option<&WebhookOutcome>) {
        self.section("outcome");
        match outcome {
            Some(WebhookOutcome::Success { saved, .. }) if saved.is_empty() => {
                self.text.push_str(&format!("  {GOOD}success{GOOD:#}\n"));
            }
            Some(WebhookOutcome::Success { saved, .. }) => self.text.push_str(&format!(
                "  {GOOD}success{GOOD:#}: the step stores {}\n",
                saved.join(", ")
            )),
            Some(WebhookOutcome::Failure {
                kind,
                message,
                variable,
                ..
            }) => self.text.push_str(&format!(
                "  {BAD}{kind}{BAD:#}: {message}\n  nothing is saved; the error goes into `{variable}`\n"
            )),
            None => self.line("the step did not run"),
        }
    }

    fn paths(&mut self, body: &Value) {
        let suggestions = flow_http::suggest_paths(body);
        if suggestions.is_empty() {
            return;
        }
        self.section("paths");
        let width = suggestions
            .iter()
            .map(|suggestion| suggestion.path.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        let shown = if self.full {
            suggestions.len()
        } else {
            suggestions.len().min(PATHS)
        };
        for suggestion in &suggestions[..shown] {
            let preview = self.secrets.redact(&suggestion.preview);
            self.text.push_str(&format!(
                "  {:<width$}  {DIM}{preview}{DIM:#}\n",
                suggestion.path
            ));
        }
        if shown < suggestions.len() {
            let more = suggestions.len() - shown;
            self.text.push_str(&format!(
                "  {DIM}… {more} more paths (--full shows them){DIM:#}\n"
            ));
        }
    }

    /// Writes the report: anstream keeps the colour on a terminal (unless `NO_COLOR`) and drops
    /// it otherwise.
    fn print(&self) {
        let mut out = anstream::stdout().lock();
        let _ = out
            .write_all(self.text.as_bytes())
            .and_then(|()| out.flush());
    }
}

/// Writes what came back as a webhook outcome of a conversation test.
fn save(path: &Path, result: &Result<RawResponse, WebhookError>, secrets: &Secrets) -> Result<()> {
    let outcome = match result {
        Ok(raw) => RunOutcome::Response(WebhookResponse {
            status: raw.status,
            headers: raw.headers.clone(),
            body: raw.body.clone(),
        }),
        Err(error) => RunOutcome::Failure(error.clone()),
    };
    let yaml = crate::chat::outcome_yaml(&outcome, secrets).map_err(anyhow::Error::msg)?;
    let text = format!(
        "# A webhook outcome saved by `flowbot webhook`: paste it under `webhooks: <block>:` in a test.\n{}",
        serde_yaml::to_string(&yaml)?
    );
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
