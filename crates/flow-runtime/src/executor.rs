//! The executor: runs a conversation's blocks one after the other until the bot must wait.
//!
//! A turn starts with a new conversation ([`Executor::start`]), a user message
//! ([`Executor::deliver`]) or a due timer ([`Executor::fire_timer`]), and runs blocks until one
//! waits for the user (a question, a wait, a sleep), ends, or hands off. The executor never
//! sleeps and never holds a lock: a conversation is `&mut` data, so turns of different
//! conversations run concurrently, and [`crate::Sessions`] keeps each one's turns sequential.

use std::borrow::Cow;
use std::sync::Arc;

use flow_core::flow::{Block, BlockId, BlockKind, Flow, LAST_USER_ANSWER, SET_BY_FLOWBOT};
use flow_core::{LoadedFile, Project};
use flow_http::Secrets;
use serde_json::Value;
use tracing::Instrument;

use crate::blocks::{self, Step};
use crate::conversation::{Conversation, ConversationId, Status, TimerKind};
use crate::error::{RunError, RuntimeError};
use crate::runner::WebhookRunner;
use crate::turn::{Notice, TraceEvent, Turn, VariableChange};
use crate::values;

#[cfg(test)]
mod tests;

/// Limits that keep one turn or one conversation from running away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most blocks one turn runs without waiting for the user (default 1,000).
    pub max_blocks_per_turn: usize,
    /// The most bots with `return: true` nested in one another (default 16).
    pub max_jump_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_blocks_per_turn: 1_000,
            max_jump_depth: 16,
        }
    }
}

/// How a new conversation starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StartOptions {
    /// Start at this block instead of the bot's start block.
    pub block: Option<BlockId>,
    /// Values given to variables before the first block runs.
    pub variables: Vec<(String, Value)>,
}

/// Runs the bots of one project, answering webhook steps with a [`WebhookRunner`].
#[derive(Debug)]
pub struct Executor<R> {
    project: Arc<Project>,
    runner: R,
    secrets: Arc<Secrets>,
    limits: Limits,
}

impl<R: WebhookRunner> Executor<R> {
    /// An executor of the bots of `project`, with no secrets and the default limits.
    pub fn new(project: Arc<Project>, runner: R) -> Executor<R> {
        Executor {
            project,
            runner,
            secrets: Arc::new(Secrets::new()),
            limits: Limits::default(),
        }
    }

    /// An executor of one bot (a project of just `flow`).
    pub fn single(flow: Flow, runner: R) -> Executor<R> {
        let file = LoadedFile {
            file: flow.id().to_owned(),
            loaded: flow_core::Loaded {
                flow: Some(flow),
                diagnostics: Vec::new(),
            },
        };
        let (project, _) = flow_core::link(vec![file]);
        Executor::new(Arc::new(project), runner)
    }

    /// The same executor, inserting `secrets` into webhook requests and masking them in traces.
    pub fn with_secrets(mut self, secrets: Arc<Secrets>) -> Executor<R> {
        self.secrets = secrets;
        self
    }

    /// The same executor, with `limits`.
    pub fn with_limits(mut self, limits: Limits) -> Executor<R> {
        self.limits = limits;
        self
    }

    /// The bots it runs.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// The runner answering webhook steps.
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// Starts a conversation of `bot` and runs its first turn.
    pub async fn start(
        &self,
        id: ConversationId,
        bot: &str,
        options: StartOptions,
    ) -> Result<(Conversation, Turn), RunError> {
        let flow = self.flow(bot)?;
        let block = options.block.unwrap_or_else(|| flow.start().clone());
        if flow.block(block.as_str()).is_none() {
            return Err(RunError::UnknownBlock {
                bot: bot.to_owned(),
                block,
            });
        }
        let presets = options
            .variables
            .into_iter()
            .map(|(name, value)| {
                let value = checked_preset(flow, &name, value)?;
                Ok((name, value))
            })
            .collect::<Result<Vec<_>, RunError>>()?;
        let mut conversation = Conversation::new(id, flow, block);
        for (name, value) in presets {
            conversation.preset(&name, value);
        }
        let span = self.turn_span(&conversation, "start");
        let turn = async {
            conversation.begin_turn();
            let mut turn = Turn::new(conversation.status());
            self.run(&mut conversation, &mut turn).await;
            finish(&conversation, turn)
        }
        .instrument(span)
        .await;
        Ok((conversation, turn))
    }

