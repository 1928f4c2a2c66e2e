//! The checked flow: what a loaded, validated bot is made of.
//!
//! Everything here has been checked by [`crate::load`]: targets exist, templates and
//! paths parse, regexes compile. The runtime relies on it and never re-checks.

use std::borrow::Borrow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use petgraph::graph::{DiGraph, NodeIndex};
use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::path::Path;
use crate::template::Template;
use crate::yaml::Span;

#[cfg(test)]
mod tests;

/// The id of a block, unique within its bot.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct BlockId(Arc<str>);

impl BlockId {
    /// Wraps a block id.
    pub fn new(id: &str) -> BlockId {
        BlockId(Arc::from(id))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Borrow<str> for BlockId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for BlockId {
    fn from(id: &str) -> BlockId {
        BlockId::new(id)
    }
}

/// The declared type of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarType {
    /// Any scalar, stored as text.
    Text,
    /// A number (a numeric string is converted).
    Number,
    /// A JSON array.
    List,
    /// `true` or `false`.
    Boolean,
    /// Any JSON value.
    Object,
}

impl VarType {
    /// The type's name as written in a flow file.
    pub fn name(self) -> &'static str {
        match self {
            VarType::Text => "text",
            VarType::Number => "number",
            VarType::List => "list",
            VarType::Boolean => "boolean",
            VarType::Object => "object",
        }
    }
}

/// A variable declared under `variables:`.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableDecl {
    /// The declared type, if any.
    pub var_type: Option<VarType>,
    /// The value it holds before anything assigns it.
    pub default: Option<Value>,
}

/// Names of the variables every bot has.
pub const BUILT_IN_VARIABLES: &[&str] = &[
    LAST_USER_ANSWER,
    LAST_WEBHOOK_SUCCESS,
    LAST_WEBHOOK_FAILURE,
    CONVERSATION_ID,
    BOT,
];
/// The latest user message.
pub const LAST_USER_ANSWER: &str = "last user answer";
/// The whole body of the latest successful webhook.
pub const LAST_WEBHOOK_SUCCESS: &str = "last webhook success";
/// The latest failure of a webhook step that names no failure variable.
pub const LAST_WEBHOOK_FAILURE: &str = "last webhook failure";
/// The conversation's id.
pub const CONVERSATION_ID: &str = "conversation id";
/// The bot's id.
pub const BOT: &str = "bot";
/// The built-ins flowbot sets for every conversation: nothing else may give them a value (a
/// preset, `--var`, `/set`).
pub const SET_BY_FLOWBOT: &[&str] = &[CONVERSATION_ID, BOT];

/// A name given a value from outside the flow (a test's preset, `--var`, `/set`) that the bot
/// never declares, assigns or has built in, so it could never read it: most likely a typo.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bot `{bot}` never declares or assigns `{name}`, so it cannot read it ({help})")]
pub struct UnusedVariable {
    /// The bot.
    pub bot: String,
    /// The name given.
    pub name: String,
    /// The closest name the bot has, or how to make the name one of its variables.
    pub help: String,
}

/// An HTTP method a webhook step may use.
///
/// It reads ignoring case and surrounding spaces (`post` is `POST`), in flow files, through
/// [`FromStr`] and through serde alike, and is written in upper case, as sent on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Method {
    /// `GET`, the default (S6).
    #[default]
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `HEAD`: the response has no body, so an accepted status is a success with `null`.
    Head,
    /// `OPTIONS`.
    Options,
}

impl Method {
    /// Every method, in the order messages list them.
    pub const ALL: [Method; 7] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Head,
        Method::Options,
    ];

    /// The method as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    /// Reads a method name, ignoring case and surrounding spaces; `None` when it is none of
    /// [`Method::ALL`] (use [`FromStr`] to learn why).
    pub fn parse(name: &str) -> Option<Method> {
        name.parse().ok()
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method name that could not be read.
///
/// `Empty` is kept apart so that a step can report it as a `MissingParameter` (S6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodError {
    /// The method is empty or blank.
    #[error("http method is empty (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)")]
    Empty,
    /// The method is not one a webhook step may use.
    #[error(
        "unknown http method `{0}` (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    )]
    Unknown(String),
}

