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
mod pending_http;
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
