//! `flowbot extract`: a `save` path tried on a JSON payload, through the real binary.

use std::path::PathBuf;
use std::process::Output;

use flow_core::path::Path;
use serde_json::{json, Value};

use crate::support::{flowbot, run_with_input};

/// Runs `flowbot extract ARGS` with `input` on standard input.
fn extract(args: &[&str], input: &str) -> Output {
    let mut command = flowbot();
    command.arg("extract").args(args);
    run_with_input(command, input)
}

/// `(exit code, stdout, stderr)`.
fn outcome(output: &Output) -> (Option<i32>, String, String) {
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn ok(stdout: &str) -> (Option<i32>, String, String) {
    (Some(0), stdout.to_owned(), String::new())
}

const SEED: &str = r#"{"products":[{"title":"iPhone 9"},{"title":"iPhone X"}]}"#;

fn shop() -> Value {
    json!({
        "products": [
            {"id": 1, "title": "iPhone 9", "category": "smartphones", "tags": ["apple"]},
            {"id": 2, "title": "iPhone X", "tags": ["apple", "new"]},
        ],
        "total": 2,
        "full name": "Shop",
    })
}

/// `shop()` written to a file for one test.
fn shop_file(name: &str) -> PathBuf {
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.json"));
    std::fs::write(&file, shop().to_string()).unwrap();
    file
}

#[test]
fn the_seed_flat_map_prints_every_title() {
    let output = extract(&["products.flatMap(item => item.title)"], SEED);
    assert_eq!(outcome(&output), ok("[\"iPhone 9\",\"iPhone X\"]\n"));
}

#[test]
fn reads_a_file_or_a_dash_for_stdin() {
    let file = shop_file("reads_a_file");
    let output = extract(&["products[0].category", file.to_str().unwrap()], "");
    assert_eq!(outcome(&output), ok("\"smartphones\"\n"));
    let output = extract(&["products[-1].tags", "-"], &shop().to_string());
    assert_eq!(outcome(&output), ok("[\"apple\",\"new\"]\n"));
    let output = extract(&["", "-"], SEED);
    assert_eq!(outcome(&output), ok(&format!("{SEED}\n")));
    let output = extract(&["$.products[*].title"], SEED);
    assert_eq!(outcome(&output), ok("[\"iPhone 9\",\"iPhone X\"]\n"));
    let output = extract(&["[\"full name\"]"], &shop().to_string());
    assert_eq!(outcome(&output), ok("\"Shop\"\n"));
}

#[test]
fn a_path_that_does_not_match_is_the_step_s_key_error_and_exits_1() {
    let output = extract(&["products[1].category"], &shop().to_string());
    assert_eq!(
        outcome(&output),
        (
            Some(1),
            String::new(),
            "KeyError: no key 'category' in object at products[1] (path products[1].category)\n"
                .to_owned()
        )
    );
}

#[test]
fn a_bad_path_is_a_usage_error_pointing_at_the_problem() {
    let output = extract(&["products[x].title"], SEED);
    assert_eq!(
        outcome(&output),
        (
            Some(2),
            String::new(),
            "error: invalid path `products[x].title`: expected an index or a quoted key after \
             `[`\n  products[x].title\n           ^\n"
                .to_owned()
        )
    );
}

#[test]
fn input_that_is_not_json_is_a_usage_error() {
    let (code, stdout, stderr) = outcome(&extract(&["products"], "{\"products\": ["));
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert!(
        stderr.starts_with("error: standard input is not valid JSON: EOF while parsing"),
        "{stderr}"
    );
    let (code, _, stderr) = outcome(&extract(&["products", "/no/such/file.json"], ""));
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: reading /no/such/file.json: "),
        "{stderr}"
    );
}

#[test]
fn suggest_prints_an_aligned_table_of_paths_and_previews() {
    let output = extract(&["--suggest", ""], &shop().to_string());
    // Keys come in the payload's order, not sorted (issue 13).
    assert_eq!(
        outcome(&output),
        ok(concat!(
            "products                                 [{\"id\":1,\"title\":\"iPhone 9\",\"category\":\"…\n",
            "products[0]                              {\"id\":1,\"title\":\"iPhone 9\",\"category\":\"s…\n",
            "products[0].id                           1\n",
            "products[0].title                        \"iPhone 9\"\n",
            "products[0].category                     \"smartphones\"\n",
            "products[0].tags                         [\"apple\"]\n",
            "products[0].tags[0]                      \"apple\"\n",
            "products.flatMap(item => item.id)        [1,2]\n",
            "products.flatMap(item => item.title)     [\"iPhone 9\",\"iPhone X\"]\n",
            "products.flatMap(item => item.category)  [\"smartphones\",null]\n",
            "products.flatMap(item => item.tags)      [\"apple\",\"apple\",\"new\"]\n",
            "total                                    2\n",
            "[\"full name\"]                            \"Shop\"\n",
        ))
    );
}

