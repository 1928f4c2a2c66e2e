//! The state of one conversation: where it waits, what it knows, and which bots it is in.
//!
//! A [`Conversation`] is plain data that serializes with serde, so a server can store it between
//! turns. Only the executor moves it forward; everything here is bookkeeping.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use flow_core::flow::{
    BlockId, Flow, VarType, BOT, CONVERSATION_ID, LAST_USER_ANSWER, LAST_WEBHOOK_FAILURE,
    LAST_WEBHOOK_SUCCESS,
};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::values;

#[cfg(test)]
mod tests;

/// The id of a conversation, unique among the conversations of a store.
///
/// Ids come from clients, so the maps keyed by them must resist collisions chosen by an
/// attacker. An id carries its hash, computed once when it is made with the standard library's
/// keyed SipHash under a key drawn at random for the process; the memory store and `Sessions`'
/// turn locks use that hash as it is instead of hashing the text again at every lookup.
#[derive(Clone)]
pub struct ConversationId {
    text: Arc<str>,
    hash: u64,
}

impl ConversationId {
    /// Wraps an id.
    pub fn new(id: &str) -> ConversationId {
        static KEY: OnceLock<std::hash::RandomState> = OnceLock::new();
        let hash = KEY.get_or_init(std::hash::RandomState::new).hash_one(id);
        ConversationId {
            text: Arc::from(id),
            hash,
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for ConversationId {
    fn eq(&self, other: &ConversationId) -> bool {
        self.hash == other.hash && self.text == other.text
    }
}

impl Eq for ConversationId {}

impl PartialOrd for ConversationId {
    fn partial_cmp(&self, other: &ConversationId) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ConversationId {
    fn cmp(&self, other: &ConversationId) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

/// Gives the id's keyed hash; equal ids have equal hashes, as the key is the process's.
impl Hash for ConversationId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl fmt::Debug for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConversationId").field(&self.text).finish()
    }
}

impl Serialize for ConversationId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ConversationId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <Cow<'de, str>>::deserialize(deserializer)?;
        Ok(ConversationId::new(&text))
    }
}

/// A map keyed by conversation ids that uses the hash each id carries (see [`ConversationId`]).
pub(crate) type IdMap<V> = HashMap<ConversationId, V, BuildHasherDefault<CarriedHash>>;

/// The hasher of [`IdMap`]: it keeps the one `u64` a [`ConversationId`] writes, its keyed hash.
#[derive(Default)]
pub(crate) struct CarriedHash(u64);

impl Hasher for CarriedHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }

    /// Only ids are hashed with it, and they write one `u64`; anything else is folded in, so
    /// that a misuse still hashes.
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for ConversationId {
    fn from(id: &str) -> ConversationId {
        ConversationId::new(id)
    }
}

/// Variables by name; a variable that is not here is unset (a `null` is never stored).
///
/// Names and values are shared: copying the map copies neither, and a turn's trace records a
/// change by sharing the name and the old and new values with the map instead of copying them.
/// Names are the flow author's, so the map hashes them with a fast hash rather than one that
/// resists attack.
pub type Variables = IndexMap<Arc<str>, Arc<Value>, foldhash::fast::RandomState>;

/// Where a conversation stands between turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The bot waits for the user's next message.
    Waiting,
    /// A `sleep` is pending: user messages are not answers until its timer fires.
    Sleeping,
    /// The bot ended; with a pending restart the next message starts it over.
    Ended,
    /// A human took the conversation over; the bot no longer answers.
    HandedOff,
}

impl Status {
    /// The status as the conversation-test format writes it: `waiting`, `ended`...
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "waiting",
            Status::Sleeping => "sleeping",
            Status::Ended => "ended",
            Status::HandedOff => "handed_off",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a pending timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// A `sleep` is over: the bot goes on at the sleep's `next`.
    Sleep,
    /// Nobody answered a `question` in time: the bot goes on at its `on_timeout`.
    QuestionTimeout,
    /// Nobody wrote during a `wait` in time: the bot goes on at its `on_timeout` (or `next`).
    WaitTimeout,
}

