//! `flowbot chat --record FILE`: the session's conversations as cases of a conversation test.
//!
//! Each conversation (the first one, and each one `/restart` or `/goto` starts) becomes a case:
//! the values preset with `--var` (or kept by `/goto`) under `variables`, the block `/goto`
//! started at under `start_at`, the outcome each webhook step got under `webhooks` (a fake
//! success as `{status: 200, json: ...}`, a fake failure as `{status: 500, json: ...}`, a real
//! request as the response it got), the messages both ways under `conversation`, and at the end
//! the status and the bot's own variables the conversation set under `expect`.
//!
//! What a test cannot replay is left out, with a note: a conversation where `/set` changed a
//! variable midway, or where a webhook step was cancelled. Secrets are masked everywhere.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use flow_core::flow::{BlockId, Flow, BUILT_IN_VARIABLES};
use flow_http::{ErrorKind, Secrets};
use flow_runtime::{Conversation, Output, RunOutcome, RuntimeError, Turn};
use serde_json::{json, Value};
use serde_yaml::{Mapping, Value as Yaml};

use super::chooser::Used;
use super::Item;

/// The cases of a session, written when it ends.
pub(crate) struct Recorder {
    path: PathBuf,
    flow_file: PathBuf,
    secrets: Arc<Secrets>,
    cases: Vec<Mapping>,
    skipped: Vec<String>,
    current: Option<CaseRecord>,
}

/// The case being recorded.
#[derive(Default, Clone)]
struct CaseRecord {
    variables: Mapping,
    start_at: Option<String>,
    webhooks: Vec<(String, Vec<Yaml>)>,
    steps: Vec<Yaml>,
    changed: Vec<String>,
    not_replayable: Option<String>,
}

