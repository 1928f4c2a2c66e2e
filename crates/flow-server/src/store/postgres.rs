//! The PostgreSQL store: several `flowbot serve` instances share one database.
//!
//! tokio-postgres with a deadpool connection pool. A commit is one transaction of a few
//! statements; PostgreSQL's default `synchronous_commit = on` makes `COMMIT` return only once
//! the write-ahead log is on disk, so a turn is never answered before it is durable, and
//! concurrent commits share the server's WAL flushes (PostgreSQL groups them itself).
//!
//! Turns of one conversation on different instances are ordered by a lease row per
//! conversation ([`Store::acquire_lease`]), taken before the replay check and released after
//! the commit; no transaction is held open while a webhook runs. The revision check of the
//! commit (`UPDATE ... WHERE revision = $old`) is the fence: an instance whose lease expired
//! mid-turn cannot overwrite the newer state, its commit is a [`StoreError::Conflict`].
//!
//! Due timers and outbound deliveries are claimed (`FOR UPDATE SKIP LOCKED` and a claim time)
//! by one instance at a time; a claim expires, so that what a crashed instance claimed is tried
//! again by another.
//!
//! Connections are plain TCP or Unix sockets without TLS (`NoTls`): run the database on the same
//! host or a private network (`docs/deployment.md`).

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

use super::{
    ConversationKey, DueTimer, MessageRecord, OutboundDelivery, Pruned, Store, StoreError,
    StoreResult, StoredConversation, StoredOutput, StoredTimer, TurnCommit, TurnRead,
};

/// The schema, one migration per version; `schema_migrations` records those applied. Append,
/// never edit.
const MIGRATIONS: &[&str] = &[
    // 1: conversations, outputs, message records, outbound deliveries and leases.
    "CREATE TABLE conversations (
        conversation BIGSERIAL PRIMARY KEY,
        bot TEXT NOT NULL,
        id TEXT NOT NULL,
        state TEXT NOT NULL,
        revision BIGINT NOT NULL,
        next_seq BIGINT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        timer_id BIGINT,
        timer_due BIGINT,
        timer_claimed_until BIGINT,
        UNIQUE (bot, id)
    );
    CREATE INDEX conversations_timer ON conversations (timer_due) WHERE timer_due IS NOT NULL;
    CREATE TABLE outputs (
        conversation BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        body TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (conversation, seq)
    );
    CREATE INDEX outputs_at ON outputs (at);
    CREATE TABLE messages (
        conversation BIGINT NOT NULL,
        message_id TEXT NOT NULL,
        first_seq BIGINT NOT NULL,
        last_seq BIGINT NOT NULL,
        status TEXT NOT NULL,
        notices TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (conversation, message_id)
    );
    CREATE INDEX messages_at ON messages (at);
    CREATE TABLE outbound (
        delivery BIGSERIAL PRIMARY KEY,
        conversation BIGINT NOT NULL,
        body TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        due BIGINT NOT NULL,
        claimed_until BIGINT
    );
    CREATE INDEX outbound_conversation ON outbound (conversation, delivery);
    CREATE UNLOGGED TABLE leases (
        bot TEXT NOT NULL,
        id TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (bot, id)
    );",
];

// `leases` is UNLOGGED: taking and giving back a lease writes no WAL, so it waits for no disk
// flush. A crash of the database empties it, which frees every lease: safe, since the commit's
// revision check is the fence, and a turn that lost its lease that way conflicts.

/// The database's clock in milliseconds since the Unix epoch: leases are judged by one clock,
/// not by each instance's.
const DB_NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// Connections kept in the pool.
const POOL_SIZE: usize = 16;

/// How long a claimed timer or delivery is left to its claimer before another instance may
/// take it, unless [`PostgresStore::connect`] is given another.
pub const DEFAULT_CLAIM: Duration = Duration::from_secs(60);