/// A timer the caller must fire with [`crate::Executor::fire_timer`] when it is due.
///
/// The executor never sleeps: it only says what is pending. `due_in` counts from the end of the
/// turn that set it; a server stores its own due time next to the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTimer {
    /// Tells this timer from the conversation's earlier ones, so a stale timer is never fired.
    pub id: u64,
    /// What firing it does.
    pub kind: TimerKind,
    /// The block that set it.
    pub block: BlockId,
    /// How long after the turn it is due.
    pub due_in: Duration,
}

/// A bot the conversation will come back to: pushed by a `jump` with `return: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    /// The bot that jumped.
    pub bot: String,
    /// The `jump` block, whose `save` and `next` apply on return.
    pub jump_block: BlockId,
    /// That bot's own variables, kept while the other bot runs.
    pub variables: Variables,
    /// The content hash of that bot's flow when it jumped.
    pub flow_hash: u64,
}

/// One conversation: its bot, its position, its variables and the bots it will return to.
///
/// A store copies a conversation at every load and save, so the parts that can be large are
/// shared between copies, not copied: the map of variables is copied on the first change of a
/// turn (with room for the names the turn adds), and no value (a whole webhook body, for one)
/// is ever copied.
/// Serialized, they read as plain maps of values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    id: ConversationId,
    bot: Arc<str>,
    cursor: BlockId,
    status: Status,
    variables: Arc<Variables>,
    /// `last user answer`, `last webhook success` and `last webhook failure`: shared by every bot
    /// of the conversation, so a bot that returns from a jump sees what happened meanwhile.
    shared: Arc<Variables>,
    stack: Vec<Frame>,
    flow_hash: u64,
    timer: Option<PendingTimer>,
    #[serde(default)]
    timers_set: u64,
    /// Invalid answers in a row to the question at the cursor.
    #[serde(default)]
    invalid_answers: u32,
    /// Set by an `end` with `restart: true`: the next message starts the bot over.
    #[serde(default)]
    restart_pending: bool,
    #[serde(default)]
    turns: u64,
    #[serde(default)]
    revision: u64,
}

impl Conversation {
    /// A conversation of `flow` at `cursor`, with the flow's declared defaults, not yet started.
    pub(crate) fn new(id: ConversationId, flow: &Flow, cursor: BlockId) -> Conversation {
        Conversation {
            id,
            bot: Arc::from(flow.id()),
            cursor,
            status: Status::Waiting,
            variables: Arc::new(defaults(flow)),
            shared: Arc::default(),
            stack: Vec::new(),
            flow_hash: flow.content_hash(),
            timer: None,
            timers_set: 0,
            invalid_answers: 0,
            restart_pending: false,
            turns: 0,
            revision: 0,
        }
    }

    /// Its id.
    pub fn id(&self) -> &ConversationId {
        &self.id
    }

    /// The id of the bot running now (the jumped-to bot during a `jump`).
    pub fn bot(&self) -> &str {
        &self.bot
    }

    /// The id of the bot running now, shared: what the trace records.
    pub(crate) fn bot_shared(&self) -> &Arc<str> {
        &self.bot
    }

    /// The block the conversation is at: the one it waits at between turns.
    pub fn cursor(&self) -> &BlockId {
        &self.cursor
    }

    /// Where it stands.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The running bot's own variables (built-ins excluded).
    pub fn variables(&self) -> &Variables {
        &self.variables
    }

    /// A variable's value as templates and conditions see it, built-ins included; `None` when
    /// unset.
    pub fn variable(&self, name: &str) -> Option<Value> {
        self.lookup(name).map(Cow::into_owned)
    }

