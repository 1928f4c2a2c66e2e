//! The simulator's commands (`/vars`, `/trace`, `/goto`...), and reading variable values.

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use flow_core::flow::{BlockId, Flow, VarType, BUILT_IN_VARIABLES, SET_BY_FLOWBOT};
use flow_http::Secrets;
use flow_runtime::{Conversation, Trace, TraceEvent, WebhookOutcome};
use serde_json::Value;

/// A command typed at the simulator's prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Vars,
    Trace,
    Restart,
    Goto(String),
    Set(String),
    Fire,
    Help,
    Quit,
}

/// What `/help` shows.
pub(crate) const HELP: &str = "\
Type a message to send it; a number picks the option offered with that number.
  /vars           variables with their types and values (secrets hidden)
  /trace          what the last turn ran: blocks, answers, branches, webhooks, changes
  /restart        start the conversation over, with the --var values
  /goto BLOCK     start again at BLOCK, keeping the variables
  /set NAME VALUE give a variable a value (JSON when it parses, else text);
                  for a name with spaces: /set second category = shoes
  /fire           fire the pending timer now (a sleep, or a question's time-out)
  /help           this list
  /quit           leave (Ctrl-D too)
  //text          send a message that starts with /
At a webhook step: 1 fake success (type or paste a JSON payload, or @FILE),
2 fake failure (the payload for the failure variable), 3 real request.";

/// The command on `line`: `None` for a message, `Some(Err)` for an unknown or incomplete one.
pub(crate) fn parse(line: &str) -> Option<Result<Command, String>> {
    let line = line.trim();
    let rest = line.strip_prefix('/')?;
    if rest.starts_with('/') {
        return None;
    }
    let (name, argument) = match rest.split_once(char::is_whitespace) {
        Some((name, argument)) => (name, argument.trim()),
        None => (rest, ""),
    };
    let needs = |what: &str| Err(format!("/{name} needs {what} (see /help)"));
    Some(match (name, argument.is_empty()) {
        ("vars", _) => Ok(Command::Vars),
        ("trace", _) => Ok(Command::Trace),
        ("restart", _) => Ok(Command::Restart),
        ("goto", true) => needs("a block id"),
        ("goto", false) => Ok(Command::Goto(argument.to_owned())),
        ("set", true) => needs("a name and a value"),
        ("set", false) => Ok(Command::Set(argument.to_owned())),
        ("fire", _) => Ok(Command::Fire),
        ("help" | "?", _) => Ok(Command::Help),
        ("quit" | "exit" | "q", _) => Ok(Command::Quit),
        _ => Err(format!(
            "unknown command /{name} (see /help; //{name} sends it as a message)"
        )),
    })
}

/// The message a line sends: `//text` sends `/text`.
pub(crate) fn unescape(line: &str) -> &str {
    match line.trim_start().strip_prefix("//") {
        Some(_) => &line.trim_start()[1..],
        None => line,
    }
}

/// `--var NAME=VALUE` options as values for `flow`'s variables, each name checked by
/// [`settable`].
pub(crate) fn parse_vars(vars: &[String], flow: &Flow) -> Result<Vec<(String, Value)>> {
    vars.iter()
        .map(|var| {
            let (name, value) = var
                .split_once('=')
                .ok_or_else(|| anyhow!("--var `{var}` needs the form NAME=VALUE"))?;
            let name = name.trim();
            settable(flow, name).map_err(|reason| anyhow!("--var `{name}`: {reason}"))?;
            let value = parse_value(name, value, declared_type(flow, name))?;
            Ok((name.to_owned(), value))
        })
        .collect()
}

/// Why `name` cannot be given a value from the command line, if it cannot: flowbot sets it
/// itself (`bot`, `conversation id`), or the bot never uses it. A conversation test refuses
/// such presets too, so a recorded session never holds one.
fn settable(flow: &Flow, name: &str) -> Result<(), String> {
    if SET_BY_FLOWBOT.contains(&name) {
        return Err("flowbot sets it for every conversation".to_owned());
    }
    flow.check_uses_variable(name)
        .map_err(|unused| unused.to_string())
}

/// The argument of `/set`: `NAME VALUE`, `NAME = VALUE`, or `"NAME WITH SPACES" VALUE`; a
/// declared name with spaces is also found without quotes.
pub(crate) fn parse_assignment(text: &str, flow: &Flow) -> Result<(String, Value)> {
    let text = text.trim();
    let (name, value) = if let Some((name, value)) = text.split_once('=') {
        (name.trim().to_owned(), value.trim())
    } else if let Some(quoted) = text.strip_prefix('"') {
        let (name, value) = quoted
            .split_once('"')
            .ok_or_else(|| anyhow!("the quoted name has no closing quote"))?;
        (name.to_owned(), value.trim())
    } else {
        let mut declared: Vec<&String> = flow.variables().keys().collect();
        declared.sort_by_key(|name| std::cmp::Reverse(name.len()));
        let spaced = declared.into_iter().find(|name| {
            text.strip_prefix(name.as_str())
                .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        });
        match spaced {
            Some(name) => (name.clone(), text[name.len()..].trim()),
            None => match text.split_once(char::is_whitespace) {
                Some((name, value)) => (name.to_owned(), value.trim()),
                None => bail!("/set needs a value after `{text}`"),
            },
        }
    };
    if name.is_empty() {
        bail!("/set needs a variable name");
    }
    settable(flow, &name).map_err(|reason| anyhow!("/set `{name}`: {reason}"))?;
    let value = parse_value(&name, value, declared_type(flow, &name))?;
    Ok((name, value))
}

/// A value typed for variable `name`: text as it is for a `text` variable; otherwise JSON when
/// it parses, else text. It must fit the declared type.
pub(crate) fn parse_value(name: &str, text: &str, var_type: Option<VarType>) -> Result<Value> {
    if var_type == Some(VarType::Text) {
        return Ok(Value::String(text.to_owned()));
    }
    let value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
    let fits = match var_type {
        Some(VarType::List) => value.is_array(),
        Some(VarType::Number) => value.is_number(),
        Some(VarType::Boolean) => value.is_boolean(),
        _ => true,
    };
    if !fits {
        let example = match var_type {
            Some(VarType::List) => "a JSON list such as [\"a\", \"b\"]",
            Some(VarType::Number) => "a number such as 42",
            _ => "true or false",
        };
        bail!(
            "`{name}` is declared as a {}: give {example}, not `{text}`",
            type_name(var_type)
        );
    }
    Ok(value)
}

fn type_name(var_type: Option<VarType>) -> &'static str {
    var_type.map_or("any", VarType::name)
}

