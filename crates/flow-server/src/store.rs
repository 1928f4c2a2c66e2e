//! Where the server keeps conversations: the [`Store`] trait, which every backend implements,
//! and the records it takes and gives.
//!
//! # What a store promises
//!
//! - [`Store::commit`] writes everything a turn produced (the conversation's new state, its
//!   outputs with their `seq`, the record of the message that started it, its pending timer,
//!   its outbound delivery) in one transaction, and returns only once that transaction is on
//!   disk. Either all of a turn is stored or none of it.
//! - A commit whose conversation was saved by someone else since it was loaded (another
//!   revision is stored) fails with [`StoreError::Conflict`] and stores nothing.
//! - `seq` numbers are the caller's: the store keeps the next one with the conversation
//!   ([`StoredConversation::next_seq`]) and never reuses one.
//! - Reads see every commit that returned before they started.
//!
//! - A conversation's lease ([`Store::acquire_lease`]) is held by at most one owner at a time
//!   until it is released or expires; the caller takes it before the replay check and releases
//!   it after the commit, so that turns of one conversation run one at a time across every
//!   process sharing the store. An owner whose lease expired mid-turn is fenced by the revision
//!   check: its commit is a conflict.
//! - [`Store::due_timers`] and [`Store::due_deliveries`] may claim what they return for a while
//!   (a store shared by several processes does, so that each timer and delivery is handled by
//!   one of them at a time).
//!
//! Within one process the caller also holds the conversation's turn lock (`TurnLocks`) from the
//! load to the commit; the lease orders the processes.

use std::future::Future;
use std::time::Duration;

use flow_runtime::{Conversation, ConversationId};

#[cfg(test)]
mod contract;
pub mod postgres;
pub mod sqlite;

/// A conversation's key: the bot it was started with (the one in the URL) and the client's id.
/// The same id under another bot is another conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    /// The bot of the URL.
    pub bot: String,
    /// The client's id.
    pub id: ConversationId,
}

impl ConversationKey {
    /// The key of conversation `id` of `bot`.
    pub fn new(bot: &str, id: &str) -> ConversationKey {
        ConversationKey {
            bot: bot.to_owned(),
            id: ConversationId::new(id),
        }
    }
}

/// A stored conversation and what the server keeps beside it.
#[derive(Debug, Clone)]
pub struct StoredConversation {
    /// The runtime's state; its revision is the stored one.
    pub conversation: Conversation,
    /// The `seq` of the next output.
    pub next_seq: u64,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created_at: i64,
    /// When its last turn was committed, in milliseconds since the Unix epoch.
    pub updated_at: i64,
}

/// One output of a turn, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutput {
    /// Its number in the conversation.
    pub seq: u64,
    /// Its JSON, `seq` included, exactly as answered.
    pub json: String,
}

/// What a stored message answered: enough to answer it again byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// The channel's message id.
    pub message_id: String,
    /// The first `seq` of the turn's outputs; `first_seq > last_seq` when it had none.
    pub first_seq: u64,
    /// The last `seq` of the turn's outputs.
    pub last_seq: u64,
    /// The conversation's status after the turn.
    pub status: String,
    /// The turn's notices, as JSON.
    pub notices: String,
}

/// A pending timer as stored: which one, and when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredTimer {
    /// The runtime's timer id, so that a stale timer is never fired.
    pub timer_id: u64,
    /// When it is due, in milliseconds since the Unix epoch.
    pub due_at: i64,
}

/// A timer that is due: the conversation and the timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueTimer {
    /// The conversation.
    pub key: ConversationKey,
    /// The timer.
    pub timer: StoredTimer,
}

/// Outputs to POST to the outbound URL: one turn's, in one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundDelivery {
    /// The store's id of the delivery, to mark it delivered or failed.
    pub delivery_id: i64,
    /// The conversation.
    pub key: ConversationKey,
    /// The body to POST.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// Everything one turn writes, committed as one.
#[derive(Debug, Clone)]
pub struct TurnCommit {
    /// The conversation.
    pub key: ConversationKey,
    /// The revision it was loaded at (0: new); the commit stores `revision + 1`.
    pub revision: u64,
    /// Its new state, the runtime's `Conversation` as JSON, already at `revision + 1`.
    pub state: String,
    /// The `seq` of the conversation's next output after this turn.
    pub next_seq: u64,
    /// The turn's outputs.
    pub outputs: Vec<StoredOutput>,
    /// The message that started the turn, when it had an id.
    pub message: Option<MessageRecord>,
    /// The pending timer after the turn.
    pub timer: Option<StoredTimer>,
    /// A body to POST to the outbound URL (a turn no request asked for).
    pub outbound: Option<String>,
    /// When the turn ended, in milliseconds since the Unix epoch.
    pub now: i64,
    /// The owner of the conversation's lease that this turn holds: the commit gives it back in
    /// the same transaction, whether it stores the turn or conflicts.
    pub lease_owner: Option<String>,
}

/// What a turn finds before it runs: its message answered already, or the conversation.
#[derive(Debug, Clone)]
pub enum TurnRead {
    /// The message was answered: its record, to answer it again.
    Answered(MessageRecord),
    /// The message is new (or has no id): the conversation, if stored.
    Stored(Option<StoredConversation>),
}

/// What pruning took out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Outputs removed.
    pub outputs: u64,
    /// Message records removed.
    pub messages: u64,
}