/// Conversations in a PostgreSQL database (the schema of the URL's `search_path`). Cloning
/// shares the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    claim_ms: i64,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> StoreError {
        match error.as_db_error() {
            Some(db) => StoreError::Backend(format!("postgresql: {}", db.message())),
            None => {
                // "error connecting to server" alone does not say why: add the causes.
                let mut message = format!("postgresql: {error}");
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    let cause_text = cause.to_string();
                    if !message.ends_with(&cause_text) {
                        message.push_str(": ");
                        message.push_str(&cause_text);
                    }
                    source = cause.source();
                }
                StoreError::Backend(message)
            }
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> StoreError {
        match error {
            deadpool_postgres::PoolError::Backend(error) => error.into(),
            other => StoreError::Backend(format!("postgresql connection pool: {other}")),
        }
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl PostgresStore {
    /// Connects to the database of `url` (a libpq URL, e.g.
    /// `postgres://flowbot@127.0.0.1/flowbot`), applies the migrations it lacks, and keeps a
    /// pool of connections. Claimed timers and deliveries are left to their claimer for `claim`.
    pub async fn connect(url: &str, claim: Duration) -> StoreResult<PostgresStore> {
        let store = PostgresStore::pool_only(url, claim)?;
        store.migrate().await?;
        Ok(store)
    }

    /// Brings the database of `url` up to this server's schema, alone: the versions applied
    /// now, in order (`flowbot migrate`).
    pub async fn migrate_url(url: &str) -> StoreResult<Vec<usize>> {
        PostgresStore::pool_only(url, DEFAULT_CLAIM)?
            .migrate()
            .await
    }

    /// The pool alone, before any connection is made.
    fn pool_only(url: &str, claim: Duration) -> StoreResult<PostgresStore> {
        let config = tokio_postgres::Config::from_str(url).map_err(|error| {
            StoreError::Backend(format!("the store URL is not a PostgreSQL URL: {error}"))
        })?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .create_timeout(Some(Duration::from_secs(10)))
            .wait_timeout(Some(Duration::from_secs(30)))
            .build()
            .map_err(|error| StoreError::Backend(format!("postgresql connection pool: {error}")))?;
        Ok(PostgresStore {
            pool,
            claim_ms: claim.as_millis().min(i64::MAX as u128) as i64,
        })
    }

    /// Applies the migrations the database lacks, under an advisory lock so that instances
    /// starting together do not race; the versions applied now, in order (none when it was up
    /// to date).
    pub async fn migrate(&self) -> StoreResult<Vec<usize>> {
        let mut client = self.pool.get().await?;
        // One lock per schema: tests run in schemas of their own on one database.
        client
            .execute(
                "SELECT pg_advisory_lock(hashtext('flowbot migrations ' || current_schema()))",
                &[],
            )
            .await?;
        let result = apply_migrations(&mut client).await;
        let unlocked = client
            .execute(
                "SELECT pg_advisory_unlock(hashtext('flowbot migrations ' || current_schema()))",
                &[],
            )
            .await;
        let applied = result?;
        unlocked?;
        Ok(applied)
    }
}

async fn apply_migrations(client: &mut deadpool_postgres::Client) -> StoreResult<Vec<usize>> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await?;
    let current = row.get::<_, i32>(0) as usize;
    if current > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database is at schema version {current}, newer than this server's {}; run a \
             newer flowbot",
            MIGRATIONS.len()
        )));
    }
    let mut applied = Vec::new();
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = index + 1;
        let transaction = client.transaction().await?;
        transaction.batch_execute(migration).await?;
        transaction
            .execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&(version as i32)],
            )
            .await?;
        transaction.commit().await?;
        tracing::info!(version, "store migrated");
        applied.push(version);
    }
    Ok(applied)
}

/// A `u64` the API counts with, as PostgreSQL's signed `BIGINT` (no stored value is that large;
/// a client's `after` past it is clamped).
fn big(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}

fn parse_state(state: &str) -> StoreResult<flow_runtime::Conversation> {
    serde_json::from_str(state)
        .map_err(|error| StoreError::Backend(format!("reading a stored conversation: {error}")))
}

fn conflict(key: &ConversationKey) -> StoreError {
    StoreError::Conflict {
        bot: key.bot.clone(),
        id: key.id.to_string(),
    }
}

/// The first part of a commit's statement: the conversation's row, updated at the revision it
/// was loaded at, or inserted when it was new; no row comes back on a conflict.
const UPDATE_CONVERSATION: &str = "UPDATE conversations SET state = $3, revision = $4 + 1, \
     next_seq = $5, updated_at = $6, timer_id = $7, timer_due = $8, timer_claimed_until = NULL \
     WHERE bot = $1 AND id = $2 AND revision = $4 RETURNING conversation";

/// As [`UPDATE_CONVERSATION`], for a conversation loaded at revision 0 (none stored).
const INSERT_CONVERSATION: &str = "INSERT INTO conversations (bot, id, state, revision, \
     next_seq, created_at, updated_at, timer_id, timer_due) \
     SELECT $1::text, $2::text, $3::text, $4::bigint + 1, $5::bigint, $6::bigint, $6::bigint, \
     $7::bigint, $8::bigint \
     ON CONFLICT (bot, id) DO NOTHING RETURNING conversation";

