//! Whole-conversation tests of the runtime, with webhooks answered over real HTTP on 127.0.0.1.

mod abandoned;
mod behaviours;
mod idempotency;
mod load;
mod logs;
mod sequential;
pub(crate) mod server;
pub(crate) mod support;

/// The types a server shares between tasks are `Send + Sync`, and so are the futures of turns.
#[tokio::test]
async fn public_types_and_turn_futures_can_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: T) {}
    send_sync::<crate::Executor<crate::HttpRunner>>();
    send_sync::<crate::Executor<crate::ScriptedRunner>>();
    send_sync::<crate::Sessions<crate::HttpRunner, crate::MemoryStore>>();
    send_sync::<crate::Conversation>();
    send_sync::<crate::Turn>();
    let executor =
        crate::Executor::single(support::flow(support::SHOP), crate::ScriptedRunner::new());
    send(executor.start("c".into(), "shop", crate::StartOptions::default()));
    let (mut conversation, _) = executor
        .start("c".into(), "shop", crate::StartOptions::default())
        .await
        .unwrap();
    send(executor.deliver(&mut conversation, "hi"));
    send(executor.fire_timer(&mut conversation));
}