    /// Delivers a user message to `conversation` and runs the turn it starts.
    ///
    /// The message answers the question or wait the conversation is at. It is not an answer,
    /// and only recorded in the trace, during a `sleep`, after an `end` with `restart` (it
    /// starts the bot over), or when the bot's flow changed and its block is gone (it restarts).
    /// An ended conversation without restart, or a handed-off one, ignores it (a notice says so).
    pub async fn deliver(
        &self,
        conversation: &mut Conversation,
        text: &str,
    ) -> Result<Turn, RunError> {
        let flow = self.flow(conversation.bot())?;
        let span = self.turn_span(conversation, "message");
        async {
            tracing::debug!(text = %self.secrets.redact(text), "user message");
            conversation.begin_turn();
            let mut turn = Turn::new(conversation.status());
            self.receive(flow, conversation, &mut turn, text).await;
            Ok(finish(conversation, turn))
        }
        .instrument(span)
        .await
    }

    /// Fires the conversation's pending timer: a `sleep` goes on, a `question` or `wait` goes to
    /// its `on_timeout`. Without a pending timer nothing runs and a notice says so.
    pub async fn fire_timer(&self, conversation: &mut Conversation) -> Result<Turn, RunError> {
        let flow = self.flow(conversation.bot())?;
        let span = self.turn_span(conversation, "timer");
        async {
            conversation.begin_turn();
            let mut turn = Turn::new(conversation.status());
            self.timeout(flow, conversation, &mut turn).await;
            Ok(finish(conversation, turn))
        }
        .instrument(span)
        .await
    }

    fn flow(&self, bot: &str) -> Result<&Flow, RunError> {
        self.project
            .flow(bot)
            .ok_or_else(|| RunError::UnknownBot(bot.to_owned()))
    }

    fn turn_span(&self, conversation: &Conversation, entry: &'static str) -> tracing::Span {
        tracing::info_span!(
            "turn",
            flow_id = %conversation.bot(),
            session_id = %conversation.id(),
            turn = conversation.turns() + 1,
            entry,
        )
    }

    async fn receive(
        &self,
        flow: &Flow,
        conversation: &mut Conversation,
        turn: &mut Turn,
        text: &str,
    ) {
        match conversation.status() {
            Status::Ended if conversation.restart_pending() => {
                turn.notices.push(Notice::Restarted);
                not_an_answer(conversation, turn, "the bot starts over after a restart");
                conversation.set_restart_pending(false);
                conversation.set_cursor(flow.start().clone());
                conversation.set_status(Status::Waiting);
                self.run(conversation, turn).await;
            }
            Status::Ended | Status::HandedOff => {
                let status = conversation.status();
                turn.notices.push(Notice::MessageIgnored { status });
                not_an_answer(conversation, turn, "the conversation is over");
            }
            Status::Sleeping => not_an_answer(conversation, turn, "the bot is sleeping"),
            Status::Waiting => {
                if !reconcile(flow, conversation, turn) {
                    not_an_answer(conversation, turn, "the bot restarted: its flow changed");
                    self.run(conversation, turn).await;
                    return;
                }
                if self.answer(flow, conversation, turn, text) {
                    self.run(conversation, turn).await;
                }
            }
        }
    }

    /// Hands `text` to the block the conversation waits at; true when the bot goes on.
    fn answer(
        &self,
        flow: &Flow,
        conversation: &mut Conversation,
        turn: &mut Turn,
        text: &str,
    ) -> bool {
        let Some(block) = flow.block(conversation.cursor().as_str()) else {
            return true;
        };
        let mut run = self.context(conversation, turn);
        let step = match &block.kind {
            BlockKind::Question(question) => {
                run.set_variable(LAST_USER_ANSWER, Value::String(text.to_owned()));
                blocks::question::answer(&mut run, flow, &block.id, question, text)
            }
            BlockKind::Wait(wait) => {
                run.set_variable(LAST_USER_ANSWER, Value::String(text.to_owned()));
                blocks::wait_answer(&mut run, flow, &block.id, wait, text)
            }
            // The conversation stopped at a block that does not wait (after an error, or its
            // flow changed): the message wakes it up and it goes on from there.
            _ => {
                not_an_answer(
                    run.conversation,
                    run.turn,
                    "the bot was not waiting for an answer",
                );
                return true;
            }
        };
        match step {
            Step::Goto(next) => {
                conversation.set_cursor(next);
                true
            }
            Step::Stop => false,
        }
    }

