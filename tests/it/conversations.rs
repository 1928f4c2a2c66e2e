//! The project's conversation suite, `tests/conversations/*.yaml`, run through the Rust API and
//! through `flowbot test` as CI runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flow_test::{RunOptions, SuiteReport, Summary};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn suite_files() -> Vec<PathBuf> {
    let files = flow_test::discover(&[root().join("tests/conversations")]).unwrap();
    assert!(!files.is_empty(), "no test files in tests/conversations");
    files
}

fn run_all(files: &[PathBuf]) -> Vec<SuiteReport> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut reports = Vec::new();
        for file in files {
            reports.push(flow_test::run_file(file, &RunOptions::default()).await);
        }
        reports
    })
}

fn flowbot(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowbot"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("flowbot runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The shop suite, moved to `dir` with its flow path made absolute, and `edit` applied.
fn shop_copy(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let source = std::fs::read_to_string(root().join("tests/conversations/shop.yaml")).unwrap();
    let flow = root().join("flows/shop.yaml");
    let source = source.replace(
        "flow: ../../flows/shop.yaml",
        &format!("flow: {}", flow.display()),
    );
    let path = dir.join("shop.yaml");
    std::fs::write(&path, edit(source)).unwrap();
    path
}

#[test]
fn every_conversation_case_passes() {
    let reports = run_all(&suite_files());
    let failures: Vec<String> = reports
        .iter()
        .flat_map(|suite| {
            suite
                .cases
                .iter()
                .filter(|case| !case.passed())
                .map(move |case| {
                    format!(
                        "--- {}: {}\n{}",
                        suite.path.display(),
                        case.name,
                        case.explain()
                    )
                })
        })
        .collect();
    let summary = Summary::of(&reports);
    assert!(
        failures.is_empty(),
        "{summary}\n\n{}",
        failures.join("\n\n")
    );
    assert!(summary.passed >= 100, "the suite shrank: {summary}");
}

#[test]
fn the_suite_covers_every_seed_behaviour_about_running_a_bot() {
    let source =
        std::fs::read_to_string(root().join("tests/conversations/seed_behaviours.yaml")).unwrap();
    let file = flow_test::spec::parse(&source).unwrap();
    for behaviour in [
        "S2", "S4", "S5", "S6", "S7", "S8", "S9", "S11", "S12", "S13", "S14", "S15", "S16", "S17",
    ] {
        let named = |case: &flow_test::spec::Case| {
            case.name.split([' ', ',']).any(|word| word == behaviour)
        };
        assert!(file.cases.iter().any(named), "no case names {behaviour}");
    }
}

#[test]
fn flowbot_test_runs_the_suite_and_ends_with_the_count_line() {
    let n_cases: usize = suite_files()
        .iter()
        .map(|file| {
            let source = std::fs::read_to_string(file).unwrap();
            flow_test::spec::parse(&source).unwrap().cases.len()
        })
        .sum();
    let output = flowbot(&["test", "tests/conversations"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert_eq!(
        text.lines().last(),
        Some(format!("{n_cases} passed, 0 failed").as_str()),
        "{text}"
    );
}

#[test]
fn a_wrong_expectation_fails_with_a_side_by_side_diff_and_exit_1() {
    let dir = scratch("wrong_expectation");
    let file = shop_copy(&dir, |source| {
        source.replacen(
            "- bot: You picked iPhone X.",
            "- bot: You picked iPhone 9.",
            1,
        )
    });
    let output = flowbot(&["test", file.to_str().unwrap()]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let header = format!("--- {}: lists the products", file.display());
    let report = text
        .split(&header)
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let diff: Vec<&str> = report.lines().skip(1).take(4).collect();
    assert_eq!(
        diff,
        [
            "  the conversation differs from line 7:",
            "       expected                  | actual",
            "    6  user: iPhone X            | user: iPhone X",
            "  > 7  bot: You picked iPhone 9. | bot: You picked iPhone X.",
        ],
        "{text}"
    );
    let n_cases = text.lines().filter(|line| line.starts_with("ok ")).count() + 1;
    assert_eq!(
        text.lines().last(),
        Some(format!("{} passed, 1 failed", n_cases - 1).as_str())
    );
}

#[test]
fn a_webhook_without_outcome_fails_the_case_and_names_the_block() {
    let dir = scratch("no_outcome");
    let file = shop_copy(&dir, |source| {
        source.replacen(
            "      fetch_products: {status: 500, json: {error: down}}\n",
            "      {}\n",
            1,
        )
    });
    let output = flowbot(&["test", file.to_str().unwrap(), "--filter", "server fails"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "webhook `fetch_products` was reached without an outcome, so nothing was sent; it would have sent:\n      GET https://dummyjson.com/products?user=Ada\n      Accept: application/json\n"
        ),
        "{text}"
    );
    assert_eq!(text.lines().last(), Some("0 passed, 1 failed"));
}

#[test]
fn filter_and_junit_report() {
    let dir = scratch("junit");
    let report = dir.join("report.xml");
    let output = flowbot(&[
        "test",
        "tests/conversations/shop.yaml",
        "--filter",
        "closed shop",
        "--junit",
        report.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(stdout(&output).lines().last(), Some("1 passed, 0 failed"));
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"<testsuites name="flowbot test" tests="1" skipped="0" failures="0""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="closed shop when the server fails" classname="tests/conversations/shop.yaml""#),
        "{xml}"
    );
}

#[test]
fn a_failing_case_is_a_junit_failure_with_its_diff() {
    let dir = scratch("junit_failure");
    // A 200 without products is a KeyError, not the BadResponse the case expects.
    let file = shop_copy(&dir, |source| {
        source.replacen("status: 500, json", "status: 200, json", 1)
    });
    let report = dir.join("report.xml");
    let output = flowbot(&[
        "test",
        file.to_str().unwrap(),
        "--junit",
        report.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.contains(r#"failures="1""#), "{xml}");
    assert!(
        xml.contains("shop failure: expected {&quot;type&quot;:&quot;BadResponse&quot;,&quot;status&quot;:500}"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="variables that differ">"#),
        "{xml}"
    );
}

#[test]
fn nothing_to_run_is_not_a_pass() {
    let output = flowbot(&[
        "test",
        "tests/conversations",
        "--filter",
        "no case is named so",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).lines().last(), Some("0 passed, 0 failed"));
    let output = flowbot(&["test", "no/such/folder"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no such file or folder"));
    let output = flowbot(&["test", "flows"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no test files"));
}
