//! Who answers a webhook step: real HTTP, scripted outcomes, or (later) the simulator's chooser.
//!
//! The executor builds the request itself, so every runner sees exactly what would be sent; the
//! runner only says what came back. A response then goes through the same classification and
//! extraction whoever produced it (S18).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use flow_core::flow::{Flow, Webhook};
use flow_http::{Client, WebhookError, WebhookRequest};
use serde_json::Value;
use tokio::sync::Semaphore;

#[cfg(test)]
mod tests;

/// One webhook step to answer.
#[derive(Debug, Clone, Copy)]
pub struct WebhookCall<'a> {
    /// The webhook block's id.
    pub block_id: &'a str,
    /// The request, built for real: templates rendered and encoded, secrets inserted.
    pub request: &'a WebhookRequest,
    /// The step, with its `save` paths: a chooser may check a fake payload against them with
    /// `flow_http::extract` before accepting it (S18).
    pub webhook: &'a Webhook,
    /// The bot the step belongs to, for its declared variable types.
    pub flow: &'a Flow,
}

/// A response as it came back, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl WebhookResponse {
    /// A response with `status` and `value` as its JSON body.
    pub fn json(status: u16, value: &Value) -> WebhookResponse {
        WebhookResponse {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: value.to_string().into_bytes(),
        }
    }

    /// A response with `status` and `text` as its body, sent as `text/plain`.
    pub fn text(status: u16, text: &str) -> WebhookResponse {
        WebhookResponse {
            status,
            headers: vec![("content-type".to_owned(), "text/plain".to_owned())],
            body: text.as_bytes().to_vec(),
        }
    }
}

/// What a runner says happened to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// A response came back; it is classified and extracted like any other.
    Response(WebhookResponse),
    /// No usable response: a `Timeout` or `ConnectionError` from the network, or a failure the
    /// simulator's author chose. It goes into the step's failure variable as it is.
    Failure(WebhookError),
}

/// A runner that could give no outcome at all: the turn stops with an error output and the
/// conversation stays at the webhook block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunnerError {
    /// A scripted test reached a webhook it has no outcome for.
    #[error("no scripted outcome for webhook `{block}` (add one under `webhooks:` in the test)")]
    NoOutcome {
        /// The webhook block.
        block: String,
    },
    /// A scripted outcome asks for the real request, but no HTTP client was given.
    #[error("webhook `{block}` is scripted as a real request, but this runner has no HTTP client")]
    NoHttpClient {
        /// The webhook block.
        block: String,
    },
    /// Whoever was to choose the outcome went away (the simulator was closed).
    #[error("no outcome was chosen for webhook `{block}`")]
    Cancelled {
        /// The webhook block.
        block: String,
    },
}

/// Answers webhook steps. Implementations are shared by every conversation of an executor, so
/// they take `&self` and must be `Send + Sync`.
pub trait WebhookRunner: Send + Sync {
    /// The outcome of `call.request`.
    fn run(
        &self,
        call: WebhookCall<'_>,
    ) -> impl Future<Output = Result<RunOutcome, RunnerError>> + Send;
}

impl<R: WebhookRunner> WebhookRunner for Arc<R> {
    fn run(
        &self,
        call: WebhookCall<'_>,
    ) -> impl Future<Output = Result<RunOutcome, RunnerError>> + Send {
        R::run(self, call)
    }
}

/// Sends requests for real with a [`flow_http::Client`].
#[derive(Debug, Clone)]
pub struct HttpRunner {
    client: Client,
    in_flight: Option<Arc<Semaphore>>,
}

impl HttpRunner {
    /// A runner sending with `client`, with no limit on requests in flight.
    pub fn new(client: Client) -> HttpRunner {
        HttpRunner {
            client,
            in_flight: None,
        }
    }