    async fn timeout(&self, flow: &Flow, conversation: &mut Conversation, turn: &mut Turn) {
        let timer = conversation.take_timer();
        let Some(timer) = timer.filter(|timer| &timer.block == conversation.cursor()) else {
            turn.notices.push(Notice::NoTimer);
            return;
        };
        turn.trace(TraceEvent::TimerFired {
            kind: timer.kind,
            block: timer.block.clone(),
        });
        if !reconcile(flow, conversation, turn) {
            self.run(conversation, turn).await;
            return;
        }
        let next = flow
            .block(conversation.cursor().as_str())
            .and_then(|block| match (timer.kind, &block.kind) {
                (TimerKind::Sleep, BlockKind::Sleep(sleep)) => Some(sleep.next.clone()),
                (TimerKind::QuestionTimeout, BlockKind::Question(question)) => {
                    question.on_timeout.clone()
                }
                (TimerKind::WaitTimeout, BlockKind::Wait(wait)) => {
                    Some(wait.on_timeout.clone().unwrap_or_else(|| wait.next.clone()))
                }
                _ => None,
            });
        let Some(next) = next else {
            // The block changed kind since the timer was set: nothing to time out any more.
            turn.notices.push(Notice::NoTimer);
            return;
        };
        conversation.set_cursor(next);
        conversation.set_status(Status::Waiting);
        self.run(conversation, turn).await;
    }

    /// Runs blocks from the cursor until one stops the turn.
    async fn run(&self, conversation: &mut Conversation, turn: &mut Turn) {
        conversation.take_timer();
        conversation.set_status(Status::Waiting);
        let mut blocks_run = 0;
        // The bot only changes at a jump: its flow is looked up again only then.
        let mut current: Option<&Flow> = None;
        loop {
            let cached = current.filter(|flow| flow.id() == conversation.bot());
            let Some(flow) = cached.or_else(|| self.project.flow(conversation.bot())) else {
                turn.error(RuntimeError::MissingBlock {
                    bot: conversation.bot().to_owned(),
                    block: conversation.cursor().clone(),
                });
                return;
            };
            current = Some(flow);
            let Some(block) = flow.block(conversation.cursor().as_str()) else {
                turn.error(RuntimeError::MissingBlock {
                    bot: flow.id().to_owned(),
                    block: conversation.cursor().clone(),
                });
                return;
            };
            if blocks_run == self.limits.max_blocks_per_turn {
                turn.error(RuntimeError::BlockLimit {
                    limit: self.limits.max_blocks_per_turn,
                    block: block.id.clone(),
                });
                return;
            }
            blocks_run += 1;
            turn.trace(TraceEvent::Block {
                bot: conversation.bot_shared().clone(),
                block: block.id.clone(),
                kind: block.kind.name(),
            });
            match self.run_block(flow, block, conversation, turn).await {
                Step::Goto(next) => conversation.set_cursor(next),
                Step::Stop => return,
            }
        }
    }

    async fn run_block(
        &self,
        flow: &Flow,
        block: &Block,
        conversation: &mut Conversation,
        turn: &mut Turn,
    ) -> Step {
        let mut run = self.context(conversation, turn);
        let id = &block.id;
        match &block.kind {
            BlockKind::Message(message) => blocks::message(&mut run, id, message),
            BlockKind::Question(question) => blocks::question::ask(&mut run, id, question),
            BlockKind::Wait(wait) => blocks::wait(&mut run, wait),
            BlockKind::Choice(choice) => blocks::choice(&mut run, id, choice),
            BlockKind::Webhook(webhook) => {
                blocks::webhook::run(&mut run, &self.runner, flow, id, webhook).await
            }
            BlockKind::Set(set) => blocks::set::run(&mut run, flow, id, set),
            BlockKind::Jump(jump) => {
                blocks::jump::enter(&mut run, &self.project, self.limits, id, jump)
            }
            BlockKind::Sleep(sleep) => blocks::sleep(&mut run, sleep),
            BlockKind::Event(event) => blocks::event(&mut run, id, event),
            BlockKind::Handoff(handoff) => blocks::handoff(&mut run, id, handoff),
            BlockKind::End(end) => blocks::end(&mut run, &self.project, flow, id, end),
        }
    }

