//! Tests of the recording: relative paths, appending cases, outcomes as a test writes them.

use super::*;

#[test]
fn relative_paths_climb_to_the_common_folder() {
    assert_eq!(
        relative(Path::new("/a/b/tests"), Path::new("/a/b/flows/shop.yaml")),
        PathBuf::from("../flows/shop.yaml")
    );
    assert_eq!(
        relative(Path::new("/a"), Path::new("/a/shop.yaml")),
        PathBuf::from("shop.yaml")
    );
}

#[test]
fn cases_are_appended_under_the_last_cases_key_keeping_comments() {
    let text = "# mine\nflow: shop.yaml\ncases:\n  - name: one # first\n    conversation: []\n";
    let case: Yaml = serde_yaml::from_str("name: two\nconversation:\n- user: hi\n").unwrap();
    let appended = append(text, &[case]).unwrap();
    assert!(appended.starts_with(text), "{appended}");
    assert!(appended.ends_with("  - name: two\n    conversation:\n    - user: hi\n"));
    let parsed = flow_test::spec::parse(&appended).unwrap();
    assert_eq!(parsed.cases.len(), 2);
}

#[test]
fn a_file_whose_cases_come_first_is_rewritten() {
    let text = "cases:\n- name: one\nflow: shop.yaml\n";
    let case: Yaml = serde_yaml::from_str("name: two").unwrap();
    let appended = append(text, &[case]).unwrap();
    let parsed = flow_test::spec::parse(&appended).unwrap();
    assert_eq!(parsed.cases.len(), 2);
}

#[test]
fn outcomes_are_written_as_a_test_scripts_them() {
    let secrets = Secrets::new();
    let json = RunOutcome::Response(flow_runtime::WebhookResponse::json(500, &json!({"a": 1})));
    assert_eq!(
        serde_yaml::to_string(&outcome_value(&json, &secrets).unwrap()).unwrap(),
        "status: 500\njson:\n  a: 1\n"
    );
    let text = RunOutcome::Response(flow_runtime::WebhookResponse::text(200, "<html>"));
    assert_eq!(
        serde_yaml::to_string(&outcome_value(&text, &secrets).unwrap()).unwrap(),
        "status: 200\ntext: <html>\nheaders:\n  content-type: text/plain\n"
    );
    let timeout = RunOutcome::Failure(flow_http::WebhookError::new(ErrorKind::Timeout, "late"));
    assert_eq!(
        serde_yaml::to_string(&outcome_value(&timeout, &secrets).unwrap()).unwrap(),
        "error: Timeout\n"
    );
}
