//! Checks the flow schema against the example flows and against files it must reject.

use std::path::{Path, PathBuf};

use super::json_schema;

const SCHEMA_COMMENT: &str =
    "# yaml-language-server: $schema=../crates/flow-core/schema/flow.schema.json";

/// The one place that calls the validator: the schema errors of a YAML text, one per entry.
fn schema_errors(yaml: &str) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(json_schema()).expect("the schema is JSON");
    let instance: serde_json::Value = serde_yaml::from_str(yaml).expect("the flow is YAML");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    validator
        .iter_errors(&instance)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

fn flow_files() -> Vec<PathBuf> {
    let flows = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../flows");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&flows)
        .unwrap_or_else(|error| panic!("reading {}: {error}", flows.display()))
        .map(|entry| entry.expect("a readable folder entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml")
        })
        .collect();
    paths.sort();
    paths
}

fn assert_rejected(yaml: &str) {
    assert!(
        !schema_errors(yaml).is_empty(),
        "the schema accepted:\n{yaml}"
    );
}

fn assert_accepted(yaml: &str) {
    assert_eq!(schema_errors(yaml), Vec::<String>::new(), "for:\n{yaml}");
}

/// Wraps one block under `blocks:` of an otherwise minimal flow.
fn with_block(block: &str) -> String {
    let indented: String = block.lines().map(|line| format!("    {line}\n")).collect();
    format!("bot: t\nblocks:\n  only:\n{indented}")
}

#[test]
fn schema_is_a_valid_draft_2020_12_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(json_schema()).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    if let Err(error) = jsonschema::meta::validate(&schema) {
        panic!("the schema breaks its meta-schema: {error}");
    }
}

