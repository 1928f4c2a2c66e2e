//! The store `flow-bench serve` runs the server on: a temporary SQLite file, or a schema of its
//! own in a PostgreSQL database, created for the run and dropped after it.
//!
//! Both can be weighed (the bytes the conversations take) and filled with copies of a real
//! conversation waiting at the first question, written straight into the tables while the
//! servers are stopped.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Where the servers of a run keep their conversations.
#[derive(Debug)]
pub enum BenchStore {
    /// A SQLite file.
    Sqlite {
        /// The file.
        database: PathBuf,
    },
    /// A schema of this run's own in a PostgreSQL database.
    Postgres {
        /// The database's URL, as given.
        database_url: String,
        /// The schema made for the run.
        schema: String,
    },
}

impl BenchStore {
    /// The store of `url` (`sqlite` for a new file in `dir`, or a `postgres://` URL, in which
    /// a new schema is made).
    pub async fn create(url: &str, dir: &Path) -> anyhow::Result<BenchStore> {
        if url == "sqlite" {
            return Ok(BenchStore::Sqlite {
                database: dir.join("flowbot.db"),
            });
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            bail!("--store takes `sqlite` or a postgres:// URL, not `{url}`");
        }
        let schema = format!(
            "flow_bench_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_millis())
        );
        let client = connect(url).await?;
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .with_context(|| format!("creating schema {schema}"))?;
        Ok(BenchStore::Postgres {
            database_url: url.to_owned(),
            schema,
        })
    }

    /// The `--store` URL to give `flowbot serve`.
    pub fn server_url(&self) -> String {
        match self {
            BenchStore::Sqlite { database } => format!("sqlite:{}", database.display()),
            BenchStore::Postgres {
                database_url,
                schema,
            } => {
                let separator = if database_url.contains('?') { '&' } else { '?' };
                format!("{database_url}{separator}options=-csearch_path%3D{schema}")
            }
        }
    }

    /// Whether several servers can share it.
    pub fn is_shared(&self) -> bool {
        matches!(self, BenchStore::Postgres { .. })
    }

    /// What the store's name is in the report: `sqlite` or `postgres`.
    pub fn kind(&self) -> &'static str {
        match self {
            BenchStore::Sqlite { .. } => "sqlite",
            BenchStore::Postgres { .. } => "postgres",
        }
    }

    /// The bytes the conversations take: the SQLite file once its log is checkpointed into it,
    /// or the PostgreSQL schema's tables with their indexes and TOAST.
    pub async fn size(&self) -> anyhow::Result<u64> {
        match self {
            BenchStore::Sqlite { database } => {
                let connection = rusqlite::Connection::open(database)?;
                connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                drop(connection);
                Ok(std::fs::metadata(database)?.len())
            }
            BenchStore::Postgres {
                database_url,
                schema,
            } => {
                let client = connect(database_url).await?;
                let row = client
                    .query_one(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint \
                         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                         WHERE n.nspname = $1 AND c.relkind = 'r'",
                        &[schema],
                    )
                    .await?;
                Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
            }
        }
    }

    /// Stores `count` copies of the conversation `w0` (waiting at the first question) with its
    /// outputs and its message record, each under a new id, while no server runs.
    ///
    /// The copies are the bytes a server wrote for a real conversation, so the store has the
    /// size and the indexes it would have after `count` real first turns, which would take
    /// minutes.
    pub async fn store_copies(&self, count: usize) -> anyhow::Result<()> {
        match self {
            BenchStore::Sqlite { database } => sqlite_copies(database, count),
            BenchStore::Postgres {
                database_url,
                schema,
            } => {
                let client = connect(&self.server_url()).await?;
                let count = i64::try_from(count)?;
                let statements = [
                    "INSERT INTO conversations (bot, id, state, revision, next_seq, created_at, \
                     updated_at, timer_id, timer_due) \
                     SELECT c.bot, 'stored-' || n, replace(c.state, '\"w0\"', '\"stored-' || n || '\"'), \
                     c.revision, c.next_seq, c.created_at, c.updated_at, c.timer_id, c.timer_due \
                     FROM generate_series(0, $1 - 1) AS n, conversations AS c \
                     WHERE c.bot = 'shop' AND c.id = 'w0'",
                    "INSERT INTO outputs (conversation, seq, body, at) \
                     SELECT c.conversation, o.seq, o.body, o.at \
                     FROM conversations AS t JOIN outputs AS o ON o.conversation = t.conversation, \
                     conversations AS c \
                     WHERE t.bot = 'shop' AND t.id = 'w0' AND c.id LIKE 'stored-%'",
                    "INSERT INTO messages (conversation, message_id, first_seq, last_seq, status, \
                     notices, at) \
                     SELECT c.conversation, c.id || '-0', m.first_seq, m.last_seq, m.status, \
                     m.notices, m.at \
                     FROM conversations AS t JOIN messages AS m ON m.conversation = t.conversation, \
                     conversations AS c \
                     WHERE t.bot = 'shop' AND t.id = 'w0' AND c.id LIKE 'stored-%'",
                ];
                for (number, statement) in statements.into_iter().enumerate() {
                    let parameters: &[&(dyn tokio_postgres::types::ToSql + Sync)] =
                        if number == 0 { &[&count] } else { &[] };
                    client
                        .execute(statement, parameters)
                        .await
                        .with_context(|| {
                            format!("storing copies in schema {schema} of {database_url}")
                        })?;
                }
                client.batch_execute("ANALYZE").await?;
                Ok(())
            }
        }
    }

    /// Drops the run's PostgreSQL schema (a SQLite file goes with its folder).
    pub async fn remove(&self) -> anyhow::Result<()> {
        if let BenchStore::Postgres {
            database_url,
            schema,
        } = self
        {
            let client = connect(database_url).await?;
            client
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .with_context(|| format!("dropping schema {schema}"))?;
        }
        Ok(())
    }
}

