//! Unit tests of `render`: each place a value can land, with hostile values, and each error.

use std::borrow::Cow;
use std::time::Duration;

use flow_core::flow::{AcceptStatus, BlockKind, Method, Webhook, WebhookSettings};
use serde_json::{json, Value};

use super::*;

/// The webhook of a one-step bot whose `webhook:` mapping is `body` (YAML, indented by 6).
fn webhook(body: &str) -> (Webhook, WebhookSettings) {
    webhook_with_settings(body, "")
}

fn webhook_with_settings(body: &str, settings: &str) -> (Webhook, WebhookSettings) {
    let indented: String = body.lines().map(|line| format!("      {line}\n")).collect();
    let source = format!(
        "bot: t\n{settings}blocks:\n  call:\n    webhook:\n{indented}    next: done\n  done:\n    end: bye\n"
    );
    let flow = flow_core::load(&source)
        .into_flow()
        .unwrap_or_else(|errors| panic!("{source}\n{errors}"));
    let BlockKind::Webhook(webhook) = &flow.block("call").unwrap().kind else {
        panic!("not a webhook");
    };
    (webhook.clone(), flow.settings().webhook.clone())
}

fn secrets() -> Secrets {
    let mut secrets = Secrets::new();
    secrets.insert("TOKEN", "tok-s3cr3t/&?");
    secrets.insert("BAD", "tok\r\nX-Evil: s3cr3t");
    secrets
}

/// The one place tests call [`build_request`]: `vars` is a JSON object of the variables.
fn render(body: &str, vars: Value) -> Result<WebhookRequest, WebhookError> {
    let (webhook, settings) = webhook(body);
    render_webhook(&webhook, &settings, vars)
}

fn render_webhook(
    webhook: &Webhook,
    settings: &WebhookSettings,
    vars: Value,
) -> Result<WebhookRequest, WebhookError> {
    let lookup = move |name: &str| vars.get(name).cloned().map(Cow::Owned);
    build_request("call", webhook, settings, &lookup, &secrets())
}

/// The URL a single-URL webhook renders to with `vars`, or its error as the author reads it.
fn url(template: &str, vars: Value) -> String {
    match render(&format!("url: '{template}'"), vars) {
        Ok(request) => request.url,
        Err(error) => error.to_string(),
    }
}

fn error(body: &str, vars: Value) -> String {
    let error = render(body, vars).unwrap_err();
    let shown = error.to_string();
    assert!(!shown.contains("s3cr3t"), "{shown}");
    shown
}

fn body_text(request: &WebhookRequest) -> &str {
    std::str::from_utf8(&request.body.as_ref().unwrap().bytes).unwrap()
}

#[test]
fn url_values_are_encoded_as_one_path_segment() {
    let cases = [
        ("a&b", "a%26b"),
        ("a#b", "a%23b"),
        ("a/b", "a%2Fb"),
        ("../admin", "..%2Fadmin"),
        ("a?b=1", "a%3Fb%3D1"),
        ("a b", "a%20b"),
        ("a+b", "a%2Bb"),
        ("100%", "100%25"),
        ("a\\b", "a%5Cb"),
        ("é✓", "%C3%A9%E2%9C%93"),
        ("line\nbreak", "line%0Abreak"),
        ("a..b", "a..b"),
        ("v1.2_x-y~z", "v1.2_x-y~z"),
    ];
    for (value, encoded) in cases {
        assert_eq!(
            url(
                "https://api.test/items/{{id}}/reviews",
                json!({"id": value})
            ),
            format!("https://api.test/items/{encoded}/reviews"),
            "{value:?}"
        );
    }
}

#[test]
fn url_values_of_other_types_are_encoded_as_their_text() {
    let item = "https://api.test/items/{{id}}";
    assert_eq!(url(item, json!({"id": 42})), "https://api.test/items/42");
    assert_eq!(url(item, json!({"id": 2.5})), "https://api.test/items/2.5");
    assert_eq!(
        url(item, json!({"id": true})),
        "https://api.test/items/true"
    );
    assert_eq!(
        url(item, json!({"id": ["a", "b"]})),
        "https://api.test/items/a%2C%20b"
    );
    assert_eq!(
        url(item, json!({"id": {"k": 1}})),
        "https://api.test/items/%7B%22k%22%3A1%7D"
    );
}

