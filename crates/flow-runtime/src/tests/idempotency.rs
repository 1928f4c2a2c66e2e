//! `idempotency_key: true`: the `Idempotency-Key` header is the same for every delivery of one
//! message (the same stored state) and differs for the next message, the next call of the same
//! step in one turn, another block and another conversation.

use serde_json::json;

use crate::{ConversationId, Executor, Scripted, ScriptedRunner, StartOptions};

use super::support::flow;

/// A bot that calls `notify` twice in its first turn after the question (a loop of two), then
/// asks again.
const BOT: &str = r#"bot: orders
variables:
  count: number
blocks:
  ask:
    question: "Order number?"
    save_to: order
    next: notify
  notify:
    webhook:
      url: https://crm.example.com/orders/{{order}}
      method: POST
      idempotency_key: true
    next: count_it
  count_it:
    set:
      count: {add: 1}
    next: again
  again:
    choice:
      - if: {var: count, less_than: 2}
        next: notify
      - else: ask
"#;

/// The `Idempotency-Key` of each request the runner saw, in order.
fn keys(runner: &ScriptedRunner) -> Vec<String> {
    runner
        .requests()
        .iter()
        .map(|request| {
            let found: Vec<&String> = request
                .headers
                .iter()
                .filter(|(name, _)| name == "Idempotency-Key")
                .map(|(_, value)| value)
                .collect();
            assert_eq!(
                found.len(),
                1,
                "one Idempotency-Key header: {:?}",
                request.headers
            );
            found[0].clone()
        })
        .collect()
}

/// Starts conversation `id` at revision `revision` and delivers `message`: the keys sent.
async fn keys_of_turn(id: &str, revision: u64, message: &str) -> Vec<String> {
    let runner = ScriptedRunner::new().with("notify", Scripted::json(200, json!({"ok": true})));
    let executor = Executor::single(flow(BOT), runner);
    let (mut conversation, _) = executor
        .start(ConversationId::new(id), "orders", StartOptions::default())
        .await
        .unwrap();
    conversation.set_revision(revision);
    executor.deliver(&mut conversation, message).await.unwrap();
    keys(executor.runner())
}

#[tokio::test]
async fn a_redelivery_sends_the_same_key_and_every_other_call_another() {
    let first = keys_of_turn("c-1", 1, "A7").await;
    assert_eq!(first.len(), 2, "the step ran twice in the turn");
    for key in &first {
        assert_eq!(key.len(), 64, "{key}");
        assert!(
            key.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "{key}"
        );
    }
    assert_ne!(
        first[0], first[1],
        "the second call of the turn has its own key"
    );
    // The same message delivered again from the same stored state: the same keys, even if
    // the text differs (a channel's redelivery carries the same text anyway).
    assert_eq!(keys_of_turn("c-1", 1, "A7").await, first);
    // The next message (one revision on), and another conversation, get others.
    let next = keys_of_turn("c-1", 2, "A7").await;
    let other = keys_of_turn("c-2", 1, "A7").await;
    for key in next.iter().chain(&other) {
        assert!(!first.contains(key), "{key} repeats a key of another turn");
    }
}

#[tokio::test]
async fn a_step_without_the_option_sends_no_key() {
    let runner = ScriptedRunner::new().with("call", Scripted::json(200, json!({})));
    let bot = "bot: plain\nblocks:\n  call:\n    webhook:\n      url: https://example.com/x\n    next: done\n  done:\n    end: Done.\n";
    let executor = Executor::single(flow(bot), runner);
    executor
        .start(ConversationId::new("c"), "plain", StartOptions::default())
        .await
        .unwrap();
    let requests = executor.runner().requests();
    assert_eq!(requests.len(), 1);
    assert!(
        !requests[0]
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("idempotency-key")),
        "{:?}",
        requests[0].headers
    );
}
