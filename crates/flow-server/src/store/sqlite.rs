//! The embedded default store: one SQLite file in WAL mode.
//!
//! One writer thread owns the only connection that writes. Turns send it their commits; it
//! takes every commit waiting at that moment into one transaction, each in a savepoint of its
//! own (a conflict fails that turn alone), and answers them all once `COMMIT` returned, which
//! with `synchronous=FULL` means the write-ahead log reached the disk. So concurrent turns share
//! one fsync (group commit) and a turn is never answered before it is durable.
//! A checkpointer thread copies the log into the file twice a second, so that no commit waits
//! for a checkpoint.
//! Reads go to a few reader threads of the store's own, each with one read-only connection kept
//! open (WAL lets them read while the writer writes): a fixed number of connections and threads,
//! however many turns wait, so the schema is parsed once per connection and the memory of their
//! page caches is bounded.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    ConversationKey, DueTimer, MessageRecord, OutboundDelivery, Pruned, Store, StoreError,
    StoreResult, StoredConversation, StoredOutput, StoredTimer, TurnCommit, TurnRead,
};

/// The schema, one migration per version; a database records the last one applied in its
/// `user_version`. Append, never edit: a file written by an older server is brought up to date
/// at start.
const MIGRATIONS: &[&str] = &[
    // 1: conversations, their outputs, their message records and their outbound deliveries.
    "CREATE TABLE conversations (
        conversation INTEGER PRIMARY KEY,
        bot TEXT NOT NULL,
        id TEXT NOT NULL,
        state TEXT NOT NULL,
        revision INTEGER NOT NULL,
        next_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        timer_id INTEGER,
        timer_due INTEGER,
        UNIQUE (bot, id)
    );
    CREATE INDEX conversations_timer ON conversations (timer_due) WHERE timer_due IS NOT NULL;
    CREATE TABLE outputs (
        conversation INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        body TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (conversation, seq)
    ) WITHOUT ROWID;
    CREATE INDEX outputs_at ON outputs (at);
    CREATE TABLE messages (
        conversation INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        status TEXT NOT NULL,
        notices TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (conversation, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX messages_at ON messages (at);
    CREATE TABLE outbound (
        delivery INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation INTEGER NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        due INTEGER NOT NULL
    );
    CREATE INDEX outbound_conversation ON outbound (conversation, delivery);",
];

/// The most writes taken into one transaction.
const MAX_BATCH: usize = 512;

/// Reader threads, each with its connection.
const READERS: usize = 4;

/// A read for a reader thread: it runs on the thread's connection and sends its own result.
type Read = Box<dyn FnOnce(&Connection) + Send>;

/// A write for the writer thread. It runs inside the batch's transaction (or is given why there
/// is none), and gives back what sends its result once the transaction's end is known.
type Write = Box<dyn FnOnce(Result<&Transaction<'_>, &str>) -> Reply + Send>;

/// Sends a write's result, or the reason the transaction failed.
type Reply = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// `operation` as a [`Write`] that answers on `reply`: it runs in a savepoint of its own, so
/// that its failure undoes only its own writes, and it succeeds only if the transaction commits.
fn write_of<T: Send + 'static>(
    operation: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    reply: oneshot::Sender<StoreResult<T>>,
) -> Write {
    Box::new(move |transaction| {
        let result = transaction
            .map_err(|reason| StoreError::Backend(reason.to_owned()))
            .and_then(|transaction| in_savepoint(transaction, operation));
        Box::new(move |committed| {
            let outcome = match committed {
                Ok(()) => result,
                Err(reason) => Err(StoreError::Backend(reason.to_owned())),
            };
            // The turn may have stopped waiting (the runtime is going away): nothing to tell.
            let _ = reply.send(outcome);
        })
    })
}

/// Conversations in one SQLite file. Cloning shares the writer and the readers.
#[derive(Clone)]
pub struct SqliteStore {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    writes: mpsc::UnboundedSender<Write>,
    reads: std::sync::mpsc::Sender<Read>,
    /// Dropped with the store, which stops the checkpointer.
    _stop_checkpoints: std::sync::mpsc::Sender<()>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the database at `path`, applies the migrations it lacks,
    /// and starts the writer thread.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        let mut writer = Connection::open(path)
            .map_err(|error| StoreError::Backend(format!("{}: {error}", path.display())))?;
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "OFF")?;
        writer.busy_timeout(std::time::Duration::from_secs(5))?;
        // The checkpointer thread copies the log into the file; commits never wait for it.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        migrate(&mut writer)?;
        let (reads, read_queue) = std::sync::mpsc::channel::<Read>();
        let read_queue = Arc::new(Mutex::new(read_queue));
        for number in 0..READERS {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            reader.busy_timeout(std::time::Duration::from_secs(5))?;
            let queue = Arc::clone(&read_queue);
            std::thread::Builder::new()
                .name(format!("flowbot-sqlite-reader-{number}"))
                .spawn(move || read_loop(&reader, &queue))
                .map_err(|error| StoreError::Backend(format!("starting a reader: {error}")))?;
        }
        let checkpointer = Connection::open(path)?;
        checkpointer.busy_timeout(std::time::Duration::from_secs(5))?;
        let (stop_checkpoints, checkpoints_stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("flowbot-sqlite-checkpointer".to_owned())
            .spawn(move || checkpoint_loop(&checkpointer, &checkpoints_stopped))
            .map_err(|error| StoreError::Backend(format!("starting the checkpointer: {error}")))?;
        let (writes, queue) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("flowbot-sqlite-writer".to_owned())
            .spawn(move || write_loop(writer, queue))
            .map_err(|error| StoreError::Backend(format!("starting the writer: {error}")))?;
        Ok(SqliteStore {
            shared: Arc::new(Shared {
                path: path.to_owned(),
                writes,
                reads,
                _stop_checkpoints: stop_checkpoints,
            }),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    async fn write<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        self.shared
            .writes
            .send(write_of(operation, reply))
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    async fn read<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let read: Read = Box::new(move |reader| {
            // The turn may have stopped waiting: nothing to tell.
            let _ = reply.send(query(reader));
        });
        self.shared
            .reads
            .send(read)
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

/// How often the checkpointer copies the write-ahead log into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The checkpointer thread: every [`CHECKPOINT_EVERY`], a passive checkpoint (it copies what
/// no reader still needs and never blocks the writer), until the store is dropped. Off the
/// writer's thread, a checkpoint's own fsync never delays a commit; SQLite starts the log
/// over at the next commit after a complete one, so it does not grow without end.
fn checkpoint_loop(connection: &Connection, stop: &std::sync::mpsc::Receiver<()>) {
    loop {
        match stop.recv_timeout(CHECKPOINT_EVERY) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if let Err(error) =
                    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                {
                    tracing::warn!(%error, "a checkpoint of the SQLite log failed");
                }
            }
            _ => return,
        }
    }
}

/// A reader thread: runs the reads queued for it until the store is dropped.
fn read_loop(reader: &Connection, queue: &Mutex<std::sync::mpsc::Receiver<Read>>) {
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        match next {
            Ok(read) => read(reader),
            Err(_) => return,
        }
    }
}

/// Applies the migrations the database lacks, each in its own transaction.
/// Brings the file at `path` (created if needed) up to this server's schema, alone: the
/// versions applied now, in order.
pub fn migrate_file(path: &Path) -> StoreResult<Vec<usize>> {
    let mut connection = Connection::open(path)
        .map_err(|error| StoreError::Backend(format!("{}: {error}", path.display())))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut connection)
}