/// Issue 13: an object keeps the key order of the payload, as JavaScript does.
#[test]
fn an_object_keeps_the_payloads_key_order() {
    let payload = r#"{"item": {"title": "A", "category": "x", "id": 7}}"#;
    let output = extract(&["item"], payload);
    assert_eq!(
        outcome(&output),
        ok("{\"title\":\"A\",\"category\":\"x\",\"id\":7}\n")
    );
}

/// Issue 13: with `--suggest` the path may be left out and starts from the whole payload, as
/// the builder's path helper does; the one argument is then the payload file.
#[test]
fn suggest_without_a_path_lists_the_whole_payload() {
    let payload = r#"{"title": "A", "category": "x"}"#;
    let expected = ok("title     \"A\"\ncategory  \"x\"\n");
    assert_eq!(outcome(&extract(&["--suggest"], payload)), expected);
    assert_eq!(outcome(&extract(&["--suggest", "-"], payload)), expected);
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("suggest_without_a_path.json");
    std::fs::write(&file, payload).unwrap();
    assert_eq!(
        outcome(&extract(&["--suggest", file.to_str().unwrap()], "")),
        expected
    );
    // A path that names no file is still a path.
    assert_eq!(outcome(&extract(&["--suggest", "title"], payload)), ok(""));
}

#[test]
fn without_suggest_the_path_is_required() {
    let (code, stdout, stderr) = outcome(&extract(&[], SEED));
    assert_eq!(code, Some(2));
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("the following required arguments were not provided")
            && stderr.contains("<PATH>"),
        "{stderr}"
    );
}

#[test]
fn suggested_paths_parse_and_select_what_they_preview() {
    let payloads = [
        shop(),
        json!([{"a": {"b": [1, 2]}}, {"a": {"b": [3]}}, {"c": "x"}]),
        // Keys that must be quoted; a line break in a key is covered by flow-http's own tests, as
        // it spreads a row of the table over two lines.
        json!({"odd keys": {"quote\"": 2, "back\\slash": 1, "$ref": 3, "": 4, "2nd": [true], "catégorie": "é"}}),
    ];
    let mut n_checked = 0;
    for payload in payloads {
        for prefix in ["", "products", "[0]", "[\"odd keys\"]"] {
            let output = extract(&["--suggest", prefix], &payload.to_string());
            if output.status.code() != Some(0) {
                continue;
            }
            let table = String::from_utf8(output.stdout).unwrap();
            for (path, preview) in rows(&table) {
                let value = Path::parse(&path)
                    .unwrap_or_else(|error| panic!("{path}: {error}"))
                    .evaluate(&payload)
                    .unwrap_or_else(|error| panic!("{path}: {error}"));
                let json = value.to_string();
                match preview.strip_suffix('…') {
                    Some(start) => assert!(json.starts_with(start), "{path}: {json}"),
                    None => assert_eq!(json, preview, "{path}"),
                }
                let output = extract(&[&path], &payload.to_string());
                assert_eq!(outcome(&output), ok(&format!("{json}\n")), "{path}");
                n_checked += 1;
            }
        }
    }
    assert!(n_checked > 30, "only {n_checked} paths checked");
}

/// The table's rows as `(path, preview)`: the preview starts after the path's padding (none of
/// these paths holds two spaces in a row).
fn rows(table: &str) -> Vec<(String, String)> {
    table
        .lines()
        .map(|line| {
            let (path, preview) = line.split_once("  ").unwrap();
            (path.to_owned(), preview.trim_start().to_owned())
        })
        .collect()
}

#[test]
fn suggest_lists_paths_under_a_path_written_from_the_root() {
    let output = extract(&["--suggest", "products[1]"], &shop().to_string());
    assert_eq!(
        outcome(&output),
        ok(concat!(
            "products[1].id       2\n",
            "products[1].title    \"iPhone X\"\n",
            "products[1].tags     [\"apple\",\"new\"]\n",
            "products[1].tags[0]  \"apple\"\n",
        ))
    );
    let (code, _, stderr) = outcome(&extract(&["--suggest", "$.products"], SEED));
    assert_eq!(code, Some(2));
    assert_eq!(
        stderr,
        "error: --suggest lists paths under a builder path such as `products` or '', not JSONPath\n"
    );
}