#[test]
fn a_value_cannot_make_a_dot_or_empty_path_segment() {
    let item = "https://api.test/users/{{id}}/orders";
    for value in ["..", "."] {
        assert_eq!(
            url(item, json!({"id": value})),
            "BadRequest: variable `id` would make a `.` or `..` segment in the URL path, which \
             would change the address the request goes to",
            "{value}"
        );
    }
    assert_eq!(
        url(item, json!({"id": ""})),
        "BadRequest: variable `id` would make an empty segment in the URL path, which would \
         change the address the request goes to"
    );
    assert_eq!(
        url("https://api.test/files/{{name}}", json!({"name": ""})),
        "BadRequest: variable `name` would make an empty segment in the URL path, which would \
         change the address the request goes to"
    );
    // Half a dot segment written in the flow, the other half from a value.
    assert!(url("https://api.test/a/.{{x}}/b", json!({"x": "."})).starts_with("BadRequest"));
    // Dots inside a longer segment, or in the query, change nothing.
    assert_eq!(
        url("https://api.test/a/{{x}}/b", json!({"x": "..."})),
        "https://api.test/a/.../b"
    );
    assert_eq!(
        url("https://api.test/a?up={{x}}", json!({"x": ".."})),
        "https://api.test/a?up=.."
    );
    assert_eq!(
        url("https://api.test/a?q={{x}}", json!({"x": ""})),
        "https://api.test/a?q="
    );
}

#[test]
fn url_values_in_the_inline_query_stay_one_value() {
    assert_eq!(
        url(
            "https://api.test/search?q={{q}}&page=1",
            json!({"q": "a&page=99#x"})
        ),
        "https://api.test/search?q=a%26page%3D99%23x&page=1"
    );
}

#[test]
fn query_pairs_are_appended_form_encoded() {
    let rendered = |url: &str| {
        render(
            &format!(
                "url: '{url}'\nquery:\n  user: '{{{{name}}}}'\n  full name: 'x=1&y'\n  n: '{{{{n}}}}'"
            ),
            json!({"name": "Jérôme & co", "n": 3}),
        )
        .unwrap()
        .url
    };
    let pairs = "user=J%C3%A9r%C3%B4me+%26+co&full+name=x%3D1%26y&n=3";
    assert_eq!(
        rendered("https://api.test/p"),
        format!("https://api.test/p?{pairs}")
    );
    assert_eq!(
        rendered("https://api.test/p?lang=fr"),
        format!("https://api.test/p?lang=fr&{pairs}")
    );
    assert_eq!(
        rendered("https://api.test/p?"),
        format!("https://api.test/p?{pairs}")
    );
    assert_eq!(
        rendered("https://api.test/p?a=1&"),
        format!("https://api.test/p?a=1&{pairs}")
    );
    assert_eq!(
        rendered("https://api.test/p#top"),
        format!("https://api.test/p?{pairs}#top")
    );
}

#[test]
fn a_list_query_value_repeats_the_name() {
    let request = render(
        "url: https://api.test/p\nquery:\n  tag: [a, '{{t}}']",
        json!({"t": "b&c"}),
    )
    .unwrap();
    assert_eq!(request.url, "https://api.test/p?tag=a&tag=b%26c");
}

#[test]
fn a_leading_placeholder_gives_the_origin() {
    let base = "{{api base}}/products/{{id}}";
    assert_eq!(
        url(
            base,
            json!({"api base": "https://api.test/v2/", "id": "a/b"})
        ),
        "https://api.test/v2/products/a%2Fb"
    );
    assert_eq!(
        url(base, json!({"api base": "http://127.0.0.1:8080", "id": 1})),
        "http://127.0.0.1:8080/products/1"
    );
    for bad in [
        "api.test",
        "ftp://api.test",
        "https://api.test/?x=1",
        "https://api.test/#x",
        "https://user:pw@api.test",
    ] {
        assert_eq!(
            url(base, json!({"api base": bad, "id": 1})),
            "BadRequest: variable `api base` starts the URL, so it must be an address such as \
             `https://api.example.com` (http or https, with a host, and no user, query or \
             fragment)",
            "{bad}"
        );
    }
    // An empty address leaves no URL at all (S6), which is its own error.
    assert_eq!(
        url(base, json!({"api base": "", "id": 1})),
        "MissingParameter: the URL is missing: variable `api base` is empty"
    );
}

#[test]
fn a_placeholder_may_complete_the_scheme() {
    assert_eq!(
        url("http{{s}}://api.test/", json!({"s": "s"})),
        "https://api.test/"
    );
}