fn migrate(connection: &mut Connection) -> StoreResult<Vec<usize>> {
    let applied: usize = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database is at schema version {applied}, newer than this server's {}; run a \
             newer flowbot",
            MIGRATIONS.len()
        )));
    }
    let mut versions = Vec::new();
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index + 1)?;
        transaction.commit()?;
        tracing::info!(version = index + 1, "store migrated");
        versions.push(index + 1);
    }
    Ok(versions)
}

/// The writer thread: every write waiting at once goes into one transaction.
fn write_loop(mut connection: Connection, mut queue: mpsc::UnboundedReceiver<Write>) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(write) => batch.push(write),
                Err(_) => break,
            }
        }
        write_batch(&mut connection, batch);
    }
}

fn write_batch(connection: &mut Connection, batch: Vec<Write>) {
    let transaction = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(transaction) => transaction,
        Err(error) => {
            let reason = error.to_string();
            for write in batch {
                write(Err(&reason))(Err(&reason));
            }
            return;
        }
    };
    let replies: Vec<Reply> = batch
        .into_iter()
        .map(|write| write(Ok(&transaction)))
        .collect();
    let committed = transaction.commit().map_err(|error| error.to_string());
    for reply in replies {
        reply(committed.as_ref().map(|_| ()).map_err(String::as_str));
    }
}