impl FromStr for Method {
    type Err = MethodError;

    /// Reads a method ignoring case and surrounding spaces: `post` is `POST`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let name = text.trim();
        if name.is_empty() {
            return Err(MethodError::Empty);
        }
        Method::ALL
            .into_iter()
            .find(|method| method.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| MethodError::Unknown(name.to_owned()))
    }
}

impl Serialize for Method {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Method {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The response statuses a webhook step counts as success (S11).
///
/// The default is `[200]`. It reads a code (`201`), a class (`2xx`), or a list of them
/// (`[200, 201]`, `200, 201`, or `[200, "3xx"]` in YAML and JSON); codes run from 100 to 599
/// and classes from `1xx` to `5xx`. As text, one entry shows as itself (`2xx`) and several as a
/// list (`[200, 201]`); serialized, it is a list of codes (numbers) and classes (strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptStatus {
    /// Exact statuses, e.g. 200 and 201.
    pub codes: Vec<u16>,
    /// Whole classes by their first digit, e.g. 2 for `2xx`.
    pub classes: Vec<u16>,
}

impl Default for AcceptStatus {
    fn default() -> Self {
        AcceptStatus {
            codes: vec![200],
            classes: Vec::new(),
        }
    }
}

/// Accepted statuses that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcceptStatusError {
    /// No status at all, e.g. `[]`.
    #[error(
        "accepted statuses are empty (expected a status such as 200, a class such as 2xx, \
         or a list such as [200, 201])"
    )]
    Empty,
    /// An entry that is neither a status from 100 to 599 nor a class from 1xx to 5xx.
    #[error(
        "invalid accepted status `{0}` (expected a status from 100 to 599 such as 200, \
         or a class such as 2xx)"
    )]
    Invalid(String),
}

impl AcceptStatus {
    /// True when `status` counts as success.
    pub fn contains(&self, status: u16) -> bool {
        self.codes.contains(&status) || self.classes.contains(&(status / 100))
    }

    /// Reads accepted statuses: `200`, `2xx`, `[200, 201]` or `200, 201` (entries may be
    /// quoted, as in `[200, "3xx"]`).
    pub fn parse(text: &str) -> Result<AcceptStatus, AcceptStatusError> {
        let trimmed = text.trim();
        let inner = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .unwrap_or(trimmed);
        let entries = inner
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let unquoted = item.trim_matches(|c| c == '"' || c == '\'');
                AcceptStatus::parse_entry(unquoted)
                    .ok_or_else(|| AcceptStatusError::Invalid(item.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        AcceptStatus::try_from_entries(entries)
    }

    /// Reads one entry: `200` or `2xx` (or `2XX`), surrounding spaces ignored.
    pub fn parse_entry(entry: &str) -> Option<AcceptEntry> {
        let bytes = entry.trim().as_bytes();
        let [first @ b'1'..=b'5', rest @ ..] = bytes else {
            return None;
        };
        let class = u16::from(first - b'0');
        match rest {
            [b'x' | b'X', b'x' | b'X'] => Some(AcceptEntry::Class(class)),
            [tens @ b'0'..=b'9', units @ b'0'..=b'9'] => Some(AcceptEntry::Code(
                class * 100 + u16::from(tens - b'0') * 10 + u16::from(units - b'0'),
            )),
            _ => None,
        }
    }

    /// Builds the set from entries (an empty set accepts nothing; see
    /// [`AcceptStatus::try_from_entries`]).
    pub fn from_entries(entries: impl IntoIterator<Item = AcceptEntry>) -> AcceptStatus {
        let mut accept = AcceptStatus {
            codes: Vec::new(),
            classes: Vec::new(),
        };
        for entry in entries {
            match entry {
                AcceptEntry::Code(code) => accept.codes.push(code),
                AcceptEntry::Class(class) => accept.classes.push(class),
            }
        }
        accept
    }

    /// Builds the set from entries, refusing an empty one: a step that accepts nothing could
    /// never succeed.
    pub fn try_from_entries(
        entries: impl IntoIterator<Item = AcceptEntry>,
    ) -> Result<AcceptStatus, AcceptStatusError> {
        let accept = AcceptStatus::from_entries(entries);
        if accept.codes.is_empty() && accept.classes.is_empty() {
            return Err(AcceptStatusError::Empty);
        }
        Ok(accept)
    }

    /// The entries, codes first, then classes.
    pub fn entries(&self) -> impl Iterator<Item = AcceptEntry> + '_ {
        let codes = self.codes.iter().map(|&code| AcceptEntry::Code(code));
        codes.chain(self.classes.iter().map(|&class| AcceptEntry::Class(class)))
    }
}

impl FromStr for AcceptStatus {
    type Err = AcceptStatusError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AcceptStatus::parse(text)
    }
}