#[test]
fn every_flow_in_flows_folder_matches_the_schema() {
    let paths = flow_files();
    assert!(
        paths.len() >= 4,
        "expected the example flows, found {paths:?}"
    );
    let mut failures = Vec::new();
    for path in &paths {
        let yaml = std::fs::read_to_string(path).expect("a readable flow");
        for error in schema_errors(&yaml) {
            failures.push(format!("{}: {error}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_flow_points_editors_at_the_schema() {
    for path in flow_files() {
        let yaml = std::fs::read_to_string(&path).expect("a readable flow");
        assert_eq!(
            yaml.lines().next(),
            Some(SCHEMA_COMMENT),
            "first line of {}",
            path.display()
        );
    }
}

#[test]
fn accepts_short_and_long_forms() {
    assert_accepted(
        "bot: t
variables:
  a: text
  b: {type: number, default: 0}
  c: {type: list, default: []}
blocks:
  one: {end: bye}
  two: {end: {message: bye, restart: true}}
  three: {end: {}}
  four: {handoff: a human will answer}
  five: {handoff: {message: wait, team: sales}}
",
    );
}

/// The well-formed twin of each rejection below, so each of those fails for its one flaw.
#[test]
fn accepts_every_block_kind() {
    assert_accepted(
        r#"bot: t
start: say
settings:
  webhook: {timeout: 10s, accept_status: 2xx}
blocks:
  say: {message: hi, next: ask}
  ask:
    question: code?
    expect: regex
    pattern: '^A-\d{4}$'
    retry: try again
    attempts: 3
    on_invalid: bye
    timeout: 5m
    on_timeout: bye
    save_to: code
    next: call
  call:
    webhook:
      method: POST
      url: "https://x.test/{{code}}"
      query: {page: 1}
      headers: {X-Note: hello, Authorization: "Bearer {{secret.TOKEN}}"}
      body: {json: {code: "{{code}}"}}
      save:
        - {path: items.flatMap(item => item.id), to: ids}
        - {path: "items[0].name", to: first, default: none}
      failure: call failure
      timeout: 5s
      accept_status: [200, 201]
    next: branch
    on_failure: bye
  branch:
    choice:
      - if: {var: ids, contains: 1, case_sensitive: true}
        next: count
      - if: {all: [{var: n, at_least: 1}, {not: {any: [{is: empty}, {matches: '^x'}]}}]}
        next: count
      - if: {var: code, one_of: "{{codes}}"}
        next: count
      - else: count
  count:
    set: {n: {add: 1}, note: {append: "!"}, ids: {push: "{{code}}"}, profile: {city: Paris}, flag: true}
    next: pause
  pause: {sleep: 2s, next: listen}
  listen: {wait: {save_to: said, timeout: 1h}, next: child, on_timeout: bye}
  child:
    jump: {bot: other-bot, block: start, with: {who: "{{said}}"}, return: true, save: {result: child result}}
    next: tell
  tell: {event: {name: lead, data: {code: "{{code}}"}}, next: bye}
  bye: {end: bye}
"#,
    );
}

#[test]
fn rejects_an_unknown_top_level_key() {
    assert_rejected("bot: t\nstrat: a\nblocks: {a: {end: bye}}\n");
}

#[test]
fn rejects_an_unknown_key_beside_the_kind_key() {
    assert_rejected(&with_block("message: hi\nnext: only\nsave_to: x"));
}

#[test]
fn rejects_a_block_with_two_kind_keys() {
    assert_rejected(&with_block("message: hi\nend: bye"));
}

#[test]
fn rejects_a_block_without_a_kind_key() {
    assert_rejected(&with_block("next: only"));
}

#[test]
fn rejects_a_target_inside_the_kind_mapping() {
    assert_rejected(&with_block(
        "webhook: {url: 'https://x.test', next: only}\nnext: only",
    ));
}

#[test]
fn rejects_a_condition_with_two_operators() {
    assert_rejected(&with_block(
        "choice:\n  - if: {var: a, equals: 1, contains: 1}\n    next: only\n  - else: only",
    ));
}

#[test]
fn rejects_an_unknown_condition_operator() {
    assert_rejected(&with_block(
        "choice:\n  - if: {var: a, is_not: empty}\n    next: only\n  - else: only",
    ));
}

#[test]
fn rejects_a_duration_without_a_unit() {
    assert_rejected(&with_block("sleep: 30\nnext: only"));
}

#[test]
fn rejects_an_unknown_method() {
    assert_rejected(&with_block(
        "webhook: {method: FETCH, url: 'https://x.test'}\nnext: only",
    ));
}

#[test]
fn accepts_accept_status_as_a_quoted_code_like_the_loader() {
    assert_accepted(&with_block(
        "webhook: {url: 'https://x.test', accept_status: '201'}\nnext: only",
    ));
    assert_rejected(&with_block(
        "webhook: {url: 'https://x.test', accept_status: '2011'}\nnext: only",
    ));
}

#[test]
fn rejects_a_regex_question_without_a_pattern() {
    assert_rejected(&with_block("question: code?\nexpect: regex\nnext: only"));
}

#[test]
fn rejects_attempts_without_on_invalid() {
    assert_rejected(&with_block(
        "question: email?\nexpect: email\nattempts: 3\nnext: only",
    ));
}

#[test]
fn rejects_a_set_operation_with_two_keys() {
    assert_rejected(&with_block("set: {n: {add: 1, subtract: 1}}\nnext: only"));
}

#[test]
fn rejects_a_variable_name_with_a_dot() {
    assert_rejected("bot: t\nvariables: {a.b: text}\nblocks: {a: {end: bye}}\n");
}

#[test]
fn rejects_a_default_of_the_wrong_type() {
    assert_rejected(
        "bot: t\nvariables: {n: {type: number, default: zero}}\nblocks: {a: {end: bye}}\n",
    );
}

#[test]
fn rejects_a_line_break_in_a_header_value() {
    assert_rejected(&with_block(
        "webhook:\n  url: 'https://x.test'\n  headers: {X-Note: \"a\\nb\"}\nnext: only",
    ));
}

#[test]
fn rejects_a_pattern_that_is_not_a_regex() {
    assert_rejected(&with_block(
        "question: code?\nexpect: regex\npattern: 'A-(\\d'\nnext: only",
    ));
}