fn declared_type(flow: &Flow, name: &str) -> Option<VarType> {
    flow.variables().get(name).and_then(|decl| decl.var_type)
}

/// `block` as a block of `flow`, or an error listing what there is.
pub(crate) fn known_block(flow: &Flow, block: &str) -> Result<BlockId> {
    if flow.block(block).is_some() {
        return Ok(BlockId::new(block));
    }
    let ids: Vec<&str> = flow.blocks().map(|block| block.id.as_str()).collect();
    let hint = match flow_core::suggest::closest(block, ids.iter().copied()) {
        Some(close) => format!(" (did you mean `{close}`?)"),
        None => format!(" (its blocks: {})", ids.join(", ")),
    };
    bail!("bot `{}` has no block `{block}`{hint}", flow.id())
}

/// `value` as compact JSON, cut to `max` characters with `…`.
pub(crate) fn short_json(value: &Value, max: usize) -> String {
    let text = value.to_string();
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// What `/vars` shows: declared variables with their types (unset ones too), then the others
/// that hold a value, the built-ins, and the names of the secrets.
pub(crate) fn vars(conversation: &Conversation, flow: Option<&Flow>, secrets: &Secrets) -> String {
    let shown = |value: Option<Value>| match value {
        Some(value) => format!("= {}", short_json(&secrets.redact_json(&value), 120)),
        None => "(unset)".to_owned(),
    };
    let mut lines = Vec::new();
    let declared = flow.map(|flow| flow.variables());
    if let Some(declared) = declared {
        for (name, decl) in declared {
            let kind = decl.var_type.map_or("any", VarType::name);
            lines.push(format!(
                "  {name} ({kind}) {}",
                shown(conversation.variable(name))
            ));
        }
    }
    for (name, value) in conversation.variables() {
        if declared.is_some_and(|declared| declared.contains_key(&**name)) {
            continue;
        }
        lines.push(format!("  {name} {}", shown(Some(Value::clone(value)))));
    }
    for name in BUILT_IN_VARIABLES {
        lines.push(format!("  {name} {}", shown(conversation.variable(name))));
    }
    for name in secrets.names() {
        lines.push(format!("  secret.{name} = {}", flow_http::MASK));
    }
    lines.join("\n")
}

/// What `/trace` shows: the last turn's events, one per line.
pub(crate) fn trace(trace: &Trace) -> String {
    if trace.events.is_empty() {
        return "  (the last turn ran nothing)".to_owned();
    }
    let lines: Vec<String> = trace.events.iter().map(trace_line).collect();
    lines.join("\n")
}

fn trace_line(event: &TraceEvent) -> String {
    let value = |value: &Option<Arc<Value>>| {
        value
            .as_deref()
            .map_or("(unset)".to_owned(), |value| short_json(value, 80))
    };
    match event {
        TraceEvent::Block { bot, block, kind } => format!("  {kind} `{block}` ({bot})"),
        TraceEvent::Answer { block, valid } => {
            let verdict = if *valid { "accepted" } else { "not valid" };
            format!("    answer to `{block}`: {verdict}")
        }
        TraceEvent::Branch {
            block,
            branch,
            next,
        } => match branch {
            Some(index) => format!("    `{block}` took branch {} to `{next}`", index + 1),
            None => format!("    `{block}` took else to `{next}`"),
        },
        TraceEvent::Webhook(webhook) => {
            let request = match (&webhook.method, &webhook.url) {
                (Some(method), Some(url)) => format!("{method} {url}"),
                _ => "request not built".to_owned(),
            };
            let outcome = match &webhook.outcome {
                WebhookOutcome::Success { status, saved } => {
                    format!("{status}, saved [{}]", saved.join(", "))
                }
                WebhookOutcome::Failure {
                    kind,
                    message,
                    variable,
                    ..
                } => format!("{kind}: {message} (into `{variable}`)"),
            };
            let duration = webhook.duration.as_millis();
            format!("    webhook {request} -> {outcome} in {duration} ms")
        }
        TraceEvent::Variable(change) => format!(
            "    {}: {} -> {}",
            change.name,
            value(&change.old),
            value(&change.new)
        ),
        TraceEvent::Jump { from, to, returns } => {
            let returns = if *returns { ", returning" } else { "" };
            format!("    jump from `{from}` to `{to}`{returns}")
        }
        TraceEvent::Return { from, to } => format!("    back from `{from}` to `{to}`"),
        TraceEvent::MessageNotAnswer { block, reason } => {
            format!("    message not an answer at `{block}`: {reason}")
        }
        TraceEvent::TimerFired { kind, block } => {
            let kind = serde_json::to_value(kind)
                .ok()
                .and_then(|kind| kind.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("    timer of `{block}` fired ({kind})")
        }
        TraceEvent::FlowChanged {
            bot,
            block,
            continued,
        } => {
            let then = if *continued { "went on" } else { "restarted" };
            format!("    bot `{bot}` changed at `{block}`: {then}")
        }
        TraceEvent::RestartIgnored { block } => {
            format!("    `{block}`: restart ignored inside a bot that returns")
        }
    }
}

#[cfg(test)]
mod tests;
