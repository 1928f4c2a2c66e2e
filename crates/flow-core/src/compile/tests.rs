//! File fixtures: every `test_data/ok` flow loads clean, every `test_data/err` flow reports
//! exactly the problems its `#!` markers announce, on the lines they stand on.

use std::collections::BTreeSet;

use crate::Diagnostic;

/// Loads a fixture and renders its diagnostics one per line: the only place tests call the loader.
fn check_str(source: &str) -> (Vec<Diagnostic>, String) {
    let loaded = crate::load(source);
    let rendered = match loaded.diagnostics.is_empty() {
        true => "ok".to_owned(),
        false => loaded
            .diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{}:{}: {} [{}]{} {}{}",
                    d.line,
                    d.column,
                    d.severity,
                    d.code,
                    block(d),
                    d.message,
                    help(d)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    (loaded.diagnostics, rendered)
}

/// " in `ask_name`:" for a diagnostic about a block, so snapshots pin the block id too.
fn block(diagnostic: &Diagnostic) -> String {
    diagnostic
        .block
        .as_ref()
        .map(|b| format!(" in `{b}`:"))
        .unwrap_or_default()
}

fn help(diagnostic: &Diagnostic) -> String {
    diagnostic
        .help
        .as_ref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

/// `(line, code)` of every `#! code` marker: a problem with that code must be reported on that line.
fn markers(source: &str) -> BTreeSet<(u32, String)> {
    let mut expected = BTreeSet::new();
    for (index, line) in source.lines().enumerate() {
        if let Some((_, codes)) = line.split_once("#!") {
            for code in codes.split_whitespace() {
                expected.insert((index as u32 + 1, code.to_owned()));
            }
        }
    }
    expected
}

#[test]
fn ok_fixtures_load_without_any_diagnostic() {
    insta::glob!("../../test_data/ok", "*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let (diagnostics, rendered) = check_str(&source);
        assert!(diagnostics.is_empty(), "{}:\n{rendered}", path.display());
    });
}

#[test]
fn err_fixtures_report_their_marked_problems() {
    insta::glob!("../../test_data/err", "*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let (diagnostics, rendered) = check_str(&source);
        let found: BTreeSet<(u32, String)> = diagnostics
            .iter()
            .map(|d| (d.line, d.code.to_owned()))
            .collect();
        let expected = markers(&source);
        assert!(
            !expected.is_empty(),
            "{}: add `#! code` markers",
            path.display()
        );
        assert_eq!(found, expected, "{}:\n{rendered}", path.display());
        insta::assert_snapshot!(rendered);
    });
}

#[test]
fn the_example_flows_load_without_any_diagnostic() {
    insta::glob!("../../../../flows", "*.yaml", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let (diagnostics, rendered) = check_str(&source);
        assert!(diagnostics.is_empty(), "{}:\n{rendered}", path.display());
    });
}

#[test]
fn into_flow_gives_the_flow_despite_warnings_and_only_the_errors_otherwise() {
    let warned = "bot: a\nblocks:\n  hi:\n    end: Hi\n  lost:\n    end: Never\n";
    let loaded = crate::load(warned);
    assert_eq!(loaded.diagnostics.len(), 1, "{:?}", loaded.diagnostics);
    assert!(loaded.into_flow().is_ok());

    let broken = "bot: a\nblocks:\n  hi:\n    message: Hi\n    next: nowhere\n  lost:\n    end: Never\n  gone:\n    next: hi\n";
    let errors = crate::load(broken).into_flow().unwrap_err();
    assert!(errors.0.iter().all(Diagnostic::is_error));
    assert_eq!(errors.0.len(), 2, "{errors}");
    // Shown one per line, as `flowbot validate` prints them.
    assert_eq!(errors.to_string().lines().count(), 2, "{errors}");
    assert!(errors.to_string().starts_with("5:11: error: "), "{errors}");
}
