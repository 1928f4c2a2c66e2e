//! `flowbot chat`: talk to a bot while building it, in a terminal or through a pipe (S18).
//!
//! On a terminal the bot's messages are styled, options are numbered, input comes from a line
//! editor with history, and each webhook step pauses to ask what comes back ([`chooser`]). When
//! stdin is not a terminal, user messages are read line by line and a plain transcript is
//! printed, so a conversation can be scripted. Lines starting with `/` are commands
//! ([`commands`]); `--record` writes the conversation as a conversation test ([`record`]).
//! `--web` serves the same session as a page in the browser ([`web`]).

mod chooser;
mod commands;
mod pipe;
mod record;
mod terminal;
mod web;

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use flow_core::flow::BlockId;
use flow_core::Project;
use flow_http::{Client, ClientConfig, Secrets};
use flow_runtime::{
    Conversation, ConversationId, Executor, HttpRunner, Output, StartOptions, Status, TraceEvent,
    Turn, WebhookTrace,
};
use serde_json::Value;

use chooser::Chooser;
pub(crate) use chooser::WebhookMode;
use commands::Command;
pub(crate) use commands::{parse_vars, short_json};
pub(crate) use record::outcome_value as outcome_yaml;
use record::Recorder;

/// Options of `flowbot chat`.
#[derive(clap::Args)]
pub struct Args {
    /// The flow file; the other flows of its folder are the bots it may jump to.
    file: PathBuf,
    /// How webhook steps are answered: ask each time (default on a terminal), send them for
    /// real (default otherwise), or fake a success or a failure every time.
    #[arg(long, value_enum)]
    webhooks: Option<WebhookMode>,
    /// Give a variable a value before the conversation starts; VALUE is read as JSON when it
    /// parses (42, [1, 2], true), else as text. Repeatable.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Start at this block instead of the bot's start block.
    #[arg(long, value_name = "BLOCK")]
    start: Option<String>,
    /// When the session ends, add the conversation as a case to this conversation test file.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// A file of `NAME=value` lines for `{{secret.NAME}}` (FLOWBOT_SECRET_NAME variables win).
    #[arg(long, value_name = "FILE")]
    secrets: Option<PathBuf>,
    /// Serve the simulator as a web page on a loopback address instead (its "save as test"
    /// replaces --record, and each webhook step asks on the page).
    #[arg(long, conflicts_with_all = ["webhooks", "record"])]
    web: bool,
    /// With --web: the loopback address to listen on [default: 127.0.0.1:8090]; port 0 picks
    /// a free one.
    #[arg(long, value_name = "ADDR", requires = "web")]
    listen: Option<std::net::SocketAddr>,
}

/// Runs the simulator until the user quits or stdin ends.
pub async fn run(args: Args) -> Result<ExitCode> {
    let (project, bot) = load_project(&args.file)?;
    let flow = project
        .flow(&bot)
        .context("the flow is not in its project")?;
    let presets = commands::parse_vars(&args.vars, flow)?;
    let start = match &args.start {
        Some(block) => Some(commands::known_block(flow, block)?),
        None => None,
    };
    let secrets =
        Arc::new(Secrets::load(args.secrets.as_deref()).context("loading the secrets of the bot")?);
    if args.web {
        return web::run(web::Setup {
            project,
            bot,
            file: args.file,
            presets,
            start,
            secrets,
            listen: args.listen.unwrap_or(web::DEFAULT_LISTEN),
        })
        .await;
    }
    let interactive = io::stdin().is_terminal();
    let mode = args.webhooks.unwrap_or(if interactive {
        WebhookMode::Ask
    } else {
        WebhookMode::Real
    });
    let console = Arc::new(if interactive {
        terminal::console()?
    } else {
        pipe::console()
    });
    let client = Client::new(ClientConfig::default())?.with_secrets(secrets.clone());
    let chooser = Chooser::new(
        mode,
        HttpRunner::new(client),
        console.clone(),
        secrets.clone(),
    );
    let executor = Executor::new(project, chooser).with_secrets(secrets.clone());
    let recorder = match &args.record {
        Some(path) => Some(Recorder::new(path, &args.file, secrets.clone())?),
        None => None,
    };
    console
        .screen
        .banner(&bot, &args.file, mode, args.record.as_deref());
    let mut session = Session {
        executor,
        screen: console.screen.clone(),
        secrets,
        bot,
        presets,
        start,
        state: None,
        n_conversations: 0,
        recorder,
    };
    session.chat(&console).await
}

