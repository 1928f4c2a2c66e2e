//! The browser tests under `tests/browser/`: Playwright (npm's `playwright-core`) driving Debian's
//! Chromium headless against the real `flowbot` binary.
//!
//! They need Node.js, `/usr/bin/chromium` (or `CHROMIUM`) and `npm ci --prefix tests/browser`.
//! Where one is missing they are skipped with a message saying what to install, unless
//! `FLOWBOT_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them), which makes a missing
//! one a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What is missing to run the browser tests, if anything.
fn missing_prerequisite(browser_dir: &Path) -> Option<String> {
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !chromium.exists() {
        return Some(format!(
            "{} is missing (apt-get install chromium)",
            chromium.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing (install Node.js 20 or later)".to_owned());
    }
    if !browser_dir.join("node_modules/playwright-core").exists() {
        return Some("playwright-core is missing (npm ci --prefix tests/browser)".to_owned());
    }
    None
}

#[test]
fn the_pages_work_in_chromium() {
    let browser_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if let Some(missing) = missing_prerequisite(&browser_dir) {
        let required = std::env::var("FLOWBOT_REQUIRE_BROWSER").is_ok_and(|value| value == "1");
        assert!(!required, "the browser tests cannot run: {missing}");
        eprintln!("browser tests skipped: {missing}");
        return;
    }
    let files: Vec<String> = std::fs::read_dir(&browser_dir)
        .expect("tests/browser is readable")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.ends_with(".test.mjs").then_some(name)
        })
        .collect();
    assert!(!files.is_empty(), "tests/browser holds no *.test.mjs file");
    let output = Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(&files)
        .current_dir(&browser_dir)
        .env("FLOWBOT_BIN", env!("CARGO_BIN_EXE_flowbot"))
        .env("NO_COLOR", "1")
        .output()
        .expect("node runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{report}");
    assert!(output.status.success(), "a browser test failed:\n{report}");
}
