//! Turns of stored conversations: ordered per conversation, idempotent per message id, and
//! committed durably before they are answered.
//!
//! Every turn (a message, an explicit start, a due timer) runs as a task of its own, so that a
//! client that goes away never stops a turn half-way: what it sent is stored, and its message
//! id answers the redelivery. The task holds the conversation's turn lock from the load to the
//! commit, and wakes whoever follows the conversation's outputs once it is stored.
//!
//! Several instances may share one store (PostgreSQL). A turn then also holds the
//! conversation's lease in the store from before the replay check to after the commit, renewed
//! every third of its time-to-live while the turn runs; a turn that finds it held by another
//! instance waits for it. A commit that conflicts (this instance's lease expired mid-turn and
//! another one ran a turn meanwhile) is not stored: the turn is run again from the start, from
//! the replay check, so a redelivered message gets the stored answer of the instance that
//! committed it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flow_http::Secrets;
use flow_runtime::{
    Conversation, ConversationId, Executor, HttpRunner, RunError, StartOptions, Status, Turn,
    TurnLocks,
};
use serde_json::Value;
use tokio::sync::Notify;

use crate::bots::Bots;
use crate::config::RequestLimits;
use crate::error::ApiError;
use crate::metrics;
use crate::store::{
    ConversationKey, MessageRecord, Store, StoreError, StoredConversation, StoredOutput,
    StoredTimer, TurnCommit, TurnRead,
};
use crate::wire;

/// The bots running now, with their executor; replaced whole by a reload.
#[derive(Debug)]
pub struct Running {
    /// The bots.
    pub bots: Bots,
    /// Their executor.
    pub executor: Executor<HttpRunner>,
}

/// A turn's answer: the body as sent, and whether it is a replay of a stored one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The JSON body.
    pub body: String,
    /// True when a repeated message id got its stored answer.
    pub replay: bool,
}

/// What the server runs turns with: the bots, the store, the turn locks and the followers of
/// outputs. Shared by every request and background task.
pub struct Engine<S> {
    running: RwLock<Arc<Running>>,
    runner: HttpRunner,
    secrets: Arc<Secrets>,
    store: S,
    locks: TurnLocks,
    followers: Mutex<HashMap<ConversationKey, Arc<Notify>>>,
    /// Woken when a commit sets a timer, so the timer task looks again.
    pub timers_changed: Notify,
    /// Woken when a commit queues an outbound delivery.
    pub deliveries_changed: Notify,
    limits: RequestLimits,
    outbound: bool,
    /// This process's id among the instances sharing the store: the owner of its leases.
    instance: String,
    /// Leases taken so far, to make each turn's owner id unique.
    leases_taken: AtomicU64,
    lease_ttl: Duration,
}

/// How long a conversation's lease lasts unless renewed, by default.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(30);

/// The shortest lease time-to-live accepted: it is renewed every third of it.
pub const MIN_LEASE_TTL: Duration = Duration::from_millis(300);

/// How often a long poll looks at a store shared with other instances, whose commits do not
/// wake it.
const SHARED_POLL: Duration = Duration::from_millis(200);

/// How many lease times a turn waits for another instance's turn of its conversation before it
/// is refused with `not_ready`.
pub const LEASE_WAITS: u32 = 4;

/// How many times a turn whose commit conflicted is run again before it is refused.
const CONFLICT_RETRIES: u32 = 3;

impl<S> std::fmt::Debug for Engine<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

/// The key under which a conversation's turns are ordered: the bot and the id, in one id.
fn lock_id(key: &ConversationKey) -> ConversationId {
    ConversationId::new(&format!("{}:{}{}", key.bot.len(), key.bot, key.id))
}

