//! `flowbot validate`, `graph` and `schema`, through the real binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{scratch, text};

fn flowbot(args: &[&str]) -> Output {
    crate::support::flowbot()
        .args(args)
        .output()
        .expect("flowbot runs")
}

fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

/// A scratch folder of flow files for one test.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(name);
    for (file, source) in files {
        std::fs::write(dir.join(file), source).unwrap();
    }
    dir
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

const TYPO: &str = "bot: shop\nblocks:\n  check:\n    choice:\n      - if: {equals: yes}\n        next: list_prodcts\n      - else: list_products\n  list_products:\n    end: Here.\n";

#[test]
fn every_example_flow_validates_clean() {
    let output = flowbot(&["validate", "--deny-warnings", "flows/"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn an_error_prints_file_line_column_and_exits_1() {
    let dir = folder("typo", &[("shop.yaml", TYPO)]);
    let file = dir.join("shop.yaml");
    let output = flowbot(&["validate", arg(&file)]);
    assert_eq!(output.status.code(), Some(1));
    let expected = format!(
        "{}:6:15: error: block `check` goes to unknown block `list_prodcts` (did you mean `list_products`?)\n",
        file.display()
    );
    assert_eq!(stdout(&output), expected);
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 error, 0 warnings"));
}

/// Issue 13: a misspelt kind key is named as the unknown key, on its own line and column.
#[test]
fn a_misspelt_kind_key_is_named_as_an_unknown_key() {
    let source =
        "bot: hi\nblocks:\n  hello:\n    mesage: Hi\n    next: done\n  done:\n    end: Bye.\n";
    let dir = folder("misspelt_kind", &[("hi.yaml", source)]);
    let file = dir.join("hi.yaml");
    let output = flowbot(&["validate", arg(&file)]);
    assert_eq!(output.status.code(), Some(1));
    let expected = format!(
        "{}:4:5: error: block `hello` has an unknown key `mesage` (did you mean `message`?)\n",
        file.display()
    );
    assert_eq!(stdout(&output), expected);
}

#[test]
fn json_format_lists_every_field() {
    let dir = folder("json", &[("shop.yaml", TYPO)]);
    let output = flowbot(&["validate", "--format", "json", arg(&dir)]);
    assert_eq!(output.status.code(), Some(1));
    let diagnostics: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let first = &diagnostics[0];
    for key in [
        "file", "line", "column", "severity", "code", "block", "message",
    ] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
    assert_eq!(first["line"], 6);
    assert_eq!(first["column"], 15);
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "unknown-target");
    assert_eq!(first["block"], "check");
}

#[test]
fn warnings_pass_unless_denied() {
    let unreachable = "bot: a\nblocks:\n  hi:\n    end: Hi\n  lost:\n    end: Never\n";
    let dir = folder("warnings", &[("a.yaml", unreachable)]);
    let plain = flowbot(&["validate", arg(&dir)]);
    assert_eq!(plain.status.code(), Some(0));
    assert!(stdout(&plain).contains("warning: block `lost` cannot be reached"));
    let denied = flowbot(&["validate", "--deny-warnings", arg(&dir)]);
    assert_eq!(denied.status.code(), Some(1));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(flowbot(&["validate"]).status.code(), Some(2));
    assert_eq!(
        flowbot(&["validate", "no/such/file.yaml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        flowbot(&["validate", "--format", "xml", "flows/"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn jumps_are_checked_across_a_folder() {
    let parent = "bot: parent\nblocks:\n  go:\n    jump: {bot: chlid, return: true}\n    next: done\n  done:\n    end: Back\n";
    let child = "bot: child\nblocks:\n  hello:\n    end: Hi from the child\n";
    let dir = folder("jumps", &[("parent.yaml", parent), ("child.yaml", child)]);
    let output = flowbot(&["validate", arg(&dir)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains(
            "parent.yaml:4:17: error: jump to unknown bot `chlid` (did you mean `child`?)"
        ),
        "{}",
        stdout(&output)
    );
    // A single file is checked against its siblings.
    let fixed = parent.replace("chlid", "child");
    let dir = folder(
        "jumps_fixed",
        &[("parent.yaml", &fixed), ("child.yaml", child)],
    );
    let output = flowbot(&["validate", arg(&dir.join("parent.yaml"))]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn a_block_only_another_bot_jumps_to_is_reachable() {
    // `direct` has no `next` pointing at it in its own bot; the parent jumps straight there.
    let parent = "bot: parent\nblocks:\n  go:\n    jump: {bot: child, block: direct}\n";
    let child = "bot: child\nblocks:\n  hello:\n    end: Hi\n  direct:\n    next: after\n    message: Straight in\n  after:\n    end: Done\n  lost:\n    end: Never\n";
    let dir = folder(
        "jump_reach",
        &[("parent.yaml", parent), ("child.yaml", child)],
    );
    for path in [dir.clone(), dir.join("child.yaml")] {
        let output = flowbot(&["validate", arg(&path)]);
        let printed = stdout(&output);
        assert!(!printed.contains("`direct` cannot be reached"), "{printed}");
        assert!(!printed.contains("`after` cannot be reached"), "{printed}");
        assert!(printed.contains("`lost` cannot be reached"), "{printed}");
    }
    // Alone, the child's `direct` is unreachable again.
    let alone = folder("jump_reach_alone", &[("child.yaml", child)]);
    let printed = stdout(&flowbot(&["validate", arg(&alone)]));
    assert!(printed.contains("`direct` cannot be reached"), "{printed}");
}

#[test]
fn graph_draws_branch_conditions() {
    let output = flowbot(&["graph", "flows/shop.yaml"]);
    assert_eq!(output.status.code(), Some(0));
    let mermaid = stdout(&output);
    assert!(mermaid.starts_with("flowchart TD\n"));
    assert!(
        mermaid.contains("-->|\"shop failure is message\"|"),
        "{mermaid}"
    );
    let dot = stdout(&flowbot(&["graph", "--format", "dot", "flows/shop.yaml"]));
    assert!(
        dot.contains("\"check\" -> \"closed\" [label=\"shop failure is message\"];"),
        "{dot}"
    );
}

#[test]
fn graph_of_a_broken_flow_points_to_validate() {
    let dir = folder("graph_broken", &[("shop.yaml", TYPO)]);
    let output = flowbot(&["graph", arg(&dir.join("shop.yaml"))]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("flowbot validate"));
}

#[test]
fn schema_is_json() {
    let output = flowbot(&["schema"]);
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(schema["title"], "flowbot flow");
}