/// Loads the flow at `path` with the flows of its folder (the bots it may jump to), and returns
/// the project and the id of the bot at `path`. Errors in the file itself stop here; a broken
/// sibling is only left out.
pub(crate) fn load_project(path: &Path) -> Result<(Arc<Project>, String)> {
    let flow = crate::files::load_flow(path)?;
    let bot = flow.id().to_owned();
    let mut files = vec![flow_core::LoadedFile {
        file: path.display().to_string(),
        loaded: flow_core::Loaded {
            flow: Some(flow),
            diagnostics: Vec::new(),
        },
    }];
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    for sibling in crate::files::yaml_files_in_folder_only(folder)? {
        if sibling.canonicalize().ok() == path.canonicalize().ok() {
            continue;
        }
        let loaded = crate::files::load(&sibling)?;
        // Another file of the folder with the same bot id would shadow this one.
        if loaded
            .loaded
            .flow
            .as_ref()
            .is_some_and(|flow| flow.id() != bot)
        {
            files.push(loaded);
        }
    }
    let (project, _) = flow_core::link(files);
    Ok((Arc::new(project), bot))
}

/// What lines come from: a line editor on a terminal, stdin otherwise.
pub(crate) trait LineSource: Send {
    /// The next line, without its line break.
    fn read(&mut self, prompt: &str) -> io::Result<ReadLine>;
}

/// One read from a [`LineSource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReadLine {
    /// A line.
    Line(String),
    /// Ctrl-C on a terminal: drop what was typed.
    Interrupted,
    /// Ctrl-D on a terminal, or the end of stdin.
    Eof,
}

/// How the session shows things: styled for a terminal, a plain transcript for a pipe.
pub(crate) trait Screen: Send + Sync {
    /// The first lines of a session (nothing in a transcript).
    fn banner(&self, bot: &str, file: &Path, mode: WebhookMode, record: Option<&Path>);
    /// The prompt for the user's messages (none in a transcript: messages are echoed).
    fn prompt(&self) -> &'static str;
    /// A bot message and the options it offers.
    fn bot(&self, text: &str, options: &[String]);
    /// A message the user sent: `typed`, which sent `sent` (an option picked by its number).
    fn user(&self, typed: &str, sent: &str);
    /// An event handed to the host.
    fn event(&self, name: &str, data: &Value);
    /// A hand-off to a human.
    fn handoff(&self, team: Option<&str>);
    /// A webhook step that ran.
    fn webhook(&self, trace: &WebhookTrace);
    /// Something that went wrong.
    fn error(&self, text: &str);
    /// A remark of the simulator: a status change, a hint.
    fn note(&self, text: &str);
    /// Lines shown as they are: command output, the webhook menu.
    fn lines(&self, text: &str);
}

/// The screen and the line source, shared by the session and the webhook chooser.
pub(crate) struct Console {
    pub(crate) screen: Arc<dyn Screen>,
    input: Mutex<Box<dyn LineSource>>,
}

impl Console {
    pub(crate) fn new(screen: Box<dyn Screen>, input: Box<dyn LineSource>) -> Console {
        Console {
            screen: Arc::from(screen),
            input: Mutex::new(input),
        }
    }

    /// Reads a line; a read error ends the session like the end of input.
    pub(crate) fn read(&self, prompt: &str) -> ReadLine {
        // A panic while reading cannot leave the source half-updated, so a poisoned lock is fine.
        let mut input = self
            .input
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        input.read(prompt).unwrap_or(ReadLine::Eof)
    }
}

/// The conversation going on, and what its last turn did.
struct Running {
    conversation: Conversation,
    last_turn: Option<Turn>,
    /// The options of the last bot message, so that a number picks one.
    options: Vec<String>,
    /// The status and timer already told, so that they are told once.
    told: (Status, Option<u64>),
}

/// What answers a session's webhook steps: the terminal's [`Chooser`] or the web simulator's
/// runner.
pub(crate) trait SimRunner: flow_runtime::WebhookRunner {
    /// The outcomes given since the last call, in order, for the recording.
    fn take_used(&self) -> Vec<chooser::Used>;
}