/// Runs `write` in a savepoint of its own: when it fails, what it wrote is undone and the other
/// writes of the transaction stay.
fn in_savepoint<T>(
    transaction: &Transaction<'_>,
    write: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    transaction.prepare_cached("SAVEPOINT turn")?.execute([])?;
    match write(transaction) {
        Ok(value) => {
            transaction.prepare_cached("RELEASE turn")?.execute([])?;
            Ok(value)
        }
        Err(error) => {
            transaction.execute_batch("ROLLBACK TO turn; RELEASE turn")?;
            Err(error)
        }
    }
}

fn commit_turn(connection: &Connection, commit: &TurnCommit) -> StoreResult<()> {
    let key = &commit.key;
    let stored: Option<(i64, u64)> = connection
        .prepare_cached(
            "SELECT conversation, revision FROM conversations WHERE bot = ?1 AND id = ?2",
        )?
        .query_row(params![key.bot, key.id.as_str()], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    let expected = commit.revision;
    if stored.map_or(0, |(_, revision)| revision) != expected {
        return Err(StoreError::Conflict {
            bot: key.bot.clone(),
            id: key.id.to_string(),
        });
    }
    let state = &commit.state;
    let (timer_id, timer_due) = match commit.timer {
        Some(timer) => (Some(timer.timer_id), Some(timer.due_at)),
        None => (None, None),
    };
    let row = match stored {
        Some((row, _)) => {
            connection
                .prepare_cached(
                    "UPDATE conversations SET state = ?2, revision = ?3, next_seq = ?4, \
                     updated_at = ?5, timer_id = ?6, timer_due = ?7 WHERE conversation = ?1",
                )?
                .execute(params![
                    row,
                    state,
                    expected + 1,
                    commit.next_seq,
                    commit.now,
                    timer_id,
                    timer_due
                ])?;
            row
        }
        None => {
            connection
                .prepare_cached(
                    "INSERT INTO conversations (bot, id, state, revision, next_seq, created_at, \
                     updated_at, timer_id, timer_due) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8)",
                )?
                .execute(params![
                    key.bot,
                    key.id.as_str(),
                    state,
                    expected + 1,
                    commit.next_seq,
                    commit.now,
                    timer_id,
                    timer_due
                ])?;
            connection.last_insert_rowid()
        }
    };
    let mut insert_output = connection.prepare_cached(
        "INSERT INTO outputs (conversation, seq, body, at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for output in &commit.outputs {
        insert_output.execute(params![row, output.seq, output.json, commit.now])?;
    }
    if let Some(message) = &commit.message {
        connection
            .prepare_cached(
                "INSERT OR REPLACE INTO messages (conversation, message_id, first_seq, last_seq, \
                 status, notices, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                row,
                message.message_id,
                message.first_seq,
                message.last_seq,
                message.status,
                message.notices,
                commit.now
            ])?;
    }
    if let Some(body) = &commit.outbound {
        connection
            .prepare_cached(
                "INSERT INTO outbound (conversation, body, attempts, due) VALUES (?1, ?2, 0, ?3)",
            )?
            .execute(params![row, body, commit.now])?;
    }
    Ok(())
}

fn delete(connection: &Connection, key: &ConversationKey) -> StoreResult<bool> {
    let row: Option<i64> = connection
        .prepare_cached("SELECT conversation FROM conversations WHERE bot = ?1 AND id = ?2")?
        .query_row(params![key.bot, key.id.as_str()], |row| row.get(0))
        .optional()?;
    let Some(row) = row else {
        return Ok(false);
    };
    for table in ["outputs", "messages", "outbound", "conversations"] {
        connection.execute(
            &format!("DELETE FROM {table} WHERE conversation = ?1"),
            [row],
        )?;
    }
    Ok(true)
}

fn prune(connection: &Connection, before: i64) -> StoreResult<Pruned> {
    let outputs = connection.execute("DELETE FROM outputs WHERE at < ?1", [before])?;
    let messages = connection.execute("DELETE FROM messages WHERE at < ?1", [before])?;
    Ok(Pruned {
        outputs: outputs as u64,
        messages: messages as u64,
    })
}

