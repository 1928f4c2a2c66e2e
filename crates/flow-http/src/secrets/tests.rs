//! Unit tests of `secrets`: where secrets come from, and that their values never show.

use std::ffi::OsString;
use std::path::Path;

use serde_json::json;

use super::*;
use crate::error::ErrorKind;

const FILE: &str = "\
# Shop credentials
SHOP_TOKEN=tok-s3cr3t

CRM_KEY = a b&c/é
";

fn file_secrets() -> Secrets {
    Secrets::parse(FILE, Path::new("secrets.env")).unwrap()
}

fn env(vars: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
    vars.iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect()
}

#[test]
fn file_lines_are_name_equals_value() {
    let secrets = file_secrets();
    assert_eq!(secrets.get("SHOP_TOKEN"), Some("tok-s3cr3t"));
    assert_eq!(secrets.get("CRM_KEY"), Some("a b&c/é"));
    assert_eq!(secrets.get("shop_token"), None);
    assert_eq!(
        secrets.names().collect::<Vec<_>>(),
        ["CRM_KEY", "SHOP_TOKEN"]
    );
    assert_eq!(
        Secrets::parse("K=a=b", Path::new("s")).unwrap().get("K"),
        Some("a=b")
    );
}

#[test]
fn bad_file_lines_name_file_and_line_but_not_the_content() {
    let error = |text: &str| {
        Secrets::parse(text, Path::new("conf/secrets.env"))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error("# ok\nSHOP_TOKEN tok-s3cr3t\n"),
        "conf/secrets.env:2: expected `NAME=value`, NAME being ASCII letters, digits and _"
    );
    assert_eq!(
        error("SHOP-TOKEN=tok-s3cr3t"),
        "conf/secrets.env:1: expected `NAME=value`, NAME being ASCII letters, digits and _"
    );
    assert_eq!(
        error("A=1\nB=2\nA=tok-s3cr3t"),
        "conf/secrets.env:3: secret `A` is already defined on line 1"
    );
    assert_eq!(
        error("A= "),
        "conf/secrets.env:1: secret `A` has an empty value"
    );
}

#[test]
fn missing_file_is_named() {
    let error = Secrets::from_file(Path::new("/nonexistent/flowbot/secrets.env")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not read secrets file /nonexistent/flowbot/secrets.env"
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn environment_variables_with_the_prefix_are_secrets() {
    let secrets = Secrets::from_env_vars(env(&[
        ("FLOWBOT_SECRET_SHOP_TOKEN", "tok-s3cr3t"),
        ("PATH", "/usr/bin"),
        ("FLOWBOT_OTHER", "x"),
    ]))
    .unwrap();
    assert_eq!(secrets.names().collect::<Vec<_>>(), ["SHOP_TOKEN"]);
    assert_eq!(secrets.get("SHOP_TOKEN"), Some("tok-s3cr3t"));
}

#[test]
fn bad_environment_variables_are_named() {
    let error = |vars: &[(&str, &str)]| Secrets::from_env_vars(env(vars)).unwrap_err().to_string();
    assert_eq!(
        error(&[("FLOWBOT_SECRET_", "x")]),
        "environment variable `FLOWBOT_SECRET_` is no secret name (expected FLOWBOT_SECRET_<NAME>, \
         NAME being ASCII letters, digits and _)"
    );
    assert_eq!(
        error(&[("FLOWBOT_SECRET_KEY", "")]),
        "environment variable `FLOWBOT_SECRET_KEY`: secret `KEY` has an empty value"
    );
}

#[test]
fn the_environment_wins_over_the_file() {
    let mut secrets = file_secrets();
    secrets
        .extend(Secrets::from_env_vars(env(&[("FLOWBOT_SECRET_SHOP_TOKEN", "from-env")])).unwrap());
    assert_eq!(secrets.get("SHOP_TOKEN"), Some("from-env"));
    assert_eq!(secrets.get("CRM_KEY"), Some("a b&c/é"));
}

#[test]
fn debug_shows_names_never_values() {
    let shown = format!("{:?} {:#?}", file_secrets(), file_secrets());
    assert_eq!(
        format!("{:?}", file_secrets()),
        r#"Secrets { names: ["CRM_KEY", "SHOP_TOKEN"], .. }"#
    );
    assert!(
        !shown.contains("s3cr3t") && !shown.contains("b&c"),
        "{shown}"
    );
}

#[test]
fn redact_masks_every_occurrence_and_encoding() {
    let secrets = file_secrets();
    assert_eq!(
        secrets.redact("token tok-s3cr3t, again tok-s3cr3t"),
        "token ***, again ***"
    );
    assert_eq!(
        secrets.redact("https://crm.example/?k=a%20b%26c%2F%C3%A9&f=a+b%26c%2F%C3%A9"),
        "https://crm.example/?k=***&f=***"
    );
    assert_eq!(secrets.redact("nothing here"), "nothing here");
    assert_eq!(Secrets::new().redact("tok-s3cr3t"), "tok-s3cr3t");
}

#[test]
fn redact_masks_a_longer_secret_whole() {
    let mut secrets = Secrets::new();
    secrets.insert("SHORT", "abc");
    secrets.insert("LONG", "abcdef");
    secrets.insert("EMPTY", "");
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets.redact("abcdef abc"), "*** ***");
}

#[test]
fn redacted_errors_carry_no_value_in_text_or_stored_form() {
    let secrets = file_secrets();
    let error = WebhookError::new(
        ErrorKind::BadRequest,
        "invalid URL `https://x/?t=tok-s3cr3t`",
    )
    .with_status(401)
    .with_body(br#"{"echo": {"tok-s3cr3t": "Bearer tok-s3cr3t"}, "n": 1}"#);
    let error = secrets.redact_error(error);
    assert_eq!(
        error.to_string(),
        "BadRequest: invalid URL `https://x/?t=***`"
    );
    assert_eq!(
        error.body,
        Some(json!({"echo": {"***": "Bearer ***"}, "n": 1}))
    );
    let stored = serde_json::to_string(&error).unwrap();
    assert!(!stored.contains("s3cr3t"), "{stored}");
}

#[test]
fn secrets_errors_never_show_a_value() {
    let errors = [
        Secrets::parse("SHOP_TOKEN tok-s3cr3t", Path::new("s")).unwrap_err(),
        Secrets::parse("A=tok-s3cr3t\nA=tok-s3cr3t", Path::new("s")).unwrap_err(),
    ];
    for error in errors {
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }
}