impl Recorder {
    /// A recorder writing to `path` the conversations with the flow at `flow_file`. An existing
    /// `path` must be a test file of the same flow: the cases are added to it.
    pub(crate) fn new(path: &Path, flow_file: &Path, secrets: Arc<Secrets>) -> Result<Recorder> {
        let flow_file = flow_file
            .canonicalize()
            .with_context(|| format!("finding {}", flow_file.display()))?;
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading test file {}", path.display()))?;
            let file = flow_test::spec::parse(&text)
                .with_context(|| format!("{} is not a conversation test file", path.display()))?;
            let tested = directory_of(path)?.join(&file.flow);
            if tested.canonicalize().ok().as_ref() != Some(&flow_file) {
                bail!(
                    "{} tests the flow {}, not {}: record into another file",
                    path.display(),
                    file.flow.display(),
                    flow_file.display()
                );
            }
        }
        Ok(Recorder {
            path: path.to_owned(),
            flow_file,
            secrets,
            cases: Vec::new(),
            skipped: Vec::new(),
            current: None,
        })
    }

    /// A recorder that keeps the conversations with the flow at `flow_file` without a file of
    /// its own: the web simulator writes one with [`Recorder::save_current`] when asked.
    pub(crate) fn in_memory(flow_file: &Path, secrets: Arc<Secrets>) -> Result<Recorder> {
        let flow_file = flow_file
            .canonicalize()
            .with_context(|| format!("finding {}", flow_file.display()))?;
        Ok(Recorder {
            path: PathBuf::new(),
            flow_file,
            secrets,
            cases: Vec::new(),
            skipped: Vec::new(),
            current: None,
        })
    }

    /// Writes the conversation being recorded, as it is now, to the test file `path` as one
    /// case (added to the file's cases when it exists), and goes on recording it. Says what it
    /// did, one line per remark.
    pub(crate) fn save_current(
        &self,
        path: &Path,
        conversation: &Conversation,
    ) -> Result<Vec<String>> {
        let mut copy = Recorder::new(path, &self.flow_file, self.secrets.clone())?;
        copy.current = self.current.clone();
        copy.finish(conversation);
        copy.write()
    }

    /// Starts recording a conversation of `flow` at `block` with `variables` preset; those equal
    /// to a declared default are left out.
    pub(crate) fn begin(
        &mut self,
        flow: Option<&Flow>,
        block: Option<&BlockId>,
        variables: &[(String, Value)],
    ) {
        let mut case = CaseRecord {
            start_at: block.map(ToString::to_string),
            ..CaseRecord::default()
        };
        for (name, value) in variables {
            let default = flow
                .and_then(|flow| flow.variables().get(name))
                .and_then(|decl| decl.default.as_ref());
            if default != Some(value) {
                case.variables
                    .insert(name.as_str().into(), yaml(&self.secrets.redact_json(value)));
            }
        }
        self.current = Some(case);
    }

    /// Records a turn: the user's message (or the timer fired), what the bot did, the webhook
    /// outcomes used, and the variables it set.
    pub(crate) fn turn(
        &mut self,
        user: Option<&str>,
        fired: bool,
        items: &[Item<'_>],
        used: &[Used],
        turn: &Turn,
        conversation: &Conversation,
    ) {
        let secrets = self.secrets.clone();
        let Some(case) = &mut self.current else {
            return;
        };
        if fired {
            case.steps.push(mapping([("fire", true.into())]));
        }
        if let Some(text) = user {
            case.steps
                .push(mapping([("user", secrets.redact(text).into())]));
        }
        for item in items {
            let Item::Output(output) = item else { continue };
            match output {
                Output::Message(message) => {
                    let mut step = Mapping::new();
                    step.insert("bot".into(), secrets.redact(&message.text).into());
                    if !message.options.is_empty() {
                        step.insert("options".into(), yaml(&json!(message.options)));
                    }
                    case.steps.push(Yaml::Mapping(step));
                }
                Output::Event(event) => {
                    let mut fields = Mapping::new();
                    fields.insert("name".into(), event.name.as_str().into());
                    if !event.data.is_null() {
                        fields.insert("data".into(), yaml(&secrets.redact_json(&event.data)));
                    }
                    case.steps.push(mapping([("event", Yaml::Mapping(fields))]));
                }
                Output::Handoff(handoff) => case.steps.push(match &handoff.team {
                    Some(team) => mapping([("handoff", mapping([("team", team.as_str().into())]))]),
                    None => mapping([("handoff", true.into())]),
                }),
                Output::Error(RuntimeError::Runner { block, .. }) => {
                    case.not_replayable
                        .get_or_insert_with(|| format!("webhook step `{block}` got no outcome"));
                }
                Output::Error(_) => {}
            }
        }
        for used in used {
            match outcome_value(&used.outcome, &secrets) {
                Ok(outcome) => case.webhook(&used.block, outcome),
                Err(reason) => {
                    case.not_replayable.get_or_insert(reason);
                }
            }
        }
        for change in turn.trace.variable_changes() {
            let own =
                &*change.bot == conversation.bot() && !BUILT_IN_VARIABLES.contains(&&*change.name);
            if own && !case.changed.iter().any(|name| **name == *change.name) {
                case.changed.push(change.name.to_string());
            }
        }
    }

    /// Marks the conversation being recorded as one a test cannot replay.
    pub(crate) fn taint(&mut self, reason: &str) {
        if let Some(case) = &mut self.current {
            case.not_replayable.get_or_insert_with(|| reason.to_owned());
        }
    }

    /// Ends the case being recorded, with what `conversation` ended with.
    pub(crate) fn finish(&mut self, conversation: &Conversation) {
        let Some(case) = self.current.take() else {
            return;
        };
        if let Some(reason) = case.not_replayable {
            self.skipped.push(reason);
            return;
        }
        let mut fields = Mapping::new();
        fields.insert("name".into(), Yaml::Null);
        if !case.variables.is_empty() {
            fields.insert("variables".into(), Yaml::Mapping(case.variables));
        }
        if let Some(block) = case.start_at {
            fields.insert("start_at".into(), block.into());
        }
        if !case.webhooks.is_empty() {
            let webhooks = case
                .webhooks
                .into_iter()
                .map(|(block, mut outcomes)| {
                    let outcomes = match outcomes.len() {
                        1 => outcomes.remove(0),
                        _ => Yaml::Sequence(outcomes),
                    };
                    (block.into(), outcomes)
                })
                .collect();
            fields.insert("webhooks".into(), Yaml::Mapping(webhooks));
        }
        fields.insert("conversation".into(), Yaml::Sequence(case.steps));
        let mut expect = Mapping::new();
        expect.insert("status".into(), conversation.status().as_str().into());
        let variables: Mapping = case
            .changed
            .into_iter()
            .filter_map(|name| {
                let value = conversation.variables().get(name.as_str())?;
                Some((name.into(), yaml(&self.secrets.redact_json(value))))
            })
            .collect();
        if !variables.is_empty() {
            expect.insert("variables".into(), Yaml::Mapping(variables));
        }
        fields.insert("expect".into(), Yaml::Mapping(expect));
        self.cases.push(fields);
    }

    /// Writes the recorded cases, and says what it did, one line per remark.
    pub(crate) fn write(&self) -> Result<Vec<String>> {
        let mut summary: Vec<String> = self
            .skipped
            .iter()
            .map(|reason| format!("not recorded: {reason}"))
            .collect();
        if self.cases.is_empty() {
            summary.push("nothing recorded".to_owned());
            return Ok(summary);
        }
        let existing = match self.path.exists() {
            true => Some(
                std::fs::read_to_string(&self.path)
                    .with_context(|| format!("reading {}", self.path.display()))?,
            ),
            false => None,
        };
        let before = match &existing {
            Some(text) => flow_test::spec::parse(text)?.cases.len(),
            None => 0,
        };
        let cases = self.named_cases(before);
        let text = match &existing {
            Some(text) => append(text, &cases)?,
            None => self.new_file(&cases)?,
        };
        let parsed = flow_test::spec::parse(&text)
            .context("the recording does not read back as a conversation test (a bug)")?;
        if parsed.cases.len() != before + cases.len() {
            bail!("the recording does not read back with its cases (a bug)");
        }
        if let Some(folder) = self.path.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
        }
        std::fs::write(&self.path, text)
            .with_context(|| format!("writing {}", self.path.display()))?;
        let plural = if cases.len() == 1 { "" } else { "s" };
        summary.push(format!(
            "recorded {} case{plural} in {}",
            cases.len(),
            self.path.display()
        ));
        Ok(summary)
    }

    /// The cases as YAML, named `recorded conversation N` after the `before` the file has.
    fn named_cases(&self, before: usize) -> Vec<Yaml> {
        self.cases
            .iter()
            .enumerate()
            .map(|(index, case)| {
                let mut case = case.clone();
                let name = format!("recorded conversation {}", before + index + 1);
                case.insert("name".into(), name.into());
                Yaml::Mapping(case)
            })
            .collect()
    }

    fn new_file(&self, cases: &[Yaml]) -> Result<String> {
        let flow = relative(&directory_of(&self.path)?, &self.flow_file);
        let mut file = Mapping::new();
        file.insert("flow".into(), flow.to_string_lossy().into_owned().into());
        file.insert("cases".into(), Yaml::Sequence(cases.to_vec()));
        Ok(format!(
            "# Conversations recorded with `flowbot chat --record` (see docs/simulator.md).\n{}",
            serde_yaml::to_string(&file)?
        ))
    }
}

