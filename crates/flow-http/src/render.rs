//! Building the request of a webhook step from its templates (S6 to S9).
//!
//! Rendering is pure and synchronous: it reads variables through a lookup and secrets from
//! [`Secrets`], and sends nothing. Every inserted value is encoded for the place it lands in, so
//! a value is always data and never structure:
//!
//! | where | how a value is inserted |
//! | --- | --- |
//! | URL | percent-encoded as a path segment: `/ ? # & = + % ..` and spaces cannot act as such |
//! | `query:` | name and value form-encoded, appended to the URL's own query (S7) |
//! | header value | as text; a line break, NUL or other control character is refused |
//! | `json:` body | a string that is one placeholder takes the value with its type; any other string is text inside a JSON string |
//! | `form:` body | name and value form-encoded (`application/x-www-form-urlencoded`) |
//! | `text:` body | as text, sent with its `content_type` |
//!
//! One placeholder is treated apart: a URL that *starts* with a placeholder
//! (`{{api base}}/products`) takes an origin from it, so the value must be a whole
//! `http://` or `https://` address with no query or fragment, and is inserted as that address.
//!
//! A request is never sent with a hole in it (flow format, "Templates"): an unset variable, a
//! `{{variable.path}}` whose path does not match, and a missing secret are each a `BadRequest`
//! naming it. So is `null` anywhere it would be written as text; a JSON body keeps it as `null`.
//! No error message carries a secret's value.

use std::borrow::Cow;

use serde_json::{Map, Value};

use flow_core::flow::{Body, ValueTemplate, Webhook, WebhookSettings};
use flow_core::template::{value_to_text, Lookup, Part, Template};

use crate::encode::{percent_encode_into, push_form_pair};
use crate::error::{ErrorKind, WebhookError};
use crate::request::{RequestBody, WebhookRequest};
use crate::secrets::{Secrets, ENV_PREFIX};

#[cfg(test)]
mod tests;

/// The `Content-Type` of a `form:` body.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Builds the request of a webhook step from the conversation's variables and the secrets.
///
/// `block_id` names the step in traces and errors; `settings` give the time-out and accepted
/// statuses of a step that sets none; `variables` looks a variable up by name (`None` when it is
/// unset). Errors are `BadRequest` (an unset variable or secret, a value that cannot go where it
/// is put) or `MissingParameter` (a URL that renders empty), already redacted.
pub fn build_request(
    block_id: &str,
    webhook: &Webhook,
    settings: &WebhookSettings,
    variables: Lookup,
    secrets: &Secrets,
) -> Result<WebhookRequest, WebhookError> {
    let renderer = Renderer { variables, secrets };
    renderer
        .request(block_id, webhook, settings)
        .map_err(|error| secrets.redact_error(error))
}

fn bad_request(message: String) -> WebhookError {
    WebhookError::new(ErrorKind::BadRequest, message)
}

/// Where a piece of rendered text came from, for messages.
enum Origin<'t> {
    Literal,
    Placeholder(&'t Part),
}

/// One piece of a rendered template: text written in the flow, or a placeholder's text.
struct Piece<'t> {
    text: Cow<'t, str>,
    origin: Origin<'t>,
}

struct Renderer<'a, 'v> {
    variables: Lookup<'a, 'v>,
    secrets: &'a Secrets,
}