impl fmt::Display for AcceptStatus {
    /// One entry as itself (`2xx`), several as a list (`[200, 201]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.entries().map(|entry| entry.to_string()).collect();
        match entries.as_slice() {
            [single] => f.write_str(single),
            _ => write!(f, "[{}]", entries.join(", ")),
        }
    }
}

impl Serialize for AcceptStatus {
    /// A list of codes (numbers) and classes (strings): `[200, "3xx"]`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(Some(self.codes.len() + self.classes.len()))?;
        for entry in self.entries() {
            match entry {
                AcceptEntry::Code(code) => seq.serialize_element(&code)?,
                AcceptEntry::Class(_) => seq.serialize_element(&entry.to_string())?,
            }
        }
        seq.end()
    }
}

/// The shapes `accept_status` may take when deserialized: one entry or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum AcceptStatusDoc {
    One(AcceptStatusItem),
    Many(Vec<AcceptStatusItem>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AcceptStatusItem {
    Code(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for AcceptStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let items = match AcceptStatusDoc::deserialize(deserializer).map_err(|_| {
            serde::de::Error::custom(
                "expected a status such as 200, a class such as 2xx, or a list such as [200, 201]",
            )
        })? {
            AcceptStatusDoc::One(item) => vec![item],
            AcceptStatusDoc::Many(items) => items,
        };
        let mut entries = Vec::new();
        for item in items {
            match item {
                AcceptStatusItem::Code(code) => {
                    let entry = AcceptStatus::parse_entry(&code.to_string()).ok_or_else(|| {
                        serde::de::Error::custom(AcceptStatusError::Invalid(code.to_string()))
                    })?;
                    entries.push(entry);
                }
                AcceptStatusItem::Text(text) => entries.extend(
                    AcceptStatus::parse(&text)
                        .map_err(serde::de::Error::custom)?
                        .entries(),
                ),
            }
        }
        AcceptStatus::try_from_entries(entries).map_err(serde::de::Error::custom)
    }
}

/// One entry of `accept_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptEntry {
    /// An exact status.
    Code(u16),
    /// A class, by its first digit.
    Class(u16),
}

impl fmt::Display for AcceptEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AcceptEntry::Code(code) => write!(f, "{code}"),
            AcceptEntry::Class(class) => write!(f, "{class}xx"),
        }
    }
}

/// Bot-wide webhook defaults from `settings.webhook`.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    /// The time-out of every webhook step that sets none (S3: 15 s).
    pub timeout: Duration,
    /// The statuses that count as success (S11: `[200]`).
    pub accept_status: AcceptStatus,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout: DEFAULT_WEBHOOK_TIMEOUT,
            accept_status: AcceptStatus::default(),
        }
    }
}

/// The webhook time-out when neither the step nor the bot sets one (S3).
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// Bot-wide settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// Webhook defaults.
    pub webhook: WebhookSettings,
}

/// A JSON value whose strings are templates: a `json:` body, a `set` value, a condition value.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTemplate {
    /// A JSON value with no placeholder anywhere.
    Literal(Value),
    /// A templated string; exactly one placeholder keeps the value's type.
    Text(Template),
    /// A list with at least one template inside.
    List(Vec<ValueTemplate>),
    /// A mapping with at least one template inside.
    Object(Vec<(String, ValueTemplate)>),
}

/// One block of a bot.
#[derive(Debug, Clone)]
pub struct Block {
    /// Its id.
    pub id: BlockId,
    /// What it does.
    pub kind: BlockKind,
    /// Where its id is written.
    pub span: Span,
}