/// A store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Someone saved the conversation since it was loaded.
    #[error("conversation `{id}` of bot `{bot}` was saved by someone else since it was loaded")]
    Conflict {
        /// The bot.
        bot: String,
        /// The conversation.
        id: String,
    },
    /// The store's URL names no store this server has.
    #[error(
        "unknown store `{0}` (use sqlite:PATH, e.g. sqlite:flowbot.db, or a PostgreSQL URL, e.g. \
         postgres://flowbot@127.0.0.1/flowbot)"
    )]
    UnknownScheme(String),
    /// The database refused or failed.
    #[error("the store failed: {0}")]
    Backend(String),
    /// The store is closed (the server is shutting down).
    #[error("the store is closed")]
    Closed,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> StoreError {
        StoreError::Backend(error.to_string())
    }
}

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// The storage the server runs on. Implemented by SQLite (embedded, the default) and PostgreSQL
/// (several instances on one database); every backend keeps the promises of this module's
/// documentation.
pub trait Store: Send + Sync + 'static {
    /// The conversation, if stored.
    fn load(
        &self,
        key: &ConversationKey,
    ) -> impl Future<Output = StoreResult<Option<StoredConversation>>> + Send;

    /// The record of message `message_id` of the conversation, if it was answered.
    fn message(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> impl Future<Output = StoreResult<Option<MessageRecord>>> + Send;

    /// What a turn for `message_id` reads first: the message's record if it was answered,
    /// otherwise the conversation. A backend may read both at once; this default asks twice.
    fn load_for_turn(
        &self,
        key: &ConversationKey,
        message_id: Option<&str>,
    ) -> impl Future<Output = StoreResult<TurnRead>> + Send {
        async move {
            if let Some(message_id) = message_id {
                if let Some(record) = self.message(key, message_id).await? {
                    return Ok(TurnRead::Answered(record));
                }
            }
            Ok(TurnRead::Stored(self.load(key).await?))
        }
    }

    /// The conversation's outputs with `seq` in `from..=to`, oldest first, at most `limit`.
    fn outputs(
        &self,
        key: &ConversationKey,
        from: u64,
        to: u64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<StoredOutput>>> + Send;

    /// Writes a turn, durably, in one transaction; see the module's documentation.
    fn commit(&self, commit: TurnCommit) -> impl Future<Output = StoreResult<()>> + Send;

    /// Deletes the conversation with its outputs, messages, timer and deliveries; false when
    /// there was none.
    fn delete(&self, key: &ConversationKey) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Timers due at or before `now`, soonest first, at most `limit`.
    fn due_timers(
        &self,
        now: i64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<DueTimer>>> + Send;

    /// When the soonest pending timer is due.
    fn next_timer(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;

    /// How many timers are pending.
    fn pending_timers(&self) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Outbound deliveries due at or before `now`: for each conversation only its oldest, so
    /// that a conversation's outputs go out in `seq` order; at most `limit`.
    fn due_deliveries(
        &self,
        now: i64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<OutboundDelivery>>> + Send;

    /// Marks a delivery done (it is removed).
    fn delivered(&self, delivery_id: i64) -> impl Future<Output = StoreResult<()>> + Send;

    /// Marks a delivery failed: it is tried again at `retry_at`.
    fn delivery_failed(
        &self,
        delivery_id: i64,
        retry_at: i64,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// When the soonest outbound delivery is due.
    fn next_delivery(&self) -> impl Future<Output = StoreResult<Option<i64>>> + Send;

    /// Removes outputs and message records written before `before`.
    fn prune(&self, before: i64) -> impl Future<Output = StoreResult<Pruned>> + Send;

    /// Whether the store answers.
    fn ping(&self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Whether other processes may commit to this store too (their commits wake nothing here,
    /// so long polls look again from time to time). False unless a backend says so.
    fn shared(&self) -> bool {
        false
    }

    /// Takes the conversation's lease for `owner` until `ttl` from now: true when it was free
    /// or expired (or already `owner`'s), false when someone else holds it.
    fn acquire_lease(
        &self,
        key: &ConversationKey,
        owner: &str,
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Extends `owner`'s lease to `ttl` from now: false when it is no longer `owner`'s (it
    /// expired and someone else took it).
    fn renew_lease(
        &self,
        key: &ConversationKey,
        owner: &str,
        ttl: Duration,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Gives up `owner`'s lease; nothing when it is no longer `owner`'s.
    fn release_lease(
        &self,
        key: &ConversationKey,
        owner: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
}

/// Applies the migrations the store of `url` lacks, without serving: the versions applied now,
/// in order (none when it was up to date). `flowbot serve` applies them at start too.
pub async fn migrate(url: &str) -> StoreResult<Vec<usize>> {
    match StoreUrl::parse(url)? {
        StoreUrl::Sqlite(path) => tokio::task::spawn_blocking(move || sqlite::migrate_file(&path))
            .await
            .map_err(|error| StoreError::Backend(format!("migrating stopped: {error}")))?,
        StoreUrl::Postgres(url) => postgres::PostgresStore::migrate_url(&url).await,
    }
}

/// `url` with the password of its user part masked (`postgres://flowbot:***@db/flowbot`), for
/// logs and messages.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The user part ends at the last `@` before the host's path.
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) if rest[..at].contains(':') => {
            let user = rest[..at].split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        _ => url.to_owned(),
    }
}

/// Which store a `--store` URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL database, by its URL.
    Postgres(String),
}

impl StoreUrl {
    /// Reads `sqlite:PATH` (`sqlite://PATH` and a bare path ending in `.db` also work),
    /// `postgres://...` or `postgresql://...`.
    pub fn parse(url: &str) -> StoreResult<StoreUrl> {
        if postgres::is_postgres_url(url) {
            return Ok(StoreUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .or_else(|| (!url.contains(':') && url.ends_with(".db")).then_some(url))
            .ok_or_else(|| StoreError::UnknownScheme(url.to_owned()))?;
        if path.is_empty() {
            return Err(StoreError::UnknownScheme(url.to_owned()));
        }
        Ok(StoreUrl::Sqlite(path.into()))
    }
}