impl<'v> Renderer<'_, 'v> {
    fn request(
        &self,
        block_id: &str,
        webhook: &Webhook,
        settings: &WebhookSettings,
    ) -> Result<WebhookRequest, WebhookError> {
        let url = self.url(&webhook.url, &webhook.query)?;
        let accept = webhook
            .accept_status
            .clone()
            .unwrap_or_else(|| settings.accept_status.clone());
        let mut request = WebhookRequest::new(block_id, webhook.method, url)
            .with_timeout(webhook.timeout.unwrap_or(settings.timeout))
            .with_accept(accept);
        for (name, template) in &webhook.headers {
            let value = self.header_value(name, template)?;
            request = request.with_header(name.as_str(), value);
        }
        if let Some(body) = &webhook.body {
            request = request.with_body(self.body(body)?);
        }
        Ok(request)
    }

    /// The value a placeholder stands for: the variable's (or the part its path names), or the
    /// secret's as a string.
    /// A variable's own value is borrowed, not copied.
    fn value(&self, part: &Part) -> Result<Cow<'v, Value>, WebhookError> {
        match part {
            Part::Literal(text) => Ok(Cow::Owned(Value::String(text.clone()))),
            Part::Variable(variable) => {
                let Some(value) = (self.variables)(&variable.name) else {
                    return Err(bad_request(format!(
                        "variable `{}` is not set",
                        variable.name
                    )));
                };
                match &variable.path {
                    None => Ok(value),
                    Some(path) => path.evaluate(&value).map(Cow::Owned).map_err(|key_error| {
                        bad_request(format!(
                            "variable `{}` is not set ({key_error})",
                            placeholder_name(part)
                        ))
                    }),
                }
            }
            Part::Secret(name) => match self.secrets.get(name) {
                Some(secret) => Ok(Cow::Owned(Value::String(secret.to_owned()))),
                None => Err(bad_request(format!(
                    "secret `{name}` is not set (set {ENV_PREFIX}{name})"
                ))),
            },
        }
    }

    /// The template's pieces, each placeholder as text (see [`value_to_text`]).
    fn pieces<'t>(&self, template: &'t Template) -> Result<Vec<Piece<'t>>, WebhookError>
    where
        'v: 't,
    {
        template
            .parts()
            .iter()
            .map(|part| self.piece(part))
            .collect()
    }

    /// One piece of a template, a placeholder as text (see [`value_to_text`]); a stored string
    /// is borrowed, not copied.
    fn piece<'t>(&self, part: &'t Part) -> Result<Piece<'t>, WebhookError>
    where
        'v: 't,
    {
        match part {
            Part::Literal(text) => Ok(Piece {
                text: text.as_str().into(),
                origin: Origin::Literal,
            }),
            placeholder => {
                let value = self.value(placeholder)?;
                if value.is_null() {
                    return Err(bad_request(format!(
                        "variable `{}` is null, which cannot be sent as text",
                        placeholder_name(placeholder)
                    )));
                }
                let text = match value {
                    Cow::Borrowed(Value::String(text)) => Cow::Borrowed(text.as_str()),
                    Cow::Owned(Value::String(text)) => Cow::Owned(text),
                    value => Cow::Owned(value_to_text(&value)),
                };
                Ok(Piece {
                    text,
                    origin: Origin::Placeholder(placeholder),
                })
            }
        }
    }

    fn text(&self, template: &Template) -> Result<String, WebhookError> {
        let mut text = String::new();
        for part in template.parts() {
            text.push_str(&self.piece(part)?.text);
        }
        Ok(text)
    }

    /// The URL: literals as written, values percent-encoded, then the `query:` pairs (S7, S9).
    fn url(
        &self,
        template: &Template,
        query: &[(String, Template)],
    ) -> Result<String, WebhookError> {
        // About as long as its templates, placeholders standing for short values: one
        // allocation for most URLs instead of one per piece appended.
        let written: usize = query
            .iter()
            .map(|(name, value)| name.len() + value.source().len() + 2)
            .sum();
        let mut url = String::with_capacity(template.source().len() + written);
        let mut encoded = Vec::new();
        for (idx, piece) in self.pieces(template)?.into_iter().enumerate() {
            match piece.origin {
                Origin::Literal => url.push_str(&piece.text),
                Origin::Placeholder(part) if idx == 0 && piece.text.trim().is_empty() => {
                    // An empty value where the address should be leaves no URL to send (S6).
                    return Err(WebhookError::new(
                        ErrorKind::MissingParameter,
                        format!("the URL is missing: {} is empty", describe(part)),
                    ));
                }
                Origin::Placeholder(part) if idx == 0 => url.push_str(&origin(part, &piece.text)?),
                Origin::Placeholder(part) => {
                    let start = url.len();
                    percent_encode_into(&piece.text, false, &mut url);
                    encoded.push((start..url.len(), part));
                }
            }
        }
        if url.trim().is_empty() {
            return Err(WebhookError::new(
                ErrorKind::MissingParameter,
                "the URL is missing",
            ));
        }
        check_path_segments(&url, &encoded)?;
        if query.is_empty() {
            return Ok(url);
        }
        // A literal `#` is the only one left: values had theirs encoded.
        let fragment = url.find('#').map(|at| url.split_off(at));
        if !url.contains('?') {
            url.push('?');
        }
        for (name, template) in query {
            push_form_pair(&mut url, name, &self.text(template)?);
        }
        url.push_str(fragment.as_deref().unwrap_or_default());
        Ok(url)
    }

    /// A header's value as text; a line break, NUL or other control character is refused, since
    /// it could end the header and start another (or the body).
    fn header_value(&self, name: &str, template: &Template) -> Result<String, WebhookError> {
        // Every piece is rendered before a refused character is reported, as when they were
        // gathered first: a placeholder that cannot be rendered is the error then.
        let mut value = String::new();
        let mut refused = None;
        for part in template.parts() {
            let piece = self.piece(part)?;
            if refused.is_none() && piece.text.chars().any(|c| c.is_control() && c != '\t') {
                let from = match piece.origin {
                    Origin::Literal => String::new(),
                    Origin::Placeholder(part) => format!(" (from {})", describe(part)),
                };
                refused = Some(bad_request(format!(
                    "the value of header `{name}` contains a line break, NUL or other control \
                     character{from}, which a header cannot carry"
                )));
            }
            value.push_str(&piece.text);
        }
        match refused {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }

    fn body(&self, body: &Body) -> Result<RequestBody, WebhookError> {
        match body {
            Body::Json(template) => Ok(RequestBody::json(&self.json(template)?)),
            Body::Form(pairs) => {
                let mut form = String::new();
                for (name, template) in pairs {
                    push_form_pair(&mut form, name, &self.text(template)?);
                }
                Ok(RequestBody::text(FORM_CONTENT_TYPE, form))
            }
            Body::Text { text, content_type } => {
                Ok(RequestBody::text(content_type.as_str(), self.text(text)?))
            }
        }
    }

    fn json(&self, template: &ValueTemplate) -> Result<Value, WebhookError> {
        match template {
            ValueTemplate::Literal(value) => Ok(value.clone()),
            ValueTemplate::Text(text) => match text.single_placeholder() {
                Some(part) => self.value(part).map(Cow::into_owned),
                None => self.text(text).map(Value::String),
            },
            ValueTemplate::List(items) => items.iter().map(|item| self.json(item)).collect(),
            ValueTemplate::Object(entries) => entries
                .iter()
                .map(|(key, item)| Ok((key.clone(), self.json(item)?)))
                .collect::<Result<Map<String, Value>, WebhookError>>()
                .map(Value::Object),
        }
    }
}

