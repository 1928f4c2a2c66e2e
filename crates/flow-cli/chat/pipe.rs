//! The simulator through a pipe: user messages line by line from stdin, a plain transcript out.
//!
//! The transcript has one line per message (`bot: ...`, `user: ...`), the options indented
//! under their message, a line per webhook step, and `-- ` before the simulator's own remarks,
//! so a script or a test can read it.

use std::io::{self, BufRead, Write};
use std::path::Path;

use flow_runtime::{WebhookOutcome, WebhookTrace};
use serde_json::Value;

use super::{Console, LineSource, ReadLine, Screen, WebhookMode};

/// The console of a piped session.
pub(crate) fn console() -> Console {
    Console::new(Box::new(PlainScreen), Box::new(StdinLines))
}

/// Lines of stdin.
struct StdinLines;

impl LineSource for StdinLines {
    fn read(&mut self, prompt: &str) -> io::Result<ReadLine> {
        let mut line = String::new();
        if io::stdin().lock().read_line(&mut line)? == 0 {
            return Ok(ReadLine::Eof);
        }
        let line = line
            .strip_suffix('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .unwrap_or(&line)
            .to_owned();
        // The session echoes messages itself; answers to the webhook menu are echoed here, so
        // the transcript shows what was chosen.
        if !prompt.is_empty() {
            print(&format!("{prompt}{line}\n"));
        }
        Ok(ReadLine::Line(line))
    }
}

/// Writes `text` to stdout; a reader that went away just wanted less. Through anstream, so
/// the webhook menu's styling shows only on a terminal.
fn print(text: &str) {
    let mut out = anstream::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// The plain transcript.
struct PlainScreen;

impl Screen for PlainScreen {
    fn banner(&self, _bot: &str, _file: &Path, _mode: WebhookMode, _record: Option<&Path>) {}

    fn prompt(&self) -> &'static str {
        ""
    }

    fn bot(&self, text: &str, options: &[String]) {
        let mut lines = format!("bot: {}\n", one_line(text));
        for (index, option) in options.iter().enumerate() {
            lines.push_str(&format!("  {}. {option}\n", index + 1));
        }
        print(&lines);
    }

    fn user(&self, _typed: &str, sent: &str) {
        print(&format!("user: {}\n", one_line(sent)));
    }

    fn event(&self, name: &str, data: &Value) {
        match data {
            Value::Null => print(&format!("event: {name}\n")),
            data => print(&format!("event: {name} {data}\n")),
        }
    }

    fn handoff(&self, team: Option<&str>) {
        match team {
            Some(team) => print(&format!("handoff: team {team}\n")),
            None => print("handoff\n"),
        }
    }

    fn webhook(&self, trace: &WebhookTrace) {
        print(&format!("{}\n", webhook_line(trace)));
    }

    fn error(&self, text: &str) {
        print(&format!("error: {text}\n"));
    }

    fn note(&self, text: &str) {
        print(&format!("-- {text}\n"));
    }

    fn lines(&self, text: &str) {
        let mut text = text.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        print(&text);
    }
}

/// A message on one transcript line: its line breaks written `\n`.
fn one_line(text: &str) -> String {
    text.replace('\n', "\\n")
}

/// A webhook step on one line: `webhook BLOCK: METHOD URL -> OUTCOME`.
pub(crate) fn webhook_line(trace: &WebhookTrace) -> String {
    let request = match (&trace.method, &trace.url) {
        (Some(method), Some(url)) => format!(" {method} {url}"),
        _ => String::new(),
    };
    let outcome = match &trace.outcome {
        WebhookOutcome::Success { status, saved } if saved.is_empty() => format!("{status}"),
        WebhookOutcome::Success { status, saved } => {
            format!("{status}, saved {}", saved.join(", "))
        }
        WebhookOutcome::Failure {
            kind,
            message,
            variable,
            ..
        } => format!("{kind}: {message} (into `{variable}`)"),
    };
    format!("webhook {}:{request} -> {outcome}", trace.block)
}
