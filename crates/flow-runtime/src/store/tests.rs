//! Tests of the in-memory store and its optimistic concurrency.

use super::{ConversationStore, MemoryStore, StoreError};
use crate::tests::support::flow;
use crate::{Conversation, ConversationId, Executor, ScriptedRunner, StartOptions};

async fn new_conversation(id: &str) -> Conversation {
    let executor = Executor::single(
        flow("bot: b\nblocks:\n  w:\n    wait: {}\n    next: w\n"),
        ScriptedRunner::new(),
    );
    executor
        .start(ConversationId::new(id), "b", StartOptions::default())
        .await
        .unwrap()
        .0
}

#[tokio::test]
async fn a_save_bumps_the_revision_and_a_stale_save_is_refused() {
    let store = MemoryStore::new();
    let mut conversation = new_conversation("c").await;
    store.save(&mut conversation).await.unwrap();
    assert_eq!(conversation.revision(), 1);

    let mut first = store.load(conversation.id()).await.unwrap().unwrap();
    let mut second = first.clone();
    store.save(&mut first).await.unwrap();
    let error = store.save(&mut second).await.unwrap_err();
    assert!(matches!(
        error,
        StoreError::Conflict {
            expected: 1,
            found: 2,
            ..
        }
    ));
    assert_eq!(
        error.to_string(),
        "conversation `c` was changed by someone else (loaded at revision 1, stored at 2)"
    );

    let mut duplicate = new_conversation("c").await;
    assert!(
        store.save(&mut duplicate).await.is_err(),
        "a new conversation never replaces one"
    );
}

#[tokio::test]
async fn delete_removes_a_conversation() {
    let store = MemoryStore::new();
    let mut conversation = new_conversation("c").await;
    store.save(&mut conversation).await.unwrap();
    assert_eq!(store.len(), 1);
    assert!(store.delete(conversation.id()).await.unwrap());
    assert!(!store.delete(conversation.id()).await.unwrap());
    assert!(store.load(conversation.id()).await.unwrap().is_none());
    assert!(store.is_empty());
}