    /// The same runner, with at most `max` requests in flight at once across all conversations;
    /// the others wait their turn (their time-out starts when they are sent).
    pub fn with_max_in_flight(mut self, max: usize) -> HttpRunner {
        self.in_flight = Some(Arc::new(Semaphore::new(max.max(1))));
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl WebhookRunner for HttpRunner {
    async fn run(&self, call: WebhookCall<'_>) -> Result<RunOutcome, RunnerError> {
        // The semaphore is never closed, so acquiring only fails if it were; run unlimited then.
        let _permit = match &self.in_flight {
            Some(semaphore) => semaphore.acquire().await.ok(),
            None => None,
        };
        Ok(match self.client.fetch(call.request).await {
            Ok(raw) => RunOutcome::Response(WebhookResponse {
                status: raw.status,
                headers: raw.headers,
                body: raw.body,
            }),
            Err(error) => RunOutcome::Failure(error),
        })
    }
}

/// One scripted outcome of a webhook step.
#[derive(Debug, Clone, PartialEq)]
pub enum Scripted {
    /// This response comes back.
    Response(WebhookResponse),
    /// No response: this error.
    Failure(WebhookError),
    /// No response within the step's time-out: the `Timeout` a real one of that step gives.
    Timeout,
    /// The host refused the connection: the `ConnectionError` a real refusal gives.
    ConnectionError,
    /// The request is really sent (needs [`ScriptedRunner::with_http`]).
    Real,
}

impl Scripted {
    /// A response with `status` and a JSON body.
    pub fn json(status: u16, value: Value) -> Scripted {
        Scripted::Response(WebhookResponse::json(status, &value))
    }

    /// A response with `status` and a text body.
    pub fn text(status: u16, text: &str) -> Scripted {
        Scripted::Response(WebhookResponse::text(status, text))
    }
}

/// Answers webhook steps with outcomes given per block id, and records every request.
///
/// A block given a list of outcomes uses them in order, the last one repeating. A block with no
/// outcome stops the turn with an error naming it: a test never reaches the network by accident.
#[derive(Debug, Default)]
pub struct ScriptedRunner {
    outcomes: HashMap<String, Vec<Scripted>>,
    http: Option<HttpRunner>,
    log: Mutex<ScriptLog>,
}

#[derive(Debug, Default)]
struct ScriptLog {
    used: HashMap<String, usize>,
    requests: Vec<WebhookRequest>,
}

impl ScriptedRunner {
    /// A runner with no outcomes.
    pub fn new() -> ScriptedRunner {
        ScriptedRunner::default()
    }

    /// The same runner, answering `block` with `outcome` every time.
    pub fn with(self, block: &str, outcome: Scripted) -> ScriptedRunner {
        self.with_sequence(block, vec![outcome])
    }

    /// The same runner, answering `block` with `outcomes` in order, the last one repeating.
    pub fn with_sequence(mut self, block: &str, outcomes: Vec<Scripted>) -> ScriptedRunner {
        self.outcomes.insert(block.to_owned(), outcomes);
        self
    }

    /// The same runner, sending [`Scripted::Real`] outcomes with `http`.
    pub fn with_http(mut self, http: HttpRunner) -> ScriptedRunner {
        self.http = Some(http);
        self
    }

    /// Every request it was given, in order.
    pub fn requests(&self) -> Vec<WebhookRequest> {
        self.log().requests.clone()
    }

    /// The requests it was given for `block`, in order.
    pub fn requests_for(&self, block: &str) -> Vec<WebhookRequest> {
        self.log()
            .requests
            .iter()
            .filter(|request| request.block_id == block)
            .cloned()
            .collect()
    }

    /// The time-out a real client gives `request`: its own, capped by the client's limit (the
    /// default limit when this runner sends nothing for real).
    fn timeout_for(&self, request: &WebhookRequest) -> std::time::Duration {
        match &self.http {
            Some(http) => http.client().timeout_for(request),
            None => request.timeout.min(flow_http::DEFAULT_TIMEOUT),
        }
    }

    fn log(&self) -> std::sync::MutexGuard<'_, ScriptLog> {
        // A panic elsewhere while logging leaves the log usable: it is only appended to.
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The outcome for this call of `block`, recording the request.
    fn next_outcome(&self, call: &WebhookCall<'_>) -> Result<Scripted, RunnerError> {
        let mut log = self.log();
        log.requests.push(call.request.clone());
        let outcomes = self
            .outcomes
            .get(call.block_id)
            .filter(|outcomes| !outcomes.is_empty())
            .ok_or_else(|| RunnerError::NoOutcome {
                block: call.block_id.to_owned(),
            })?;
        // The block is known after its first call: no new key to allocate.
        let used = match log.used.get_mut(call.block_id) {
            Some(used) => used,
            None => log.used.entry(call.block_id.to_owned()).or_insert(0),
        };
        let outcome = outcomes[(*used).min(outcomes.len() - 1)].clone();
        *used += 1;
        Ok(outcome)
    }
}

impl WebhookRunner for ScriptedRunner {
    async fn run(&self, call: WebhookCall<'_>) -> Result<RunOutcome, RunnerError> {
        match self.next_outcome(&call)? {
            Scripted::Response(response) => Ok(RunOutcome::Response(response)),
            Scripted::Failure(error) => Ok(RunOutcome::Failure(error)),
            Scripted::Timeout => Ok(RunOutcome::Failure(flow_http::timeout_error(
                self.timeout_for(call.request),
            ))),
            Scripted::ConnectionError => Ok(RunOutcome::Failure(flow_http::refused_error(
                &call.request.url,
            ))),
            Scripted::Real => match &self.http {
                Some(http) => http.run(call).await,
                None => Err(RunnerError::NoHttpClient {
                    block: call.block_id.to_owned(),
                }),
            },
        }
    }
}