/// The eleven kinds of block.
#[derive(Debug, Clone)]
pub enum BlockKind {
    /// Sends a text.
    Message(Message),
    /// Asks, waits for the answer, checks and stores it.
    Question(Question),
    /// Waits for a user message without sending one.
    Wait(Wait),
    /// Branches on conditions.
    Choice(Choice),
    /// Calls an HTTP service (the heart of the product, S1 to S17).
    Webhook(Webhook),
    /// Assigns variables.
    Set(SetBlock),
    /// Runs another bot of the same project.
    Jump(Jump),
    /// Pauses the bot.
    Sleep(Sleep),
    /// Hands a structured event to the host.
    Event(EventBlock),
    /// Hands the conversation to a human.
    Handoff(Handoff),
    /// Ends the conversation.
    End(End),
}

impl BlockKind {
    /// The kind key as written in a flow file.
    pub fn name(&self) -> &'static str {
        match self {
            BlockKind::Message(_) => "message",
            BlockKind::Question(_) => "question",
            BlockKind::Wait(_) => "wait",
            BlockKind::Choice(_) => "choice",
            BlockKind::Webhook(_) => "webhook",
            BlockKind::Set(_) => "set",
            BlockKind::Jump(_) => "jump",
            BlockKind::Sleep(_) => "sleep",
            BlockKind::Event(_) => "event",
            BlockKind::Handoff(_) => "handoff",
            BlockKind::End(_) => "end",
        }
    }

    /// True for the blocks where a turn stops to wait for the user or a timer.
    pub fn waits(&self) -> bool {
        matches!(
            self,
            BlockKind::Question(_) | BlockKind::Wait(_) | BlockKind::Sleep(_)
        )
    }
}

/// A `message` block.
#[derive(Debug, Clone)]
pub struct Message {
    /// The text sent.
    pub text: Template,
    /// The block after it.
    pub next: BlockId,
}

/// What a `question` accepts as an answer.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Any text (the default without options).
    Text,
    /// A number.
    Number,
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// One of the offered options (the default with options).
    Option,
    /// Text matching a regex.
    Regex(Regex),
}

impl Expect {
    /// The name of the expectation as written in a flow file.
    pub fn name(&self) -> &'static str {
        match self {
            Expect::Text => "text",
            Expect::Number => "number",
            Expect::Email => "email",
            Expect::Phone => "phone",
            Expect::Option => "option",
            Expect::Regex(_) => "regex",
        }
    }
}

/// Where a question's options come from.
#[derive(Debug, Clone)]
pub enum Options {
    /// Written in the flow, each a template.
    List(Vec<Template>),
    /// A list variable, e.g. `"{{titles}}"`.
    Variable(Template),
}

/// A `question` block.
#[derive(Debug, Clone)]
pub struct Question {
    /// The question sent.
    pub text: Template,
    /// The variable that stores the answer.
    pub save_to: Option<String>,
    /// Offered options.
    pub options: Option<Options>,
    /// What the answer must be.
    pub expect: Expect,
    /// Sent after an invalid answer, instead of a default line.
    pub retry: Option<Template>,
    /// After this many invalid answers in a row, go to `on_invalid`.
    pub attempts: Option<u32>,
    /// Where to go after too many invalid answers.
    pub on_invalid: Option<BlockId>,
    /// How long to wait for an answer.
    pub timeout: Option<Duration>,
    /// Where to go when nobody answered in time.
    pub on_timeout: Option<BlockId>,
    /// Where to go with a valid answer.
    pub next: BlockId,
}

/// A `wait` block.
#[derive(Debug, Clone)]
pub struct Wait {
    /// The variable that stores the message.
    pub save_to: Option<String>,
    /// How long to wait.
    pub timeout: Option<Duration>,
    /// Where to go when nobody wrote in time.
    pub on_timeout: Option<BlockId>,
    /// Where to go with the message.
    pub next: BlockId,
}

/// A `choice` block.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The branches, tried in order.
    pub branches: Vec<Branch>,
    /// Where to go when no branch holds.
    pub otherwise: BlockId,
}

/// One `if` of a choice.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The condition.
    pub condition: Condition,
    /// Where to go when it holds.
    pub next: BlockId,
}

