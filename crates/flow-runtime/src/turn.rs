//! What a turn gives back: the outputs for the user and the host, notices, and a trace.

use std::sync::Arc;
use std::time::Duration;

use flow_core::flow::BlockId;
use flow_http::ErrorKind;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::conversation::{PendingTimer, Status, TimerKind};
use crate::error::RuntimeError;

/// The result of one turn: everything the bot did until it had to wait (or ended).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Turn {
    /// What the bot sent and did, in order.
    pub outputs: Vec<Output>,
    /// What happened to the conversation itself (ignored message, restart...), for the host.
    pub notices: Vec<Notice>,
    /// The conversation's status at the end of the turn.
    pub status: Status,
    /// The timer pending at the end of the turn, if any.
    pub timer: Option<PendingTimer>,
    /// What ran.
    pub trace: Trace,
}

impl Turn {
    pub(crate) fn new(status: Status) -> Turn {
        Turn {
            outputs: Vec::new(),
            notices: Vec::new(),
            status,
            timer: None,
            // Room for a turn that runs a few blocks and stores a few variables, so that the
            // trace is allocated once: a webhook turn of the shop bot records a dozen events.
            // Sixteen events take 1 KiB, which an allocator still serves from its fast lists.
            trace: Trace {
                events: Vec::with_capacity(16),
            },
        }
    }

    /// The messages the bot sent, in order.
    pub fn messages(&self) -> impl Iterator<Item = &BotMessage> {
        self.outputs.iter().filter_map(|output| match output {
            Output::Message(message) => Some(message),
            _ => None,
        })
    }

    /// The texts of the messages the bot sent, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.messages()
            .map(|message| message.text.as_str())
            .collect()
    }

    /// The errors of the turn, in order.
    pub fn errors(&self) -> impl Iterator<Item = &RuntimeError> {
        self.outputs.iter().filter_map(|output| match output {
            Output::Error(error) => Some(error),
            _ => None,
        })
    }

    /// The events the bot raised, in order.
    pub fn events(&self) -> impl Iterator<Item = &Event> {
        self.outputs.iter().filter_map(|output| match output {
            Output::Event(event) => Some(event),
            _ => None,
        })
    }

    pub(crate) fn say(&mut self, block: &BlockId, text: String, options: Vec<String>) {
        self.outputs.push(Output::Message(BotMessage {
            block: block.clone(),
            text,
            options,
        }));
    }

    pub(crate) fn error(&mut self, error: RuntimeError) {
        tracing::warn!(%error, "turn error");
        self.outputs.push(Output::Error(error));
    }

    pub(crate) fn trace(&mut self, event: TraceEvent) {
        self.trace.events.push(event);
    }
}

/// One thing the bot did during a turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// A text for the user, with the options it offers.
    Message(BotMessage),
    /// A structured event for the host (tag, note, CRM field...).
    Event(Event),
    /// The conversation goes to a human.
    Handoff(Handoff),
    /// Something went wrong that the bot author should know about; the conversation stays usable.
    /// Serialized with a stable `code`, its fields, and the `message` it displays.
    Error(#[serde(serialize_with = "error_with_message")] RuntimeError),
}

fn error_with_message<S: Serializer>(
    error: &RuntimeError,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error;
    let mut value = serde_json::to_value(error).map_err(S::Error::custom)?;
    if let Value::Object(fields) = &mut value {
        fields.insert("message".to_owned(), Value::String(error.to_string()));
    }
    value.serialize(serializer)
}

/// A text the bot sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BotMessage {
    /// The block that sent it.
    pub block: BlockId,
    /// The text, templates rendered.
    pub text: String,
    /// The options offered with it (a question's, also sent again with its retry text).
    pub options: Vec<String>,
}

/// An `event` block's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// The block that raised it.
    pub block: BlockId,
    /// The event's name, rendered.
    pub name: String,
    /// Its data, rendered (`null` without `data`).
    pub data: Value,
}

/// A `handoff` block's output (its message, if any, comes just before as a message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Handoff {
    /// The block that handed off.
    pub block: BlockId,
    /// The team named, if any.
    pub team: Option<String>,
}

/// What happened to the conversation itself during a turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Notice {
    /// The message was ignored: the conversation has ended (without a restart) or was handed off.
    MessageIgnored {
        /// The conversation's status.
        status: Status,
    },
    /// The message started the bot over after an `end` with `restart: true`; it is not an answer.
    Restarted,
    /// The bot's flow changed and the block the conversation was at is gone: it restarted at the
    /// start, with its variables reset.
    FlowChanged {
        /// The bot whose flow changed.
        bot: String,
        /// The block that no longer exists.
        missing_block: BlockId,
    },
    /// A timer was asked to fire, but none is pending (or another one is): nothing ran.
    NoTimer,
}