fn parse_state(state: &str) -> StoreResult<flow_runtime::Conversation> {
    serde_json::from_str(state)
        .map_err(|error| StoreError::Backend(format!("reading a stored conversation: {error}")))
}

/// The conversation of `key`, if stored.
fn load_on(reader: &Connection, key: &ConversationKey) -> StoreResult<Option<StoredConversation>> {
    let row = reader
        .prepare_cached(
            "SELECT state, next_seq, created_at, updated_at FROM conversations \
             WHERE bot = ?1 AND id = ?2",
        )?
        .query_row(params![key.bot, key.id.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
            ))
        })
        .optional()?;
    row.map(|(state, next_seq, created_at, updated_at)| {
        Ok(StoredConversation {
            conversation: parse_state(&state)?,
            next_seq,
            created_at,
            updated_at,
        })
    })
    .transpose()
}

/// The record of message `message_id` of `key`, if it was answered.
fn message_on(
    reader: &Connection,
    key: &ConversationKey,
    message_id: &str,
) -> StoreResult<Option<MessageRecord>> {
    Ok(reader
        .prepare_cached(
            "SELECT m.first_seq, m.last_seq, m.status, m.notices FROM messages m \
             JOIN conversations c ON c.conversation = m.conversation \
             WHERE c.bot = ?1 AND c.id = ?2 AND m.message_id = ?3",
        )?
        .query_row(params![key.bot, key.id.as_str(), message_id], |row| {
            Ok(MessageRecord {
                message_id: message_id.to_owned(),
                first_seq: row.get(0)?,
                last_seq: row.get(1)?,
                status: row.get(2)?,
                notices: row.get(3)?,
            })
        })
        .optional()?)
}

impl Store for SqliteStore {
    async fn load(&self, key: &ConversationKey) -> StoreResult<Option<StoredConversation>> {
        let key = key.clone();
        self.read(move |reader| load_on(reader, &key)).await
    }

    async fn message(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        let (key, message_id) = (key.clone(), message_id.to_owned());
        self.read(move |reader| message_on(reader, &key, &message_id))
            .await
    }

    async fn load_for_turn(
        &self,
        key: &ConversationKey,
        message_id: Option<&str>,
    ) -> StoreResult<TurnRead> {
        let (key, message_id) = (key.clone(), message_id.map(str::to_owned));
        // One trip to a reader thread, not two.
        self.read(move |reader| {
            if let Some(message_id) = &message_id {
                if let Some(record) = message_on(reader, &key, message_id)? {
                    return Ok(TurnRead::Answered(record));
                }
            }
            Ok(TurnRead::Stored(load_on(reader, &key)?))
        })
        .await
    }

