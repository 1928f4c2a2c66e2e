use super::*;

#[test]
fn reads_the_shop_suite() {
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/conversations/shop.yaml"
    ))
    .unwrap();
    let file = parse(&source).unwrap();
    assert_eq!(file.flow, PathBuf::from("../../flows/shop.yaml"));
    assert!(file.cases.len() >= 3);
    let first = &file.cases[0];
    assert!(matches!(
        &first.webhooks["fetch_products"].0[0],
        Outcome::Response { status: 200, .. }
    ));
    assert_eq!(first.conversation[2], Step::User("Ada".to_owned()));
    assert_eq!(first.expect.status, Some(ExpectedStatus::Ended));
    assert_eq!(
        first.expect.requests["fetch_products"][0].method.as_deref(),
        Some("GET")
    );
    let third = &file.cases[2];
    assert_eq!(
        third.webhooks["fetch_products"].0,
        vec![Outcome::Error(TransportError::Timeout)]
    );
    assert_eq!(third.start_at.as_deref(), Some("fetch_products"));
}

#[test]
fn an_outcome_is_one_thing() {
    let error = serde_yaml::from_str::<Outcome>("{status: 200, error: Timeout}").unwrap_err();
    assert!(error.to_string().contains("pick one"), "{error}");
    let error = serde_yaml::from_str::<Outcome>("{}").unwrap_err();
    assert!(error.to_string().contains("real: true"), "{error}");
}

#[test]
fn a_step_is_one_thing() {
    let error = serde_yaml::from_str::<Step>("{bot: hi, user: yo}").unwrap_err();
    assert!(error.to_string().contains("exactly one"), "{error}");
    assert_eq!(
        serde_yaml::from_str::<Step>("{fire: true}").unwrap(),
        Step::Fire
    );
}

#[test]
fn errors_name_the_line() {
    let error = parse("flow: x.yaml\ncases:\n  - name: a\n    conversaton: []\n").unwrap_err();
    assert_eq!(error.location().map(|l| l.line()), Some(4));
    assert!(
        error.to_string().contains("unknown field `conversaton`"),
        "{error}"
    );
}

#[test]
fn a_case_needs_a_name() {
    let error = parse("flow: x.yaml\ncases:\n  - name: #1 first\n").unwrap_err();
    assert!(
        error.to_string().contains("a case needs a `name`"),
        "{error}"
    );
}