/// What starts a turn.
#[derive(Clone)]
enum Entry {
    /// A user's message, perhaps with presets for a start.
    Message {
        text: String,
        message_id: Option<String>,
        variables: Option<serde_json::Map<String, Value>>,
        /// Whether the message may start a conversation that is not stored (the public
        /// endpoints' may not: only their start makes one).
        may_create: bool,
    },
    /// An explicit start.
    Start {
        variables: Option<serde_json::Map<String, Value>>,
    },
    /// A due timer.
    Timer(StoredTimer),
}

impl<S: Store> Engine<S> {
    /// An engine running `bots` over `store`; webhook steps go through `runner`.
    pub fn new(
        bots: Bots,
        runner: HttpRunner,
        secrets: Arc<Secrets>,
        store: S,
        limits: RequestLimits,
        outbound: bool,
    ) -> Engine<S> {
        let running = Self::running_of(bots, &runner, &secrets);
        Engine {
            running: RwLock::new(Arc::new(running)),
            runner,
            secrets,
            store,
            locks: TurnLocks::new(),
            followers: Mutex::new(HashMap::new()),
            timers_changed: Notify::new(),
            deliveries_changed: Notify::new(),
            limits,
            outbound,
            instance: uuid::Uuid::new_v4().simple().to_string(),
            leases_taken: AtomicU64::new(0),
            lease_ttl: DEFAULT_LEASE_TTL,
        }
    }

    /// The same engine with conversations' leases lasting `ttl` unless renewed (at least
    /// [`MIN_LEASE_TTL`]).
    pub fn with_lease_ttl(mut self, ttl: Duration) -> Engine<S> {
        self.lease_ttl = ttl.max(MIN_LEASE_TTL);
        self
    }

    fn running_of(bots: Bots, runner: &HttpRunner, secrets: &Arc<Secrets>) -> Running {
        let executor = Executor::new(Arc::clone(&bots.project), runner.clone())
            .with_secrets(Arc::clone(secrets));
        Running { bots, executor }
    }