#[test]
fn unset_variables_are_a_bad_request_naming_them() {
    assert_eq!(
        url("https://api.test/items/{{id}}", json!({})),
        "BadRequest: variable `id` is not set"
    );
    assert_eq!(
        url(
            "https://api.test/{{user.address.city}}",
            json!({"user": {"address": {}}})
        ),
        "BadRequest: variable `user.address.city` is not set (no key 'city' in object at address)"
    );
    assert_eq!(
        url("https://api.test/{{titles[2]}}", json!({"titles": ["a"]})),
        "BadRequest: variable `titles[2]` is not set (index 2 out of range (1 item) at the top level)"
    );
    assert_eq!(
        url("https://api.test/{{id}}", json!({"id": null})),
        "BadRequest: variable `id` is null, which cannot be sent as text"
    );
    let everywhere = [
        "url: https://api.test/\nquery:\n  q: '{{missing}}'",
        "url: https://api.test/\nheaders:\n  X-Id: '{{missing}}'",
        "url: https://api.test/\nmethod: POST\nbody:\n  json: {a: [1, {b: '{{missing}}'}]}",
        "url: https://api.test/\nmethod: POST\nbody:\n  json: {a: 'id {{missing}}'}",
        "url: https://api.test/\nmethod: POST\nbody:\n  form: {a: '{{missing}}'}",
        "url: https://api.test/\nmethod: POST\nbody:\n  text: 'id={{missing}}'",
    ];
    for body in everywhere {
        assert_eq!(
            error(body, json!({"other": 1})),
            "BadRequest: variable `missing` is not set",
            "{body}"
        );
    }
}

#[test]
fn secrets_are_inserted_encoded_and_never_shown() {
    let request = render(
        "url: 'https://api.test/k/{{secret.TOKEN}}'\nquery:\n  key: '{{secret.TOKEN}}'\nheaders:\n  Authorization: 'Bearer {{secret.TOKEN}}'",
        json!({}),
    )
    .unwrap();
    assert_eq!(
        request.url,
        "https://api.test/k/tok-s3cr3t%2F%26%3F?key=tok-s3cr3t%2F%26%3F"
    );
    assert_eq!(
        request.headers,
        [(
            "Authorization".to_owned(),
            "Bearer tok-s3cr3t/&?".to_owned()
        )]
    );
    assert_eq!(
        secrets().redact(&request.url),
        "https://api.test/k/***?key=***"
    );
}

#[test]
fn a_missing_secret_says_how_to_set_it() {
    assert_eq!(
        error(
            "url: https://api.test/\nheaders:\n  X-Key: '{{secret.CRM_KEY}}'",
            json!({})
        ),
        "BadRequest: secret `CRM_KEY` is not set (set FLOWBOT_SECRET_CRM_KEY)"
    );
}

#[test]
fn header_values_cannot_carry_line_breaks() {
    let header = "url: https://api.test/\nheaders:\n  X-User: 'user {{name}}'";
    for value in ["a\r\nX-Evil: 1", "a\nb", "a\rb", "a\0b", "a\u{7f}b"] {
        assert_eq!(
            error(header, json!({"name": value})),
            "BadRequest: the value of header `X-User` contains a line break, NUL or other \
             control character (from variable `name`), which a header cannot carry",
            "{value:?}"
        );
    }
    assert_eq!(
        error(
            "url: https://api.test/\nheaders:\n  Authorization: 'Bearer {{secret.BAD}}'",
            json!({})
        ),
        "BadRequest: the value of header `Authorization` contains a line break, NUL or other \
         control character (from secret `BAD`), which a header cannot carry"
    );
    let request = render(header, json!({"name": "Jérôme\t\"O'Hara\" {x}"})).unwrap();
    assert_eq!(
        request.headers,
        [(
            "X-User".to_owned(),
            "user Jérôme\t\"O'Hara\" {x}".to_owned()
        )]
    );
}

#[test]
fn json_body_keeps_types_of_single_placeholders() {
    let request = render(
        "url: https://api.test/orders\nmethod: POST\nbody:\n  json:\n    id: '{{id}}'\n    price: '{{price}}'\n    tags: '{{tags}}'\n    customer: '{{customer}}'\n    note: 'Said {{quote}}'\n    quote: '{{quote}}'\n    gift: '{{gift}}'\n    coupon: '{{coupon}}'\n    token: '{{secret.TOKEN}}'\n    items: ['{{id}}', 'n{{id}}', 7, {first: '{{tags[0]}}'}]\n    fixed: {a: [1, true, null]}",
        json!({
            "id": 42,
            "price": 9.5,
            "tags": ["a", "b"],
            "customer": {"name": "Jérôme"},
            "quote": "he said \"hi\"}, \"admin\": true, {\"",
            "gift": false,
            "coupon": null,
        }),
    )
    .unwrap();
    let body = request.body.as_ref().unwrap();
    assert_eq!(body.content_type, "application/json");
    let sent: Value = serde_json::from_slice(&body.bytes).unwrap();
    assert_eq!(
        sent,
        json!({
            "id": 42,
            "price": 9.5,
            "tags": ["a", "b"],
            "customer": {"name": "Jérôme"},
            "note": "Said he said \"hi\"}, \"admin\": true, {\"",
            "quote": "he said \"hi\"}, \"admin\": true, {\"",
            "gift": false,
            "coupon": null,
            "token": "tok-s3cr3t/&?",
            "items": [42, "n42", 7, {"first": "a"}],
            "fixed": {"a": [1, true, null]},
        })
    );
}