/// The rest of a commit's statement: the outputs, the message record and the delivery, written
/// only when the conversation's row was; and the turn's lease given back, in any case.
const WRITE_THE_REST: &str = "), o AS ( \
       INSERT INTO outputs (conversation, seq, body, at) \
       SELECT c.conversation, o.seq, o.body, $6 FROM c, \
       unnest($9::bigint[], $10::text[]) AS o(seq, body) \
     ), m AS ( \
       INSERT INTO messages (conversation, message_id, first_seq, last_seq, status, notices, at) \
       SELECT c.conversation, $11::text, $12::bigint, $13::bigint, $14::text, $15::text, $6 \
       FROM c WHERE $11::text IS NOT NULL \
       ON CONFLICT (conversation, message_id) DO UPDATE SET first_seq = EXCLUDED.first_seq, \
       last_seq = EXCLUDED.last_seq, status = EXCLUDED.status, notices = EXCLUDED.notices, \
       at = EXCLUDED.at \
     ), d AS ( \
       INSERT INTO outbound (conversation, body, attempts, due) \
       SELECT c.conversation, $16::text, 0, $6 FROM c WHERE $16::text IS NOT NULL \
     ), l AS ( \
       DELETE FROM leases WHERE bot = $1 AND id = $2 AND owner = $17::text \
     ) SELECT conversation FROM c";

impl PostgresStore {
    /// A turn in one statement, so one round trip and one transaction: its data-modifying
    /// parts write the outputs, the message record and the delivery only beside the
    /// conversation's row, which is written only at the revision it was loaded at.
    async fn commit_turn(&self, commit: &TurnCommit) -> StoreResult<()> {
        let key = &commit.key;
        let client = self.pool.get().await?;
        let head = match commit.revision {
            0 => INSERT_CONVERSATION,
            _ => UPDATE_CONVERSATION,
        };
        let statement = client
            .prepare_cached(&format!("WITH c AS ({head}{WRITE_THE_REST}"))
            .await?;
        let (timer_id, timer_due) = match commit.timer {
            Some(timer) => (Some(big(timer.timer_id)), Some(timer.due_at)),
            None => (None, None),
        };
        let seqs: Vec<i64> = commit
            .outputs
            .iter()
            .map(|output| big(output.seq))
            .collect();
        let bodies: Vec<&str> = commit.outputs.iter().map(|o| o.json.as_str()).collect();
        let message = commit.message.as_ref();
        let row = client
            .query_opt(
                &statement,
                &[
                    &key.bot,
                    &key.id.as_str(),
                    &commit.state,
                    &big(commit.revision),
                    &big(commit.next_seq),
                    &commit.now,
                    &timer_id,
                    &timer_due,
                    &seqs,
                    &bodies,
                    &message.map(|message| message.message_id.as_str()),
                    &message.map(|message| big(message.first_seq)),
                    &message.map(|message| big(message.last_seq)),
                    &message.map(|message| message.status.as_str()),
                    &message.map(|message| message.notices.as_str()),
                    &commit.outbound.as_deref(),
                    &commit.lease_owner.as_deref(),
                ],
            )
            .await?;
        // No row: another revision is stored (or none, or one already): nothing was written.
        match row {
            Some(_) => Ok(()),
            None => Err(conflict(key)),
        }
    }
}