impl CaseRecord {
    fn webhook(&mut self, block: &str, outcome: Yaml) {
        match self.webhooks.iter_mut().find(|(b, _)| b == block) {
            Some((_, outcomes)) => outcomes.push(outcome),
            None => self.webhooks.push((block.to_owned(), vec![outcome])),
        }
    }
}

/// `value` as YAML.
fn yaml(value: &Value) -> Yaml {
    // Every JSON value has a YAML form, so this cannot fail.
    serde_yaml::to_value(value).unwrap_or(Yaml::Null)
}

/// A YAML mapping of `pairs`, in order.
fn mapping<const N: usize>(pairs: [(&str, Yaml); N]) -> Yaml {
    Yaml::Mapping(
        pairs
            .into_iter()
            .map(|(key, value)| (key.into(), value))
            .collect(),
    )
}

/// A webhook outcome as a test file writes it, or why a test cannot script it.
pub(crate) fn outcome_value(outcome: &RunOutcome, secrets: &Secrets) -> Result<Yaml, String> {
    let response = match outcome {
        RunOutcome::Failure(error) => {
            return match error.kind {
                ErrorKind::Timeout | ErrorKind::ConnectionError => {
                    Ok(mapping([("error", error.kind.as_str().into())]))
                }
                kind => Err(format!(
                    "a webhook step failed with {kind} before any response, which a test cannot script"
                )),
            };
        }
        RunOutcome::Response(response) => response,
    };
    let mut outcome = Mapping::new();
    outcome.insert("status".into(), response.status.into());
    let body = response
        .body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&response.body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Yaml::Mapping(outcome));
    }
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        outcome.insert("json".into(), yaml(&secrets.redact_json(&json)));
        return Ok(Yaml::Mapping(outcome));
    }
    let text = std::str::from_utf8(body).map_err(|_| {
        "a webhook response is not UTF-8 text, which a test cannot script".to_owned()
    })?;
    outcome.insert("text".into(), secrets.redact(text).into());
    if let Some((_, kind)) = response
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        outcome.insert(
            "headers".into(),
            mapping([("content-type", kind.as_str().into())]),
        );
    }
    Ok(Yaml::Mapping(outcome))
}