/// What a condition tests: a variable, or part of it.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The variable's name (`last user answer` when the condition names none).
    pub variable: String,
    /// The part of it, if any (`shop failure.status`).
    pub path: Option<Path>,
}

/// The comparison operators of conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// Equal, as text or as numbers.
    Equals,
    /// Not equal.
    NotEquals,
    /// Text contains, or list holds.
    Contains,
    /// The opposite of `contains`.
    NotContains,
    /// Text starts with.
    StartsWith,
    /// Text ends with.
    EndsWith,
    /// Number greater than.
    GreaterThan,
    /// Number less than.
    LessThan,
    /// Number at least.
    AtLeast,
    /// Number at most.
    AtMost,
    /// Regex matches.
    Matches,
    /// Equals one of a list.
    OneOf,
}

impl Operator {
    /// Every operator with its key.
    pub const ALL: [(&'static str, Operator); 12] = [
        ("equals", Operator::Equals),
        ("not_equals", Operator::NotEquals),
        ("contains", Operator::Contains),
        ("not_contains", Operator::NotContains),
        ("starts_with", Operator::StartsWith),
        ("ends_with", Operator::EndsWith),
        ("greater_than", Operator::GreaterThan),
        ("less_than", Operator::LessThan),
        ("at_least", Operator::AtLeast),
        ("at_most", Operator::AtMost),
        ("matches", Operator::Matches),
        ("one_of", Operator::OneOf),
    ];

    /// The key as written in a flow file.
    pub fn name(self) -> &'static str {
        Operator::ALL
            .iter()
            .find(|(_, operator)| *operator == self)
            .map(|(name, _)| *name)
            .unwrap_or("equals")
    }
}

/// What `is:` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsCheck {
    /// Holds a message: a non-empty text, or a webhook failure.
    Message,
    /// Holds a number or numeric text.
    Number,
    /// Has a value at all.
    Set,
    /// Unset, null, empty text or empty list.
    Empty,
}

/// A condition of a choice branch.
#[derive(Debug, Clone)]
pub enum Condition {
    /// `{var, <operator>: value}`.
    Compare {
        /// What is tested.
        subject: Subject,
        /// How.
        operator: Operator,
        /// Against what.
        value: ValueTemplate,
        /// Compare text exactly instead of ignoring case and surrounding spaces.
        case_sensitive: bool,
        /// The regex of `matches`, compiled at load time when it has no placeholder.
        regex: Option<Regex>,
    },
    /// `{var, is: message | number | set | empty}`.
    Is {
        /// What is tested.
        subject: Subject,
        /// The check.
        check: IsCheck,
    },
    /// Every condition holds.
    All(Vec<Condition>),
    /// At least one holds.
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

/// A webhook request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// JSON, with JSON-encoded values.
    Json(ValueTemplate),
    /// `application/x-www-form-urlencoded`.
    Form(Vec<(String, Template)>),
    /// Raw text with its content type.
    Text {
        /// The text.
        text: Template,
        /// Its `Content-Type` (default `text/plain; charset=utf-8`).
        content_type: String,
    },
}

/// One `save` of a webhook step (S12 to S15).
#[derive(Debug, Clone)]
pub struct Save {
    /// Which part of the response.
    pub path: Path,
    /// Into which variable.
    pub to: String,
    /// Stored instead of failing when the path does not match.
    pub default: Option<Value>,
}

/// A `webhook` block.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The method (default GET).
    pub method: Method,
    /// The URL, encoded for its place when rendered.
    pub url: Template,
    /// Query parameters added to those in the URL (S7).
    pub query: Vec<(String, Template)>,
    /// Request headers.
    pub headers: Vec<(String, Template)>,
    /// The body, if any.
    pub body: Option<Body>,
    /// What to store from the response.
    pub save: Vec<Save>,
    /// The failure variable (default `last webhook failure`, S16).
    pub failure: Option<String>,
    /// This step's time-out, if it sets one.
    pub timeout: Option<Duration>,
    /// This step's accepted statuses, if it sets them.
    pub accept_status: Option<AcceptStatus>,
    /// Whether the request carries an `Idempotency-Key` header, the same for every delivery of
    /// the message that runs the step, so that its target can drop a repeated request.
    pub idempotency_key: bool,
    /// Where to go next (always, unless `on_failure` is set and the step failed).
    pub next: BlockId,
    /// Where to go when the step failed.
    pub on_failure: Option<BlockId>,
}

