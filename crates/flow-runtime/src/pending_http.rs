//! STAND-INS, TO BE REPLACED: `flow_http::build_request` and `flow_http::extract`.
//!
//! Another branch is writing the real functions in `crates/flow-http/src/render.rs` and
//! `extract.rs`, with these exact signatures. Until they land, these minimal versions let the
//! executor build and be tested: plain text rendering with no encoding, and path evaluation with
//! the list-type check. When merging, delete this module and call the `flow_http` ones.

use flow_core::flow::{Body, Save, VarType, Webhook, WebhookSettings};
use flow_core::template::{value_to_text, Part, Template};
use flow_http::{AcceptStatus, ErrorKind, RequestBody, Secrets, WebhookError, WebhookRequest};
use serde_json::Value;

/// Stand-in for `flow_http::build_request`: the request of `webhook`, or the step's failure.
pub(crate) fn build_request(
    block_id: &str,
    webhook: &Webhook,
    settings: &WebhookSettings,
    variables: &dyn Fn(&str) -> Option<Value>,
    secrets: &Secrets,
) -> Result<WebhookRequest, WebhookError> {
    let render = |template: &Template| render(template, variables, secrets);
    let mut url = render(&webhook.url)?;
    if url.trim().is_empty() {
        return Err(WebhookError::new(
            ErrorKind::MissingParameter,
            "the URL is missing",
        ));
    }
    for (name, value) in &webhook.query {
        let separator = if url.contains('?') { '&' } else { '?' };
        url = format!("{url}{separator}{name}={}", render(value)?);
    }
    let method = webhook
        .method
        .as_str()
        .parse()
        .map_err(|error| WebhookError::new(ErrorKind::MissingParameter, format!("{error}")))?;
    let accept = webhook
        .accept_status
        .as_ref()
        .unwrap_or(&settings.accept_status);
    let accept = AcceptStatus::parse(&accept.to_string())
        .map_err(|error| WebhookError::new(ErrorKind::BadRequest, error.to_string()))?;
    let mut request = WebhookRequest::new(block_id, method, url)
        .with_timeout(webhook.timeout.unwrap_or(settings.timeout))
        .with_accept(accept);
    for (name, value) in &webhook.headers {
        request = request.with_header(name.clone(), render(value)?);
    }
    if let Some(body) = &webhook.body {
        request = request.with_body(body_of(body, variables, secrets)?);
    }
    Ok(request)
}

fn body_of(
    body: &Body,
    variables: &dyn Fn(&str) -> Option<Value>,
    secrets: &Secrets,
) -> Result<RequestBody, WebhookError> {
    Ok(match body {
        Body::Json(template) => {
            let lookup = |name: &str| variables(name);
            RequestBody::json(&crate::values::render_value(template, &lookup))
        }
        Body::Form(pairs) => {
            let mut fields = Vec::new();
            for (name, value) in pairs {
                fields.push(format!("{name}={}", render(value, variables, secrets)?));
            }
            RequestBody::text("application/x-www-form-urlencoded", fields.join("&"))
        }
        Body::Text { text, content_type } => {
            RequestBody::text(content_type.clone(), render(text, variables, secrets)?)
        }
    })
}

/// Renders a template as text; an unset variable or secret is a `BadRequest` naming it.
fn render(
    template: &Template,
    variables: &dyn Fn(&str) -> Option<Value>,
    secrets: &Secrets,
) -> Result<String, WebhookError> {
    let mut text = String::new();
    for part in template.parts() {
        match part {
            Part::Literal(literal) => text.push_str(literal),
            Part::Variable(variable) => {
                let value = variable.resolve(variables).ok_or_else(|| {
                    WebhookError::new(
                        ErrorKind::BadRequest,
                        format!("variable `{}` has no value", variable.name),
                    )
                })?;
                text.push_str(&value_to_text(&value));
            }
            Part::Secret(name) => {
                let value = secrets.get(name).ok_or_else(|| {
                    WebhookError::new(ErrorKind::BadRequest, format!("secret `{name}` is not set"))
                })?;
                text.push_str(value);
            }
        }
    }
    Ok(text)
}

/// Stand-in for `flow_http::extract`: every save of the step, all or nothing (S15).
pub(crate) fn extract(
    saves: &[Save],
    body: &Value,
    declared_type: &dyn Fn(&str) -> Option<VarType>,
) -> Result<Vec<(String, Value)>, WebhookError> {
    let mut values = Vec::with_capacity(saves.len());
    for save in saves {
        let value = match (save.path.evaluate(body), &save.default) {
            (Ok(value), _) => value,
            (Err(_), Some(default)) => default.clone(),
            (Err(error), None) => {
                return Err(WebhookError::new(ErrorKind::KeyError, error.to_string()))
            }
        };
        if declared_type(&save.to) == Some(VarType::List) && !value.is_array() {
            let message = format!(
                "path `{}` gives {}, but `{}` is a list",
                save.path,
                crate::values::kind_name(&value),
                save.to
            );
            return Err(WebhookError::new(ErrorKind::KeyError, message));
        }
        values.push((save.to.clone(), value));
    }
    Ok(values)
}
