//! Unit tests of `flow`: how methods and accepted statuses read, print and serialize.

use serde_json::json;

use super::*;

#[test]
fn methods_read_in_any_case() {
    assert_eq!("post".parse(), Ok(Method::Post));
    assert_eq!(" Delete ".parse(), Ok(Method::Delete));
    for method in Method::ALL {
        assert_eq!(method.as_str().parse(), Ok(method));
        assert_eq!(method.as_str().to_lowercase().parse(), Ok(method));
        assert_eq!(Method::parse(&method.to_string()), Some(method));
        assert_eq!(
            serde_json::to_value(method).unwrap(),
            json!(method.as_str())
        );
    }
    assert_eq!(Method::default(), Method::Get);
    assert_eq!(
        serde_json::from_value::<Method>(json!("patch")).unwrap(),
        Method::Patch
    );
}

#[test]
fn bad_methods_say_what_is_expected() {
    assert_eq!(
        "FETCH".parse::<Method>().unwrap_err().to_string(),
        "unknown http method `FETCH` (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    );
    assert_eq!("  ".parse::<Method>(), Err(MethodError::Empty));
    assert_eq!(Method::parse("FETCH"), None);
    assert_eq!(
        serde_json::from_value::<Method>(json!("trace")).unwrap_err().to_string(),
        "unknown http method `trace` (expected one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)"
    );
}

#[test]
fn accept_status_defaults_to_200_only() {
    let accept = AcceptStatus::default();
    assert!(accept.contains(200));
    assert!(!accept.contains(201));
    assert!(!accept.contains(204));
    assert_eq!(accept.to_string(), "200");
}

#[test]
fn accept_status_reads_codes_classes_and_lists() {
    let cases = [
        ("201", "201"),
        ("2xx", "2xx"),
        ("2XX", "2xx"),
        (" 2xx ", "2xx"),
        ("[200, 201]", "[200, 201]"),
        ("200,201", "[200, 201]"),
        ("[200, \"3xx\"]", "[200, 3xx]"),
        ("['4xx', 200]", "[200, 4xx]"),
    ];
    for (text, shown) in cases {
        assert_eq!(
            AcceptStatus::parse(text).unwrap().to_string(),
            shown,
            "{text}"
        );
    }
    let accept = AcceptStatus::parse("[204, 3xx]").unwrap();
    assert!(accept.contains(204) && accept.contains(301) && accept.contains(399));
    assert!(!accept.contains(200) && !accept.contains(400));
}

#[test]
fn bad_accept_status_says_what_is_expected() {
    for text in [
        "600", "0xx", "6xx", "20", "2x", "abc", "200, six", "0200", "+200", "099", "2xxx",
    ] {
        let error = AcceptStatus::parse(text).unwrap_err();
        assert!(
            matches!(error, AcceptStatusError::Invalid(_)),
            "{text}: {error}"
        );
    }
    assert_eq!(
        AcceptStatus::parse("2x").unwrap_err().to_string(),
        "invalid accepted status `2x` (expected a status from 100 to 599 such as 200, \
         or a class such as 2xx)"
    );
    assert_eq!(AcceptStatus::parse("[]"), Err(AcceptStatusError::Empty));
    assert_eq!(
        AcceptStatus::parse_entry("599"),
        Some(AcceptEntry::Code(599))
    );
    assert_eq!(
        AcceptStatus::parse_entry("100"),
        Some(AcceptEntry::Code(100))
    );
    assert_eq!(
        AcceptStatus::parse_entry("5Xx"),
        Some(AcceptEntry::Class(5))
    );
}

#[test]
fn accept_status_deserializes_from_the_flow_shapes_and_serializes_as_a_list() {
    let read = |value: serde_json::Value| {
        serde_json::from_value::<AcceptStatus>(value).map(|accept| accept.to_string())
    };
    assert_eq!(read(json!(200)).unwrap(), "200");
    assert_eq!(read(json!("2xx")).unwrap(), "2xx");
    assert_eq!(read(json!([200, 201])).unwrap(), "[200, 201]");
    assert_eq!(read(json!([200, "3xx"])).unwrap(), "[200, 3xx]");
    assert_eq!(
        read(json!([200, 999])).unwrap_err().to_string(),
        "invalid accepted status `999` (expected a status from 100 to 599 such as 200, \
         or a class such as 2xx)"
    );
    assert_eq!(
        read(json!([])).unwrap_err().to_string(),
        AcceptStatusError::Empty.to_string()
    );
    assert_eq!(
        read(json!({"code": 200})).unwrap_err().to_string(),
        "expected a status such as 200, a class such as 2xx, or a list such as [200, 201]"
    );
    let accept = AcceptStatus::parse("[200, 2xx]").unwrap();
    assert_eq!(serde_json::to_value(&accept).unwrap(), json!([200, "2xx"]));
    let back: AcceptStatus = serde_json::from_value(json!([200, "2xx"])).unwrap();
    assert_eq!(back, accept);
}

#[test]
fn webhook_settings_default_to_15s_and_200() {
    let settings = WebhookSettings::default();
    assert_eq!(settings.timeout, std::time::Duration::from_secs(15));
    assert_eq!(settings.accept_status, AcceptStatus::default());
}

#[test]
fn model_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Method>();
    assert_send_sync::<AcceptStatus>();
    assert_send_sync::<Webhook>();
    assert_send_sync::<Save>();
}

#[test]
fn assigned_variables_are_the_built_ins_the_declared_and_every_block_s_targets_and_no_other_is_used(
) {
    let source = r#"
bot: assigns
variables:
  declared: text
blocks:
  ask:
    question: Name?
    save_to: answer
    next: fetch
  fetch:
    webhook:
      url: https://api.example.com
      save:
        - path: id
          to: saved id
      failure: fetch failure
    next: count
  count:
    set:
      counter: 1
    next: pause
  pause:
    wait: {save_to: waited}
    next: done
  done:
    end: "{{declared}} {{answer}} {{saved id}} {{counter}} {{waited}} {{fetch failure}}"
"#;
    let flow = crate::load(source).into_flow().unwrap();
    assert_eq!(flow.check_uses_variable("saved id"), Ok(()));
    assert_eq!(flow.check_uses_variable("last user answer"), Ok(()));
    assert_eq!(
        flow.check_uses_variable("counterr")
            .unwrap_err()
            .to_string(),
        "bot `assigns` never declares or assigns `counterr`, so it cannot read it (did you mean \
         `counter`?)"
    );
    assert_eq!(
        flow.check_uses_variable("zzz").unwrap_err().help,
        "declare it under the flow's `variables:` if it should"
    );
    let mut names = flow.assigned_variables();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "answer",
            "bot",
            "conversation id",
            "counter",
            "declared",
            "fetch failure",
            "last user answer",
            "last webhook failure",
            "last webhook success",
            "saved id",
            "waited",
        ]
    );
}
