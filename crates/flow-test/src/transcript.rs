//! Transcripts: what the bot really did, line by line, and how it compares with a case's
//! `conversation`, shown side by side from the first difference.

use std::fmt;

use flow_runtime::{Output, Turn};
use serde_json::Value;

use crate::matcher::{value_matches, TextMatch};
use crate::spec::Step;

/// One line of an actual transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A bot message and the options it offered.
    Bot {
        /// The text sent.
        text: String,
        /// The options offered with it.
        options: Vec<String>,
    },
    /// A message the test sent as the user.
    User(String),
    /// An event handed to the host.
    Event {
        /// Its name.
        name: String,
        /// Its data (`null` without data).
        data: Value,
    },
    /// A hand-off to a human (its message, if any, is the `Bot` line before it).
    Handoff {
        /// The team named, if any.
        team: Option<String>,
    },
    /// A runtime error output, as its message.
    Error(String),
    /// The test fired the pending timer; `fired` is false when no timer was pending.
    Fire {
        /// Whether a timer was pending.
        fired: bool,
    },
}

impl Line {
    /// The lines of a turn's outputs, in order.
    pub fn of_turn(turn: &Turn) -> impl Iterator<Item = Line> + '_ {
        turn.outputs.iter().map(|output| match output {
            Output::Message(message) => Line::Bot {
                text: message.text.clone(),
                options: message.options.clone(),
            },
            Output::Event(event) => Line::Event {
                name: event.name.clone(),
                data: event.data.clone(),
            },
            Output::Handoff(handoff) => Line::Handoff {
                team: handoff.team.clone(),
            },
            Output::Error(error) => Line::Error(error.to_string()),
        })
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Bot { text, options } => {
                write!(f, "bot: {}", one_line(text))?;
                if !options.is_empty() {
                    write!(f, " [{}]", options.join(" | "))?;
                }
                Ok(())
            }
            Line::User(text) => write!(f, "user: {}", one_line(text)),
            Line::Event { name, data } if data.is_null() => write!(f, "event: {name}"),
            Line::Event { name, data } => write!(f, "event: {name} {data}"),
            Line::Handoff { team: Some(team) } => write!(f, "handoff: team {team}"),
            Line::Handoff { team: None } => f.write_str("handoff"),
            Line::Error(message) => write!(f, "error: {}", one_line(message)),
            Line::Fire { fired: true } => f.write_str("fire"),
            Line::Fire { fired: false } => f.write_str("fire (no timer was pending)"),
        }
    }
}

/// One line of an expected transcript: a step of the case, a `handoff` with a message being
/// the two lines `bot: message` and `handoff`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expected {
    Bot {
        text: TextMatch,
        options: Option<Vec<TextMatch>>,
    },
    User(String),
    Event {
        name: TextMatch,
        data: Option<Value>,
    },
    Handoff {
        team: Option<TextMatch>,
    },
    Error(TextMatch),
    Fire,
}

impl Expected {
    /// The expected lines of a case's `conversation`.
    pub(crate) fn of_steps(steps: &[Step]) -> Vec<Expected> {
        let mut lines = Vec::with_capacity(steps.len());
        for step in steps {
            match step {
                Step::Bot { text, options } => lines.push(Expected::Bot {
                    text: text.clone(),
                    options: options.clone(),
                }),
                Step::User(text) => lines.push(Expected::User(text.clone())),
                Step::Event { name, data } => lines.push(Expected::Event {
                    name: name.clone(),
                    data: data.clone(),
                }),
                Step::Handoff { team, message } => {
                    if let Some(message) = message {
                        lines.push(Expected::Bot {
                            text: message.clone(),
                            options: None,
                        });
                    }
                    lines.push(Expected::Handoff { team: team.clone() });
                }
                Step::Error(message) => lines.push(Expected::Error(message.clone())),
                Step::Fire => lines.push(Expected::Fire),
            }
        }
        lines
    }

