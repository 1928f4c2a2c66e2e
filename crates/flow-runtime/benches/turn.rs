//! Criterion benchmarks of the executor: one turn of a message-only flow, and a whole `shop`
//! conversation with scripted webhooks beside the same conversation with a `set` in place of the
//! webhook (the baseline: what the webhook step adds is the difference).

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented functions.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use flow_core::{LoadedFile, Project};
use flow_runtime::{ConversationId, Executor, Scripted, ScriptedRunner, StartOptions, Status};
use serde_json::json;

const SHOP: &str = include_str!("../../../flows/shop.yaml");

const MESSAGES: &str = "bot: talk
blocks:
  hello:
    message: \"Hello {{conversation id}}!\"
    next: news
  news:
    message: \"Nothing new today.\"
    next: listen
  listen:
    wait: {}
    next: echo
  echo:
    message: \"You said: {{last user answer}}\"
    next: listen
";

fn project(source: &str) -> Arc<Project> {
    let loaded = flow_core::load(source);
    assert!(loaded.flow.is_some(), "{:?}", loaded.diagnostics);
    let (project, _) = flow_core::link(vec![LoadedFile {
        file: "bench.yaml".to_owned(),
        loaded,
    }]);
    Arc::new(project)
}

/// The shop flow with its webhook step replaced by a `set` of the same variables.
fn shop_without_webhook() -> String {
    let start = SHOP
        .find("  fetch_products:")
        .expect("the shop's webhook block");
    let end = SHOP
        .find("  # One failure variable")
        .expect("the comment after it");
    let set = "  fetch_products:\n    set:\n      titles: [iPhone 9, iPhone X]\n      second category: smartphones\n    next: check\n";
    format!("{}{set}{}", &SHOP[..start], &SHOP[end..])
}

fn products() -> Scripted {
    Scripted::json(
        200,
        json!({"products": [
            {"title": "iPhone 9", "category": "smartphones"},
            {"title": "iPhone X", "category": "smartphones"},
        ]}),
    )
}

/// A whole shop conversation: start, name, pick.
async fn shop_conversation(executor: Executor<ScriptedRunner>) {
    let (mut conversation, _) = executor
        .start(
            ConversationId::new("bench"),
            "shop",
            StartOptions::default(),
        )
        .await
        .unwrap();
    executor.deliver(&mut conversation, "Ada").await.unwrap();
    let turn = executor.deliver(&mut conversation, "2").await.unwrap();
    assert_eq!(turn.status, Status::Ended);
}

fn turns(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let messages = Executor::new(project(MESSAGES), ScriptedRunner::new());
    let mut group = c.benchmark_group("message_only");
    group.bench_function("start_turn", |b| {
        b.to_async(&runtime).iter(|| async {
            let (_, turn) = messages
                .start(
                    ConversationId::new("bench"),
                    "talk",
                    StartOptions::default(),
                )
                .await
                .unwrap();
            assert_eq!(turn.outputs.len(), 2);
        });
    });
    let (conversation, _) = runtime
        .block_on(messages.start(
            ConversationId::new("bench"),
            "talk",
            StartOptions::default(),
        ))
        .unwrap();
    let messages_ref = &messages;
    group.bench_function("reply_turn", |b| {
        b.to_async(&runtime).iter_batched(
            || conversation.clone(),
            |mut conversation| async move {
                let turn = messages_ref.deliver(&mut conversation, "hi").await.unwrap();
                assert_eq!(turn.outputs.len(), 1);
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();

    let shop = project(SHOP);
    let baseline = project(&shop_without_webhook());
    let mut group = c.benchmark_group("shop_conversation");
    group.bench_function("scripted_webhook", |b| {
        b.to_async(&runtime).iter_batched(
            || {
                Executor::new(
                    shop.clone(),
                    ScriptedRunner::new().with("fetch_products", products()),
                )
            },
            shop_conversation,
            BatchSize::SmallInput,
        );
    });
    group.bench_function("set_instead_of_webhook", |b| {
        b.to_async(&runtime).iter_batched(
            || Executor::new(baseline.clone(), ScriptedRunner::new()),
            shop_conversation,
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, turns);
criterion_main!(benches);
