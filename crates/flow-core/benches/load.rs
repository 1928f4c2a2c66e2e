//! Loading and validating a generated 10,000-block flow, beside serde_yaml parsing the same text.
//!
//! The baseline is the cost of merely reading the YAML into a generic value, so the ratio shows
//! what our positions, checks and graph add on top of parsing.

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented functions.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// The bench measures loading as the flowbot binary does it, with mimalloc (see
/// crates/flow-cli/main.rs); serde_yaml's baseline, in the same process, gets the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A flow of `n_blocks` blocks cycling through the common kinds, all reachable.
pub fn generated_flow(n_blocks: usize) -> String {
    let mut yaml = String::from(
        "bot: big\nvariables:\n  name: text\n  titles: list\n  count: {type: number, default: 0}\n  failure: text\nblocks:\n",
    );
    for i in 0..n_blocks {
        let next = if i + 1 == n_blocks {
            "end".to_owned()
        } else {
            format!("b{}", i + 1)
        };
        let block = match i % 5 {
            0 => format!("  b{i}:\n    message: \"Hello {{{{name}}}}, step {i}\"\n    next: {next}\n"),
            1 => format!("  b{i}:\n    question: \"What is your name?\"\n    save_to: name\n    next: {next}\n"),
            2 => format!(
                "  b{i}:\n    webhook:\n      url: https://api.example.com/items/{{{{name}}}}\n      query: {{page: \"{i}\"}}\n      save:\n        - path: items.flatMap(item => item.title)\n          to: titles\n      failure: failure\n    next: {next}\n"
            ),
            3 => format!(
                "  b{i}:\n    choice:\n      - if: {{var: failure, is: message}}\n        next: {next}\n      - if: {{var: count, at_least: 3}}\n        next: {next}\n      - else: {next}\n"
            ),
            _ => format!("  b{i}:\n    set:\n      count: {{add: 1}}\n    next: {next}\n"),
        };
        yaml.push_str(&block);
    }
    yaml.push_str("  end:\n    end: \"Bye {{name}}\"\n");
    yaml
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load_10k_blocks");
    group.sample_size(20);
    let source = generated_flow(10_000);
    let loaded = flow_core::load(&source);
    assert!(
        loaded.flow.is_some(),
        "{:?}",
        &loaded.diagnostics[..loaded.diagnostics.len().min(3)]
    );
    group.throughput(Throughput::Bytes(source.len() as u64));
    group.bench_with_input(
        BenchmarkId::new("baseline_serde_yaml_value", 10_000),
        &source,
        |b, source| b.iter(|| serde_yaml::from_str::<serde_yaml::Value>(source).unwrap()),
    );
    group.bench_with_input(
        BenchmarkId::new("flow_core_yaml_tree_only", 10_000),
        &source,
        |b, source| b.iter(|| flow_core::yaml::parse(source).unwrap()),
    );
    group.bench_with_input(
        BenchmarkId::new("flow_core_load", 10_000),
        &source,
        |b, source| b.iter(|| flow_core::load(source)),
    );
    group.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