    /// Whether `actual` is this line.
    fn matches(&self, actual: &Line) -> bool {
        match (self, actual) {
            (
                Expected::Bot { text, options },
                Line::Bot {
                    text: a,
                    options: o,
                },
            ) => {
                text.matches(a)
                    && options.as_ref().is_none_or(|expected| {
                        expected.len() == o.len()
                            && expected.iter().zip(o).all(|(e, a)| e.matches(a))
                    })
            }
            (Expected::User(expected), Line::User(actual)) => expected == actual,
            (Expected::Event { name, data }, Line::Event { name: n, data: d }) => {
                name.matches(n)
                    && data
                        .as_ref()
                        .is_none_or(|data| value_matches(data, Some(d)))
            }
            (Expected::Handoff { team }, Line::Handoff { team: t }) => match (team, t) {
                (None, _) => true,
                (Some(expected), Some(actual)) => expected.matches(actual),
                (Some(_), None) => false,
            },
            (Expected::Error(expected), Line::Error(actual)) => expected.matches(actual),
            (Expected::Fire, Line::Fire { fired }) => *fired,
            _ => false,
        }
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expected::Bot { text, options } => {
                write!(f, "bot: {}", one_line(&text.to_string()))?;
                if let Some(options) = options {
                    let options: Vec<String> = options.iter().map(ToString::to_string).collect();
                    write!(f, " [{}]", options.join(" | "))?;
                }
                Ok(())
            }
            Expected::User(text) => write!(f, "user: {}", one_line(text)),
            Expected::Event { name, data: None } => write!(f, "event: {name}"),
            Expected::Event {
                name,
                data: Some(data),
            } => write!(f, "event: {name} {data}"),
            Expected::Handoff { team: Some(team) } => write!(f, "handoff: team {team}"),
            Expected::Handoff { team: None } => f.write_str("handoff"),
            Expected::Error(message) => write!(f, "error: {}", one_line(&message.to_string())),
            Expected::Fire => f.write_str("fire"),
        }
    }
}

/// Line breaks shown as `\n`, so one message stays one line of the transcript.
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

/// Where an actual transcript first departs from the expected one, with both sides as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptDiff {
    /// The index of the first line that differs, from 0.
    pub first: usize,
    /// The expected lines, as text.
    pub expected: Vec<String>,
    /// The actual lines, as text.
    pub actual: Vec<String>,
    /// For each row, whether the actual line matches the expected one.
    pub same: Vec<bool>,
}

/// Compares line by line; `None` when every expected line matches and nothing is left over.
pub(crate) fn compare(expected: &[Expected], actual: &[Line]) -> Option<TranscriptDiff> {
    let same = |index: usize| match (expected.get(index), actual.get(index)) {
        (Some(expected), Some(actual)) => expected.matches(actual),
        (None, None) => true,
        _ => false,
    };
    let same: Vec<bool> = (0..expected.len().max(actual.len())).map(same).collect();
    let first = same.iter().position(|same| !same)?;
    Some(TranscriptDiff {
        first,
        expected: expected.iter().map(ToString::to_string).collect(),
        actual: actual.iter().map(ToString::to_string).collect(),
        same,
    })
}

/// How many rows a diff shows after the first difference.
const MAX_ROWS: usize = 20;
/// The widest the expected column gets; longer lines wrap.
const MAX_WIDTH: usize = 56;

impl fmt::Display for TranscriptDiff {
    /// The rows from the line before the first difference, expected on the left and actual on
    /// the right, the differing ones marked with `>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let from = self.first.saturating_sub(1);
        let rows = self.expected.len().max(self.actual.len());
        let to = rows.min(self.first + MAX_ROWS);
        let cell = |lines: &[String], index: usize| {
            lines
                .get(index)
                .cloned()
                .unwrap_or_else(|| "(nothing)".to_owned())
        };
        let width = (from..to)
            .map(|index| cell(&self.expected, index).chars().count())
            .chain(["expected".len()])
            .max()
            .unwrap_or(0)
            .min(MAX_WIDTH);
        let number_width = to.to_string().len();
        writeln!(f, "  {:number_width$}  {:width$} | actual", "", "expected")?;
        for index in from..to {
            let marker = if self.same.get(index) == Some(&true) {
                ' '
            } else {
                '>'
            };
            let left = wrap(&cell(&self.expected, index), width);
            let right = cell(&self.actual, index);
            let (expected_text, actual_text) = (cell(&self.expected, index), right.clone());
            for (part, chunk) in left.iter().enumerate() {
                let (mark, number, right) = if part == 0 {
                    (marker, (index + 1).to_string(), right.as_str())
                } else {
                    (' ', String::new(), "")
                };
                let row = format!("{mark} {number:>number_width$}  {chunk:width$} | {right}");
                writeln!(f, "{}", row.trim_end())?;
            }
            if marker == '>' && same_but_spaces(&expected_text, &actual_text) {
                // They look alike: show where the spaces differ.
                writeln!(
                    f,
                    "  {:number_width$}  (they differ in spaces: expected {expected_text:?}, actual {actual_text:?})",
                    ""
                )?;
            }
        }
        if rows > to {
            writeln!(f, "  ... {} more lines", rows - to)?;
        }
        Ok(())
    }
}

/// Whether `a` and `b` differ only in spaces (at an end, or how many in a row).
fn same_but_spaces(a: &str, b: &str) -> bool {
    a != b && a.split_whitespace().eq(b.split_whitespace())
}

/// `text` cut into pieces of at most `width` characters (at least one piece).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() || width == 0 {
        return vec![text.to_owned()];
    }
    chars
        .chunks(width)
        .map(|chunk| chunk.iter().collect())
        .collect()
}

#[cfg(test)]
mod tests;
