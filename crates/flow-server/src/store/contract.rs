//! The promises of [`Store`] as checks that take any store, each given a new empty one: the
//! SQLite and the PostgreSQL tests run every check here on their own backend
//! ([`contract_tests!`]), so both keep the same contract.

use super::{ConversationKey, Store, StoreError, StoredTimer, TurnRead};
use crate::store::sqlite::tests::{key, message_record, seqs, turn, with_outputs};

/// A commit is loaded back with its state, its next `seq` and its times.
pub(crate) async fn a_commit_then_a_load_gives_the_state_next_seq_and_times(store: impl Store) {
    assert!(store.load(&key("c-1")).await.unwrap().is_none());
    store
        .commit(with_outputs(turn("c-1", 0, 1_000).await, 1..=2))
        .await
        .unwrap();
    store
        .commit(with_outputs(turn("c-1", 1, 2_000).await, 3..=3))
        .await
        .unwrap();
    let stored = store.load(&key("c-1")).await.unwrap().unwrap();
    assert_eq!(stored.conversation.cursor().as_str(), "ask");
    assert_eq!(stored.conversation.revision(), 2);
    assert_eq!(stored.next_seq, 4);
    assert_eq!((stored.created_at, stored.updated_at), (1_000, 2_000));
}

/// A conversation is its bot and its id.
pub(crate) async fn the_same_id_under_another_bot_is_another_conversation(store: impl Store) {
    store.commit(turn("c-1", 0, 1_000).await).await.unwrap();
    let other = ConversationKey::new("other", "c-1");
    assert!(store.load(&other).await.unwrap().is_none());
    let mut commit = turn("c-1", 0, 1_000).await;
    commit.key = other.clone();
    store.commit(commit).await.unwrap();
    assert!(store.load(&other).await.unwrap().is_some());
}

/// A commit at another revision than the stored one (none stored counts as 0) stores nothing.
pub(crate) async fn a_commit_at_another_revision_is_a_conflict_that_stores_nothing(
    store: impl Store,
) {
    let error = store.commit(turn("new", 3, 1).await).await.err().unwrap();
    assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    assert!(store.load(&key("new")).await.unwrap().is_none());
    store.commit(turn("c-1", 0, 1).await).await.unwrap();
    for revision in [0, 2] {
        let mut stale = with_outputs(turn("c-1", revision, 5).await, 1..=1);
        stale.message = Some(message_record("late", 1, 1));
        let error = store.commit(stale).await.err().unwrap();
        assert!(matches!(error, StoreError::Conflict { .. }), "{error}");
    }
    let stored = store.load(&key("c-1")).await.unwrap().unwrap();
    assert_eq!((stored.conversation.revision(), stored.updated_at), (1, 1));
    assert!(store
        .outputs(&key("c-1"), 0, u64::MAX, 9)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.message(&key("c-1"), "late").await.unwrap(), None);
}

/// The message record and the outputs of a commit are read back, by range and up to a limit;
/// `load_for_turn` gives the record of an answered message, or else the conversation.
pub(crate) async fn messages_and_outputs_are_read_back(store: impl Store) {
    let mut commit = with_outputs(turn("c-1", 0, 1).await, 1..=4);
    commit.message = Some(message_record("m1", 1, 4));
    store.commit(commit).await.unwrap();
    let record = store.message(&key("c-1"), "m1").await.unwrap();
    assert_eq!(record, Some(message_record("m1", 1, 4)));
    assert_eq!(store.message(&key("c-1"), "m2").await.unwrap(), None);
    assert_eq!(
        seqs(&store.outputs(&key("c-1"), 2, 3, 10).await.unwrap()),
        [2, 3]
    );
    assert_eq!(
        seqs(&store.outputs(&key("c-1"), 2, u64::MAX, 1).await.unwrap()),
        [2]
    );
    match store.load_for_turn(&key("c-1"), Some("m1")).await.unwrap() {
        TurnRead::Answered(record) => assert_eq!(record, message_record("m1", 1, 4)),
        other => panic!("an answered message reads as {other:?}"),
    }
    for message_id in [Some("m2"), None] {
        match store.load_for_turn(&key("c-1"), message_id).await.unwrap() {
            TurnRead::Stored(Some(stored)) => assert_eq!(stored.next_seq, 5),
            other => panic!("{message_id:?}: {other:?}"),
        }
    }
    match store.load_for_turn(&key("c-2"), Some("m1")).await.unwrap() {
        TurnRead::Stored(None) => {}
        other => panic!("a message of another conversation was found: {other:?}"),
    }
}

/// Delete takes the conversation with everything beside it, and nothing else.
pub(crate) async fn delete_removes_the_conversation_and_all_beside_it(store: impl Store) {
    for id in ["c-1", "kept"] {
        let mut commit = with_outputs(turn(id, 0, 1).await, 1..=1);
        commit.message = Some(message_record("m1", 1, 1));
        commit.timer = Some(StoredTimer {
            timer_id: 1,
            due_at: 5,
        });
        commit.outbound = Some(format!("{{\"to\":\"{id}\"}}"));
        store.commit(commit).await.unwrap();
    }
    assert!(store.delete(&key("c-1")).await.unwrap());
    assert!(!store.delete(&key("c-1")).await.unwrap());
    assert!(store.load(&key("c-1")).await.unwrap().is_none());
    assert_eq!(store.message(&key("c-1"), "m1").await.unwrap(), None);
    assert_eq!(store.pending_timers().await.unwrap(), 1);
    let due = store.due_deliveries(i64::MAX, 10).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].key, key("kept"));
}

