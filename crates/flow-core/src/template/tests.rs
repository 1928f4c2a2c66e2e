//! Unit tests of templates: parsing, errors with offsets, rendering and value-to-text rules.

use std::borrow::Cow;

use insta::assert_snapshot;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::{value_to_text, Part, Template, VariableRef};

/// Parses `source` and lists its parts one per line, or shows the syntax error.
fn parts(source: &str) -> String {
    let template = match Template::parse(source) {
        Ok(template) => template,
        Err(error) => return format!("error at {}: {}", error.offset, error.message),
    };
    let lines: Vec<String> = template
        .parts()
        .iter()
        .map(|part| match part {
            Part::Literal(text) => format!("literal {text:?}"),
            Part::Secret(name) => format!("secret {name:?}"),
            Part::Variable(VariableRef { name, path, offset }) => match path {
                Some(path) => format!("variable {name:?} path {:?} at {offset}", path.as_str()),
                None => format!("variable {name:?} at {offset}"),
            },
        })
        .collect();
    lines.join("\n")
}

/// Renders `source` as text with the variables of the JSON object `variables`.
fn render(source: &str, variables: Value) -> String {
    let template = Template::parse(source).expect("test template is valid");
    template.render_text(&|name| variables.get(name).map(Cow::Borrowed))
}