/// The header a webhook step with `idempotency_key: true` sends.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

impl Webhook {
    /// The variable that receives this step's failures.
    pub fn failure_variable(&self) -> &str {
        self.failure.as_deref().unwrap_or(LAST_WEBHOOK_FAILURE)
    }
}

/// One operation of a `set` block.
#[derive(Debug, Clone)]
pub enum SetOperation {
    /// Replace with a value.
    Assign(ValueTemplate),
    /// Add a number.
    Add(ValueTemplate),
    /// Subtract a number.
    Subtract(ValueTemplate),
    /// Multiply by a number.
    Multiply(ValueTemplate),
    /// Divide by a number (by zero is an error event, the value unchanged).
    Divide(ValueTemplate),
    /// Append text.
    Append(ValueTemplate),
    /// Push an item onto a list.
    Push(ValueTemplate),
    /// Remove an item from a list.
    Remove(ValueTemplate),
    /// Empty a list.
    Clear,
}

impl SetOperation {
    /// The operation's key (`assign` for a plain value).
    pub fn name(&self) -> &'static str {
        match self {
            SetOperation::Assign(_) => "assign",
            SetOperation::Add(_) => "add",
            SetOperation::Subtract(_) => "subtract",
            SetOperation::Multiply(_) => "multiply",
            SetOperation::Divide(_) => "divide",
            SetOperation::Append(_) => "append",
            SetOperation::Push(_) => "push",
            SetOperation::Remove(_) => "remove",
            SetOperation::Clear => "clear",
        }
    }
}

/// A `set` block.
#[derive(Debug, Clone)]
pub struct SetBlock {
    /// Variable and operation, in order.
    pub assignments: Vec<(String, SetOperation)>,
    /// The block after it.
    pub next: BlockId,
}

/// A `jump` block.
#[derive(Debug, Clone)]
pub struct Jump {
    /// The other bot's id.
    pub bot: String,
    /// Where `bot` is written, for project-wide checks.
    pub bot_span: Span,
    /// Where in it to start (default its start).
    pub block: Option<BlockId>,
    /// Where `block` is written.
    pub block_span: Option<Span>,
    /// Values for the child's variables.
    pub with: Vec<(String, ValueTemplate)>,
    /// Come back when the child ends.
    pub return_after: bool,
    /// Child variable to parent variable, copied on return.
    pub save: Vec<(String, String)>,
    /// Where to go on return.
    pub next: Option<BlockId>,
}

/// A `sleep` block.
#[derive(Debug, Clone)]
pub struct Sleep {
    /// How long (1 s to 1 h).
    pub duration: Duration,
    /// The block after it.
    pub next: BlockId,
}

/// An `event` block.
#[derive(Debug, Clone)]
pub struct EventBlock {
    /// The event's name.
    pub name: Template,
    /// Its data.
    pub data: Option<ValueTemplate>,
    /// The block after it.
    pub next: BlockId,
}

/// A `handoff` block.
#[derive(Debug, Clone)]
pub struct Handoff {
    /// Sent before handing off.
    pub message: Option<Template>,
    /// The team to hand off to.
    pub team: Option<String>,
}

/// An `end` block.
#[derive(Debug, Clone)]
pub struct End {
    /// Sent before ending.
    pub message: Option<Template>,
    /// Start over, with variables reset.
    pub restart: bool,
}

/// How one block leads to another, as drawn in the graph.
#[derive(Debug, Clone, PartialEq)]
pub enum Edge {
    /// `next`.
    Next,
    /// A choice branch, with the condition as text.
    Branch(String),
    /// A choice's `else`.
    Else,
    /// A webhook's `on_failure`.
    OnFailure,
    /// A question's `on_invalid`.
    OnInvalid,
    /// `on_timeout`.
    OnTimeout,
}

impl Edge {
    /// A short label for diagrams.
    pub fn label(&self) -> &str {
        match self {
            Edge::Next => "",
            Edge::Branch(condition) => condition,
            Edge::Else => "else",
            Edge::OnFailure => "on_failure",
            Edge::OnInvalid => "on_invalid",
            Edge::OnTimeout => "on_timeout",
        }
    }
}

