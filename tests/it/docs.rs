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
