//! The simulator on a terminal: a line editor with history, and colour.
//!
//! Colour goes through `anstream`, which drops it when stdout is not a terminal or `NO_COLOR`
//! is set, so the same code serves a terminal whose output is piped to a file.

use std::io::{self, Write};
use std::path::Path;

use anstyle::{AnsiColor, Style};
use flow_runtime::{WebhookOutcome, WebhookTrace};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;
use serde_json::Value;

use super::{Console, LineSource, ReadLine, Screen, WebhookMode};

const BOT: Style = AnsiColor::Cyan.on_default().bold();
const OPTION: Style = AnsiColor::Cyan.on_default();
const DIM: Style = Style::new().dimmed();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const GOOD: Style = AnsiColor::Green.on_default();
const BAD: Style = AnsiColor::Yellow.on_default();

/// The console of a terminal session.
pub(crate) fn console() -> anyhow::Result<Console> {
    let editor = Editor::<(), DefaultHistory>::new()?;
    Ok(Console::new(
        Box::new(TerminalScreen),
        Box::new(LineEditor { editor }),
    ))
}

/// Input from rustyline: line editing, and history with the arrow keys.
struct LineEditor {
    editor: Editor<(), DefaultHistory>,
}

impl LineSource for LineEditor {
    fn read(&mut self, prompt: &str) -> io::Result<ReadLine> {
        match self.editor.readline(prompt) {
            Ok(line) => {
                if !line.trim().is_empty() {
                    // History is only a convenience: a line it cannot keep is still read.
                    let _ = self.editor.add_history_entry(line.as_str());
                }
                Ok(ReadLine::Line(line))
            }
            Err(ReadlineError::Interrupted) => Ok(ReadLine::Interrupted),
            Err(ReadlineError::Eof) => Ok(ReadLine::Eof),
            Err(ReadlineError::Io(error)) => Err(error),
            Err(error) => Err(io::Error::other(error)),
        }
    }
}

/// Output for a person at a terminal.
struct TerminalScreen;

/// Writes `text` to stdout; a terminal that went away is not worth an error.
fn write(text: &str) {
    let mut out = anstream::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

impl Screen for TerminalScreen {
    fn banner(&self, bot: &str, file: &Path, mode: WebhookMode, record: Option<&Path>) {
        let mut text = format!(
            "{BOT}flowbot chat{BOT:#} {DIM}· bot `{bot}` from {} · webhooks: {}{DIM:#}\n",
            file.display(),
            mode.describe()
        );
        if let Some(record) = record {
            text.push_str(&format!(
                "{DIM}recording to {} when the session ends{DIM:#}\n",
                record.display()
            ));
        }
        text.push_str(&format!(
            "{DIM}/help lists the commands; Ctrl-D or /quit leaves{DIM:#}\n"
        ));
        write(&text);
    }

    fn prompt(&self) -> &'static str {
        "you> "
    }

    fn bot(&self, text: &str, options: &[String]) {
        let mut lines = String::new();
        for (index, line) in text.lines().enumerate() {
            let label = if index == 0 { "bot:" } else { "    " };
            lines.push_str(&format!("{BOT}{label}{BOT:#} {line}\n"));
        }
        if text.is_empty() {
            lines.push_str(&format!("{BOT}bot:{BOT:#}\n"));
        }
        for (index, option) in options.iter().enumerate() {
            lines.push_str(&format!("     {OPTION}{}.{OPTION:#} {option}\n", index + 1));
        }
        write(&lines);
    }

    fn user(&self, typed: &str, sent: &str) {
        // The line editor already shows what was typed; say which option a number picked.
        if typed.trim() != sent {
            write(&format!("{DIM}· picked {sent}{DIM:#}\n"));
        }
    }

    fn event(&self, name: &str, data: &Value) {
        let data = if data.is_null() {
            String::new()
        } else {
            format!(" {data}")
        };
        write(&format!("{DIM}⚑ event {name}{data}{DIM:#}\n"));
    }

    fn handoff(&self, team: Option<&str>) {
        let team = team
            .map(|team| format!(" (team {team})"))
            .unwrap_or_default();
        write(&format!("{BAD}⇢ handed off to a human{team}{BAD:#}\n"));
    }

    fn webhook(&self, trace: &WebhookTrace) {
        let request = match (&trace.method, &trace.url) {
            (Some(method), Some(url)) => format!("{method} {url} "),
            _ => String::new(),
        };
        let outcome = match &trace.outcome {
            WebhookOutcome::Success { status, saved } => {
                let saved = if saved.is_empty() {
                    String::new()
                } else {
                    format!(", saved {}", saved.join(", "))
                };
                format!("{GOOD}→ {status}{saved}{GOOD:#}")
            }
            WebhookOutcome::Failure {
                kind,
                message,
                variable,
                ..
            } => format!("{BAD}→ {kind}: {message} (into `{variable}`){BAD:#}"),
        };
        write(&format!(
            "{DIM}⚙ webhook {} {request}{DIM:#}{outcome}\n",
            trace.block
        ));
    }

    fn error(&self, text: &str) {
        write(&format!("{ERROR}error:{ERROR:#} {text}\n"));
    }

    fn note(&self, text: &str) {
        write(&format!("{DIM}· {text}{DIM:#}\n"));
    }

    fn lines(&self, text: &str) {
        let mut text = text.to_owned();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        write(&text);
    }
}