/// The hasher of the maps and sets keyed by block ids and variable names.
///
/// The keys come from the bot's own file, not from a conversation, so a fast hash serves
/// better than the standard library's DoS-resistant one.
pub(crate) type IdHasher = foldhash::fast::RandomState;

/// A checked bot.
#[derive(Debug, Clone)]
pub struct Flow {
    pub(crate) id: String,
    pub(crate) description: Option<String>,
    pub(crate) start: BlockId,
    pub(crate) variables: IndexMap<String, VariableDecl>,
    pub(crate) settings: Settings,
    pub(crate) blocks: IndexMap<BlockId, Block, IdHasher>,
    /// The blocks and their edges; node `i` is block `i` of `blocks`.
    pub(crate) graph: DiGraph<BlockId, Edge>,
    pub(crate) content_hash: u64,
}

impl Flow {
    /// The bot's id (`bot:`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The bot's description.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The block a conversation starts at.
    pub fn start(&self) -> &BlockId {
        &self.start
    }

    /// The declared variables, in file order.
    pub fn variables(&self) -> &IndexMap<String, VariableDecl> {
        &self.variables
    }

    /// Bot-wide settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The variables this flow gives a value to: the built-in ones, the declared ones, and the
    /// ones a block assigns (a question's or a wait's `save_to`, a webhook's `save` and failure
    /// variable, a `set`, a jump's `save`). Any other name the flow reads is reported when it
    /// loads, so a name outside these is one the bot never uses. Names may repeat.
    pub fn assigned_variables(&self) -> Vec<&str> {
        let mut names: Vec<&str> = BUILT_IN_VARIABLES.to_vec();
        names.extend(self.variables.keys().map(String::as_str));
        for block in self.blocks() {
            match &block.kind {
                BlockKind::Question(question) => names.extend(question.save_to.as_deref()),
                BlockKind::Wait(wait) => names.extend(wait.save_to.as_deref()),
                BlockKind::Webhook(webhook) => {
                    names.extend(webhook.save.iter().map(|save| save.to.as_str()));
                    names.push(webhook.failure_variable());
                }
                BlockKind::Set(set) => {
                    names.extend(set.assignments.iter().map(|(name, _)| name.as_str()))
                }
                BlockKind::Jump(jump) => {
                    names.extend(jump.save.iter().map(|(_, parent)| parent.as_str()))
                }
                _ => {}
            }
        }
        names
    }

    /// `Err` when the bot never declares, assigns or has `name` built in (see
    /// [`Flow::assigned_variables`]), with the closest name it has.
    pub fn check_uses_variable(&self, name: &str) -> Result<(), UnusedVariable> {
        let known = self.assigned_variables();
        if known.contains(&name) {
            return Ok(());
        }
        Err(UnusedVariable {
            bot: self.id.clone(),
            name: name.to_owned(),
            help: crate::suggest::did_you_mean(name, known).unwrap_or_else(|| {
                "declare it under the flow's `variables:` if it should".to_owned()
            }),
        })
    }

    /// A block by id.
    pub fn block(&self, id: &str) -> Option<&Block> {
        self.blocks.get(id)
    }

    /// All blocks, in file order.
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.blocks.values()
    }

    /// The blocks a block leads to, with how.
    pub fn successors(&self, id: &str) -> Vec<(&BlockId, &Edge)> {
        use petgraph::visit::EdgeRef;
        let Some(index) = self.node_index(id) else {
            return Vec::new();
        };
        let mut out: Vec<_> = self
            .graph
            .edges(index)
            .map(|edge| (&self.graph[edge.target()], edge.weight()))
            .collect();
        // petgraph lists outgoing edges newest first; file order reads better.
        out.reverse();
        out
    }

    /// The graph node of a block.
    pub(crate) fn node_index(&self, id: &str) -> Option<NodeIndex> {
        self.blocks.get_index_of(id).map(NodeIndex::new)
    }

    /// A hash of the flow file's content, to notice when a stored conversation's flow changed.
    pub fn content_hash(&self) -> u64 {
        self.content_hash
    }
}
