//! The docs show what the commands print today.

use std::process::Command;

#[test]
fn the_graph_page_shows_the_current_shop_diagram() {
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(env!("CARGO_BIN_EXE_flowbot"))
        .args(["graph", "flows/shop.yaml"])
        .current_dir(root)
        .output()
        .unwrap();
    let diagram = String::from_utf8(output.stdout).unwrap();
    let page = std::fs::read_to_string(format!("{root}/docs/graph.md")).unwrap();
    assert!(
        page.contains(&format!("```mermaid\n{diagram}```")),
        "regenerate docs/graph.md from `flowbot graph flows/shop.yaml`"
    );
}

#[test]
fn the_readme_bot_loads_clean() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let yaml = readme
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block");
    let loaded = flow_core::load(yaml);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
}

#[test]
fn the_testing_page_test_files_parse() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/testing.md")).unwrap();
    let test_files: Vec<&str> = page
        .split("```yaml\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .filter(|yaml| yaml.starts_with("flow:"))
        .collect();
    assert!(!test_files.is_empty(), "no test file in docs/testing.md");
    for yaml in test_files {
        if let Err(error) = flow_test::spec::parse(yaml) {
            panic!("{error}\n{yaml}");
        }
    }
}

#[test]
fn the_testing_page_first_example_passes_against_the_shop() {
    let root = env!("CARGO_MANIFEST_DIR");
    let page = std::fs::read_to_string(format!("{root}/docs/testing.md")).unwrap();
    let yaml = page
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a yaml block");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs_testing");
    std::fs::create_dir_all(&dir).unwrap();
    let flow = format!("{root}/flows/shop.yaml");
    let yaml = yaml.replace("../../flows/shop.yaml", &flow);
    std::fs::write(dir.join("shop.yaml"), yaml).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flowbot"))
        .args(["test", dir.join("shop.yaml").to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(text.lines().last(), Some("2 passed, 0 failed"));
}