    /// A variable's value as [`Conversation::variable`] gives it, borrowed where it is stored.
    pub(crate) fn lookup(&self, name: &str) -> Option<Cow<'_, Value>> {
        match name {
            CONVERSATION_ID => Some(Cow::Owned(Value::String(self.id.as_str().to_owned()))),
            BOT => Some(Cow::Owned(Value::String(self.bot.to_string()))),
            _ => self.shared_value(name).map(|value| Cow::Borrowed(&**value)),
        }
    }

    /// A variable's value, shared; `None` when unset, and for `conversation id` and `bot`, which
    /// are not stored.
    pub(crate) fn shared_value(&self, name: &str) -> Option<&Arc<Value>> {
        match is_shared(name) {
            true => self.shared.get(name),
            false => self.variables.get(name),
        }
    }

    /// The bots this conversation returns to, outermost first.
    pub fn stack(&self) -> &[Frame] {
        &self.stack
    }

    /// The content hash of the running bot's flow as of the last turn.
    pub fn flow_hash(&self) -> u64 {
        self.flow_hash
    }

    /// The pending timer, if any.
    pub fn timer(&self) -> Option<&PendingTimer> {
        self.timer.as_ref()
    }

    /// Whether the next message starts the bot over (after an `end` with `restart: true`).
    pub fn restart_pending(&self) -> bool {
        self.restart_pending
    }

    /// How many turns ran.
    pub fn turns(&self) -> u64 {
        self.turns
    }

    /// The version of the conversation a store last saved; see [`crate::ConversationStore`].
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Sets the revision; only a store does this, when it saves the conversation.
    pub fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }

    /// Gives `name` a value as the bot would: a preset before the conversation starts (tests,
    /// the simulator). `conversation id` and `bot` cannot be set and are ignored.
    pub fn preset(&mut self, name: &str, value: Value) {
        self.store(name, (!value.is_null()).then(|| Arc::new(value)));
    }

    pub(crate) fn set_cursor(&mut self, cursor: BlockId) {
        self.cursor = cursor;
    }

    pub(crate) fn set_status(&mut self, status: Status) {
        self.status = status;
    }

    pub(crate) fn set_flow_hash(&mut self, hash: u64) {
        self.flow_hash = hash;
    }

    pub(crate) fn begin_turn(&mut self) {
        self.turns += 1;
    }

    /// Stores `value` in `name` as is (`None` unsets it; the caller never passes a `null`) and
    /// returns the name as the variables keep it, if they do, and the previous value.
    /// `conversation id` and `bot` are read-only: storing into them does nothing.
    pub(crate) fn store(&mut self, name: &str, value: Option<Arc<Value>>) -> Stored {
        match name {
            CONVERSATION_ID | BOT => (None, None),
            _ if is_shared(name) => replace(own(&mut self.shared), name, value),
            _ => replace(own(&mut self.variables), name, value),
        }
    }

    /// Arms a new timer, replacing any pending one.
    pub(crate) fn arm_timer(&mut self, kind: TimerKind, due_in: Duration) -> PendingTimer {
        self.timers_set += 1;
        let timer = PendingTimer {
            id: self.timers_set,
            kind,
            block: self.cursor.clone(),
            due_in,
        };
        self.timer = Some(timer.clone());
        timer
    }

    pub(crate) fn take_timer(&mut self) -> Option<PendingTimer> {
        self.timer.take()
    }

    pub(crate) fn invalid_answers(&self) -> u32 {
        self.invalid_answers
    }

    pub(crate) fn set_invalid_answers(&mut self, count: u32) {
        self.invalid_answers = count;
    }

    pub(crate) fn set_restart_pending(&mut self, pending: bool) {
        self.restart_pending = pending;
    }

    /// Resets every variable to `flow`'s declared defaults, built-ins included, and forgets the
    /// bots it would return to.
    pub(crate) fn reset(&mut self, flow: &Flow) {
        self.variables = Arc::new(defaults(flow));
        self.shared = Arc::default();
        self.stack.clear();
        self.invalid_answers = 0;
        self.timer = None;
    }

    /// Switches to `flow`, whose variables become `variables`; the caller pushed a frame first
    /// when the conversation is to come back.
    pub(crate) fn enter_bot(&mut self, flow: &Flow, variables: Variables, cursor: BlockId) {
        self.bot = Arc::from(flow.id());
        self.variables = Arc::new(variables);
        self.flow_hash = flow.content_hash();
        self.cursor = cursor;
        self.invalid_answers = 0;
    }

    /// Pushes the running bot onto the stack, to come back to `jump_block`.
    pub(crate) fn push_frame(&mut self, jump_block: BlockId) {
        self.stack.push(Frame {
            bot: self.bot.to_string(),
            jump_block,
            variables: Arc::unwrap_or_clone(std::mem::take(&mut self.variables)),
            flow_hash: self.flow_hash,
        });
    }

    /// Pops the bot to return to, restoring its variables; returns the popped bot's variables
    /// (the child's) and the frame.
    pub(crate) fn pop_frame(&mut self) -> Option<(Variables, Frame)> {
        let mut frame = self.stack.pop()?;
        let parent = Arc::new(std::mem::take(&mut frame.variables));
        let child = Arc::unwrap_or_clone(std::mem::replace(&mut self.variables, parent));
        self.bot = Arc::from(frame.bot.as_str());
        self.flow_hash = frame.flow_hash;
        self.invalid_answers = 0;
        Some((child, frame))
    }
}