/// Due timers are those due by then, soonest first; a turn without a timer clears its own.
pub(crate) async fn due_timers_are_those_due_soonest_first(store: impl Store) {
    assert_eq!(store.next_timer().await.unwrap(), None);
    for (id, timer_id, due_at) in [("late", 1, 9_000), ("soon", 2, 3_000), ("mid", 3, 5_000)] {
        let mut commit = turn(id, 0, 1_000).await;
        commit.timer = Some(StoredTimer { timer_id, due_at });
        store.commit(commit).await.unwrap();
    }
    assert_eq!(store.pending_timers().await.unwrap(), 3);
    assert_eq!(store.next_timer().await.unwrap(), Some(3_000));
    assert!(store.due_timers(2_999, 10).await.unwrap().is_empty());
    let due = store.due_timers(5_000, 10).await.unwrap();
    let due: Vec<(String, u64)> = due
        .iter()
        .map(|due| (due.key.id.to_string(), due.timer.timer_id))
        .collect();
    assert_eq!(due, [("soon".to_owned(), 2), ("mid".to_owned(), 3)]);
    store.commit(turn("late", 1, 2_000).await).await.unwrap();
    assert_eq!(store.pending_timers().await.unwrap(), 2);
}

/// Only the oldest delivery of each conversation is due; a failed one is due again later with
/// one more attempt, a delivered one is gone and the next one is due.
pub(crate) async fn deliveries_go_out_oldest_first_per_conversation(store: impl Store) {
    for (revision, body) in [(0, "a1"), (1, "a2")] {
        let mut commit = turn("a", revision, 10).await;
        commit.outbound = Some(body.to_owned());
        store.commit(commit).await.unwrap();
    }
    let mut commit = turn("b", 0, 10).await;
    commit.outbound = Some("b1".to_owned());
    store.commit(commit).await.unwrap();
    let due = store.due_deliveries(10, 10).await.unwrap();
    let bodies: Vec<&str> = due.iter().map(|delivery| delivery.body.as_str()).collect();
    assert_eq!(bodies, ["a1", "b1"]);
    store.delivery_failed(due[0].delivery_id, 50).await.unwrap();
    store.delivered(due[1].delivery_id).await.unwrap();
    assert!(store.due_deliveries(49, 10).await.unwrap().is_empty());
    let again = store.due_deliveries(50, 10).await.unwrap();
    assert_eq!(
        (again.len(), again[0].body.as_str(), again[0].attempts),
        (1, "a1", 1)
    );
    store.delivered(again[0].delivery_id).await.unwrap();
    let next = store.due_deliveries(50, 10).await.unwrap();
    assert_eq!((next.len(), next[0].body.as_str()), (1, "a2"));
}

/// Pruning takes outputs and message records written before the cutoff, and nothing else.
pub(crate) async fn prune_takes_only_what_is_older_than_the_cutoff(store: impl Store) {
    let mut old = with_outputs(turn("old", 0, 100).await, 1..=2);
    old.message = Some(message_record("m1", 1, 2));
    store.commit(old).await.unwrap();
    let mut new = with_outputs(turn("new", 0, 300).await, 1..=1);
    new.message = Some(message_record("m1", 1, 1));
    store.commit(new).await.unwrap();
    let pruned = store.prune(200).await.unwrap();
    assert_eq!((pruned.outputs, pruned.messages), (2, 1));
    assert!(store.load(&key("old")).await.unwrap().is_some());
    assert_eq!(store.outputs(&key("new"), 0, 9, 9).await.unwrap().len(), 1);
    assert!(store.message(&key("new"), "m1").await.unwrap().is_some());
    store.ping().await.unwrap();
}

/// One `#[tokio::test]` per check of this module, each on a new store that `$new` (an async
/// block, or `return` when the backend is not available) makes.
macro_rules! contract_tests {
    ($new:expr) => {
        crate::store::contract::contract_tests!(@each $new;
            a_commit_then_a_load_gives_the_state_next_seq_and_times,
            the_same_id_under_another_bot_is_another_conversation,
            a_commit_at_another_revision_is_a_conflict_that_stores_nothing,
            messages_and_outputs_are_read_back,
            delete_removes_the_conversation_and_all_beside_it,
            due_timers_are_those_due_soonest_first,
            deliveries_go_out_oldest_first_per_conversation,
            prune_takes_only_what_is_older_than_the_cutoff
        );
    };
    (@each $new:expr; $($check:ident),*) => {
        /// The contract of every store (`store/contract.rs`), on this backend.
        mod contract {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let (_keep, store) = $new;
                    crate::store::contract::$check(store).await;
                }
            )*
        }
    };
}

pub(crate) use contract_tests;