/// A connection to the PostgreSQL of `url`, driven by a task of its own.
async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            eprintln!("flow-bench serve: the PostgreSQL connection failed: {error}");
        }
    });
    Ok(client)
}

/// [`BenchStore::store_copies`] on a SQLite file.
fn sqlite_copies(database: &Path, count: usize) -> anyhow::Result<()> {
    let mut connection = rusqlite::Connection::open(database)?;
    let transaction = connection.transaction()?;
    let template: i64 = transaction
        .query_row(
            "SELECT conversation FROM conversations WHERE bot = 'shop' AND id = 'w0'",
            [],
            |row| row.get(0),
        )
        .context("the conversation to copy, w0, is not stored")?;
    let first: i64 = transaction.query_row(
        "SELECT coalesce(max(conversation), 0) + 1 FROM conversations",
        [],
        |row| row.get(0),
    )?;
    let count = i64::try_from(count)?;
    transaction.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?3)
         INSERT INTO conversations
             (conversation, bot, id, state, revision, next_seq, created_at, updated_at,
              timer_id, timer_due)
         SELECT ?2 + n.i, c.bot, 'stored-' || n.i, replace(c.state, '\"w0\"', '\"stored-' || n.i || '\"'),
                c.revision, c.next_seq, c.created_at, c.updated_at, c.timer_id, c.timer_due
         FROM n, conversations AS c WHERE c.conversation = ?1",
        rusqlite::params![template, first, count],
    )?;
    transaction.execute(
        "INSERT INTO outputs (conversation, seq, body, at)
         SELECT c.conversation, o.seq, o.body, o.at
         FROM conversations AS c, outputs AS o
         WHERE c.conversation >= ?2 AND o.conversation = ?1",
        rusqlite::params![template, first],
    )?;
    transaction.execute(
        "INSERT INTO messages (conversation, message_id, first_seq, last_seq, status, notices, at)
         SELECT c.conversation, c.id || '-0', m.first_seq, m.last_seq, m.status, m.notices, m.at
         FROM conversations AS c, messages AS m
         WHERE c.conversation >= ?2 AND m.conversation = ?1",
        rusqlite::params![template, first],
    )?;
    transaction.commit()?;
    Ok(())
}