/// What ran during a turn, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Trace {
    /// The events, in order.
    pub events: Vec<TraceEvent>,
}

impl Trace {
    /// The blocks visited, in order.
    pub fn blocks(&self) -> Vec<&BlockId> {
        self.events
            .iter()
            .filter_map(|event| match event {
                TraceEvent::Block { block, .. } => Some(block),
                _ => None,
            })
            .collect()
    }

    /// The webhook steps that ran, in order.
    pub fn webhooks(&self) -> impl Iterator<Item = &WebhookTrace> {
        self.events.iter().filter_map(|event| match event {
            TraceEvent::Webhook(webhook) => Some(&**webhook),
            _ => None,
        })
    }

    /// The variable changes, in order.
    pub fn variable_changes(&self) -> impl Iterator<Item = &VariableChange> {
        self.events.iter().filter_map(|event| match event {
            TraceEvent::Variable(change) => Some(change),
            _ => None,
        })
    }
}

/// One event of a [`Trace`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TraceEvent {
    /// A block ran.
    Block {
        /// The bot it belongs to (shared with the conversation, not copied).
        bot: Arc<str>,
        /// Its id.
        block: BlockId,
        /// Its kind key (`message`, `webhook`...).
        kind: &'static str,
    },
    /// A user message was judged as an answer.
    Answer {
        /// The question or wait.
        block: BlockId,
        /// Whether it was accepted.
        valid: bool,
    },
    /// A choice picked a branch.
    Branch {
        /// The choice.
        block: BlockId,
        /// The branch taken, from 0; `None` for `else`.
        branch: Option<usize>,
        /// Where it goes.
        next: BlockId,
    },
    /// A webhook step ran (boxed: it is three times the size of any other event, and a turn
    /// has at most a few).
    Webhook(Box<WebhookTrace>),
    /// A variable changed.
    Variable(VariableChange),
    /// A jump into another bot.
    Jump {
        /// The bot it left.
        from: String,
        /// The bot it entered.
        to: String,
        /// Whether it comes back.
        returns: bool,
    },
    /// A bot ended and the conversation came back to the bot that jumped.
    Return {
        /// The bot that ended.
        from: String,
        /// The bot it came back to.
        to: String,
    },
    /// A user message that was not an answer (during a `sleep`, after a restart or an error).
    MessageNotAnswer {
        /// The block the conversation was at.
        block: BlockId,
        /// Why.
        reason: &'static str,
    },
    /// A timer fired.
    TimerFired {
        /// Its kind.
        kind: TimerKind,
        /// The block that set it.
        block: BlockId,
    },
    /// The bot's flow changed since the last turn.
    FlowChanged {
        /// The bot.
        bot: String,
        /// The block the conversation was at.
        block: BlockId,
        /// Whether it went on there (the block still exists) or restarted at the start.
        continued: bool,
    },
    /// An `end` with `restart: true` inside a bot that returns: the restart does not apply.
    RestartIgnored {
        /// The end block.
        block: BlockId,
    },
}

/// What one webhook step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookTrace {
    /// The webhook block.
    pub block: BlockId,
    /// The method sent, when the request could be built.
    pub method: Option<String>,
    /// The URL sent, secrets masked, when the request could be built.
    pub url: Option<String>,
    /// Success or failure.
    pub outcome: WebhookOutcome,
    /// How long the runner took (zero when the request could not be built).
    pub duration: Duration,
}

/// The outcome of a webhook step, as traced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// The step succeeded.
    Success {
        /// The response status.
        status: u16,
        /// The variables it stored.
        saved: Vec<String>,
    },
    /// The step failed; the error went into `variable`.
    Failure {
        /// The error type.
        kind: ErrorKind,
        /// The error message, secrets masked.
        message: String,
        /// The response status, when a response came back.
        status: Option<u16>,
        /// The failure variable.
        variable: String,
    },
}

/// A variable that changed, with its values before and after (secrets masked).
///
/// The values are shared with the conversation's variables, not copied, so tracing a change
/// costs the same for a whole webhook body as for a number. Serialized, they read as plain
/// values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableChange {
    /// The bot whose variable it is (built-ins are shared by all), shared with the conversation.
    pub bot: Arc<str>,
    /// The variable, its name shared with the conversation's variables.
    pub name: Arc<str>,
    /// Its value before (`None`: unset).
    pub old: Option<Arc<Value>>,
    /// Its value after (`None`: unset).
    pub new: Option<Arc<Value>>,
}
