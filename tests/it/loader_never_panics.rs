//! Property tests: no input file makes the loader panic, whether random text, random YAML
//! made of flow-like keys and values, or an example flow with lines cut, copied or mangled.

use proptest::prelude::*;

const KEYS: &[&str] = &[
    "bot",
    "start",
    "blocks",
    "variables",
    "settings",
    "webhook",
    "message",
    "question",
    "choice",
    "set",
    "jump",
    "end",
    "handoff",
    "event",
    "sleep",
    "wait",
    "next",
    "else",
    "if",
    "var",
    "equals",
    "is",
    "all",
    "any",
    "not",
    "url",
    "method",
    "save",
    "path",
    "to",
    "body",
    "json",
    "form",
    "text",
    "query",
    "headers",
    "options",
    "expect",
    "pattern",
    "attempts",
    "on_invalid",
    "timeout",
    "on_timeout",
    "on_failure",
    "failure",
    "accept_status",
    "restart",
    "with",
    "return",
    "type",
    "default",
    "save_to",
    "retry",
    "add",
    "push",
    "clear",
];
const SCALARS: &[&str] = &[
    "a",
    "b",
    "x y",
    "{{name}}",
    "{{",
    "}}",
    "{{secret.K}}",
    "products.flatMap(item => item.title)",
    "[",
    "$..*",
    "15s",
    "2xx",
    "200",
    "-1",
    "true",
    "null",
    "~",
    "https://example.com/{{id}}",
    "ftp://x",
    "GET",
    "regex",
    "^a(",
    "list",
    "number",
    "message",
    "",
    "'",
    "é",
    "0",
    "1h",
    "99999999999999999999",
];

fn yaml_value(depth: u32) -> BoxedStrategy<String> {
    let scalar = prop::sample::select(SCALARS)
        .prop_map(|s| format!("{s:?}"))
        .boxed();
    if depth == 0 {
        return scalar;
    }
    let map = prop::collection::vec((prop::sample::select(KEYS), yaml_value(depth - 1)), 0..5)
        .prop_map(|entries| {
            let inner: Vec<String> = entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{{{}}}", inner.join(", "))
        });
    let list = prop::collection::vec(yaml_value(depth - 1), 0..4)
        .prop_map(|items| format!("[{}]", items.join(", ")));
    prop_oneof![scalar, map, list].boxed()
}

fn flow_like() -> impl Strategy<Value = String> {
    let block = (prop::sample::select(&["a", "b", "c"][..]), yaml_value(3));
    prop::collection::vec(block, 0..6).prop_map(|blocks| {
        let body: Vec<String> = blocks
            .iter()
            .map(|(id, v)| format!("  {id}: {v}"))
            .collect();
        format!(
            "bot: p\nvariables: {{n: number, l: list, t: text}}\nblocks:\n{}\n",
            body.join("\n")
        )
    })
}

fn mangled_example() -> impl Strategy<Value = String> {
    let examples: Vec<String> = ["shop", "lead_capture", "order_status", "support", "faq"]
        .iter()
        .map(|name| {
            std::fs::read_to_string(format!("{}/flows/{name}.yaml", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
        })
        .collect();
    (
        prop::sample::select(examples),
        prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<char>()), 1..8),
    )
        .prop_map(|(source, edits)| {
            let mut lines: Vec<String> = source.lines().map(str::to_owned).collect();
            for (index, edit, c) in edits {
                if lines.is_empty() {
                    break;
                }
                let at = index.index(lines.len());
                match edit {
                    0 => drop(lines.remove(at)),
                    1 => lines.insert(at, lines[at].clone()),
                    2 => lines[at].insert(0, c),
                    _ => {
                        let cut = lines[at]
                            .char_indices()
                            .nth(lines[at].chars().count() / 2)
                            .map_or(0, |(i, _)| i);
                        lines[at].truncate(cut);
                    }
                }
            }
            lines.join("\n")
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn random_text_never_panics(source in ".{0,400}") {
        let _ = flow_core::load(&source);
    }

    #[test]
    fn flow_like_yaml_never_panics(source in flow_like()) {
        let loaded = flow_core::load(&source);
        // A flow comes back exactly when no diagnostic is an error.
        prop_assert_eq!(loaded.flow.is_some(), !loaded.diagnostics.iter().any(|d| d.is_error()));
    }

    #[test]
    fn mangled_examples_never_panic(source in mangled_example()) {
        let loaded = flow_core::load(&source);
        for diagnostic in &loaded.diagnostics {
            prop_assert!(diagnostic.line >= 1 && diagnostic.column >= 1, "{diagnostic}");
        }
    }
}
