use proptest::prelude::*;

use super::super::{parse_in_full, Node, NodeValue, Span, TreeBuilder, YamlError};
use super::read;

/// The quick reader's tree, or `None` where it leaves the file to yaml-rust2.
fn quick(source: &str) -> Option<Option<Node>> {
    let mut builder = TreeBuilder::default();
    read(source, &mut builder)?;
    assert!(builder.error.is_none(), "{source}");
    Some(builder.root)
}

/// Checks that the quick reader, where it reads `source`, reads it as yaml-rust2 does;
/// true when it did read it.
fn same_as_yaml_rust2(source: &str) -> bool {
    let Some(tree) = quick(source) else {
        return false;
    };
    let full: Result<Option<Node>, YamlError> = parse_in_full(source);
    assert_eq!(Ok(tree), full, "read differently:\n{source}");
    true
}

/// Every `.yaml` file under `dir`, relative to the crate.
fn files(dir: &str) -> Vec<(std::path::PathBuf, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn reads_every_corpus_file_as_yaml_rust2_does() {
    let mut read = 0;
    let mut total = 0;
    for dir in ["test_data/ok", "test_data/err", "../../flows"] {
        for (_, text) in files(dir) {
            total += 1;
            read += usize::from(same_as_yaml_rust2(&text));
        }
    }
    // Most flows are plain YAML: the quick reader is the one that reads them.
    assert!(read * 2 > total, "read {read} of {total}");
}

/// Blocks of every common kind, written as flow files usually are.
const TYPICAL: &str = r#"bot: big
# A comment line.
variables:
  name: text
  titles: list
  count: {type: number, default: 0}
  "quoted": x
blocks:
  b0:
    message: "Hello {{name}}, step 0"   # trailing comment
    next: b1
  b1:
    question: 'What''s your name?'
    save_to: name

    next: b2
  b2:
    webhook:
      url: https://api.example.com/items/{{name}}
      query: {page: "2", empty: []}
      save:
        - path: items.flatMap(item => item.title)
          to: titles
        - plain entry
        - [a, 'b', "c\"d"]
      failure: failure
    next: b3
  b3:
    choice:
      - if: {var: failure, is: message}
        next: b4
      - else: b4
  b4:
    set:
      count: {add: -1}
      last user answer: prénom 🍕 {{x}}
    next:
  end:
    end: "Bye {{name}}\tand \\ \/ \n"
"#;

#[test]
fn reads_typical_flows_itself() {
    // `"quoted":` is a quoted key, which the quick reader leaves to yaml-rust2.
    assert!(!same_as_yaml_rust2(TYPICAL));
    let typical = TYPICAL.replace("  \"quoted\": x\n", "");
    assert!(same_as_yaml_rust2(&typical), "left to yaml-rust2");
}

#[test]
fn counts_columns_after_non_ascii_characters_as_yaml_rust2_does() {
    // Keys are ASCII: the quick reader leaves other keys to yaml-rust2.
    let source = "a: {b: 'ü', c: [ö, \"ä\", d]}\nf:\n  - {g: ñ, h: 🍕, i: j}\n  - é [x]\n  - k: [ß, y]\n    z: ω\n";
    assert!(same_as_yaml_rust2(source), "left to yaml-rust2");
}

#[test]
fn counts_columns_of_long_non_ascii_lines_once() {
    // Counting each scalar's column from the start of its line would take minutes here.
    let line = format!("a: [{}é]\n", "é, ".repeat(100_000));
    let tree = quick(&line).expect("read").expect("a document");
    let items = &tree.as_map().unwrap()[0].1;
    let NodeValue::Seq(items) = &items.value else {
        panic!("not a list");
    };
    assert_eq!(items.last().unwrap().span, Span::new(1, 300_005));
}

#[test]
fn leaves_the_rest_to_yaml_rust2() {
    for source in [
        "",
        "# only a comment\n",
        "a: &x 1\nb: *x\n",
        "a: |\n  text\n",
        "a: one\n  two\n",
        "a: [1,\n  2]\n",
        "a:\n- 1\n",
        "a: 1\n---\nb: 2\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: b: c\n",
        "a: \"\\u00e9\"\n",
        "- - a\n",
        "? a\n: b\n",
        "a: {b: 1, }\n",
        "a: {b: -}\n",
        "a: !!str 1\n",
        "scalar\n",
    ] {
        assert!(quick(source).is_none(), "read {source:?}");
    }
}

/// A YAML value to write out in block style.
#[derive(Debug, Clone)]
enum Doc {
    Scalar(String),
    Map(Vec<(String, Doc)>),
    Seq(Vec<Doc>),
}

fn arb_scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        r"[a-cé][a-c :#{}\[\],'-]{0,5}",
        r#""([a-c' {}é]|\\\\|\\"|\\n|\\t|\\/|\\x41){0,4}""#,
        r#"'([a-c" ]|''){0,3}'"#,
        r"-[0-9]|[a-c] #[a-c]|[&*!|>%@?][a-c]|",
        r#"\{([a-c]{1,2}: ([a-c]|"d"|\[\]|\{\}), ){0,2}[a-c]: [a-c-]{1,2}\}"#,
        r#"\[(-1|"c"|'d'|\{a: b\}|\[\]|[a-c :]{1,2})(, [a-c]){0,2}\]"#,
    ]
}

