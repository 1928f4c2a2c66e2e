//! The conversation test file, as `../shared/spec/conversation-tests.md` fixes it, read with serde_yaml.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::matcher::TextMatch;

/// One test file: a flow and its cases.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestFile {
    /// The flow under test, relative to the test file.
    pub flow: PathBuf,
    /// The cases, run independently of each other.
    pub cases: Vec<Case>,
    /// Values for `{{secret.NAME}}` in every case (a case's own `secrets` win).
    #[serde(default)]
    pub secrets: IndexMap<String, String>,
}

/// One whole conversation and what must hold at its end.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Shown in reports and matched by `--filter`.
    #[serde(deserialize_with = "non_empty")]
    pub name: String,
    /// Values set before the conversation starts.
    #[serde(default)]
    pub variables: serde_json::Map<String, Value>,
    /// Start from this block instead of the flow's start.
    #[serde(default)]
    pub start_at: Option<String>,
    /// What each webhook block returns: one outcome, or a list used in order (the last repeats).
    #[serde(default)]
    pub webhooks: IndexMap<String, Outcomes>,
    /// The expected transcript: bot outputs and user messages, in order.
    #[serde(default)]
    pub conversation: Vec<Step>,
    /// What must hold at the end.
    #[serde(default)]
    pub expect: Expect,
    /// Values for `{{secret.NAME}}`, added to the file's.
    #[serde(default)]
    pub secrets: IndexMap<String, String>,
}

/// A case name with something in it: an empty one (or `name: # ...`, all comment) would make
/// the case impossible to find in a report.
fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
    if name.trim().is_empty() {
        return Err(D::Error::custom(
            "a case needs a `name` (quote it if it starts with `#`)",
        ));
    }
    Ok(name)
}

/// The outcomes of one webhook block.
#[derive(Debug, Clone)]
pub struct Outcomes(pub Vec<Outcome>);

impl<'de> Deserialize<'de> for Outcomes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Array(items) if items.is_empty() => {
                Err(D::Error::custom("a webhook needs at least one outcome"))
            }
            Value::Array(items) => items
                .into_iter()
                .map(|item| serde_json::from_value(item).map_err(D::Error::custom))
                .collect::<Result<_, _>>()
                .map(Outcomes),
            one => serde_json::from_value(one)
                .map(|o| Outcomes(vec![o]))
                .map_err(D::Error::custom),
        }
    }
}

/// What a webhook step gets in a test instead of the network.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A response, classified and extracted like a real one.
    Response {
        /// The status (default 200).
        status: u16,
        /// Response headers.
        headers: Vec<(String, String)>,
        /// The body as sent: JSON text for `json`, the text for `text`.
        body: Vec<u8>,
    },
    /// No response at all: `Timeout` or `ConnectionError`.
    Error(TransportError),
    /// Send the request for real.
    Real,
}

/// A failure without a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum TransportError {
    /// The request timed out.
    Timeout,
    /// No connection could be made.
    ConnectionError,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeDoc {
    status: Option<u16>,
    json: Option<Value>,
    text: Option<String>,
    #[serde(default)]
    headers: IndexMap<String, String>,
    error: Option<TransportError>,
    #[serde(default)]
    real: bool,
}

impl<'de> Deserialize<'de> for Outcome {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let doc = OutcomeDoc::deserialize(deserializer)?;
        let response = doc.status.is_some()
            || doc.json.is_some()
            || doc.text.is_some()
            || !doc.headers.is_empty();
        match (response, doc.error, doc.real) {
            (false, None, true) => Ok(Outcome::Real),
            (false, Some(error), false) => Ok(Outcome::Error(error)),
            (true, None, false) => {
                if doc.json.is_some() && doc.text.is_some() {
                    return Err(D::Error::custom("an outcome has `json` or `text`, not both"));
                }
                let mut headers: Vec<(String, String)> = doc.headers.into_iter().collect();
                let body = match (doc.json, doc.text) {
                    (Some(json), _) => {
                        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
                            headers.push(("content-type".to_owned(), "application/json".to_owned()));
                        }
                        json.to_string().into_bytes()
                    }
                    (None, Some(text)) => text.into_bytes(),
                    (None, None) => Vec::new(),
                };
                Ok(Outcome::Response { status: doc.status.unwrap_or(200), headers, body })
            }
            (false, None, false) => Err(D::Error::custom(
                "an outcome needs `status`/`json`/`text`, or `error: Timeout | ConnectionError`, or `real: true`",
            )),
            _ => Err(D::Error::custom(
                "an outcome is a response (`status`, `json`, `text`, `headers`), an `error`, or `real: true`: pick one",
            )),
        }
    }
}