/// One simulator session: possibly several conversations (after `/restart` or `/goto`).
pub(crate) struct Session<R: SimRunner> {
    executor: Executor<R>,
    screen: Arc<dyn Screen>,
    secrets: Arc<Secrets>,
    /// The bot of the file given.
    bot: String,
    presets: Vec<(String, Value)>,
    start: Option<BlockId>,
    state: Option<Running>,
    n_conversations: u32,
    recorder: Option<Recorder>,
}

impl Session<Chooser> {
    async fn chat(&mut self, console: &Console) -> Result<ExitCode> {
        self.begin().await?;
        loop {
            if self.executor.runner().quit_requested() {
                break;
            }
            let line = match console.read(self.screen.prompt()) {
                ReadLine::Line(line) => line,
                ReadLine::Interrupted => {
                    self.screen.note("(Ctrl-D or /quit leaves)");
                    continue;
                }
                ReadLine::Eof => break,
            };
            if self.line(&line).await? == Go::Quit {
                break;
            }
        }
        self.finish_case();
        if let Some(recorder) = &self.recorder {
            for line in recorder.write()? {
                self.screen.note(&line);
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Whether a session goes on after a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Go {
    On,
    Quit,
}

impl<R: SimRunner> Session<R> {
    /// Starts the first conversation.
    pub(crate) async fn begin(&mut self) -> Result<()> {
        let (bot, block, presets) = (self.bot.clone(), self.start.clone(), self.presets.clone());
        self.start_conversation(&bot, block, presets).await
    }

    /// Handles a line the author typed: a command, or a message for the bot.
    pub(crate) async fn line(&mut self, line: &str) -> Result<Go> {
        match commands::parse(line) {
            Some(Ok(Command::Quit)) => return Ok(Go::Quit),
            Some(Ok(command)) => self.command(command).await?,
            Some(Err(error)) => self.screen.error(&error),
            None => self.message(commands::unescape(line)).await?,
        }
        Ok(Go::On)
    }

    /// Starts a new conversation of `bot`, recording it as a new case.
    async fn start_conversation(
        &mut self,
        bot: &str,
        block: Option<BlockId>,
        variables: Vec<(String, Value)>,
    ) -> Result<()> {
        self.finish_case();
        self.n_conversations += 1;
        let id = ConversationId::new(&format!("chat-{}", self.n_conversations));
        if let Some(recorder) = &mut self.recorder {
            let flow = self.executor.project().flow(bot);
            recorder.begin(flow, block.as_ref(), &variables);
            if bot != self.bot {
                recorder.taint(&format!(
                    "a conversation started in bot `{bot}` (by /goto during a jump) cannot be \
                     replayed from a test of bot `{}`",
                    self.bot
                ));
            }
        }
        let options = StartOptions {
            block,
            variables: variables.clone(),
        };
        let (conversation, turn) = self.executor.start(id, bot, options).await?;
        self.state = Some(Running {
            conversation,
            last_turn: None,
            options: Vec::new(),
            told: (Status::Waiting, None),
        });
        self.after_turn(turn, None, false);
        Ok(())
    }

    /// Sends a user message; a number picks the option offered with that number, as a button
    /// would on a channel.
    async fn message(&mut self, line: &str) -> Result<()> {
        let Some(state) = &mut self.state else {
            return Ok(());
        };
        let text = pick_option(&state.options, line).unwrap_or(line).to_owned();
        self.screen.user(line, &text);
        // Saved at the next revision after each turn, as the server's store does: a webhook
        // step's `Idempotency-Key` shows the value the server would send.
        let revision = state.conversation.revision();
        state.conversation.set_revision(revision + 1);
        let turn = self
            .executor
            .deliver(&mut state.conversation, &text)
            .await?;
        self.after_turn(turn, Some(&text), false);
        Ok(())
    }

    async fn command(&mut self, command: Command) -> Result<()> {
        let screen = &self.screen;
        match command {
            Command::Help => screen.lines(commands::HELP),
            Command::Vars => {
                if let Some(state) = &self.state {
                    let flow = self.executor.project().flow(state.conversation.bot());
                    let text = commands::vars(&state.conversation, flow, &self.secrets);
                    screen.lines(&text);
                }
            }
            Command::Trace => {
                if let Some(turn) = self.state.as_ref().and_then(|s| s.last_turn.as_ref()) {
                    screen.lines(&commands::trace(&turn.trace));
                }
            }
            Command::Restart => {
                screen.note("starting over");
                let (bot, block, presets) =
                    (self.bot.clone(), self.start.clone(), self.presets.clone());
                self.start_conversation(&bot, block, presets).await?;
            }
            Command::Goto(block) => self.goto(&block).await?,
            Command::Set(assignment) => self.set(&assignment),
            Command::Fire => {
                let Some(state) = &mut self.state else {
                    return Ok(());
                };
                let revision = state.conversation.revision();
                state.conversation.set_revision(revision + 1);
                let turn = self.executor.fire_timer(&mut state.conversation).await?;
                self.after_turn(turn, None, true);
            }
            Command::Quit => {}
        }
        Ok(())
    }

    /// `/goto BLOCK`: a new conversation of the running bot at BLOCK, its variables kept.
    async fn goto(&mut self, block: &str) -> Result<()> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        let bot = state.conversation.bot().to_owned();
        let Some(flow) = self.executor.project().flow(&bot) else {
            return Ok(());
        };
        let block = match commands::known_block(flow, block) {
            Ok(block) => block,
            Err(error) => {
                self.screen.error(&format!("{error:#}"));
                return Ok(());
            }
        };
        let variables: Vec<(String, Value)> = state
            .conversation
            .variables()
            .iter()
            .map(|(name, value)| (name.to_string(), Value::clone(value)))
            .collect();
        self.screen
            .note(&format!("going to `{block}`, variables kept"));
        self.start_conversation(&bot, Some(block), variables).await
    }

    /// `/set NAME VALUE`.
    fn set(&mut self, assignment: &str) {
        let Some(state) = &mut self.state else {
            return;
        };
        let flow = self.executor.project().flow(state.conversation.bot());
        let (name, value) = match flow.map(|flow| commands::parse_assignment(assignment, flow)) {
            Some(Ok(parsed)) => parsed,
            Some(Err(error)) => return self.screen.error(&format!("{error:#}")),
            None => return,
        };
        let shown = commands::short_json(&self.secrets.redact_json(&value), 200);
        state.conversation.preset(&name, value);
        self.screen.note(&format!("{name} = {shown}"));
        if let Some(recorder) = &mut self.recorder {
            recorder.taint(
                "a /set in the middle of a conversation cannot be replayed by a test \
                 (preset values with --var, or /restart)",
            );
        }
    }

    /// Shows a turn, records it, and remembers its options.
    fn after_turn(&mut self, turn: Turn, user: Option<&str>, fired: bool) {
        let used = self.executor.runner().take_used();
        let Some(state) = &mut self.state else {
            return;
        };
        let items = interleave(&turn);
        show_items(&*self.screen, &items, &self.secrets);
        if let Some(options) = turn
            .messages()
            .last()
            .map(|message| message.options.clone())
        {
            state.options = options;
        }
        let told = (turn.status, turn.timer.as_ref().map(|timer| timer.id));
        if told != state.told {
            show_status(&*self.screen, &turn, &state.conversation);
        }
        show_notices(&*self.screen, &turn);
        state.told = told;
        if let Some(recorder) = &mut self.recorder {
            recorder.turn(user, fired, &items, &used, &turn, &state.conversation);
        }
        state.last_turn = Some(turn);
    }

    fn finish_case(&mut self) {
        if let (Some(recorder), Some(state)) = (&mut self.recorder, &self.state) {
            recorder.finish(&state.conversation);
        }
    }
}

/// What a turn showed, in the order it happened.
pub(crate) enum Item<'a> {
    /// An output of the bot.
    Output(&'a Output),
    /// A webhook step.
    Webhook(&'a WebhookTrace),
}

/// The outputs and webhook steps of `turn` in the order they happened.
///
/// The turn keeps its outputs and its trace apart; each output names its block, so walking the
/// trace to that block's event tells which webhook steps ran before it.
pub(crate) fn interleave(turn: &Turn) -> Vec<Item<'_>> {
    let events = &turn.trace.events;
    let mut items = Vec::new();
    let mut cursor = 0;
    for output in &turn.outputs {
        let block = match output {
            Output::Message(message) => Some(&message.block),
            Output::Event(event) => Some(&event.block),
            Output::Handoff(handoff) => Some(&handoff.block),
            Output::Error(_) => None,
        };
        let found = block.and_then(|block| {
            events[cursor..]
                .iter()
                .position(|event| match event {
                    TraceEvent::Block { block: b, .. } | TraceEvent::Answer { block: b, .. } => {
                        b == block
                    }
                    _ => false,
                })
                .map(|offset| cursor + offset)
        });
        if let Some(index) = found {
            for event in &events[cursor..index] {
                if let TraceEvent::Webhook(webhook) = event {
                    items.push(Item::Webhook(webhook));
                }
            }
            cursor = index + 1;
        }
        items.push(Item::Output(output));
    }
    for event in &events[cursor..] {
        if let TraceEvent::Webhook(webhook) = event {
            items.push(Item::Webhook(webhook));
        }
    }
    items
}

/// Shows what a turn did, secrets masked: a response that echoes a secret can put it in a
/// variable, and from there in a message.
fn show_items(screen: &dyn Screen, items: &[Item<'_>], secrets: &Secrets) {
    for item in items {
        match item {
            Item::Webhook(webhook) => screen.webhook(webhook),
            Item::Output(Output::Message(message)) => {
                let options: Vec<String> = message
                    .options
                    .iter()
                    .map(|option| secrets.redact(option))
                    .collect();
                screen.bot(&secrets.redact(&message.text), &options);
            }
            Item::Output(Output::Event(event)) => {
                screen.event(
                    &secrets.redact(&event.name),
                    &secrets.redact_json(&event.data),
                );
            }
            Item::Output(Output::Handoff(handoff)) => screen.handoff(handoff.team.as_deref()),
            Item::Output(Output::Error(error)) => screen.error(&secrets.redact(&error.to_string())),
        }
    }
}

/// Says what happened to the conversation itself, and how to go on after a step that did not
/// run.
fn show_notices(screen: &dyn Screen, turn: &Turn) {
    for notice in &turn.notices {
        let text = match notice {
            flow_runtime::Notice::MessageIgnored { status } => {
                let status = match status {
                    Status::HandedOff => "handed off",
                    _ => "over",
                };
                format!(
                    "the conversation is {status}: the message was ignored (/restart starts over)"
                )
            }
            flow_runtime::Notice::Restarted => "the bot starts over".to_owned(),
            flow_runtime::Notice::FlowChanged { bot, missing_block } => {
                format!("bot `{bot}` changed and block `{missing_block}` is gone: it restarted")
            }
            flow_runtime::Notice::NoTimer => "no timer is pending".to_owned(),
        };
        screen.note(&text);
    }
    if let Some(block) = turn.errors().find_map(|error| match error {
        flow_runtime::RuntimeError::Runner { block, .. } => Some(block),
        _ => None,
    }) {
        screen.note(&format!(
            "the bot waits at `{block}`: send any message to run it again"
        ));
    }
}

/// Says what the turn left pending: an end, a hand-off, a sleep or a timer.
fn show_status(screen: &dyn Screen, turn: &Turn, conversation: &Conversation) {
    let timer = turn.timer.as_ref().map(|timer| {
        (
            timer.kind,
            flow_http::format_duration(timer.due_in),
            timer.block.clone(),
        )
    });
    match (turn.status, timer) {
        (Status::Ended, _) if conversation.restart_pending() => {
            screen.note("the conversation ended; a message starts it over");
        }
        (Status::Ended, _) => screen.note("the conversation ended (/restart starts over)"),
        (Status::HandedOff, _) => screen.note("a human has the conversation now"),
        (Status::Sleeping, Some((_, due, _))) => {
            screen.note(&format!("sleeping {due} (/fire wakes it now)"));
        }
        (Status::Waiting, Some((_, due, block))) => {
            screen.note(&format!(
                "`{block}` times out in {due} without an answer (/fire times it out now)"
            ));
        }
        _ => {}
    }
}

/// The option `line` picks by its number, unless `line` is itself one of the options.
fn pick_option<'o>(options: &'o [String], line: &str) -> Option<&'o str> {
    let line = line.trim();
    if options.iter().any(|option| option.trim() == line) {
        return None;
    }
    let number: usize = line.parse().ok()?;
    options.get(number.checked_sub(1)?).map(String::as_str)
}
