//! The conversation executor of flowbot: runs bots, one block after the other, for many
//! conversations at once.
//!
//! An [`Executor`] runs the bots of a [`flow_core::Project`]. Each turn (a conversation's start,
//! a user message, a due timer) runs blocks until the bot must wait for the user, and returns a
//! [`Turn`]: the messages and events for the user and the host, the status, the pending timer,
//! and a trace of what ran. Webhook steps are answered by a [`WebhookRunner`]: real HTTP
//! ([`HttpRunner`]), scripted outcomes ([`ScriptedRunner`]), or the simulator's chooser.
//! [`Sessions`] keeps each conversation's turns sequential over a [`ConversationStore`].
//!
//! # Rules where the flow format is silent
//!
//! - Answers are trimmed before they are checked and stored; `last user answer` keeps the
//!   message as sent, invalid answers included, so a `retry` text can quote it. An option
//!   matched by its text wins over `expect`; an option's number only counts with
//!   `expect: option`. An option question with nothing to offer accepts any non-blank answer.
//! - Each wait arms a new timer (an invalid answer re-arms the question's), with a new id, so a
//!   stale timer never fires ([`Sessions::fire_timer`] checks the id).
//! - A declared type converts what it can: a number or list stored in a `text` variable becomes
//!   its text, numeric text in a `number` variable a number, `"true"` in a `boolean` one `true`.
//!   A `set` that does not fit the type, or an arithmetic on something that is not a number, or
//!   a division by zero, leaves the variable unchanged and adds an error output; an unset
//!   variable counts as `0`, `""` or `[]` for the operations. `remove` takes out the items equal
//!   by the condition rules (ignoring case).
//! - `jump`: the other bot gets its own variables (its defaults and the `with` values); the
//!   built-ins `last user answer`, `last webhook success` and `last webhook failure` belong to
//!   the conversation and are shared by all its bots, and `bot` names the bot running now. An
//!   `end` inside a bot that returns goes back to the bot that jumped (a `restart` there is
//!   ignored); `handoff` hands off the whole conversation. Without `return`, an `end` with
//!   `restart` starts over the bot the conversation now belongs to. At most 16 returning bots
//!   nest (see [`Limits`]).
//! - A turn that cannot go on (block limit, runner without an outcome, jump to an unknown bot)
//!   ends with a [`RuntimeError`] output and leaves the conversation waiting at the block that
//!   would run next; the next message is not an answer, it resumes from there.
//! - When a bot's flow changed and the block a conversation waits at is gone, the conversation
//!   restarts at the start with its variables reset to the declared defaults, and the message
//!   is not an answer. A returning bot whose `jump` block is gone goes on at its start.
//! - An `end` with `restart` resets the built-ins too, and the message that starts the bot over
//!   is not stored as `last user answer`.
//! - Presets ([`StartOptions::variables`]) take their variable's declared type as a `set` gives
//!   it; one that cannot, or one of `bot` or `conversation id`, fails the start
//!   ([`RunError::Preset`]). Names the bot never uses are taken: a host may give every bot the
//!   same context.
//! - A turn through [`Sessions`] runs to its end and is saved even when its caller stops waiting
//!   for it (a server drops a request's future when the client goes away): the rest of the turn
//!   goes on as a task of the current tokio runtime, so a webhook it sent is not sent again by
//!   the next message. The caller just does not see that turn's outputs.
//!
//! ```
//! use flow_runtime::{ConversationId, Executor, ScriptedRunner, StartOptions, Status};
//!
//! # tokio_test_block_on(async {
//! let source = "bot: hello\nblocks:\n  ask:\n    question: What's your name?\n    save_to: name\n    next: bye\n  bye:\n    end: \"Bye {{name}}!\"\n";
//! let flow = flow_core::load(source).flow.unwrap();
//! let executor = Executor::single(flow, ScriptedRunner::new());
//! let id = ConversationId::new("c1");
//! let (mut conversation, turn) = executor.start(id, "hello", StartOptions::default()).await.unwrap();
//! assert_eq!(turn.texts(), ["What's your name?"]);
//! let turn = executor.deliver(&mut conversation, "Ada").await.unwrap();
//! assert_eq!(turn.texts(), ["Bye Ada!"]);
//! assert_eq!(turn.status, Status::Ended);
//! # });
//! # fn tokio_test_block_on(future: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
//! # }
//! ```

mod answers;
mod blocks;
mod conditions;
mod conversation;
mod error;
mod executor;
mod locks;
mod runner;
mod sessions;
mod store;
mod turn;
mod values;

#[cfg(test)]
mod tests;

pub use conversation::{
    Conversation, ConversationId, Frame, PendingTimer, Status, TimerKind, Variables,
};
pub use error::{RunError, RuntimeError};
pub use executor::{Executor, Limits, StartOptions};
pub use locks::{TurnGuard, TurnLocks};
pub use runner::{
    HttpRunner, RunOutcome, RunnerError, Scripted, ScriptedRunner, WebhookCall, WebhookResponse,
    WebhookRunner,
};
pub use sessions::{SessionError, Sessions};
pub use store::{ConversationStore, MemoryStore, StoreError};
pub use turn::{
    BotMessage, Event, Handoff, Notice, Output, Trace, TraceEvent, Turn, VariableChange,
    WebhookOutcome, WebhookTrace,
};
