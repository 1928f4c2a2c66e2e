//! The PostgreSQL store on the real database of `FLOWBOT_TEST_POSTGRES_URL`, each test in a
//! schema of its own (dropped at its end): migrations under their lock, commits and their
//! conflicts, leases, and timers and deliveries claimed by one store at a time. Without the
//! variable each test says it was skipped and passes.

use std::time::Duration;

use tokio_postgres::NoTls;

use super::*;
use crate::store::sqlite::tests::{key, message_record, seqs, turn, with_outputs};

/// The variable that names the test database.
const URL_VARIABLE: &str = "FLOWBOT_TEST_POSTGRES_URL";

/// A schema of its own on the test database, dropped when this is dropped.
pub(crate) struct Schema {
    base: String,
    name: String,
}

impl Schema {
    /// A new empty schema, or `None` (having said why) when no test database is configured.
    pub(crate) async fn new(test: &str) -> Option<Schema> {
        let Ok(base) = std::env::var(URL_VARIABLE) else {
            eprintln!(
                "{test}: skipped, {URL_VARIABLE} is not set (e.g. \
                 postgres://postgres@127.0.0.1:5432/test), so the PostgreSQL store is not tested"
            );
            return None;
        };
        let name = format!("flowbot_test_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) = tokio_postgres::connect(&base, NoTls)
            .await
            .unwrap_or_else(|error| panic!("{URL_VARIABLE}={base}: {error}"));
        let task = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        drop(client);
        let _ = task.await;
        Some(Schema { base, name })
    }

    /// The URL of the database with this schema as its `search_path`.
    pub(crate) fn url(&self) -> String {
        let separator = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{separator}options=-csearch_path%3D{}",
            self.base, self.name
        )
    }

    /// A store on the schema, migrated.
    async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url(), DEFAULT_CLAIM)
            .await
            .unwrap()
    }

    /// A plain connection to the schema, for looking behind the store.
    async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(), NoTls).await.unwrap();
        tokio::spawn(connection);
        client
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside a test's runtime: the schema is dropped from a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                if let Ok((client, connection)) = tokio_postgres::connect(&base, NoTls).await {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA {name} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// The schema of a test, or return from it (skipped).
macro_rules! schema {
    ($test:literal) => {
        match Schema::new($test).await {
            Some(schema) => schema,
            None => return,
        }
    };
}

#[tokio::test]
async fn migrations_are_applied_once_even_by_stores_starting_together() {
    let schema = schema!("migrations_are_applied_once_even_by_stores_starting_together");
    let url = schema.url();
    let runs: Vec<_> = (0..3)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { PostgresStore::migrate_url(&url).await.unwrap() })
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.extend(run.await.unwrap());
    }
    assert_eq!(applied, (1..=MIGRATIONS.len()).collect::<Vec<_>>());
    assert_eq!(
        PostgresStore::migrate_url(&url).await.unwrap(),
        Vec::<usize>::new()
    );
    let versions: Vec<i32> = schema
        .client()
        .await
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(versions.len(), MIGRATIONS.len());
}

#[tokio::test]
async fn a_database_of_a_newer_schema_is_refused_with_a_message_saying_so() {
    let schema = schema!("a_database_of_a_newer_schema_is_refused_with_a_message_saying_so");
    schema.store().await;
    schema
        .client()
        .await
        .execute("INSERT INTO schema_migrations (version) VALUES (999)", &[])
        .await
        .unwrap();
    let error = PostgresStore::connect(&schema.url(), DEFAULT_CLAIM)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("schema version 999"), "{error}");
    assert!(error.contains("run a newer flowbot"), "{error}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error() {
    // A port nothing listens on, on loopback.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("postgres://flowbot@127.0.0.1:{port}/flowbot");
    let error = PostgresStore::connect(&url, DEFAULT_CLAIM)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.starts_with("the store failed: postgresql"), "{error}");
    assert!(error.contains("refused"), "{error}");
    let error = PostgresStore::connect("postgres://flowbot@127.0.0.1:port/db", DEFAULT_CLAIM)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("not a PostgreSQL URL"), "{error}");
}