/// The placeholder as its template writes it: `name`, `shop failure.status`, `titles[0]`.
fn placeholder_name(part: &Part) -> String {
    match part {
        Part::Literal(text) => text.clone(),
        Part::Variable(variable) => match &variable.path {
            None => variable.name.clone(),
            Some(path) if path.as_str().starts_with('[') => format!("{}{path}", variable.name),
            Some(path) => format!("{}.{path}", variable.name),
        },
        Part::Secret(name) => format!("secret.{name}"),
    }
}

/// `variable `x`` or `secret `X``, for messages.
fn describe(part: &Part) -> String {
    match part {
        Part::Secret(name) => format!("secret `{name}`"),
        _ => format!("variable `{}`", placeholder_name(part)),
    }
}

/// The text of a placeholder that starts a URL: a whole `http://` or `https://` address with a
/// host, and no user, query or fragment, written as the URL parser normalizes it.
///
/// Its trailing `/` is dropped: `{{api base}}/products` reads the same whether the value ends
/// with a `/` or not.
fn origin(part: &Part, text: &str) -> Result<String, WebhookError> {
    let refuse = || {
        bad_request(format!(
            "{} starts the URL, so it must be an address such as `https://api.example.com` \
             (http or https, with a host, and no user, query or fragment)",
            describe(part)
        ))
    };
    let url = reqwest::Url::parse(text.trim()).map_err(|_| refuse())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    if !plain {
        return Err(refuse());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Refuses a URL whose path has a segment that a value made empty, `.` or `..`.
///
/// Percent-encoding cannot neutralize those: URL parsers read `%2E%2E` as `..` and remove it
/// with the segment before it, so the request would go to another resource, and an empty value
/// turns `/users/{{id}}/orders` into `/users//orders`.
fn check_path_segments(
    url: &str,
    encoded: &[(std::ops::Range<usize>, &Part)],
) -> Result<(), WebhookError> {
    let path = path_range(url);
    let mut start = path.start;
    while start < path.end {
        // Every segment starts after a `/`.
        let Some(slash) = url[start..path.end].find('/') else {
            break;
        };
        let segment_start = start + slash + 1;
        let segment_end = url[segment_start..path.end]
            .find('/')
            .map_or(path.end, |at| segment_start + at);
        let segment = &url[segment_start..segment_end];
        if is_empty_or_dot_segment(segment) {
            // An empty segment is made by an empty value inserted right there; a dot segment
            // by a value that overlaps it.
            let touching = encoded.iter().find(|(range, _)| {
                if segment.is_empty() {
                    range.start == segment_start
                } else {
                    range.start < segment_end && range.end > segment_start
                }
            });
            if let Some((_, part)) = touching {
                let what = if segment.is_empty() {
                    "an empty"
                } else {
                    "a `.` or `..`"
                };
                return Err(bad_request(format!(
                    "{} would make {what} segment in the URL path, which would change the \
                     address the request goes to",
                    describe(part)
                )));
            }
        }
        start = segment_end;
    }
    Ok(())
}

/// The byte range of the path: after `scheme://host[:port]`, up to the query or fragment.
fn path_range(url: &str) -> std::ops::Range<usize> {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let start = match url[..end].find("://") {
        Some(at) => {
            let authority = at + 3;
            url[authority..end]
                .find('/')
                .map_or(end, |slash| authority + slash)
        }
        None => 0,
    };
    start..end
}

fn is_empty_or_dot_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "" | "." | ".." | "%2e" | "%2e%2e" | ".%2e" | "%2e."
    )
}