/// What storing a variable gives back: its name as the map keeps it (`None` when the map does
/// not hold it), and its previous value.
pub(crate) type Stored = (Option<Arc<str>>, Option<Arc<Value>>);

/// Puts `value` in `map` under `name`, or takes `name` out for `None`.
/// A name already there keeps its place (and its key, so nothing is allocated for it).
/// Names a turn's copy of the variables has room for beyond those it copies, so that the new
/// names a turn stores (an answer, a webhook's saves) seldom make it grow.
const ROOM_FOR_NEW_NAMES: usize = 4;

/// `map`, made this conversation's own: like [`Arc::make_mut`], but a copy (made on a turn's
/// first change, while the store still holds the old map) has room for new names.
fn own(map: &mut Arc<Variables>) -> &mut Variables {
    if Arc::get_mut(map).is_none() {
        let mut copy = Variables::with_capacity_and_hasher(
            map.len() + ROOM_FOR_NEW_NAMES,
            map.hasher().clone(),
        );
        copy.extend(
            map.iter()
                .map(|(name, value)| (name.clone(), value.clone())),
        );
        *map = Arc::new(copy);
    }
    Arc::make_mut(map)
}

fn replace(map: &mut Variables, name: &str, value: Option<Arc<Value>>) -> Stored {
    match (map.get_full_mut(name), value) {
        (Some((_, key, slot)), Some(value)) => {
            (Some(key.clone()), Some(std::mem::replace(slot, value)))
        }
        (None, Some(value)) => {
            let key: Arc<str> = Arc::from(name);
            map.insert(key.clone(), value);
            (Some(key), None)
        }
        (_, None) => match map.shift_remove_entry(name) {
            Some((key, old)) => (Some(key), Some(old)),
            None => (None, None),
        },
    }
}

/// Whether `name` is one of the built-ins every bot of a conversation shares.
fn is_shared(name: &str) -> bool {
    matches!(
        name,
        LAST_USER_ANSWER | LAST_WEBHOOK_SUCCESS | LAST_WEBHOOK_FAILURE
    )
}

/// The declared defaults of `flow`, each in its declared type.
pub(crate) fn defaults(flow: &Flow) -> Variables {
    flow.variables()
        .iter()
        .filter_map(|(name, decl)| {
            let value = decl.default.clone()?;
            let value = values::coerce_lenient(value, decl.var_type);
            (!value.is_null()).then(|| (Arc::from(name.as_str()), Arc::new(value)))
        })
        .collect()
}

/// The declared type of `name` in `flow`.
pub(crate) fn declared_type(flow: &Flow, name: &str) -> Option<VarType> {
    flow.variables().get(name).and_then(|decl| decl.var_type)
}