#[tokio::test]
async fn a_commit_then_a_load_gives_the_state_outputs_and_message_record() {
    let schema = schema!("a_commit_then_a_load_gives_the_state_outputs_and_message_record");
    let store = schema.store().await;
    let mut first = with_outputs(turn("ada", 0, 1_000).await, 1..=3);
    first.message = Some(message_record("m1", 1, 3));
    store.commit(first.clone()).await.unwrap();
    let stored = store.load(&key("ada")).await.unwrap().unwrap();
    assert_eq!(stored.conversation.revision(), 1);
    assert_eq!(
        (stored.next_seq, stored.created_at, stored.updated_at),
        (4, 1_000, 1_000)
    );
    assert_eq!(
        store.message(&key("ada"), "m1").await.unwrap(),
        Some(message_record("m1", 1, 3))
    );
    assert_eq!(store.message(&key("ada"), "m2").await.unwrap(), None);
    let outputs = store.outputs(&key("ada"), 2, u64::MAX, 10).await.unwrap();
    assert_eq!(seqs(&outputs), [2, 3]);
    assert_eq!(outputs[0].json, "{\"seq\":2}");
    assert_eq!(
        seqs(&store.outputs(&key("ada"), 1, 3, 1).await.unwrap()),
        [1]
    );
    let second = with_outputs(turn("ada", 1, 2_000).await, 4..=4);
    store.commit(second).await.unwrap();
    let stored = store.load(&key("ada")).await.unwrap().unwrap();
    assert_eq!(
        (stored.conversation.revision(), stored.updated_at),
        (2, 2_000)
    );
    assert!(store.load(&key("bob")).await.unwrap().is_none());
}

#[tokio::test]
async fn a_stale_commit_is_a_conflict_that_stores_nothing() {
    let schema = schema!("a_stale_commit_is_a_conflict_that_stores_nothing");
    let store = schema.store().await;
    store.commit(turn("ada", 0, 1).await).await.unwrap();
    store.commit(turn("ada", 1, 2).await).await.unwrap();
    // Loaded at revision 1, as an instance whose lease expired mid-turn would have.
    let mut stale = with_outputs(turn("ada", 1, 3).await, 1..=2);
    stale.message = Some(message_record("late", 1, 2));
    let error = store.commit(stale).await.err().unwrap();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    // A first commit of a conversation someone else created meanwhile.
    let error = store.commit(turn("ada", 0, 4).await).await.err().unwrap();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    let stored = store.load(&key("ada")).await.unwrap().unwrap();
    assert_eq!((stored.conversation.revision(), stored.updated_at), (2, 2));
    assert!(store
        .outputs(&key("ada"), 0, u64::MAX, 10)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.message(&key("ada"), "late").await.unwrap(), None);
}

#[tokio::test]
async fn a_lease_has_one_owner_until_released_or_expired() {
    let schema = schema!("a_lease_has_one_owner_until_released_or_expired");
    let (one, other) = (schema.store().await, schema.store().await);
    let long = Duration::from_secs(60);
    assert!(one.acquire_lease(&key("ada"), "one", long).await.unwrap());
    assert!(!other
        .acquire_lease(&key("ada"), "other", long)
        .await
        .unwrap());
    assert!(other
        .acquire_lease(&key("bob"), "other", long)
        .await
        .unwrap());
    assert!(one.renew_lease(&key("ada"), "one", long).await.unwrap());
    assert!(!other.renew_lease(&key("ada"), "other", long).await.unwrap());
    // Releasing someone else's lease does nothing.
    other.release_lease(&key("ada"), "other").await.unwrap();
    assert!(!other
        .acquire_lease(&key("ada"), "other", long)
        .await
        .unwrap());
    one.release_lease(&key("ada"), "one").await.unwrap();
    assert!(other
        .acquire_lease(&key("ada"), "other", long)
        .await
        .unwrap());
    // An expired lease is anyone's, and its old owner can no longer renew it.
    assert!(one
        .acquire_lease(&key("cy"), "one", Duration::from_millis(1))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(other
        .acquire_lease(&key("cy"), "other", long)
        .await
        .unwrap());
    assert!(!one.renew_lease(&key("cy"), "one", long).await.unwrap());
}

#[tokio::test]
async fn a_due_timer_is_claimed_by_one_store_at_a_time_until_its_claim_ends() {
    let schema = schema!("a_due_timer_is_claimed_by_one_store_at_a_time_until_its_claim_ends");
    let one = schema.store().await;
    let short = PostgresStore::connect(&schema.url(), Duration::from_millis(1))
        .await
        .unwrap();
    let mut commit = turn("ada", 0, 1).await;
    commit.timer = Some(StoredTimer {
        timer_id: 7,
        due_at: 100,
    });
    one.commit(commit).await.unwrap();
    assert!(one.due_timers(99, 10).await.unwrap().is_empty());
    let due = one.due_timers(100, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].key.clone(), due[0].timer.timer_id), (key("ada"), 7));
    // Claimed for a minute by the first look: nobody else gets it meanwhile, and it counts as
    // due when the claim ends.
    assert!(short.due_timers(200, 10).await.unwrap().is_empty());
    assert_eq!(
        one.next_timer().await.unwrap(),
        Some(100 + DEFAULT_CLAIM.as_millis() as i64)
    );
    assert_eq!(one.pending_timers().await.unwrap(), 1);
    // Its claimer died: once the claim ended, another store takes it (and claims it briefly).
    let later = 101 + DEFAULT_CLAIM.as_millis() as i64;
    assert_eq!(short.due_timers(later, 10).await.unwrap().len(), 1);
    assert_eq!(short.due_timers(later + 1, 10).await.unwrap().len(), 1);
    // The firing turn's commit clears the timer and its claim.
    short.commit(turn("ada", 1, 2).await).await.unwrap();
    assert!(short.due_timers(later + 5, 10).await.unwrap().is_empty());
    assert_eq!(short.next_timer().await.unwrap(), None);
}

