//! Tests of sessions: stored turns, timers by id, the per-conversation locks, and turns whose
//! caller left.

use std::sync::Arc;

use super::{SessionError, Sessions};
use crate::tests::support::flow;
use crate::{ConversationId, Executor, MemoryStore, Notice, ScriptedRunner, StartOptions, Status};

fn sessions() -> Sessions<ScriptedRunner, MemoryStore> {
    let source = "bot: nap\nblocks:\n  ask:\n    question: Ready?\n    next: nap\n  nap:\n    sleep: 5s\n    next: done\n  done:\n    end: Awake\n";
    Sessions::new(
        Arc::new(Executor::single(flow(source), ScriptedRunner::new())),
        MemoryStore::new(),
    )
}

#[tokio::test]
async fn turns_are_stored_and_a_conversation_starts_only_once() {
    let sessions = sessions();
    let id = ConversationId::new("s");
    let turn = sessions
        .start(&id, "nap", StartOptions::default())
        .await
        .unwrap();
    assert_eq!(turn.texts(), ["Ready?"]);
    let error = sessions
        .start(&id, "nap", StartOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, SessionError::AlreadyExists(_)));
    let turn = sessions.deliver(&id, "yes").await.unwrap();
    assert_eq!(turn.status, Status::Sleeping);
    let stored = sessions.conversation(&id).await.unwrap().unwrap();
    assert_eq!(stored.status(), Status::Sleeping);
    assert_eq!(stored.revision(), 2);

    let missing = sessions
        .deliver(&ConversationId::new("nobody"), "hi")
        .await
        .unwrap_err();
    assert_eq!(missing.to_string(), "no conversation `nobody`");
    assert!(sessions.delete(&id).await.unwrap());
}

#[tokio::test]
async fn only_the_pending_timer_fires() {
    let sessions = sessions();
    let id = ConversationId::new("s");
    sessions
        .start(&id, "nap", StartOptions::default())
        .await
        .unwrap();
    let timer = sessions.deliver(&id, "yes").await.unwrap().timer.unwrap();
    let stale = sessions.fire_timer(&id, timer.id + 1).await.unwrap();
    assert_eq!(stale.notices, [Notice::NoTimer]);
    assert_eq!(stale.status, Status::Sleeping);
    let fired = sessions.fire_timer(&id, timer.id).await.unwrap();
    assert_eq!(fired.texts(), ["Awake"]);
    assert_eq!(fired.status, Status::Ended);
}

#[tokio::test]
async fn a_conversation_lock_is_forgotten_once_nobody_waits_for_it() {
    let sessions = sessions();
    let id = ConversationId::new("s");
    sessions
        .start(&id, "nap", StartOptions::default())
        .await
        .unwrap();
    sessions.deliver(&id, "yes").await.unwrap();
    assert!(sessions.locks().is_idle());
}

/// Outside any runtime (the runtime itself is going away) a dropped turn cannot go on: it is
/// dropped where it stood, without a panic.
#[test]
fn a_turn_dropped_outside_a_runtime_stops_where_it_was() {
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Waker};

    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = SetOnDrop(dropped.clone());
    let mut turn = Box::pin(super::Completing::new(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    }));
    let polled = turn.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    assert!(polled.is_pending());
    assert!(!dropped.load(Ordering::SeqCst));
    drop(turn);
    assert!(dropped.load(Ordering::SeqCst), "the turn was kept alive");
}
