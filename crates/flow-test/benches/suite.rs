//! Criterion benchmarks of the runner: a test file of 1,000 shop cases run by `run_suite`, beside
//! the same 1,000 conversations driven straight through the executor (the baseline: what the
//! runner adds, transcripts, checks and reports, is the difference).

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented functions.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use flow_core::LoadedFile;
use flow_runtime::{ConversationId, Executor, Scripted, ScriptedRunner, StartOptions, Status};
use flow_test::{load_suite, run_suite, RunOptions};
use serde_json::json;

const SHOP: &str = include_str!("../../../flows/shop.yaml");
const CASES: usize = 1_000;

/// The three cases of the spec's example, in turn, `n` in all.
fn shop_cases(n: usize) -> String {
    let mut text = String::from("flow: shop.yaml\ncases:\n");
    for index in 0..n {
        let case = match index % 3 {
            0 => format!(
                "  - name: lists the products {index}
    webhooks:
      fetch_products: {{json: {{products: [{{title: iPhone 9, category: smartphones}}, {{title: iPhone X, category: smartphones}}]}}}}
    conversation:
      - bot: Welcome to the shop!
      - bot: What's your name?
      - user: Ada
      - bot: 'Ada, we have: iPhone 9, iPhone X'
      - bot: {{matches: '^Which'}}
        options: [iPhone 9, iPhone X]
      - user: iPhone X
      - bot: You picked iPhone X.
    expect:
      status: ended
      variables: {{titles: [iPhone 9, iPhone X], second category: smartphones}}
      requests:
        fetch_products:
          - {{method: GET, url: 'https://dummyjson.com/products?user=Ada', headers: {{Accept: application/json}}}}
"
            ),
            1 => format!(
                "  - name: closed shop when the server fails {index}
    webhooks:
      fetch_products: {{status: 500, json: {{error: down}}}}
    conversation:
      - bot: Welcome to the shop!
      - bot: What's your name?
      - user: Ada
      - bot: Sorry Ada, the shop is closed.
    expect:
      status: ended
      variables: {{shop failure: {{type: BadResponse, status: 500}}}}
"
            ),
            _ => format!(
                "  - name: time-out counts as a failure {index}
    variables: {{name: Ada}}
    start_at: fetch_products
    webhooks:
      fetch_products: {{error: Timeout}}
    conversation:
      - bot: Sorry Ada, the shop is closed.
"
            ),
        };
        text.push_str(&case);
    }
    text
}

/// The same conversations without the runner: start, answer, check the status.
async fn drive(executor: &Executor<ScriptedRunner>, index: usize) {
    let id = ConversationId::new("bench");
    let options = if index % 3 == 2 {
        StartOptions {
            block: Some("fetch_products".into()),
            variables: vec![("name".to_owned(), json!("Ada"))],
        }
    } else {
        StartOptions::default()
    };
    let (mut conversation, _) = executor.start(id, "shop", options).await.unwrap();
    if index % 3 != 2 {
        executor.deliver(&mut conversation, "Ada").await.unwrap();
    }
    if index.is_multiple_of(3) {
        executor
            .deliver(&mut conversation, "iPhone X")
            .await
            .unwrap();
    }
    assert_eq!(conversation.status(), Status::Ended);
}

fn runner_for(index: usize) -> ScriptedRunner {
    let outcome = match index % 3 {
        0 => Scripted::json(
            200,
            json!({"products": [{"title": "iPhone 9", "category": "smartphones"}, {"title": "iPhone X", "category": "smartphones"}]}),
        ),
        1 => Scripted::json(500, json!({"error": "down"})),
        _ => Scripted::Timeout,
    };
    ScriptedRunner::new().with("fetch_products", outcome)
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("shop.yaml"), SHOP).unwrap();
    std::fs::write(dir.path().join("cases.yaml"), shop_cases(CASES)).unwrap();
    let suite = load_suite(&dir.path().join("cases.yaml")).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let options = RunOptions::default();
    let report = runtime.block_on(run_suite(&suite, &options));
    assert_eq!(report.summary().failed, 0, "{}", report.cases[0].explain());

    let (project, _) = flow_core::link(vec![LoadedFile {
        file: "shop.yaml".to_owned(),
        loaded: flow_core::load(SHOP),
    }]);
    let project = Arc::new(project);

    let mut group = c.benchmark_group("1000 shop cases");
    group.throughput(Throughput::Elements(CASES as u64));
    group.sample_size(20);
    group.bench_function("run_suite", |b| {
        b.to_async(&runtime).iter(|| run_suite(&suite, &options));
    });
    group.bench_function("baseline: the executor alone", |b| {
        // One task per conversation, as the runner spawns one per case.
        b.to_async(&runtime).iter(|| async {
            let handles: Vec<_> = (0..CASES)
                .map(|index| {
                    let project = project.clone();
                    tokio::spawn(async move {
                        let executor = Executor::new(project, runner_for(index));
                        drive(&executor, index).await;
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
    });
    group.bench_function("load_suite (parse 1,000 cases, load the flow)", |b| {
        b.iter(|| load_suite(&dir.path().join("cases.yaml")).unwrap());
    });
    group.finish();
    drop(dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