fn arb_doc() -> impl Strategy<Value = Doc> {
    arb_scalar()
        .prop_map(Doc::Scalar)
        .prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec((r"[a-c][a-c ]{0,2}|-a|\.b", inner.clone()), 1..4)
                    .prop_map(Doc::Map),
                prop::collection::vec(inner, 1..4).prop_map(Doc::Seq),
            ]
        })
}

/// Writes `doc` in block style, as the value of a key or an entry (`inline` when on the line of
/// its `key:` or `- `), nested `indent` columns deep.
fn render(doc: &Doc, indent: usize, inline: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    match doc {
        Doc::Scalar(text) => {
            out.push_str(text);
            out.push('\n');
        }
        Doc::Map(entries) => {
            for (i, (key, value)) in entries.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str(key);
                match value {
                    Doc::Scalar(_) => {
                        out.push_str(": ");
                        render(value, indent + 2, true, out);
                    }
                    _ => {
                        out.push_str(":  # nested\n");
                        render(value, indent + 2, false, out);
                    }
                }
            }
        }
        Doc::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                if !(inline && i == 0) {
                    out.push_str(&pad);
                }
                out.push_str("- ");
                render(item, indent + 2, true, out);
            }
        }
    }
}

proptest! {
    #[test]
    fn reads_generated_documents_as_yaml_rust2_does(doc in arb_doc()) {
        let mut source = String::new();
        render(&doc, 0, false, &mut source);
        same_as_yaml_rust2(&source);
    }

    #[test]
    fn reads_generated_yaml_as_yaml_rust2_does(
        source in r#"((  |    )?(- )?([a-c ]{1,3}:( |\n))?([a-c ]{1,5}|"[a-c'\\"]{0,3}"|'[a-c"]{0,3}'|\{a: [a-c]{1,2}\}|\[-1, "c"\]|-1|[a-c]:[a-c]|[a-c] #[a-c]|[a-c]:|)( #)?\n){1,8}"#
    ) {
        same_as_yaml_rust2(&source);
    }

    #[test]
    fn reads_random_text_as_yaml_rust2_does(source in r#"[a-c:#{}"'\[\], \n\\-]{0,40}"#) {
        same_as_yaml_rust2(&source);
    }
}

/// The example flows and the clean corpus, to mutate.
fn real_flows() -> Vec<String> {
    ["test_data/ok", "../../flows"]
        .into_iter()
        .flat_map(files)
        .map(|(_, text)| text)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Real flow files with one character inserted or removed, where a typo is most
    /// likely to make the two readers disagree: every file the quick reader still reads,
    /// it reads as yaml-rust2 does, and it never reads one yaml-rust2 rejects.
    #[test]
    fn reads_mutated_real_flows_as_yaml_rust2_does(
        file in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        insert in prop::option::of(prop::sample::select(
            vec![' ', ':', '#', '-', '\'', '"', '{', '}', '[', ']', ',', '\n', '\\', '&', '*', '!', '|', '>', '?', '%', '@', '`', 'é'],
        )),
    ) {
        let flows = real_flows();
        let text = &flows[file.index(flows.len())];
        let boundaries: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let at = boundaries[at.index(boundaries.len())];
        let mut mutated = text.clone();
        match insert {
            Some(c) => mutated.insert(at, c),
            None => {
                mutated.remove(at);
            }
        }
        same_as_yaml_rust2(&mutated);
    }
}
