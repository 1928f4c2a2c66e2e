//! The SQLite store on real files in a scratch folder: migrations, commits and their conflicts,
//! reads, deletes, timers, outbound deliveries, pruning and the store URL. The helpers that
//! build commits are shared with the PostgreSQL store's tests.

use flow_runtime::{ConversationId, Executor, ScriptedRunner, StartOptions};
use tempfile::TempDir;

use super::*;

const FLOW: &str = "bot: hello\nblocks:\n  ask:\n    question: What's your name?\n    save_to: name\n    next: bye\n  bye:\n    end: \"Bye {{name}}!\"\n";

/// A new store in a scratch folder, which lives as long as the returned `TempDir`.
fn new_store() -> (TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("flowbot.db")).unwrap();
    (dir, store)
}

/// The JSON of a real conversation `id` of the `hello` bot, waiting at its question, at
/// `revision`.
pub(crate) async fn state_json(id: &str, revision: u64) -> String {
    let flow = flow_core::load(FLOW).flow.unwrap();
    let executor = Executor::single(flow, ScriptedRunner::new());
    let (mut conversation, _) = executor
        .start(ConversationId::new(id), "hello", StartOptions::default())
        .await
        .unwrap();
    conversation.set_revision(revision);
    serde_json::to_string(&conversation).unwrap()
}

/// A commit of conversation `id` loaded at `revision`, at time `now`, with nothing but its state:
/// tests add outputs, a message, a timer or a delivery.
pub(crate) async fn turn(id: &str, revision: u64, now: i64) -> TurnCommit {
    TurnCommit {
        key: ConversationKey::new("hello", id),
        revision,
        state: state_json(id, revision + 1).await,
        next_seq: 1,
        outputs: Vec::new(),
        message: None,
        timer: None,
        outbound: None,
        now,
        lease_owner: None,
    }
}

/// `commit` with outputs numbered `seqs` and the conversation's next `seq` after them.
pub(crate) fn with_outputs(
    mut commit: TurnCommit,
    seqs: std::ops::RangeInclusive<u64>,
) -> TurnCommit {
    commit.next_seq = seqs.end() + 1;
    commit.outputs = seqs
        .map(|seq| StoredOutput {
            seq,
            json: format!("{{\"seq\":{seq}}}"),
        })
        .collect();
    commit
}

pub(crate) fn message_record(message_id: &str, first_seq: u64, last_seq: u64) -> MessageRecord {
    MessageRecord {
        message_id: message_id.to_owned(),
        first_seq,
        last_seq,
        status: "waiting".to_owned(),
        notices: "[]".to_owned(),
    }
}

pub(crate) fn key(id: &str) -> ConversationKey {
    ConversationKey::new("hello", id)
}

pub(crate) fn seqs(outputs: &[StoredOutput]) -> Vec<u64> {
    outputs.iter().map(|output| output.seq).collect()
}

fn user_version(path: &Path) -> usize {
    Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn a_new_file_gets_every_migration_and_a_reopened_one_keeps_its_conversations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flowbot.db");
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(user_version(&path), MIGRATIONS.len());
    store.commit(turn("c-1", 0, 1_000).await).await.unwrap();
    drop(store);

    let reopened = SqliteStore::open(&path).unwrap();
    assert_eq!(user_version(&path), MIGRATIONS.len());
    let stored = reopened.load(&key("c-1")).await.unwrap().unwrap();
    assert_eq!(stored.conversation.id().as_str(), "c-1");
    assert_eq!(stored.conversation.revision(), 1);
}