#[tokio::test]
async fn deliveries_are_claimed_oldest_first_per_conversation() {
    let schema = schema!("deliveries_are_claimed_oldest_first_per_conversation");
    let one = schema.store().await;
    let other = schema.store().await;
    for (revision, body) in [(0, "a1"), (1, "a2")] {
        let mut commit = turn("ada", revision, 10).await;
        commit.outbound = Some(body.to_owned());
        one.commit(commit).await.unwrap();
    }
    let mut commit = turn("bob", 0, 10).await;
    commit.outbound = Some("b1".to_owned());
    one.commit(commit).await.unwrap();
    let due = one.due_deliveries(10, 10).await.unwrap();
    let bodies: Vec<&str> = due.iter().map(|delivery| delivery.body.as_str()).collect();
    assert_eq!(bodies, ["a1", "b1"]);
    assert_eq!(due[0].key, key("ada"));
    // Claimed: the other store sees nothing, and ada's second waits for its first.
    assert!(other.due_deliveries(20, 10).await.unwrap().is_empty());
    one.delivery_failed(due[0].delivery_id, 30).await.unwrap();
    one.delivered(due[1].delivery_id).await.unwrap();
    assert!(other.due_deliveries(29, 10).await.unwrap().is_empty());
    let again = other.due_deliveries(30, 10).await.unwrap();
    assert_eq!(
        (again.len(), again[0].body.as_str(), again[0].attempts),
        (1, "a1", 1)
    );
    other.delivered(again[0].delivery_id).await.unwrap();
    let next = other.due_deliveries(30, 10).await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].body, "a2");
}

#[tokio::test]
async fn delete_and_prune_remove_what_they_say() {
    let schema = schema!("delete_and_prune_remove_what_they_say");
    let store = schema.store().await;
    let mut old = with_outputs(turn("ada", 0, 100).await, 1..=2);
    old.message = Some(message_record("m1", 1, 2));
    old.outbound = Some("x".to_owned());
    store.commit(old).await.unwrap();
    let mut new = with_outputs(turn("bob", 0, 300).await, 1..=1);
    new.message = Some(message_record("m1", 1, 1));
    store.commit(new).await.unwrap();
    let pruned = store.prune(200).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            outputs: 2,
            messages: 1
        }
    );
    assert_eq!(store.outputs(&key("bob"), 0, 9, 9).await.unwrap().len(), 1);
    assert!(store.delete(&key("ada")).await.unwrap());
    assert!(!store.delete(&key("ada")).await.unwrap());
    assert!(store.load(&key("ada")).await.unwrap().is_none());
    assert!(store.due_deliveries(1_000, 10).await.unwrap().is_empty());
    store.ping().await.unwrap();
}

#[tokio::test]
async fn a_commit_gives_its_lease_back_whether_it_stores_or_conflicts() {
    let schema = schema!("a_commit_gives_its_lease_back_whether_it_stores_or_conflicts");
    let (store, other) = (schema.store().await, schema.store().await);
    let long = Duration::from_secs(60);
    assert!(store
        .acquire_lease(&key("ada"), "turn-1", long)
        .await
        .unwrap());
    let mut commit = turn("ada", 0, 1).await;
    commit.lease_owner = Some("turn-1".to_owned());
    store.commit(commit).await.unwrap();
    assert!(other
        .acquire_lease(&key("ada"), "turn-2", long)
        .await
        .unwrap());
    // A stale commit under a lease of its own: nothing stored, and the lease is free again.
    let mut stale = turn("ada", 0, 2).await;
    stale.lease_owner = Some("turn-2".to_owned());
    let error = other.commit(stale).await.err().unwrap();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(store
        .acquire_lease(&key("ada"), "turn-3", long)
        .await
        .unwrap());
    // A commit without a lease, or with someone else's, leaves the holder's lease alone.
    let mut foreign = turn("ada", 1, 3).await;
    foreign.lease_owner = Some("turn-9".to_owned());
    other.commit(foreign).await.unwrap();
    assert!(!other
        .acquire_lease(&key("ada"), "turn-4", long)
        .await
        .unwrap());
}

/// A store on a schema of its own (kept while the check runs), or a skipped check.
macro_rules! contract_store {
    ($test:literal) => {
        match Schema::new($test).await {
            Some(schema) => {
                let store = schema.store().await;
                (schema, store)
            }
            None => return,
        }
    };
}

crate::store::contract::contract_tests!(contract_store!("a check of the store contract"));