/// One line of the expected transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A bot message, and optionally the options it offers.
    Bot {
        /// The text.
        text: TextMatch,
        /// The options offered, if checked.
        options: Option<Vec<TextMatch>>,
    },
    /// What the user types.
    User(String),
    /// An event the bot hands to the host: its name and data (matched by subset).
    Event {
        /// The event's name.
        name: TextMatch,
        /// Its data, if checked.
        data: Option<Value>,
    },
    /// A hand-off to a human, with the team and message if checked.
    Handoff {
        /// The team, if checked.
        team: Option<TextMatch>,
        /// The message, if checked.
        message: Option<TextMatch>,
    },
    /// Fire the pending timer now (`sleep`, or a question's `timeout`).
    Fire,
    /// A runtime error the bot reports (a `set` that cannot apply, the block limit...).
    Error(TextMatch),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepDoc {
    bot: Option<TextMatch>,
    options: Option<Vec<TextMatch>>,
    user: Option<Value>,
    event: Option<Value>,
    handoff: Option<Value>,
    fire: Option<bool>,
    error: Option<TextMatch>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let doc = StepDoc::deserialize(deserializer)?;
        let kinds = [
            doc.bot.is_some(),
            doc.user.is_some(),
            doc.event.is_some(),
            doc.handoff.is_some(),
            doc.fire.is_some(),
            doc.error.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(D::Error::custom(
                "a step is exactly one of `bot`, `user`, `event`, `handoff`, `fire` or `error`",
            ));
        }
        if doc.fire == Some(false) {
            return Err(D::Error::custom(
                "`fire: true` fires the pending timer; leave the step out otherwise",
            ));
        }
        if doc.options.is_some() && doc.bot.is_none() {
            return Err(D::Error::custom("`options` goes with a `bot` step"));
        }
        if let Some(text) = doc.bot {
            return Ok(Step::Bot {
                text,
                options: doc.options,
            });
        }
        if let Some(user) = doc.user {
            return match user {
                Value::String(text) => Ok(Step::User(text)),
                Value::Number(n) => Ok(Step::User(n.to_string())),
                Value::Bool(b) => Ok(Step::User(b.to_string())),
                _ => Err(D::Error::custom("`user` is the text the user types")),
            };
        }
        if let Some(event) = doc.event {
            return event_step(event).map_err(D::Error::custom);
        }
        if let Some(handoff) = doc.handoff {
            return handoff_step(handoff).map_err(D::Error::custom);
        }
        if let Some(error) = doc.error {
            return Ok(Step::Error(error));
        }
        Ok(Step::Fire)
    }
}

fn event_step(event: Value) -> Result<Step, String> {
    match event {
        Value::Object(mut fields) => {
            let name = fields
                .shift_remove("name")
                .ok_or("an `event` step needs a `name`")?;
            let name = TextMatch::from_value(name)?;
            let data = fields.shift_remove("data");
            if let Some(key) = fields.keys().next() {
                return Err(format!(
                    "unknown key `{key}` in an `event` step (expected `name`, `data`)"
                ));
            }
            Ok(Step::Event { name, data })
        }
        other => Ok(Step::Event {
            name: TextMatch::from_value(other)?,
            data: None,
        }),
    }
}

fn handoff_step(handoff: Value) -> Result<Step, String> {
    match handoff {
        Value::Bool(true) | Value::Null => Ok(Step::Handoff {
            team: None,
            message: None,
        }),
        Value::Object(mut fields) => {
            let team = fields
                .shift_remove("team")
                .map(TextMatch::from_value)
                .transpose()?;
            let message = fields
                .shift_remove("message")
                .map(TextMatch::from_value)
                .transpose()?;
            if let Some(key) = fields.keys().next() {
                return Err(format!(
                    "unknown key `{key}` in a `handoff` step (expected `team`, `message`)"
                ));
            }
            Ok(Step::Handoff { team, message })
        }
        other => Ok(Step::Handoff {
            team: None,
            message: Some(TextMatch::from_value(other)?),
        }),
    }
}

/// The final status a conversation must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedStatus {
    /// Waiting for the user.
    Waiting,
    /// Ended.
    Ended,
    /// Handed to a human.
    HandedOff,
    /// Sleeping until a timer fires.
    Sleeping,
}

impl ExpectedStatus {
    /// The status as the test file writes it: `waiting`, `ended`, `handed_off`, `sleeping`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectedStatus::Waiting => "waiting",
            ExpectedStatus::Ended => "ended",
            ExpectedStatus::HandedOff => "handed_off",
            ExpectedStatus::Sleeping => "sleeping",
        }
    }
}

/// What must hold at the end of a case.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The conversation's final status.
    pub status: Option<ExpectedStatus>,
    /// A subset of the variables (objects match by subset; text fields take matchers).
    #[serde(default)]
    pub variables: serde_json::Map<String, Value>,
    /// The requests each webhook block built, in order.
    #[serde(default)]
    pub requests: IndexMap<String, Vec<ExpectedRequest>>,
}

/// A request a webhook block must have built.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequest {
    /// The method.
    pub method: Option<String>,
    /// The URL, a text or a matcher.
    pub url: Option<TextMatch>,
    /// A subset of the headers sent.
    #[serde(default)]
    pub headers: IndexMap<String, TextMatch>,
    /// The body parsed as JSON, matched by subset.
    pub json: Option<Value>,
    /// The body as exact text (or a matcher).
    pub body: Option<TextMatch>,
}

/// Reads a test file's text; the error names the line and column serde_yaml found.
pub fn parse(source: &str) -> Result<TestFile, serde_yaml::Error> {
    serde_yaml::from_str(source)
}

#[cfg(test)]
mod tests;