#[tokio::test]
async fn a_stale_commit_is_a_conflict_that_stores_nothing_while_the_rest_of_its_batch_lands() {
    let (dir, store) = new_store();
    store
        .commit(with_outputs(turn("stale", 0, 1_000).await, 1..=1))
        .await
        .unwrap();
    let mut stale = with_outputs(turn("stale", 0, 2_000).await, 2..=3);
    stale.message = Some(message_record("m-2", 2, 3));
    stale.outbound = Some("{}".to_owned());
    let good = |id: &'static str| async move {
        let mut commit = with_outputs(turn(id, 0, 2_000).await, 1..=1);
        commit.message = Some(message_record("m-1", 1, 1));
        commit
    };
    let (first, second, third) = (good("a").await, good("b").await, good("c").await);

    // Another connection holds the write lock, so the writer thread cannot start a transaction
    // before every commit below is queued: the stale one shares a transaction with good ones.
    let blocker = Connection::open(dir.path().join("flowbot.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = async {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        blocker.execute_batch("COMMIT").unwrap();
    };
    let (first, stale, second, third, ()) = tokio::join!(
        store.commit(first),
        store.commit(stale),
        store.commit(second),
        store.commit(third),
        release
    );

    assert!(
        matches!(&stale, Err(StoreError::Conflict { bot, id }) if bot == "hello" && id == "stale"),
        "{stale:?}"
    );
    for (id, result) in [("a", first), ("b", second), ("c", third)] {
        result.unwrap();
        assert!(store.message(&key(id), "m-1").await.unwrap().is_some());
    }
    let kept = store.load(&key("stale")).await.unwrap().unwrap();
    assert_eq!((kept.conversation.revision(), kept.next_seq), (1, 2));
    assert_eq!(kept.updated_at, 1_000);
    let outputs = store.outputs(&key("stale"), 1, u64::MAX, 10).await.unwrap();
    assert_eq!(seqs(&outputs), [1]);
    assert!(store.message(&key("stale"), "m-2").await.unwrap().is_none());
    assert!(store.due_deliveries(i64::MAX, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_first_commit_at_a_revision_other_than_zero_is_a_conflict() {
    let (_dir, store) = new_store();
    let result = store.commit(turn("c-1", 3, 1_000).await).await;
    assert!(
        matches!(result, Err(StoreError::Conflict { .. })),
        "{result:?}"
    );
    assert!(store.load(&key("c-1")).await.unwrap().is_none());
}

#[tokio::test]
async fn message_gives_the_record_a_commit_stored() {
    let (_dir, store) = new_store();
    let mut commit = with_outputs(turn("c-1", 0, 1_000).await, 1..=2);
    let record = MessageRecord {
        message_id: "wamid.1".to_owned(),
        first_seq: 1,
        last_seq: 2,
        status: "ended".to_owned(),
        notices: "[{\"type\":\"variables_ignored\"}]".to_owned(),
    };
    commit.message = Some(record.clone());
    store.commit(commit).await.unwrap();
    assert_eq!(
        store.message(&key("c-1"), "wamid.1").await.unwrap(),
        Some(record)
    );
    assert_eq!(store.message(&key("c-1"), "wamid.2").await.unwrap(), None);
    assert_eq!(store.message(&key("c-2"), "wamid.1").await.unwrap(), None);
}

#[tokio::test]
async fn outputs_are_the_seqs_in_range_oldest_first_and_at_most_the_limit() {
    let (_dir, store) = new_store();
    store
        .commit(with_outputs(turn("c-1", 0, 1_000).await, 1..=3))
        .await
        .unwrap();
    store
        .commit(with_outputs(turn("c-1", 1, 2_000).await, 4..=6))
        .await
        .unwrap();
    let range = |from, to, limit| {
        let store = store.clone();
        async move { seqs(&store.outputs(&key("c-1"), from, to, limit).await.unwrap()) }
    };
    assert_eq!(range(1, u64::MAX, 100).await, [1, 2, 3, 4, 5, 6]);
    assert_eq!(range(2, 4, 100).await, [2, 3, 4]);
    assert_eq!(range(3, u64::MAX, 2).await, [3, 4]);
    assert_eq!(range(7, u64::MAX, 100).await, Vec::<u64>::new());
    assert_eq!(range(5, 4, 100).await, Vec::<u64>::new());
    assert_eq!(range(u64::MAX, u64::MAX, 100).await, Vec::<u64>::new());
    let outputs = store.outputs(&key("c-1"), 5, 5, 1).await.unwrap();
    assert_eq!(outputs[0].json, "{\"seq\":5}");
}

#[tokio::test]
async fn delete_removes_the_conversation_with_its_outputs_messages_timer_and_deliveries() {
    let (_dir, store) = new_store();
    let mut commit = with_outputs(turn("c-1", 0, 1_000).await, 1..=2);
    commit.message = Some(message_record("m-1", 1, 2));
    commit.timer = Some(StoredTimer {
        timer_id: 7,
        due_at: 5_000,
    });
    commit.outbound = Some("{\"outputs\":[]}".to_owned());
    store.commit(commit).await.unwrap();
    store.commit(turn("kept", 0, 1_000).await).await.unwrap();

    assert!(store.delete(&key("c-1")).await.unwrap());
    assert!(store.load(&key("c-1")).await.unwrap().is_none());
    assert!(store
        .outputs(&key("c-1"), 1, u64::MAX, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.message(&key("c-1"), "m-1").await.unwrap().is_none());
    assert_eq!(store.pending_timers().await.unwrap(), 0);
    assert!(store.due_deliveries(i64::MAX, 10).await.unwrap().is_empty());
    assert!(store.load(&key("kept")).await.unwrap().is_some());

    assert!(!store.delete(&key("c-1")).await.unwrap());
}

#[tokio::test]
async fn due_timers_are_those_due_by_now_soonest_first() {
    let (_dir, store) = new_store();
    assert_eq!(store.next_timer().await.unwrap(), None);
    for (id, timer_id, due_at) in [("late", 1, 9_000), ("soon", 2, 3_000), ("mid", 3, 5_000)] {
        let mut commit = turn(id, 0, 1_000).await;
        commit.timer = Some(StoredTimer { timer_id, due_at });
        store.commit(commit).await.unwrap();
    }
    store.commit(turn("none", 0, 1_000).await).await.unwrap();

    assert_eq!(store.pending_timers().await.unwrap(), 3);
    assert_eq!(store.next_timer().await.unwrap(), Some(3_000));
    let due = store.due_timers(5_000, 10).await.unwrap();
    assert_eq!(
        due,
        [
            DueTimer {
                key: key("soon"),
                timer: StoredTimer {
                    timer_id: 2,
                    due_at: 3_000
                }
            },
            DueTimer {
                key: key("mid"),
                timer: StoredTimer {
                    timer_id: 3,
                    due_at: 5_000
                }
            },
        ]
    );
    assert_eq!(store.due_timers(5_000, 1).await.unwrap().len(), 1);
    assert!(store.due_timers(2_999, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_turn_without_a_timer_clears_the_pending_one() {
    let (_dir, store) = new_store();
    let mut commit = turn("c-1", 0, 1_000).await;
    commit.timer = Some(StoredTimer {
        timer_id: 1,
        due_at: 3_000,
    });
    store.commit(commit).await.unwrap();
    store.commit(turn("c-1", 1, 2_000).await).await.unwrap();
    assert_eq!(store.pending_timers().await.unwrap(), 0);
    assert_eq!(store.next_timer().await.unwrap(), None);
    assert!(store.due_timers(i64::MAX, 10).await.unwrap().is_empty());
}

/// Commits `bodies` as deliveries of conversation `id`, one turn each, at times 1000, 2000...
async fn queue_deliveries(store: &SqliteStore, id: &str, bodies: &[&str]) {
    for (revision, body) in bodies.iter().enumerate() {
        let revision = revision as u64;
        let mut commit = turn(id, revision, 1_000 * (revision as i64 + 1)).await;
        commit.outbound = Some((*body).to_owned());
        store.commit(commit).await.unwrap();
    }
}

#[tokio::test]
async fn only_the_oldest_delivery_of_each_conversation_is_due() {
    let (_dir, store) = new_store();
    queue_deliveries(&store, "a", &["a1", "a2"]).await;
    queue_deliveries(&store, "b", &["b1"]).await;
    let due = store.due_deliveries(i64::MAX, 10).await.unwrap();
    let bodies: Vec<&str> = due.iter().map(|delivery| delivery.body.as_str()).collect();
    assert_eq!(bodies, ["a1", "b1"]);
    assert_eq!(due[0].key, key("a"));
    assert_eq!(due[0].attempts, 0);
    assert_eq!(store.next_delivery().await.unwrap(), Some(1_000));
    assert!(store.due_deliveries(999, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_delivery_is_due_again_at_its_retry_time_with_one_more_attempt() {
    let (_dir, store) = new_store();
    queue_deliveries(&store, "a", &["a1", "a2"]).await;
    let first = store.due_deliveries(i64::MAX, 10).await.unwrap()[0].clone();
    store
        .delivery_failed(first.delivery_id, 60_000)
        .await
        .unwrap();

    // The retry keeps its place: the next delivery of the conversation still waits behind it.
    assert!(store.due_deliveries(59_999, 10).await.unwrap().is_empty());
    assert_eq!(store.next_delivery().await.unwrap(), Some(2_000));
    let again = store.due_deliveries(60_000, 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].delivery_id, again[0].attempts),
        (first.delivery_id, 1)
    );
    store
        .delivery_failed(first.delivery_id, 90_000)
        .await
        .unwrap();
    assert_eq!(
        store.due_deliveries(90_000, 10).await.unwrap()[0].attempts,
        2
    );
}

#[tokio::test]
async fn a_delivered_delivery_is_removed_and_the_next_one_becomes_due() {
    let (_dir, store) = new_store();
    queue_deliveries(&store, "a", &["a1", "a2"]).await;
    let first = store.due_deliveries(i64::MAX, 10).await.unwrap()[0].clone();
    store.delivered(first.delivery_id).await.unwrap();
    let due = store.due_deliveries(i64::MAX, 10).await.unwrap();
    let bodies: Vec<&str> = due.iter().map(|delivery| delivery.body.as_str()).collect();
    assert_eq!(bodies, ["a2"]);
    store.delivered(due[0].delivery_id).await.unwrap();
    assert!(store.due_deliveries(i64::MAX, 10).await.unwrap().is_empty());
    assert_eq!(store.next_delivery().await.unwrap(), None);
}

#[tokio::test]
async fn prune_removes_only_outputs_and_messages_written_before_the_cutoff() {
    let (_dir, store) = new_store();
    let mut old = with_outputs(turn("c-1", 0, 1_000).await, 1..=2);
    old.message = Some(message_record("old", 1, 2));
    store.commit(old).await.unwrap();
    let mut new = with_outputs(turn("c-1", 1, 5_000).await, 3..=3);
    new.message = Some(message_record("new", 3, 3));
    store.commit(new).await.unwrap();

    let pruned = store.prune(5_000).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            outputs: 2,
            messages: 1
        }
    );
    let outputs = store.outputs(&key("c-1"), 1, u64::MAX, 10).await.unwrap();
    assert_eq!(seqs(&outputs), [3]);
    assert!(store.message(&key("c-1"), "old").await.unwrap().is_none());
    assert!(store.message(&key("c-1"), "new").await.unwrap().is_some());
    assert!(store.load(&key("c-1")).await.unwrap().is_some());
    assert_eq!(store.prune(5_000).await.unwrap(), Pruned::default());
}

#[tokio::test]
async fn open_url_takes_sqlite_urls_and_paths_ending_in_db() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().display();
    for (url, file) in [
        (format!("sqlite:{folder}/one.db"), "one.db"),
        (format!("sqlite://{folder}/two.sqlite"), "two.sqlite"),
        (format!("{folder}/three.db"), "three.db"),
    ] {
        let store = open_url(&url).unwrap();
        assert_eq!(store.path(), dir.path().join(file), "{url}");
        store.ping().await.unwrap();
    }
}

#[test]
fn open_url_refuses_another_scheme_or_no_path() {
    for url in [
        "mysql://flowbot@localhost/flowbot",
        "sqlite:",
        "flowbot.sqlite",
    ] {
        let result = open_url(url);
        assert!(
            matches!(&result, Err(StoreError::UnknownScheme(named)) if named == url),
            "{url}: {result:?}"
        );
    }
    let message = open_url("mysql://x").err().unwrap().to_string();
    assert!(message.contains("use sqlite:PATH"), "{message}");
    assert!(message.contains("postgres://"), "{message}");
}

#[test]
fn a_password_in_a_store_url_is_masked() {
    use crate::store::redacted_url;
    assert_eq!(
        redacted_url("postgres://flowbot:s3cr@t@db:5432/flowbot?sslmode=disable"),
        "postgres://flowbot:***@db:5432/flowbot?sslmode=disable"
    );
    assert_eq!(
        redacted_url("postgres://flowbot@db/x"),
        "postgres://flowbot@db/x"
    );
    assert_eq!(
        redacted_url("postgresql://db/x?user=a"),
        "postgresql://db/x?user=a"
    );
    assert_eq!(redacted_url("sqlite:flowbot.db"), "sqlite:flowbot.db");
}

#[test]
fn a_store_url_names_sqlite_or_postgresql() {
    use crate::store::StoreUrl;
    assert_eq!(
        StoreUrl::parse("sqlite:a/b.db").unwrap(),
        StoreUrl::Sqlite("a/b.db".into())
    );
    for url in [
        "postgres://u@h/db",
        "postgresql://u@h:5433/db?options=-csearch_path%3Ds",
    ] {
        assert_eq!(
            StoreUrl::parse(url).unwrap(),
            StoreUrl::Postgres(url.to_owned())
        );
    }
    assert!(matches!(
        StoreUrl::parse("redis://x"),
        Err(StoreError::UnknownScheme(_))
    ));
}

#[test]
fn a_database_of_a_newer_schema_is_refused_with_a_message_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", MIGRATIONS.len() + 1)
        .unwrap();
    let message = match SqliteStore::open(&path) {
        Err(StoreError::Backend(message)) => message,
        other => panic!("a newer schema was not refused: {other:?}"),
    };
    let newer = MIGRATIONS.len() + 1;
    assert!(
        message.contains(&format!("schema version {newer}")),
        "{message}"
    );
    assert!(message.contains("run a newer flowbot"), "{message}");
}

#[tokio::test]
async fn the_checkpointer_copies_the_log_into_the_file_while_the_store_runs() {
    let (dir, store) = new_store();
    let path = dir.path().join("flowbot.db");
    let before = std::fs::metadata(&path).unwrap().len();
    for number in 0..200 {
        let commit = with_outputs(turn(&format!("c-{number}"), 0, 1_000).await, 1..=4);
        store.commit(commit).await.unwrap();
    }
    // Commits never checkpoint (the writer's autocheckpoint is off): only the checkpointer
    // thread makes the file itself grow.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&path).unwrap().len() <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the database file never grew: no checkpoint ran"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        store.load(&key("c-199")).await.unwrap().unwrap().next_seq,
        5
    );
}

crate::store::contract::contract_tests!(super::new_store());