    fn context<'a>(&'a self, conversation: &'a mut Conversation, turn: &'a mut Turn) -> Run<'a> {
        Run {
            conversation,
            turn,
            secrets: &self.secrets,
        }
    }
}

/// What a block works on during a turn: the conversation, the turn being built, the secrets.
pub(crate) struct Run<'a> {
    pub(crate) conversation: &'a mut Conversation,
    pub(crate) turn: &'a mut Turn,
    pub(crate) secrets: &'a Secrets,
}

impl Run<'_> {
    /// Stores `value` in `name` (a `null` unsets it), tracing the change.
    pub(crate) fn set_variable(&mut self, name: &str, value: Value) {
        let new = (!value.is_null()).then(|| Arc::new(value));
        let (key, old) = self.conversation.store(name, new.clone());
        if old == new {
            return;
        }
        let mask = |value: Option<Arc<Value>>| value.map(|value| self.redact_shared(value));
        let change = VariableChange {
            bot: self.conversation.bot_shared().clone(),
            name: key.unwrap_or_else(|| Arc::from(name)),
            old: mask(old),
            new: mask(new),
        };
        self.turn.trace(TraceEvent::Variable(change));
    }

    /// A variable as templates see it.
    pub(crate) fn variable(&self, name: &str) -> Option<Value> {
        self.conversation.variable(name)
    }

    /// A variable as templates see it, borrowed: what a template's lookup gives.
    pub(crate) fn lookup(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.conversation.lookup(name)
    }

    /// `value` with the secrets masked: the same value, shared, when there are no secrets.
    pub(crate) fn redact_shared(&self, value: Arc<Value>) -> Arc<Value> {
        if self.secrets.is_empty() {
            value
        } else {
            Arc::new(self.secrets.redact_json(&value))
        }
    }
}

fn finish(conversation: &Conversation, mut turn: Turn) -> Turn {
    turn.status = conversation.status();
    turn.timer = conversation.timer().cloned();
    tracing::info!(
        status = %turn.status,
        outputs = turn.outputs.len(),
        errors = turn.errors().count(),
        "turn done"
    );
    turn
}

fn not_an_answer(conversation: &Conversation, turn: &mut Turn, reason: &'static str) {
    turn.trace(TraceEvent::MessageNotAnswer {
        block: conversation.cursor().clone(),
        reason,
    });
}

/// Brings a conversation up to date with its bot's flow, which may have changed since the last
/// turn. False when its block is gone and it restarted at the start.
fn reconcile(flow: &Flow, conversation: &mut Conversation, turn: &mut Turn) -> bool {
    if conversation.flow_hash() == flow.content_hash() {
        return true;
    }
    let cursor = conversation.cursor().clone();
    let continued = flow.block(cursor.as_str()).is_some();
    turn.trace(TraceEvent::FlowChanged {
        bot: flow.id().to_owned(),
        block: cursor.clone(),
        continued,
    });
    conversation.set_flow_hash(flow.content_hash());
    if !continued {
        turn.notices.push(Notice::FlowChanged {
            bot: flow.id().to_owned(),
            missing_block: cursor,
        });
        conversation.reset(flow);
        conversation.set_cursor(flow.start().clone());
    }
    continued
}

/// A preset value converted to its variable's declared type as a `set` would convert it (`"42"`
/// for a number), or why it cannot be preset: the value does not fit, or the variable is one
/// flowbot sets itself (`bot`, `conversation id`).
fn checked_preset(flow: &Flow, name: &str, value: Value) -> Result<Value, RunError> {
    let refuse = |reason: String| RunError::Preset {
        bot: flow.id().to_owned(),
        variable: name.to_owned(),
        reason,
    };
    if SET_BY_FLOWBOT.contains(&name) {
        return Err(refuse("flowbot sets it for every conversation".to_owned()));
    }
    let declared = flow.variables().get(name).and_then(|decl| decl.var_type);
    values::convert(value, declared).map_err(|value| {
        let shown = flow_http::truncate_chars(&value.to_string(), 60);
        let declared = declared.map_or("", |declared| declared.name());
        refuse(format!(
            "{shown} is {}, and `{name}` is a {declared} variable",
            values::kind_name(&value)
        ))
    })
}
