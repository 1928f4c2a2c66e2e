//! Runs the RFC 9535 JSONPath Compliance Test Suite (`test_data/jsonpath-cts/cts.json`)
//! through [`Path::parse`] and the `$` support of [`Path::evaluate`].

use serde_json::Value;

use super::{KeyErrorKind, Path};

fn load_cases() -> Vec<Value> {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test_data/jsonpath-cts/cts.json"
    );
    let text = std::fs::read_to_string(file).expect("the compliance suite is checked in");
    let mut suite: Value = serde_json::from_str(&text).expect("cts.json is JSON");
    match suite["tests"].take() {
        Value::Array(cases) => cases,
        other => panic!("cts.json has no `tests` list: {other}"),
    }
}

/// Checks one case; `Err` says why it failed.
fn run_case(case: &Value) -> Result<(), String> {
    let selector = case["selector"].as_str().ok_or("case has no selector")?;
    let parsed = Path::parse(selector);
    if case["invalid_selector"] == Value::Bool(true) {
        let error = parsed
            .err()
            .ok_or("an invalid selector was accepted".to_owned())?;
        if error.offset > selector.chars().count() {
            return Err(format!("error offset {} is past the end", error.offset));
        }
        return Ok(());
    }
    let path = parsed.map_err(|error| format!("rejected a valid selector: {error}"))?;
    let query = path
        .json_path()
        .ok_or("a `$` path was not parsed as JSONPath")?;
    let document = &case["document"];
    let nodes = Value::Array(query.query(document).all().into_iter().cloned().collect());
    let expected_any = match (&case["result"], &case["results"]) {
        (Value::Array(_), _) => std::slice::from_ref(&case["result"]),
        (_, Value::Array(alternatives)) => alternatives.as_slice(),
        _ => return Err("case has neither `result` nor `results`".to_owned()),
    };
    if !expected_any.contains(&nodes) {
        return Err(format!("got {nodes}, expected one of {expected_any:?}"));
    }
    check_evaluate(&path, document, &nodes)
}

/// Checks that [`Path::evaluate`] turns the node list into our result as documented, and that
/// our singular-query scan agrees with `serde_json_path`'s own check (it only accepts singular
/// queries as comparison operands in a filter).
fn check_evaluate(path: &Path, document: &Value, nodes: &Value) -> Result<(), String> {
    let singular = !path.yields_list();
    let comparison = format!("$[?{} == null]", path.as_str());
    if singular != serde_json_path::JsonPath::parse(&comparison).is_ok() {
        return Err(format!(
            "singular scan says {singular}, serde_json_path disagrees"
        ));
    }
    let nodes = nodes.as_array().expect("node lists are arrays");
    let evaluated = path.evaluate(document);
    let consistent = match (singular, nodes.as_slice(), &evaluated) {
        (true, [], Err(error)) => error.kind() == &KeyErrorKind::NoMatch,
        (true, [node], Ok(value)) => value == node,
        (false, _, Ok(Value::Array(values))) => values == nodes,
        _ => false,
    };
    if !consistent {
        return Err(format!(
            "evaluate gave {evaluated:?} for nodes {nodes:?} (singular: {singular})"
        ));
    }
    Ok(())
}

#[test]
fn every_compliance_case_passes() {
    let cases = load_cases();
    let mut n_passed = 0;
    let mut failures = Vec::new();
    for case in &cases {
        match run_case(case) {
            Ok(()) => n_passed += 1,
            Err(why) => failures.push(format!("{}: {why}", case["name"])),
        }
    }
    let n_invalid = cases
        .iter()
        .filter(|case| case["invalid_selector"] == Value::Bool(true))
        .count();
    println!(
        "jsonpath compliance suite: {n_passed} of {} cases passed ({n_invalid} invalid selectors)",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
    // The suite has 703 cases at the pinned commit; a smaller count means a truncated file.
    assert!(cases.len() >= 703, "only {} cases loaded", cases.len());
}