#[test]
fn form_body_is_url_encoded() {
    let request = render(
        "url: https://api.test/lead\nmethod: POST\nbody:\n  form:\n    name: '{{name}}'\n    q: 'a&b=c'\n    n: '{{n}}'",
        json!({"name": "Jérôme & co+1", "n": 2}),
    )
    .unwrap();
    assert_eq!(
        request.body.as_ref().unwrap().content_type,
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        body_text(&request),
        "name=J%C3%A9r%C3%B4me+%26+co%2B1&q=a%26b%3Dc&n=2"
    );
}

#[test]
fn text_body_is_sent_with_its_content_type() {
    let request = render(
        "url: https://api.test/note\nmethod: PUT\nbody:\n  text: 'Hello {{name}}, {{n}}'\n  content_type: text/markdown",
        json!({"name": "Jérôme", "n": [1, 2]}),
    )
    .unwrap();
    let body = request.body.as_ref().unwrap();
    assert_eq!(body.content_type, "text/markdown");
    assert_eq!(body_text(&request), "Hello Jérôme, 1, 2");
    let plain = render(
        "url: https://api.test/note\nmethod: PUT\nbody:\n  text: hi",
        json!({}),
    )
    .unwrap();
    assert_eq!(
        plain.body.unwrap().content_type,
        "text/plain; charset=utf-8"
    );
}

#[test]
fn method_timeout_and_statuses_come_from_the_step_else_the_settings() {
    let settings = "settings:\n  webhook:\n    timeout: 5s\n    accept_status: 2xx\n";
    let (plain, bot) = webhook_with_settings("url: https://api.test/", settings);
    let request = render_webhook(&plain, &bot, json!({})).unwrap();
    assert_eq!(request.method, Method::Get);
    assert_eq!(request.timeout, Duration::from_secs(5));
    assert_eq!(request.accept.to_string(), "2xx");
    assert!(request.headers.is_empty() && request.body.is_none());

    let (own, bot) = webhook_with_settings(
        "url: https://api.test/\nmethod: delete\ntimeout: 500ms\naccept_status: [200, 204]",
        settings,
    );
    let request = render_webhook(&own, &bot, json!({})).unwrap();
    assert_eq!(request.method, Method::Delete);
    assert_eq!(request.timeout, Duration::from_millis(500));
    assert_eq!(request.accept, AcceptStatus::parse("[200, 204]").unwrap());

    let (plain, _) = webhook("url: https://api.test/");
    let request = render_webhook(&plain, &WebhookSettings::default(), json!({})).unwrap();
    assert_eq!(request.timeout, Duration::from_secs(15));
    assert_eq!(request.accept, AcceptStatus::default());
    assert_eq!(request.block_id, "call");
}

#[test]
fn an_empty_url_is_a_missing_parameter() {
    let (mut webhook, settings) = webhook("url: https://api.test/");
    webhook.url = Template::parse("  ").unwrap();
    assert_eq!(
        render_webhook(&webhook, &settings, json!({}))
            .unwrap_err()
            .to_string(),
        "MissingParameter: the URL is missing"
    );
}

#[test]
fn an_empty_address_variable_is_a_missing_parameter() {
    let (webhook, settings) = webhook("url: '{{base}}/orders'");
    assert_eq!(
        render_webhook(&webhook, &settings, json!({"base": ""}))
            .unwrap_err()
            .to_string(),
        "MissingParameter: the URL is missing: variable `base` is empty"
    );
}

#[test]
fn errors_never_carry_a_secret_value() {
    // A secret that happens to equal a variable's name would show in the message: it is masked.
    let mut secrets = Secrets::new();
    secrets.insert("ID", "order_id");
    let (webhook, settings) = webhook("url: 'https://api.test/{{order_id}}'");
    let lookup = |_: &str| None;
    let error = build_request("call", &webhook, &settings, &lookup, &secrets).unwrap_err();
    assert_eq!(error.to_string(), "BadRequest: variable `***` is not set");
}
