//! The JSON shapes of the HTTP API: what clients send and what they get back.
//!
//! Only this module knows the wire shapes; the OpenAPI document is derived from these types.
//! Outputs are written to JSON once, when their turn ends, and stored as that text: an
//! answer replayed for a repeated message id is made of the same text, byte for byte.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use flow_runtime::{Notice, Output, RuntimeError};

/// `POST .../messages`: a user's message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    /// What the user wrote.
    pub text: String,
    /// The channel's message id: a repeated id gets the stored answer, and runs nothing.
    #[serde(default)]
    pub id: Option<String>,
    /// Values preset when this message starts the conversation (ignored otherwise).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Map<String, Value>>,
}

/// `POST /v1/bots/{bot}/conversations`: an explicit start.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// The conversation id; without one the server makes one.
    #[serde(default)]
    pub id: Option<String>,
    /// Values preset before the first block runs.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub variables: Option<serde_json::Map<String, Value>>,
}

/// What a turn answers. `outputs` holds the turn's outputs; see [`OutputDoc`].
#[derive(Debug, Serialize, ToSchema)]
pub struct TurnAnswerDoc {
    /// The bot.
    pub bot: String,
    /// The conversation id.
    pub conversation: String,
    /// `waiting`, `sleeping`, `ended` or `handed_off`.
    #[schema(example = "waiting")]
    pub status: String,
    /// What the turn produced, in order.
    pub outputs: Vec<OutputDoc>,
    /// What happened to the conversation itself (a message ignored, a restart, variables
    /// ignored...), each with its `type`.
    #[schema(value_type = Vec<Object>)]
    pub notices: Vec<Value>,
}

/// One output, as documented: a `message` (`text`, `options`), an `event` (`name`, `data`), a
/// `handoff` (`team`, `message`), or an `error` (`code`, `message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutputDoc {
    /// Its number in the conversation: 1, 2, 3... across all turns, never reused.
    pub seq: u64,
    /// `message`, `event`, `handoff` or `error`.
    #[serde(rename = "type")]
    #[schema(example = "message")]
    pub kind: String,
    /// The block that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<String>,
    /// A message's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A message's options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<String>>,
    /// An event's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An event's data.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    /// A handoff's team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// A handoff's message, or an error's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// An error's stable code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `GET .../outputs`: the outputs after a `seq`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutputsPageDoc {
    /// The conversation's status now.
    pub status: String,
    /// The outputs, oldest first.
    pub outputs: Vec<OutputDoc>,
}

/// `GET .../conversations/{conversation}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationView {
    /// The bot.
    pub bot: String,
    /// The conversation id.
    pub conversation: String,
    /// `waiting`, `sleeping`, `ended` or `handed_off`.
    pub status: String,
    /// The block the conversation waits at.
    pub block: String,
    /// The running bot's variables and the built-ins, secrets masked.
    #[schema(value_type = Object)]
    pub variables: serde_json::Map<String, Value>,
    /// The stored revision: one more with every turn.
    pub revision: u64,
    /// When it started (RFC 3339).
    pub created_at: String,
    /// When its last turn ended (RFC 3339).
    pub updated_at: String,
}

/// One bot the server runs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BotInfo {
    /// The bot id.
    pub bot: String,
    /// The content hash of its flow, in hex.
    pub hash: String,
    /// Its file, relative to the flows folder.
    pub file: String,
}

/// `GET /v1/bots` and a successful reload.
#[derive(Debug, Serialize, ToSchema)]
pub struct BotsList {
    /// The bots, in file order.
    pub bots: Vec<BotInfo>,
}

/// The body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's stable code, its message, and for a refused reload the diagnostics.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `invalid_json`, `unknown_bot`...
    pub code: &'static str,
    /// What went wrong, in words.
    pub message: String,
    /// For `invalid_flow`: each problem as `flowbot validate` prints it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<String>>,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// The JSON of one output, `seq` first. A handoff carries the text of the message its block
/// sent just before (`previous`), as the contract shows it.
pub fn output_json(seq: u64, output: &Output, previous: Option<&Output>) -> String {
    let value = match output {
        Output::Message(message) => serde_json::json!({
            "seq": seq, "type": "message", "block": message.block.as_str(),
            "text": message.text, "options": message.options,
        }),
        Output::Event(event) => serde_json::json!({
            "seq": seq, "type": "event", "block": event.block.as_str(),
            "name": event.name, "data": event.data,
        }),
        Output::Handoff(handoff) => {
            let message = match previous {
                Some(Output::Message(message)) if message.block == handoff.block => {
                    Some(message.text.as_str())
                }
                _ => None,
            };
            let mut value = serde_json::json!({
                "seq": seq, "type": "handoff", "block": handoff.block.as_str(),
                "team": handoff.team,
            });
            if let Some(message) = message {
                value["message"] = Value::String(message.to_owned());
            }
            value
        }
        Output::Error(error) => serde_json::json!({
            "seq": seq, "type": "error", "code": error_code(error), "message": error.to_string(),
        }),
    };
    value.to_string()
}

/// The stable code of a runtime error, as its serde tag gives it.
fn error_code(error: &RuntimeError) -> String {
    serde_json::to_value(error)
        .ok()
        .and_then(|value| value.get("code").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "runtime_error".to_owned())
}

/// A notice of the server's own: `variables` came with a message that did not start the
/// conversation, so they were not used.
pub fn variables_ignored() -> Value {
    serde_json::json!({"type": "variables_ignored", "reason": "the conversation was already running"})
}

/// The JSON of a runtime notice.
pub fn notice_json(notice: &Notice) -> Value {
    serde_json::to_value(notice).unwrap_or(Value::Null)
}

/// The body of a turn's answer, written around the outputs' stored JSON so that a replay gives
/// the same bytes.
pub fn turn_answer(
    bot: &str,
    conversation: &str,
    status: &str,
    outputs: &[String],
    notices: &str,
) -> String {
    let mut body = delivery_fields(bot, conversation, status, outputs);
    body.push_str(",\"notices\":");
    body.push_str(notices);
    body.push('}');
    body
}

/// The body POSTed to the outbound URL for a turn no request asked for.
pub fn delivery(bot: &str, conversation: &str, status: &str, outputs: &[String]) -> String {
    let mut body = delivery_fields(bot, conversation, status, outputs);
    body.push('}');
    body
}

/// `{"bot":…,"conversation":…,"status":…,"outputs":[…]`, the object left open.
fn delivery_fields(bot: &str, conversation: &str, status: &str, outputs: &[String]) -> String {
    let mut body = String::with_capacity(96 + outputs.iter().map(String::len).sum::<usize>());
    body.push_str("{\"bot\":");
    body.push_str(&Value::from(bot).to_string());
    body.push_str(",\"conversation\":");
    body.push_str(&Value::from(conversation).to_string());
    body.push_str(",\"status\":");
    body.push_str(&Value::from(status).to_string());
    body.push_str(",\"outputs\":");
    push_list(&mut body, outputs);
    body
}

/// The body of the outputs endpoint.
pub fn outputs_page(status: &str, outputs: &[String]) -> String {
    let mut body = String::from("{\"status\":");
    body.push_str(&Value::from(status).to_string());
    body.push_str(",\"outputs\":");
    push_list(&mut body, outputs);
    body.push('}');
    body
}

fn push_list(body: &mut String, items: &[String]) {
    body.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push(']');
}

/// Milliseconds since the Unix epoch as RFC 3339 UTC (`2026-12-03T16:33:28.123Z`).
pub fn rfc3339(millis: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis.max(0) as u64);
    humantime::format_rfc3339_millis(time).to_string()
}