/// Adds `cases` at the end of the test file `text`, keeping its comments when its `cases:`
/// list comes last in block style; otherwise the file is rewritten from its data.
fn append(text: &str, cases: &[Yaml]) -> Result<String> {
    if let Some(appended) = append_keeping_text(text, cases)? {
        return Ok(appended);
    }
    let mut file: Yaml = serde_yaml::from_str(text)?;
    let Some(Yaml::Sequence(existing)) = file.get_mut("cases") else {
        bail!("the test file has no `cases` list");
    };
    existing.extend(cases.iter().cloned());
    Ok(serde_yaml::to_string(&file)?)
}

fn append_keeping_text(text: &str, cases: &[Yaml]) -> Result<Option<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let is_cases_key = |line: &&str| {
        line.strip_prefix("cases:")
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
    };
    let Some(at) = lines.iter().rposition(is_cases_key) else {
        return Ok(None);
    };
    let rest = &lines[at + 1..];
    let inside = |line: &&str| line.trim().is_empty() || line.starts_with([' ', '-', '#']);
    if !rest.iter().all(inside) {
        return Ok(None);
    }
    let indent = rest
        .iter()
        .find(|line| line.trim_start().starts_with('-'))
        .map_or(2, |line| line.len() - line.trim_start().len());
    let items = serde_yaml::to_string(&Yaml::Sequence(cases.to_vec()))?;
    let mut appended = text.to_owned();
    if !appended.ends_with('\n') {
        appended.push('\n');
    }
    for line in items.lines() {
        if !line.is_empty() {
            appended.push_str(&" ".repeat(indent));
        }
        appended.push_str(line);
        appended.push('\n');
    }
    Ok(Some(appended))
}

/// The absolute folder `path` is (or will be) in.
fn directory_of(path: &Path) -> Result<PathBuf> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    folder
        .canonicalize()
        .with_context(|| format!("finding {}", folder.display()))
}

/// `to` relative to the folder `from`; both absolute.
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path = PathBuf::new();
    for _ in common..from.len() {
        path.push("..");
    }
    for component in &to[common..] {
        path.push(component);
    }
    path
}

#[cfg(test)]
mod tests;
