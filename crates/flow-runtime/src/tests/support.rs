//! Helpers shared by the tests: loading flows, driving a conversation, printing turns.

use std::fmt::Write;
use std::sync::Arc;

use flow_core::flow::Flow;
use flow_core::{Diagnostic, FlowErrors, LoadedFile, Project};
use serde_json::Value;

use crate::{Conversation, ConversationId, Executor, Output, StartOptions, Turn, WebhookRunner};

/// The example shop bot of `flows/shop.yaml`.
pub(crate) const SHOP: &str = include_str!("../../../../flows/shop.yaml");
/// The example lead bot of `flows/lead_capture.yaml`.
pub(crate) const LEAD_CAPTURE: &str = include_str!("../../../../flows/lead_capture.yaml");
/// The example order bot of `flows/order_status.yaml`.
pub(crate) const ORDER_STATUS: &str = include_str!("../../../../flows/order_status.yaml");
/// The example support bot of `flows/support.yaml`, which jumps into `faq`.
pub(crate) const SUPPORT: &str = include_str!("../../../../flows/support.yaml");
/// The example faq bot of `flows/faq.yaml`.
pub(crate) const FAQ: &str = include_str!("../../../../flows/faq.yaml");

/// Loads `source`, failing the test with the diagnostics if it has errors.
pub(crate) fn flow(source: &str) -> Flow {
    flow_core::load(source)
        .into_flow()
        .unwrap_or_else(|errors| panic!("flow does not load:\n{errors}"))
}

/// A project of the bots in `sources`.
pub(crate) fn project(sources: &[&str]) -> Arc<Project> {
    let files = sources
        .iter()
        .enumerate()
        .map(|(index, source)| LoadedFile {
            file: format!("bot{index}.yaml"),
            loaded: flow_core::load(source),
        })
        .collect();
    let (project, diagnostics) = flow_core::link(files);
    let errors: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    assert!(
        errors.is_empty(),
        "project does not link:\n{}",
        FlowErrors(errors)
    );
    Arc::new(project)
}

/// One conversation driven by a test: each call runs a turn and returns it printed.
pub(crate) struct Chat<'e, R> {
    pub(crate) executor: &'e Executor<R>,
    pub(crate) conversation: Conversation,
}

impl<'e, R: WebhookRunner> Chat<'e, R> {
    /// Starts a conversation of `bot`; returns the chat and the first turn printed.
    pub(crate) async fn start(executor: &'e Executor<R>, bot: &str) -> (Chat<'e, R>, String) {
        Chat::start_with(executor, bot, StartOptions::default()).await
    }

    /// Starts a conversation of `bot` with `options`.
    pub(crate) async fn start_with(
        executor: &'e Executor<R>,
        bot: &str,
        options: StartOptions,
    ) -> (Chat<'e, R>, String) {
        let (conversation, turn) = executor
            .start(ConversationId::new("test"), bot, options)
            .await
            .expect("the conversation starts");
        (
            Chat {
                executor,
                conversation,
            },
            print(&turn),
        )
    }

    /// The user says `text`; the turn printed.
    pub(crate) async fn say(&mut self, text: &str) -> String {
        print(&self.say_turn(text).await)
    }

    /// The user says `text`; the turn.
    pub(crate) async fn say_turn(&mut self, text: &str) -> Turn {
        self.executor
            .deliver(&mut self.conversation, text)
            .await
            .expect("the message is delivered")
    }

    /// The pending timer fires; the turn printed.
    pub(crate) async fn fire(&mut self) -> String {
        let turn = self
            .executor
            .fire_timer(&mut self.conversation)
            .await
            .expect("the timer fires");
        print(&turn)
    }

    /// A variable as the bot sees it (`null` when unset).
    pub(crate) fn var(&self, name: &str) -> Value {
        self.conversation.variable(name).unwrap_or(Value::Null)
    }
}

/// A turn as lines: messages (with options), events, hand-offs, errors, notices, then the status
/// and the pending timer.
pub(crate) fn print(turn: &Turn) -> String {
    let mut out = String::new();
    for output in &turn.outputs {
        match output {
            Output::Message(message) if message.options.is_empty() => {
                writeln!(out, "bot: {}", message.text)
            }
            Output::Message(message) => {
                writeln!(
                    out,
                    "bot: {} [{}]",
                    message.text,
                    message.options.join(" | ")
                )
            }
            Output::Event(event) => writeln!(out, "event: {} {}", event.name, event.data),
            Output::Handoff(handoff) => {
                writeln!(out, "handoff: {}", handoff.team.as_deref().unwrap_or("-"))
            }
            Output::Error(error) => writeln!(out, "error: {error}"),
        }
        .unwrap();
    }
    for notice in &turn.notices {
        writeln!(out, "notice: {}", serde_json::to_string(notice).unwrap()).unwrap();
    }
    write!(out, "({}", turn.status).unwrap();
    if let Some(timer) = &turn.timer {
        write!(out, ", timer {:?} in {:?}", timer.kind, timer.due_in).unwrap();
    }
    out.push(')');
    out
}