#[test]
fn splits_text_and_placeholders() {
    assert_snapshot!(parts("Hello {{name}}, we have: {{titles}}."), @r#"
    literal "Hello "
    variable "name" at 6
    literal ", we have: "
    variable "titles" at 25
    literal "."
    "#);
    assert_snapshot!(parts(""), @"");
    assert_snapshot!(parts("no placeholder"), @r#"literal "no placeholder""#);
    assert_snapshot!(parts("{{a}}{{b}}"), @r#"
    variable "a" at 0
    variable "b" at 5
    "#);
}

#[test]
fn variable_with_path() {
    assert_snapshot!(parts("{{ shop failure.status }}"), @r#"variable "shop failure" path "status" at 0"#);
    assert_snapshot!(parts("{{titles[0]}}"), @r#"variable "titles" path "[0]" at 0"#);
    assert_snapshot!(parts("{{titles [0]}}"), @r#"variable "titles" path "[0]" at 0"#);
    assert_snapshot!(parts("{{last webhook success.products.flatMap(p => p.title)}}"), @r#"variable "last webhook success" path "products.flatMap(p => p.title)" at 0"#);
    assert_snapshot!(parts("{{r.$..id}}"), @r#"variable "r" path "$..id" at 0"#);
    assert_snapshot!(parts(r#"{{item["full name"]}}"#), @r#"variable "item" path "[\"full name\"]" at 0"#);
}

#[test]
fn variable_names_may_be_non_ascii_and_spaced() {
    assert_snapshot!(parts("Prix : {{ prix unitaire }} €, {{catégorie}}, {{名前}}"), @r#"
    literal "Prix : "
    variable "prix unitaire" at 7
    literal " €, "
    variable "catégorie" at 30
    literal ", "
    variable "名前" at 45
    "#);
    assert_snapshot!(parts("{{\n  name\n}}"), @r#"variable "name" at 0"#);
}

#[test]
fn secrets() {
    assert_snapshot!(parts("Bearer {{secret.API_TOKEN}}"), @r#"
    literal "Bearer "
    secret "API_TOKEN"
    "#);
    assert_snapshot!(parts("{{ secret.shop_key_2 }}"), @r#"secret "shop_key_2""#);
    assert!(Template::parse("{{secret.shop-key}}").is_err());
}

#[test]
fn braces_that_are_not_placeholders_are_text() {
    assert_snapshot!(parts("a }} b"), @r#"literal "a }} b""#);
    assert_snapshot!(parts("{x} {"), @r#"literal "{x} {""#);
    assert_snapshot!(parts("{{{x}}}"), @r#"
    literal "{"
    variable "x" at 1
    literal "}"
    "#);
    assert_snapshot!(parts(r#"{"total": {{total}}}"#), @r#"
    literal "{\"total\": "
    variable "total" at 10
    literal "}"
    "#);
    assert_snapshot!(parts("{{a}}}}"), @r#"
    variable "a" at 0
    literal "}}"
    "#);
}

#[test]
fn syntax_errors_point_at_the_problem() {
    assert_snapshot!(parts("Hi {{name"), @"error at 3: unclosed `{{` (add `}}`)");
    assert_snapshot!(parts("Hi {{name}"), @"error at 3: unclosed `{{` (add `}}`)");
    assert_snapshot!(parts("Hi {{}}"), @"error at 3: empty placeholder (write `{{variable name}}`)");
    assert_snapshot!(parts("Hi {{   }}"), @"error at 3: empty placeholder (write `{{variable name}}`)");
    assert_snapshot!(parts("{{ .x }}"), @"error at 3: expected a variable name before `.`");
    assert_snapshot!(parts("{{[0]}}"), @"error at 2: expected a variable name before `[`");
    assert_snapshot!(parts("{{a]b}}"), @"error at 3: `]` cannot be part of a variable name");
    assert_snapshot!(parts("{{a{b}}"), @"error at 3: `{` cannot be part of a variable name");
    assert_snapshot!(parts("{{a}b}}"), @"error at 3: `}` cannot be part of a variable name");
    assert_snapshot!(parts("{{a\tb}}"), @r"error at 3: `\t` cannot be part of a variable name");
    assert_snapshot!(parts("{{name.}}"), @"error at 7: expected a path after `.`");
}

#[test]
fn path_errors_point_inside_the_template() {
    assert_snapshot!(parts("Hi {{ items[0 }}"), @"error at 13: expected `]` after index");
    assert_snapshot!(parts("Hi {{ items..x }}"), @"error at 12: expected a key after `.`");
    assert_snapshot!(parts("é {{é.a b}}"), @"error at 7: unexpected space (quote keys that contain spaces: `[\"full name\"]`)");
    assert_snapshot!(parts("{{r.$.}}"), @"error at 6: invalid JSONPath: in dot member name, must start with lowercase alpha or '_'");
}

#[test]
fn secret_errors() {
    assert_snapshot!(parts("{{secret}}"), @"error at 2: `secret` is reserved for secrets (write `{{secret.NAME}}`)");
    assert_snapshot!(parts("{{ secret[0] }}"), @"error at 3: `secret` is reserved for secrets (write `{{secret.NAME}}`)");
    assert_snapshot!(parts("{{secret.}}"), @"error at 9: expected a secret name after `secret.`");
    assert_snapshot!(parts("{{secret.a.b}}"), @"error at 10: a secret name may only contain ASCII letters, digits and `_`");
}

#[test]
fn error_display_includes_the_offset() {
    let error = Template::parse("Hi {{name").unwrap_err();
    assert_snapshot!(error, @"unclosed `{{` (add `}}`) at offset 3");
}

#[test]
fn single_placeholder_and_literal() {
    let single = Template::parse("{{ titles }}").unwrap();
    assert!(matches!(single.single_placeholder(), Some(Part::Variable(v)) if v.name == "titles"));
    assert!(!single.is_literal());
    let secret = Template::parse("{{secret.KEY}}").unwrap();
    assert_eq!(
        secret.single_placeholder(),
        Some(&Part::Secret("KEY".to_owned()))
    );
    for not_single in [" {{titles}}", "{{titles}}.", "{{a}}{{b}}", "text", ""] {
        let template = Template::parse(not_single).unwrap();
        assert_eq!(template.single_placeholder(), None, "{not_single:?}");
    }
    assert!(Template::parse("").unwrap().is_literal());
    assert!(Template::parse("a }} b").unwrap().is_literal());
}

#[test]
fn lists_variables_and_secrets() {
    let template = Template::parse("{{a}} {{secret.K}} {{b.x}} {{a}} {{secret.L}}").unwrap();
    let names: Vec<&str> = template.variables().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "a"]);
    let secrets: Vec<&str> = template.secrets().collect();
    assert_eq!(secrets, ["K", "L"]);
}

#[test]
fn source_round_trips() {
    let template: Template = "Hi {{ name }}".parse().unwrap();
    assert_eq!(template.source(), "Hi {{ name }}");
    assert_eq!(template.to_string(), "Hi {{ name }}");
}

#[test]
fn types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Template>();
    assert_send_sync::<super::TemplateSyntaxError>();
}

#[test]
fn renders_variables_as_text() {
    let variables = json!({
        "name": "Ada",
        "titles": ["iPhone 9", "iPhone X"],
        "visits": 3,
        "ratio": 0.5,
        "shop failure": {"type": "BadResponse", "status": 404},
        "ok": true,
    });
    assert_snapshot!(render("{{name}}, we have: {{titles}}", variables.clone()), @"Ada, we have: iPhone 9, iPhone X");
    assert_snapshot!(render("{{visits}} visits, {{ratio}}, {{ok}}", variables.clone()), @"3 visits, 0.5, true");
    assert_snapshot!(render("{{shop failure}}", variables.clone()), @r#"{"type":"BadResponse","status":404}"#);
    assert_snapshot!(render("status {{ shop failure.status }}", variables.clone()), @"status 404");
    assert_snapshot!(render("first: {{titles[0]}}, last: {{titles[-1]}}", variables), @"first: iPhone 9, last: iPhone X");
}

#[test]
fn unset_variables_failing_paths_and_secrets_render_as_nothing() {
    let variables = json!({"titles": ["a"], "nothing": null});
    assert_snapshot!(render("[{{missing}}]", variables.clone()), @"[]");
    assert_snapshot!(render("[{{nothing}}]", variables.clone()), @"[]");
    assert_snapshot!(render("[{{titles[3]}}]", variables.clone()), @"[]");
    assert_snapshot!(render("[{{titles.x}}]", variables.clone()), @"[]");
    assert_snapshot!(render("[{{secret.KEY}}]", variables), @"[]");
}

#[test]
fn resolve_keeps_the_value_type() {
    let variables = json!({"order": {"items": [{"qty": 2}, {"qty": 5}]}});
    let lookup = |name: &str| variables.get(name).map(Cow::Borrowed);
    let template = Template::parse("{{order.items.flatMap(i => i.qty)}}").unwrap();
    let Some(Part::Variable(variable)) = template.single_placeholder() else {
        panic!("one variable expected");
    };
    assert_eq!(
        variable.resolve(&lookup).map(Cow::into_owned),
        Some(json!([2, 5]))
    );
    let missing = Template::parse("{{order.nope}}").unwrap();
    assert_eq!(missing.variables().next().unwrap().resolve(&lookup), None);
}

#[test]
fn value_to_text_rules() {
    assert_snapshot!(value_to_text(&json!(3)), @"3");
    assert_snapshot!(value_to_text(&json!(3.0)), @"3");
    assert_snapshot!(value_to_text(&json!(-3.0)), @"-3");
    assert_snapshot!(value_to_text(&json!(-0.0)), @"0");
    assert_snapshot!(value_to_text(&json!(0.5)), @"0.5");
    assert_snapshot!(value_to_text(&json!(0.1 + 0.2)), @"0.30000000000000004");
    assert_snapshot!(value_to_text(&json!(1.5e300)), @"1.5e+300");
    assert_snapshot!(value_to_text(&json!(1e21)), @"1e+21");
    assert_snapshot!(value_to_text(&json!(1e20)), @"100000000000000000000");
    assert_snapshot!(value_to_text(&json!(0.000001)), @"0.000001");
    assert_snapshot!(value_to_text(&json!(1.5e-7)), @"1.5e-7");
    assert_snapshot!(value_to_text(&json!(u64::MAX)), @"18446744073709551615");
    assert_snapshot!(value_to_text(&json!(i64::MIN)), @"-9223372036854775808");
    assert_snapshot!(value_to_text(&json!("as is")), @"as is");
    assert_snapshot!(value_to_text(&json!(false)), @"false");
    assert_snapshot!(value_to_text(&json!(null)), @"");
    assert_snapshot!(value_to_text(&json!([1, 2.5, "x", true, null, [3, 4], {"a": 1}])), @r#"1, 2.5, x, true, , 3, 4, {"a":1}"#);
    assert_snapshot!(value_to_text(&json!([])), @"");
    assert_snapshot!(value_to_text(&json!({"b": [1, 2], "a": "x y"})), @r#"{"b":[1,2],"a":"x y"}"#);
}

#[test]
fn a_webhook_failure_reads_as_its_type_and_message() {
    // S11, S16: `<Type>: <message>`.
    let failure = json!({"type": "BadResponse", "message": "Invalid response status: 404", "status": 404, "body": {"error": "nope"}});
    assert_snapshot!(value_to_text(&failure), @"BadResponse: Invalid response status: 404");
    let timeout = json!({"type": "Timeout", "message": "request timed out after 15s", "status": null, "body": null});
    assert_snapshot!(value_to_text(&timeout), @"Timeout: request timed out after 15s");
    // Its fields stay reachable by path: the message alone, without the type.
    let variables = json!({"name": "Ada", "shop failure": failure});
    assert_snapshot!(render("Sorry {{name}}, {{shop failure}}", variables.clone()), @"Sorry Ada, BadResponse: Invalid response status: 404");
    assert_snapshot!(render("{{shop failure.message}}", variables), @"Invalid response status: 404");
    // Only the six error types count: any other object is still compact JSON.
    assert_snapshot!(value_to_text(&json!({"type": "Other", "message": "m"})), @r#"{"type":"Other","message":"m"}"#);
    assert_snapshot!(value_to_text(&json!({"type": "KeyError", "message": 3})), @r#"{"type":"KeyError","message":3}"#);
    assert_snapshot!(value_to_text(&json!({"type": "KeyError"})), @r#"{"type":"KeyError"}"#);
}

proptest! {
    #[test]
    fn parse_never_panics(source in ".{0,40}") {
        let _ = Template::parse(&source);
    }

    /// `bare_variables`, which spares the checks a second parse, finds what the parser finds.
    #[test]
    fn bare_variables_agree_with_the_parser(source in r#"[{}ab .\[\]0-9é\n ]{0,30}|[a-z ]{0,5}\{\{ ?(secret|[a-zé ]{0,6}) ?\}\}[a-z{} ]{0,8}"#) {
        let mut found = Vec::new();
        if super::bare_variables(&source, |name, offset| found.push((name.to_owned(), offset))) {
            let template = Template::parse(&source);
            prop_assert!(template.is_ok(), "{:?}", template);
            let parsed: Vec<(String, usize)> = template
                .unwrap()
                .variables()
                .map(|variable| (variable.name.clone(), variable.offset))
                .collect();
            prop_assert_eq!(found, parsed);
        }
    }

    #[test]
    fn parse_never_panics_on_brace_heavy_text(source in r#"[{}ab .\[\]0-9é$"'()=>]{0,30}"#) {
        if let Ok(template) = Template::parse(&source) {
            prop_assert_eq!(template.source(), source.as_str());
            let _ = template.render_text(&|_| Some(Cow::Owned(json!({"a": [1, {"b": 2}]}))));
        }
    }

    #[test]
    fn literal_templates_render_as_themselves(source in "[^{]{0,40}") {
        let template = Template::parse(&source).unwrap();
        prop_assert!(template.is_literal());
        prop_assert_eq!(template.render_text(&|_| None), source);
    }
}
