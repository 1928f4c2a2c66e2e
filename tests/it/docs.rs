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

/// The first command of the README's quick start, split into `flowbot`'s arguments.
fn quick_start_arguments() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a sh block in the quick start");
    let first = block.lines().next().expect("a first command");
    let command = first.split('#').next().unwrap().trim();
    let arguments = command
        .strip_prefix("cargo run --release -- ")
        .unwrap_or_else(|| panic!("the quick start runs flowbot with cargo run: {command}"));
    let arguments: Vec<String> = arguments.split_whitespace().map(str::to_owned).collect();
    assert_eq!(arguments[0], "chat", "the quick start opens the simulator");
    assert!(arguments[1].starts_with("flows/"), "on a bot from flows/");
    arguments
}

#[test]
fn the_readme_quick_start_chats_with_a_bot_from_flows_and_asks_at_webhooks() {
    let arguments = quick_start_arguments();
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowbot"));
    command
        .args(&arguments)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm-256color");
    let options = rexpect::reader::Options::new()
        .timeout_ms(Some(30_000))
        .strip_ansi_escape_codes(true);
    let mut chat = rexpect::session::spawn_with_options(command, options).unwrap();
    chat.exp_string("bot: Welcome to the shop!").unwrap();
    chat.exp_string("What's your name?").unwrap();
    chat.send_line("Ada").unwrap();
    // On a terminal nothing is sent unless the author picks the real request.
    chat.exp_string("what comes back?").unwrap();
    chat.exp_string("choice>").unwrap();
    chat.send_control('d').unwrap();
    chat.exp_eof().unwrap();
}

#[test]
fn the_simulator_page_shows_what_a_scripted_chat_prints() {
    let root = env!("CARGO_MANIFEST_DIR");
    let page = std::fs::read_to_string(format!("{root}/docs/simulator.md")).unwrap();
    let command = "printf 'Ada\\n' | flowbot chat flows/shop.yaml --webhooks failure";
    let after = page
        .split(command)
        .nth(1)
        .expect("the page shows the command");
    let shown = after
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the transcript after it");
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowbot"))
        .args(["chat", "flows/shop.yaml", "--webhooks", "failure"])
        .current_dir(root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"Ada\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        shown,
        "update the transcript in docs/simulator.md"
    );
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
