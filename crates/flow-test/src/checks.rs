//! What must hold at the end of a case: status, variables (by subset) and the requests built.

use flow_core::Project;
use flow_http::{Secrets, WebhookRequest};
use flow_runtime::Conversation;
use serde_json::Value;

use crate::matcher::value_matches;
use crate::report::{Failure, VariableDiff};
use crate::runner::webhook_blocks;
use crate::spec::{Case, ExpectedRequest};

/// The keys of `webhooks` and `expect.requests` that name no webhook block of the project: a
/// typo there would otherwise only show up as a missing outcome, or not at all.
pub(crate) fn unknown_webhooks(project: &Project, case: &Case) -> Vec<Failure> {
    let known = webhook_blocks(project);
    let keys = case.webhooks.keys().map(|key| ("webhooks", key)).chain(
        case.expect
            .requests
            .keys()
            .map(|key| ("expect.requests", key)),
    );
    keys.filter(|(_, key)| !known.contains(&key.as_str()))
        .map(|(place, key)| Failure::UnknownWebhook {
            place,
            block: key.clone(),
            help: flow_core::suggest::did_you_mean(key, known.iter().copied()),
        })
        .collect()
}

/// The names in `variables` (the presets) that the bot under test never declares, assigns or
/// has built in: the flow cannot read them, so the preset is most likely a typo.
pub(crate) fn unknown_presets(project: &Project, bot: &str, case: &Case) -> Vec<Failure> {
    let Some(flow) = project.flow(bot) else {
        return Vec::new();
    };
    case.variables
        .keys()
        .filter_map(|name| flow.check_uses_variable(name).err())
        .map(Failure::UnknownPreset)
        .collect()
}

pub(crate) fn status(case: &Case, conversation: &Conversation) -> Option<Failure> {
    let expected = case.expect.status?;
    let actual = conversation.status();
    (expected.as_str() != actual.as_str()).then(|| Failure::Status {
        expected: expected.as_str(),
        actual: actual.as_str(),
    })
}

pub(crate) fn variables(case: &Case, conversation: &Conversation) -> Option<Failure> {
    let differ: Vec<VariableDiff> = case
        .expect
        .variables
        .iter()
        .filter_map(|(name, expected)| {
            let actual = conversation.variable(name);
            (!value_matches(expected, actual.as_ref())).then(|| VariableDiff {
                name: name.clone(),
                expected: expected.clone(),
                actual,
            })
        })
        .collect();
    (!differ.is_empty()).then_some(Failure::Variables(differ))
}

/// Holds each block's requests against the expected ones: their number, then field by field.
pub(crate) fn requests(
    case: &Case,
    sent: &dyn Fn(&str) -> Vec<WebhookRequest>,
    secrets: &Secrets,
) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (block, expected) in &case.expect.requests {
        let actual = sent(block);
        if actual.len() != expected.len() {
            failures.push(Failure::RequestCount {
                block: block.clone(),
                expected: expected.len(),
                sent: actual
                    .iter()
                    .map(|request| {
                        secrets.redact(&format!("{} {}", request.method, visible(&request.url)))
                    })
                    .collect(),
            });
        }
        for (index, (expected, actual)) in expected.iter().zip(&actual).enumerate() {
            for (field, want, got) in request_differences(expected, actual) {
                failures.push(Failure::Request {
                    block: block.clone(),
                    index,
                    field,
                    expected: want,
                    actual: secrets.redact(&visible(&got)),
                });
            }
        }
    }
    failures
}

/// Each field of `actual` that `expected` checks and that differs: (field, expected, actual).
fn request_differences(
    expected: &ExpectedRequest,
    actual: &WebhookRequest,
) -> Vec<(String, String, String)> {
    let mut differences = Vec::new();
    if let Some(method) = &expected.method {
        if !method.eq_ignore_ascii_case(actual.method.as_str()) {
            differences.push((
                "method".to_owned(),
                method.clone(),
                actual.method.to_string(),
            ));
        }
    }
    if let Some(url) = &expected.url {
        if !url.matches(&actual.url) {
            differences.push(("url".to_owned(), url.to_string(), actual.url.clone()));
        }
    }
    let headers = sent_headers(actual);
    for (name, value) in &expected.headers {
        let sent = headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str());
        if !sent.is_some_and(|sent| value.matches(sent)) {
            differences.push((
                format!("header `{name}`"),
                value.to_string(),
                sent.unwrap_or("(not sent)").to_owned(),
            ));
        }
    }
    let body = actual
        .body
        .as_ref()
        .map(|body| String::from_utf8_lossy(&body.bytes).into_owned());
    if let Some(json) = &expected.json {
        let parsed = body
            .as_deref()
            .and_then(|body| serde_json::from_str::<Value>(body).ok());
        if !parsed
            .as_ref()
            .is_some_and(|parsed| value_matches(json, Some(parsed)))
        {
            let got = match (&parsed, &body) {
                (Some(parsed), _) => parsed.to_string(),
                (None, Some(body)) => format!("{body} (not JSON)"),
                (None, None) => "(no body)".to_owned(),
            };
            differences.push(("json".to_owned(), json.to_string(), got));
        }
    }
    if let Some(text) = &expected.body {
        if !body.as_deref().is_some_and(|body| text.matches(body)) {
            let got = body.clone().unwrap_or_else(|| "(no body)".to_owned());
            differences.push(("body".to_owned(), text.to_string(), got));
        }
    }
    differences
}

/// The headers as they go on the wire: the request's, plus the body's `Content-Type` unless a
/// header sets one (as the HTTP client does).
fn sent_headers(request: &WebhookRequest) -> Vec<(String, String)> {
    let mut headers = request.headers.clone();
    if let Some(body) = &request.body {
        if !request.has_header("content-type") {
            headers.push(("Content-Type".to_owned(), body.content_type.clone()));
        }
    }
    headers
}

/// A request as a few lines: method and URL, headers, body; secrets masked.
pub(crate) fn describe_request(request: &WebhookRequest, secrets: &Secrets) -> String {
    let mut lines = vec![format!("{} {}", request.method, visible(&request.url))];
    for (name, value) in sent_headers(request) {
        lines.push(format!("{}: {}", visible(&name), visible(&value)));
    }
    if let Some(body) = &request.body {
        lines.push(String::new());
        lines.push(shorten(&String::from_utf8_lossy(&body.bytes), 500));
    }
    secrets.redact(&lines.join("\n"))
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}... ({} characters in all)", text.chars().count())
}

/// `text` with line breaks and other control characters written as escapes, so a value that
/// holds one cannot break the lines of a report.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}