impl Store for PostgresStore {
    async fn load(&self, key: &ConversationKey) -> StoreResult<Option<StoredConversation>> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(
                "SELECT state, next_seq, created_at, updated_at FROM conversations \
                 WHERE bot = $1 AND id = $2",
            )
            .await?;
        let Some(row) = client
            .query_opt(&query, &[&key.bot, &key.id.as_str()])
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(StoredConversation {
            conversation: parse_state(row.get(0))?,
            next_seq: row.get::<_, i64>(1) as u64,
            created_at: row.get(2),
            updated_at: row.get(3),
        }))
    }

    async fn message(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> StoreResult<Option<MessageRecord>> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(
                "SELECT m.first_seq, m.last_seq, m.status, m.notices FROM messages m \
                 JOIN conversations c ON c.conversation = m.conversation \
                 WHERE c.bot = $1 AND c.id = $2 AND m.message_id = $3",
            )
            .await?;
        let row = client
            .query_opt(&query, &[&key.bot, &key.id.as_str(), &message_id])
            .await?;
        Ok(row.map(|row| MessageRecord {
            message_id: message_id.to_owned(),
            first_seq: row.get::<_, i64>(0) as u64,
            last_seq: row.get::<_, i64>(1) as u64,
            status: row.get(2),
            notices: row.get(3),
        }))
    }

    /// One query for the message record and the conversation.
    async fn load_for_turn(
        &self,
        key: &ConversationKey,
        message_id: Option<&str>,
    ) -> StoreResult<TurnRead> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(
                "SELECT c.state, c.next_seq, c.created_at, c.updated_at, \
                 m.first_seq, m.last_seq, m.status, m.notices \
                 FROM conversations c LEFT JOIN messages m \
                 ON m.conversation = c.conversation AND m.message_id = $3::text \
                 WHERE c.bot = $1 AND c.id = $2",
            )
            .await?;
        let Some(row) = client
            .query_opt(&query, &[&key.bot, &key.id.as_str(), &message_id])
            .await?
        else {
            return Ok(TurnRead::Stored(None));
        };
        if let (Some(message_id), Some(first_seq)) = (message_id, row.get::<_, Option<i64>>(4)) {
            return Ok(TurnRead::Answered(MessageRecord {
                message_id: message_id.to_owned(),
                first_seq: first_seq as u64,
                last_seq: row.get::<_, i64>(5) as u64,
                status: row.get(6),
                notices: row.get(7),
            }));
        }
        Ok(TurnRead::Stored(Some(StoredConversation {
            conversation: parse_state(row.get(0))?,
            next_seq: row.get::<_, i64>(1) as u64,
            created_at: row.get(2),
            updated_at: row.get(3),
        })))
    }

    async fn outputs(
        &self,
        key: &ConversationKey,
        from: u64,
        to: u64,
        limit: usize,
    ) -> StoreResult<Vec<StoredOutput>> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(
                "SELECT o.seq, o.body FROM outputs o \
                 JOIN conversations c ON c.conversation = o.conversation \
                 WHERE c.bot = $1 AND c.id = $2 AND o.seq >= $3 AND o.seq <= $4 \
                 ORDER BY o.seq LIMIT $5",
            )
            .await?;
        let rows = client
            .query(
                &query,
                &[
                    &key.bot,
                    &key.id.as_str(),
                    &big(from),
                    &big(to),
                    &big(limit as u64),
                ],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| StoredOutput {
                seq: row.get::<_, i64>(0) as u64,
                json: row.get(1),
            })
            .collect())
    }

    async fn commit(&self, commit: TurnCommit) -> StoreResult<()> {
        self.commit_turn(&commit).await
    }

    async fn delete(&self, key: &ConversationKey) -> StoreResult<bool> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let row = transaction
            .query_opt(
                "DELETE FROM conversations WHERE bot = $1 AND id = $2 RETURNING conversation",
                &[&key.bot, &key.id.as_str()],
            )
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let conversation: i64 = row.get(0);
        for table in ["outputs", "messages", "outbound"] {
            transaction
                .execute(
                    &format!("DELETE FROM {table} WHERE conversation = $1"),
                    &[&conversation],
                )
                .await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    /// Claims them too: each due timer goes to one instance for the claim time, after which
    /// (its claimer died, or its turn failed) it is due again.
    async fn due_timers(&self, now: i64, limit: usize) -> StoreResult<Vec<DueTimer>> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(
                "UPDATE conversations c SET timer_claimed_until = $3 FROM ( \
                   SELECT conversation FROM conversations \
                   WHERE timer_due IS NOT NULL AND timer_due <= $1 \
                     AND (timer_claimed_until IS NULL OR timer_claimed_until <= $1) \
                   ORDER BY timer_due LIMIT $2 FOR UPDATE SKIP LOCKED) due \
                 WHERE c.conversation = due.conversation \
                 RETURNING c.bot, c.id, c.timer_id, c.timer_due",
            )
            .await?;
        let rows = client
            .query(
                &query,
                &[&now, &big(limit as u64), &now.saturating_add(self.claim_ms)],
            )
            .await?;
        let mut due: Vec<DueTimer> = rows
            .into_iter()
            .map(|row| DueTimer {
                key: ConversationKey::new(row.get(0), row.get(1)),
                timer: StoredTimer {
                    timer_id: row.get::<_, i64>(2) as u64,
                    due_at: row.get(3),
                },
            })
            .collect();
        due.sort_by_key(|timer| timer.timer.due_at);
        Ok(due)
    }

    /// A timer claimed by someone counts as due when its claim ends.
    async fn next_timer(&self) -> StoreResult<Option<i64>> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT MIN(GREATEST(timer_due, COALESCE(timer_claimed_until, 0))) \
                 FROM conversations WHERE timer_due IS NOT NULL",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn pending_timers(&self) -> StoreResult<u64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT COUNT(*) FROM conversations WHERE timer_due IS NOT NULL",
                &[],
            )
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    /// Claims them too, as [`Store::due_timers`] does: a delivery is POSTed by one instance at
    /// a time, and a conversation's next one is not due while its oldest is claimed.
    async fn due_deliveries(&self, now: i64, limit: usize) -> StoreResult<Vec<OutboundDelivery>> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(
                "UPDATE outbound o SET claimed_until = $3 FROM ( \
                   SELECT first.delivery FROM outbound first \
                   WHERE first.due <= $1 \
                     AND (first.claimed_until IS NULL OR first.claimed_until <= $1) \
                     AND first.delivery = (SELECT MIN(other.delivery) FROM outbound other \
                                           WHERE other.conversation = first.conversation) \
                   ORDER BY first.delivery LIMIT $2 FOR UPDATE SKIP LOCKED) due, \
                 conversations c \
                 WHERE o.delivery = due.delivery AND c.conversation = o.conversation \
                 RETURNING o.delivery, c.bot, c.id, o.body, o.attempts",
            )
            .await?;
        let rows = client
            .query(
                &query,
                &[&now, &big(limit as u64), &now.saturating_add(self.claim_ms)],
            )
            .await?;
        // The conversation's key comes with the claim: one statement, not one more per row.
        let mut deliveries: Vec<OutboundDelivery> = rows
            .into_iter()
            .map(|row| OutboundDelivery {
                delivery_id: row.get(0),
                key: ConversationKey::new(row.get(1), row.get(2)),
                body: row.get(3),
                attempts: row.get::<_, i32>(4) as u32,
            })
            .collect();
        deliveries.sort_by_key(|delivery| delivery.delivery_id);
        Ok(deliveries)
    }

    async fn delivered(&self, delivery_id: i64) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute("DELETE FROM outbound WHERE delivery = $1", &[&delivery_id])
            .await?;
        Ok(())
    }

    async fn delivery_failed(&self, delivery_id: i64, retry_at: i64) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "UPDATE outbound SET attempts = attempts + 1, due = $2, claimed_until = NULL \
                 WHERE delivery = $1",
                &[&delivery_id, &retry_at],
            )
            .await?;
        Ok(())
    }

    async fn next_delivery(&self) -> StoreResult<Option<i64>> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "SELECT MIN(GREATEST(due, COALESCE(claimed_until, 0))) FROM outbound",
                &[],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn prune(&self, before: i64) -> StoreResult<Pruned> {
        let client = self.pool.get().await?;
        let outputs = client
            .execute("DELETE FROM outputs WHERE at < $1", &[&before])
            .await?;
        let messages = client
            .execute("DELETE FROM messages WHERE at < $1", &[&before])
            .await?;
        Ok(Pruned { outputs, messages })
    }

    async fn ping(&self) -> StoreResult<()> {
        let client = self.pool.get().await?;
        client.execute("SELECT 1", &[]).await?;
        Ok(())
    }

    /// Several instances share a database.
    fn shared(&self) -> bool {
        true
    }

    async fn acquire_lease(
        &self,
        key: &ConversationKey,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(&format!(
                "INSERT INTO leases (bot, id, owner, expires_at) VALUES ($1, $2, $3, {DB_NOW} + $4) \
                 ON CONFLICT (bot, id) DO UPDATE SET owner = EXCLUDED.owner, \
                 expires_at = EXCLUDED.expires_at \
                 WHERE leases.owner = EXCLUDED.owner OR leases.expires_at <= {DB_NOW} \
                 RETURNING owner"
            ))
            .await?;
        let ttl_ms = ttl.as_millis().min(i64::MAX as u128) as i64;
        let row = client
            .query_opt(&query, &[&key.bot, &key.id.as_str(), &owner, &ttl_ms])
            .await?;
        Ok(row.is_some())
    }

    async fn renew_lease(
        &self,
        key: &ConversationKey,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<bool> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached(&format!(
                "UPDATE leases SET expires_at = {DB_NOW} + $4 \
                 WHERE bot = $1 AND id = $2 AND owner = $3"
            ))
            .await?;
        let ttl_ms = ttl.as_millis().min(i64::MAX as u128) as i64;
        let renewed = client
            .execute(&query, &[&key.bot, &key.id.as_str(), &owner, &ttl_ms])
            .await?;
        Ok(renewed == 1)
    }

    async fn release_lease(&self, key: &ConversationKey, owner: &str) -> StoreResult<()> {
        let client = self.pool.get().await?;
        let query = client
            .prepare_cached("DELETE FROM leases WHERE bot = $1 AND id = $2 AND owner = $3")
            .await?;
        client
            .execute(&query, &[&key.bot, &key.id.as_str(), &owner])
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