    /// The bots running now.
    pub fn running(&self) -> Arc<Running> {
        Arc::clone(&self.running.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the bots; turns in progress finish with the old ones, and conversations follow
    /// the runtime's rules for changed flows at their next turn.
    pub fn replace_bots(&self, bots: Bots) {
        let running = Arc::new(Self::running_of(bots, &self.runner, &self.secrets));
        *self.running.write().unwrap_or_else(PoisonError::into_inner) = running;
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The limits.
    pub fn limits(&self) -> &RequestLimits {
        &self.limits
    }

    /// The secrets, for masking.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Fails with `unknown_bot` (and a did-you-mean) unless `bot` is running.
    pub fn check_bot(&self, bot: &str) -> Result<(), ApiError> {
        let running = self.running();
        match running.bots.project.flow(bot) {
            Some(_) => Ok(()),
            None => Err(ApiError::UnknownBot {
                bot: bot.to_owned(),
                suggestion: running.bots.closest(bot),
            }),
        }
    }

    /// Delivers a user message, or answers a repeated message id with the stored answer.
    pub async fn message(
        self: &Arc<Self>,
        key: ConversationKey,
        text: String,
        message_id: Option<String>,
        variables: Option<serde_json::Map<String, Value>>,
    ) -> Result<Answer, ApiError> {
        let entry = Entry::Message {
            text,
            message_id,
            variables,
            may_create: true,
        };
        self.spawn_turn(key, entry).await
    }

    /// A user's message to a conversation that must be stored already: `unknown_conversation`
    /// otherwise, judged in the turn (no second read of the conversation before it).
    pub async fn message_to_stored(
        self: &Arc<Self>,
        key: ConversationKey,
        text: String,
        message_id: Option<String>,
    ) -> Result<Answer, ApiError> {
        let entry = Entry::Message {
            text,
            message_id,
            variables: None,
            may_create: false,
        };
        self.spawn_turn(key, entry).await
    }

    /// Starts a conversation explicitly; `conversation_exists` if one is running.
    pub async fn start(
        self: &Arc<Self>,
        key: ConversationKey,
        variables: Option<serde_json::Map<String, Value>>,
    ) -> Result<Answer, ApiError> {
        self.spawn_turn(key, Entry::Start { variables }).await
    }

    /// Fires a due timer; a stale one (the conversation moved on) runs nothing.
    pub async fn fire(self: &Arc<Self>, key: ConversationKey, timer: StoredTimer) {
        if let Err(error) = self.spawn_turn(key, Entry::Timer(timer)).await {
            tracing::warn!(%error, "a timer turn failed; it is tried again");
        }
    }

    /// Runs the turn as a task of its own: it goes on if the caller stops waiting.
    async fn spawn_turn(
        self: &Arc<Self>,
        key: ConversationKey,
        entry: Entry,
    ) -> Result<Answer, ApiError> {
        let engine = Arc::clone(self);
        let task = tokio::spawn(async move {
            let _in_flight = metrics::TurnInFlight::start();
            engine.turn(key, entry).await
        });
        task.await
            .unwrap_or_else(|error| Err(ApiError::Internal(format!("a turn stopped: {error}"))))
    }

    async fn turn(&self, key: ConversationKey, entry: Entry) -> Result<Answer, ApiError> {
        let lock_id = lock_id(&key);
        let _turn = self.locks.lock(&lock_id).await;
        let started = std::time::Instant::now();
        let mut conflicts = 0;
        loop {
            let owner = self.lease(&key).await?;
            let outcome = self
                .holding_lease(
                    &key,
                    &owner,
                    self.turn_once(&key, entry.clone(), &owner, started),
                )
                .await;
            // A commit, stored or conflicting, gave the lease back in its transaction.
            let released = matches!(
                outcome,
                Ok(Attempt::Conflict | Attempt::Done { released: true, .. })
            );
            if !released {
                if let Err(error) = self.store.release_lease(&key, &owner).await {
                    tracing::warn!(session_id = %key.id, %error, "releasing a lease failed; it expires");
                }
            }
            match outcome? {
                Attempt::Done { answer, .. } => return Ok(answer),
                Attempt::Conflict if conflicts < CONFLICT_RETRIES => {
                    metrics::commit_conflicted();
                    conflicts += 1;
                    tracing::warn!(
                        session_id = %key.id,
                        attempt = conflicts,
                        "another instance committed this conversation during the turn (its \
                         lease expired); running the turn again from the new state"
                    );
                }
                Attempt::Conflict => {
                    metrics::commit_conflicted();
                    return Err(ApiError::NotReady(format!(
                        "conversation `{}` of bot `{}` kept changing on another instance during \
                         the turn; send the message again",
                        key.id, key.bot
                    )));
                }
            }
        }
    }

    /// Takes the conversation's lease in the store, waiting while another instance holds it;
    /// the owner id of this turn.
    async fn lease(&self, key: &ConversationKey) -> Result<String, ApiError> {
        let owner = format!(
            "{}/{}",
            self.instance,
            self.leases_taken.fetch_add(1, Ordering::Relaxed)
        );
        // A holder that died leaves its lease to expire within its time-to-live; one alive
        // renews it while its turn runs, which its webhook time-outs bound.
        let give_up = tokio::time::Instant::now() + self.lease_ttl * LEASE_WAITS;
        let mut pause = Duration::from_millis(2);
        let mut waited = false;
        while !self
            .store
            .acquire_lease(key, &owner, self.lease_ttl)
            .await?
        {
            if tokio::time::Instant::now() >= give_up {
                return Err(ApiError::NotReady(format!(
                    "conversation `{}` of bot `{}` is busy with a turn on another instance; \
                     send the message again",
                    key.id, key.bot
                )));
            }
            if !waited {
                metrics::lease_waited();
                waited = true;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        Ok(owner)
    }

    /// Runs `work` while renewing `owner`'s lease every third of its time-to-live.
    async fn holding_lease<T>(
        &self,
        key: &ConversationKey,
        owner: &str,
        work: impl Future<Output = T>,
    ) -> T {
        let renew = async {
            loop {
                tokio::time::sleep(self.lease_ttl / 3).await;
                match self.store.renew_lease(key, owner, self.lease_ttl).await {
                    Ok(true) => {}
                    Ok(false) => {
                        // The commit's revision check fences this turn from now on.
                        tracing::warn!(session_id = %key.id, "the conversation's lease was lost mid-turn");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(session_id = %key.id, %error, "renewing a lease failed")
                    }
                }
            }
        };
        tokio::pin!(work);
        tokio::select! {
            biased;
            result = &mut work => return result,
            () = renew => {}
        }
        work.await
    }

    /// One attempt at a turn, under the lease `owner`.
    async fn turn_once(
        &self,
        key: &ConversationKey,
        entry: Entry,
        owner: &str,
        started: std::time::Instant,
    ) -> Result<Attempt, ApiError> {
        let key = key.clone();
        let message_id = match &entry {
            Entry::Message { message_id, .. } => message_id.clone(),
            _ => None,
        };
        // The replay check and the load together: one query where the store can.
        let stored = match self
            .store
            .load_for_turn(&key, message_id.as_deref())
            .await?
        {
            TurnRead::Answered(record) => {
                let answer = self.replay(&key, &record).await?;
                return Ok(Attempt::Done {
                    answer,
                    released: false,
                });
            }
            TurnRead::Stored(stored) => stored,
        };
        let running = self.running();
        let is_timer = matches!(entry, Entry::Timer(_));
        let Some(ran) = self.run(&running, &key, stored, entry).await? else {
            return Ok(Attempt::Done {
                answer: Answer {
                    body: String::new(),
                    replay: false,
                },
                released: false,
            });
        };
        let Some(answer) = self.commit(&key, ran, message_id, is_timer, owner).await? else {
            return Ok(Attempt::Conflict);
        };
        metrics::turn_done(&key.bot, started.elapsed());
        Ok(Attempt::Done {
            answer,
            released: true,
        })
    }

    /// Runs the executor for `entry`; `None` for a stale timer.
    async fn run(
        &self,
        running: &Running,
        key: &ConversationKey,
        stored: Option<StoredConversation>,
        entry: Entry,
    ) -> Result<Option<Ran>, ApiError> {
        let executor = &running.executor;
        let (revision, next_seq) = stored.as_ref().map_or((0, 1), |stored| {
            (stored.conversation.revision(), stored.next_seq)
        });
        let mut notices = Vec::new();
        let (conversation, turn) = match entry {
            Entry::Timer(timer) => {
                let Some(stored) = stored else {
                    return Ok(None);
                };
                let mut conversation = stored.conversation;
                if conversation.timer().map(|pending| pending.id) != Some(timer.timer_id) {
                    return Ok(None);
                }
                let turn = executor
                    .fire_timer(&mut conversation)
                    .await
                    .map_err(run_error)?;
                (conversation, turn)
            }
            Entry::Start { variables } => {
                if let Some(stored) = &stored {
                    if stored.conversation.status() != Status::Ended {
                        return Err(ApiError::ConversationExists {
                            bot: key.bot.clone(),
                            id: key.id.to_string(),
                        });
                    }
                }
                let presets = self.presets(variables)?;
                self.start_conversation(executor, key, presets).await?
            }
            Entry::Message {
                may_create: false, ..
            } if stored.is_none() => {
                return Err(ApiError::UnknownConversation {
                    bot: key.bot.clone(),
                    id: key.id.to_string(),
                });
            }
            Entry::Message {
                text, variables, ..
            } => match stored {
                Some(stored) if !starts_again(&stored.conversation) => {
                    if variables.is_some() {
                        notices.push(wire::variables_ignored());
                    }
                    let mut conversation = stored.conversation;
                    let turn = executor
                        .deliver(&mut conversation, &text)
                        .await
                        .map_err(run_error)?;
                    (conversation, turn)
                }
                // No conversation, or one whose bot ended: the message starts the bot, and is
                // its `last user answer`, not an answer.
                _ => {
                    let mut presets = self.presets(variables)?;
                    presets.push((
                        flow_core::flow::LAST_USER_ANSWER.to_owned(),
                        Value::String(text),
                    ));
                    self.start_conversation(executor, key, presets).await?
                }
            },
        };
        notices.splice(0..0, turn.notices.iter().map(wire::notice_json));
        Ok(Some(Ran {
            conversation,
            turn,
            notices,
            revision,
            next_seq,
        }))
    }

    async fn start_conversation(
        &self,
        executor: &Executor<HttpRunner>,
        key: &ConversationKey,
        presets: Vec<(String, Value)>,
    ) -> Result<(Conversation, Turn), ApiError> {
        let options = StartOptions {
            block: None,
            variables: presets,
        };
        executor
            .start(key.id.clone(), &key.bot, options)
            .await
            .map_err(run_error)
    }

    /// The presets of a request, checked against the size limit.
    fn presets(
        &self,
        variables: Option<serde_json::Map<String, Value>>,
    ) -> Result<Vec<(String, Value)>, ApiError> {
        let Some(variables) = variables else {
            return Ok(Vec::new());
        };
        let size = Value::Object(variables.clone()).to_string().len();
        if size > self.limits.max_preset_bytes {
            return Err(ApiError::TooLarge(format!(
                "`variables` is {size} bytes of JSON, over the limit of {}",
                self.limits.max_preset_bytes
            )));
        }
        Ok(variables.into_iter().collect())
    }

    /// Numbers the outputs, fits the state under its limit, commits, and wakes the followers;
    /// `None` when the commit conflicted and stored nothing.
    async fn commit(
        &self,
        key: &ConversationKey,
        ran: Ran,
        message_id: Option<String>,
        is_timer: bool,
        owner: &str,
    ) -> Result<Option<Answer>, ApiError> {
        let Ran {
            mut conversation,
            turn,
            notices,
            revision,
            next_seq,
        } = ran;
        let mut outputs: Vec<StoredOutput> = turn
            .outputs
            .iter()
            .enumerate()
            .map(|(index, output)| {
                let previous = index.checked_sub(1).map(|index| &turn.outputs[index]);
                let seq = next_seq + index as u64;
                StoredOutput {
                    seq,
                    json: wire::output_json(seq, output, previous),
                }
            })
            .collect();
        conversation.set_revision(revision + 1);
        let state = self.fit_state(&mut conversation, &mut outputs, next_seq);
        let after_seq = next_seq + outputs.len() as u64;
        let now = now_millis();
        let timer = turn.timer.as_ref().map(|timer| StoredTimer {
            timer_id: timer.id,
            due_at: now.saturating_add(timer.due_in.as_millis().min(i64::MAX as u128) as i64),
        });
        let status = conversation.status().as_str();
        let notices = Value::Array(notices).to_string();
        let jsons: Vec<String> = outputs.iter().map(|output| output.json.clone()).collect();
        let body = wire::turn_answer(&key.bot, key.id.as_str(), status, &jsons, &notices);
        let outbound = (is_timer && self.outbound && !outputs.is_empty())
            .then(|| wire::delivery(&key.bot, key.id.as_str(), status, &jsons));
        let queued_delivery = outbound.is_some();
        let commit = TurnCommit {
            key: key.clone(),
            revision,
            state,
            next_seq: after_seq,
            outputs,
            message: message_id.map(|message_id| MessageRecord {
                message_id,
                first_seq: next_seq,
                last_seq: after_seq - 1,
                status: status.to_owned(),
                notices: notices.clone(),
            }),
            timer,
            outbound,
            now,
            lease_owner: Some(owner.to_owned()),
        };
        let commit_started = std::time::Instant::now();
        match self.store.commit(commit).await {
            Ok(()) => {}
            Err(StoreError::Conflict { .. }) => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        metrics::commit_done(commit_started.elapsed());
        metrics::turn_status(&key.bot, status);
        for webhook in turn.trace.webhooks() {
            metrics::webhook_outcome(webhook);
        }
        if timer.is_some() {
            self.timers_changed.notify_one();
        }
        if queued_delivery {
            self.deliveries_changed.notify_one();
        }
        self.wake_followers(key);
        Ok(Some(Answer {
            body,
            replay: false,
        }))
    }

    /// The conversation's state as stored. Over the limit, `last webhook success` is dropped
    /// first, then the largest variables, each with an error output that says so.
    fn fit_state(
        &self,
        conversation: &mut Conversation,
        outputs: &mut Vec<StoredOutput>,
        next_seq: u64,
    ) -> String {
        let mut state = state_json(conversation);
        while state.len() > self.limits.max_state_bytes {
            let Some(name) = largest_variable(conversation) else {
                break;
            };
            conversation.preset(&name, Value::Null);
            let seq = next_seq + outputs.len() as u64;
            let message = format!(
                "the conversation's state was over the limit of {} bytes, so `{name}` was \
                 cleared; keep less in variables (a `save` path stores only part of a webhook \
                 response)",
                self.limits.max_state_bytes
            );
            let json = serde_json::json!({
                "seq": seq, "type": "error", "code": "state_too_large", "message": message,
            });
            outputs.push(StoredOutput {
                seq,
                json: json.to_string(),
            });
            tracing::warn!(variable = %name, "state over the limit; variable cleared");
            state = state_json(conversation);
        }
        state
    }

    async fn replay(
        &self,
        key: &ConversationKey,
        record: &MessageRecord,
    ) -> Result<Answer, ApiError> {
        let outputs = if record.first_seq > record.last_seq {
            Vec::new()
        } else {
            self.store
                .outputs(key, record.first_seq, record.last_seq, usize::MAX >> 1)
                .await?
        };
        let jsons: Vec<String> = outputs.into_iter().map(|output| output.json).collect();
        Ok(Answer {
            body: wire::turn_answer(
                &key.bot,
                key.id.as_str(),
                &record.status,
                &jsons,
                &record.notices,
            ),
            replay: true,
        })
    }

    /// The outputs after `after`, waiting up to `wait` for one when there is none yet; `None`
    /// when the conversation does not exist.
    pub async fn outputs(
        &self,
        key: &ConversationKey,
        after: u64,
        wait: Duration,
    ) -> Result<Option<String>, ApiError> {
        let deadline = tokio::time::Instant::now() + wait;
        let follower = self.follow(key);
        loop {
            let notified = follower.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let Some(stored) = self.store.load(key).await? else {
                return Ok(None);
            };
            let outputs = self
                .store
                .outputs(key, after.saturating_add(1), u64::MAX, 1000)
                .await?;
            if !outputs.is_empty() || tokio::time::Instant::now() >= deadline {
                let jsons: Vec<String> = outputs.into_iter().map(|output| output.json).collect();
                let status = stored.conversation.status().as_str();
                return Ok(Some(wire::outputs_page(status, &jsons)));
            }
            // A commit of this instance wakes the poll; one of another instance sharing the
            // store does not, so the store is looked at again every little while.
            let until = match self.store.shared() {
                true => deadline.min(tokio::time::Instant::now() + SHARED_POLL),
                false => deadline,
            };
            if tokio::time::timeout_at(until, notified).await.is_err() && until >= deadline {
                let status = stored.conversation.status().as_str();
                return Ok(Some(wire::outputs_page(status, &[])));
            }
        }
    }

    /// A stored conversation, once no turn of it runs.
    pub async fn conversation(
        &self,
        key: &ConversationKey,
    ) -> Result<Option<StoredConversation>, ApiError> {
        let lock_id = lock_id(key);
        let _turn = self.locks.lock(&lock_id).await;
        Ok(self.store.load(key).await?)
    }

    /// Deletes a conversation, once no turn of it runs; false when there was none.
    pub async fn delete(&self, key: &ConversationKey) -> Result<bool, ApiError> {
        let lock_id = lock_id(key);
        let _turn = self.locks.lock(&lock_id).await;
        let owner = self.lease(key).await?;
        let deleted = self.store.delete(key).await;
        if let Err(error) = self.store.release_lease(key, &owner).await {
            tracing::warn!(session_id = %key.id, %error, "releasing a lease failed; it expires");
        }
        let deleted = deleted?;
        self.wake_followers(key);
        Ok(deleted)
    }

    fn follow(&self, key: &ConversationKey) -> Follower<'_> {
        let notify = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key.clone())
            .or_default()
            .clone();
        Follower {
            followers: &self.followers,
            key: key.clone(),
            notify,
        }
    }

    fn wake_followers(&self, key: &ConversationKey) {
        let followers = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(notify) = followers.get(key) {
            notify.notify_waiters();
        }
    }
}

/// What one attempt at a turn came to.
enum Attempt {
    /// Answered: by a commit (which gave the lease back), a replay, or nothing (a stale timer).
    Done {
        /// The answer.
        answer: Answer,
        /// Whether the lease was given back already (by the commit).
        released: bool,
    },
    /// The commit conflicted and stored nothing (it gave the lease back).
    Conflict,
}

/// What a turn ran, before it is numbered and committed.
struct Ran {
    conversation: Conversation,
    turn: Turn,
    notices: Vec<Value>,
    revision: u64,
    next_seq: u64,
}

/// A client following a conversation's outputs; forgotten once nobody follows.
struct Follower<'e> {
    followers: &'e Mutex<HashMap<ConversationKey, Arc<Notify>>>,
    key: ConversationKey,
    notify: Arc<Notify>,
}

impl Drop for Follower<'_> {
    fn drop(&mut self) {
        let mut followers = self
            .followers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The map's own count and ours: nobody else follows.
        if Arc::strong_count(&self.notify) <= 2 {
            followers.remove(&self.key);
        }
    }
}

/// Whether a message starts the bot again: the conversation ended without a pending restart
/// (the runtime restarts one with a restart pending itself, as `flowbot test` does).
fn starts_again(conversation: &Conversation) -> bool {
    conversation.status() == Status::Ended && !conversation.restart_pending()
}

fn state_json(conversation: &Conversation) -> String {
    // A conversation is maps of strings and JSON values: it always serializes.
    serde_json::to_string(conversation).unwrap_or_default()
}

/// The variable whose value takes the most room, `last webhook success` first when it is set:
/// the built-ins count, since the message and the webhook body they keep can be the large part.
fn largest_variable(conversation: &Conversation) -> Option<String> {
    use flow_core::flow::{LAST_USER_ANSWER, LAST_WEBHOOK_FAILURE, LAST_WEBHOOK_SUCCESS};
    if conversation.variable(LAST_WEBHOOK_SUCCESS).is_some() {
        return Some(LAST_WEBHOOK_SUCCESS.to_owned());
    }
    let built_ins = [LAST_USER_ANSWER, LAST_WEBHOOK_FAILURE]
        .into_iter()
        .filter_map(|name| Some((name.to_owned(), conversation.variable(name)?)));
    let own = conversation
        .variables()
        .iter()
        .map(|(name, value)| (name.to_string(), (**value).clone()));
    built_ins
        .chain(own)
        .max_by_key(|(_, value)| value.to_string().len())
        .map(|(name, _)| name)
}

fn run_error(error: RunError) -> ApiError {
    match error {
        RunError::UnknownBot(bot) => ApiError::UnknownBot {
            bot,
            suggestion: None,
        },
        RunError::Preset { .. } => ApiError::InvalidVariables(error.to_string()),
        RunError::UnknownBlock { .. } => ApiError::Internal(error.to_string()),
    }
}