    async fn outputs(
        &self,
        key: &ConversationKey,
        from: u64,
        to: u64,
        limit: usize,
    ) -> StoreResult<Vec<StoredOutput>> {
        let key = key.clone();
        self.read(move |reader| {
            let mut query = reader.prepare_cached(
                "SELECT o.seq, o.body FROM outputs o \
                 JOIN conversations c ON c.conversation = o.conversation \
                 WHERE c.bot = ?1 AND c.id = ?2 AND o.seq >= ?3 AND o.seq <= ?4 \
                 ORDER BY o.seq LIMIT ?5",
            )?;
            let rows = query.query_map(
                // SQLite integers are signed: a `seq` past i64::MAX (a client's `after`) would
                // fail to bind, and no stored `seq` is that large.
                params![
                    key.bot,
                    key.id.as_str(),
                    from.min(i64::MAX as u64),
                    to.min(i64::MAX as u64),
                    limit as i64
                ],
                |row| {
                    Ok(StoredOutput {
                        seq: row.get(0)?,
                        json: row.get(1)?,
                    })
                },
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn commit(&self, commit: TurnCommit) -> StoreResult<()> {
        self.write(move |connection| commit_turn(connection, &commit))
            .await
    }

    async fn delete(&self, key: &ConversationKey) -> StoreResult<bool> {
        let key = key.clone();
        self.write(move |connection| delete(connection, &key)).await
    }

    async fn due_timers(&self, now: i64, limit: usize) -> StoreResult<Vec<DueTimer>> {
        self.read(move |reader| {
            let mut query = reader.prepare_cached(
                "SELECT bot, id, timer_id, timer_due FROM conversations \
                 WHERE timer_due IS NOT NULL AND timer_due <= ?1 ORDER BY timer_due LIMIT ?2",
            )?;
            let rows = query.query_map(params![now, limit as i64], |row| {
                Ok(DueTimer {
                    key: ConversationKey::new(&row.get::<_, String>(0)?, &row.get::<_, String>(1)?),
                    timer: StoredTimer {
                        timer_id: row.get(2)?,
                        due_at: row.get(3)?,
                    },
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn next_timer(&self) -> StoreResult<Option<i64>> {
        self.read(|reader| {
            Ok(reader
                .prepare_cached(
                    "SELECT MIN(timer_due) FROM conversations WHERE timer_due IS NOT NULL",
                )?
                .query_row([], |row| row.get(0))?)
        })
        .await
    }

    async fn pending_timers(&self) -> StoreResult<u64> {
        self.read(|reader| {
            Ok(reader
                .prepare_cached("SELECT COUNT(*) FROM conversations WHERE timer_due IS NOT NULL")?
                .query_row([], |row| row.get(0))?)
        })
        .await
    }

    async fn due_deliveries(&self, now: i64, limit: usize) -> StoreResult<Vec<OutboundDelivery>> {
        self.read(move |reader| {
            let mut query = reader.prepare_cached(
                "SELECT o.delivery, c.bot, c.id, o.body, o.attempts FROM outbound o \
                 JOIN conversations c ON c.conversation = o.conversation \
                 WHERE o.due <= ?1 AND o.delivery = \
                   (SELECT MIN(first.delivery) FROM outbound first \
                    WHERE first.conversation = o.conversation) \
                 ORDER BY o.delivery LIMIT ?2",
            )?;
            let rows = query.query_map(params![now, limit as i64], |row| {
                Ok(OutboundDelivery {
                    delivery_id: row.get(0)?,
                    key: ConversationKey::new(&row.get::<_, String>(1)?, &row.get::<_, String>(2)?),
                    body: row.get(3)?,
                    attempts: row.get(4)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn delivered(&self, delivery_id: i64) -> StoreResult<()> {
        self.write(move |connection| {
            connection.execute("DELETE FROM outbound WHERE delivery = ?1", [delivery_id])?;
            Ok(())
        })
        .await
    }

    async fn delivery_failed(&self, delivery_id: i64, retry_at: i64) -> StoreResult<()> {
        self.write(move |connection| {
            connection.execute(
                "UPDATE outbound SET attempts = attempts + 1, due = ?2 WHERE delivery = ?1",
                [delivery_id, retry_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn next_delivery(&self) -> StoreResult<Option<i64>> {
        self.read(|reader| {
            Ok(reader
                .prepare_cached("SELECT MIN(due) FROM outbound")?
                .query_row([], |row| row.get(0))?)
        })
        .await
    }

    async fn prune(&self, before: i64) -> StoreResult<Pruned> {
        self.write(move |connection| prune(connection, before))
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.read(|reader| {
            reader.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    /// One process owns a SQLite file, and its `TurnLocks` already order the turns of a
    /// conversation: the lease is always free.
    async fn acquire_lease(
        &self,
        _key: &ConversationKey,
        _owner: &str,
        _ttl: std::time::Duration,
    ) -> StoreResult<bool> {
        Ok(true)
    }

    /// Always the owner's: see [`SqliteStore::acquire_lease`].
    async fn renew_lease(
        &self,
        _key: &ConversationKey,
        _owner: &str,
        _ttl: std::time::Duration,
    ) -> StoreResult<bool> {
        Ok(true)
    }

    /// Nothing to give up: see [`SqliteStore::acquire_lease`].
    async fn release_lease(&self, _key: &ConversationKey, _owner: &str) -> StoreResult<()> {
        Ok(())
    }
}

/// Opens the store a URL names: `sqlite:PATH` (`sqlite://PATH` and a bare path ending in `.db`
/// also work); another scheme is [`StoreError::UnknownScheme`].
pub fn open_url(url: &str) -> StoreResult<SqliteStore> {
    match super::StoreUrl::parse(url)? {
        super::StoreUrl::Sqlite(path) => SqliteStore::open(&path),
        super::StoreUrl::Postgres(_) => Err(StoreError::UnknownScheme(url.to_owned())),
    }
}

#[cfg(test)]
pub(super) mod tests;
